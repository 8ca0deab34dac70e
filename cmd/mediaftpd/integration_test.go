package main

// Integration tests: they build the mediaftpd binary once, run it on a free
// loopback port with shares in temporary folders, and drive it with the
// real clients our users have (curl, ffmpeg/ffprobe, lftp, Python's ftplib)
// and with a small raw FTP client for the command line contract. A missing
// client program skips its test on a developer's machine and fails it under
// CI (see internal/testtool).

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math"
	"math/rand/v2"
	"net"
	"net/textproto"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/testtool"
)

// Generous bounds: they only turn a hang into a failure.
const (
	toolTimeout  = 60 * time.Second // one run of an outside program
	startTimeout = 20 * time.Second // until the server accepts connections
	stopTimeout  = 20 * time.Second // from SIGTERM until the server has exited
)

// fixedTime is the mtime of every file and folder of a test tree, so that
// MDTM and MLSD can be checked exactly.
var fixedTime = time.Date(2024, time.March, 5, 6, 7, 8, 0, time.UTC)

// mediaftpdBin is the binary under test, built by TestMain.
var mediaftpdBin string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "mediaftpd-test-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "mediaftpd")
	args := []string{"build", "-o", bin}
	env := os.Environ()
	if raceEnabled() {
		// A data race in the server then makes it exit 66 instead of 0.
		args = append(args, "-race")
	} else {
		// Built as packaging/build.sh builds the .deb, so that the
		// benchmarks measure what ships: without cgo (a binary linked
		// with libc has about 0.5 MiB more idle PSS), trimmed, stripped.
		args = append(args, "-trimpath", "-ldflags=-s -w")
		env = append(env, "CGO_ENABLED=0")
	}
	build := exec.Command("go", append(args, ".")...)
	build.Env = env
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "building mediaftpd: %v\n", err)
		return 1
	}
	mediaftpdBin = bin
	return m.Run()
}

// raceEnabled reports whether this test binary was built with -race.
func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// ---------------------------------------------------------------------------
// The server process

// server is a running mediaftpd process.
type server struct {
	Addr string // FTP control address, 127.0.0.1:port

	cmd    *exec.Cmd
	log    *logBuffer
	exited chan struct{} // closed once the process has been waited for

	stopOnce sync.Once
	code     int           // exit code, set by stop
	elapsed  time.Duration // from SIGTERM to exit, set by stop
}

// logBuffer collects the server's stderr.
type logBuffer = testtool.LogBuffer

// Log returns what the server has logged so far.
func (s *server) Log() string { return s.log.String() }

var errPortTaken = errors.New("port taken")

// startServer runs mediaftpd in dir ("" for this process's folder) with
// -listen on a free loopback port, the status page and mDNS off, and args
// after those flags. It returns once the server accepts connections. At
// cleanup the server gets SIGTERM and must exit with 0; its log goes to the
// test log.
func startServer(t *testing.T, dir string, args ...string) *server {
	t.Helper()
	for attempt := 1; ; attempt++ {
		s, err := tryStartServer(t, dir, args)
		if err == nil {
			return s
		}
		if errors.Is(err, errPortTaken) && attempt < 3 {
			t.Logf("%v; trying another port", err)
			continue
		}
		t.Fatal(err)
	}
}

func tryStartServer(t *testing.T, dir string, args []string) (*server, error) {
	t.Helper()
	s := &server{
		Addr:   net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t))),
		log:    &logBuffer{},
		exited: make(chan struct{}),
	}
	all := append([]string{"-listen", s.Addr, "-web", "off", "-mdns=false", "-dlna", "off", "-state-dir", t.TempDir()}, args...)
	s.cmd = exec.Command(mediaftpdBin, all...)
	s.cmd.Dir = dir
	s.cmd.Env = serverEnv()
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting mediaftpd: %w", err)
	}
	go func() {
		s.cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitReady(); err != nil {
		s.cmd.Process.Kill()
		<-s.exited
		log := s.Log()
		if strings.Contains(log, "address already in use") {
			return nil, fmt.Errorf("%w: %s", errPortTaken, s.Addr)
		}
		return nil, fmt.Errorf("mediaftpd %s: %w\nlog:\n%s", strings.Join(all, " "), err, log)
	}
	t.Logf("started mediaftpd %s", strings.Join(all, " "))
	t.Cleanup(func() {
		code, _ := s.stop(t)
		log := s.Log()
		t.Logf("mediaftpd log:\n%s", log)
		if code != 0 {
			t.Errorf("mediaftpd exited with %d after SIGTERM, want 0", code)
		}
		if strings.Contains(log, "DATA RACE") {
			t.Error("the race detector found a data race in mediaftpd (see its log)")
		}
		if strings.Contains(log, "panic") {
			t.Error("mediaftpd logged a panic (see its log)")
		}
	})
	return s, nil
}

// waitReady polls the control port until the server sends its greeting.
func (s *server) waitReady() error {
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-s.exited:
			return fmt.Errorf("exited (%v) before accepting connections", s.cmd.ProcessState)
		default:
		}
		if c, err := net.DialTimeout("tcp", s.Addr, time.Second); err == nil {
			c.SetDeadline(time.Now().Add(5 * time.Second))
			line, err := textproto.NewReader(bufio.NewReader(c)).ReadLine()
			c.Close()
			if err == nil && strings.HasPrefix(line, "220") {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not accepting connections on %s after %v", s.Addr, startTimeout)
		}
		select {
		case <-s.exited:
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// stop sends SIGTERM and waits for the process to exit. It returns the
// exit code and the time from the signal to the exit. Calls after the
// first return the same.
func (s *server) stop(t *testing.T) (code int, elapsed time.Duration) {
	t.Helper()
	s.stopOnce.Do(func() {
		start := time.Now()
		if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
			t.Errorf("SIGTERM: %v", err)
		}
		select {
		case <-s.exited:
		case <-time.After(stopTimeout):
			t.Errorf("mediaftpd still running %v after SIGTERM; killing it", stopTimeout)
			s.cmd.Process.Kill()
			<-s.exited
		}
		s.elapsed = time.Since(start)
		s.code = s.cmd.ProcessState.ExitCode()
	})
	return s.code, s.elapsed
}

// URL returns the ftp:// URL of the virtual path p, percent-encoded.
func (s *server) URL(p string) string {
	return (&url.URL{Scheme: "ftp", Host: s.Addr, Path: p}).String()
}

// Port returns the server's control port.
func (s *server) Port() string {
	_, port, _ := net.SplitHostPort(s.Addr)
	return port
}

// serverEnv is the environment of mediaftpd: when built with -race, it
// exits without the race detector's customary one-second pause.
func serverEnv() []string {
	return append(os.Environ(), "GORACE="+strings.TrimSpace("atexit_sleep_ms=0 "+os.Getenv("GORACE")))
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// runBin runs mediaftpd to completion (for invocations that must exit by
// themselves) and returns its output and exit code.
func runBin(t *testing.T, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, mediaftpdBin, args...)
	cmd.Dir = dir
	cmd.Env = serverEnv()
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("mediaftpd %s: still running after 20s; it should have exited\nstderr:\n%s", strings.Join(args, " "), e.String())
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("mediaftpd %s: %v", strings.Join(args, " "), err)
	}
	return o.String(), e.String(), cmd.ProcessState.ExitCode()
}

