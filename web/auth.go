package web

import (
	"crypto/rand"
	"crypto/subtle"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Login sessions. Logging in with the admin password starts a session:
// a random ID in an HttpOnly, SameSite=Strict cookie, and a CSRF token
// that the page sends back in the X-CSRF-Token header of every change.
// Sessions live in memory, so a restart logs everyone out.
//
// Wrong passwords are counted per client address (per /64 for IPv6).
// After maxFailures in a row, logins from that address are refused with
// 429 and Retry-After for a time that doubles with each further failure,
// up to maxLockout. Checks run one at a time (bcrypt is slow on purpose,
// and slower still on a Pi), and the count is checked again after
// waiting for one's turn, so parallel guesses do not slip through.
const (
	sessionCookie = "mediaftpd_session"
	csrfHeader    = "X-CSRF-Token"
	// sessionIdle ends a session not used for this long.
	sessionIdle = 7 * 24 * time.Hour
	// maxSessions bounds the sessions kept; the least recently used goes.
	maxSessions = 32
	// maxFailures is how many wrong passwords in a row are let through
	// before logins are refused for a while.
	maxFailures = 5
	// maxLockout bounds the time logins are refused.
	maxLockout = 15 * time.Minute
	// failureMemory is how long wrong passwords are remembered.
	failureMemory = time.Hour
	// maxTracked bounds the client addresses whose failures are counted.
	maxTracked = 4096
)

// authState holds the login sessions and failure counts.
type authState struct {
	check chan struct{} // a token to check a password; one at a time

	mu       sync.Mutex // guards the maps
	sessions map[string]*adminSession
	failures map[netip.Prefix]*failures
}

// adminSession is one login.
type adminSession struct {
	csrf     string
	lastUsed time.Time // guarded by authState.mu
}

// failures counts the wrong passwords from one client.
type failures struct {
	n     int
	last  time.Time
	until time.Time // logins are refused until then
}

func (a *authState) init() {
	a.check = make(chan struct{}, 1)
	a.sessions = make(map[string]*adminSession)
	a.failures = make(map[netip.Prefix]*failures)
}

// randomToken returns a random string of 130 bits.
func randomToken() string { return rand.Text() }

// session returns the live session named by r's cookie, or nil, and marks
// it used.
func (a *authState) session(r *http.Request) *adminSession {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	sess := a.sessions[c.Value]
	if sess == nil {
		return nil
	}
	now := time.Now()
	if now.Sub(sess.lastUsed) > sessionIdle {
		delete(a.sessions, c.Value)
		return nil
	}
	sess.lastUsed = now
	return sess
}

// checkCSRF reports whether token is the session's CSRF token.
func (sess *adminSession) checkCSRF(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(sess.csrf)) == 1
}

// start starts a session and returns its ID and CSRF token.
func (a *authState) start() (id string, sess *adminSession) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.sessions) >= maxSessions {
		var oldest string
		for id, s := range a.sessions {
			if oldest == "" || s.lastUsed.Before(a.sessions[oldest].lastUsed) {
				oldest = id
			}
		}
		delete(a.sessions, oldest)
	}
	id = randomToken()
	sess = &adminSession{csrf: randomToken(), lastUsed: time.Now()}
	a.sessions[id] = sess
	return id, sess
}

// endAll ends every session.
func (a *authState) endAll() {
	a.mu.Lock()
	clear(a.sessions)
	a.mu.Unlock()
}

// end ends the session named by r's cookie.
func (a *authState) end(r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		a.mu.Lock()
		delete(a.sessions, c.Value)
		a.mu.Unlock()
	}
}

// clientKey is what failures are counted by: the client's address, or
// its /64 for IPv6, where one machine easily has many addresses.
func clientKey(r *http.Request) netip.Prefix {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Prefix{}
	}
	addr := ap.Addr().Unmap().WithZone("")
	if addr.Is4() {
		return netip.PrefixFrom(addr, 32)
	}
	p, _ := addr.Prefix(64)
	return p
}

// refused returns how long logins from key stay refused; zero if not.
func (a *authState) refused(key netip.Prefix, now time.Time) time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	f := a.failures[key]
	if f == nil || !now.Before(f.until) {
		return 0
	}
	return f.until.Sub(now)
}

