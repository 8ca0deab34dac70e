package ftpd

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDataConnectionOrder checks that the data connection may be made
// before or after the transfer or listing command, in passive and extended
// passive mode.
func TestDataConnectionOrder(t *testing.T) {
	ts, dir := newTestServer(t, nil)
	const body = "the film's bytes"
	writeFile(t, dir, "a.mkv", body)
	c := login(t, ts.Addr)

	for _, mode := range []string{"PASV", "EPSV"} {
		setup := func() string {
			if mode == "PASV" {
				return c.pasv()
			}
			return c.epsv()
		}
		t.Run(mode+"/before RETR", func(t *testing.T) {
			d := dialData(t, setup())
			c.cmd("RETR /Media/a.mkv", 150)
			if got := readAll(t, d); got != body {
				t.Errorf("got %q, want %q", got, body)
			}
			c.expect(226)
		})
		t.Run(mode+"/after RETR", func(t *testing.T) {
			addr := setup()
			c.cmd("RETR /Media/a.mkv", 150)
			d := dialData(t, addr)
			if got := readAll(t, d); got != body {
				t.Errorf("got %q, want %q", got, body)
			}
			c.expect(226)
		})
		t.Run(mode+"/after NLST", func(t *testing.T) {
			addr := setup()
			c.cmd("NLST /Media", 150)
			d := dialData(t, addr)
			if got := readAll(t, d); got != "a.mkv\r\n" {
				t.Errorf("got %q, want %q", got, "a.mkv\r\n")
			}
			c.expect(226)
		})
	}
}

// TestRestOffsets checks REST at and beyond the end of a file, and REST
// arguments that are not offsets.
func TestRestOffsets(t *testing.T) {
	ts, dir := newTestServer(t, nil)
	body := string(pattern(6, 1000))
	writeFile(t, dir, "a.mkv", body)
	c := login(t, ts.Addr)

	// At the end: an empty transfer that succeeds.
	d := dialData(t, c.epsv())
	c.cmd("REST 1000", 350)
	if n := byteCount(t, c.cmd("RETR /Media/a.mkv", 150)); n != 0 {
		t.Errorf("150 reply announces %d bytes, want 0", n)
	}
	if got := readAll(t, d); got != "" {
		t.Errorf("RETR after REST at the end sent %d bytes", len(got))
	}
	c.expect(226)

	// Beyond the end: refused before any data is sent.
	c.cmd("REST 1001", 350)
	c.cmd("RETR /Media/a.mkv", 554)
	// The offset was used up by the refused RETR.
	if got := c.retr("/Media/a.mkv"); got != body {
		t.Errorf("RETR after a refused one sent %d bytes, want the whole file", len(got))
	}

	for _, arg := range []string{"abc", "-1", "1e3", "0x10", "12 34", "99999999999999999999"} {
		c.cmd("REST "+arg, 501)
	}
	c.cmd("REST", 501)
	c.cmd("QUIT", 221)
}

// TestRestBeyond4GiB seeks into a 5 GiB file, past what 32-bit offsets
// hold. The file is sparse: only the bytes read are real.
func TestRestBeyond4GiB(t *testing.T) {
	ts, dir := newTestServer(t, nil)
	const size, at = 5 << 30, 4<<30 + 512<<20
	p := sparseFile(t, dir, "big.mkv", size)
	mark := pattern(7, 16<<10)
	writeAt(t, p, at, mark)

	c := login(t, ts.Addr)
	if got, want := c.cmd("SIZE /Media/big.mkv", 213), "213 5368709120\r\n"; got != want {
		t.Errorf("SIZE: got %q, want %q", got, want)
	}
	d := dialStalling(t, c.epsv())
	c.cmd("REST 4831838208", 350)
	if n := byteCount(t, c.cmd("RETR /Media/big.mkv", 150)); n != size-at {
		t.Errorf("150 reply announces %d bytes, want %d", n, size-at)
	}
	if got := readN(t, d, len(mark)); !bytes.Equal(got, mark) {
		t.Fatal("RETR after REST 4831838208 does not start at that offset")
	}
	abortStrict(t, c, d)
	c.cmd("QUIT", 221)
}