// ---------------------------------------------------------------------------
// Outside programs

// toolEnv is the environment of outside programs: a UTF-8 locale (lftp
// converts names to it) and no proxies.
func toolEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasSuffix(strings.ToLower(k), "_proxy") || k == "LC_ALL" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=C.UTF-8")
}

// runTool runs an outside program (skipping the test if it is missing) and
// returns its standard output, standard error and error.
func runTool(t *testing.T, name string, args ...string) (stdout []byte, stderr string, err error) {
	t.Helper()
	path := testtool.Need(t, name)
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = toolEnv()
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %s: timed out after %v\nstderr:\n%s", name, quoteArgs(args), toolTimeout, e.String())
	}
	return o.Bytes(), e.String(), err
}

// mustRun runs an outside program that must succeed and returns its output.
func mustRun(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	out, stderr, err := runTool(t, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\nstderr:\n%s", name, quoteArgs(args), err, stderr)
	}
	return out
}

// mustFail runs an outside program that must fail and returns its stderr.
func mustFail(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, stderr, err := runTool(t, name, args...)
	if err == nil {
		t.Errorf("%s %s: succeeded, want failure\nstdout:\n%s\nstderr:\n%s", name, quoteArgs(args), out, stderr)
	}
	return stderr
}

func quoteArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = strconv.Quote(a)
	}
	return strings.Join(q, " ")
}

// curl runs curl with the options every test wants.
func curl(t *testing.T, args ...string) []byte {
	t.Helper()
	return mustRun(t, "curl", append([]string{"-sS", "--connect-timeout", "10"}, args...)...)
}

// lftpScript returns an lftp -c script that logs in anonymously and runs cmds.
// Retries are off so that a refusal fails at once.
func lftpScript(s *server, cmds ...string) string {
	return strings.Join(append([]string{
		// Plain anonymous FTP, as players use it. lftp would otherwise
		// switch to TLS by itself, the server offering AUTH TLS, and
		// refuse its self-signed certificate (accounts_test.go covers
		// lftp over TLS).
		"set ftp:ssl-allow no",
		"set cmd:fail-exit yes",
		"set net:max-retries 1",
		"set net:timeout 10",
		"set net:reconnect-interval-base 1",
		"set xfer:log no",
		"open -u anonymous, ftp://127.0.0.1:" + s.Port(),
	}, cmds...), "; ")
}

// python runs a Python script with arguments and decodes the JSON it prints
// into v.
func python(t *testing.T, v any, script string, args ...string) {
	t.Helper()
	out := mustRun(t, "python3", append([]string{"-c", script}, args...)...)
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("python output %q: %v", out, err)
	}
}

// ---------------------------------------------------------------------------
// Test trees

// mediaTree is the share most tests serve: nested folders, UTF-8 names,
// names with spaces, an empty file and folder, and dotfiles, which are
// never listed or served. A path ending in "/" is a folder.
func mediaTree() map[string][]byte {
	return map[string][]byte{
		"a.bin":                         pseudoRandom(1, 100_000),
		"Amélie.mkv":                    pseudoRandom(2, 30_000),
		"Season 1/Episode 01.mkv":       pseudoRandom(3, 50_000),
		"Season 1/Extras/deep/clip.bin": pseudoRandom(4, 1234),
		"Season 1/.DS_Store":            []byte("finder"),
		"Música/Canción.mp3":            pseudoRandom(5, 4096),
		"empty.txt":                     {},
		"Empty Folder/":                 nil,
		".hidden":                       []byte("secret"),
		".dotdir/inside.mkv":            pseudoRandom(6, 100),
	}
}

// pseudoRandom returns n reproducible bytes that differ at every offset, so
// that a transfer from a wrong offset is noticed.
func pseudoRandom(seed byte, n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{seed}).Read(b)
	return b
}

// writeTree creates tree under dir and gives every file and folder the
// mtime fixedTime.
func writeTree(t *testing.T, dir string, tree map[string][]byte) {
	t.Helper()
	for rel, data := range tree {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if strings.HasSuffix(rel, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	setTimes(t, dir)
}

// setTimes gives everything under dir, dir included, the mtime fixedTime.
func setTimes(t *testing.T, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink != 0 {
			return err
		}
		return os.Chtimes(p, fixedTime, fixedTime)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// hidden reports whether a path of a test tree has a component that starts
// with a dot.
func hidden(rel string) bool {
	return slices.ContainsFunc(strings.Split(strings.TrimSuffix(rel, "/"), "/"), func(c string) bool {
		return strings.HasPrefix(c, ".")
	})
}

// readTree returns the files and folders under dir as writeTree takes them.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			out[rel+"/"] = nil
			return nil
		}
		data, err := os.ReadFile(p)
		out[rel] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// withFolders returns tree with an entry for every folder that holds
// something.
func withFolders(tree map[string][]byte) map[string][]byte {
	out := maps.Clone(tree)
	for rel := range tree {
		for d := strings.TrimSuffix(rel, "/"); ; {
			i := strings.LastIndex(d, "/")
			if i < 0 {
				break
			}
			d = d[:i]
			out[d+"/"] = nil
		}
	}
	return out
}

// visibleTree returns what a client should see of tree: no dotfiles.
func visibleTree(tree map[string][]byte) map[string][]byte {
	out := withFolders(tree)
	maps.DeleteFunc(out, func(rel string, _ []byte) bool { return hidden(rel) })
	return out
}

// compareTrees reports every difference between two trees.
func compareTrees(t *testing.T, got, want map[string][]byte) {
	t.Helper()
	for rel, w := range want {
		g, ok := got[rel]
		switch {
		case !ok:
			t.Errorf("%s: missing", rel)
		case !bytes.Equal(g, w):
			t.Errorf("%s: %d bytes differ from the original's %d", rel, len(g), len(w))
		}
	}
	for rel := range got {
		if _, ok := want[rel]; !ok {
			t.Errorf("%s: unexpected", rel)
		}
	}
}

// ---------------------------------------------------------------------------
// A raw FTP client, for what no outside program shows: the greeting, the
// PASV and EPSV ports, replies during shutdown.

type ftpConn struct {
	t    *testing.T
	conn net.Conn
	tp   *textproto.Conn
	// Greeting is the text of the 220 reply.
	Greeting string
}

func dialFTP(t *testing.T, addr string) *ftpConn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(toolTimeout))
	c := &ftpConn{t: t, conn: conn, tp: textproto.NewConn(conn)}
	t.Cleanup(func() { c.tp.Close() })
	c.Greeting = c.expect(220, "greeting")
	return c
}

// cmd sends a command and reads its reply, which must have code want (or,
// if want is one digit, start with it).
func (c *ftpConn) cmd(want int, format string, args ...any) string {
	c.t.Helper()
	line := fmt.Sprintf(format, args...)
	if err := c.tp.PrintfLine("%s", line); err != nil {
		c.t.Fatalf("sending %q: %v", line, err)
	}
	return c.expect(want, line)
}

func (c *ftpConn) expect(want int, what string) string {
	c.t.Helper()
	code, msg, err := c.tp.ReadResponse(want)
	if err != nil {
		c.t.Fatalf("%s: got %d %q, want %d: %v", what, code, msg, want, err)
	}
	return msg
}

