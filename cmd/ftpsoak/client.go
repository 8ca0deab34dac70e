package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/rawftp"
)

// The soak's FTP client: raw control and data sockets, doing what players
// do (ffmpeg, VLC, Kodi), and checking every reply code.

// opTimeout bounds every control exchange and every data read. The
// server's stall timeout is longer, so a timeout here is the server's
// fault.
const opTimeout = rawftp.Timeout

// errReply is a reply with a code the client did not expect.
var errReply = rawftp.ErrReply

// conn is one control connection.
type conn struct{ *rawftp.Conn }

// dial connects to a control address and reads the greeting.
func dial(ctx context.Context, addr string) (*conn, error) {
	c, err := rawftp.Dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	return &conn{c}, nil
}

// login logs in anonymously and sends TYPE I.
func (c *conn) login() error {
	if err := c.Login("soak@example.org"); err != nil {
		return err
	}
	_, err := c.CmdExpect("TYPE I", 200)
	return err
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

// abort ends a running transfer the mode's way and reads the two replies
// (see rawftp.Conn.AbortReplies).
func (c *conn) abort(data *net.TCPConn, mode abortMode) error {
	var err error
	switch mode {
	case abortClose:
		data.Close()
		err = c.Send("ABOR")
	case abortPlain:
		err = c.Send("ABOR")
	case abortUrgent:
		err = c.sendUrgentAbort()
	}
	defer data.Close()
	if err != nil {
		return err
	}
	return c.AbortReplies()
}

// sendUrgentAbort sends IAC IP, then IAC alone as urgent data (MSG_OOB),
// then DM ABOR CRLF.
func (c *conn) sendUrgentAbort() error {
	c.TCP.SetWriteDeadline(time.Now().Add(opTimeout))
	if _, err := c.TCP.Write([]byte{0xff, 0xf4}); err != nil {
		return fmt.Errorf("sending IAC IP: %w", err)
	}
	raw, err := c.TCP.SyscallConn()
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
	if _, err := c.TCP.Write([]byte("\xf2ABOR\r\n")); err != nil {
		return fmt.Errorf("sending DM ABOR: %w", err)
	}
	return nil
}
