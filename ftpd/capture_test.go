package ftpd

import (
	"bytes"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Helpers of the tests of every platform (faults_test.go runs on 64-bit
// ones only).

// logCapture keeps the server's log lines for the test to count, and shows
// them with t.Log.
type logCapture struct {
	t     testing.TB
	mu    sync.Mutex
	lines []string
}

func (l *logCapture) Write(b []byte) (int, error) {
	line := strings.TrimSuffix(string(b), "\n")
	l.mu.Lock()
	l.lines = append(l.lines, line)
	l.mu.Unlock()
	l.t.Log(line)
	return len(b), nil
}

// count returns the number of lines that contain every one of parts.
func (l *logCapture) count(parts ...string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		if !slices.ContainsFunc(parts, func(p string) bool { return !strings.Contains(line, p) }) {
			n++
		}
	}
	return n
}

// writeData writes a file below dir and returns its content.
func writeData(t testing.TB, dir, rel string, data []byte) []byte {
	t.Helper()
	writeFile(t, dir, rel, string(data))
	return data
}

// readToClose reads what the server still sends on a data connection until
// it closes it.
func readToClose(t testing.TB, d net.Conn) []byte {
	t.Helper()
	d.SetReadDeadline(time.Now().Add(20 * time.Second))
	b, err := io.ReadAll(d)
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("reading data connection: %v (after %d bytes)", err, len(b))
	}
	return b
}

// checkPrefix fails the test unless got is the first len(got) bytes of
// want, and not more than max bytes.
func checkPrefix(t testing.TB, what string, got, want []byte, max int) {
	t.Helper()
	if len(got) > max || len(got) > len(want) || !bytes.Equal(got, want[:len(got)]) {
		t.Fatalf("%s: %d bytes arrived; want a prefix of the file of at most %d bytes", what, len(got), max)
	}
}

// expectRefused sends a command that must be refused at once and returns
// the reply. A data connection is set up first, so that a server that
// wrongly starts the transfer would send 150.
func (c *ctrl) expectRefused(line string, code int) string {
	c.t.Helper()
	dialData(c.t, c.epsv())
	c.send(line)
	got, raw := c.reply()
	if got != code {
		c.t.Fatalf("%s: got %q, want %d before any 150", line, raw, code)
	}
	return raw
}

// names returns the lines of an NLST listing.
func names(listing string) []string {
	return strings.Fields(strings.ReplaceAll(listing, "\r\n", "\n"))
}
