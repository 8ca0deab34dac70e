package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mediaftpd/mediaftpd/internal/config"
	"github.com/mediaftpd/mediaftpd/library"
)

func jsonBody(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// configShares returns the shares of the test server's config file, as a
// restart would load them.
func (e *testEnv) configShares() []config.Share {
	e.t.Helper()
	cfg, err := config.Load(e.config)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := range cfg.Shares {
		cfg.Shares[i].Line = 0
	}
	return cfg.Shares
}

func TestAddShare(t *testing.T) {
	e := newTestServer(t)
	a := e.login()
	films := filepath.Join(e.media, "USB", "Films")
	mustWrite(t, filepath.Join(films, "big.mkv"), "big")

	// Given with ".." and through a symlink: stored as the real folder.
	mustSymlink(t, "USB", filepath.Join(e.media, "usb-link"))
	given := filepath.Join(e.media, "Movies", "..", "usb-link", "Films")
	resp, body := e.do("POST", "/api/shares", jsonBody(shareRequest{Name: "Films", Path: given}), a.auth(e)...)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/shares: %s %s", resp.Status, body)
	}
	var got shareResponse
	json.Unmarshal([]byte(body), &got)
	if want := (shareResponse{Name: "Films", Path: films, Saved: true}); got != want {
		t.Errorf("answer %+v, want %+v", got, want)
	}
	if loc := resp.Header.Get("Location"); loc != "/api/shares/Films" {
		t.Errorf("Location %q", loc)
	}

	// At once: in the share set, so FTP resolves it, and indexed.
	if !slices.Contains(e.set.Names(), "Films") {
		t.Fatalf("share set %q lacks Films", e.set.Names())
	}
	root, err := e.set.Root("Films")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := root.Stat("big.mkv"); err != nil {
		t.Errorf("the new share does not serve its files: %v", err)
	}
	waitFor(t, "the new share indexed", func() bool {
		for _, sh := range e.status().Shares {
			if sh.Name == "Films" && sh.State == library.StateWatching && sh.Video == 1 {
				return true
			}
		}
		return false
	})

	// Saved: a restart would have it, and the file keeps its comments.
	want := []config.Share{{Name: "Movies", Path: e.media + "/Movies"}, {Name: "Films", Path: films}}
	if got := e.configShares(); !reflect.DeepEqual(got, want) {
		t.Errorf("config shares %+v, want %+v", got, want)
	}
	data, _ := os.ReadFile(e.config)
	for _, c := range []string{"# Test config.", "# The shares.", "# the first one", "# Where the page may make shares."} {
		if !strings.Contains(string(data), c) {
			t.Errorf("the config file lost the comment %q:\n%s", c, data)
		}
	}
}

func TestAddShareInvalid(t *testing.T) {
	e := newTestServer(t)
	a := e.login()
	mustWrite(t, filepath.Join(e.media, "USB", "Films", "x.mkv"), "x")
	mustSymlink(t, "../../../outside", filepath.Join(e.media, "USB", "Films", "away"))
	films := filepath.Join(e.media, "USB", "Films")
	tests := []struct {
		name     string
		body     string
		code     int
		contains string
	}{
		{"empty name", jsonBody(shareRequest{Name: "", Path: films}), 400, "name"},
		{"name with slash", jsonBody(shareRequest{Name: "a/b", Path: films}), 400, "slash"},
		{"name with backslash", jsonBody(shareRequest{Name: `a\b`, Path: films}), 400, "slash"},
		{"dot name", jsonBody(shareRequest{Name: ".films", Path: films}), 400, "dot"},
		{"dot dot", jsonBody(shareRequest{Name: "..", Path: films}), 400, "not allowed"},
		{"spaces", jsonBody(shareRequest{Name: " Films", Path: films}), 400, "space"},
		{"control character", jsonBody(shareRequest{Name: "Fil\x01ms", Path: films}), 400, "control"},
		{"duplicate name", jsonBody(shareRequest{Name: "movies", Path: films}), 400, "exists"},
		{"no path", jsonBody(shareRequest{Name: "Films"}), 400, "missing"},
		{"relative path", jsonBody(shareRequest{Name: "Films", Path: "media/USB/Films"}), 400, "absolute"},
		{"missing folder", jsonBody(shareRequest{Name: "Films", Path: films + "/nope"}), 400, "does not exist"},
		{"a file", jsonBody(shareRequest{Name: "Films", Path: films + "/x.mkv"}), 400, "not a folder"},
		{"outside the roots", jsonBody(shareRequest{Name: "Films", Path: filepath.Join(e.dir, "outside")}), 400, "outside"},
		{"climbing out with ..", jsonBody(shareRequest{Name: "Films", Path: e.media + "/USB/../../outside"}), 400, "outside"},
		{"symlink out", jsonBody(shareRequest{Name: "Films", Path: films + "/away"}), 400, "outside"},
		{"root of the file system", jsonBody(shareRequest{Name: "Films", Path: "/"}), 400, "outside"},
		{"shared already", jsonBody(shareRequest{Name: "Films", Path: e.media + "/Movies/"}), 400, "shared already"},
		{"not JSON", "name=Films", 400, "bad request body"},
		{"unknown key", `{"name": "Films", "path": "/x", "rescan": 1}`, 400, "unknown field"},
		{"too large", `{"name": "` + strings.Repeat("F", 5000) + `"}`, 413, "larger"},
	}
	before, _ := os.ReadFile(e.config)
	for _, tt := range tests {
		resp, body := e.do("POST", "/api/shares", tt.body, a.auth(e)...)
		var got errorBody
		json.Unmarshal([]byte(body), &got)
		if resp.StatusCode != tt.code || !strings.Contains(got.Error, tt.contains) {
			t.Errorf("%s: %s %s, want %d with %q", tt.name, resp.Status, body, tt.code, tt.contains)
		}
	}
	if names := e.set.Names(); !slices.Equal(names, []string{"Movies"}) {
		t.Errorf("shares after refused additions: %q", names)
	}
	if after, _ := os.ReadFile(e.config); string(after) != string(before) {
		t.Errorf("refused additions changed the config file:\n%s", after)
	}
}

