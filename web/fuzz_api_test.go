package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/library"
)

// FuzzAPIShares sends arbitrary bodies to the login and share endpoints,
// as an admin and as a stranger, and checks that the server never fails
// with a 5xx, that every 4xx is JSON {"error": "..."}, and that a refused
// change leaves the config file and the share set as they were.
// "%MEDIA%" in a body stands for the share root, so that seeds can name
// folders that exist.
func FuzzAPIShares(f *testing.F) {
	for _, s := range []struct {
		route uint8
		body  string
	}{
		{0, `{"password": "` + testPassword + `"}`},
		{0, `{"password": "wrong"}`},
		{0, `{"password": 1}`},
		{0, `{"password": "x", "user": "root"}`},
		{0, `{"password":"\u0000\ud800"}`},
		{0, `{} {}`},
		{0, `[`},
		{0, ``},
		{1, `{"name": "USB", "path": "%MEDIA%/USB"}`},
		{1, `{"name": "Films", "path": "%MEDIA%/USB/Films"}`},
		{1, `{"name": "Movies", "path": "%MEDIA%/USB"}`},
		{1, `{"name": "../x", "path": "%MEDIA%/USB"}`},
		{1, `{"name": "a\nb", "path": "%MEDIA%/USB"}`},
		{1, `{"name": "a: b # c", "path": "%MEDIA%/USB"}`},
		{1, `{"name": "Out", "path": "%MEDIA%/USB/out"}`},
		{1, `{"name": "Root", "path": "/"}`},
		{1, `{"name": "\xff\xfe", "path": "%MEDIA%/USB\u0000"}`},
		{1, `{"name": "USB", "path": "%MEDIA%/USB", "extra": 1}`},
		{1, `{"name": "` + strings.Repeat("x", 5000) + `"}`},
		{2, `{"name": "Films"}`},
		{2, `{"name": "Movies"}`},
		{2, `{"name": ""}`},
		{2, `{"name": "- x"}`},
		{2, `{"name": "New", "path": "/etc"}`},
	} {
		f.Add(s.route, s.body, true)
		f.Add(s.route, s.body, false)
	}

	dir := f.TempDir()
	media := filepath.Join(dir, "media")
	cfg := filepath.Join(dir, "config.yaml")
	mustWrite(f, filepath.Join(media, "Movies/film.mkv"), "film")
	mustWrite(f, filepath.Join(media, "USB/file.txt"), "file")
	mustMkdir(f, filepath.Join(media, "USB/Films"))
	mustWrite(f, filepath.Join(dir, "outside/secret.txt"), "secret")
	mustSymlink(f, "../../outside", filepath.Join(media, "USB/out"))
	mustWrite(f, cfg, strings.ReplaceAll(testConfig, "%MEDIA%", media))
	set, err := library.NewSet(library.Share{Name: "Movies", Path: filepath.Join(media, "Movies")})
	if err != nil {
		f.Fatal(err)
	}
	set.Settle = 20 * time.Millisecond
	set.Logger = quietLogger()
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() {
		set.Run(ctx)
		close(ran)
	}()
	f.Cleanup(func() {
		cancel()
		<-ran
	})
	srv := &Server{
		Shares:       set,
		Name:         "Test Box",
		Manager:      &library.Manager{Set: set, ConfigPath: cfg},
		PasswordHash: testHash,
		ShareRoots:   []string{media},
		Logger:       quietLogger(),
	}
	h := srv.Handler()

	var clients int
	// serve sends a request from its own address, so that wrong passwords
	// do not lock the next ones out.
	serve := func(method, path, body string, headers ...string) *httptest.ResponseRecorder {
		clients++
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.Host = "127.0.0.1"
		r.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:4321", clients>>16&255, clients>>8&255, clients&255)
		r.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(headers); i += 2 {
			r.Header.Set(headers[i], headers[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	w := serve("POST", "/api/login", `{"password": "`+testPassword+`"}`)
	var sess sessionResponse
	if err := json.Unmarshal(w.Body.Bytes(), &sess); w.Code != http.StatusOK || err != nil {
		f.Fatalf("login: %d %s", w.Code, w.Body)
	}
	var auth []string
	for _, c := range w.Result().Cookies() {
		if c.Name == sessionCookie {
			auth = []string{"Cookie", sessionCookie + "=" + c.Value, csrfHeader, sess.CSRFToken}
		}
	}
	if auth == nil {
		f.Fatal("login set no session cookie")
	}

	f.Fuzz(func(t *testing.T, route uint8, body string, admin bool) {
		body = strings.ReplaceAll(body, "%MEDIA%", media)
		var hdr []string
		if admin {
			hdr = auth
		}
		method, path := "POST", "/api/login"
		switch route % 3 {
		case 1:
			path = "/api/shares"
		case 2:
			method, path = "PATCH", "/api/shares/Movies"
		}
		before, err := os.ReadFile(cfg)
		if err != nil {
			t.Fatal(err)
		}
		shares := set.List()

		w := serve(method, path, body, hdr...)
		if w.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", method, path, body, w.Code, w.Body)
		}
		if w.Code >= 400 {
			var e map[string]any
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("%s %s %q: %d with Content-Type %q", method, path, body, w.Code, ct)
			}
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || len(e) != 1 {
				t.Fatalf("%s %s %q: %d body %q is not {\"error\": ...}", method, path, body, w.Code, w.Body)
			}
			if msg, ok := e["error"].(string); !ok || msg == "" {
				t.Errorf("%s %s %q: %d body %q has no error message", method, path, body, w.Code, w.Body)
			}
			after, err := os.ReadFile(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(before, after) {
				t.Errorf("%s %s %q: %d, yet the config file changed:\n%s", method, path, body, w.Code, after)
			}
			if got := set.List(); !reflect.DeepEqual(got, shares) {
				t.Errorf("%s %s %q: %d, yet the shares changed: %v, were %v", method, path, body, w.Code, got, shares)
			}
			return
		}
		if route%3 == 0 {
			return
		}
		// A change was made: undo it, so the next input starts afresh.
		var resp shareResponse
		if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
			t.Fatalf("%s %s %q: %d %q: %v", method, path, body, w.Code, w.Body, err)
		}
		if route%3 == 1 {
			if w := serve("DELETE", "/api/shares/"+url.PathEscape(resp.Name), "", hdr...); w.Code != http.StatusNoContent {
				t.Fatalf("removing the added share %q: %d %s", resp.Name, w.Code, w.Body)
			}
		} else if resp.Name != "Movies" {
			if w := serve("PATCH", "/api/shares/"+url.PathEscape(resp.Name), `{"name": "Movies"}`, hdr...); w.Code != http.StatusOK {
				t.Fatalf("renaming %q back: %d %s", resp.Name, w.Code, w.Body)
			}
		}
		if got := set.List(); !reflect.DeepEqual(got, shares) {
			t.Fatalf("shares not restored: %v, were %v", got, shares)
		}
	})
}
