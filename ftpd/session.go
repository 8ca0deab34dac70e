package ftpd

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"
)

// session is one control connection.
type session struct {
	srv *Server
	// raw is the TCP control connection. Deadlines are set on it and kill
	// closes it, from any goroutine: it never changes, while conn does.
	raw      net.Conn
	implicit bool // implicit FTPS: TLS from the first byte
	id       uint64
	log      *slog.Logger
	reply    *replyWriter
	remote   netip.AddrPort // the client, unmapped
	local    netip.AddrPort // our end of the control connection, unmapped
	start    time.Time
	// ctx is cancelled when the session is killed or the server shuts
	// down, so that a login's penalty delay does not hold them up.
	ctx    context.Context
	cancel context.CancelFunc

	// The fields below belong to the command goroutine (serve).
	conn     net.Conn // the control connection: raw, or TLS over it; closed when serve returns
	r        *bufio.Reader
	user     string // as given to USER; written under mu, which info holds to read it
	loggedIn bool
	named    bool // user is checked as an account (see Accounts)
	cwd      vpath
	rest     int64        // REST offset for the next transfer
	epsvAll  bool         // EPSV ALL was sent: only EPSV may set up data
	facts    facts        // MLST facts chosen with OPTS MLST
	pasv     net.Listener // passive listener waiting for the next transfer
	active   netip.AddrPort
	tlsConf  *tls.Config // this session's TLS config, once the control connection is TLS
	pbsz     bool        // PBSZ was accepted: PROT may follow

	mu     sync.Mutex // guards xfer, killed and the fields below them
	xfer   *transfer  // the running transfer, or nil
	killed bool       // Close was called: end now
	// Written by the command goroutine under mu, read by info and
	// EndSessions under it.
	account    string // the account logged in as; "" when anonymous or not logged in
	tlsVersion string // the control connection's TLS version, "" in clear text
	protP      bool   // PROT P: data connections are TLS
}

func newSession(srv *Server, c net.Conn, implicit bool) *session {
	s := &session{
		srv:      srv,
		raw:      c,
		conn:     c,
		implicit: implicit,
		id:       srv.nextID.Add(1),
		remote:   addrOf(c.RemoteAddr()),
		local:    addrOf(c.LocalAddr()),
		start:    time.Now(),
		r:        bufio.NewReaderSize(c, maxLine),
		cwd:      "/",
		facts:    allFacts,
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.log = srv.logger().With("session", s.id, "remote", s.remote.String())
	s.reply = newReplyWriter(c, replyTimeout)
	return s
}

// serve runs the session: greeting, then commands until QUIT, an error, the
// idle timeout or shutdown.
func (s *session) serve() {
	s.log.Info("session start")
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("session panic", "panic", p, "stack", string(debug.Stack()))
		}
		s.cancel()
		s.abortTransfer()
		s.closePassive()
		s.conn.Close()
		s.raw.Close() // when the TLS close above could not run
		s.log.Info("session end", "user", s.user, "duration", time.Since(s.start).Round(time.Millisecond))
	}()

	if s.implicit {
		if err := s.startTLS(); err != nil {
			s.log.Debug("implicit TLS handshake failed", "err", err)
			return
		}
		s.setProt(true) // data is protected from the start
		s.pbsz = true
	}
	name := s.srv.Name
	if name == "" {
		name = "mediaftpd"
	}
	if s.reply.reply(codeReady, name+" ready.") != nil {
		return
	}
	for {
		line, err := s.readLine()
		if err != nil {
			s.endOnReadError(err)
			return
		}
		verb, arg := parseCommand(line)
		if verb == "" {
			continue // an empty line; some clients send CRLF keep-alives
		}
		// Never a password in the log, not even in a mistyped line: the
		// argument is logged only for known commands that are not secret
		// ("PAS secret" is the unknown verb "PAS"; "PASS\tsecret" the verb
		// "PASS\tSEC").
		switch cmd, known := commands[verb]; {
		case known && !cmd.secret:
			s.log.Debug("command", "verb", verb, "arg", arg)
		case strings.HasPrefix(verb, "PASS"):
			s.log.Debug("command", "verb", "PASS")
		default:
			s.log.Debug("command", "verb", verb)
		}
		if !s.dispatch(verb, arg) {
			return
		}
	}
}