func TestAddShareNotPersisted(t *testing.T) {
	e := newTestServer(t, func(s *Server) { s.Manager.ConfigPath = "" })
	a := e.login()
	before, _ := os.ReadFile(e.config)
	resp, body := e.do("POST", "/api/shares", jsonBody(shareRequest{Name: "Films", Path: e.media + "/USB/Films"}), a.auth(e)...)
	if resp.StatusCode != http.StatusCreated || !strings.Contains(body, `"saved":false`) {
		t.Fatalf("POST /api/shares: %s %s", resp.Status, body)
	}
	if !slices.Contains(e.set.Names(), "Films") {
		t.Error("the share was not added")
	}
	if after, _ := os.ReadFile(e.config); string(after) != string(before) {
		t.Error("the config file changed, though the server has none")
	}
}

func TestAddShareSaveFails(t *testing.T) {
	e := newTestServer(t)
	a := e.login()
	// The file now has an error (edited by hand since the start): nothing
	// is changed, and the admin is told why.
	mustWrite(t, e.config, "shares:\n  - name: Movies\n    path: "+e.media+"/Movies\n    typo: 1\n")
	resp, body := e.do("POST", "/api/shares", jsonBody(shareRequest{Name: "Films", Path: e.media + "/USB/Films"}), a.auth(e)...)
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(body, "typo") {
		t.Errorf("POST with a broken config file: %s %s", resp.Status, body)
	}
	if slices.Contains(e.set.Names(), "Films") {
		t.Error("the share was added though it could not be saved")
	}
	// A share added to the file by hand meanwhile is a duplicate.
	mustWrite(t, e.config, "shares:\n  - name: Films\n    path: /elsewhere\n")
	resp, body = e.do("POST", "/api/shares", jsonBody(shareRequest{Name: "Films", Path: e.media + "/USB/Films"}), a.auth(e)...)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Films") {
		t.Errorf("POST of a name the file has: %s %s", resp.Status, body)
	}
}

func TestRemoveShare(t *testing.T) {
	e := newTestServer(t)
	a := e.login()
	resp, body := e.do("DELETE", "/api/shares/Movies", "", a.auth(e)...)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %s %s", resp.Status, body)
	}
	if len(e.set.Names()) != 0 {
		t.Errorf("shares after removal: %q", e.set.Names())
	}
	if _, err := e.set.Root("Movies"); err == nil {
		t.Error("the removed share still resolves")
	}
	if got := e.configShares(); len(got) != 0 {
		t.Errorf("config shares after removal: %+v", got)
	}
	if data, _ := os.ReadFile(e.config); !strings.Contains(string(data), "# Where the page may make shares.") {
		t.Errorf("the config file lost its comments:\n%s", data)
	}
	resp, body = e.do("DELETE", "/api/shares/Movies", "", a.auth(e)...)
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "no share") {
		t.Errorf("DELETE again: %s %s", resp.Status, body)
	}
	// A share not in the file (from the command line) is removed too.
	if err := e.set.Add(library.Share{Name: "Cmdline", Path: e.media + "/USB"}); err != nil {
		t.Fatal(err)
	}
	if resp, _ := e.do("DELETE", "/api/shares/Cmdline", "", a.auth(e)...); resp.StatusCode != http.StatusNoContent {
		t.Errorf("DELETE of a command-line share: %s", resp.Status)
	}
}