// failed records a wrong password from key.
func (a *authState) failed(key netip.Prefix, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.failures) >= maxTracked {
		for k, f := range a.failures {
			if now.Sub(f.last) > failureMemory {
				delete(a.failures, k)
			}
		}
	}
	f := a.failures[key]
	if f == nil || now.Sub(f.last) > failureMemory {
		if len(a.failures) >= maxTracked {
			return // a flood from many addresses; bcrypt still bounds the rate
		}
		f = &failures{}
		a.failures[key] = f
	}
	f.n++
	f.last = now
	if f.n >= maxFailures {
		f.until = now.Add(lockout(f.n))
	}
}

// lockout is how long logins are refused after n wrong passwords in a
// row: 1 s after the fifth, doubling with each further one, at most
// maxLockout.
func lockout(n int) time.Duration {
	shift := n - maxFailures
	if shift > 20 {
		return maxLockout
	}
	return min(time.Second<<shift, maxLockout)
}

// succeeded forgets the failures from key.
func (a *authState) succeeded(key netip.Prefix) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.failures, key)
}

// loginRequest is the body of POST /api/login.
type loginRequest struct {
	Password string `json:"password"`
}

// sessionResponse is the answer of a login and of GET /api/session.
type sessionResponse struct {
	Admin     bool   `json:"admin"`
	CSRFToken string `json:"csrf_token,omitempty"`
	// Management and Persistent are as in Status.Management.
	Management bool `json:"management"`
	Persistent bool `json:"persistent"`
}

// login is POST /api/login.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	hash := s.passwordHash()
	if hash == "" {
		writeError(w, http.StatusForbidden, "management is off: no admin password is set (run mediaftpd passwd -config FILE)")
		return
	}
	var req loginRequest
	if !readJSON(w, r, &req) {
		return
	}
	key := clientKey(r)
	if tooSoon(w, s.auth.refused(key, time.Now())) {
		return
	}
	// One check at a time; look at the count again once it is our turn.
	select {
	case s.auth.check <- struct{}{}:
	case <-r.Context().Done():
		return
	}
	wait := s.auth.refused(key, time.Now())
	ok := false
	if wait == 0 {
		ok = bcrypt.CompareHashAndPassword([]byte(hash), []byte(req.Password)) == nil
		if ok {
			s.auth.succeeded(key)
		} else {
			s.auth.failed(key, time.Now())
		}
	}
	<-s.auth.check
	if tooSoon(w, wait) {
		return
	}
	log := s.logger().With("remote", r.RemoteAddr)
	if !ok {
		log.Warn("admin login failed: wrong password")
		writeError(w, http.StatusUnauthorized, "wrong password")
		return
	}
	id, sess := s.auth.start()
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookie,
		Value:    id,
		Path:     "/",
		MaxAge:   int(sessionIdle / time.Second),
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteStrictMode,
	})
	log.Info("admin logged in")
	writeJSON(w, http.StatusOK, sessionResponse{Admin: true, CSRFToken: sess.csrf,
		Management: true, Persistent: s.Manager.ConfigPath != ""})
}

// tooSoon answers 429 with Retry-After if wait is positive.
func tooSoon(w http.ResponseWriter, wait time.Duration) bool {
	if wait <= 0 {
		return false
	}
	secs := int64(math.Ceil(wait.Seconds()))
	w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	writeError(w, http.StatusTooManyRequests, "too many wrong passwords; try again in "+strconv.FormatInt(secs, 10)+" s")
	return true
}

// logout is POST /api/logout.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	s.auth.end(r)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	s.logger().Info("admin logged out", "remote", r.RemoteAddr)
	w.WriteHeader(http.StatusNoContent)
}

// serveSession is GET /api/session: whether the caller is logged in and,
// if so, the CSRF token of its session, for a page that was reloaded.
func (s *Server) serveSession(w http.ResponseWriter, r *http.Request) {
	resp := sessionResponse{Management: s.passwordHash() != "", Persistent: s.Manager.ConfigPath != ""}
	if sess := s.auth.session(r); sess != nil {
		resp.Admin, resp.CSRFToken = true, sess.csrf
	}
	writeJSON(w, http.StatusOK, resp)
}
