package web

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestFilesBrowse(t *testing.T) {
	e := newTestServer(t)
	resp, body := e.do("GET", "/files/", "")
	if resp.StatusCode != 200 || !strings.Contains(body, `href="./Movies/"`) {
		t.Errorf("GET /files/: %s\n%s", resp.Status, body)
	}
	resp, body = e.do("GET", "/files/Movies/", "")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /files/Movies/: %s", resp.Status)
	}
	for _, want := range []string{`href="./film.mkv"`, `href="./sub/"`, `href="./notes.txt"`, "10.0 kB",
		`href="/play/Movies/film.mkv"`, `href="/play/Movies/song.mp3"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the listing lacks %q", want)
		}
	}
	// The listing is the index's: a folder reached a second time through
	// a symlink ("inside" -> "sub") is listed once, where it is, as DLNA
	// shows it.
	for _, unwanted := range []string{"hidden.mkv", "escape", "inside"} {
		if strings.Contains(body, unwanted) {
			t.Errorf("the listing shows %q", unwanted)
		}
	}
	// Folders first.
	if strings.Index(body, "./sub/") > strings.Index(body, "./film.mkv") {
		t.Error("folders are not listed first")
	}
	resp, body = e.do("GET", "/files/Movies/sub/", "")
	if resp.StatusCode != 200 || !strings.Contains(body, `href="./ep1.mkv"`) || !strings.Contains(body, `href="/files/Movies/"`) {
		t.Errorf("GET /files/Movies/sub/: %s\n%s", resp.Status, body)
	}
	// A folder the index does not have is read from the disk.
	resp, body = e.do("GET", "/files/Movies/inside/", "")
	if resp.StatusCode != 200 || !strings.Contains(body, `href="./ep1.mkv"`) || !strings.Contains(body, `href="/play/Movies/inside/ep1.mkv"`) {
		t.Errorf("GET /files/Movies/inside/: %s\n%s", resp.Status, body)
	}
	// A folder without its slash is redirected, so relative links work.
	resp, _ = e.do("GET", "/files/Movies/sub", "")
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/files/Movies/sub/" {
		t.Errorf("GET /files/Movies/sub: %s to %q", resp.Status, resp.Header.Get("Location"))
	}
	resp, _ = e.do("GET", "/files/Movies", "")
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/files/Movies/" {
		t.Errorf("GET /files/Movies: %s to %q", resp.Status, resp.Header.Get("Location"))
	}
}

func TestFilesNamesNeedingEscapes(t *testing.T) {
	e := newTestServer(t)
	mustWrite(t, filepath.Join(e.media, "Movies", "a:b #1?.mkv"), "odd")
	mustWrite(t, filepath.Join(e.media, "Movies", "<script>.mkv"), "odd")
	var body string
	waitFor(t, "the new files listed", func() bool {
		_, body = e.do("GET", "/files/Movies/", "")
		return strings.Contains(body, "script&gt;.mkv")
	})
	if !strings.Contains(body, `href="./a:b%20%231%3F.mkv"`) || !strings.Contains(body, `href="/play/Movies/a:b%20%231%3F.mkv"`) {
		t.Errorf("listing of odd names:\n%s", body)
	}
	if strings.Contains(body, "<script>") {
		t.Error("a file name is not escaped")
	}
	resp, got := e.do("GET", "/files/Movies/a:b%20%231%3F.mkv", "")
	if resp.StatusCode != 200 || got != "odd" {
		t.Errorf("GET of an odd name: %s %q", resp.Status, got)
	}
}

func TestFilesStream(t *testing.T) {
	e := newTestServer(t)
	resp, body := e.do("GET", "/files/Movies/film.mkv", "")
	if resp.StatusCode != 200 || body != filmData {
		t.Fatalf("GET film.mkv: %s, %d bytes", resp.Status, len(body))
	}
	if resp.Header.Get("Accept-Ranges") != "bytes" {
		t.Errorf("Accept-Ranges %q", resp.Header.Get("Accept-Ranges"))
	}
	resp, body = e.do("GET", "/files/Movies/film.mkv", "", "Range", "bytes=5000-5009")
	if resp.StatusCode != http.StatusPartialContent || body != filmData[5000:5010] {
		t.Errorf("range: %s %q", resp.Status, body)
	}
	if cr := resp.Header.Get("Content-Range"); cr != "bytes 5000-5009/10000" {
		t.Errorf("Content-Range %q", cr)
	}
	resp, body = e.do("GET", "/files/Movies/film.mkv", "", "Range", "bytes=9990-")
	if resp.StatusCode != http.StatusPartialContent || body != filmData[9990:] {
		t.Errorf("open range: %s %q", resp.Status, body)
	}
	resp, _ = e.do("GET", "/files/Movies/film.mkv", "", "Range", "bytes=20000-")
	if resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
		t.Errorf("range past the end: %s", resp.Status)
	}
	// Through a symlink inside the share.
	if resp, body := e.do("GET", "/files/Movies/inside/ep1.mkv", ""); resp.StatusCode != 200 || body != "ep1" {
		t.Errorf("through a symlink inside: %s %q", resp.Status, body)
	}
	// Read-only: no other method.
	for _, m := range []string{"PUT", "POST", "DELETE"} {
		if resp, _ := e.do(m, "/files/Movies/film.mkv", ""); resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s on a file: %s", m, resp.Status)
		}
	}
}

// TestFilesRefused sends paths that must not reach a file, written
// plainly and percent-encoded: none gets the file's contents.
func TestFilesRefused(t *testing.T) {
	e := newTestServer(t)
	fifo := filepath.Join(e.media, "Movies", "pipe.mkv")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		"/files/Movies/.hidden.mkv",
		"/files/Movies/%2ehidden.mkv",
		"/files/Movies/escape/secret.txt",
		"/files/Movies/escape/",
		"/files/Movies/../../outside/secret.txt",
		"/files/Movies/%2e%2e/%2e%2e/outside/secret.txt",
		"/files/Movies/..%2f..%2foutside%2fsecret.txt",
		"/files/Movies/%2E%2E%2F%2E%2E%2Foutside%2Fsecret.txt",
		"/files/Movies/sub/..%2f..%2f..%2foutside/secret.txt",
		"/files/Movies//film.mkv",
		"/files/Movies/film.mkv/",
		"/files/Movies/film.mkv%00.txt",
		"/files/Nope/film.mkv",
		"/files/%2e%2e/outside/secret.txt",
		"/files/Movies/pipe.mkv",
		"/files/.Movies/",
	} {
		resp, body := e.do("GET", path, "")
		if resp.StatusCode == 200 || strings.Contains(body, "TOP SECRET") || strings.Contains(body, "hidden") {
			t.Errorf("GET %s: %s %q", path, resp.Status, body)
		}
		if loc := resp.Header.Get("Location"); loc != "" {
			// The mux cleans paths with "..": the cleaned one must be
			// refused too.
			resp, body := e.do("GET", loc, "")
			if resp.StatusCode == 200 && strings.Contains(body, "TOP SECRET") {
				t.Errorf("GET %s, redirected to %s: %s", path, loc, resp.Status)
			}
		}
	}
	// Raw request lines, which no client library would clean.
	for _, target := range []string{
		"/files/Movies/../../outside/secret.txt",
		"/files/Movies/escape/secret.txt",
		"/files/Movies/%2e%2e%2f%2e%2e%2foutside%2fsecret.txt",
	} {
		if got := rawGet(t, e.ts.Listener.Addr().String(), target); strings.Contains(got, "TOP SECRET") || strings.HasPrefix(got, "HTTP/1.1 200") {
			t.Errorf("raw GET %s:\n%s", target, got)
		}
	}
}

func rawGet(t *testing.T, addr, target string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("GET " + target + " HTTP/1.1\r\nHost: " + addr + "\r\nConnection: close\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

func TestFilesOffline(t *testing.T) {
	e := newTestServer(t)
	if err := os.Rename(filepath.Join(e.media, "Movies"), filepath.Join(e.media, "Gone")); err != nil {
		t.Fatal(err)
	}
	resp, _ := e.do("GET", "/files/Movies/film.mkv", "")
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("GET from an offline share: %s, want 503", resp.Status)
	}
}

func TestSplitFilesPath(t *testing.T) {
	tests := []struct {
		in         string
		share, rel string
		dir, ok    bool
	}{
		{"Movies", "Movies", ".", false, true},
		{"Movies/", "Movies", ".", true, true},
		{"Movies/a/b.mkv", "Movies", "a/b.mkv", false, true},
		{"Movies/a/", "Movies", "a", true, true},
		{"Movies/../x", "", "", false, false},
		{"Movies/./x", "", "", false, false},
		{"Movies//x", "", "", false, false},
		{"Movies/.x", "", "", false, false},
		{"../x", "", "", false, false},
		{"Movies/a\x00b", "", "", false, false},
	}
	for _, tt := range tests {
		share, rel, dir, err := splitFilesPath(tt.in)
		if (err == nil) != tt.ok || share != tt.share || rel != tt.rel || dir != tt.dir {
			t.Errorf("splitFilesPath(%q) = %q, %q, %v, %v", tt.in, share, rel, dir, err)
		}
	}
}

func FuzzSplitFilesPath(f *testing.F) {
	for _, s := range []string{"Movies/a.mkv", "Movies/../x", "a/./b/", "..", "x/.y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		share, rel, _, err := splitFilesPath(p)
		if err != nil {
			return
		}
		for _, c := range append([]string{share}, strings.Split(rel, "/")...) {
			if c == "" || c == ".." || (c != "." && strings.HasPrefix(c, ".")) || c == "." && rel != "." {
				t.Fatalf("splitFilesPath(%q) let through %q (share %q, rel %q)", p, c, share, rel)
			}
		}
		if filepath.IsAbs(rel) {
			t.Fatalf("absolute rel %q", rel)
		}
	})
}

func TestFilePolicy(t *testing.T) {
	e := newTestServer(t)
	for name, data := range map[string]string{
		"page.html":  "<script>alert(1)</script>",
		"pic.svg":    `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`,
		"noext":      "<html><script>alert(1)</script>",
		"clip.mp4":   "mp4",
		"photo2.png": "png",
	} {
		mustWrite(t, filepath.Join(e.media, "Movies", name), data)
	}
	tests := []struct {
		name, ctype string
		sandbox     bool
	}{
		{"page.html", "text/html", true},
		{"pic.svg", "image/svg+xml", true},
		{"noext", "application/octet-stream", true},
		{"notes.txt", "text/plain", true},
		{"clip.mp4", "video/mp4", false},
		{"photo2.png", "image/png", false},
	}
	for _, tt := range tests {
		resp, _ := e.do("GET", "/files/Movies/"+tt.name, "")
		ct, csp := resp.Header.Get("Content-Type"), resp.Header.Get("Content-Security-Policy")
		if !strings.HasPrefix(ct, tt.ctype) {
			t.Errorf("%s: Content-Type %q, want %q", tt.name, ct, tt.ctype)
		}
		if got := strings.HasPrefix(csp, "sandbox"); got != tt.sandbox || !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("%s: Content-Security-Policy %q, want sandbox=%v", tt.name, csp, tt.sandbox)
		}
	}
}

// TestFilesSending: Sending is set while a file is being sent, and only
// then.
func TestFilesSending(t *testing.T) {
	e := newTestServer(t)
	mustWrite(t, filepath.Join(e.media, "Movies", "big.mkv"), strings.Repeat("x", 32<<20))
	waitFor(t, "big.mkv served", func() bool {
		resp, _ := e.do("HEAD", "/files/Movies/big.mkv", "")
		return resp.StatusCode == http.StatusOK
	})
	if e.srv.Sending() {
		t.Fatal("sending before any download")
	}
	resp, err := http.Get(e.ts.URL + "/files/Movies/big.mkv")
	if err != nil {
		t.Fatal(err)
	}
	var one [1]byte
	if _, err := resp.Body.Read(one[:]); err != nil {
		t.Fatal(err)
	}
	// The client reads no more: the server is stuck sending.
	waitFor(t, "Sending while a download runs", e.srv.Sending)
	resp.Body.Close()
	waitFor(t, "not Sending once it ended", func() bool { return !e.srv.Sending() })
}
