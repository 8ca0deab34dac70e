package web

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mediaftpd/mediaftpd/accounts"
	"github.com/mediaftpd/mediaftpd/discovery"
	"github.com/mediaftpd/mediaftpd/dlna"
	"github.com/mediaftpd/mediaftpd/dlna/ssdp"
	"github.com/mediaftpd/mediaftpd/ftpd"
	"github.com/mediaftpd/mediaftpd/internal/config"
	"github.com/mediaftpd/mediaftpd/library"
)

// Server is the status page and its API. Its exported fields are its
// configuration: set them before the first call to Handler and do not
// change them afterwards. The zero value of each field but Shares means
// its documented default.
type Server struct {
	// Shares is the set of shares shown; required.
	Shares *library.Set
	// Manager changes the shares when the admin adds, renames or removes
	// one, and saves the change to its config file; required, with
	// Manager.Set being Shares. A Manager without a ConfigPath applies
	// changes without saving them, which the page says.
	Manager *library.Manager
	// Sessions returns a snapshot of the FTP sessions, such as
	// ftpd.Server.Sessions; nil shows none.
	Sessions func() []ftpd.SessionInfo
	// FTPAddr is the FTP control listener's address, as its
	// net.Listener.Addr().String(). An unspecified host (":21",
	// "[::]:21", "0.0.0.0:21") lists every non-loopback address of the
	// machine as an FTP URL; the port is shown when it is not 21.
	// Empty shows no FTP URL.
	FTPAddr string
	// Name is the friendly name, the page's title; empty means "mediaftpd".
	Name string
	// Version is shown on the page and in the API.
	Version string
	// Started is when the server started; the zero time means when
	// Handler was first called. Uptime is measured with the monotonic
	// clock, so a clock set late (a Raspberry Pi boots at 1970) does not
	// upset it.
	Started time.Time
	// PasswordHash is the bcrypt hash of the admin password (see Passwd).
	// Empty turns management off; the page then says how to turn it on.
	// A value that is not a bcrypt hash is logged, and turns it off too.
	PasswordHash string
	// ShareRoots are the folders under which shares may be created, after
	// resolving symlinks. Nil means config.DefaultShareRoots(). The folders
	// of the shares in Shares when Handler is first called are added.
	ShareRoots []string
	// AllowedHosts are host names, besides those always allowed, that the
	// page may be reached by, such as "pi.fritz.box". See Handler for the
	// Host check.
	AllowedHosts []string
	// MDNS returns the state of the mDNS advertisement, such as
	// discovery.Advertiser.Status; nil means it is off.
	MDNS func() discovery.Status
	// DLNA returns the state of the DLNA server (dlna.Server.Status) and
	// of its SSDP announcements (ssdp.Server.Status); nil means DLNA is
	// off.
	DLNA func() (dlna.Status, ssdp.Status)
	// Details gives the media details of the files (running time,
	// picture size, codecs, tags), shown in the folder view, the player
	// and GET /api/items, and how far reading them is, shown on the
	// status page and in /api/status (*library.Prober). Nil shows none.
	Details Details
	// Thumbs makes the pictures of the folder view and the player (GET
	// /thumbs) from artwork files, photos and cover art embedded in
	// songs (*thumb.Cache). Nil shows none.
	Thumbs Thumbs
	// Positions keeps where playing each file stopped, so the player
	// resumes there, on this device or another (*store.Store, where the
	// DLNA server keeps Samsung TVs' bookmarks too). Nil: the player
	// starts at the beginning and keeps nothing.
	Positions Positions
	// Users are the named accounts (*accounts.Users, the one FTP checks
	// its logins with): a user logs in on the page with their name and
	// password and then sees the private shares they may. The admin
	// password's wrong guesses are counted by its Throttle too, so an
	// address guessing on the page and over FTP is slowed down once. Nil
	// means no user logins; the admin's are then throttled by a Users of
	// the page's own.
	Users *accounts.Users
	// Accounts changes the users from the page (add, remove, set a
	// password, pick a user's private shares), saving each change to the
	// config file; its Users must be Users and its Shares Manager. Nil
	// turns user management off (its routes answer 404).
	Accounts *accounts.Manager
	// Fingerprint returns the SHA-256 fingerprint of the TLS certificate
	// of FTPS and HTTPS (tlscert.Source.Fingerprint), shown to everyone on
	// the page and in /api/status so that a person can compare it with
	// what their client asks them to accept. Nil shows none.
	Fingerprint func() string
	// TLSConfig serves the page over HTTPS (tlscert.Source.ServerConfig):
	// Listener then wraps the page's listener so that its one port answers
	// TLS, and redirects plain HTTP requests to https:// on the same host
	// and port. Nil serves plain HTTP.
	TLSConfig *tls.Config
	// Logger receives admin actions at info level and refused requests at
	// debug level; nil means slog.Default(). Passwords are never logged.
	Logger *slog.Logger

	once      sync.Once
	handler   http.Handler
	hash      atomic.Pointer[string] // PasswordHash if it is a bcrypt hash, else ""
	started   time.Time
	roots     []string // ShareRoots with the start-up shares' folders
	hostnames []string // the machine's host name, lower case, for the Host check
	tmpl      *template.Template
	assets    map[string]*asset
	auth      authState
	wake      broadcast       // wakes live update streams: sessions ended, users changed
	ownUsers  *accounts.Users // checks the admin password when Users is nil
	rates     rateTracker
	addrs     addrCache

	sending atomic.Int32 // files being sent from /files

	streamsMu sync.Mutex
	closed    chan struct{} // closed by CloseStreams
	streams   atomic.Int32  // open live update streams
}