// readLine reads one command line, CRLF (or LF) removed. The read deadline
// is the idle timeout unless a transfer is running; see armIdle.
func (s *session) readLine() ([]byte, error) {
	s.armIdle()
	line, err := s.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return nil, errLineTooLong
	}
	if err != nil {
		if len(line) > 0 && errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return bytes.Clone(line), nil
}

var errLineTooLong = errors.New("command line too long")

// armIdle sets the control connection's read deadline: none while a
// transfer runs (a paused player's stalled transfer is not idle), the idle
// timeout otherwise, and "now" once shutdown has begun, so that a blocked
// read returns at once.
func (s *session) armIdle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.armIdleLocked()
}

func (s *session) armIdleLocked() {
	switch {
	case s.killed || s.srv.shuttingDown():
		s.raw.SetReadDeadline(time.Now())
		s.cancel()
	case s.xfer != nil:
		s.raw.SetReadDeadline(time.Time{})
	default:
		s.raw.SetReadDeadline(time.Now().Add(s.srv.idleTimeout()))
	}
}

// endOnReadError says goodbye in the way the error calls for.
func (s *session) endOnReadError(err error) {
	var ne net.Error
	switch {
	case errors.Is(err, errLineTooLong):
		s.log.Debug("command line too long")
		s.reply.reply(codeSyntaxError, "Command line too long.")
	case s.isKilled():
	case s.srv.shuttingDown():
		s.waitTransfer()
		s.reply.reply(codeUnavailable, "Server shutting down.")
	case errors.As(err, &ne) && ne.Timeout():
		s.log.Info("idle timeout")
		s.reply.reply(codeUnavailable, "Timeout: no command for too long.")
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
	default:
		s.log.Debug("control read error", "err", err)
	}
}

// interrupt makes a blocked command read return, for Shutdown.
func (s *session) interrupt() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.armIdleLocked()
}

// kill ends the session at once, transfer included, for Close.
func (s *session) kill() {
	s.mu.Lock()
	s.killed = true
	if s.xfer != nil {
		s.xfer.abort()
	}
	s.mu.Unlock()
	s.cancel()
	s.raw.Close()
}

func (s *session) isKilled() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.killed
}

// parseCommand splits a command line into its verb, upper-cased, and its
// argument, which is everything after the space that ends the verb, with
// the line end removed: file names may begin or end with spaces. Spaces
// before the verb are skipped. Telnet IAC sequences (RFC 959 4.1.3, sent by
// some clients before ABOR) are dropped.
func parseCommand(line []byte) (verb, arg string) {
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if bytes.IndexByte(line, 0xff) >= 0 {
		line = stripTelnet(line)
		// BSD and inetutils ftp send IAC IP, then IAC as urgent data, which
		// Linux takes out of the stream, then DM ABOR: a Data Mark is left
		// before the verb.
		for len(line) > 0 && line[0] == telnetDM {
			line = line[1:]
		}
	}
	v, a, _ := bytes.Cut(bytes.TrimLeft(line, " "), []byte(" "))
	if len(v) > 8 {
		v = v[:8] // no verb is longer; keeps log lines of garbage short
	}
	// Verbs are ASCII. bytes.ToUpper would make each invalid UTF-8 byte of
	// garbage a 3-byte U+FFFD, and the verb longer than 8 bytes.
	up := make([]byte, len(v))
	for i, c := range v {
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		up[i] = c
	}
	return string(up), string(a)
}

// telnetDM is the Telnet Data Mark (RFC 854).
const telnetDM = 0xf2

// stripTelnet removes Telnet commands (RFC 854): IAC followed by a command
// byte (0xF0 to 0xFE). IAC IAC stands for a literal 0xFF; an IAC before
// anything else is dropped alone.
func stripTelnet(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != 0xff {
			out = append(out, b[i])
			continue
		}
		if i+1 < len(b) {
			switch next := b[i+1]; {
			case next == 0xff:
				out = append(out, 0xff)
				i++
			case next >= 0xf0:
				i++
			}
		}
	}
	return out
}

