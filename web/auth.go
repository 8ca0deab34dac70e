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

	"github.com/mediaftpd/mediaftpd/accounts"
)

// Login sessions. Logging in starts a session: the admin's, with the
// admin password, or a user's, with their name and password (Server.Users).
// A session is a random ID in an HttpOnly, SameSite=Strict cookie (Secure
// when the page is served over HTTPS), and a CSRF token that the page
// sends back in the X-CSRF-Token header of every change. Sessions live in
// memory, so a restart logs everyone out. The admin's sessions end when
// the admin password changes (SetPasswordHash); a user's when the user is
// removed or gets a new password (EndUserSessions), and a session whose
// user is no longer in Users is not honoured even before that.
//
// Every password, the admin's and the users', is checked through
// accounts.Users.Verify: one check at a time (bcrypt is slow on purpose,
// and slower still on a Pi), a delay after a wrong one, and after
// accounts.MaxFailures in a row from one address (per /64 for IPv6) the
// address is refused for a while, answered with 429 and Retry-After. The
// app gives the page the Users that FTP checks its logins with, so the
// page and FTP count one address's wrong guesses together.
const (
	sessionCookie = "mediaftpd_session"
	csrfHeader    = "X-CSRF-Token"
	// sessionIdle ends a session not used for this long.
	sessionIdle = 7 * 24 * time.Hour
	// maxSessions bounds the sessions kept, the admin's and users'
	// together; the least recently used goes.
	maxSessions = 64
)

// authState holds the login sessions.
type authState struct {
	mu       sync.Mutex // guards sessions
	sessions map[string]*session
}

// session is one login.
type session struct {
	csrf string
	// user is the name of the user logged in; "" for the admin.
	user     string
	lastUsed time.Time // guarded by authState.mu
}

// admin reports whether the session is the admin's.
func (sess *session) admin() bool { return sess.user == "" }

func (a *authState) init() {
	a.sessions = make(map[string]*session)
}

// randomToken returns a random string of 130 bits.
func randomToken() string { return rand.Text() }

// session returns the live session named by r's cookie, or nil, and marks
// it used.
func (a *authState) session(r *http.Request) *session { return a.lookup(r, true) }

// lookup returns the live session named by r's cookie, or nil; touch
// marks it used. An open page's live updates look their session up
// without touching it, so that a page left open does not keep its login
// from ending after sessionIdle.
func (a *authState) lookup(r *http.Request, touch bool) *session {
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
	if touch {
		sess.lastUsed = now
	}
	return sess
}

// checkCSRF reports whether token is the session's CSRF token.
func (sess *session) checkCSRF(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(sess.csrf)) == 1
}

// start starts a session of user ("" for the admin) and returns its ID
// and the session.
func (a *authState) start(user string) (id string, sess *session) {
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
	sess = &session{csrf: randomToken(), user: user, lastUsed: time.Now()}
	a.sessions[id] = sess
	return id, sess
}

// endWhere ends the sessions for which end is true, and returns how many
// it ended.
func (a *authState) endWhere(end func(*session) bool) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for id, sess := range a.sessions {
		if end(sess) {
			delete(a.sessions, id)
			n++
		}
	}
	return n
}

// end ends the session named by r's cookie.
func (a *authState) end(r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		a.mu.Lock()
		delete(a.sessions, c.Value)
		a.mu.Unlock()
	}
}

// EndUserSessions ends at once every page session of the named users:
// their next request is anonymous, and their open pages' live updates
// show only public shares. The app calls it from accounts.Manager.OnEnded,
// with the users removed or given a new password.
func (s *Server) EndUserSessions(names []string) {
	s.once.Do(s.init)
	s.endUserSessions(names)
}

// endUserSessions is EndUserSessions, for handlers.
func (s *Server) endUserSessions(names []string) {
	if len(names) == 0 {
		return
	}
	ended := make(map[string]bool, len(names))
	for _, n := range names {
		ended[n] = true
	}
	n := s.auth.endWhere(func(sess *session) bool { return !sess.admin() && ended[sess.user] })
	if n > 0 {
		s.logger().Info("page sessions of users ended", "users", names, "sessions", n)
	}
	s.wake.notify() // the admin's page lists the users
}