// Limits and timings.
const (
	// maxJSONBody bounds the body of a JSON request.
	maxJSONBody = 4 << 10
	// recentShown is how many recent additions the page and API list.
	recentShown = 20
)

// access says who may use a route.
type access int

const (
	// public routes are open to anyone who can reach the server; what
	// they answer is what the viewer may see (see viewer).
	public access = iota
	// loggedIn routes need a login session, the admin's or a user's.
	loggedIn
	// admin routes need the admin's login session.
	admin
)

// Routes that need a session and have an unsafe method (POST, PUT, PATCH,
// DELETE) also need the session's CSRF token in the X-CSRF-Token header.

// route is one entry of the route table.
type route struct {
	pattern string // a net/http.ServeMux pattern, with its method
	access  access
	handle  func(s *Server, w http.ResponseWriter, r *http.Request)
}

// routes is every route of the server. Cross-origin requests with unsafe
// methods are refused before any of them runs (see Handler).
var routes = []route{
	{"GET /{$}", public, (*Server).serveIndex},
	{"GET /assets/{name}", public, (*Server).serveAsset},
	{"GET /events", public, (*Server).serveEvents},
	{"GET /files/{path...}", public, (*Server).serveFiles},
	{"GET /play/{path...}", public, (*Server).servePlayer},
	{"GET /thumbs/{path...}", public, (*Server).serveThumb},
	{"GET /subtitles/{path...}", public, (*Server).serveSubtitles},
	{"GET /api/items/{path...}", public, (*Server).serveItem},
	{"PUT /api/positions/{path...}", public, (*Server).putPosition},
	{"GET /api/status", public, (*Server).serveStatus},
	{"GET /api/session", public, (*Server).serveSession},
	{"POST /api/login", public, (*Server).login},
	{"POST /api/logout", loggedIn, (*Server).logout},
	{"GET /api/folders", admin, (*Server).listFolders},
	{"POST /api/shares", admin, (*Server).addShare},
	{"PATCH /api/shares/{name}", admin, (*Server).renameShare},
	{"DELETE /api/shares/{name}", admin, (*Server).removeShare},
	{"PUT /api/shares/{name}/access", admin, (*Server).setShareAccess},
	{"GET /api/users", admin, (*Server).listUsers},
	{"POST /api/users", admin, (*Server).addUser},
	{"PUT /api/users/{name}/password", admin, (*Server).setUserPassword},
	{"PUT /api/users/{name}/shares", admin, (*Server).setUserShares},
	{"DELETE /api/users/{name}", admin, (*Server).removeUser},
}

// Handler returns the server's HTTP handler. Every response carries
// security headers (nosniff, no framing, a Content-Security-Policy).
// Unsafe requests (POST, PUT, PATCH, DELETE) from another origin are refused
// with 403, as are requests whose Host header names a host this server
// does not answer to. The Host check defeats DNS rebinding, where a web
// site makes its own name resolve to this server to read it: allowed are
// IP addresses, "localhost", the machine's host name, names without a
// dot, names under domains that public DNS does not serve (.local, .lan,
// .home, .internal, .home.arpa, .localdomain, and AVM routers' .fritz.box),
// and AllowedHosts.
func (s *Server) Handler() http.Handler {
	s.once.Do(s.init)
	return s.handler
}