// dispatch runs one command through the command table. It returns false
// when the session must end.
func (s *session) dispatch(verb, arg string) bool {
	cmd, ok := commands[verb]
	if !ok {
		s.waitTransfer()
		s.reply.reply(codeSyntaxError, "Unknown command.")
		return true
	}
	if !cmd.duringTransfer {
		// Commands are answered in order: wait for a running transfer's
		// final reply before running this one.
		s.waitTransfer()
	}
	if !cmd.open && !s.loggedIn {
		s.reply.reply(codeNotLoggedIn, "Please login with USER and PASS.")
		return true
	}
	if cmd.tls && s.srv.TLSConfig == nil {
		return s.notImplemented(arg) == nil
	}
	if cmd.needsArg && arg == "" {
		s.reply.reply(codeArgSyntaxError, verb+" needs an argument.")
		return true
	}
	return cmd.handler(s, arg) == nil
}

// errQuit ends the session after a command's reply.
var errQuit = errors.New("quit")

// errorReply maps an error from resolving or opening a path to a reply. The
// client never sees host paths or Go error text.
func (s *session) errorReply(err error, what string) error {
	s.log.Debug("refused", "what", what, "err", err)
	switch {
	case errors.Is(err, errBadPath):
		return s.reply.reply(codeArgSyntaxError, "Invalid path.")
	case errors.Is(err, fs.ErrPermission):
		return s.reply.reply(codeFileUnavailable, what+" Permission denied: the server may not read it.")
	case isDiskError(err):
		return s.reply.reply(codeFileUnavailable, what+" The disk reports a read error.")
	default:
		return s.reply.reply(codeFileUnavailable, what)
	}
}

// waitTransfer waits until no transfer is running.
func (s *session) waitTransfer() {
	s.mu.Lock()
	t := s.xfer
	s.mu.Unlock()
	if t != nil {
		<-t.done
	}
}

// abortTransfer stops a running transfer and waits for its final reply. It
// reports whether it stopped one: a transfer whose final reply is already
// decided is let finish and does not count.
func (s *session) abortTransfer() bool {
	s.mu.Lock()
	t := s.xfer
	// A transfer whose final reply is decided already is let finish: its
	// client gets that reply, and ABOR its own "no transfer" reply.
	aborted := t != nil && !t.decided
	if aborted {
		t.abort()
	}
	s.mu.Unlock()
	if t != nil {
		<-t.done
	}
	return aborted
}

func (s *session) closePassive() {
	if s.pasv != nil {
		s.pasv.Close()
		s.pasv = nil
	}
}

// transfer is one data transfer running in its own goroutine, so that the
// command goroutine can read ABOR meanwhile.
type transfer struct {
	// Set by the command that starts the transfer.
	path   vpath     // what is sent: a file, or the folder listed
	offset int64     // REST offset of a file
	size   int64     // bytes to send; -1 for a listing
	src    io.Closer // what send reads, closed by finishTransfer; nil for listings
	// tls is the session's TLS config when the data connection is to be
	// TLS (PROT P), else nil.
	tls *tls.Config

	// Set by startTransfer.
	done    chan struct{} // closed after the final reply
	started time.Time

	// Guarded by session.mu.
	aborted bool
	decided bool         // finishTransfer has chosen the final reply
	ln      net.Listener // while waiting for a passive connection
	data    *net.TCPConn // once connected; the TCP connection under TLS
	cancel  func()       // cancels an active-mode dial
	sent    int64        // bytes sent so far, updated per chunk
}

// abort ends the transfer at once; session.mu must be held. The data
// connection is shut down before it is closed: sendFile's sendfile(2) call
// blocks in the kernel, where close does not reach it (Go defers the real
// close, and Close waits for it, until the call returns), but shutdown
// wakes it at once with EPIPE.
func (t *transfer) abort() {
	t.aborted = true
	if t.ln != nil {
		t.ln.Close()
	}
	if t.data != nil {
		t.data.CloseWrite()
		t.data.Close()
	}
	if t.cancel != nil {
		t.cancel()
	}
}