func TestRenameShare(t *testing.T) {
	e := newTestServer(t)
	a := e.login()
	if err := e.set.Add(library.Share{Name: "Other", Path: e.media + "/USB"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, body string
		code             int
		contains         string
	}{
		{"missing share", "/api/shares/Nope", `{"name": "X"}`, 404, "no share"},
		{"taken name", "/api/shares/Movies", `{"name": "OTHER"}`, 400, "exists"},
		{"bad name", "/api/shares/Movies", `{"name": "a/b"}`, 400, "slash"},
		{"new path", "/api/shares/Movies", `{"name": "Films", "path": "/elsewhere"}`, 400, "cannot be changed"},
		{"case only", "/api/shares/Movies", `{"name": "MOVIES"}`, 200, `"name":"MOVIES"`},
		{"new name", "/api/shares/MOVIES", `{"name": "Films & Series"}`, 200, `"saved":true`},
		{"same name", "/api/shares/Films%20&%20Series", `{"name": "Films & Series"}`, 200, "Films"},
	}
	for _, tt := range tests {
		resp, body := e.do("PATCH", tt.path, tt.body, a.auth(e)...)
		if resp.StatusCode != tt.code || !strings.Contains(body, tt.contains) {
			t.Errorf("%s: %s %s, want %d with %q", tt.name, resp.Status, body, tt.code, tt.contains)
		}
	}
	if names := e.set.Names(); !slices.Equal(names, []string{"Films & Series", "Other"}) {
		t.Errorf("shares %q", names)
	}
	if got := e.configShares(); len(got) != 1 || got[0].Name != "Films & Series" {
		t.Errorf("config shares %+v", got)
	}
}

// TestConcurrentAdmins has two admins add shares at once: every share
// ends up in the set and in the file.
func TestConcurrentAdmins(t *testing.T) {
	e := newTestServer(t)
	admins := []adminClient{e.login(), e.login()}
	const n = 12
	for i := range n {
		mustMkdir(t, filepath.Join(e.media, "USB", fmt.Sprintf("d%02d", i)))
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			a := admins[i%2]
			req := shareRequest{Name: fmt.Sprintf("S%02d", i), Path: filepath.Join(e.media, "USB", fmt.Sprintf("d%02d", i))}
			resp, body := e.do("POST", "/api/shares", jsonBody(req), a.auth(e)...)
			if resp.StatusCode != http.StatusCreated {
				t.Errorf("add %s: %s %s", req.Name, resp.Status, body)
			}
		})
	}
	wg.Wait()
	if got := len(e.set.Names()); got != n+1 {
		t.Errorf("%d shares in the set, want %d", got, n+1)
	}
	if got := len(e.configShares()); got != n+1 {
		t.Errorf("%d shares in the file, want %d", got, n+1)
	}
}

func TestFolders(t *testing.T) {
	e := newTestServer(t, func(s *Server) {
		s.ShareRoots = []string{"/nonexistent-root"}
	})
	a := e.login()
	get := func(path string) (int, folderList, string) {
		t.Helper()
		resp, body := e.do("GET", "/api/folders"+path, "", a.auth(e)...)
		var fl folderList
		json.Unmarshal([]byte(body), &fl)
		return resp.StatusCode, fl, body
	}
	// The roots: a missing one left out; the start-up share's folder added.
	code, fl, body := get("")
	movies := filepath.Join(e.media, "Movies")
	if code != 200 || fl.Path != "" || len(fl.Folders) != 1 || fl.Folders[0].Path != movies {
		t.Errorf("roots: %d %s", code, body)
	}
	code, fl, body = get("?path=" + movies)
	if code != 200 || fl.Path != movies || fl.Parent != "" {
		t.Fatalf("Movies: %d %s", code, body)
	}
	var names []string
	for _, f := range fl.Folders {
		names = append(names, f.Name)
	}
	// No dotfiles, no symlink leaving the roots; a symlink inside is in.
	if want := []string{"inside", "sub"}; !slices.Equal(names, want) {
		t.Errorf("folders in Movies %q, want %q", names, want)
	}
	if code, fl, _ = get("?path=" + movies + "/sub"); code != 200 || fl.Parent != movies {
		t.Errorf("sub: %d, parent %q", code, fl.Parent)
	}
	for _, p := range []string{e.media, filepath.Join(e.dir, "outside"), movies + "/../../outside", movies + "/escape", "relative"} {
		if code, _, body := get("?path=" + p); code != 400 {
			t.Errorf("folders of %s: %d %s, want 400", p, code, body)
		}
	}
}

func TestFoldersMediaRoot(t *testing.T) {
	e := newTestServer(t)
	a := e.login()
	resp, body := e.do("GET", "/api/folders?path="+e.media+"/USB", "", a.auth(e)...)
	var fl folderList
	json.Unmarshal([]byte(body), &fl)
	if resp.StatusCode != 200 || fl.Parent != e.media || len(fl.Folders) != 1 || fl.Folders[0].Name != "Films" {
		t.Errorf("USB: %s %s", resp.Status, body)
	}
}
