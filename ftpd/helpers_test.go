package ftpd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/testtool"
	"github.com/mediaftpd/mediaftpd/library"
)

// testServer is a Server on 127.0.0.1:0 serving the shares of a Set.
type testServer struct {
	*Server
	Addr   string
	Set    *library.Set
	served chan error
}

// newTestServer starts a server with one share, "Media", on a fresh temp
// folder (returned as dir), and stops it when the test ends. configure, if
// not nil, adjusts the Server before it starts.
func newTestServer(t testing.TB, configure func(*Server)) (ts *testServer, dir string) {
	t.Helper()
	dir = t.TempDir()
	set, err := library.NewSet(library.Share{Name: "Media", Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	srv := &Server{
		Shares: set,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if configure != nil {
		configure(srv)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts = &testServer{Server: srv, Addr: l.Addr().String(), Set: set, served: make(chan error, 1)}
	go func() { ts.served <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-ts.served; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return ts, dir
}

// testWriter sends log output to t.Log, so it shows only for failing tests.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(b), "\n"))
	return len(b), nil
}

// writeFile creates a file below dir with the given content, making folders.
func writeFile(t testing.TB, dir, rel, content string) string {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// ctrl is a raw control connection: it sends exactly the bytes a test
// gives, the way a particular player does, and reads replies.
type ctrl struct {
	t testing.TB
	c net.Conn
	r *bufio.Reader
}

// dialCtrl connects and reads the 220 greeting.
func dialCtrl(t testing.TB, addr string) *ctrl {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	cc := &ctrl{t: t, c: c, r: bufio.NewReader(c)}
	cc.expect(220)
	return cc
}

// login dials and logs in anonymously.
func login(t testing.TB, addr string) *ctrl {
	t.Helper()
	c := dialCtrl(t, addr)
	c.cmd("USER anonymous", 331)
	c.cmd("PASS guest@", 230)
	return c
}

// send writes one command line with CRLF.
func (c *ctrl) send(line string) {
	c.t.Helper()
	c.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c.c, line+"\r\n"); err != nil {
		c.t.Fatalf("send %q: %v", line, err)
	}
}

// reply reads one reply, multi-line ones whole. It returns the code and
// the raw text of every line, CRLF included.
func (c *ctrl) reply() (int, string) {
	c.t.Helper()
	code, raw, err := c.tryReply()
	if err != nil {
		c.t.Fatalf("reading reply: %v (so far %q)", err, raw)
	}
	return code, raw
}

func (c *ctrl) tryReply() (int, string, error) {
	c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var raw strings.Builder
	line, err := c.r.ReadString('\n')
	raw.WriteString(line)
	if err != nil {
		return 0, raw.String(), err
	}
	if len(line) < 4 || !strings.HasSuffix(line, "\r\n") {
		return 0, raw.String(), fmt.Errorf("malformed reply line %q", line)
	}
	code, err := strconv.Atoi(line[:3])
	if err != nil {
		return 0, raw.String(), fmt.Errorf("malformed reply line %q", line)
	}
	if line[3] == '-' {
		end := line[:3] + " "
		for {
			line, err = c.r.ReadString('\n')
			raw.WriteString(line)
			if err != nil {
				return 0, raw.String(), err
			}
			if strings.HasPrefix(line, end) {
				break
			}
		}
	}
	return code, raw.String(), nil
}

// expect reads a reply and fails the test unless it has the given code.
func (c *ctrl) expect(code int) string {
	c.t.Helper()
	got, raw := c.reply()
	if got != code {
		c.t.Fatalf("got reply %q, want code %d", raw, code)
	}
	return raw
}

// cmd sends a command and expects a reply code.
func (c *ctrl) cmd(line string, code int) string {
	c.t.Helper()
	c.send(line)
	return c.expect(code)
}

var (
	pasvRe = regexp.MustCompile(`\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)`)
	epsvRe = regexp.MustCompile(`\(\|\|\|(\d+)\|\)`)
)

// pasv sends PASV and returns the address from the 227 reply.
func (c *ctrl) pasv() string {
	c.t.Helper()
	raw := c.cmd("PASV", 227)
	m := pasvRe.FindStringSubmatch(raw)
	if m == nil {
		c.t.Fatalf("bad 227 reply %q", raw)
	}
	p1, _ := strconv.Atoi(m[5])
	p2, _ := strconv.Atoi(m[6])
	return fmt.Sprintf("%s.%s.%s.%s:%d", m[1], m[2], m[3], m[4], p1*256+p2)
}

// epsv sends EPSV and returns the data address on the control host.
func (c *ctrl) epsv() string {
	c.t.Helper()
	raw := c.cmd("EPSV", 229)
	m := epsvRe.FindStringSubmatch(raw)
	if m == nil {
		c.t.Fatalf("bad 229 reply %q", raw)
	}
	host, _, _ := net.SplitHostPort(c.c.RemoteAddr().String())
	return net.JoinHostPort(host, m[1])
}

// dialData connects to a passive data address.
func dialData(t testing.TB, addr string) net.Conn {
	t.Helper()
	d, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// readAll reads a data connection to its end.
func readAll(t testing.TB, d net.Conn) string {
	t.Helper()
	d.SetReadDeadline(time.Now().Add(20 * time.Second))
	b, err := io.ReadAll(d)
	if err != nil {
		t.Fatalf("reading data connection: %v", err)
	}
	return string(b)
}

// retr downloads a path over EPSV with the data connection made first.
func (c *ctrl) retr(path string) string {
	c.t.Helper()
	d := dialData(c.t, c.epsv())
	c.cmd("RETR "+path, 150)
	got := readAll(c.t, d)
	c.expect(226)
	return got
}

// list runs a listing command (LIST, NLST, MLSD with argument) and returns
// the data sent.
func (c *ctrl) list(line string) string {
	c.t.Helper()
	d := dialData(c.t, c.epsv())
	c.cmd(line, 150)
	got := readAll(c.t, d)
	c.expect(226)
	return got
}

// waitFor awaits a condition; see testtool.WaitFor.
var waitFor = testtool.WaitFor

// sessionCount returns the number of live sessions.
func (ts *testServer) sessionCount() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return len(ts.sessions)
}
