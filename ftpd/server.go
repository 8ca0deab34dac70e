package ftpd

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Errors returned by the Server.
var (
	// ErrServerClosed is returned by Serve after Shutdown or Close.
	ErrServerClosed = errors.New("ftpd: server closed")
)

// Shares is the set of exported folders that paths are resolved through.
// library.Set implements it. It must be safe for concurrent use; a change
// is seen by the next command of every session.
type Shares interface {
	// Names returns the share names in display order.
	Names() []string
	// Root opens the named share's folder and returns its root, or an
	// error if the share does not exist or its folder is missing. The
	// caller closes the root as soon as the command is done with it: an
	// open root keeps the share's disk busy, so it could not be unmounted.
	// Files opened through it stay valid after it is closed.
	Root(name string) (*os.Root, error)

	// The one visibility rule and safe opener (library's), which every
	// front end shares:

	// Visible reports whether a folder entry with this name is shown.
	Visible(name string) bool
	// StatAt returns what rel is in a share's root: a regular file or a
	// folder, a symlink followed only inside the share. Hidden names and
	// anything else are errors.
	StatAt(root *os.Root, rel string) (fs.FileInfo, error)
	// OpenAt opens the regular file rel of a share's root for streaming,
	// refusing hidden names and anything but a regular file without ever
	// blocking (a FIFO).
	OpenAt(root *os.Root, rel string) (*os.File, fs.FileInfo, error)
	// OpenDirAt opens the folder rel of a share's root to read its
	// entries, without ever blocking.
	OpenDirAt(root *os.Root, rel string) (*os.File, error)

	// Allows reports whether user may see the named share: the one
	// access rule, user "" being anonymous. A session sees in "/" only
	// the shares it allows, and a path into any other share gets the
	// same reply as one into a share that does not exist. It is asked at
	// every command.
	Allows(share, user string) bool
}

// Defaults for the Server's zero-valued fields.
const (
	DefaultMaxClients   = 200
	DefaultMaxPerIP     = 16
	DefaultIdleTimeout  = 5 * time.Minute
	DefaultDataTimeout  = 30 * time.Second
	DefaultStallTimeout = 10 * time.Minute
	// DefaultHandshakeTimeout bounds a TLS handshake, on the control
	// connection or a data connection.
	DefaultHandshakeTimeout = 10 * time.Second
	// maxLine bounds a command line, CRLF included. Longer lines cut the
	// session: no client sends them.
	maxLine = 8192
	// replyTimeout bounds writing one reply to a client that does not read.
	replyTimeout = time.Minute
)

// Server is a read-only FTP server, anonymous unless Accounts is set, with
// explicit FTPS (RFC 4217) when TLSConfig is set and implicit FTPS through
// ServeTLS. Its exported fields are its configuration; set them before
// Serve and do not change them afterwards. The zero value of each field but
// Shares means its documented default. The limits among them can be
// changed while the server runs with SetLimits.
type Server struct {
	// Shares is the set of folders served; required.
	Shares Shares
	// Name is shown in the greeting; empty means "mediaftpd".
	Name string
	// Logger receives one line per session and per transfer at info level
	// and protocol detail at debug level; nil means slog.Default().
	Logger *slog.Logger
	// PasvMin and PasvMax bound the ports of passive data listeners. Zero
	// means any free port.
	PasvMin, PasvMax int
	// MaxClients is the most sessions at once (DefaultMaxClients); beyond
	// it a connection gets "421" and is closed.
	MaxClients int
	// MaxPerIP is the most sessions from one address (DefaultMaxPerIP).
	MaxPerIP int
	// IdleTimeout closes a control connection that sent no command for
	// this long while no transfer ran (DefaultIdleTimeout).
	IdleTimeout time.Duration
	// DataTimeout bounds waiting for a data connection to be made, passive
	// or active (DefaultDataTimeout).
	DataTimeout time.Duration
	// StallTimeout ends a transfer whose client has accepted no data for
	// this long. A paused player stops reading, so this is minutes
	// (DefaultStallTimeout).
	StallTimeout time.Duration

	// Accounts checks named users; nil means anonymous-only, as before:
	// any USER name and any PASS log in anonymously. See Accounts for the
	// rules of names, and Shares.Allows for what each account sees. Like
	// the other fields it is not replaced while the server runs: a reload
	// changes what it answers, and EndSessions then ends the sessions of
	// the accounts removed or changed.
	Accounts Accounts
	// RequireTLSForUsers refuses a named user on a control connection
	// that is not encrypted: "USER <name>" gets "530 Non-anonymous
	// sessions must use encryption (AUTH TLS)." at once, so the PASS line
	// that follows gets 503 and its password is never checked (vsftpd's
	// force_local_logins_ssl). Anonymous sessions may use TLS or not.
	// With TLSConfig nil no named user can log in at all while it is set.
	RequireTLSForUsers bool

	// TLSConfig turns on FTPS: AUTH TLS (and AUTH SSL), PBSZ, PROT and
	// CCC, listed by FEAT, and ServeTLS for implicit FTPS. It must hold a
	// certificate (Certificates or GetCertificate); its MinVersion and
	// MaxVersion are used as they are (the app allows TLS 1.2 and 1.3).
	// Each session uses a clone of it with a session-ticket key of its
	// own, SessionTicketsDisabled cleared: data connections under PROT P
	// must resume the control connection's TLS session, so a stolen
	// passive port gets nothing. nil means no TLS: AUTH, PBSZ, PROT and
	// CCC get "502", as before.
	TLSConfig *tls.Config
	// HandshakeTimeout bounds each TLS handshake, on a control or data
	// connection; a client that has not finished by then is cut off
	// (DefaultHandshakeTimeout).
	HandshakeTimeout time.Duration

	// tlsBufferSize is the size of the reads of a file sent over TLS, which
	// cannot use sendfile(2); zero means tlsBuffer. Benchmarks set it.
	tlsBufferSize int

	started  time.Time
	nextID   atomic.Uint64
	problems problemLog // problems with files, each logged once

	// limits, once SetLimits has been called, replaces the fields that
	// Limits holds; nil means those fields are in force. It is atomic
	// because it is read under session.mu, which is taken after mu.
	limits atomic.Pointer[Limits]

	// held counts the locked-out connections held before their refusal.
	held atomic.Int32

	// closing is set by Shutdown and Close. It is read under session.mu,
	// so it is atomic rather than guarded by mu: mu is taken before
	// session.mu, never after.
	closing atomic.Bool

	mu        sync.Mutex // guards the fields below
	listeners map[net.Listener]struct{}
	sessions  map[*session]struct{}
	perIP     map[netip.Addr]int
	endGen    uint64                 // calls of EndSessions
	lastKeep  func(user string) bool // the keep of the last one
}

