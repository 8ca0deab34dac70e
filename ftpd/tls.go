package ftpd

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// FTPS: explicit (RFC 4217: AUTH TLS, PBSZ, PROT, CCC) and implicit
// (ServeTLS). The control connection becomes a *tls.Conn over the TCP
// connection, which stays the session's raw connection for deadlines and
// kill. Data connections under PROT P are TLS too, with this side as the
// TLS server whichever side connected (RFC 4217), and must resume the
// control connection's session.

// Errors of TLS on a data connection, for the transfer's final reply.
var (
	// errDataTLS means the TLS handshake on the data connection failed.
	errDataTLS = errors.New("TLS handshake on the data connection failed")
	// errNotResumed means a data connection made a full TLS handshake
	// instead of resuming the control connection's session: it may not
	// be the client's (a stolen passive port), so it gets nothing.
	errNotResumed = errors.New("data connection did not resume the control connection's TLS session")
)

// tlsCloseWait bounds the wait, after a file or listing has been sent over
// TLS, for the client to close its end of the data connection.
const tlsCloseWait = 5 * time.Second

// handshakeTimeout is the bound on one TLS handshake, its default applied.
func (srv *Server) handshakeTimeout() time.Duration {
	return orDefault(srv.HandshakeTimeout, DefaultHandshakeTimeout)
}

// sessionTLSConfig returns the TLS config of one session: a clone of the
// Server's with a random session-ticket key of its own. Tickets issued on
// the session's control connection are then the only ones its data
// connections can resume, in TLS 1.2 (RFC 5077 tickets) as in TLS 1.3
// (PSKs from NewSessionTicket). Hooks that would issue or take tickets or
// configs of their own are cleared, as they would defeat that.
func sessionTLSConfig(base *tls.Config) *tls.Config {
	c := base.Clone()
	c.SessionTicketsDisabled = false
	c.GetConfigForClient = nil
	c.WrapSession, c.UnwrapSession = nil, nil
	var key [32]byte
	rand.Read(key[:]) // never fails (crypto/rand, Go 1.24 on)
	c.SetSessionTicketKeys([][32]byte{key})
	return c
}

// startTLS makes the control connection TLS: the server side of the
// handshake over the raw connection, within HandshakeTimeout. On failure
// the raw connection is unusable and the session must end.
func (s *session) startTLS() error {
	conf := sessionTLSConfig(s.srv.TLSConfig)
	tc := tls.Server(s.raw, conf)
	ctx, cancel := context.WithTimeout(s.ctx, s.srv.handshakeTimeout())
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("TLS handshake: %w", err)
	}
	cs := tc.ConnectionState()
	s.tlsConf, s.conn = conf, tc
	s.r = bufio.NewReaderSize(tc, maxLine)
	s.reply.setConn(tc)
	s.mu.Lock()
	s.tlsVersion = tls.VersionName(cs.Version)
	s.mu.Unlock()
	s.log.Debug("TLS on", "version", tls.VersionName(cs.Version), "cipher", tls.CipherSuiteName(cs.CipherSuite))
	return nil
}

// errTLSFailed ends a session whose TLS handshake failed.
var errTLSFailed = errors.New("TLS handshake failed")

// cmdAUTH implements AUTH TLS (RFC 4217), with AUTH SSL as its alias.
func (s *session) cmdAUTH(arg string) error {
	if s.tlsConf != nil {
		return s.reply.reply(codeBadSequence, "Already using TLS.")
	}
	switch strings.ToUpper(strings.TrimSpace(arg)) {
	case "TLS", "SSL":
	case "":
		return s.reply.reply(codeArgSyntaxError, "AUTH needs a mechanism: AUTH TLS.")
	default:
		return s.reply.reply(codeParamNotSupported, "Only AUTH TLS is supported.")
	}
	if s.r.Buffered() > 0 {
		// The client sent more before our 234: whatever it is, it came in
		// clear text and must not be taken as sent under TLS (the STARTTLS
		// command injection of CVE-2011-0411).
		s.log.Debug("data after AUTH before its reply; ending the session")
		s.reply.reply(codeUnavailable, "Send nothing after AUTH until its reply.")
		return errTLSFailed
	}
	if err := s.reply.reply(codeAuthOK, "Proceed with the TLS handshake."); err != nil {
		return err
	}
	if err := s.startTLS(); err != nil {
		s.log.Debug("TLS handshake failed after AUTH", "err", err)
		return errTLSFailed
	}
	return nil
}

