package ftpd

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/library"
)

// dialFrom connects from the given local IP (any of 127/8 works on
// loopback) and returns the connection with the greeting line read.
func dialFrom(t *testing.T, addr, localIP string) (net.Conn, *bufio.Reader, string) {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second}
	if localIP != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(localIP)}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("reading greeting: %v (got %q)", err, line)
	}
	return c, r, line
}

// expectRefused dials and checks that the server answers 421 and closes.
func expectRefused(t *testing.T, addr, localIP string) {
	t.Helper()
	_, r, line := dialFrom(t, addr, localIP)
	if !strings.HasPrefix(line, "421 ") || !strings.HasSuffix(line, "\r\n") {
		t.Fatalf("connection over the limit got %q, want 421", line)
	}
	if rest, err := io.ReadAll(r); err != nil || len(rest) != 0 {
		t.Fatalf("connection over the limit not closed after 421: %q, %v", rest, err)
	}
}

// loginFrom dials from localIP and logs in.
func loginFrom(t *testing.T, addr, localIP string) *ctrl {
	t.Helper()
	c, r, line := dialFrom(t, addr, localIP)
	if !strings.HasPrefix(line, "220 ") {
		t.Fatalf("greeting %q, want 220", line)
	}
	cc := &ctrl{t: t, c: c, r: r}
	cc.cmd("USER anonymous", 331)
	cc.cmd("PASS guest@", 230)
	return cc
}

func TestMaxClients(t *testing.T) {
	ts, _ := newTestServer(t, func(s *Server) { s.MaxClients = 3 })
	var cs []*ctrl
	for range 3 {
		cs = append(cs, login(t, ts.Addr))
	}
	expectRefused(t, ts.Addr, "")
	expectRefused(t, ts.Addr, "127.0.0.2") // the limit is for everyone
	for _, c := range cs {
		c.cmd("NOOP", 200) // the admitted sessions are untouched
	}

	cs[0].cmd("QUIT", 221)
	waitFor(t, "the session to end", func() bool { return ts.sessionCount() == 2 })
	c := login(t, ts.Addr)
	c.cmd("PWD", 257)
	expectRefused(t, ts.Addr, "")

	// A session dropped without QUIT frees its slot too.
	cs[1].c.Close()
	waitFor(t, "the dropped session to end", func() bool { return ts.sessionCount() == 2 })
	login(t, ts.Addr).cmd("NOOP", 200)
}

func TestMaxPerIP(t *testing.T) {
	ts, _ := newTestServer(t, func(s *Server) { s.MaxPerIP = 2 })
	a := login(t, ts.Addr)
	b := login(t, ts.Addr)
	expectRefused(t, ts.Addr, "127.0.0.1")
	other := loginFrom(t, ts.Addr, "127.0.0.2")
	other.cmd("PWD", 257)
	loginFrom(t, ts.Addr, "127.0.0.2").cmd("NOOP", 200)
	expectRefused(t, ts.Addr, "127.0.0.2")
	a.cmd("NOOP", 200)
	b.cmd("QUIT", 221)
	waitFor(t, "the session to end", func() bool { return ts.sessionCount() == 3 })
	login(t, ts.Addr).cmd("NOOP", 200)
	expectRefused(t, ts.Addr, "127.0.0.1")
}

