package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The FTP client of the bench: raw control and data sockets, the same code
// for both servers, doing only what a player does and checking every
// reply code, so that a server that answers wrongly fails the run instead
// of winning it.

// opTimeout bounds every control exchange and every data read.
const opTimeout = time.Minute

// client is one control connection.
type client struct {
	conn *net.TCPConn
	r    *bufio.Reader
	host string // the server's IP, for passive data addresses
}

// dial connects to a control address and reads the greeting.
func dial(ctx context.Context, addr string) (*client, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	host, _, _ := net.SplitHostPort(addr)
	cl := &client{conn: c.(*net.TCPConn), r: bufio.NewReaderSize(c, 4096), host: host}
	if _, err := cl.expect(220); err != nil {
		c.Close()
		return nil, fmt.Errorf("greeting: %w", err)
	}
	return cl, nil
}

// login dials and logs in anonymously. A server that needs no password
// (vsftpd with no_anon_password) answers USER with 230 at once.
func login(ctx context.Context, addr string) (*client, error) {
	c, err := dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	code, text, err := c.cmd("USER anonymous")
	switch {
	case err != nil:
	case code == 230:
		return c, nil
	case code == 331:
		_, err = c.cmdExpect("PASS ftpbench@", 230)
	default:
		err = fmt.Errorf("USER: unexpected reply %q", text)
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Close closes the control connection without QUIT.
func (c *client) Close() error { return c.conn.Close() }

// quit sends QUIT, reads the 221 and closes the connection.
func (c *client) quit() error {
	_, err := c.cmdExpect("QUIT", 221)
	c.conn.Close()
	return err
}

// send writes one command line.
func (c *client) send(line string) error {
	c.conn.SetWriteDeadline(time.Now().Add(opTimeout))
	_, err := c.conn.Write([]byte(line + "\r\n"))
	return err
}

// reply reads one reply, multi-line ones whole, and returns its code and
// its last line.
func (c *client) reply() (int, string, error) {
	c.conn.SetReadDeadline(time.Now().Add(opTimeout))
	line, err := c.r.ReadString('\n')
	if err != nil {
		return 0, line, fmt.Errorf("reading a reply: %w", err)
	}
	if len(line) < 4 {
		return 0, line, fmt.Errorf("malformed reply %q", line)
	}
	code, err := strconv.Atoi(line[:3])
	if err != nil {
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
	return code, strings.TrimRight(line, "\r\n"), nil
}

// expect reads a reply and fails unless it has the code.
func (c *client) expect(code int) (string, error) {
	got, text, err := c.reply()
	if err != nil {
		return text, err
	}
	if got != code {
		return text, fmt.Errorf("got reply %q, want %d", text, code)
	}
	return text, nil
}

// cmd sends a command and reads its reply.
func (c *client) cmd(line string) (int, string, error) {
	if err := c.send(line); err != nil {
		return 0, "", err
	}
	return c.reply()
}

// cmdExpect sends a command and fails unless the reply has the code.
func (c *client) cmdExpect(line string, code int) (string, error) {
	if err := c.send(line); err != nil {
		return "", err
	}
	text, err := c.expect(code)
	if err != nil {
		return text, fmt.Errorf("%s: %w", strings.Fields(line)[0], err)
	}
	return text, nil
}

var pasvRe = regexp.MustCompile(`\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)`)

// openData sends PASV and connects to the data address, before the
// transfer command, as most players do.
func (c *client) openData(ctx context.Context) (*net.TCPConn, error) {
	text, err := c.cmdExpect("PASV", 227)
	if err != nil {
		return nil, err
	}
	m := pasvRe.FindStringSubmatch(text)
	if m == nil {
		return nil, fmt.Errorf("PASV: no address in %q", text)
	}
	p1, _ := strconv.Atoi(m[5])
	p2, _ := strconv.Atoi(m[6])
	var d net.Dialer
	dc, err := d.DialContext(ctx, "tcp", net.JoinHostPort(c.host, strconv.Itoa(p1<<8|p2)))
	if err != nil {
		return nil, fmt.Errorf("data connection: %w", err)
	}
	return dc.(*net.TCPConn), nil
}

// transferStart sends a transfer command and reads its 150 (or 125).
func (c *client) transferStart(line string) error {
	code, text, err := c.cmd(line)
	if err != nil {
		return err
	}
	if code != 150 && code != 125 {
		return fmt.Errorf("%s: got reply %q, want 150", strings.Fields(line)[0], text)
	}
	return nil
}

// drain reads a data connection to its end with buf and returns the bytes
// read and the number of line ends among them if lines is set. It does
// what io.Copy(io.Discard, d) does, with a bigger buffer: the bench's
// client must cost both servers' figures as little as it can.
func drain(d *net.TCPConn, buf []byte, lines bool) (n, nl int64, err error) {
	d.SetReadDeadline(time.Now().Add(opTimeout))
	for {
		k, err := d.Read(buf)
		n += int64(k)
		if lines {
			for _, b := range buf[:k] {
				if b == '\n' {
					nl++
				}
			}
		}
		if errors.Is(err, io.EOF) {
			return n, nl, nil
		}
		if err != nil {
			return n, nl, err
		}
	}
}

// abortAfterClose ends a transfer whose data connection the client has
// closed, as a player that seeks does: ABOR, then both replies that
// follow (see below).
func (c *client) abortAfterClose() error {
	if err := c.send("ABOR"); err != nil {
		return err
	}
	// Two replies: the transfer's own (426 or 451 when ABOR cut it, 226
	// when it had ended first) and then ABOR's (226 or 225). Reading only
	// the first would leave the second to be taken for the reply to the
	// next command.
	code, text, err := c.reply()
	if err != nil {
		return err
	}
	switch code {
	case 225: // no transfer was running at all
		return nil
	case 426, 451, 226:
	default:
		return fmt.Errorf("ABOR: unexpected reply %q", text)
	}
	code, text, err = c.reply()
	if err != nil {
		return err
	}
	if code != 225 && code != 226 {
		return fmt.Errorf("ABOR: unexpected second reply %q", text)
	}
	return nil
}