// dataSender writes a transfer's payload to the data connection: a
// *net.TCPConn, or a *tls.Conn over one under PROT P.
type dataSender func(t *transfer, conn net.Conn) (int64, error)

// startTransfer sends the 150 reply and runs send in a new goroutine once
// the data connection is made. The goroutine sends the final reply (226 on
// success) after closing the data connection. The data setup of PASV,
// EPSV, PORT or EPRT is used up. t.src, if not nil, is closed before the
// final reply, whether or not send ran.
func (s *session) startTransfer(t *transfer, opening string, send dataSender) error {
	if s.pasv == nil && !s.active.IsValid() {
		if t.src != nil {
			t.src.Close()
		}
		return s.reply.reply(codeCantOpenData, "Use PORT, PASV or EPSV first.")
	}
	t.done, t.started = make(chan struct{}), time.Now()
	t.tls = s.dataTLS()
	// The transfer owns the passive listener from here on: abort and
	// finishTransfer close it, whatever happens.
	ln, dst := s.pasv, s.active
	s.pasv, s.active = nil, netip.AddrPort{}
	connect := func() (*net.TCPConn, error) {
		if ln != nil {
			return s.acceptData(t, ln.(*net.TCPListener))
		}
		return s.dialData(t, dst)
	}
	s.mu.Lock()
	t.ln = ln
	s.xfer = t
	s.armIdleLocked()
	s.mu.Unlock()
	if err := s.reply.reply(codeFileStatusOK, opening); err != nil {
		s.finishTransfer(t, 0, err)
		return err
	}
	go func() {
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("transfer panic", "panic", p, "stack", string(debug.Stack()))
				s.finishTransfer(t, 0, fmt.Errorf("panic: %v", p))
			}
		}()
		raw, err := connect()
		if err != nil {
			s.finishTransfer(t, 0, fmt.Errorf("%w: %w", errDataConn, err))
			return
		}
		var conn net.Conn = raw
		if t.tls != nil {
			tc, err := s.secureData(t, raw)
			if err != nil {
				raw.Close()
				s.finishTransfer(t, 0, err)
				return
			}
			conn = tc
		}
		n, err := send(t, conn)
		if cerr := s.closeData(conn, raw, err == nil); err == nil && cerr != nil {
			err = fmt.Errorf("%w: %w", errDataWrite, cerr)
		}
		s.finishTransfer(t, n, err)
	}()
	return nil
}

// Errors of a transfer, for its final reply.
var (
	errDataConn  = errors.New("data connection failed")
	errDataWrite = errors.New("data connection write failed")
	errFileRead  = errors.New("file read failed")
)

// finishTransfer sends a transfer's final reply, logs it and lets the next
// command run.
func (s *session) finishTransfer(t *transfer, n int64, err error) {
	if t.src != nil {
		t.src.Close()
	}
	s.mu.Lock()
	aborted := t.aborted
	t.decided = true
	if t.ln != nil {
		t.ln.Close() // never accepted on: free the port
	}
	s.mu.Unlock()
	result := "ok"
	switch {
	case aborted:
		result = "aborted"
		s.reply.reply(codeTransferAborted, "Connection closed; transfer aborted.")
	case errors.Is(err, errDataConn):
		result = "no data connection"
		s.reply.reply(codeCantOpenData, "Failed to establish data connection.")
	case errors.Is(err, errNotResumed):
		// 522, as vsftpd's require_ssl_reuse: a refusal under the TLS
		// rules of RFC 4217, not a passing network failure (425), which
		// clients would retry the same way.
		result = "TLS session not resumed"
		s.reply.reply(codeBadProtocol, "Data connections must resume the TLS session of the control connection.")
	case errors.Is(err, errDataTLS):
		result = "TLS handshake failed"
		s.reply.reply(codeBadProtocol, "TLS handshake on the data connection failed.")
	case errors.Is(err, errFileRead):
		result = "read error"
		s.problem(t.path, err)
		s.reply.reply(codeLocalError, "Error reading the file.")
	case err != nil:
		result = "client gone"
		s.reply.reply(codeTransferAborted, "Connection closed; transfer aborted.")
	default:
		s.reply.reply(codeTransferComplete, "Transfer complete.")
	}
	level := slog.LevelInfo
	if t.size < 0 {
		level = slog.LevelDebug // listings are protocol detail
	}
	attrs := []any{"path", string(t.path), "offset", t.offset, "bytes", n,
		"duration", time.Since(t.started).Round(time.Millisecond), "tls", t.tls != nil, "result", result}
	if err != nil && !aborted {
		attrs = append(attrs, "err", err)
	}
	s.log.Log(context.Background(), level, "transfer", attrs...)

	s.mu.Lock()
	s.xfer = nil
	s.armIdleLocked()
	s.mu.Unlock()
	close(t.done)
}

