package web

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/mediaftpd/mediaftpd/accounts"
	"github.com/mediaftpd/mediaftpd/dlna"
	"github.com/mediaftpd/mediaftpd/dlna/ssdp"
	"github.com/mediaftpd/mediaftpd/ftpd"
	"github.com/mediaftpd/mediaftpd/internal/config"
	"github.com/mediaftpd/mediaftpd/library"
	"github.com/mediaftpd/mediaftpd/library/store"
	"github.com/mediaftpd/mediaftpd/library/thumb"
)

// The users of accounts tests, and their passwords.
const (
	alicePassword = "alice's own password"
	bobPassword   = "bob's own password"
)

// minCostHash hashes a test password at bcrypt's lowest cost.
func minCostHash(password string) string {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		panic(err)
	}
	return string(h)
}

var (
	aliceHash = minCostHash(alicePassword)
	bobHash   = minCostHash(bobPassword)
)

// privateFiles are the files of each private share: a video with its
// subtitles and a picture, and a file named after the share, which must
// show up nowhere for those who may not see it.
var privateFiles = []string{"home.mkv", "home.en.srt", "cover.jpg"}

// homeData is the contents of each private share's home.mkv.
const homeData = "a home video"

// newAccountsServer is newTestServer with two users, alice and bob, in the
// config file and running, and two private shares besides the public
// Movies: Family, which only alice sees, and Diary, which only bob sees.
// Each holds privateFiles and family.txt or diary.txt. Thumbnails and
// positions are on; the details figures come from fakeDetails.
func newAccountsServer(t *testing.T, configure ...func(*Server)) *testEnv {
	t.Helper()
	state := t.TempDir()
	withMedia := func(s *Server) {
		st, err := store.Open(state, quietLogger())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		s.Thumbs = &thumb.Cache{Dir: filepath.Join(state, "thumbs"), Logger: quietLogger()}
		s.Positions = st
		s.Details = &fakeDetails{progress: library.DetailsProgress{Running: true, Checked: 4210, Total: 10000, Probed: 7}}
	}
	e := newTestServer(t, append([]func(*Server){withMedia}, configure...)...)
	users := []accounts.User{{Name: "alice", PasswordHash: aliceHash}, {Name: "bob", PasswordHash: bobHash}}
	for _, u := range users {
		if err := config.SetUserPasswordHash(e.config, u.Name, u.PasswordHash); err != nil {
			t.Fatal(err)
		}
	}
	e.users.Set(users, true)
	for _, p := range [][2]string{{"Family", "alice"}, {"Diary", "bob"}} {
		share, user := p[0], p[1]
		dir := filepath.Join(e.media, share)
		mustWrite(t, filepath.Join(dir, "home.mkv"), homeData)
		mustWrite(t, filepath.Join(dir, "home.en.srt"), "1\n00:00:01,000 --> 00:00:02,000\nHello\n")
		writeJPEG(t, filepath.Join(dir, "cover.jpg"), 64, 64)
		mustWrite(t, filepath.Join(dir, strings.ToLower(share)+".txt"), "private")
		if _, err := e.srv.Manager.Add(library.Share{Name: share, Path: dir, Access: []string{user}}); err != nil {
			t.Fatal(err)
		}
	}
	e.waitIndexed()
	waitFor(t, "the private shares' files indexed", func() bool {
		for _, share := range []string{"Family", "Diary"} {
			if _, err := e.set.Entry(share, strings.ToLower(share)+".txt", library.AllFiles); err != nil {
				return false
			}
		}
		return true
	})
	return e
}

// loginUser logs a user in and returns the session.
func (e *testEnv) loginUser(name, password string) adminClient {
	e.t.Helper()
	resp, body := e.do("POST", "/api/login", jsonBody(map[string]string{"user": name, "password": password}), "Origin", e.ts.URL)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("login of %s: %s %s", name, resp.Status, body)
	}
	var got sessionResponse
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		e.t.Fatal(err)
	}
	if got.User != name || got.Admin || got.CSRFToken == "" {
		e.t.Fatalf("login of %s: %s", name, body)
	}
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			return adminClient{cookie: c.Value, csrf: got.CSRFToken}
		}
	}
	e.t.Fatal("login set no session cookie")
	return adminClient{}
}

// cookieHeader returns the Cookie header of the session, none for a
// visitor.
func (a adminClient) cookieHeader() []string {
	if a.cookie == "" {
		return nil
	}
	return []string{"Cookie", sessionCookie + "=" + a.cookie}
}

