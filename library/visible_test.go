package library_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/library"
	"github.com/mediaftpd/mediaftpd/web"
)

// visibilityCases is the visibility rule, one row each: what a share holds
// and whether clients see it. TestVisibilityRule runs every row through
// FTP, HTTP (/files) and the index.
var visibilityCases = []struct {
	name    string // the entry's name in the share's folder
	why     string
	make    func(t *testing.T, share, outside, name string)
	visible bool
	// sendable: the name can be sent in an FTP command and a URL, so a
	// download of it is tried (CR and LF end an FTP command).
	sendable bool
	// twice: a second way to a folder of the share. FTP shows it, and
	// HTTP serves what is in it (it is inside the share), but the index
	// holds each folder once, where it really is, so that nothing is
	// counted twice, and the listings made from the index (the HTTP folder
	// page, DLNA) show it there only.
	twice bool
}{
	{"film.mkv", "a regular file", file, true, true, false},
	{"Amélie (2001).mkv", "UTF-8 and spaces", file, true, true, false},
	{"caf\xe9.mp3", "invalid UTF-8 (a Latin-1 disk): its bytes can be sent", file, true, true, false},
	{"Season 1", "a folder", folder, true, true, false},
	{".hidden.mkv", "a dotfile", file, false, true, false},
	{".Trash", "a dot folder", folder, false, true, false},
	{"cr\rname.mkv", "CR cannot be sent in a listing", file, false, false, false},
	{"lf\nname.mkv", "LF cannot be sent in a listing", file, false, false, false},
	{"tab\tname.mkv", "a control character (tab)", file, false, true, false},
	{"esc\x1bname.mkv", "a control character (escape)", file, false, true, false},
	{"del\x7fname.mkv", "a control character (DEL)", file, false, true, false},
	{"c1\u0085name.mkv", "a C1 control character (NEL)", file, false, true, false},
	{"fifo.mkv", "a FIFO: never opened, so it never blocks", fifo, false, true, false},
	{"socket.mkv", "a socket", socket, false, true, false},
	{"link-in.mkv", "a symlink to a file in the share", linkTo("film.mkv"), true, true, false},
	{"link-dir", "a symlink to a folder in the share", linkTo("Season 1"), true, true, true},
	{"link-out.mkv", "a symlink leaving the share", linkOut, false, true, false},
	{"dangling.mkv", "a symlink to nothing", linkTo("nothing"), false, true, false},
	{"loop.mkv", "a symlink to itself", linkTo("loop.mkv"), false, true, false},
	{"link-fifo.mkv", "a symlink to a FIFO", linkTo("fifo.mkv"), false, true, false},
}

const content = "0123456789"