func (c *ftpConn) login() {
	c.t.Helper()
	c.cmd(331, "USER anonymous")
	c.cmd(230, "PASS test@example.com")
}

var (
	epsvRE = regexp.MustCompile(`\(\|\|\|(\d+)\|\)`)
	pasvRE = regexp.MustCompile(`(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)`)
)

// epsv sends EPSV and returns the data port offered.
func (c *ftpConn) epsv() int {
	c.t.Helper()
	msg := c.cmd(229, "EPSV")
	m := epsvRE.FindStringSubmatch(msg)
	if m == nil {
		c.t.Fatalf("EPSV reply %q has no (|||port|)", msg)
	}
	port, _ := strconv.Atoi(m[1])
	return port
}

// pasv sends PASV and returns the data address offered.
func (c *ftpConn) pasv() (ip string, port int) {
	c.t.Helper()
	msg := c.cmd(227, "PASV")
	m := pasvRE.FindStringSubmatch(msg)
	if m == nil {
		c.t.Fatalf("PASV reply %q has no h1,h2,h3,h4,p1,p2", msg)
	}
	p1, _ := strconv.Atoi(m[5])
	p2, _ := strconv.Atoi(m[6])
	return strings.Join(m[1:5], "."), p1*256 + p2
}

// receive runs a command that sends data on a passive connection to
// ip:port and returns the data.
func (c *ftpConn) receive(ip string, port int, format string, args ...any) []byte {
	c.t.Helper()
	data, err := net.DialTimeout("tcp", net.JoinHostPort(ip, strconv.Itoa(port)), 10*time.Second)
	if err != nil {
		c.t.Fatalf("data connection to %s:%d: %v", ip, port, err)
	}
	defer data.Close()
	data.SetDeadline(time.Now().Add(toolTimeout))
	line := fmt.Sprintf(format, args...)
	c.cmd(1, "%s", line)
	b, err := io.ReadAll(data)
	if err != nil {
		c.t.Fatalf("%s: reading data: %v", line, err)
	}
	c.expect(226, line+" (end)")
	return b
}

// nlst returns the names in the folder dir, over an EPSV connection.
func (c *ftpConn) nlst(dir string) []string {
	c.t.Helper()
	return lines(c.receive("127.0.0.1", c.epsv(), "NLST %s", dir))
}

// retr returns the contents of the file at p, over an EPSV connection.
func (c *ftpConn) retr(p string) []byte {
	c.t.Helper()
	c.cmd(200, "TYPE I")
	return c.receive("127.0.0.1", c.epsv(), "RETR %s", p)
}