// clientAddr is the address failures are counted by (accounts.Throttle
// counts IPv6 addresses by their /64).
func clientAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap().WithZone("")
}

// users returns the Users that passwords are checked through: Server.Users,
// or without it one of the page's own, with no user, for the admin's.
func (s *Server) users() *accounts.Users {
	if s.Users != nil {
		return s.Users
	}
	return s.ownUsers
}

// loginRequest is the body of POST /api/login: a password alone for the
// admin, a user name and password for a user.
type loginRequest struct {
	User     *string `json:"user"`
	Password string  `json:"password"`
}

// sessionResponse is the answer of a login and of GET /api/session.
type sessionResponse struct {
	// Admin is set for the admin's session; User is the name of a user
	// logged in.
	Admin     bool   `json:"admin"`
	User      string `json:"user,omitempty"`
	CSRFToken string `json:"csrf_token,omitempty"`
	// Management, Persistent and Users are as in Status.Management.
	Management bool `json:"management"`
	Persistent bool `json:"persistent"`
	Users      bool `json:"users"`
}

// login is POST /api/login.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if !readJSON(w, r, &req) {
		return
	}
	from := clientAddr(r)
	log := s.logger().With("remote", r.RemoteAddr)
	var user string
	var res accounts.Result
	if req.User == nil {
		hash := s.passwordHash()
		if hash == "" {
			writeError(w, http.StatusForbidden, "management is off: no admin password is set (run mediaftpd passwd -config FILE)")
			return
		}
		res = s.users().Verify(r.Context(), from, "admin of the status page", func() bool {
			return accounts.Matches(hash, req.Password)
		})
	} else {
		user = *req.User
		switch {
		case user == "":
			writeError(w, http.StatusBadRequest, "user: empty; leave it out to log in as the admin")
			return
		case s.Users == nil:
			writeError(w, http.StatusForbidden, "there are no user accounts on this server")
			return
		}
		res = s.Users.Login(r.Context(), user, req.Password, from)
	}
	switch res {
	case accounts.LockedOut:
		retry, _ := s.users().Throttle.LockedOut(from)
		tooSoon(w, max(retry, time.Second))
		return
	case accounts.Failed:
		// Users.Verify has logged it, with the address.
		if user == "" {
			writeError(w, http.StatusUnauthorized, "wrong password")
		} else {
			writeError(w, http.StatusUnauthorized, "wrong user name or password")
		}
		return
	}
	s.auth.end(r) // a session this browser had before
	id, sess := s.auth.start(user)
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookie,
		Value:    id,
		Path:     "/",
		MaxAge:   int(sessionIdle / time.Second),
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteStrictMode,
	})
	resp := s.sessionState()
	resp.CSRFToken = sess.csrf
	if user == "" {
		log.Info("admin logged in")
		resp.Admin = true
	} else {
		log.Info("user logged in to the status page", "user", user)
		resp.User = user
	}
	writeJSON(w, http.StatusOK, resp)
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

// logout is POST /api/logout: it ends the admin's or the user's session.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	v := s.viewer(r)
	s.auth.end(r)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	if v.admin {
		s.logger().Info("admin logged out", "remote", r.RemoteAddr)
	} else {
		s.logger().Info("user logged out of the status page", "user", v.user, "remote", r.RemoteAddr)
	}
	w.WriteHeader(http.StatusNoContent)
}

// sessionState is the part of a sessionResponse that is the same for
// everyone.
func (s *Server) sessionState() sessionResponse {
	return sessionResponse{Management: s.passwordHash() != "", Persistent: s.Manager.ConfigPath != "", Users: s.userLogins()}
}

// serveSession is GET /api/session: whether the caller is logged in and,
// if so, as whom and the CSRF token of its session, for a page that was
// reloaded.
func (s *Server) serveSession(w http.ResponseWriter, r *http.Request) {
	resp := s.sessionState()
	if v := s.viewer(r); v.sess != nil {
		resp.Admin, resp.User, resp.CSRFToken = v.admin, v.user, v.sess.csrf
	}
	writeJSON(w, http.StatusOK, resp)
}

// userLogins reports whether users can log in: there are named accounts.
func (s *Server) userLogins() bool { return s.Users != nil && s.Users.HasUsers() }
