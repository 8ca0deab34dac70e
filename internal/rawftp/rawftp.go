// Package rawftp is the FTP client of the project's own tools (the bench
// against vsftpd, the soak): raw control and data sockets, doing only what
// players do and checking every reply, so that a server that answers
// wrongly fails the run instead of winning it. It is not a general FTP
// client; the tests use real clients (curl, lftp, ffmpeg, ftplib) and
// their own small ones.
package rawftp

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Timeout bounds every control exchange: a reply, or a command's write.
const Timeout = time.Minute

// ErrReply is wrapped by the error for a reply with a code the client did
// not expect.
var ErrReply = errors.New("unexpected reply")

// Conn is one control connection, in clear or, after StartTLS, over TLS.
type Conn struct {
	// TCP is the control connection, for what the methods do not do (such
	// as urgent data).
	TCP *net.TCPConn
	// Host is the server's IP address: passive data connections go there.
	Host string
	// EPSV makes OpenData use EPSV rather than PASV.
	EPSV bool

	c net.Conn // what commands go over: TCP, or the TLS connection over it
	r *bufio.Reader
}

// maxReplyLine bounds a reply line.
const maxReplyLine = 4096

// Dial connects to a control address and reads the 220 greeting.
func Dial(ctx context.Context, addr string) (*Conn, error) {
	return DialFrom(ctx, addr, netip.Addr{})
}

// DialFrom is Dial from the local address local (any when it is zero).
func DialFrom(ctx context.Context, addr string, local netip.Addr) (*Conn, error) {
	var d net.Dialer
	if local.IsValid() {
		d.LocalAddr = &net.TCPAddr{IP: local.AsSlice()}
	}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	host, _, _ := net.SplitHostPort(addr)
	cl := &Conn{TCP: c.(*net.TCPConn), Host: host, c: c, r: bufio.NewReaderSize(c, maxReplyLine)}
	if _, err := cl.Expect(220); err != nil {
		c.Close()
		return nil, fmt.Errorf("greeting: %w", err)
	}
	return cl, nil
}

// StartTLS sends AUTH TLS and runs the TLS handshake on the control
// connection with conf; the commands that follow go over TLS. It returns
// the connection's TLS state.
func (c *Conn) StartTLS(ctx context.Context, conf *tls.Config) (tls.ConnectionState, error) {
	if _, err := c.CmdExpect("AUTH TLS", 234); err != nil {
		return tls.ConnectionState{}, err
	}
	tc := tls.Client(c.TCP, conf)
	hctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		return tls.ConnectionState{}, fmt.Errorf("TLS handshake on the control connection: %w", err)
	}
	c.c, c.r = tc, bufio.NewReaderSize(tc, maxReplyLine)
	return tc.ConnectionState(), nil
}

// Close closes the control connection without QUIT.
func (c *Conn) Close() error { return c.c.Close() }

// Login logs in anonymously with password, which a server that needs none
// (vsftpd with no_anon_password) does not ask for: it answers USER with
// 230 at once.
func (c *Conn) Login(password string) error { return c.LoginAs("anonymous", password) }

// LoginAs logs in as user with password; a server that needs no password
// answers USER with 230 at once.
func (c *Conn) LoginAs(user, password string) error {
	code, text, err := c.Cmd("USER " + user)
	if err != nil {
		return err
	}
	switch code {
	case 230:
		return nil
	case 331:
		_, err := c.CmdExpect("PASS "+password, 230)
		return err
	}
	return fmt.Errorf("USER: %w", &ReplyError{Code: code, Want: 331, Text: text})
}

// Quit sends QUIT, reads the 221 and closes the connection.
func (c *Conn) Quit() error {
	_, err := c.CmdExpect("QUIT", 221)
	c.c.Close()
	return err
}

// Send writes one command line.
func (c *Conn) Send(line string) error {
	c.c.SetWriteDeadline(time.Now().Add(Timeout))
	if _, err := io.WriteString(c.c, line+"\r\n"); err != nil {
		return fmt.Errorf("sending %s: %w", Verb(line), err)
	}
	return nil
}

// Reply reads one reply, a multi-line one whole, and returns its code and
// its last line. A reply that is not "DDD text" ending in CRLF, or a line
// longer than 4 KiB, is an error.
func (c *Conn) Reply() (int, string, error) {
	c.c.SetReadDeadline(time.Now().Add(Timeout))
	return readReply(c.r)
}