// lines splits text into lines without their CR LF, dropping empty ones.
func lines(b []byte) []string {
	var out []string
	for l := range strings.SplitSeq(string(b), "\n") {
		if l = strings.TrimSuffix(l, "\r"); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// listNames logs in and returns the NLST of dir, sorted.
func listNames(t *testing.T, s *server, dir string) []string {
	t.Helper()
	c := dialFTP(t, s.Addr)
	c.login()
	names := c.nlst(dir)
	for i, n := range names {
		names[i] = strings.TrimPrefix(n, strings.TrimSuffix(dir, "/")+"/") // bare names or paths: both fine
	}
	slices.Sort(names)
	c.cmd(221, "QUIT")
	return names
}

// listEntry is one line of a Unix-style LIST.
type listEntry struct {
	perm string
	size int64
}

var listRE = regexp.MustCompile(`^([-dl][-rwxsStT]{9}) +\d+ +\S+ +\S+ +(\d+) +[A-Z][a-z]{2} +\d{1,2} +(?:\d\d:\d\d|\d{4}) (.+)$`)

// parseList parses LIST output into entries by name. Every line must parse.
func parseList(t *testing.T, out []byte) map[string]listEntry {
	t.Helper()
	m := map[string]listEntry{}
	for _, l := range lines(out) {
		f := listRE.FindStringSubmatch(l)
		if f == nil {
			t.Errorf("LIST line %q is not in ls -l form", l)
			continue
		}
		size, _ := strconv.ParseInt(f[2], 10, 64)
		m[f[3]] = listEntry{perm: f[1], size: size}
	}
	return m
}

// ---------------------------------------------------------------------------
// 1. curl

func TestCurl(t *testing.T) {
	t.Parallel()
	testtool.Need(t, "curl")
	root := t.TempDir()
	share := filepath.Join(root, "Media")
	tree := mediaTree()
	writeTree(t, share, tree)
	s := startServer(t, "", share)

	t.Run("list root", func(t *testing.T) {
		got := parseList(t, curl(t, s.URL("/")))
		if e, ok := got["Media"]; !ok || !strings.HasPrefix(e.perm, "d") || len(got) != 1 {
			t.Errorf("LIST / = %v, want only the folder Media", got)
		}
		if names := lines(curl(t, "--list-only", s.URL("/"))); !slices.Equal(names, []string{"Media"}) {
			t.Errorf("NLST / = %q, want [Media]", names)
		}
	})

	t.Run("list share", func(t *testing.T) {
		got := parseList(t, curl(t, s.URL("/Media/")))
		want := map[string]listEntry{
			"a.bin":        {"-r--r--r--", 100_000},
			"Amélie.mkv":   {"-r--r--r--", 30_000},
			"empty.txt":    {"-r--r--r--", 0},
			"Season 1":     {"dr-xr-xr-x", -1},
			"Música":       {"dr-xr-xr-x", -1},
			"Empty Folder": {"dr-xr-xr-x", -1},
		}
		for name, w := range want {
			g, ok := got[name]
			if !ok {
				t.Errorf("LIST /Media/ has no %q", name)
				continue
			}
			if g.perm != w.perm || (w.size >= 0 && g.size != w.size) {
				t.Errorf("LIST /Media/ %q: %s %d, want %s %d", name, g.perm, g.size, w.perm, w.size)
			}
		}
		if len(got) != len(want) {
			t.Errorf("LIST /Media/ = %v, want exactly %d entries (no dotfiles)", got, len(want))
		}
	})

	t.Run("download", func(t *testing.T) {
		for _, rel := range []string{"a.bin", "empty.txt", "Season 1/Extras/deep/clip.bin"} {
			if got := curl(t, s.URL("/Media/"+rel)); !bytes.Equal(got, tree[rel]) {
				t.Errorf("%s: got %d bytes, want the file's %d", rel, len(got), len(tree[rel]))
			}
		}
	})

	t.Run("byte range", func(t *testing.T) {
		got := curl(t, "-r", "1000-1999", s.URL("/Media/a.bin"))
		if want := tree["a.bin"][1000:2000]; !bytes.Equal(got, want) {
			t.Errorf("-r 1000-1999: got %d bytes, not bytes 1000-1999 of the file", len(got))
		}
		got = curl(t, "-r", "99990-", s.URL("/Media/a.bin"))
		if want := tree["a.bin"][99990:]; !bytes.Equal(got, want) {
			t.Errorf("-r 99990-: got %q, want the last 10 bytes", got)
		}
	})

	t.Run("passive modes", func(t *testing.T) {
		for _, tc := range []struct {
			args       []string
			sent, not  string // curl -v shows the commands it sends
			clientName string
		}{
			{[]string{"--ftp-pasv"}, "> EPSV", "> PASV", "curl --ftp-pasv"},
			{[]string{"--ftp-pasv", "--disable-epsv"}, "> PASV", "> EPSV", "Kodi (libcurl, EPSV off)"},
		} {
			args := append(append([]string{"-sS", "-v"}, tc.args...), s.URL("/Media/Season 1/Episode 01.mkv"))
			got, stderr, err := runTool(t, "curl", args...)
			if err != nil {
				t.Fatalf("%s: %v\n%s", tc.clientName, err, stderr)
			}
			if !bytes.Equal(got, tree["Season 1/Episode 01.mkv"]) {
				t.Errorf("%s: got %d bytes, want the file's %d", tc.clientName, len(got), len(tree["Season 1/Episode 01.mkv"]))
			}
			if !strings.Contains(stderr, tc.sent) || strings.Contains(stderr, tc.not) {
				t.Errorf("%s: curl should have sent %q and not %q:\n%s", tc.clientName, tc.sent, tc.not, stderr)
			}
		}
	})

	t.Run("UTF-8 name", func(t *testing.T) {
		u := s.URL("/Media/Amélie.mkv")
		if !strings.Contains(u, "Am%C3%A9lie.mkv") {
			t.Fatalf("URL %s is not percent-encoded", u)
		}
		if got := curl(t, u); !bytes.Equal(got, tree["Amélie.mkv"]) {
			t.Errorf("Amélie.mkv: got %d bytes, want the file's %d", len(got), len(tree["Amélie.mkv"]))
		}
		if got := curl(t, s.URL("/Media/Música/Canción.mp3")); !bytes.Equal(got, tree["Música/Canción.mp3"]) {
			t.Errorf("Música/Canción.mp3: got %d bytes, want the file's %d", len(got), len(tree["Música/Canción.mp3"]))
		}
	})

	t.Run("dotfiles not served", func(t *testing.T) {
		mustFail(t, "curl", "-sS", s.URL("/Media/.hidden"))
		mustFail(t, "curl", "-sS", s.URL("/Media/.dotdir/inside.mkv"))
	})

	t.Run("upload refused", func(t *testing.T) {
		src := filepath.Join(t.TempDir(), "x")
		if err := os.WriteFile(src, []byte("upload"), 0o644); err != nil {
			t.Fatal(err)
		}
		stderr := mustFail(t, "curl", "-sS", "-T", src, s.URL("/Media/x"))
		if !strings.Contains(stderr, "550") {
			t.Errorf("upload: curl says %q, want a 550 refusal", stderr)
		}
		if _, err := os.Lstat(filepath.Join(share, "x")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("after the refused upload, Media/x: %v (want it not to exist)", err)
		}
	})

	t.Run("DELE refused", func(t *testing.T) {
		stderr := mustFail(t, "curl", "-sS", "-Q", "DELE a.bin", s.URL("/Media/"))
		if !strings.Contains(stderr, "550") {
			t.Errorf("DELE: curl says %q, want a 550 refusal", stderr)
		}
		if data, err := os.ReadFile(filepath.Join(share, "a.bin")); err != nil || !bytes.Equal(data, tree["a.bin"]) {
			t.Errorf("after the refused DELE, a.bin: %v, %d bytes (want it unchanged)", err, len(data))
		}
	})
}

// ---------------------------------------------------------------------------
// 2. ffmpeg and ffprobe: streaming and seeking

func TestFFmpeg(t *testing.T) {
	t.Parallel()
	testtool.Need(t, "ffmpeg")
	testtool.Need(t, "ffprobe")
	share := filepath.Join(t.TempDir(), "Clips")
	if err := os.Mkdir(share, 0o755); err != nil {
		t.Fatal(err)
	}
	clip := filepath.Join(share, "clip.mkv")
	// A keyframe every 2 s (-g 50 at 25 fps); ultrafast keeps it quick.
	mustRun(t, "ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=duration=60:size=640x360:rate=25",
		"-c:v", "libx264", "-preset", "ultrafast", "-g", "50", clip)
	fi, err := os.Stat(clip)
	if err != nil {
		t.Fatal(err)
	}
	size := fi.Size()
	// -debug logs each command, REST offsets included.
	s := startServer(t, "", "-debug", share)
	u := s.URL("/Clips/clip.mkv")

	t.Run("duration", func(t *testing.T) {
		out := mustRun(t, "ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", u)
		d, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
		if err != nil || math.Abs(d-60) > 0.1 {
			t.Errorf("ffprobe duration = %q, want 60.0 ± 0.1", out)
		}
	})

	t.Run("seek to the middle", func(t *testing.T) {
		mark := len(s.Log())
		png := filepath.Join(t.TempDir(), "out.png")
		mustRun(t, "ffmpeg", "-v", "error", "-y", "-ss", "30", "-i", u, "-frames:v", "1", "-f", "image2", png)
		img, err := os.ReadFile(png)
		if err != nil || !bytes.HasPrefix(img, []byte("\x89PNG\r\n\x1a\n")) {
			t.Errorf("ffmpeg -ss 30 wrote no PNG: %v, %d bytes", err, len(img))
		}
		// ffmpeg seeks with REST n and RETR: some transfer must have
		// started inside the file.
		var offsets []int64
		for _, m := range regexp.MustCompile(`verb=REST arg=(\d+)`).FindAllStringSubmatch(s.Log()[mark:], -1) {
			n, _ := strconv.ParseInt(m[1], 10, 64)
			offsets = append(offsets, n)
		}
		if !slices.ContainsFunc(offsets, func(n int64) bool { return n > 0 && n < size }) {
			t.Errorf("REST offsets sent by ffmpeg -ss 30: %v; want one inside the %d-byte file", offsets, size)
		}
		t.Logf("REST offsets: %v of %d bytes", offsets, size)
	})

	// ffmpeg (and mpv) send a URL's path with its escapes: RETR
	// /Clips/Film%20%C3%A9.mkv. The server finds the file by its name.
	t.Run("name with a space and UTF-8", func(t *testing.T) {
		if err := os.Link(clip, filepath.Join(share, "Film é.mkv")); err != nil {
			t.Fatal(err)
		}
		eu := s.URL("/Clips/Film é.mkv")
		if !strings.Contains(eu, "%20") {
			t.Fatalf("URL %s is not percent-encoded", eu)
		}
		out := mustRun(t, "ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", eu)
		if d, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64); err != nil || math.Abs(d-60) > 0.1 {
			t.Errorf("ffprobe duration of %s = %q, want 60.0 ± 0.1", eu, out)
		}
	})

	// ffprobe's -read_intervals START%+#1 seeks to START seconds and reads
	// one packet; the frame shown must be the one at that time. Several
	// intervals seek back and forth on one connection: ABOR, REST, RETR.
	for _, tc := range []struct {
		intervals string
		want      []float64
	}{
		{"30%+#1", []float64{30}},
		{"10%+#1,40%+#1,20%+#1", []float64{10, 40, 20}},
	} {
		t.Run("frames at "+tc.intervals, func(t *testing.T) {
			mark := len(s.Log())
			out := mustRun(t, "ffprobe", "-v", "error", "-select_streams", "v", "-read_intervals", tc.intervals,
				"-show_entries", "frame=pts_time", "-of", "csv=p=0", u)
			var got []float64
			for _, l := range lines(out) {
				v, err := strconv.ParseFloat(strings.Trim(l, ", "), 64)
				if err != nil {
					t.Fatalf("ffprobe output %q: %v", out, err)
				}
				got = append(got, v)
			}
			if !nearSubsequence(got, tc.want, 1) {
				t.Errorf("frame times %v, want %v (±1 s) in that order", got, tc.want)
			}
			if len(tc.want) > 1 && !strings.Contains(s.Log()[mark:], "verb=ABOR") {
				t.Error("ffprobe seeking back and forth sent no ABOR; the test no longer exercises it")
			}
		})
	}
}

// nearSubsequence reports whether want appears in got, in order, each value
// within tol.
func nearSubsequence(got, want []float64, tol float64) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && math.Abs(g-want[i]) <= tol {
			i++
		}
	}
	return i == len(want) && len(want) > 0
}

