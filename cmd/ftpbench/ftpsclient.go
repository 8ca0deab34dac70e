package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/rawftp"
)

// The FTPS client of the bench: explicit FTPS (RFC 4217) over raw
// sockets, the same code for both servers. AUTH TLS on the control
// connection, then PBSZ 0 and PROT P, and every data connection a TLS
// client that resumes the control connection's session: each client has
// its own tls.ClientSessionCache, and a data connection that made a full
// handshake fails the run, as both servers would refuse it anyway
// (vsftpd's require_ssl_reuse, mediaftpd's rule). Like the plain client
// (client.go), it checks every reply code.

// ftpsConn is one FTPS control connection.
type ftpsConn struct {
	raw  *net.TCPConn
	conn net.Conn // raw, and the *tls.Conn over it after AUTH TLS
	r    *bufio.Reader
	conf *tls.Config // shared by the control and data connections
	host string      // the server's address: data connections go there
	// State is the control connection's TLS state after AUTH TLS.
	State tls.ConnectionState
}

// ftpsClientConfig returns the TLS config of one client: TLS 1.3 only,
// the bench's certificate as the one trusted root, and a session cache of
// its own, so that its data connections resume its control connection's
// session and no other client's.
func ftpsClientConfig(roots *x509.CertPool) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		MaxVersion: tls.VersionTLS13,
		RootCAs:    roots,
		// Sessions are cached under the server name; without one Go
		// would use the address, which differs for each data port.
		ServerName:         certHost,
		ClientSessionCache: tls.NewLRUClientSessionCache(4),
	}
}

// dialFTPS connects to addr from local (any address if zero), reads the
// greeting and switches the control connection to TLS with AUTH TLS.
func dialFTPS(ctx context.Context, addr string, local netip.Addr, conf *tls.Config) (*ftpsConn, error) {
	d := net.Dialer{Timeout: opTimeout}
	if local.IsValid() {
		d.LocalAddr = &net.TCPAddr{IP: local.AsSlice()}
	}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	host, _, _ := net.SplitHostPort(addr)
	f := &ftpsConn{raw: c.(*net.TCPConn), conn: c, conf: conf, host: host}
	f.r = bufio.NewReaderSize(c, 4096)
	if _, err := f.expect(220); err != nil {
		c.Close()
		return nil, fmt.Errorf("greeting: %w", err)
	}
	if _, err := f.cmdExpect("AUTH TLS", 234); err != nil {
		c.Close()
		return nil, err
	}
	tc := tls.Client(c, conf)
	hctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("TLS handshake on the control connection: %w", err)
	}
	f.conn, f.State = tc, tc.ConnectionState()
	f.r = bufio.NewReaderSize(tc, 4096)
	return f, nil
}

// Close closes the control connection without QUIT.
func (f *ftpsConn) Close() error { return f.conn.Close() }

// send writes one command line.
func (f *ftpsConn) send(line string) error {
	f.conn.SetWriteDeadline(time.Now().Add(opTimeout))
	if _, err := io.WriteString(f.conn, line+"\r\n"); err != nil {
		return fmt.Errorf("sending %s: %w", rawftp.Verb(line), err)
	}
	return nil
}

// reply reads one reply (see readReply).
func (f *ftpsConn) reply() (int, string, error) {
	f.conn.SetReadDeadline(time.Now().Add(opTimeout))
	return readReply(f.r)
}

// expect reads a reply and fails unless it has the code, with a
// *replyError if the reply has another.
func (f *ftpsConn) expect(code int) (string, error) {
	got, text, err := f.reply()
	if err != nil {
		return text, err
	}
	if got != code {
		return text, &replyError{code: got, text: text, want: code}
	}
	return text, nil
}

// replyError is a reply with a code the client did not expect.
type replyError struct {
	code, want int
	text       string
}

func (e *replyError) Error() string {
	return fmt.Sprintf("%v %q, want %d", rawftp.ErrReply, e.text, e.want)
}

func (e *replyError) Unwrap() error { return rawftp.ErrReply }

// replyCode returns the code of the unexpected reply err reports, or 0.
func replyCode(err error) int {
	var re *replyError
	if errors.As(err, &re) {
		return re.code
	}
	return 0
}

// cmd sends a command and reads its reply.
func (f *ftpsConn) cmd(line string) (int, string, error) {
	if err := f.send(line); err != nil {
		return 0, "", err
	}
	return f.reply()
}

// cmdExpect sends a command and fails unless the reply has the code.
func (f *ftpsConn) cmdExpect(line string, code int) (string, error) {
	if err := f.send(line); err != nil {
		return "", err
	}
	text, err := f.expect(code)
	if err != nil {
		return text, fmt.Errorf("%s: %w", rawftp.Verb(line), err)
	}
	return text, nil
}

// login logs in as user with password. A server that needs no password
// (vsftpd's anonymous with no_anon_password) answers USER with 230.
func (f *ftpsConn) login(user, password string) error {
	code, text, err := f.cmd("USER " + user)
	if err != nil {
		return err
	}
	switch code {
	case 230:
		return nil
	case 331:
		_, err := f.cmdExpect("PASS "+password, 230)
		return err
	}
	return fmt.Errorf("USER: %w %q", rawftp.ErrReply, text)
}

// protect asks for TLS on the data connections: PBSZ 0, PROT P.
func (f *ftpsConn) protect() error {
	if _, err := f.cmdExpect("PBSZ 0", 200); err != nil {
		return err
	}
	_, err := f.cmdExpect("PROT P", 200)
	return err
}

