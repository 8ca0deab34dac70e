package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/mediaftpd/mediaftpd/accounts"
	"github.com/mediaftpd/mediaftpd/ftpd"
	"github.com/mediaftpd/mediaftpd/internal/testtool"
	"github.com/mediaftpd/mediaftpd/library"
)

// testPassword is the admin password of test servers.
const testPassword = "correct horse battery"

// testHash is testPassword's hash, at bcrypt's lowest cost to keep tests
// fast.
var testHash = func() string {
	h, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		panic(err)
	}
	return string(h)
}()

// testConfig is the config file of test servers; %MEDIA% is the share root.
const testConfig = `# Test config.
name: Test Box

# The shares.
shares:
  - name: Movies   # the first one
    path: %MEDIA%/Movies

web:
  # Where the page may make shares.
  share_roots: [%MEDIA%]
`

// testEnv is a status page on 127.0.0.1 over a share set indexing a
// temporary folder tree:
//
//	media/Movies/film.mkv, song.mp3, photo.jpg, notes.txt, .hidden.mkv
//	media/Movies/sub/ep1.mkv
//	media/Movies/escape -> ../../outside (a symlink leaving the share)
//	media/Movies/inside -> sub
//	media/USB/Films/, media/USB/.Trash/, media/USB/file.txt
//	media/USB/out -> ../../outside (a symlink leaving the share root)
//	outside/secret.txt
type testEnv struct {
	t      *testing.T
	srv    *Server
	ts     *httptest.Server
	set    *library.Set
	dir    string // the temporary folder
	media  string // the share root
	config string // the config file

	mu       sync.Mutex
	sessions []ftpd.SessionInfo
	ftp      *ftpd.Server // when set, sessions come from it

	users *accounts.Users // the server's Users, with no user until addUsers
	logs  *logBuffer      // everything the server logged, at debug level
	now   *testClock      // the throttle's clock
}

// testClock is a clock that tests move forward.
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// clock returns the clock of the server's login throttle.
func (e *testEnv) clock() *testClock { return e.now }

// logBuffer collects a log for the test to read.
type logBuffer = testtool.LogBuffer

// capturingLogger logs at debug level into lb, and to the test's output
// with -v.
func capturingLogger(lb *logBuffer) *slog.Logger {
	var w io.Writer = lb
	if testing.Verbose() {
		w = io.MultiWriter(lb, os.Stderr)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// filmData is the contents of media/Movies/film.mkv.
var filmData = strings.Repeat("0123456789", 1000)

func newTestServer(t *testing.T, configure ...func(*Server)) *testEnv {
	t.Helper()
	dir := t.TempDir()
	e := &testEnv{t: t, dir: dir, media: filepath.Join(dir, "media"), config: filepath.Join(dir, "config.yaml")}
	for name, data := range map[string]string{
		"media/Movies/film.mkv":    filmData,
		"media/Movies/song.mp3":    "mp3",
		"media/Movies/photo.jpg":   "jpg",
		"media/Movies/notes.txt":   "notes",
		"media/Movies/.hidden.mkv": "hidden",
		"media/Movies/sub/ep1.mkv": "ep1",
		"media/USB/file.txt":       "file",
		"media/USB/.Trash/x":       "x",
		"outside/secret.txt":       "TOP SECRET",
	} {
		mustWrite(t, filepath.Join(dir, name), data)
		// Old enough to be counted by the first scan, not left to settle.
		old := time.Now().Add(-time.Hour)
		if err := os.Chtimes(filepath.Join(dir, name), old, old); err != nil {
			t.Fatal(err)
		}
	}
	mustMkdir(t, filepath.Join(dir, "media/USB/Films"))
	mustSymlink(t, "../../outside", filepath.Join(dir, "media/Movies/escape"))
	mustSymlink(t, "sub", filepath.Join(dir, "media/Movies/inside"))
	mustSymlink(t, "../../outside", filepath.Join(dir, "media/USB/out"))
	mustWrite(t, e.config, strings.ReplaceAll(testConfig, "%MEDIA%", e.media))

	set, err := library.NewSet(library.Share{Name: "Movies", Path: filepath.Join(e.media, "Movies")})
	if err != nil {
		t.Fatal(err)
	}
	set.Settle = 20 * time.Millisecond
	set.OfflineCheck = 100 * time.Millisecond
	set.Logger = quietLogger()
	e.set = set
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() {
		set.Run(ctx)
		close(ran)
	}()

	e.logs, e.now = &logBuffer{}, &testClock{}
	log := capturingLogger(e.logs)
	// The users, none yet, with a throttle that answers a wrong password
	// at once and whose clock the test moves.
	e.users = accounts.New(nil, true)
	e.users.Throttle.Delay = time.Millisecond
	e.users.Throttle.Now = e.now.Now
	e.users.Logger = log
	shares := &library.Manager{Set: set, ConfigPath: e.config, Logger: log}
	e.srv = &Server{
		Shares:       set,
		Sessions:     e.snapshot,
		FTPAddr:      "127.0.0.1:2121",
		Name:         "Test Box",
		Version:      "1.2.3",
		Manager:      shares,
		PasswordHash: testHash,
		ShareRoots:   []string{e.media},
		Users:        e.users,
		Logger:       log,
	}
	e.srv.Accounts = &accounts.Manager{Users: e.users, Shares: shares, ConfigPath: e.config, Logger: log,
		OnEnded: e.srv.EndUserSessions}
	for _, f := range configure {
		f(e.srv)
	}
	e.ts = httptest.NewServer(e.srv)
	t.Cleanup(func() {
		e.srv.CloseStreams()
		e.ts.Close()
		cancel()
		<-ran
	})
	e.waitIndexed()
	return e
}

func quietLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func (e *testEnv) snapshot() []ftpd.SessionInfo {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ftp != nil {
		return e.ftp.Sessions()
	}
	return append([]ftpd.SessionInfo(nil), e.sessions...)
}

// serveFTP starts an FTP server on 127.0.0.1 over the test server's share
// set, whose sessions the page shows, and returns its address.
func (e *testEnv) serveFTP() string {
	e.t.Helper()
	srv := &ftpd.Server{Shares: e.set, Logger: quietLogger()}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-served
	})
	e.mu.Lock()
	e.ftp = srv
	e.mu.Unlock()
	return l.Addr().String()
}