// ---------------------------------------------------------------------------
// 3. lftp

func TestLftp(t *testing.T) {
	t.Parallel()
	testtool.Need(t, "lftp")
	share := filepath.Join(t.TempDir(), "Media")
	tree := mediaTree()
	writeTree(t, share, tree)
	s := startServer(t, "", share)

	t.Run("mirror", func(t *testing.T) {
		local := filepath.Join(t.TempDir(), "mirror copy")
		mustRun(t, "lftp", "-c", lftpScript(s, fmt.Sprintf("mirror Media %q", local)))
		got := readTree(t, local)
		compareTrees(t, got, visibleTree(tree))
		for rel := range got {
			if hidden(rel) {
				t.Errorf("mirrored the dotfile %s", rel)
			}
		}
		// lftp sets mtimes from MLSD's modify fact.
		fi, err := os.Stat(filepath.Join(local, "Amélie.mkv"))
		if err != nil || !fi.ModTime().Equal(fixedTime) {
			t.Errorf("mirrored Amélie.mkv: %v, mtime %v, want %v", err, fi.ModTime().UTC(), fixedTime)
		}
	})

	src := filepath.Join(t.TempDir(), "x")
	if err := os.WriteFile(src, []byte("upload"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, cmd, path string }{
		{"put", fmt.Sprintf("put %q", src), "x"},
		{"mkdir", "mkdir NewFolder", "NewFolder"},
		{"rm", "rm a.bin", ""},
	} {
		t.Run(tc.name+" refused", func(t *testing.T) {
			stderr := mustFail(t, "lftp", "-c", lftpScript(s, "cd Media", tc.cmd))
			t.Logf("lftp %s: %s", tc.cmd, strings.TrimSpace(stderr))
			if !strings.Contains(stderr, "550") {
				t.Errorf("lftp %s: %q, want a 550 refusal", tc.cmd, stderr)
			}
			if tc.path != "" {
				if _, err := os.Lstat(filepath.Join(share, tc.path)); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("after lftp %s, %s: %v (want it not to exist)", tc.cmd, tc.path, err)
				}
			}
			compareTrees(t, readTree(t, share), withFolders(tree))
		})
	}
}

// ---------------------------------------------------------------------------
// 4. Python's ftplib

const pyClient = `
import ftplib, hashlib, io, json, sys

host, port, share, name, rest = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])

def attempt(fn):
    try:
        fn()
        return {"type": "ok", "msg": ""}
    except ftplib.all_errors as e:
        return {"type": type(e).__name__, "msg": str(e)}

out = {}
f = ftplib.FTP()
f.connect(host, port, timeout=20)
out["welcome"] = f.getwelcome()
out["login"] = f.login()
out["pwd"] = f.pwd()
out["root"] = f.nlst()
out["nlst"] = f.nlst(share)
out["mlsd"] = {n: facts for n, facts in f.mlsd(share, facts=["type", "size", "modify"])}
f.cwd(share)
out["size"] = f.size(name)
out["mdtm"] = f.voidcmd("MDTM " + name)
chunks = []
out["retr"] = f.retrbinary("RETR " + name, chunks.append, rest=rest)
data = b"".join(chunks)
out["rest_len"] = len(data)
out["rest_sha256"] = hashlib.sha256(data).hexdigest()
out["stor"] = attempt(lambda: f.storbinary("STOR upload.bin", io.BytesIO(b"x" * 1000)))
out["noop"] = f.voidcmd("NOOP")
out["quit"] = f.quit()
json.dump(out, sys.stdout)
`

// pyAttempt is the outcome of one ftplib call: "ok", or the exception.
type pyAttempt struct {
	Type string // "ok", "error_perm", "error_temp", ...
	Msg  string
}

// refused reports whether the attempt failed with 550.
func (a pyAttempt) refused() bool { return a.Type == "error_perm" && strings.HasPrefix(a.Msg, "550") }

func TestPythonFtplib(t *testing.T) {
	t.Parallel()
	testtool.Need(t, "python3")
	share := filepath.Join(t.TempDir(), "Media")
	tree := mediaTree()
	writeTree(t, share, tree)
	s := startServer(t, "", share)

	const rest = 12345
	var res struct {
		Welcome, Login, Pwd, Mdtm, Retr, Noop, Quit string
		Root, Nlst                                  []string
		Mlsd                                        map[string]map[string]string
		Size                                        int64
		RestLen                                     int    `json:"rest_len"`
		RestSHA256                                  string `json:"rest_sha256"`
		Stor                                        pyAttempt
	}
	python(t, &res, pyClient, "127.0.0.1", s.Port(), "Media", "a.bin", strconv.Itoa(rest))
	t.Logf("ftplib saw: %+v", res)

	if !strings.HasPrefix(res.Login, "230") {
		t.Errorf("login() = %q, want 230", res.Login)
	}
	if !slices.Equal(res.Root, []string{"Media"}) {
		t.Errorf("nlst() at / = %q, want [Media]", res.Root)
	}
	var names []string
	for _, n := range res.Nlst {
		names = append(names, strings.TrimPrefix(n, "Media/"))
	}
	slices.Sort(names)
	if want := []string{"Amélie.mkv", "Empty Folder", "Música", "Season 1", "a.bin", "empty.txt"}; !slices.Equal(names, want) {
		t.Errorf("nlst('Media') = %q, want %q", res.Nlst, want)
	}

	modify := fixedTime.Format("20060102150405")
	for name, want := range map[string]map[string]string{
		"a.bin":      {"type": "file", "size": "100000", "modify": modify},
		"Amélie.mkv": {"type": "file", "size": "30000", "modify": modify},
		"empty.txt":  {"type": "file", "size": "0", "modify": modify},
		"Season 1":   {"type": "dir", "modify": modify},
	} {
		got := res.Mlsd[name]
		for k, v := range want {
			if got[k] != v {
				t.Errorf("mlsd %q: %s=%q, want %q (facts %v)", name, k, got[k], v, got)
			}
		}
	}
	for name := range res.Mlsd {
		if hidden(name) || name == "." || name == ".." {
			t.Errorf("mlsd lists %q", name)
		}
	}
	if len(res.Mlsd) != 6 {
		t.Errorf("mlsd('Media') has %d entries, want 6: %v", len(res.Mlsd), res.Mlsd)
	}

	if res.Size != 100_000 {
		t.Errorf("size('a.bin') = %d, want 100000", res.Size)
	}
	if want := "213 " + modify; res.Mdtm != want {
		t.Errorf("MDTM a.bin = %q, want %q", res.Mdtm, want)
	}
	wantTail := tree["a.bin"][rest:]
	if sum := sha256.Sum256(wantTail); res.RestLen != len(wantTail) || res.RestSHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("retrbinary(rest=%d): %d bytes (%s), want the file's last %d", rest, res.RestLen, res.RestSHA256, len(wantTail))
	}
	if !strings.HasPrefix(res.Retr, "226") {
		t.Errorf("retrbinary final reply %q, want 226", res.Retr)
	}
	if !res.Stor.refused() {
		t.Errorf("storbinary: %+v, want error_perm 550", res.Stor)
	}
	if _, err := os.Lstat(filepath.Join(share, "upload.bin")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after the refused STOR, upload.bin: %v (want it not to exist)", err)
	}
	if !strings.HasPrefix(res.Noop, "200") || !strings.HasPrefix(res.Quit, "221") {
		t.Errorf("after the refusal: NOOP %q, QUIT %q; want 200, 221", res.Noop, res.Quit)
	}

	t.Run("abort", func(t *testing.T) {
		// ftplib's abort() sends "ABOR\r\n" with MSG_OOB: the final "\n"
		// is TCP urgent data, lost from the stream unless the server sets
		// SO_OOBINLINE on the control connection (as vsftpd does):
		// without it the server reads "ABOR\r" run into the next command.
		var res struct{ Abort, Noop string }
		python(t, &res, pyAbort, "127.0.0.1", s.Port())
		if !slices.Contains([]string{"225", "226"}, res.Abort[:min(3, len(res.Abort))]) || !strings.HasPrefix(res.Noop, "200") {
			t.Errorf("abort() = %q, then NOOP = %q; want 225 or 226, then 200", res.Abort, res.Noop)
		}
	})
}