func TestLongAndGarbageLines(t *testing.T) {
	ts, dir := newTestServer(t, nil)
	writeFile(t, dir, "a.mkv", "hello")
	normal := login(t, ts.Addr)

	// 1 MiB without a newline: 500, and the session ends.
	long := login(t, ts.Addr)
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		// The server stops reading after its line limit: the write fails
		// or blocks until the connection is closed, either is fine.
		long.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
		long.c.Write([]byte(strings.Repeat("A", 1<<20)))
	}()
	code, raw, err := long.tryReply()
	if err != nil || code != 500 {
		t.Errorf("1 MiB line: got %q, %v; want 500", raw, err)
	}
	if _, raw, err := long.tryReply(); err == nil {
		t.Errorf("the session goes on after a 1 MiB line: %q", raw)
	}
	long.c.Close()
	<-sent

	// Meanwhile another session is served as usual.
	normal.cmd("NOOP", 200)
	if got := normal.retr("/Media/a.mkv"); got != "hello" {
		t.Errorf("RETR = %q", got)
	}

	// Garbage gets 500 and the session goes on.
	for _, line := range []string{
		"\x00\x01\x02\x03",
		"\x80\x81\xfe\xfd garbage",
		"\xc3\x28 \xa0\xa1",
		"RETR\x00 a.mkv",
		"\xf0\x28\x8c\x28",
		"\x1b[2J\x1b[H",
		" \x01junk",
		"GET / HTTP/1.1",
		"NOOPNOOPNOOP",
	} {
		normal.send(line)
		if code, raw := normal.reply(); raw != "500 Unknown command.\r\n" {
			t.Errorf("%q: got %d %q, want \"500 Unknown command.\"", line, code, raw)
		}
	}
	// A line just under the limit, if not a command, is just unknown.
	normal.send(strings.Repeat("\xfe\xfd", 4000))
	normal.expect(500)
	normal.cmd(" NOOP", 200)
	normal.cmd("PWD", 257)
	if got := normal.retr("/Media/a.mkv"); got != "hello" {
		t.Errorf("RETR after garbage = %q", got)
	}
}

// freePortRange returns the first of n consecutive ports that are free on
// 127.0.0.1, below the kernel's ephemeral range so that no client socket
// takes one meanwhile.
func freePortRange(t *testing.T, n int) int {
	t.Helper()
search:
	for range 200 {
		base := 20000 + rand.IntN(10000)
		for p := base; p < base+n; p++ {
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
			if err != nil {
				continue search
			}
			l.Close()
		}
		return base
	}
	t.Fatal("no free port range")
	return 0
}

// epsvPort sends EPSV and returns the port, or 0 with the reply if refused.
func epsvPort(t *testing.T, c *ctrl) (int, string) {
	t.Helper()
	c.send("EPSV")
	code, raw := c.reply()
	if code != 229 {
		return 0, raw
	}
	m := epsvRe.FindStringSubmatch(raw)
	if m == nil {
		t.Fatalf("bad 229 reply %q", raw)
	}
	port, _ := strconv.Atoi(m[1])
	return port, raw
}

func TestPassivePortRange(t *testing.T) {
	lo := freePortRange(t, 3)
	hi := lo + 2
	ts, dir := newTestServer(t, func(s *Server) { s.PasvMin, s.PasvMax = lo, hi })
	writeFile(t, dir, "a.mkv", "hello")
	inRange := func(p int) bool { return lo <= p && p <= hi }

	// Many short sessions, as Kodi makes: ports are freed at once.
	for i := range 30 {
		c := login(t, ts.Addr)
		port, raw := epsvPort(t, c)
		if !inRange(port) {
			t.Fatalf("session %d: EPSV got %q, want a port in %d-%d", i, raw, lo, hi)
		}
		d := dialData(t, "127.0.0.1:"+strconv.Itoa(port))
		c.cmd("LIST /Media", 150)
		if got := readAll(t, d); !strings.HasSuffix(got, " a.mkv\r\n") {
			t.Fatalf("LIST = %q", got)
		}
		c.expect(226)
		c.cmd("QUIT", 221)
		c.c.Close()
	}

	// Every port in use: the next EPSV gets 425.
	var cs []*ctrl
	used := map[int]*ctrl{}
	for range 3 {
		c := login(t, ts.Addr)
		port, raw := epsvPort(t, c)
		if !inRange(port) || used[port] != nil {
			t.Fatalf("EPSV got %q; ports in use %v", raw, used)
		}
		used[port] = c
		cs = append(cs, c)
	}
	last := login(t, ts.Addr)
	if port, raw := epsvPort(t, last); port != 0 || !strings.HasPrefix(raw, "425 ") {
		t.Fatalf("EPSV with the range used up: %q, want 425", raw)
	}
	last.send("PASV")
	if code, raw := last.reply(); code != 425 {
		t.Fatalf("PASV with the range used up: %q, want 425", raw)
	}
	// A session asking again replaces its own listener, not another's.
	if port, raw := epsvPort(t, cs[2]); !inRange(port) {
		t.Fatalf("EPSV again in a session holding a port: %q", raw)
	}

	// Once a transfer has used a port, it is free again.
	if got := cs[0].list("NLST /Media"); got != "a.mkv\r\n" {
		t.Fatalf("NLST = %q", got)
	}
	if port, raw := epsvPort(t, last); !inRange(port) {
		t.Fatalf("EPSV after a transfer freed a port: %q", raw)
	}
	// ABOR and QUIT free a port waiting for a transfer too.
	cs[1].cmd("ABOR", 225)
	if port, raw := epsvPort(t, cs[0]); !inRange(port) {
		t.Fatalf("EPSV after ABOR: %q", raw)
	}
	cs[2].cmd("QUIT", 221)
	waitFor(t, "the session to end", func() bool { return ts.sessionCount() == 3 })
	if got := cs[1].retr("/Media/a.mkv"); got != "hello" {
		t.Fatalf("RETR after QUIT freed a port: %q", got)
	}
}