// acceptData waits for the client's data connection on ln and closes ln,
// freeing the port. A connection from any address but the client's is
// dropped (data-port theft) and the wait goes on.
func (s *session) acceptData(t *transfer, ln *net.TCPListener) (*net.TCPConn, error) {
	defer ln.Close()
	ln.SetDeadline(time.Now().Add(orDefault(s.srv.DataTimeout, DefaultDataTimeout)))
	for {
		c, err := ln.AcceptTCP()
		if err != nil {
			return nil, err
		}
		if from := addrOf(c.RemoteAddr()).Addr(); from != s.remote.Addr() {
			s.log.Warn("data connection from a foreign address refused", "from", from.String())
			c.Close()
			continue
		}
		return s.attachData(t, c)
	}
}

// dialData connects to the address given with PORT or EPRT, from the
// address the client reached us on.
func (s *session) dialData(t *transfer, dst netip.AddrPort) (*net.TCPConn, error) {
	ctx, cancel := contextWithTimeout(orDefault(s.srv.DataTimeout, DefaultDataTimeout))
	defer cancel()
	s.mu.Lock()
	if t.aborted {
		s.mu.Unlock()
		return nil, net.ErrClosed
	}
	t.cancel = cancel
	s.mu.Unlock()
	d := net.Dialer{LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(s.local.Addr(), 0))}
	c, err := d.DialContext(ctx, "tcp", dst.String())
	if err != nil {
		return nil, err
	}
	return s.attachData(t, c.(*net.TCPConn))
}

// attachData records the data connection so that ABOR can close it.
func (s *session) attachData(t *transfer, c *net.TCPConn) (*net.TCPConn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t.ln, t.cancel = nil, nil
	if t.aborted {
		c.Close()
		return nil, net.ErrClosed
	}
	t.data = c
	return c, nil
}

// addSent records progress for STAT and the status page.
func (s *session) addSent(t *transfer, n int64) {
	s.mu.Lock()
	t.sent += n
	s.mu.Unlock()
}

// progress returns a running transfer's description, or "" when idle.
func (s *session) progress() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.xfer
	if t == nil {
		return ""
	}
	if t.size >= 0 {
		return fmt.Sprintf("Transferring %s: %d of %d bytes.", t.path, t.sent, t.size)
	}
	return "Sending a listing: " + strconv.FormatInt(t.sent, 10) + " bytes so far."
}

// info returns a snapshot of the session. It reads only fields that do not
// change after newSession, and the transfer under s.mu.
func (s *session) info() SessionInfo {
	si := SessionInfo{ID: s.id, Remote: s.remote.String(), Since: s.start}
	s.mu.Lock()
	defer s.mu.Unlock()
	si.User, si.Account = s.user, s.account
	si.TLS, si.DataTLS = s.tlsVersion != "", s.protP
	if t := s.xfer; t != nil {
		si.Transfer = &TransferInfo{Path: string(t.path), Listing: t.size < 0, Offset: t.offset, Size: max(t.size, 0),
			Sent: t.sent, Started: t.started}
	}
	return si
}