const pyAbort = `
import ftplib, json, sys
out = {}
f = ftplib.FTP()
f.connect(sys.argv[1], int(sys.argv[2]), timeout=5)
f.login()
for k, fn in (("abort", f.abort), ("noop", lambda: f.voidcmd("NOOP"))):
    try:
        out[k] = fn()
    except ftplib.all_errors as e:
        out[k] = "%s: %s" % (type(e).__name__, e)
json.dump(out, sys.stdout)
`

// ---------------------------------------------------------------------------
// 5. Files beyond 4 GiB

const pyLarge = `
import ftplib, hashlib, json, sys
host, port, path, off, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
out = {}
f = ftplib.FTP()
f.connect(host, port, timeout=20)
f.login()
out["size"] = f.size(path)
f.voidcmd("TYPE I")
# A player reading a little from far into the file, then closing the data
# connection: the server must answer 426 (or 226) and go on.
conn = f.transfercmd("RETR " + path, rest=off)
data = b""
while len(data) < n:
    chunk = conn.recv(n - len(data))
    if not chunk:
        break
    data += chunk
conn.close()
try:
    out["end"] = f.getresp()
except ftplib.all_errors as e:
    out["end"] = str(e)
out["sha256"] = hashlib.sha256(data).hexdigest()
out["noop"] = f.voidcmd("NOOP")
f.quit()
json.dump(out, sys.stdout)
`

func TestLargeFile(t *testing.T) {
	t.Parallel()
	testtool.Need(t, "curl")
	testtool.Need(t, "python3")
	share := filepath.Join(t.TempDir(), "Big")
	if err := os.Mkdir(share, 0o755); err != nil {
		t.Fatal(err)
	}
	const (
		size = 5 << 30             // 5368709120
		off  = 4<<30 + 512<<20     // 4.5 GiB = 4831838208
		n    = 1024                // bytes written there
		last = off + n - 1         // 4831839231
		name = "big file.mkv"      // with a space, as films are named
		vp   = "/Big/big file.mkv" // its virtual path
	)
	p := filepath.Join(share, name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	want := pseudoRandom(7, n)
	if _, err := f.WriteAt(want, off); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, "", share)

	t.Run("curl range", func(t *testing.T) {
		got := curl(t, "-r", fmt.Sprintf("%d-%d", off, last), s.URL(vp))
		if !bytes.Equal(got, want) {
			t.Errorf("-r %d-%d: got %d bytes, not the ones written there", off, last, len(got))
		}
	})

	t.Run("curl list", func(t *testing.T) {
		if e := parseList(t, curl(t, s.URL("/Big/")))[name]; e.size != size {
			t.Errorf("LIST size of %s = %d, want %d", name, e.size, size)
		}
	})

	t.Run("python SIZE and REST", func(t *testing.T) {
		var res struct {
			Size              int64
			End, SHA256, Noop string
		}
		python(t, &res, pyLarge, "127.0.0.1", s.Port(), vp, strconv.Itoa(off), strconv.Itoa(n))
		if res.Size != size {
			t.Errorf("ftplib size() = %d, want %d", res.Size, size)
		}
		if sum := sha256.Sum256(want); res.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("RETR with REST %d: wrong bytes (sha256 %s)", off, res.SHA256)
		}
		if !strings.HasPrefix(res.End, "426") && !strings.HasPrefix(res.End, "226") {
			t.Errorf("reply after closing the data connection early: %q, want 426 or 226", res.End)
		}
		if !strings.HasPrefix(res.Noop, "200") {
			t.Errorf("NOOP afterwards: %q, want 200", res.Noop)
		}
	})
}

// ---------------------------------------------------------------------------
// 6. The command line contract