// bigSparse makes a sparse file of the given size: a big film that takes
// no disk space.
func bigSparse(t *testing.T, dir, name string, size int64) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
}

// startBigRetr logs in, starts RETR of name over EPSV and reads the first
// bytes, so that the transfer is known to run.
func startBigRetr(t *testing.T, addr, name string) (*ctrl, net.Conn) {
	t.Helper()
	c := login(t, addr)
	d := dialData(t, c.epsv())
	c.cmd("RETR "+name, 150)
	d.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(d, make([]byte, 64<<10)); err != nil {
		t.Fatalf("reading the first bytes: %v", err)
	}
	return c, d
}

func TestDroppedSessionsLeaveNothing(t *testing.T) {
	ts, dir := newTestServer(t, nil)
	bigSparse(t, dir, "film.mkv", 8<<30)
	base := runtime.NumGoroutine()

	for i := range 12 {
		c, d := startBigRetr(t, ts.Addr, "/Media/film.mkv")
		// As curl does after an early end: no ABOR, no QUIT. Vary which
		// end goes first.
		if i%2 == 0 {
			c.c.Close()
			d.Close()
		} else {
			d.Close()
			c.c.Close()
		}
	}
	// A session that stalls, then drops only its control connection.
	c, d := startBigRetr(t, ts.Addr, "/Media/film.mkv")
	c.c.Close()

	waitFor(t, "every session to end", func() bool { return ts.sessionCount() == 0 })
	waitFor(t, "the goroutines to end", func() bool { return runtime.NumGoroutine() <= base })
	// The stalled data connection was closed by the server.
	d.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.Copy(io.Discard, d); err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("data connection of a dropped session: %v", err)
	}
	login(t, ts.Addr).cmd("NOOP", 200)
}

func TestSharesChangeAtRunTime(t *testing.T) {
	ts, dir := newTestServer(t, nil)
	writeFile(t, dir, "a.mkv", "media")
	extra := t.TempDir()
	writeFile(t, extra, "x.mkv", "extra")
	c := login(t, ts.Addr)
	c.cmd("CWD /Media", 250)

	if got := nlstNames(t, c.list("NLST /")); !sameSet(got, []string{"Media"}) {
		t.Fatalf("NLST / = %q", got)
	}
	if err := ts.Set.Add(library.Share{Name: "Extra", Path: extra}); err != nil {
		t.Fatal(err)
	}
	if got := nlstNames(t, c.list("NLST /")); !sameSet(got, []string{"Media", "Extra"}) {
		t.Errorf("NLST / after Add = %q", got)
	}
	if got := c.retr("/Extra/x.mkv"); got != "extra" {
		t.Errorf("RETR from the added share = %q", got)
	}
	c.cmd("CWD ../Extra", 250)

	if err := ts.Set.Remove("Extra"); err != nil {
		t.Fatal(err)
	}
	c.cmd("CWD /Extra", 550)
	c.cmd("SIZE /Extra/x.mkv", 550)
	c.epsv()
	c.cmd("RETR /Extra/x.mkv", 550)
	// The session's folder was removed under it: relative paths fail too.
	c.cmd("SIZE x.mkv", 550)
	if got := nlstNames(t, c.list("NLST /")); !sameSet(got, []string{"Media"}) {
		t.Errorf("NLST / after Remove = %q", got)
	}
	c.cmd("CWD /Media", 250)
	if got := c.retr("a.mkv"); got != "media" {
		t.Errorf("RETR from the remaining share = %q", got)
	}
}

