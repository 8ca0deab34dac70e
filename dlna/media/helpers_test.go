package media

import (
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/dlna/quirks"
)

// testServer is a real HTTP server on 127.0.0.1 that serves the files of
// dir with Serve (under /v/) and ServeSubtitle (under /sub/).
type testServer struct {
	*httptest.Server
	dir  string
	sent atomic.Int64
	// done receives the path of each request once its handler returned.
	done chan string
	// opts, if set, changes the Options of each Serve.
	opts func(*Options)

	mu     sync.Mutex // guards ranges
	ranges []string   // the Range header of each request, in order
}

// takeRanges returns the Range headers of the requests so far, and
// forgets them.
func (ts *testServer) takeRanges() []string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	r := ts.ranges
	ts.ranges = nil
	return r
}

// modTime is the modification time of the test files.
var modTime = time.Date(2024, 3, 9, 20, 15, 7, 0, time.UTC)

func newTestServer(t testing.TB) *testServer {
	t.Helper()
	ts := &testServer{dir: t.TempDir(), done: make(chan string, 100)}
	ts.Server = httptest.NewServer(http.HandlerFunc(ts.handle))
	t.Cleanup(ts.Close)
	return ts
}

func (ts *testServer) handle(w http.ResponseWriter, r *http.Request) {
	ts.mu.Lock()
	ts.ranges = append(ts.ranges, r.Header.Get("Range"))
	ts.mu.Unlock()
	defer func() {
		select {
		case ts.done <- r.URL.Path:
		default:
		}
	}()
	f, err := os.Open(filepath.Join(ts.dir, path.Base(r.URL.Path)))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	if path.Dir(r.URL.Path) == "/sub" {
		ServeSubtitle(w, r, f, fi)
		return
	}
	opts := Options{
		Quirks:     quirks.Detect(r.Header).Quirks,
		CaptionURL: r.URL.Query().Get("caption"),
		Sent:       &ts.sent,
	}
	if ts.opts != nil {
		ts.opts(&opts)
	}
	Serve(w, r, f, fi, opts)
}

// file writes size random bytes to name in the server's folder and
// returns them.
func (ts *testServer) file(t testing.TB, name string, size int) []byte {
	t.Helper()
	data := make([]byte, size)
	rand.Read(data)
	p := filepath.Join(ts.dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, modTime, modTime); err != nil {
		t.Fatal(err)
	}
	return data
}

// do sends a request with the given headers and returns the response with
// its body read.
func (ts *testServer) do(t testing.TB, method, path string, headers map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return resp, body
}

// header returns a header with one field.
func header(k, v string) http.Header {
	h := http.Header{}
	h.Set(k, v)
	return h
}