func TestCommandLine(t *testing.T) {
	t.Parallel()
	// The flags that keep a server that wrongly starts harmless.
	quiet := []string{"-listen", "127.0.0.1:0", "-web", "off", "-mdns=false", "-dlna", "off", "-state-dir", t.TempDir()}

	t.Run("version", func(t *testing.T) {
		t.Parallel()
		stdout, stderr, code := runBin(t, "", "-version")
		if code != 0 || !regexp.MustCompile(`^mediaftpd \S+\n$`).MatchString(stdout) {
			t.Errorf("-version: exit %d, stdout %q, stderr %q; want 0 and \"mediaftpd <version>\"", code, stdout, stderr)
		}
	})

	t.Run("missing folder", func(t *testing.T) {
		t.Parallel()
		missing := filepath.Join(t.TempDir(), "No Such Folder")
		_, stderr, code := runBin(t, "", append(quiet, missing)...)
		if code != 2 || !strings.Contains(stderr, missing) {
			t.Errorf("missing DIR: exit %d, stderr %q; want 2 and a message naming %s", code, stderr, missing)
		}
	})

	t.Run("same base name twice", func(t *testing.T) {
		t.Parallel()
		root := t.TempDir()
		for _, tc := range [][2]string{{"a/Media", "b/Media"}, {"a/Films", "b/films"}} {
			var dirs []string
			for _, d := range tc {
				p := filepath.Join(root, d)
				if err := os.MkdirAll(p, 0o755); err != nil {
					t.Fatal(err)
				}
				dirs = append(dirs, p)
			}
			_, stderr, code := runBin(t, "", append(quiet, dirs...)...)
			if code != 2 || !strings.Contains(stderr, filepath.Base(dirs[1])) {
				t.Errorf("%q: exit %d, stderr %q; want 2 and a message naming the share", tc, code, stderr)
			}
		}
	})

	t.Run("NAME=DIR", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "films-2024")
		writeTree(t, dir, map[string][]byte{"Up.mkv": []byte("up")})
		s := startServer(t, "", "Films="+dir)
		if got := listNames(t, s, "/"); !slices.Equal(got, []string{"Films"}) {
			t.Errorf("NLST / = %q, want [Films]", got)
		}
		if got := listNames(t, s, "/Films"); !slices.Equal(got, []string{"Up.mkv"}) {
			t.Errorf("NLST /Films = %q, want [Up.mkv]", got)
		}
	})

	t.Run("no DIR shares the working folder", func(t *testing.T) {
		t.Parallel()
		here := filepath.Join(t.TempDir(), "Here")
		writeTree(t, here, map[string][]byte{"clip.mkv": []byte("clip")})
		s := startServer(t, here)
		if got := listNames(t, s, "/"); !slices.Equal(got, []string{"Here"}) {
			t.Errorf("NLST / = %q, want [Here], the working folder's name", got)
		}
		if got := listNames(t, s, "/Here"); !slices.Equal(got, []string{"clip.mkv"}) {
			t.Errorf("NLST /Here = %q, want [clip.mkv]", got)
		}
	})

	t.Run("config with an unknown key", func(t *testing.T) {
		t.Parallel()
		cfg := filepath.Join(t.TempDir(), "mediaftpd.yaml")
		writeFile(t, cfg, "name: Test\nftp:\n  listen: \"127.0.0.1:0\"\n  pasive_ports: 50000-50100\n")
		_, stderr, code := runBin(t, "", "-config", cfg, "-web", "off", "-mdns=false", "-dlna", "off", "-state-dir", t.TempDir())
		if code != 2 || !strings.Contains(stderr, cfg+":4") || !strings.Contains(stderr, "pasive_ports") {
			t.Errorf("unknown key: exit %d, stderr %q; want 2 and %q with the key", code, stderr, cfg+":4")
		}
	})

	t.Run("config share appears later", func(t *testing.T) {
		t.Parallel()
		root := t.TempDir()
		usb, local := filepath.Join(root, "usb"), filepath.Join(root, "local")
		writeTree(t, local, map[string][]byte{"a.mkv": []byte("a")})
		cfg := filepath.Join(root, "mediaftpd.yaml")
		writeFile(t, cfg, fmt.Sprintf("shares:\n  - name: USB\n    path: %q\n  - name: Local\n    path: %q\n", usb, local))
		s := startServer(t, "", "-config", cfg)
		if got := listNames(t, s, "/"); !slices.Equal(got, []string{"Local"}) {
			t.Errorf("NLST / with the USB folder missing = %q, want [Local]", got)
		}
		if !strings.Contains(s.Log(), "share folder is missing") {
			t.Error("the log does not say the USB share's folder is missing")
		}
		// The disk is plugged in: served at once, without a restart.
		writeTree(t, usb, map[string][]byte{"new.mkv": []byte("new film")})
		if got := listNames(t, s, "/"); !slices.Equal(got, []string{"Local", "USB"}) {
			t.Errorf("NLST / once the USB folder exists = %q, want [Local USB]", got)
		}
		c := dialFTP(t, s.Addr)
		c.login()
		if got := c.retr("/USB/new.mkv"); string(got) != "new film" {
			t.Errorf("RETR /USB/new.mkv = %q, want %q", got, "new film")
		}
	})

	t.Run("flags override config", func(t *testing.T) {
		t.Parallel()
		// The config's listen address and passive port are held by this
		// test, so a server that used them could not work.
		held, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer held.Close()
		heldPort := held.Addr().(*net.TCPAddr).Port
		dir := filepath.Join(t.TempDir(), "Media")
		writeTree(t, dir, map[string][]byte{"a.mkv": []byte("a")})
		cfg := filepath.Join(t.TempDir(), "mediaftpd.yaml")
		writeFile(t, cfg, fmt.Sprintf("name: From Config\nftp:\n  listen: \"127.0.0.1:%d\"\n  passive_ports: %d-%d\n", heldPort, heldPort, heldPort))
		lo := freePort(t)
		if lo > 65535-9 {
			lo -= 9
		}
		hi := lo + 9
		s := startServer(t, "", "-config", cfg, "-name", "From Flag", "-pasv-ports", fmt.Sprintf("%d-%d", lo, hi), dir)
		// startServer's -listen was used: the server answers there.

		c := dialFTP(t, s.Addr)
		if !strings.Contains(c.Greeting, "From Flag") || strings.Contains(c.Greeting, "From Config") {
			t.Errorf("greeting %q, want the -name %q", c.Greeting, "From Flag")
		}
		c.login()
		for i := range 6 {
			var ip string
			var port int
			if i%2 == 0 {
				ip, port = c.pasv()
			} else {
				ip, port = "127.0.0.1", c.epsv()
			}
			if port < lo || port > hi {
				t.Errorf("passive port %d, want one in -pasv-ports %d-%d", port, lo, hi)
			}
			if got := lines(c.receive(ip, port, "NLST /Media")); len(got) != 1 {
				t.Errorf("NLST /Media over port %d = %q, want one name", port, got)
			}
		}
	})
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// ---------------------------------------------------------------------------
// 7. Read-only proof: every client tries every write; nothing changes.

const pyWrites = `
import ftplib, io, json, sys

def attempt(fn):
    try:
        fn()
        return {"type": "ok", "msg": ""}
    except ftplib.all_errors as e:
        return {"type": type(e).__name__, "msg": str(e)}

f = ftplib.FTP()
f.connect(sys.argv[1], int(sys.argv[2]), timeout=20)
f.login()
f.cwd("Media")
data = lambda: io.BytesIO(b"written by ftplib")
out = {
    "STOR new": attempt(lambda: f.storbinary("STOR new.bin", data())),
    "STOR over": attempt(lambda: f.storbinary("STOR a.bin", data())),
    "STOR root": attempt(lambda: f.storbinary("STOR /new.bin", data())),
    "APPE": attempt(lambda: f.storbinary("APPE a.bin", data())),
    "STOU": attempt(lambda: f.storbinary("STOU", data())),
    "DELE": attempt(lambda: f.delete("a.bin")),
    "DELE link": attempt(lambda: f.delete("link.mkv")),
    "RNFR": attempt(lambda: f.rename("a.bin", "b.bin")),
    "MKD": attempt(lambda: f.mkd("New Folder")),
    "RMD": attempt(lambda: f.rmd("Empty Folder")),
    "SITE CHMOD": attempt(lambda: f.sendcmd("SITE CHMOD 777 a.bin")),
}
out["NOOP"] = attempt(lambda: f.voidcmd("NOOP"))
f.quit()
json.dump(out, sys.stdout)
`