// readReply reads one reply from r (see Conn.Reply).
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

// ReplyError is a reply with a code the client did not expect. It wraps
// ErrReply.
type ReplyError struct {
	Code, Want int
	Text       string // the reply's last line
}

func (e *ReplyError) Error() string {
	return fmt.Sprintf("%v %q, want %d", ErrReply, e.Text, e.Want)
}

func (e *ReplyError) Unwrap() error { return ErrReply }

// ReplyCode returns the code of the unexpected reply err holds, or 0.
func ReplyCode(err error) int {
	var re *ReplyError
	if errors.As(err, &re) {
		return re.Code
	}
	return 0
}

// Expect reads a reply and fails with a *ReplyError unless it has the
// code.
func (c *Conn) Expect(code int) (string, error) {
	got, text, err := c.Reply()
	if err != nil {
		return text, err
	}
	if got != code {
		return text, &ReplyError{Code: got, Want: code, Text: text}
	}
	return text, nil
}

// Cmd sends a command and reads its reply.
func (c *Conn) Cmd(line string) (int, string, error) {
	if err := c.Send(line); err != nil {
		return 0, "", err
	}
	return c.Reply()
}

// CmdExpect sends a command and fails unless the reply has the code.
func (c *Conn) CmdExpect(line string, code int) (string, error) {
	if err := c.Send(line); err != nil {
		return "", err
	}
	text, err := c.Expect(code)
	if err != nil {
		return text, fmt.Errorf("%s: %w", Verb(line), err)
	}
	return text, nil
}

// Verb returns the first word of a command line.
func Verb(line string) string {
	v, _, _ := strings.Cut(line, " ")
	return v
}

var (
	pasvRe = regexp.MustCompile(`\((\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3})\)`)
	epsvRe = regexp.MustCompile(`\(\|\|\|(\d+)\|\)`)
)

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

// OpenData sends PASV (or EPSV, see Conn.EPSV) and connects to the data
// port before the transfer command, as players do. A PASV address other
// than the control connection's is an error.
func (c *Conn) OpenData(ctx context.Context) (*net.TCPConn, error) {
	var port int
	if c.EPSV {
		text, err := c.CmdExpect("EPSV", 229)
		if err != nil {
			return nil, err
		}
		m := epsvRe.FindStringSubmatch(text)
		if m == nil {
			return nil, fmt.Errorf("EPSV: no port in %q", text)
		}
		port, _ = strconv.Atoi(m[1])
	} else {
		text, err := c.CmdExpect("PASV", 227)
		if err != nil {
			return nil, err
		}
		ip, p, err := parsePASV(text)
		if err != nil {
			return nil, err
		}
		if ip != c.Host {
			return nil, fmt.Errorf("PASV: address %s, want the control address %s", ip, c.Host)
		}
		port = p
	}
	var d net.Dialer
	dc, err := d.DialContext(ctx, "tcp", net.JoinHostPort(c.Host, strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("data connection: %w", err)
	}
	return dc.(*net.TCPConn), nil
}

// TransferStart sends a transfer command (RETR, LIST, ...) and reads its
// 150 (or 125).
func (c *Conn) TransferStart(line string) error {
	code, text, err := c.Cmd(line)
	if err != nil {
		return err
	}
	if code != 150 && code != 125 {
		return fmt.Errorf("%s: %w %q, want 150", Verb(line), ErrReply, text)
	}
	return nil
}

// AbortReplies reads the two replies that follow ABOR of a transfer: the
// transfer's own final reply (426 when ABOR cut it, 226 when it had ended
// first), then ABOR's (226, or 225 when there was nothing left to cut).
// Reading only the first would leave the second to be taken for the reply
// to the next command.
func (c *Conn) AbortReplies() error {
	first, text, err := c.Reply()
	if err != nil {
		return fmt.Errorf("ABOR: %w", err)
	}
	if first != 226 && first != 426 {
		return fmt.Errorf("ABOR: transfer's reply %w %q, want 226 or 426", ErrReply, text)
	}
	second, text, err := c.Reply()
	if err != nil {
		return fmt.Errorf("ABOR: %w", err)
	}
	if second != 225 && second != 226 {
		return fmt.Errorf("ABOR: %w %q after %d, want 225 or 226", ErrReply, text, first)
	}
	return nil
}