func TestShareFolderComesAndGoes(t *testing.T) {
	ts, _ := newTestServer(t, nil)
	usb := filepath.Join(t.TempDir(), "usb")
	if err := ts.Set.Add(library.Share{Name: "USB", Path: usb}); err != nil {
		t.Fatal(err)
	}
	c := login(t, ts.Addr)

	// Missing: listed nowhere, not enterable.
	if got := nlstNames(t, c.list("NLST /")); !sameSet(got, []string{"Media"}) {
		t.Errorf("NLST / with the USB folder missing = %q", got)
	}
	if got := c.list("MLSD /"); strings.Contains(got, "USB") {
		t.Errorf("MLSD / with the USB folder missing = %q", got)
	}
	c.cmd("CWD /USB", 550)
	c.cmd("MLST /USB", 550)

	// Plugged in: served, in the same session.
	if err := os.Mkdir(usb, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, usb, "old.mkv", "old disk")
	if got := nlstNames(t, c.list("NLST /")); !sameSet(got, []string{"Media", "USB"}) {
		t.Errorf("NLST / with the USB folder present = %q", got)
	}
	c.cmd("CWD /USB", 250)
	if got := c.retr("old.mkv"); got != "old disk" {
		t.Errorf("RETR = %q", got)
	}

	// Unplugged and another disk plugged in: the new folder is served.
	if err := os.RemoveAll(usb); err != nil {
		t.Fatal(err)
	}
	c.cmd("SIZE old.mkv", 550)
	c.cmd("CWD /USB", 550)
	if got := nlstNames(t, c.list("NLST /")); !sameSet(got, []string{"Media"}) {
		t.Errorf("NLST / with the USB folder removed = %q", got)
	}
	if err := os.Mkdir(usb, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, usb, "new.mkv", "new disk")
	if got := c.retr("/USB/new.mkv"); got != "new disk" {
		t.Errorf("RETR from the new folder = %q", got)
	}
	c.cmd("SIZE /USB/old.mkv", 550)
	if got := nlstNames(t, c.list("NLST /USB")); !sameSet(got, []string{"new.mkv"}) {
		t.Errorf("NLST /USB = %q", got)
	}
	c.cmd("CWD /USB", 250)
}

// served is the outcome of a Serve call, readable any number of times.
type served struct {
	done chan struct{}
	err  error // set before done is closed
}

// wait returns Serve's error once it has returned.
func (s *served) wait() error {
	select {
	case <-s.done:
		return s.err
	case <-time.After(5 * time.Second):
		return errors.New("Serve did not return within 5s")
	}
}