// quit sends QUIT, reads the 221 and closes the connection.
func (f *ftpsConn) quit() error {
	_, err := f.cmdExpect("QUIT", 221)
	f.conn.Close()
	return err
}

// openData sends PASV and connects to the data port, still in clear: the
// TLS handshake comes after the transfer command (see startRetr).
func (f *ftpsConn) openData(ctx context.Context) (*net.TCPConn, error) {
	text, err := f.cmdExpect("PASV", 227)
	if err != nil {
		return nil, err
	}
	ip, port, err := parsePASV(text)
	if err != nil {
		return nil, err
	}
	if ip != f.host {
		return nil, fmt.Errorf("PASV: address %s, want the control address %s", ip, f.host)
	}
	d := net.Dialer{Timeout: opTimeout}
	dc, err := d.DialContext(ctx, "tcp", net.JoinHostPort(f.host, strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("data connection: %w", err)
	}
	return dc.(*net.TCPConn), nil
}

// errNotResumed means a data connection made a full TLS handshake: the
// client did not resume the control connection's session.
var errNotResumed = errors.New("the data connection did not resume the control connection's TLS session")

// startRetr sends a transfer command over the data connection raw made by
// openData, runs the TLS handshake on raw (servers send their 150 before
// it, or after: either way it waits in the control socket), and reads the
// 150. The data connection must have resumed the control session.
func (f *ftpsConn) startRetr(ctx context.Context, line string, raw *net.TCPConn) (*tls.Conn, error) {
	if err := f.send(line); err != nil {
		return nil, err
	}
	tc := tls.Client(raw, f.conf)
	hctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	herr := tc.HandshakeContext(hctx)
	if herr != nil {
		// The reply says why, if the server refused.
		code, text, err := f.reply()
		return nil, fmt.Errorf("TLS handshake on the data connection: %w (reply %d %q, %v)", herr, code, text, err)
	}
	code, text, err := f.reply()
	if err != nil {
		return nil, err
	}
	if code != 150 && code != 125 {
		return nil, fmt.Errorf("%s: %w %q, want 150", rawftp.Verb(line), rawftp.ErrReply, text)
	}
	if !tc.ConnectionState().DidResume {
		return nil, errNotResumed
	}
	return tc, nil
}

// abortReplies reads the two replies that follow ABOR of a transfer whose
// data connection the client has closed (see rawftp.Conn.AbortReplies).
func (f *ftpsConn) abortReplies() error {
	first, text, err := f.reply()
	if err != nil {
		return fmt.Errorf("ABOR: %w", err)
	}
	if first != 226 && first != 426 {
		return fmt.Errorf("ABOR: transfer's reply %w %q, want 226 or 426", rawftp.ErrReply, text)
	}
	second, text, err := f.reply()
	if err != nil {
		return fmt.Errorf("ABOR: %w", err)
	}
	if second != 225 && second != 226 {
		return fmt.Errorf("ABOR: %w %q after %d, want 225 or 226", rawftp.ErrReply, text, first)
	}
	return nil
}

// drainTLS reads a TLS data connection to its end (the server's
// close_notify) with buf, and returns the bytes read. Go's TLS client
// returns at most a record (16 KiB) per Read, whatever buf's size; the
// large buffer saves nothing there but costs nothing either.
func drainTLS(tc *tls.Conn, buf []byte) (int64, error) {
	tc.SetReadDeadline(time.Now().Add(opTimeout))
	var n int64
	for {
		k, err := tc.Read(buf)
		n += int64(k)
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// readReply reads one reply, a multi-line one whole, and returns its code
// and its last line, as rawftp.Conn.Reply does. A reply that is not "DDD
// text" ending in CRLF is an error. Lines are bounded by r's buffer.
func readReply(r *bufio.Reader) (int, string, error) {
	line, err := readLine(r)
	if err != nil {
		return 0, line, fmt.Errorf("reading a reply: %w", err)
	}
	code, err := strconv.Atoi(line[:min(3, len(line))])
	if err != nil || len(line) < 4 || code < 100 || code > 599 || (line[3] != ' ' && line[3] != '-') {
		return 0, line, fmt.Errorf("malformed reply %q", line)
	}
	if line[3] == '-' {
		end := line[:3] + " "
		for !strings.HasPrefix(line, end) {
			if line, err = readLine(r); err != nil {
				return 0, line, fmt.Errorf("reading a reply: %w", err)
			}
		}
	}
	if !strings.HasSuffix(line, "\r\n") {
		return 0, line, fmt.Errorf("reply %q does not end in CRLF", line)
	}
	return code, strings.TrimRight(line, "\r\n"), nil
}

// readLine reads a line up to LF, refusing one longer than r's buffer.
func readLine(r *bufio.Reader) (string, error) {
	b, err := r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return "", errors.New("reply line too long")
	}
	return string(b), err
}

var pasvRe = regexp.MustCompile(`\((\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3})\)`)

// parsePASV returns the address and port of a 227 reply's text.
func parsePASV(text string) (ip string, port int, err error) {
	m := pasvRe.FindStringSubmatch(text)
	if m == nil {
		return "", 0, fmt.Errorf("PASV: no address in %q", text)
	}
	var n [6]int
	for i := range n {
		if n[i], _ = strconv.Atoi(m[i+1]); n[i] > 255 {
			return "", 0, fmt.Errorf("PASV: bad address in %q", text)
		}
	}
	return fmt.Sprintf("%d.%d.%d.%d", n[0], n[1], n[2], n[3]), n[4]<<8 | n[5], nil
}
