package ftpd

import (
	"context"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// hangupPoll is how often a session waiting for something other than its
// client (a password check's turn) looks whether the client has gone.
const hangupPoll = 100 * time.Millisecond

// untilHangup returns a context of the session's that also ends when the
// client closes its side of the control connection, and the function that
// stops watching. The command goroutine is not reading meanwhile, so the
// socket is polled for POLLRDHUP, which reads nothing: a command the client
// sent ahead stays for the next read. Where the connection has no file
// descriptor (tests' pipes), it is the session's context.
func (s *session) untilHangup() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(s.ctx)
	sc, ok := s.raw.(syscall.Conn)
	if !ok {
		return ctx, cancel
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return ctx, cancel
	}
	go func() {
		t := time.NewTicker(hangupPoll)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			gone := false
			rc.Control(func(fd uintptr) {
				p := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLRDHUP}}
				if n, err := unix.Poll(p, 0); err == nil && n > 0 {
					gone = p[0].Revents&(unix.POLLRDHUP|unix.POLLHUP|unix.POLLERR) != 0
				}
			})
			if gone {
				cancel()
				return
			}
		}
	}()
	return ctx, cancel
}