func (s *Server) init() {
	if s.Shares == nil || s.Manager == nil {
		panic("web: Server.Shares or Server.Manager is nil")
	}
	hash := s.PasswordHash
	if err := checkHash(hash); err != nil {
		s.logger().Error("web.password_hash is not a bcrypt hash, so share management is off; set it with mediaftpd passwd", "err", err)
		hash = ""
	}
	s.hash.Store(&hash)
	s.started = s.Started
	if s.started.IsZero() {
		s.started = time.Now()
	}
	roots := s.ShareRoots
	if roots == nil {
		roots = config.DefaultShareRoots()
	}
	s.roots = slices.Clone(roots)
	for _, sh := range s.Shares.List() {
		s.roots = append(s.roots, sh.Path)
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		s.hostnames = append(s.hostnames, strings.ToLower(h))
	}
	s.tmpl = parseTemplates()
	s.assets = loadAssets()
	s.auth.init()
	if s.Users == nil {
		s.ownUsers = accounts.New(nil, false)
		s.ownUsers.Logger = s.logger()
	}
	s.closed = make(chan struct{})

	mux := http.NewServeMux()
	for _, rt := range routes {
		mux.HandleFunc(rt.pattern, s.guard(rt))
	}
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.logger().Debug("cross-origin request refused", "method", r.Method, "path", r.URL.Path,
			"origin", r.Header.Get("Origin"), "remote", r.RemoteAddr)
		writeError(w, http.StatusForbidden, "cross-origin request refused")
	}))
	s.handler = s.headers(s.checkHost(s.toHTTPS(cop.Handler(mux))))
}

var _ http.Handler = (*Server)(nil)

// ServeHTTP serves a request with the handler that Handler returns.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.Handler().ServeHTTP(w, r)
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// guard wraps a route's handler in its access check.
func (s *Server) guard(rt route) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if rt.access != public {
			v := s.viewer(r)
			switch {
			case v.sess == nil:
				writeError(w, http.StatusUnauthorized, "log in first")
				return
			case rt.access == admin && !v.admin:
				writeError(w, http.StatusForbidden, "only the admin may do this; log in with the admin password")
				return
			}
			if unsafeMethod(r.Method) && !v.sess.checkCSRF(r.Header.Get(csrfHeader)) {
				s.logger().Debug("request without a valid CSRF token refused", "path", r.URL.Path, "remote", r.RemoteAddr)
				writeError(w, http.StatusForbidden, "missing or wrong "+csrfHeader+" header")
				return
			}
		}
		rt.handle(s, w, r)
	}
}

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

// pageCSP is the Content-Security-Policy of the page and the API: only the
// server's own scripts, styles and connections, no framing.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// headers sets the security headers of every response.
func (s *Server) headers(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Content-Security-Policy", pageCSP)
		hd.Set("Referrer-Policy", "same-origin")
		h.ServeHTTP(w, r)
	})
}

// checkHost refuses requests whose Host header names a foreign host.
func (s *Server) checkHost(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.allowedHost(r.Host) {
			s.logger().Debug("request for a foreign host refused", "host", r.Host, "remote", r.RemoteAddr)
			http.Error(w, "Host not allowed. Reach this page by the server's address or name, "+
				"or add the name to AllowedHosts.", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// localSuffixes are domains that public DNS does not serve, so an attacker
// cannot point a name under them at this server.
var localSuffixes = []string{".local", ".lan", ".home", ".internal", ".home.arpa", ".localhost", ".localdomain", ".fritz.box"}

func (s *Server) allowedHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if host == "" {
		return false
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	if host == "localhost" || !strings.Contains(host, ".") {
		return true
	}
	for _, suf := range localSuffixes {
		if strings.HasSuffix(host, suf) {
			return true
		}
	}
	if slices.Contains(s.hostnames, host) {
		return true
	}
	return slices.ContainsFunc(s.AllowedHosts, func(h string) bool { return strings.EqualFold(h, host) })
}

// writeJSON writes v as the JSON response with the given status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(append(data, '\n'))
}

// errorBody is the JSON of every error response of the API.
type errorBody struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorBody{msg})
}

// errBadBody is reported for a request body that is not the expected JSON.
var errBadBody = errors.New("bad request body")

// readJSON decodes a JSON request body of at most maxJSONBody bytes into v.
// On failure it writes a 400 (or 413) response and returns false.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("more than one JSON value")
	}
	if err == nil {
		return true
	}
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", maxJSONBody))
		return false
	}
	writeError(w, http.StatusBadRequest, fmt.Sprintf("%v: %v", errBadBody, err))
	return false
}

// render executes the named template into a buffer, then writes it, so a
// failing template never leaves half a page.
func (s *Server) render(w http.ResponseWriter, code int, name string, data any) {
	var b bytes.Buffer
	if err := s.tmpl.ExecuteTemplate(&b, name, data); err != nil {
		s.logger().Error("rendering a page failed", "template", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(b.Bytes())
}

// CloseStreams ends the live update streams of open pages (their browsers
// reconnect to a restarted server by themselves). http.Server.Shutdown
// waits for them otherwise: register it with RegisterOnShutdown.
func (s *Server) CloseStreams() {
	s.once.Do(s.init)
	s.streamsMu.Lock()
	defer s.streamsMu.Unlock()
	select {
	case <-s.closed:
	default:
		close(s.closed)
	}
}

// name returns the friendly name to show.
func (s *Server) name() string {
	if s.Name != "" {
		return s.Name
	}
	return "mediaftpd"
}
