package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The soak's FTP client: raw control and data sockets, doing what players
// do (ffmpeg, VLC, Kodi), and checking every reply code.

// opTimeout bounds every control exchange and every data read. The
// server's stall timeout is longer, so a timeout here is the server's
// fault.
const opTimeout = time.Minute

// errReply is a reply with a code the client did not expect.
var errReply = errors.New("unexpected reply")

// conn is one control connection.
type conn struct {
	c    *net.TCPConn
	r    *bufio.Reader
	host string // the server's IP, for passive data addresses
	epsv bool   // use EPSV rather than PASV
}

// dial connects to a control address and reads the greeting.
func dial(ctx context.Context, addr string) (*conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	host, _, _ := net.SplitHostPort(addr)
	cl := &conn{c: c.(*net.TCPConn), r: bufio.NewReaderSize(c, 4096), host: host}
	if _, err := cl.expect(220); err != nil {
		c.Close()
		return nil, fmt.Errorf("greeting: %w", err)
	}
	return cl, nil
}

// Close closes the control connection without QUIT.
func (c *conn) Close() error { return c.c.Close() }

// login sends USER and PASS and TYPE I.
func (c *conn) login() error {
	code, text, err := c.cmd("USER anonymous")
	if err != nil {
		return err
	}
	switch code {
	case 230:
	case 331:
		if _, err := c.cmdExpect("PASS soak@example.org", 230); err != nil {
			return err
		}
	default:
		return fmt.Errorf("USER: %w %q", errReply, text)
	}
	_, err = c.cmdExpect("TYPE I", 200)
	return err
}

// quit sends QUIT, reads the 221 and closes the connection.
func (c *conn) quit() error {
	_, err := c.cmdExpect("QUIT", 221)
	c.c.Close()
	return err
}

// send writes one command line.
func (c *conn) send(line string) error {
	c.c.SetWriteDeadline(time.Now().Add(opTimeout))
	if _, err := c.c.Write([]byte(line + "\r\n")); err != nil {
		return fmt.Errorf("sending %s: %w", verbOf(line), err)
	}
	return nil
}

// reply reads one reply, multi-line ones whole, and returns its code and
// its last line.
func (c *conn) reply() (int, string, error) {
	c.c.SetReadDeadline(time.Now().Add(opTimeout))
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

// expect reads a reply and fails unless it has the code.
func (c *conn) expect(code int) (string, error) {
	got, text, err := c.reply()
	if err != nil {
		return text, err
	}
	if got != code {
		return text, fmt.Errorf("%w %q, want %d", errReply, text, code)
	}
	return text, nil
}

// cmd sends a command and reads its reply.
func (c *conn) cmd(line string) (int, string, error) {
	if err := c.send(line); err != nil {
		return 0, "", err
	}
	return c.reply()
}

// cmdExpect sends a command and fails unless the reply has the code.
func (c *conn) cmdExpect(line string, code int) (string, error) {
	if err := c.send(line); err != nil {
		return "", err
	}
	text, err := c.expect(code)
	if err != nil {
		return text, fmt.Errorf("%s: %w", verbOf(line), err)
	}
	return text, nil
}

func verbOf(line string) string {
	v, _, _ := strings.Cut(line, " ")
	return v
}

var (
	pasvRe = regexp.MustCompile(`\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)`)
	epsvRe = regexp.MustCompile(`\(\|\|\|(\d+)\|\)`)
)

// openData sends PASV or EPSV and connects to the data port, before the
// transfer command, as players do.
func (c *conn) openData(ctx context.Context) (*net.TCPConn, error) {
	var port int
	if c.epsv {
		text, err := c.cmdExpect("EPSV", 229)
		if err != nil {
			return nil, err
		}
		m := epsvRe.FindStringSubmatch(text)
		if m == nil {
			return nil, fmt.Errorf("EPSV: no port in %q", text)
		}
		port, _ = strconv.Atoi(m[1])
	} else {
		text, err := c.cmdExpect("PASV", 227)
		if err != nil {
			return nil, err
		}
		m := pasvRe.FindStringSubmatch(text)
		if m == nil {
			return nil, fmt.Errorf("PASV: no address in %q", text)
		}
		if ip := strings.Join(m[1:5], "."); ip != c.host {
			return nil, fmt.Errorf("PASV: address %s, want the control address %s", ip, c.host)
		}
		p1, _ := strconv.Atoi(m[5])
		p2, _ := strconv.Atoi(m[6])
		port = p1<<8 | p2
	}
	var d net.Dialer
	dc, err := d.DialContext(ctx, "tcp", net.JoinHostPort(c.host, strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("data connection: %w", err)
	}
	return dc.(*net.TCPConn), nil
}

// transferStart sends a transfer command and reads its 150 (or 125).
func (c *conn) transferStart(line string) error {
	code, text, err := c.cmd(line)
	if err != nil {
		return err
	}
	if code != 150 && code != 125 {
		return fmt.Errorf("%s: %w %q, want 150", verbOf(line), errReply, text)
	}
	return nil
}

// abortMode is how a client ends a transfer early.
type abortMode int

const (
	// abortClose closes the data connection, then sends ABOR: ffmpeg.
	abortClose abortMode = iota
	// abortPlain sends ABOR with the data connection still open, and
	// closes it after the replies.
	abortPlain
	// abortUrgent sends IAC IP, IAC as TCP urgent data, then DM ABOR, as
	// BSD and inetutils ftp do (RFC 959 4.1.3), with the data connection
	// still open.
	abortUrgent
)

func (m abortMode) String() string {
	return [...]string{"close+ABOR", "ABOR", "urgent ABOR"}[m]
}

// abort ends a running transfer. The transfer's own final reply (226 if
// it was complete, 426 if cut) comes first, then ABOR's (226 if it cut
// one, 225 if there was none left to cut): always two replies.
func (c *conn) abort(data *net.TCPConn, mode abortMode) error {
	var err error
	switch mode {
	case abortClose:
		data.Close()
		err = c.send("ABOR")
	case abortPlain:
		err = c.send("ABOR")
	case abortUrgent:
		err = c.sendUrgentAbort()
	}
	defer data.Close()
	if err != nil {
		return err
	}
	first, text, err := c.reply()
	if err != nil {
		return fmt.Errorf("ABOR: %w", err)
	}
	if first != 226 && first != 426 {
		return fmt.Errorf("ABOR: transfer's reply %w %q, want 226 or 426", errReply, text)
	}
	second, text, err := c.reply()
	if err != nil {
		return fmt.Errorf("ABOR: %w", err)
	}
	if second != 225 && second != 226 {
		return fmt.Errorf("ABOR: %w %q after %d, want 225 or 226", errReply, text, first)
	}
	return nil
}

// sendUrgentAbort sends IAC IP, then IAC alone as urgent data (MSG_OOB),
// then DM ABOR CRLF.
func (c *conn) sendUrgentAbort() error {
	c.c.SetWriteDeadline(time.Now().Add(opTimeout))
	if _, err := c.c.Write([]byte{0xff, 0xf4}); err != nil {
		return fmt.Errorf("sending IAC IP: %w", err)
	}
	raw, err := c.c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := raw.Write(func(fd uintptr) bool {
		serr = syscall.Sendto(int(fd), []byte{0xff}, syscall.MSG_OOB, nil)
		return !errors.Is(serr, syscall.EAGAIN)
	}); err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("sending urgent IAC: %w", serr)
	}
	if _, err := c.c.Write([]byte("\xf2ABOR\r\n")); err != nil {
		return fmt.Errorf("sending DM ABOR: %w", err)
	}
	return nil
}