// eventsAs opens the live update stream as the session.
func (e *testEnv) eventsAs(ctx context.Context, a adminClient) *sseReader {
	e.t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.ts.URL+"/events", nil)
	if a.cookie != "" {
		req.Header.Set("Cookie", sessionCookie+"="+a.cookie)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 {
		e.t.Fatalf("GET /events: %s", resp.Status)
	}
	return &sseReader{t: e.t, resp: resp, r: bufio.NewReader(resp.Body)}
}

// answer is a response with its body read.
type answer struct {
	code   int
	header http.Header
	body   string
}

func (e *testEnv) answer(method, path, body string, headers ...string) answer {
	e.t.Helper()
	resp, got := e.do(method, path, body, headers...)
	h := resp.Header.Clone()
	h.Del("Date")
	return answer{resp.StatusCode, h, got}
}

// TestAccessMatrix checks what a visitor, alice, bob and the admin each
// see through every route: the page, /api/status, the live updates, the
// file browser, items, thumbnails, the player, subtitles and positions. A
// share one may not see is answered as a missing one, byte for byte.
func TestAccessMatrix(t *testing.T) {
	e := newAccountsServer(t, func(s *Server) {
		s.DLNA = func() (dlna.Status, ssdp.Status) {
			return dlna.Status{Streams: []dlna.Stream{
				{Share: "Family", Path: "home.mkv", Client: netip.MustParseAddr("192.168.1.50"), Player: "Samsung TV", Size: 12, Sent: 5},
				{Share: "Movies", Path: "film.mkv", Client: netip.MustParseAddr("192.168.1.51"), Player: "LG TV", Size: 12, Sent: 5},
			}}, ssdp.Status{}
		}
	})
	now := time.Now()
	e.setSessions(
		ftpd.SessionInfo{ID: 1, Remote: "192.168.1.7:50001", User: "alice", Account: "alice", TLS: true, DataTLS: true, Since: now,
			Transfer: &ftpd.TransferInfo{Path: "/Family/family.txt", Size: 7, Sent: 3, Started: now}},
		ftpd.SessionInfo{ID: 2, Remote: "192.168.1.8:50002", User: "bob", Account: "bob", TLS: true, Since: now,
			Transfer: &ftpd.TransferInfo{Path: "/Diary/diary.txt", Size: 7, Sent: 3, Started: now}},
		ftpd.SessionInfo{ID: 3, Remote: "192.168.1.9:50003", User: "anonymous", Since: now,
			Transfer: &ftpd.TransferInfo{Path: "/Movies/film.mkv", Size: 100, Sent: 3, Started: now}},
		ftpd.SessionInfo{ID: 4, Remote: "192.168.1.9:50004", User: "anonymous", Since: now,
			Transfer: &ftpd.TransferInfo{Path: "/", Listing: true, Started: now}},
	)
	viewers := []struct {
		name   string
		client adminClient
		sees   []string // shares, in order
		secret []string // what must appear nowhere for them
	}{
		{"visitor", adminClient{}, []string{"Movies"}, []string{"Family", "family.txt", "Diary", "diary.txt", "alice", "bob", "4,210"}},
		{"alice", e.loginUser("alice", alicePassword), []string{"Movies", "Family"}, []string{"Diary", "diary.txt", "bob", "4,210"}},
		{"bob", e.loginUser("bob", bobPassword), []string{"Movies", "Diary"}, []string{"Family", "family.txt", "alice", "4,210"}},
		{"admin", e.login(), []string{"Movies", "Family", "Diary"}, nil},
	}
	for _, v := range viewers {
		t.Run(v.name, func(t *testing.T) {
			hdr := v.client.cookieHeader()
			noSecrets := func(what, text string) {
				t.Helper()
				for _, s := range v.secret {
					if strings.Contains(text, s) {
						t.Errorf("%s shows %q to %s:\n%s", what, s, v.name, text)
					}
				}
			}

			// /api/status: the shares, recent files, transfers, streams
			// and figures they may see.
			resp, body := e.do("GET", "/api/status", "", hdr...)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET /api/status: %s", resp.Status)
			}
			noSecrets("/api/status", body)
			var st Status
			if err := json.Unmarshal([]byte(body), &st); err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, sh := range st.Shares {
				names = append(names, sh.Name)
				if sh.Private != (sh.Name != "Movies") {
					t.Errorf("share %s private = %v", sh.Name, sh.Private)
				}
				if v.name != "admin" && sh.Access != nil {
					t.Errorf("share %s shows its access %q to %s", sh.Name, sh.Access, v.name)
				}
			}
			if !slices.Equal(names, v.sees) {
				t.Errorf("shares %q, want %q", names, v.sees)
			}
			for _, a := range st.Recent {
				if !slices.Contains(v.sees, a.Share) {
					t.Errorf("recent addition %s/%s shown", a.Share, a.Path)
				}
			}
			if n := len(st.Recent); n == 0 {
				t.Error("no recent additions")
			}
			if (st.Viewer.Admin) != (v.name == "admin") || v.name != "admin" && v.name != "visitor" && st.Viewer.User != v.name {
				t.Errorf("viewer %+v", st.Viewer)
			}
			if got := st.Details.Checked; (got == 4210) != (v.name == "admin") || !st.Details.Enabled {
				t.Errorf("details %+v", st.Details)
			}
			if (st.Users != nil) != (v.name == "admin") {
				t.Errorf("users %+v shown to %s", st.Users, v.name)
			}
			for _, ss := range st.Sessions {
				tr := ss.Transfer
				if tr == nil {
					t.Errorf("session %d lost its transfer", ss.ID)
					continue
				}
				visible := tr.Path == "/" || slices.Contains(v.sees, ftpShare(tr.Path))
				if tr.Hidden == visible || tr.Hidden && (tr.Path != "" || tr.Size != 0 || tr.Sent != 0) {
					t.Errorf("session %d transfer %+v", ss.ID, tr)
				}
				own := v.name == "admin" || ss.Account == v.name
				if !own && (ss.User != "" || ss.Account != "") {
					t.Errorf("session %d shows user %q account %q", ss.ID, ss.User, ss.Account)
				}
				if ss.ID <= 2 && !ss.TLS {
					t.Errorf("session %d lost its TLS", ss.ID)
				}
			}
			var streams []string
			for _, s := range st.DLNA.Streams {
				streams = append(streams, s.Share)
			}
			if want := slices.DeleteFunc([]string{"Family", "Movies"}, func(s string) bool { return !slices.Contains(v.sees, s) }); !slices.Equal(streams, want) {
				t.Errorf("DLNA streams in %q, want %q", streams, want)
			}

			// The page and the live updates.
			resp, page := e.do("GET", "/", "", hdr...)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET /: %s", resp.Status)
			}
			noSecrets("the page", page)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, event, err := e.eventsAs(ctx, v.client).next()
			if err != nil {
				t.Fatal(err)
			}
			noSecrets("the live update", event)
			for _, sh := range v.sees {
				for what, text := range map[string]string{"the page": page, "the live update": event} {
					if !strings.Contains(text, `data-share="`+sh+`"`) {
						t.Errorf("%s lacks share %s", what, sh)
					}
				}
			}
			if v.name == "admin" && (!strings.Contains(event, `data-user="alice"`) || !strings.Contains(event, "Reading media details: 4,210")) {
				t.Errorf("the admin's live update lacks the users or the details:\n%s", event)
			}
			if v.name == "alice" && !strings.Contains(event, `<span class="account">alice</span>`) {
				t.Errorf("alice does not see her own FTP session:\n%s", event)
			}

			// The file browser's list of shares.
			_, list := e.do("GET", "/files/", "", hdr...)
			noSecrets("/files/", list)
			for _, sh := range v.sees {
				if !strings.Contains(list, "./"+sh+"/") {
					t.Errorf("/files/ lacks %s", sh)
				}
			}

			// Every route into each private share: as a missing share's
			// for those who may not see it, served for those who may.
			for _, share := range []string{"Family", "Diary"} {
				file := strings.ToLower(share) + ".txt"
				probes := []struct {
					method, path, body string
					code               int // when allowed
				}{
					{"GET", "/files/%s/", "", http.StatusOK},
					{"GET", "/files/%s", "", http.StatusMovedPermanently},
					{"GET", "/files/%s/home.mkv", "", http.StatusOK},
					{"HEAD", "/files/%s/home.mkv", "", http.StatusOK},
					{"GET", "/files/%s/" + file, "", http.StatusOK},
					{"GET", "/files/%s/missing.mkv", "", http.StatusNotFound},
					{"GET", "/api/items/%s/home.mkv", "", http.StatusOK},
					{"GET", "/api/items/%s", "", http.StatusOK},
					{"GET", "/thumbs/%s/cover.jpg?size=160", "", http.StatusOK},
					{"GET", "/play/%s/home.mkv", "", http.StatusOK},
					{"GET", "/subtitles/%s/home.en.srt", "", http.StatusOK},
					{"PUT", "/api/positions/%s/home.mkv", `{"seconds": 5}`, http.StatusNoContent},
				}
				allowed := slices.Contains(v.sees, share)
				for _, p := range probes {
					path := fmt.Sprintf(p.path, share)
					headers := append(slices.Clone(hdr), "Origin", e.ts.URL)
					got := e.answer(p.method, path, p.body, headers...)
					if allowed {
						if got.code != p.code {
							t.Errorf("%s %s: %d %s, want %d", p.method, path, got.code, got.body, p.code)
						}
						continue
					}
					missing := e.answer(p.method, fmt.Sprintf(p.path, "Nope"), p.body, headers...)
					if got.code != missing.code || got.body != missing.body || !reflect.DeepEqual(got.header, missing.header) {
						t.Errorf("%s %s: %d %v %q\nwhile a missing share's: %d %v %q", p.method, path,
							got.code, got.header, got.body, missing.code, missing.header, missing.body)
					}
					if got.code < 400 {
						t.Errorf("%s %s: %d, served", p.method, path, got.code)
					}
				}
				if allowed {
					if _, body := e.do("GET", "/files/"+share+"/home.mkv", "", hdr...); body != homeData {
						t.Errorf("GET /files/%s/home.mkv: %q", share, body)
					}
					resp, _ := e.do("GET", "/files/"+share+"/home.mkv", "", hdr...)
					if cc := resp.Header.Get("Cache-Control"); cc != "private" {
						t.Errorf("a private share's file: Cache-Control %q, want private", cc)
					}
				}
			}
		})
	}
}