func (srv *Server) logger() *slog.Logger {
	if srv.Logger != nil {
		return srv.Logger
	}
	return slog.Default()
}

func orDefault[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

func (srv *Server) shuttingDown() bool { return srv.closing.Load() }

// Limits are the limits and timeouts of a Server that can change while it
// runs; see SetLimits. Each field is the Server field of the same name,
// and its zero value means the same default.
type Limits struct {
	// MaxClients is the most sessions at once.
	MaxClients int
	// MaxPerIP is the most sessions from one address.
	MaxPerIP int
	// IdleTimeout closes a control connection that sent no command for
	// this long while no transfer ran.
	IdleTimeout time.Duration
	// PasvMin and PasvMax bound the ports of passive data listeners; zero
	// means any free port.
	PasvMin, PasvMax int
}

// Limits returns the limits in force: those of the last call to
// SetLimits, or else the Server's fields. Zero values are returned as
// they are, not as their defaults.
func (srv *Server) Limits() Limits {
	if l := srv.limits.Load(); l != nil {
		return *l
	}
	return Limits{
		MaxClients:  srv.MaxClients,
		MaxPerIP:    srv.MaxPerIP,
		IdleTimeout: srv.IdleTimeout,
		PasvMin:     srv.PasvMin,
		PasvMax:     srv.PasvMax,
	}
}

// SetLimits changes the limits while the server runs, replacing the Server
// fields of the same names (which keep the values they had; use Limits to
// read the limits in force). It is safe to call at any time, concurrently
// with everything else. The new limits apply to connections accepted
// afterwards and to PASV and EPSV commands sent afterwards; no session is
// ended because of them: when MaxClients or MaxPerIP is lowered below the
// sessions there are, those sessions go on and new connections get "421"
// until enough have ended. A new IdleTimeout applies to every session's
// wait for its next command, the waits under way included, counted from
// the call.
func (srv *Server) SetLimits(l Limits) {
	old := srv.Limits()
	srv.limits.Store(&l)
	if l.IdleTimeout == old.IdleTimeout {
		return
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	for s := range srv.sessions {
		s.interrupt() // re-arms the idle deadline, now with the new timeout
	}
}

// idleTimeout is the idle timeout in force, its default applied.
func (srv *Server) idleTimeout() time.Duration {
	return orDefault(srv.Limits().IdleTimeout, DefaultIdleTimeout)
}

// Serve accepts connections on l and serves each in its own goroutine. It
// returns ErrServerClosed after Shutdown or Close, or the listener's error.
// Serve closes l when it returns. Sessions start in clear text; with
// TLSConfig set, a client may then switch to TLS with AUTH TLS.
func (srv *Server) Serve(l net.Listener) error {
	return srv.serve(l, false)
}

// ServeTLS is Serve for implicit FTPS (port 990 by custom): every
// connection starts with the TLS handshake, within HandshakeTimeout,
// before the greeting, and data connections are protected from the start
// (PROT P without PBSZ or PROT, as clients of implicit FTPS expect).
// Everything else is as for explicit FTPS. It needs TLSConfig. Serve and
// ServeTLS may run at the same time, on different listeners, and share
// the limits; a connection beyond them is closed without the "421" that
// Serve sends, which a TLS client could not read.
func (srv *Server) ServeTLS(l net.Listener) error {
	if srv.TLSConfig == nil {
		l.Close()
		return errors.New("ftpd: ServeTLS needs Server.TLSConfig")
	}
	return srv.serve(l, true)
}

// serve is Serve, with every session starting in TLS when implicit is set.
func (srv *Server) serve(l net.Listener, implicit bool) error {
	if srv.Shares == nil {
		l.Close()
		return errors.New("ftpd: Server.Shares is nil")
	}
	srv.mu.Lock()
	if srv.closing.Load() {
		srv.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	if srv.listeners == nil {
		srv.listeners = make(map[net.Listener]struct{})
		srv.sessions = make(map[*session]struct{})
		srv.perIP = make(map[netip.Addr]int)
		srv.started = time.Now()
	}
	srv.listeners[l] = struct{}{}
	srv.mu.Unlock()
	defer func() {
		srv.mu.Lock()
		delete(srv.listeners, l)
		srv.mu.Unlock()
		l.Close()
	}()

	var backoff time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			if srv.shuttingDown() {
				return ErrServerClosed
			}
			if isTemporary(err) {
				// Out of file descriptors, say: wait and retry, as net/http.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				srv.logger().Warn("accept failed; retrying", "err", err, "in", backoff)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		go srv.handle(c, implicit)
	}
}

// isTemporary reports whether an accept error is worth retrying.
func isTemporary(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.ENOBUFS)
}

// handle admits a connection within the limits and runs its session, which
// starts with a TLS handshake when implicit is set.
func (srv *Server) handle(c net.Conn, implicit bool) {
	remote := addrOf(c.RemoteAddr()).Addr()
	limits := srv.Limits()
	locked := srv.Accounts != nil && srv.Accounts.LockedOut(remote)
	srv.mu.Lock()
	reason := ""
	switch {
	case srv.closing.Load():
		reason = "Server shutting down."
	case locked:
		reason = lockedOutReply
	case len(srv.sessions) >= orDefault(limits.MaxClients, DefaultMaxClients):
		reason = "Too many users, try again later."
	case srv.perIP[remote] >= orDefault(limits.MaxPerIP, DefaultMaxPerIP):
		reason = "Too many connections from your address."
	}
	if reason != "" {
		srv.mu.Unlock()
		if locked {
			srv.holdLockedOut()
		}
		srv.logger().Debug("connection refused", "remote", c.RemoteAddr().String(), "reason", reason)
		if !implicit { // an implicit FTPS client could not read a clear-text reply
			r := newReplyWriter(c, 5*time.Second)
			r.reply(codeUnavailable, reason)
		}
		c.Close()
		return
	}
	setOOBInline(c)
	s := newSession(srv, c, implicit)
	srv.sessions[s] = struct{}{}
	srv.perIP[remote]++
	srv.mu.Unlock()

	defer func() {
		srv.mu.Lock()
		delete(srv.sessions, s)
		if srv.perIP[remote]--; srv.perIP[remote] <= 0 {
			delete(srv.perIP, remote)
		}
		srv.mu.Unlock()
	}()
	s.serve()
}

// Holding locked-out connections. A client that keeps guessing gets its
// 421 only after lockedOutHold, as a tarpit: a flood from locked-out
// addresses then makes a few connections a second instead of thousands,
// each of which costs the box an accept and a goroutine. At most
// maxLockedOutHeld connections are held at once; more are refused at once.
const (
	lockedOutHold    = time.Second
	maxLockedOutHeld = 64
)

// holdLockedOut waits lockedOutHold before a locked-out connection is
// refused, unless too many are held already or the server is closing.
func (srv *Server) holdLockedOut() {
	if srv.held.Add(1) > maxLockedOutHeld {
		srv.held.Add(-1)
		return
	}
	defer srv.held.Add(-1)
	for end := time.Now().Add(lockedOutHold); time.Now().Before(end) && !srv.shuttingDown(); {
		time.Sleep(min(50*time.Millisecond, time.Until(end)))
	}
}

// Shutdown stops the server gracefully: it closes the listeners, ends idle
// sessions at once with "421", and lets running transfers finish until ctx
// is done, when it closes the remaining sessions and returns ctx.Err().
func (srv *Server) Shutdown(ctx context.Context) error {
	srv.closing.Store(true)
	srv.mu.Lock()
	for l := range srv.listeners {
		l.Close()
	}
	for s := range srv.sessions {
		s.interrupt()
	}
	srv.mu.Unlock()

	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		srv.mu.Lock()
		n := len(srv.sessions)
		srv.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			srv.Close()
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// Close closes the listeners and every session at once, transfers included.
func (srv *Server) Close() error {
	srv.closing.Store(true)
	srv.mu.Lock()
	defer srv.mu.Unlock()
	for l := range srv.listeners {
		l.Close()
	}
	for s := range srv.sessions {
		s.kill()
	}
	return nil
}

// setOOBInline keeps TCP urgent data in the command stream, as vsftpd does.
// Clients send ABOR as urgent data (RFC 959 4.1.3): Python's ftplib sends
// the whole "ABOR\r\n" with MSG_OOB, BSD ftp a Telnet IAC. Without this
// the kernel takes the last byte out of the stream and the command is lost.
func setOOBInline(c net.Conn) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_OOBINLINE, 1)
	})
}