func TestReadOnly(t *testing.T) {
	t.Parallel()
	testtool.Need(t, "curl")
	testtool.Need(t, "lftp")
	testtool.Need(t, "python3")
	share := filepath.Join(t.TempDir(), "Media")
	tree := mediaTree()
	writeTree(t, share, tree)
	if err := os.Symlink("a.bin", filepath.Join(share, "link.mkv")); err != nil {
		t.Fatal(err)
	}
	setTimes(t, share)
	before, beforeLines := testtool.TreeDigest(t, share)

	s := startServer(t, "", share)
	work := t.TempDir() // outside the share
	src := filepath.Join(work, "upload.bin")
	writeFile(t, src, "written by a client")
	upDir := filepath.Join(work, "up")
	writeTree(t, upDir, map[string][]byte{"one.mkv": []byte("1"), "sub/two.mkv": []byte("2")})

	t.Run("curl", func(t *testing.T) {
		m := s.URL("/Media/")
		for _, args := range [][]string{
			{"-T", src, m + "new.bin"},
			{"-T", src, m + "a.bin"},
			{"-T", src, s.URL("/new.bin")},
			{"--disable-epsv", "-T", src, m + "new.bin"},
			{"--append", "-T", src, m + "a.bin"},
			{"--ftp-create-dirs", "-T", src, m + "New%20Folder/new.bin"}, // CWD, MKD: curl says (9)
			{"-Q", "DELE a.bin", m},
			{"-Q", "DELE link.mkv", m},
			{"-Q", "RNFR a.bin", "-Q", "RNTO b.bin", m},
			{"-Q", "MKD New Folder", m},
			{"-Q", "RMD Empty Folder", m},
			{"-Q", "SITE CHMOD 777 a.bin", m},
		} {
			stderr := mustFail(t, "curl", append([]string{"-sS"}, args...)...)
			t.Logf("curl %s: %s", quoteArgs(args), strings.TrimSpace(stderr))
			if !strings.Contains(stderr, "550") && !strings.Contains(stderr, "(9)") {
				t.Errorf("curl %s: %q, want a 550 refusal", quoteArgs(args), stderr)
			}
		}
		// Reads still work afterwards.
		if got := curl(t, m+"a.bin"); !bytes.Equal(got, tree["a.bin"]) {
			t.Errorf("download after the refusals: %d bytes, want the file's %d", len(got), len(tree["a.bin"]))
		}
	})

	t.Run("lftp", func(t *testing.T) {
		for _, cmd := range []string{
			fmt.Sprintf("put %q", src),
			fmt.Sprintf("put %q -o a.bin", src),
			"mkdir NewFolder",
			"mkdir -p New/Deep",
			"rm a.bin",
			"rm link.mkv",
			`rm -r "Season 1"`,
			`rmdir "Empty Folder"`,
			"mv a.bin b.bin",
			"chmod 777 a.bin",
			fmt.Sprintf("mirror -R %q Uploaded", upDir),
			fmt.Sprintf("mirror -R %q %q", upDir, "Empty Folder"), // STOR and MKD inside
		} {
			stderr := mustFail(t, "lftp", "-c", lftpScript(s, "cd Media", cmd))
			t.Logf("lftp %s: %s", cmd, strings.TrimSpace(stderr))
			if !strings.Contains(stderr, "550") {
				t.Errorf("lftp %s: %q, want a 550 refusal", cmd, stderr)
			}
		}
		local := filepath.Join(t.TempDir(), "copy")
		mustRun(t, "lftp", "-c", lftpScript(s, fmt.Sprintf("mirror Media %q", local)))
	})

	t.Run("python", func(t *testing.T) {
		var res map[string]pyAttempt
		python(t, &res, pyWrites, "127.0.0.1", s.Port())
		for op, a := range res {
			if op == "NOOP" {
				if a.Type != "ok" {
					t.Errorf("NOOP after the refusals: %+v", a)
				}
				continue
			}
			if !a.refused() {
				t.Errorf("ftplib %s: %+v, want error_perm 550", op, a)
			}
		}
		if len(res) != 12 {
			t.Errorf("ftplib ran %d operations, want 12: %v", len(res), res)
		}
	})

	// Stopped, so that nothing can still be in flight.
	if code, _ := s.stop(t); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
	after, afterLines := testtool.TreeDigest(t, share)
	t.Logf("tree digest before %s, after %s", before, after)
	if before != after {
		t.Errorf("the shared tree changed (sha256 %s -> %s)", before, after)
		for _, l := range beforeLines {
			if !slices.Contains(afterLines, l) {
				t.Errorf("  before only: %s", l)
			}
		}
		for _, l := range afterLines {
			if !slices.Contains(beforeLines, l) {
				t.Errorf("  after only:  %s", l)
			}
		}
	}
}

// ---------------------------------------------------------------------------
// 8. Shutdown on SIGTERM

func TestShutdown(t *testing.T) {
	t.Parallel()

	t.Run("during a download", func(t *testing.T) {
		t.Parallel()
		curlPath := testtool.Need(t, "curl")
		share := filepath.Join(t.TempDir(), "Big")
		if err := os.Mkdir(share, 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(share, "50mb.mkv"), "")
		if err := os.Truncate(filepath.Join(share, "50mb.mkv"), 50<<20); err != nil {
			t.Fatal(err)
		}
		s := startServer(t, "", share)

		// A slow player: 1 MB/s, so the 50 MB outlast the grace period.
		out := filepath.Join(t.TempDir(), "out")
		dl := exec.Command(curlPath, "-sS", "--limit-rate", "1M", "-o", out, s.URL("/Big/50mb.mkv"))
		dl.Env = toolEnv()
		var dlErr bytes.Buffer
		dl.Stderr = &dlErr
		if err := dl.Start(); err != nil {
			t.Fatal(err)
		}
		dlDone := make(chan error, 1)
		go func() { dlDone <- dl.Wait() }()
		defer func() {
			dl.Process.Kill()
			<-dlDone
		}()
		deadline := time.Now().Add(startTimeout)
		for {
			if fi, err := os.Stat(out); err == nil && fi.Size() >= 64<<10 {
				break
			}
			select {
			case err := <-dlDone:
				t.Fatalf("curl ended before the transfer was under way: %v\n%s", err, dlErr.String())
			case <-time.After(20 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("the download did not start within %v", startTimeout)
			}
		}

		code, elapsed := s.stop(t)
		t.Logf("exited %d, %v after SIGTERM", code, elapsed)
		if code != 0 {
			t.Errorf("exit code %d, want 0", code)
		}
		if limit := shutdownGrace + 5*time.Second; elapsed > limit {
			t.Errorf("took %v to exit with a download running; want at most the %v grace and a little (%v)", elapsed, shutdownGrace, limit)
		}
		log := s.Log()
		for _, want := range []string{"shutting down", "transfers still running were cut off", "stopped"} {
			if !strings.Contains(log, want) {
				t.Errorf("the log lacks %q", want)
			}
		}
	})

	t.Run("idle", func(t *testing.T) {
		t.Parallel()
		share := filepath.Join(t.TempDir(), "Media")
		writeTree(t, share, map[string][]byte{"a.mkv": []byte("a")})
		s := startServer(t, "", share)
		c := dialFTP(t, s.Addr) // a logged-in session with nothing running
		c.login()

		code, elapsed := s.stop(t)
		t.Logf("exited %d, %v after SIGTERM", code, elapsed)
		if code != 0 {
			t.Errorf("exit code %d, want 0", code)
		}
		if elapsed >= shutdownGrace {
			t.Errorf("took %v to exit with only an idle session; it should not wait out the %v grace", elapsed, shutdownGrace)
		}
		c.expect(421, "the idle session at shutdown")
		log := s.Log()
		if !strings.Contains(log, "shutting down") {
			t.Error(`the log lacks "shutting down"`)
		}
		if strings.Contains(log, "cut off") {
			t.Error("an idle session was treated as a running transfer")
		}
	})
}