// cmdPBSZ implements PBSZ (RFC 2228, RFC 4217): TLS has no buffer size,
// so any number is answered with the size that applies, 0.
func (s *session) cmdPBSZ(arg string) error {
	if s.tlsConf == nil {
		return s.reply.reply(codeBadSequence, "PBSZ needs AUTH TLS first.")
	}
	if _, err := strconv.ParseUint(strings.TrimSpace(arg), 10, 32); err != nil {
		return s.reply.reply(codeArgSyntaxError, "PBSZ needs a number: PBSZ 0.")
	}
	s.pbsz = true
	return s.reply.reply(codeOK, "PBSZ=0")
}

// cmdPROT implements PROT (RFC 2228, RFC 4217): P makes data connections
// TLS, C leaves them clear; S and E have no meaning with TLS.
func (s *session) cmdPROT(arg string) error {
	if !s.pbsz {
		return s.reply.reply(codeBadSequence, "PROT needs PBSZ first.")
	}
	switch strings.ToUpper(strings.TrimSpace(arg)) {
	case "P":
		s.setProt(true)
		return s.reply.reply(codeOK, "PROT now Private.")
	case "C":
		s.setProt(false)
		return s.reply.reply(codeOK, "PROT now Clear.")
	case "S", "E":
		return s.reply.reply(codeProtNotSupported, "PROT "+strings.ToUpper(strings.TrimSpace(arg))+" is not supported with TLS; use P or C.")
	case "":
		return s.reply.reply(codeArgSyntaxError, "PROT needs a level: P or C.")
	}
	return s.reply.reply(codeParamNotSupported, "Unknown PROT level; use P or C.")
}

// setProt records the PROT level for the next transfers and for info.
func (s *session) setProt(private bool) {
	s.mu.Lock()
	s.protP = private
	s.mu.Unlock()
}

// cmdCCC refuses to clear the control connection (RFC 4217): it stays
// encrypted for the whole session.
func (s *session) cmdCCC(arg string) error {
	return s.reply.reply(codeProtDenied, "Denied by policy: the control connection stays encrypted.")
}

// dataTLS returns the TLS config for the next data connection, or nil if
// it is to be clear (PROT C, or no TLS).
func (s *session) dataTLS() *tls.Config {
	if !s.protP { // written by this goroutine only
		return nil
	}
	return s.tlsConf
}

// secureData runs the server side of the TLS handshake on a data
// connection, within HandshakeTimeout, and refuses a connection that did
// not resume the control connection's session (vsftpd's
// require_ssl_reuse): whoever connected without the session's ticket is
// not the client, even from the client's address. ABOR closes raw, which
// ends the handshake at once.
func (s *session) secureData(t *transfer, raw *net.TCPConn) (*tls.Conn, error) {
	tc := tls.Server(raw, t.tls)
	ctx, cancel := context.WithTimeout(context.Background(), s.srv.handshakeTimeout())
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		s.log.Debug("TLS handshake on the data connection failed", "err", err)
		return nil, fmt.Errorf("%w: %w", errDataTLS, err)
	}
	if !tc.ConnectionState().DidResume {
		s.log.Info("data connection refused: it did not resume the TLS session of the control connection",
			"from", addrOf(raw.RemoteAddr()).String())
		return nil, errNotResumed
	}
	return tc, nil
}

// closeData closes a transfer's data connection. A TLS one that carried
// all its data is ended as vsftpd ends it: close_notify, so the client
// can tell the end from a cut, and FIN; then the client is given
// tlsCloseWait to close its end, as clients do on close_notify. Closing at
// once could reset the connection if the client's close_notify reached
// us first, and a reset drops what is still queued for the client.
func (s *session) closeData(conn net.Conn, raw *net.TCPConn, complete bool) error {
	tc, ok := conn.(*tls.Conn)
	if !ok || !complete {
		return raw.Close()
	}
	err := tc.CloseWrite()
	raw.CloseWrite()
	raw.SetReadDeadline(time.Now().Add(tlsCloseWait))
	_, rerr := io.CopyN(io.Discard, raw, 64<<10)
	var ne net.Error
	if errors.As(rerr, &ne) && ne.Timeout() {
		s.log.Debug("client did not close the TLS data connection", "waited", tlsCloseWait)
	}
	return errors.Join(err, raw.Close())
}