func file(t *testing.T, share, _, name string) {
	if err := os.WriteFile(filepath.Join(share, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func folder(t *testing.T, share, _, name string) {
	if err := os.MkdirAll(filepath.Join(share, name), 0o755); err != nil {
		t.Fatal(err)
	}
	file(t, share, "", filepath.Join(name, "inside.mkv"))
}

func fifo(t *testing.T, share, _, name string) {
	if err := syscall.Mkfifo(filepath.Join(share, name), 0o644); err != nil {
		t.Fatal(err)
	}
}

func socket(t *testing.T, share, _, name string) {
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: filepath.Join(share, name)}); err != nil {
		t.Skipf("cannot make a socket here: %v", err)
	}
}

func linkTo(target string) func(t *testing.T, share, _, name string) {
	return func(t *testing.T, share, _, name string) {
		if err := os.Symlink(target, filepath.Join(share, name)); err != nil {
			t.Fatal(err)
		}
	}
}

func linkOut(t *testing.T, share, outside, name string) {
	if err := os.Symlink(filepath.Join(outside, "secret.mkv"), filepath.Join(share, name)); err != nil {
		t.Fatal(err)
	}
}

// TestVisibilityRule checks each row of visibilityCases through every
// front end: the FTP listing and download, the HTTP folder page and
// download, and the index. A row that one of them gets wrong fails.
func TestVisibilityRule(t *testing.T) {
	base := t.TempDir()
	share, outside := filepath.Join(base, "share"), filepath.Join(base, "outside")
	for _, d := range []string{share, outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(outside, "secret.mkv"), []byte("SECRET"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range visibilityCases {
		tc.make(t, share, outside, tc.name)
	}
	// Old enough for the first scan to count every file.
	old := time.Now().Add(-time.Hour)
	filepath.WalkDir(share, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type()&fs.ModeSymlink == 0 {
			os.Chtimes(p, old, old)
		}
		return nil
	})

	set, addr := serveFTP(t, library.Share{Name: "Media", Path: share})
	page := &web.Server{Shares: set, Manager: &library.Manager{Set: set}, Logger: slog.New(slog.DiscardHandler)}
	hs := httptest.NewServer(page)
	t.Cleanup(hs.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for set.Status()[0].State != library.StateWatching {
		if ctx.Err() != nil {
			t.Fatal("share not indexed in time")
		}
		time.Sleep(10 * time.Millisecond)
	}

	c := loginFTP(t, addr)
	var ftpNames []string
	entries, err := c.List("/Media")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		ftpNames = append(ftpNames, e.Name)
	}
	nlst, err := c.NameList("/Media")
	if err != nil {
		t.Fatal(err)
	}
	folderPage := get(t, hs.URL+"/files/Media/")
	indexed, _, err := set.Children("Media", ".", library.AllFiles, 0, 0)
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range visibilityCases {
		t.Run(tc.why, func(t *testing.T) {
			seen := map[string]bool{
				"FTP MLSD": slices.Contains(ftpNames, tc.name),
				"FTP NLST": slices.ContainsFunc(nlst, func(n string) bool { return strings.TrimPrefix(n, "/Media/") == tc.name }),
				"HTTP folder page": strings.Contains(folderPage.body,
					`href="./`+htmlEscape(url.PathEscape(tc.name))),
				"index": slices.ContainsFunc(indexed, func(e library.Entry) bool { return e.Name == tc.name }),
			}
			if tc.twice {
				seen["index"] = !seen["index"]
				seen["HTTP folder page"] = !seen["HTTP folder page"]
			}
			for where, got := range seen {
				if got != tc.visible {
					t.Errorf("%q listed by %s: %v, want %v", tc.name, where, got, tc.visible)
				}
			}
			if _, err := set.Entry("Media", tc.name, library.AllFiles); (err == nil) != (tc.visible && !tc.twice) {
				t.Errorf("index Entry(%q): %v, want visible %v", tc.name, err, tc.visible)
			}
			if !tc.sendable {
				return
			}
			isDir := tc.name == "Season 1" || tc.name == "link-dir" || tc.name == ".Trash"
			target := tc.name
			if isDir {
				target += "/inside.mkv"
			}
			// FTP: RETR, which must answer at once (a FIFO never blocks).
			r, err := c.Retr("/Media/" + target)
			var data []byte
			if err == nil {
				data, err = io.ReadAll(r)
				r.Close()
			}
			if got := err == nil && string(data) == content; got != tc.visible {
				t.Errorf("FTP RETR %q: %q, %v; want served %v", target, data, err, tc.visible)
			}
			// HTTP: the file itself.
			resp := get(t, hs.URL+"/files/Media/"+url.PathEscape(tc.name)+map[bool]string{true: "/inside.mkv"}[isDir])
			if got := resp.code == http.StatusOK && resp.body == content; got != tc.visible {
				t.Errorf("HTTP GET %q: %d %q; want served %v", target, resp.code, resp.body, tc.visible)
			}
			if !tc.visible && resp.code != http.StatusNotFound {
				t.Errorf("HTTP GET %q: %d, want 404", target, resp.code)
			}
		})
	}
}

type response struct {
	code int
	body string
}

// get fetches u with a deadline, so that a request that blocks (a FIFO)
// fails the test instead of hanging it.
func get(t *testing.T, u string) response {
	t.Helper()
	cl := &http.Client{Timeout: 10 * time.Second}
	resp, err := cl.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("GET %s: %v", u, err)
	}
	return response{resp.StatusCode, string(b)}
}

// htmlEscape escapes what html/template escapes in an attribute value
// that url.PathEscape leaves: nothing but these.
func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "'", "&#39;", "+", "&#43;").Replace(s)
}
