package ftpd

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// stallSize is the size of the files that transfers stall on: far more than
// the socket buffers of both ends hold, so a client that stops reading
// stops the server's write, as a paused player does.
const stallSize = 64 << 20

// sparseFile creates a file of the given size below dir without writing its
// bytes, and returns its host path. It skips the test if the temp file
// system refuses a sparse file that big.
func sparseFile(t testing.TB, dir, rel string, size int64) string {
	t.Helper()
	p := writeFile(t, dir, rel, "")
	if err := os.Truncate(p, size); err != nil {
		t.Skipf("the temp file system refuses a sparse file of %d bytes: %v", size, err)
	}
	return p
}

// writeAt writes b into the existing file p at offset off.
func writeAt(t testing.TB, p string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(b, off); err != nil {
		f.Close()
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// pattern returns n reproducible, non-repeating bytes, so that a transfer
// starting at the wrong offset cannot match by chance.
func pattern(seed byte, n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{seed}).Read(b)
	return b
}

// dialStalling connects to a passive data address with a small receive
// buffer, so that the server's write stalls soon once the test stops
// reading, whatever the host's TCP autotuning allows.
func dialStalling(t testing.TB, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{
		Timeout: 5 * time.Second,
		Control: func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 64<<10)
			})
			return errors.Join(err, serr)
		},
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readN reads exactly n bytes from a data connection.
func readN(t testing.TB, d net.Conn, n int) []byte {
	t.Helper()
	d.SetReadDeadline(time.Now().Add(10 * time.Second))
	b := make([]byte, n)
	if _, err := io.ReadFull(d, b); err != nil {
		t.Fatalf("reading %d bytes of data: %v", n, err)
	}
	return b
}

// awaitClosed reads and discards what the peer of conn still sends until
// the peer closes it, and fails the test if that does not happen in time.
// A reset counts as closed. It returns the number of bytes discarded.
func awaitClosed(t testing.TB, conn net.Conn) int64 {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := io.Copy(io.Discard, conn)
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("waiting for the server to close the connection: %v (after %d bytes)", err, n)
	}
	return n
}

// abortStrict stops a running transfer the way a player seeks (ABOR, close
// the data connection, then read the replies), but waits for the server to
// close the data connection before closing its own end, so that the server
// has certainly seen ABOR while the transfer ran: the replies must then be
// exactly 426 for the transfer and 226 for ABOR.
func abortStrict(t testing.TB, c *ctrl, d net.Conn) {
	t.Helper()
	c.send("ABOR")
	awaitClosed(t, d)
	d.Close()
	c.expect(426)
	c.expect(226)
}

// checkCRLF fails the test unless every line of a raw reply ends in CRLF
// and no CR or LF stands anywhere else.
func checkCRLF(t testing.TB, raw string) {
	t.Helper()
	if !strings.HasSuffix(raw, "\r\n") {
		t.Errorf("reply %q does not end in CRLF", raw)
	}
	for line := range strings.SplitAfterSeq(raw, "\r\n") {
		if strings.ContainsAny(strings.TrimSuffix(line, "\r\n"), "\r\n") {
			t.Errorf("reply line %q has a bare CR or LF", line)
		}
	}
}

// wantFeatures are the FEAT lines the players of CLIENTS.md look for,
// without their single leading space.
var wantFeatures = []string{
	"UTF8", "EPSV", "EPRT", "PASV", "SIZE", "MDTM", "REST STREAM", "TVFS",
	"MLST type*;size*;modify*;perm*;",
}

// checkFEAT fails the test unless raw is a FEAT reply as gvfs and VLC parse
// it: "211-Features:", one bare feature per line with exactly one leading
// space, "211 End", and every wanted feature present. No TLS is configured,
// so AUTH must not be offered.
func checkFEAT(t testing.TB, raw string) {
	t.Helper()
	checkCRLF(t, raw)
	lines := strings.SplitAfter(raw, "\r\n")
	lines = lines[:len(lines)-1] // the empty string after the last CRLF
	if len(lines) < 2 || lines[0] != "211-Features:\r\n" || lines[len(lines)-1] != "211 End\r\n" {
		t.Fatalf("FEAT reply %q: want it to open with %q and close with %q", raw, "211-Features:\r\n", "211 End\r\n")
	}
	have := map[string]bool{}
	for _, l := range lines[1 : len(lines)-1] {
		f := strings.TrimSuffix(l, "\r\n")
		if len(f) < 2 || f[0] != ' ' || f[1] == ' ' || strings.TrimRight(f, " ") != f {
			t.Errorf("FEAT line %q: want exactly one leading space and a bare token", l)
		}
		have[strings.TrimPrefix(f, " ")] = true
	}
	for _, f := range wantFeatures {
		if !have[f] {
			t.Errorf("FEAT reply %q lacks %q", raw, f)
		}
	}
	for f := range have {
		if strings.HasPrefix(f, "AUTH") {
			t.Errorf("FEAT offers %q without TLS", f)
		}
	}
}

// byteCountRe finds the byte count of a 150 reply: "(N bytes)".
var byteCountRe = regexp.MustCompile(`\((\d+) bytes\)`)

// byteCount returns the byte count a 150 reply announces.
func byteCount(t testing.TB, raw string) int64 {
	t.Helper()
	m := byteCountRe.FindStringSubmatch(raw)
	if m == nil {
		t.Fatalf("150 reply %q carries no %q", raw, "(N bytes)")
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// portArg formats a TCP address as the argument of PORT.
func portArg(t testing.TB, a net.Addr) string {
	t.Helper()
	ap := addrOf(a)
	if !ap.Addr().Is4() {
		t.Fatalf("PORT needs an IPv4 address, have %v", a)
	}
	ip := ap.Addr().As4()
	return fmt.Sprintf("%d,%d,%d,%d,%d,%d", ip[0], ip[1], ip[2], ip[3], ap.Port()>>8, ap.Port()&0xff)
}

// acceptActive accepts the server's active-mode data connection on ln.
func acceptActive(t testing.TB, ln net.Listener) net.Conn {
	t.Helper()
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(10 * time.Second))
	d, err := ln.Accept()
	if err != nil {
		t.Fatalf("waiting for the server's data connection: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// expectEOF fails the test unless the server has closed the control
// connection.
func expectEOF(t testing.TB, c *ctrl) {
	t.Helper()
	c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, err := c.r.ReadByte()
	if err == nil {
		t.Fatalf("control connection still open: read %q", b)
	}
	if !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("control connection: %v, want EOF", err)
	}
}