// addrOf returns the address of a TCP endpoint with IPv4-mapped IPv6
// addresses unmapped, so that PASV replies and address checks compare like
// with like.
func addrOf(a net.Addr) netip.AddrPort {
	if ta, ok := a.(*net.TCPAddr); ok {
		ap := ta.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// listenPassive opens a data listener on ip, within the passive port range
// if one is set. Ports are tried from a random start so that concurrent
// sessions do not race for the same one.
func (srv *Server) listenPassive(ip netip.Addr) (*net.TCPListener, error) {
	limits := srv.Limits()
	lo, hi := limits.PasvMin, limits.PasvMax
	if lo <= 0 || hi < lo {
		return net.ListenTCP("tcp", net.TCPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
	}
	n := hi - lo + 1
	start := rand.IntN(n)
	var err error
	for i := range n {
		port := uint16(lo + (start+i)%n)
		var l *net.TCPListener
		l, err = net.ListenTCP("tcp", net.TCPAddrFromAddrPort(netip.AddrPortFrom(ip, port)))
		if err == nil {
			return l, nil
		}
	}
	return nil, errors.Join(errNoPassivePort, err)
}

// errNoPassivePort means every port of the passive range is in use.
var errNoPassivePort = errors.New("no free port in the passive range")

// rootInfo is the file info of the virtual root "/".
type rootInfo struct{ mtime time.Time }

func (rootInfo) Name() string         { return "/" }
func (rootInfo) Size() int64          { return 0 }
func (rootInfo) Mode() fs.FileMode    { return fs.ModeDir | 0o555 }
func (r rootInfo) ModTime() time.Time { return r.mtime }
func (rootInfo) IsDir() bool          { return true }
func (rootInfo) Sys() any             { return nil }

// SessionInfo is a snapshot of one session: the status model of FTP, which
// the status page shows and its API returns as it is (web/doc.go lists the
// keys).
type SessionInfo struct {
	ID     uint64 `json:"id"`
	Remote string `json:"remote"` // the client's address, host:port
	User   string `json:"user"`   // as given to USER
	// Account is the account the session is logged in as, or "" for an
	// anonymous session or one not logged in.
	Account string    `json:"account"`
	TLS     bool      `json:"tls"`      // the control connection is encrypted
	DataTLS bool      `json:"data_tls"` // data connections are encrypted (PROT P)
	Since   time.Time `json:"since"`
	// Transfer is the running transfer, or nil.
	Transfer *TransferInfo `json:"transfer"`
}

// TransferInfo is a snapshot of a running transfer.
type TransferInfo struct {
	Path    string    `json:"path"`    // virtual path of the file sent or the folder listed
	Listing bool      `json:"listing"` // a folder listing, whose size is unknown
	Offset  int64     `json:"offset"`  // REST offset the file is sent from
	Size    int64     `json:"size"`    // bytes to send; 0 for a listing
	Sent    int64     `json:"sent"`    // bytes sent so far, recorded at least every 16 MiB
	Started time.Time `json:"started"`
}

// Sessions returns a snapshot of the sessions, oldest first.
func (srv *Server) Sessions() []SessionInfo {
	srv.mu.Lock()
	sessions := make([]*session, 0, len(srv.sessions))
	for s := range srv.sessions {
		sessions = append(sessions, s)
	}
	srv.mu.Unlock()
	out := make([]SessionInfo, len(sessions))
	for i, s := range sessions {
		out[i] = s.info()
	}
	slices.SortFunc(out, func(a, b SessionInfo) int { return cmp.Compare(a.ID, b.ID) })
	return out
}