// TestDuringTransfer checks that STAT and NOOP are answered at once while
// a transfer is stalled by a client that does not read.
func TestDuringTransfer(t *testing.T) {
	ts, dir := newTestServer(t, nil)
	sparseFile(t, dir, "big.mkv", stallSize)
	c := login(t, ts.Addr)
	d := dialStalling(t, c.epsv())
	c.cmd("RETR /Media/big.mkv", 150)

	for range 2 {
		got := c.cmd("STAT", 211)
		checkCRLF(t, got)
		if !strings.HasPrefix(got, "211-") || !strings.Contains(got, "big.mkv") || !strings.Contains(got, " of 67108864 bytes") {
			t.Errorf("STAT during the transfer: got %q, want a multi-line 211 with its progress", got)
		}
		c.cmd("NOOP", 200)
	}
	abortStrict(t, c, d)
	// Once the transfer is over, STAT shows none.
	if got := c.cmd("STAT", 211); strings.Contains(got, "big.mkv") {
		t.Errorf("STAT after the transfer: got %q, still showing it", got)
	}
}

// TestOpeningByteCount checks that the 150 reply of RETR announces the
// bytes that will be sent, which REST reduces.
func TestOpeningByteCount(t *testing.T) {
	ts, dir := newTestServer(t, nil)
	writeFile(t, dir, "a.mkv", strings.Repeat("x", 1000))
	c := login(t, ts.Addr)
	for _, tc := range []struct{ rest, want int64 }{{0, 1000}, {100, 900}, {999, 1}} {
		d := dialData(t, c.epsv())
		if tc.rest > 0 {
			c.cmd(fmt.Sprintf("REST %d", tc.rest), 350)
		}
		if n := byteCount(t, c.cmd("RETR /Media/a.mkv", 150)); n != tc.want {
			t.Errorf("after REST %d: 150 reply announces %d bytes, want %d", tc.rest, n, tc.want)
		}
		if got := readAll(t, d); int64(len(got)) != tc.want {
			t.Errorf("after REST %d: got %d bytes, want %d", tc.rest, len(got), tc.want)
		}
		c.expect(226)
	}
}

// TestCompleteAfterDataClosed checks that 226 comes only once the data
// connection is closed: a client that reads the 226 first finds the data
// and then the end of the connection, without waiting.
func TestCompleteAfterDataClosed(t *testing.T) {
	ts, dir := newTestServer(t, nil)
	const body = "all of it"
	writeFile(t, dir, "a.mkv", body)
	c := login(t, ts.Addr)
	for _, tc := range []struct{ line, want string }{
		{"RETR /Media/a.mkv", body},
		{"NLST /Media", "a.mkv\r\n"},
	} {
		d := dialData(t, c.epsv())
		c.cmd(tc.line, 150)
		c.expect(226)
		d.SetReadDeadline(time.Now().Add(2 * time.Second))
		got, err := io.ReadAll(d)
		if err != nil {
			t.Errorf("%s: data connection still open after 226: %v", tc.line, err)
		}
		if string(got) != tc.want {
			t.Errorf("%s: got %q, want %q", tc.line, got, tc.want)
		}
	}
}

// TestForeignDataConnection checks that a connection to the passive port
// from an address other than the client's gets nothing, and that the
// client's own connection is still accepted. On Linux every 127.0.0.0/8
// address is local, so 127.0.0.2 plays the thief.
func TestForeignDataConnection(t *testing.T) {
	ts, dir := newTestServer(t, nil)
	const body = "not for thieves"
	writeFile(t, dir, "a.mkv", body)
	c := login(t, ts.Addr)
	addr := c.pasv()

	thiefDialer := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	thief, err := thiefDialer.Dial("tcp", addr)
	if err != nil {
		t.Skipf("cannot connect from 127.0.0.2: %v", err)
	}
	defer thief.Close()

	c.cmd("RETR /Media/a.mkv", 150)
	if n := awaitClosed(t, thief); n != 0 {
		t.Errorf("the connection from 127.0.0.2 got %d bytes", n)
	}
	d := dialData(t, addr)
	if got := readAll(t, d); got != body {
		t.Errorf("got %q, want %q", got, body)
	}
	c.expect(226)
}