func TestUserLogin(t *testing.T) {
	e := newAccountsServer(t)
	wrong := e.answer("POST", "/api/login", `{"user": "alice", "password": "not hers"}`)
	unknown := e.answer("POST", "/api/login", `{"user": "mallory", "password": "not hers"}`)
	if wrong.code != http.StatusUnauthorized || wrong.header.Get("Set-Cookie") != "" {
		t.Errorf("wrong password: %d %s", wrong.code, wrong.body)
	}
	if unknown.code != wrong.code || unknown.body != wrong.body || !reflect.DeepEqual(unknown.header, wrong.header) {
		t.Errorf("an unknown user is answered %d %q, a wrong password %d %q", unknown.code, unknown.body, wrong.code, wrong.body)
	}
	// The name is exact: logins and access lists use it as written.
	if resp, _ := e.do("POST", "/api/login", `{"user": "Alice", "password": "`+alicePassword+`"}`); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("login as Alice: %s, want 401", resp.Status)
	}

	resp, body := e.do("POST", "/api/login", `{"user": "alice", "password": "`+alicePassword+`"}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login: %s %s", resp.Status, body)
	}
	var c *http.Cookie
	for _, k := range resp.Cookies() {
		if k.Name == sessionCookie {
			c = k
		}
	}
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure {
		t.Fatalf("cookie %+v: want HttpOnly, SameSite=Strict, not Secure over plain HTTP", c)
	}
	var got sessionResponse
	json.Unmarshal([]byte(body), &got)
	alice := adminClient{c.Value, got.CSRFToken}
	_, body = e.do("GET", "/api/session", "", alice.cookieHeader()...)
	var sess sessionResponse
	if json.Unmarshal([]byte(body), &sess); sess.User != "alice" || sess.Admin || sess.CSRFToken != alice.csrf || !sess.Users {
		t.Errorf("session %s", body)
	}
	if resp, _ := e.do("GET", "/files/Family/", "", alice.cookieHeader()...); resp.StatusCode != http.StatusOK {
		t.Errorf("alice's /files/Family/: %s", resp.Status)
	}
	// A user is not the admin: every admin route refuses her, with her
	// CSRF token and all, and changes nothing.
	before := readFile(t, e.config)
	for _, rt := range routes {
		if rt.access != admin {
			continue
		}
		method, path, _ := strings.Cut(rt.pattern, " ")
		path = strings.ReplaceAll(path, "{name}", "alice")
		resp, body := e.do(method, path, `{"shares": ["Family"], "password": "a long password"}`, alice.auth(e)...)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "admin") {
			t.Errorf("alice's %s: %s %s, want 403", rt.pattern, resp.Status, body)
		}
	}
	if readFile(t, e.config) != before {
		t.Error("a user's request to an admin route changed the config file")
	}
	// Logging out needs the CSRF token, then ends the session.
	if resp, _ := e.do("POST", "/api/logout", "", alice.cookieHeader()...); resp.StatusCode != http.StatusForbidden {
		t.Errorf("logout without the CSRF token: %s, want 403", resp.Status)
	}
	if resp, _ := e.do("POST", "/api/logout", "", alice.auth(e)...); resp.StatusCode != http.StatusNoContent {
		t.Errorf("logout: %s", resp.Status)
	}
	if resp, _ := e.do("GET", "/files/Family/", "", alice.cookieHeader()...); resp.StatusCode != http.StatusNotFound {
		t.Errorf("/files/Family/ after logout: %s, want 404", resp.Status)
	}
	if resp, _ := e.do("POST", "/api/logout", "", alice.auth(e)...); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("logout again: %s, want 401", resp.Status)
	}

	// Logging in again as someone else replaces the session.
	bob := e.loginUser("bob", bobPassword)
	resp, body = e.do("POST", "/api/login", `{"user": "alice", "password": "`+alicePassword+`"}`, bob.cookieHeader()...)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login over bob's session: %s %s", resp.Status, body)
	}
	if _, body := e.do("GET", "/api/session", "", bob.cookieHeader()...); strings.Contains(body, "bob") {
		t.Errorf("bob's session lives on after alice logged in on the same browser: %s", body)
	}

	// User logins without user accounts.
	e2 := newTestServer(t, func(s *Server) { s.Users, s.Accounts = nil, nil })
	if resp, _ := e2.do("POST", "/api/login", `{"user": "alice", "password": "x"}`); resp.StatusCode != http.StatusForbidden {
		t.Errorf("user login without accounts: %s, want 403", resp.Status)
	}
	e2.login() // the admin's still works, throttled by the page's own Users
}

// TestUserSessionsEnd checks that a user's sessions end when the user is
// removed or gets a new password, from the page, on reload, or when Users
// changes behind the page's back; their next request is a visitor's, and
// their open page's live updates lose their private shares at once.
func TestUserSessionsEnd(t *testing.T) {
	e := newAccountsServer(t)
	admin := e.login()

	// A new password: the old session ends, the old password fails.
	alice := e.loginUser("alice", alicePassword)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	stream := e.eventsAs(ctx, alice)
	stream.waitEvent(`data-share="Family"`)
	resp, body := e.do("PUT", "/api/users/alice/password", `{"password": "alice's new password"}`, admin.auth(e)...)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("new password: %s %s", resp.Status, body)
	}
	for {
		_, data, err := stream.next()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(data, "Family") {
			break // the stream now shows what a visitor sees
		}
	}
	if _, body := e.do("GET", "/api/session", "", alice.cookieHeader()...); strings.Contains(body, "alice") {
		t.Errorf("alice's session after her new password: %s", body)
	}
	if resp, _ := e.do("POST", "/api/login", `{"user": "alice", "password": "`+alicePassword+`"}`); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the old password: %s, want 401", resp.Status)
	}
	alice = e.loginUser("alice", "alice's new password")

	// Removal: carol, added and given Family, then removed.
	resp, body = e.do("POST", "/api/users", `{"name": "carol", "password": "carol's password"}`, admin.auth(e)...)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("adding carol: %s %s", resp.Status, body)
	}
	if resp, body := e.do("PUT", "/api/users/carol/shares", `{"shares": ["Family"]}`, admin.auth(e)...); resp.StatusCode != http.StatusOK {
		t.Fatalf("giving carol Family: %s %s", resp.Status, body)
	}
	carol := e.loginUser("carol", "carol's password")
	if resp, _ := e.do("GET", "/files/Family/", "", carol.cookieHeader()...); resp.StatusCode != http.StatusOK {
		t.Fatalf("carol's /files/Family/: %s", resp.Status)
	}
	if resp, body := e.do("DELETE", "/api/users/carol", "", admin.auth(e)...); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("removing carol: %s %s", resp.Status, body)
	}
	if resp, _ := e.do("GET", "/files/Family/", "", carol.cookieHeader()...); resp.StatusCode != http.StatusNotFound {
		t.Errorf("carol's /files/Family/ after her removal: %s, want 404", resp.Status)
	}
	// alice kept her session through carol's changes.
	if resp, _ := e.do("GET", "/files/Family/", "", alice.cookieHeader()...); resp.StatusCode != http.StatusOK {
		t.Errorf("alice's /files/Family/: %s", resp.Status)
	}

	// A reload (SIGHUP) that changes bob's password ends his session
	// through OnEnded.
	bob := e.loginUser("bob", bobPassword)
	e.srv.Accounts.Reload([]accounts.User{{Name: "alice", PasswordHash: minCostHash("x")}, {Name: "bob", PasswordHash: minCostHash("y")}}, true)
	if resp, _ := e.do("GET", "/files/Diary/", "", bob.cookieHeader()...); resp.StatusCode != http.StatusNotFound {
		t.Errorf("bob's /files/Diary/ after a reload changed his password: %s, want 404", resp.Status)
	}

	// A user removed from Users without a word to the page is not honoured
	// either.
	e.users.Set([]accounts.User{{Name: "bob", PasswordHash: bobHash}}, true)
	dave := e.loginUser("bob", bobPassword)
	e.users.Set(nil, true) // no OnEnded: Set alone
	if resp, _ := e.do("GET", "/files/Diary/", "", dave.cookieHeader()...); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a session of a user no longer in Users: %s, want 404", resp.Status)
	}

	// The admin's session outlived all of it, and SetPasswordHash ends it
	// without ending users'.
	e.users.Set([]accounts.User{{Name: "alice", PasswordHash: aliceHash}}, true)
	alice = e.loginUser("alice", alicePassword)
	if err := e.srv.SetPasswordHash(minCostHash("another admin password")); err != nil {
		t.Fatal(err)
	}
	if resp, _ := e.do("GET", "/api/users", "", admin.cookieHeader()...); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the admin's session after a new admin password: %s, want 401", resp.Status)
	}
	if resp, _ := e.do("GET", "/files/Family/", "", alice.cookieHeader()...); resp.StatusCode != http.StatusOK {
		t.Errorf("alice's session after a new admin password: %s, want 200", resp.Status)
	}
}

// TestOneThrottle checks that wrong user passwords and wrong admin
// passwords from one address are counted together, and answered with 429
// once it is locked out.
func TestOneThrottle(t *testing.T) {
	e := newAccountsServer(t)
	for i := range accounts.MaxFailures - 1 {
		if resp, _ := e.do("POST", "/api/login", `{"user": "alice", "password": "guess `+fmt.Sprint(i)+`"}`); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: %s", i+1, resp.Status)
		}
	}
	resp, body := e.do("POST", "/api/login", `{"password": "an admin guess"}`)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("the fifth failure, as the admin: %s %s, want 429 with Retry-After", resp.Status, body)
	}
	for _, req := range []string{`{"user": "alice", "password": "` + alicePassword + `"}`, `{"password": "` + testPassword + `"}`} {
		if resp, _ := e.do("POST", "/api/login", req); resp.StatusCode != http.StatusTooManyRequests {
			t.Errorf("right password while locked out: %s, want 429", resp.Status)
		}
	}
	e.clock().add(accounts.FirstLockout + time.Second)
	e.loginUser("alice", alicePassword)
}

func TestUsersAPI(t *testing.T) {
	e := newAccountsServer(t)
	admin := e.login()
	users := func() []UserStatus {
		t.Helper()
		resp, body := e.do("GET", "/api/users", "", admin.cookieHeader()...)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /api/users: %s %s", resp.Status, body)
		}
		var got userList
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatal(err)
		}
		return got.Users
	}
	if got, want := users(), []UserStatus{{"alice", []string{"Family"}}, {"bob", []string{"Diary"}}}; !reflect.DeepEqual(got, want) {
		t.Errorf("users %+v, want %+v", got, want)
	}
	configUsers := func() []string {
		t.Helper()
		cfg, err := config.Load(e.config)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, u := range cfg.Users {
			names = append(names, u.Name)
		}
		return names
	}
	configAccess := func(share string) config.Access {
		t.Helper()
		cfg, err := config.Load(e.config)
		if err != nil {
			t.Fatal(err)
		}
		for _, sh := range cfg.Shares {
			if sh.Name == share {
				return sh.Access
			}
		}
		t.Fatalf("no share %s in the config file", share)
		return nil
	}

	// Bad input: a clear 400 (or 404, 409), and nothing changes.
	bad := []struct {
		method, path, body string
		code               int
		msg                string
	}{
		{"POST", "/api/users", `{"name": "bad name", "password": "a long password"}`, 400, "name:"},
		{"POST", "/api/users", `{"name": "", "password": "a long password"}`, 400, "name:"},
		{"POST", "/api/users", `{"name": "anonymous", "password": "a long password"}`, 400, "anonymous"},
		{"POST", "/api/users", `{"name": "-x", "password": "a long password"}`, 400, "starts with"},
		{"POST", "/api/users", `{"name": "carol", "password": "short"}`, 400, "too short"},
		{"POST", "/api/users", `{"name": "carol", "password": "` + strings.Repeat("x", 73) + `"}`, 400, "too long"},
		{"POST", "/api/users", `{"name": "Alice", "password": "a long password"}`, 409, "already a user"},
		{"POST", "/api/users", `{"name": "carol", "password": "a long password", "admin": true}`, 400, "unknown field"},
		{"PUT", "/api/users/nobody/password", `{"password": "a long password"}`, 404, "no user"},
		{"PUT", "/api/users/alice/password", `{"password": "short"}`, 400, "too short"},
		{"DELETE", "/api/users/nobody", "", 404, "no such user"},
		{"DELETE", "/api/users/bob", "", 409, "only user who may see share \"Diary\""},
		{"PUT", "/api/users/nobody/shares", `{"shares": []}`, 404, "no user"},
		{"PUT", "/api/users/alice/shares", `{}`, 400, "shares: missing"},
		{"PUT", "/api/users/alice/shares", `{"shares": ["Family", "Nope"]}`, 400, `no such share: "Nope"`},
		{"PUT", "/api/users/alice/shares", `{"shares": ["Family", "Movies"]}`, 400, "public"},
		{"PUT", "/api/users/alice/shares", `{"shares": ["Family", "Family"]}`, 400, "twice"},
		{"PUT", "/api/users/alice/shares", `{"shares": ["Diary"]}`, 409, "only user who may see share \"Family\""},
		{"PUT", "/api/shares/Nope/access", `{"access": "public"}`, 404, "no share"},
		{"PUT", "/api/shares/Movies/access", `{"access": "everyone"}`, 400, "access:"},
		{"PUT", "/api/shares/Movies/access", `{"access": []}`, 400, "nobody"},
		{"PUT", "/api/shares/Movies/access", `{"access": ["mallory"]}`, 400, `"mallory" is not a user`},
		{"PUT", "/api/shares/Movies/access", `{"access": ["Alice"]}`, 400, `"Alice" is not a user`},
		{"PUT", "/api/shares/Movies/access", `{"access": ["alice", "alice"]}`, 400, "twice"},
		{"PUT", "/api/shares/Movies/access", `{"access": 42}`, 400, "access:"},
		{"PUT", "/api/shares/Movies/access", `{}`, 400, "access: missing"},
	}
	for _, b := range bad {
		before := readFile(t, e.config)
		names := e.users.Names()
		shares := e.set.List()
		resp, body := e.do(b.method, b.path, b.body, admin.auth(e)...)
		var eb errorBody
		if json.Unmarshal([]byte(body), &eb); resp.StatusCode != b.code || !strings.Contains(eb.Error, b.msg) {
			t.Errorf("%s %s %s: %s %s, want %d with %q", b.method, b.path, b.body, resp.Status, body, b.code, b.msg)
		}
		if after := readFile(t, e.config); after != before {
			t.Errorf("%s %s %s changed the config file:\n%s", b.method, b.path, b.body, after)
		}
		if got := e.users.Names(); !slices.Equal(got, names) {
			t.Errorf("%s %s %s changed the users: %q", b.method, b.path, b.body, got)
		}
		if got := e.set.List(); !reflect.DeepEqual(got, shares) {
			t.Errorf("%s %s %s changed the shares: %+v", b.method, b.path, b.body, got)
		}
	}

	// Adding a user: saved with a bcrypt hash, never the password.
	resp, body := e.do("POST", "/api/users", `{"name": "carol", "password": "carol's password"}`, admin.auth(e)...)
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Location") != "/api/users/carol" || !strings.Contains(body, `"saved":true`) {
		t.Fatalf("adding carol: %s %s", resp.Status, body)
	}
	if got := configUsers(); !slices.Equal(got, []string{"alice", "bob", "carol"}) {
		t.Errorf("config users %q", got)
	}
	data := readFile(t, e.config)
	if strings.Contains(data, "carol's password") || !strings.Contains(data, "# Test config.") {
		t.Errorf("the config file:\n%s", data)
	}
	e.loginUser("carol", "carol's password")

	// Her shares: Family, then Family and Diary, then none.
	for _, want := range [][]string{{"Family"}, {"Family", "Diary"}, {}} {
		resp, body := e.do("PUT", "/api/users/carol/shares", jsonBody(map[string][]string{"shares": want}), admin.auth(e)...)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("carol's shares %q: %s %s", want, resp.Status, body)
		}
		var got userResponse
		json.Unmarshal([]byte(body), &got)
		if !slices.Equal(got.Shares, want) {
			t.Errorf("carol's shares %q, want %q", got.Shares, want)
		}
		wantFamily := config.Access{"alice"}
		if slices.Contains(want, "Family") {
			wantFamily = append(wantFamily, "carol")
		}
		if got := configAccess("Family"); !slices.Equal(got, wantFamily) {
			t.Errorf("config access of Family %q, want %q", got, wantFamily)
		}
	}

	// A share's access: private to alice and carol, then public.
	resp, body = e.do("PUT", "/api/shares/Movies/access", `{"access": ["alice", "carol"]}`, admin.auth(e)...)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"access":["alice","carol"]`) {
		t.Fatalf("Movies private: %s %s", resp.Status, body)
	}
	if got := configAccess("Movies"); !slices.Equal(got, config.Access{"alice", "carol"}) {
		t.Errorf("config access of Movies %q", got)
	}
	if resp, _ := e.do("GET", "/files/Movies/", ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a visitor's /files/Movies/ once private: %s, want 404", resp.Status)
	}
	for _, sh := range e.status().Shares {
		if sh.Name == "Movies" {
			t.Error("a visitor's status lists Movies once private")
		}
	}
	resp, body = e.do("PUT", "/api/shares/Movies/access", `{"access": "public"}`, admin.auth(e)...)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"access":"public"`) {
		t.Fatalf("Movies public: %s %s", resp.Status, body)
	}
	if got := configAccess("Movies"); got != nil {
		t.Errorf("config access of Movies %q, want public", got)
	}

	// Removing: bob once Diary is public; carol.
	if resp, body := e.do("PUT", "/api/shares/Diary/access", `{"access": "public"}`, admin.auth(e)...); resp.StatusCode != http.StatusOK {
		t.Fatalf("Diary public: %s %s", resp.Status, body)
	}
	for _, name := range []string{"bob", "carol"} {
		if resp, body := e.do("DELETE", "/api/users/"+name, "", admin.auth(e)...); resp.StatusCode != http.StatusNoContent {
			t.Errorf("removing %s: %s %s", name, resp.Status, body)
		}
	}
	if got := configUsers(); !slices.Equal(got, []string{"alice"}) {
		t.Errorf("config users %q", got)
	}
	if got := users(); !reflect.DeepEqual(got, []UserStatus{{"alice", []string{"Family"}}}) {
		t.Errorf("users %+v", got)
	}

	// Without Accounts, the routes say user management is off.
	e2 := newTestServer(t, func(s *Server) { s.Accounts = nil })
	a2 := e2.login()
	if resp, body := e2.do("GET", "/api/users", "", a2.cookieHeader()...); resp.StatusCode != http.StatusNotFound || !strings.Contains(body, errNoAccounts) {
		t.Errorf("GET /api/users without Accounts: %s %s", resp.Status, body)
	}
}

// TestPasswordsNotLogged logs in, fails to, adds users and sets passwords,
// and looks for every password in the server's log.
func TestPasswordsNotLogged(t *testing.T) {
	e := newAccountsServer(t)
	admin := e.login()
	e.loginUser("alice", alicePassword)
	secrets := []string{testPassword, alicePassword, "wrong password 1", "carol's password", "carol's next password", "shortpw"}
	e.do("POST", "/api/login", `{"user": "alice", "password": "wrong password 1"}`)
	e.do("POST", "/api/login", `{"password": "wrong password 1"}`)
	e.do("POST", "/api/users", `{"name": "carol", "password": "carol's password"}`, admin.auth(e)...)
	e.do("PUT", "/api/users/carol/password", `{"password": "carol's next password"}`, admin.auth(e)...)
	e.do("PUT", "/api/users/carol/password", `{"password": "shortpw"}`, admin.auth(e)...)
	e.loginUser("carol", "carol's next password")
	log := e.logs.String()
	if !strings.Contains(log, "carol") || !strings.Contains(log, "login failed") {
		t.Fatalf("the log lacks what was done:\n%s", log)
	}
	for _, s := range secrets {
		if strings.Contains(log, s) {
			t.Errorf("the log holds the password %q:\n%s", s, log)
		}
	}
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
