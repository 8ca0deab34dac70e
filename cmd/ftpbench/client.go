package main

import (
	"context"
	"errors"
	"io"
	"net"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/rawftp"
)

// The FTP client of the bench: raw control and data sockets, the same code
// for both servers, doing only what a player does and checking every
// reply code, so that a server that answers wrongly fails the run instead
// of winning it.

// opTimeout bounds every control exchange and every data read.
const opTimeout = rawftp.Timeout

// client is one control connection.
type client struct{ *rawftp.Conn }

// dial connects to a control address and reads the greeting.
func dial(ctx context.Context, addr string) (*client, error) {
	c, err := rawftp.Dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	return &client{c}, nil
}

// login dials and logs in anonymously.
func login(ctx context.Context, addr string) (*client, error) {
	c, err := dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	if err := c.Login("ftpbench@"); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
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
// closed, as a player that seeks does: ABOR, then both replies (see
// rawftp.Conn.AbortReplies).
func (c *client) abortAfterClose() error {
	if err := c.Send("ABOR"); err != nil {
		return err
	}
	return c.AbortReplies()
}