// startServer runs a Server on 127.0.0.1:0 that the test shuts down
// itself; the cleanup only makes sure it is closed.
func startServer(t *testing.T, dir string) (*Server, string, *served) {
	t.Helper()
	set, err := library.NewSet(library.Share{Name: "Media", Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	srv := &Server{
		Shares: set,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sv := &served{done: make(chan struct{})}
	go func() {
		sv.err = srv.Serve(l)
		close(sv.done)
	}()
	t.Cleanup(func() {
		srv.Close()
		if err := sv.wait(); !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return srv, l.Addr().String(), sv
}

// checkServeClosed checks that Serve returned ErrServerClosed.
func checkServeClosed(t *testing.T, sv *served) {
	t.Helper()
	if err := sv.wait(); !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve returned %v, want ErrServerClosed", err)
	}
}

// shutdownAsync calls Shutdown in a goroutine and returns its result channel.
func shutdownAsync(srv *Server, ctx context.Context) <-chan error {
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(ctx) }()
	return done
}

func TestShutdownIdle(t *testing.T) {
	srv, addr, served := startServer(t, t.TempDir())
	c := login(t, addr)
	pre := dialCtrl(t, addr) // not logged in
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown with idle sessions = %v, want nil", err)
	}
	for _, cc := range []*ctrl{c, pre} {
		cc.expect(421)
		if _, raw, err := cc.tryReply(); err == nil {
			t.Errorf("session goes on after 421: %q", raw)
		}
	}
	checkServeClosed(t, served)
	if c, err := net.DialTimeout("tcp", addr, 5*time.Second); err == nil {
		c.Close()
		t.Error("the listener still accepts after Shutdown")
	}
	if err := srv.Shutdown(ctx); err != nil {
		t.Errorf("second Shutdown = %v", err)
	}
}

func TestShutdownWaitsForTransfer(t *testing.T) {
	dir := t.TempDir()
	const size = 64 << 20 // far more than the socket buffers hold
	bigSparse(t, dir, "film.mkv", size)
	srv, addr, served := startServer(t, dir)
	idle := login(t, addr)
	c, d := startBigRetr(t, addr, "/Media/film.mkv")

	// The player is paused: the transfer cannot end.
	done := shutdownAsync(srv, context.Background())
	idle.expect(421) // Shutdown has run through the sessions
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned %v while a transfer was running", err)
	default:
	}

	// The player resumes and gets every byte, then 226.
	d.SetReadDeadline(time.Now().Add(30 * time.Second))
	n, err := io.Copy(io.Discard, d)
	if err != nil || n != size-64<<10 {
		t.Errorf("after Shutdown began, read %d bytes, %v; want %d", n, err, size-64<<10)
	}
	c.expect(226)
	c.expect(421)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Shutdown = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Shutdown did not return after the transfer ended")
	}
	checkServeClosed(t, served)
}

func TestShutdownDeadline(t *testing.T) {
	dir := t.TempDir()
	bigSparse(t, dir, "film.mkv", 1<<30)
	srv, addr, served := startServer(t, dir)
	c, d := startBigRetr(t, addr, "/Media/film.mkv")

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown with a stalled transfer = %v, want %v", err, context.DeadlineExceeded)
	}
	// The session is closed: the control connection ends, whatever the
	// last reply, and so does the data connection.
	for {
		if _, _, err := c.tryReply(); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				t.Error("control connection still open after Shutdown gave up")
			}
			break
		}
	}
	d.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.Copy(io.Discard, d); errors.Is(err, os.ErrDeadlineExceeded) {
		t.Error("data connection still open after Shutdown gave up")
	}
	checkServeClosed(t, served)
}

func TestServeAfterShutdown(t *testing.T) {
	srv, _, served := startServer(t, t.TempDir())
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkServeClosed(t, served)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(l); !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve after Shutdown = %v, want ErrServerClosed", err)
	}
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Serve after Shutdown left its listener open: %v", err)
	}
}

// Shutdown racing with many sessions starting and ending must neither hang
// nor race.
func TestShutdownUnderLoad(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.mkv", "hello")
	srv, addr, served := startServer(t, dir)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				c, err := net.DialTimeout("tcp", addr, 5*time.Second)
				if err != nil {
					return // the listener is closed
				}
				c.SetDeadline(time.Now().Add(10 * time.Second))
				io.WriteString(c, "USER a\r\nPASS b\r\nNOOP\r\nQUIT\r\n")
				io.Copy(io.Discard, c)
				c.Close()
			}
		})
	}
	login(t, addr).cmd("NOOP", 200) // the load is running
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown under load = %v", err)
	}
	close(stop)
	wg.Wait()
	checkServeClosed(t, served)
}
