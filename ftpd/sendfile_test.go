package ftpd

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// Tests of sendFile's blocking sendfile(2): a call blocked on a client
// that reads nothing must still end on ABOR, on the stall timeout and at
// Close, and progress and file errors must still be reported.

// queued returns how many bytes wait unread in the receive queue of the
// client's data connection d (SIOCINQ).
func queued(t testing.TB, d net.Conn) int {
	t.Helper()
	rc, err := d.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var n int32
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		// SIOCINQ has the number of TIOCINQ (FIONREAD) on every Linux.
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&n)))
	}); err != nil {
		t.Fatal(err)
	}
	if errno != 0 {
		t.Fatalf("SIOCINQ: %v", errno)
	}
	return int(n)
}

// startStalled starts RETR of a big file over a stalling data connection,
// reads its first 64 KiB, then waits until the client's receive queue
// holds data it does not read: from then on the server's sendfile call
// waits for the client.
func startStalled(t *testing.T, c *ctrl, path string) net.Conn {
	t.Helper()
	d := dialStalling(t, c.epsv())
	c.cmd("RETR "+path, 150)
	readN(t, d, 64<<10)
	waitFor(t, "the client's receive queue to fill", func() bool { return queued(t, d) >= 16<<10 })
	return d
}

// TestAbortWhileClientNotReading sends ABOR while the server's send is
// blocked on a client that reads nothing, and does not read the data
// connection afterwards either: shutting the socket down, not the client
// draining it, must end the transfer with 426, and ABOR gets 226. The
// stall timeout is the default ten minutes, so it cannot be what ends it.
func TestAbortWhileClientNotReading(t *testing.T) {
	ts, dir := newTestServer(t, nil)
	sparseFile(t, dir, "big.mkv", stallSize)
	c := login(t, ts.Addr)
	d := startStalled(t, c, "/Media/big.mkv")

	c.send("ABOR")
	c.expect(426)
	c.expect(226)
	c.cmd("NOOP", 200) // the session goes on
	d.Close()
}

// TestCloseWhileClientNotReading closes the server while a send is
// blocked on a client that reads nothing: Close must end the session and
// the transfer at once.
func TestCloseWhileClientNotReading(t *testing.T) {
	ts, dir := newTestServer(t, nil)
	sparseFile(t, dir, "big.mkv", stallSize)
	c := login(t, ts.Addr)
	startStalled(t, c, "/Media/big.mkv")

	if err := ts.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	expectEOFAfterReplies(t, c)
}

// expectEOFAfterReplies reads replies until the server closes the control
// connection, and fails the test if it stays open.
func expectEOFAfterReplies(t *testing.T, c *ctrl) {
	t.Helper()
	for {
		_, raw, err := c.tryReply()
		if err == nil {
			continue
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("control connection still open (last read %q)", raw)
		}
		return
	}
}

// TestStallTimeout stops reading a transfer: the server gives up after
// StallTimeout with 426, and the session goes on.
func TestStallTimeout(t *testing.T) {
	ts, dir := newTestServer(t, func(s *Server) { s.StallTimeout = 300 * time.Millisecond })
	sparseFile(t, dir, "big.mkv", stallSize)
	c := login(t, ts.Addr)
	d := startStalled(t, c, "/Media/big.mkv")

	c.expect(426) // tryReply waits up to 10 s, far beyond the 300 ms
	awaitClosed(t, d)
	c.cmd("NOOP", 200)
}

// TestProgressOfBlockingSend reads part of a big file and checks that the
// session snapshot counts what was sent while the transfer runs.
func TestProgressOfBlockingSend(t *testing.T) {
	ts, dir := newTestServer(t, nil)
	sparseFile(t, dir, "big.mkv", stallSize)
	c := login(t, ts.Addr)
	d := dialStalling(t, c.epsv())
	c.cmd("RETR /Media/big.mkv", 150)
	readN(t, d, 40<<20)

	var sent int64
	waitFor(t, "progress in the session snapshot", func() bool {
		for _, si := range ts.Sessions() {
			if si.Transfer != nil {
				sent = si.Transfer.Sent
			}
		}
		return sent >= 16<<20
	})
	if sent > stallSize {
		t.Errorf("sent %d bytes of a %d byte file", sent, stallSize)
	}
	abortStrict(t, c, d)
}

// TestFileShrinksDuringSend truncates a file while it is being sent: the
// transfer ends (it must not spin on a sendfile that sends nothing) with
// 451, a read error, and not with 426.
func TestFileShrinksDuringSend(t *testing.T) {
	ts, dir := newTestServer(t, nil)
	p := sparseFile(t, dir, "big.mkv", stallSize)
	c := login(t, ts.Addr)
	d := startStalled(t, c, "/Media/big.mkv")

	if err := os.Truncate(p, 1<<20); err != nil {
		t.Fatal(err)
	}
	d.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := io.Copy(io.Discard, d)
	if err != nil {
		t.Fatalf("reading the rest: %v after %d bytes", err, n)
	}
	c.expect(451)
	c.cmd("NOOP", 200)
}
