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
	"errors"
	"fmt"
	"net"
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

// Conn is one control connection.
type Conn struct {
	// TCP is the control connection, for what the methods do not do (such
	// as urgent data).
	TCP *net.TCPConn
	// Host is the server's IP address: passive data connections go there.
	Host string
	// EPSV makes OpenData use EPSV rather than PASV.
	EPSV bool

	r *bufio.Reader
}

// Dial connects to a control address and reads the 220 greeting.
func Dial(ctx context.Context, addr string) (*Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	host, _, _ := net.SplitHostPort(addr)
	cl := &Conn{TCP: c.(*net.TCPConn), Host: host, r: bufio.NewReaderSize(c, 4096)}
	if _, err := cl.Expect(220); err != nil {
		c.Close()
		return nil, fmt.Errorf("greeting: %w", err)
	}
	return cl, nil
}

// Close closes the control connection without QUIT.
func (c *Conn) Close() error { return c.TCP.Close() }

// Login logs in anonymously with password, which a server that needs none
// (vsftpd with no_anon_password) does not ask for: it answers USER with
// 230 at once.
func (c *Conn) Login(password string) error {
	code, text, err := c.Cmd("USER anonymous")
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
	return fmt.Errorf("USER: %w %q", ErrReply, text)
}

// Quit sends QUIT, reads the 221 and closes the connection.
func (c *Conn) Quit() error {
	_, err := c.CmdExpect("QUIT", 221)
	c.TCP.Close()
	return err
}

// Send writes one command line.
func (c *Conn) Send(line string) error {
	c.TCP.SetWriteDeadline(time.Now().Add(Timeout))
	if _, err := c.TCP.Write([]byte(line + "\r\n")); err != nil {
		return fmt.Errorf("sending %s: %w", Verb(line), err)
	}
	return nil
}

// Reply reads one reply, a multi-line one whole, and returns its code and
// its last line. A reply that is not "DDD text" ending in CRLF is an error.
func (c *Conn) Reply() (int, string, error) {
	c.TCP.SetReadDeadline(time.Now().Add(Timeout))
	line, err := c.r.ReadString('\n')
	if err != nil {
		return 0, line, fmt.Errorf("reading a reply: %w", err)
	}
	code, err := strconv.Atoi(line[:min(3, len(line))])
	if err != nil || len(line) < 4 || code < 100 || code > 599 {
		return 0, line, fmt.Errorf("malformed reply %q", line)
	}
	if line[3] == '-' {
		end := line[:3] + " "
		for !strings.HasPrefix(line, end) {
			if line, err = c.r.ReadString('\n'); err != nil {
				return 0, line, fmt.Errorf("reading a reply: %w", err)
			}
		}
	}
	if !strings.HasSuffix(line, "\r\n") {
		return 0, line, fmt.Errorf("reply %q does not end in CRLF", line)
	}
	return code, strings.TrimRight(line, "\r\n"), nil
}

// Expect reads a reply and fails unless it has the code.
func (c *Conn) Expect(code int) (string, error) {
	got, text, err := c.Reply()
	if err != nil {
		return text, err
	}
	if got != code {
		return text, fmt.Errorf("%w %q, want %d", ErrReply, text, code)
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
	pasvRe = regexp.MustCompile(`\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)`)
	epsvRe = regexp.MustCompile(`\(\|\|\|(\d+)\|\)`)
)

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
		m := pasvRe.FindStringSubmatch(text)
		if m == nil {
			return nil, fmt.Errorf("PASV: no address in %q", text)
		}
		if ip := strings.Join(m[1:5], "."); ip != c.Host {
			return nil, fmt.Errorf("PASV: address %s, want the control address %s", ip, c.Host)
		}
		p1, _ := strconv.Atoi(m[5])
		p2, _ := strconv.Atoi(m[6])
		port = p1<<8 | p2
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