func (e *testEnv) setSessions(s ...ftpd.SessionInfo) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.sessions = s
}

// waitIndexed waits until every share is watched.
func (e *testEnv) waitIndexed() {
	e.t.Helper()
	waitFor(e.t, "shares indexed", func() bool {
		for _, st := range e.set.Status() {
			if st.State != library.StateWatching {
				return false
			}
		}
		return true
	})
}

// waitFor awaits a condition; see testtool.WaitFor.
var waitFor = testtool.WaitFor

// noRedirect is a client that returns redirects as they are.
var noRedirect = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       10 * time.Second,
}

// do sends a request to the test server and returns the response with its
// body read. Headers are given as name, value pairs.
func (e *testEnv) do(method, path, body string, headers ...string) (*http.Response, string) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.ts.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if strings.EqualFold(headers[i], "Host") {
			req.Host = headers[i+1]
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, string(data)
}

// adminClient is a logged-in client: headers to send with its requests.
type adminClient struct {
	cookie, csrf string
}

// auth returns the headers of an admin's change: cookie, token, origin.
func (a adminClient) auth(e *testEnv) []string {
	return []string{"Cookie", sessionCookie + "=" + a.cookie, csrfHeader, a.csrf, "Origin", e.ts.URL}
}

// login logs in and returns the session.
func (e *testEnv) login() adminClient {
	e.t.Helper()
	resp, body := e.do("POST", "/api/login", `{"password": "`+testPassword+`"}`, "Origin", e.ts.URL)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("login: %s %s", resp.Status, body)
	}
	var got sessionResponse
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		e.t.Fatal(err)
	}
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			return adminClient{cookie: c.Value, csrf: got.CSRFToken}
		}
	}
	e.t.Fatal("login set no session cookie")
	return adminClient{}
}

// status fetches /api/status.
func (e *testEnv) status() *Status {
	e.t.Helper()
	resp, body := e.do("GET", "/api/status", "")
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("GET /api/status: %s", resp.Status)
	}
	var st Status
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		e.t.Fatal(err)
	}
	return &st
}

func mustWrite(t testing.TB, name, data string) {
	t.Helper()
	mustMkdir(t, filepath.Dir(name))
	if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustMkdir(t testing.TB, name string) {
	t.Helper()
	if err := os.MkdirAll(name, 0o755); err != nil {
		t.Fatal(err)
	}
}

func mustSymlink(t testing.TB, target, name string) {
	t.Helper()
	if err := os.Symlink(target, name); err != nil {
		t.Fatal(err)
	}
}