// TestDataTimeout checks that a data connection that never comes ends the
// transfer with 425 after DataTimeout, and frees the passive port.
func TestDataTimeout(t *testing.T) {
	ts, dir := newTestServer(t, func(s *Server) { s.DataTimeout = 300 * time.Millisecond })
	writeFile(t, dir, "a.mkv", "never sent")
	c := login(t, ts.Addr)

	for _, mode := range []string{"PASV", "EPSV"} {
		var addr string
		if mode == "PASV" {
			addr = c.pasv()
		} else {
			addr = c.epsv()
		}
		c.cmd("RETR /Media/a.mkv", 150)
		c.expect(425)
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("%s: the passive port is still taken after 425: %v", mode, err)
		}
		ln.Close()
		c.cmd("NOOP", 200)
	}

	// Active mode to a port where nobody listens: 425 as well.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := portArg(t, ln.Addr())
	ln.Close()
	c.cmd("PORT "+closed, 200)
	c.cmd("LIST", 150)
	c.expect(425)
	c.cmd("NOOP", 200)
}

// TestIdleTimeout checks that an idle session is closed with 421, but a
// session whose transfer is stalled by a paused player is not idle.
func TestIdleTimeout(t *testing.T) {
	const idle = 300 * time.Millisecond
	ts, dir := newTestServer(t, func(s *Server) { s.IdleTimeout = idle })
	sparseFile(t, dir, "big.mkv", stallSize)
	writeFile(t, dir, "small.mkv", "short")

	t.Run("idle", func(t *testing.T) {
		c := login(t, ts.Addr)
		c.expect(421)
		expectEOF(t, c)
	})

	t.Run("stalled transfer", func(t *testing.T) {
		c := login(t, ts.Addr)
		d := dialStalling(t, c.epsv())
		c.cmd("RETR /Media/big.mkv", 150)
		time.Sleep(3 * idle) // the timeout under test must not fire
		abortStrict(t, c, d)
		c.cmd("NOOP", 200)
		// A transfer that ends on its own, with no command after it: the
		// session is idle from its end.
		if got := c.retr("/Media/small.mkv"); got != "short" {
			t.Fatalf("RETR: got %q", got)
		}
		c.expect(421)
		expectEOF(t, c)
	})
	waitFor(t, "the sessions to end", func() bool { return ts.sessionCount() == 0 })
}

// TestRetrClosesFile checks that RETR closes the file it opened however the
// transfer ends, including when no data connection is ever made: many
// short player sessions must not use up the server's file descriptors.
func TestRetrClosesFile(t *testing.T) {
	ts, dir := newTestServer(t, func(s *Server) { s.DataTimeout = 300 * time.Millisecond })
	if _, err := os.ReadDir("/proc/self/fd"); err != nil {
		t.Skipf("cannot see open files: %v", err)
	}
	c := login(t, ts.Addr)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := portArg(t, ln.Addr())
	ln.Close()

	for _, tc := range []struct {
		name string
		run  func(retr string)
	}{
		{"no data setup", func(retr string) {
			c.cmd(retr, 425)
		}},
		{"no data connection within DataTimeout", func(retr string) {
			c.pasv()
			c.cmd(retr, 150)
			c.expect(425)
		}},
		{"active connection refused", func(retr string) {
			c.cmd("PORT "+refused, 200)
			c.cmd(retr, 150)
			c.expect(425)
		}},
		{"ABOR before the data connection", func(retr string) {
			c.epsv()
			c.cmd(retr, 150)
			c.cmd("ABOR", 426)
			c.expect(226)
		}},
		{"ABOR during the transfer", func(retr string) {
			d := dialStalling(t, c.epsv())
			c.cmd(retr, 150)
			abortStrict(t, c, d)
		}},
		{"complete transfer", func(retr string) {
			d := dialData(t, c.epsv())
			c.cmd("REST "+strconv.Itoa(stallSize-10), 350)
			c.cmd(retr, 150)
			readAll(t, d)
			c.expect(226)
		}},
		{"session dropped before the data connection", func(retr string) {
			c.epsv()
			c.cmd(retr, 150)
			c.c.Close()
			waitFor(t, "the dropped session to end", func() bool { return ts.sessionCount() == 0 })
		}},
	} {
		name := strings.ReplaceAll(tc.name, " ", "-") + ".mkv"
		p := sparseFile(t, dir, name, stallSize)
		tc.run("RETR /Media/" + name)
		// The file is closed by the time the final reply is sent. Looking
		// at once matters: the garbage collector closes a leaked file
		// sooner or later.
		if isOpen(t, p) {
			t.Errorf("%s: the file is still open", tc.name)
		}
	}
}

// isOpen reports whether this process has the file at p open.
func isOpen(t testing.TB, p string) bool {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		if target, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil && target == p {
			return true
		}
	}
	return false
}
