package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/accounts"
)

func TestLogin(t *testing.T) {
	e := newTestServer(t)
	resp, body := e.do("POST", "/api/login", `{"password": "wrong password"}`)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `"error"`) {
		t.Errorf("wrong password: %s %s", resp.Status, body)
	}
	if len(resp.Cookies()) > 0 {
		t.Error("a wrong password set a cookie")
	}

	resp, body = e.do("POST", "/api/login", `{"password": "`+testPassword+`"}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("right password: %s %s", resp.Status, body)
	}
	var got sessionResponse
	if err := json.Unmarshal([]byte(body), &got); err != nil || got.CSRFToken == "" || !got.Admin {
		t.Fatalf("login answer %s (%v)", body, err)
	}
	var c *http.Cookie
	for _, k := range resp.Cookies() {
		if k.Name == sessionCookie {
			c = k
		}
	}
	if c == nil {
		t.Fatal("no session cookie")
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || len(c.Value) < 20 {
		t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, Path=/ and a long random value", c)
	}
	if c.Value == got.CSRFToken {
		t.Error("the CSRF token is the session ID")
	}
	// Another login gets another session.
	if a := e.login(); a.cookie == c.Value || a.csrf == got.CSRFToken {
		t.Error("two logins share a session")
	}

	// The session is known to /api/session, which gives the token to a
	// reloaded page.
	_, body = e.do("GET", "/api/session", "", "Cookie", sessionCookie+"="+c.Value)
	var sess sessionResponse
	json.Unmarshal([]byte(body), &sess)
	if !sess.Admin || sess.CSRFToken != got.CSRFToken || !sess.Management || !sess.Persistent {
		t.Errorf("session %s", body)
	}
	_, body = e.do("GET", "/api/session", "")
	if sess = (sessionResponse{}); json.Unmarshal([]byte(body), &sess) != nil || sess.Admin || sess.CSRFToken != "" {
		t.Errorf("session without a cookie: %s", body)
	}
	_, body = e.do("GET", "/api/session", "", "Cookie", sessionCookie+"=forged")
	if sess = (sessionResponse{}); json.Unmarshal([]byte(body), &sess) != nil || sess.Admin {
		t.Errorf("session with a forged cookie: %s", body)
	}

	// Logging out ends the session.
	a := adminClient{c.Value, got.CSRFToken}
	resp, _ = e.do("POST", "/api/logout", "", a.auth(e)...)
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("logout: %s", resp.Status)
	}
	resp, _ = e.do("POST", "/api/logout", "", a.auth(e)...)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("logout again: %s, want 401", resp.Status)
	}
	resp, _ = e.do("GET", "/api/folders", "", a.auth(e)...)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("admin request after logout: %s, want 401", resp.Status)
	}
}

func TestLoginBadRequests(t *testing.T) {
	e := newTestServer(t)
	tests := []struct {
		name, body string
		code       int
	}{
		{"not JSON", "password=x", http.StatusBadRequest},
		{"unknown key", `{"password": "x", "name": "admin"}`, http.StatusBadRequest},
		{"empty user", `{"password": "x", "user": ""}`, http.StatusBadRequest},
		{"two values", `{"password": "x"} {}`, http.StatusBadRequest},
		{"too large", `{"password": "` + strings.Repeat("x", 5000) + `"}`, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		resp, body := e.do("POST", "/api/login", tt.body)
		if resp.StatusCode != tt.code || !strings.Contains(body, `"error"`) {
			t.Errorf("%s: %s %s, want %d", tt.name, resp.Status, body, tt.code)
		}
	}
}

func TestLoginThrottled(t *testing.T) {
	e := newTestServer(t)
	clock := e.clock()
	for i := range accounts.MaxFailures {
		// The last failure locks the address out, and says so.
		want := http.StatusUnauthorized
		if i == accounts.MaxFailures-1 {
			want = http.StatusTooManyRequests
		}
		if resp, _ := e.do("POST", "/api/login", `{"password": "guess `+strconv.Itoa(i)+`"}`); resp.StatusCode != want {
			t.Fatalf("failure %d: %s, want %d", i+1, resp.Status, want)
		}
	}
	// Now even the right password is refused, with a time to wait.
	resp, body := e.do("POST", "/api/login", `{"password": "`+testPassword+`"}`)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("after %d failures: %s %s, want 429", accounts.MaxFailures, resp.Status, body)
	}
	if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 1 {
		t.Errorf("Retry-After %q", resp.Header.Get("Retry-After"))
	}
	// Another address is not held up.
	req := httptest.NewRequest("POST", "/api/login", strings.NewReader(`{"password": "`+testPassword+`"}`))
	req.RemoteAddr = "192.168.1.77:5555"
	req.Host = "192.168.1.20:8021"
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Errorf("login from another address: %d %s", rec.Code, rec.Body)
	}
	// After the wait, the right password works and clears the count.
	clock.add(accounts.FirstLockout + time.Second)
	e.login()
	if resp, _ := e.do("POST", "/api/login", `{"password": "guess"}`); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a failure after a login: %s, want 401", resp.Status)
	}
}

// TestAdminRoutesGuarded sends every admin route without a session, with
// a session but without (or with a wrong) CSRF token, and from another
// origin with everything else right.
func TestAdminRoutesGuarded(t *testing.T) {
	e := newTestServer(t)
	a := e.login()
	cookie := sessionCookie + "=" + a.cookie
	for _, rt := range routes {
		if rt.access != admin {
			continue
		}
		method, path, _ := strings.Cut(rt.pattern, " ")
		path = strings.ReplaceAll(path, "{name}", "Nope")
		body := `{"name": "X", "path": "/nowhere"}`
		if path == "/api/logout" {
			body = ""
		}
		t.Run(rt.pattern, func(t *testing.T) {
			check := func(what string, want int, headers ...string) {
				t.Helper()
				resp, got := e.do(method, path, body, headers...)
				if resp.StatusCode != want || !strings.Contains(got, `"error"`) {
					t.Errorf("%s: %s %s, want %d", what, resp.Status, got, want)
				}
			}
			check("no session", http.StatusUnauthorized, "Origin", e.ts.URL, csrfHeader, a.csrf)
			check("forged session", http.StatusUnauthorized, "Cookie", sessionCookie+"=forged", csrfHeader, a.csrf)
			if method == "GET" {
				return // no CSRF token needed to read
			}
			check("no CSRF token", http.StatusForbidden, "Cookie", cookie, "Origin", e.ts.URL)
			check("wrong CSRF token", http.StatusForbidden, "Cookie", cookie, csrfHeader, a.csrf+"x")
			check("cross-origin", http.StatusForbidden, "Cookie", cookie, csrfHeader, a.csrf, "Origin", "http://evil.example")
			check("cross-site fetch", http.StatusForbidden, "Cookie", cookie, csrfHeader, a.csrf, "Sec-Fetch-Site", "cross-site")
			check("null origin", http.StatusForbidden, "Cookie", cookie, csrfHeader, a.csrf, "Origin", "null")
		})
	}
	// Login too is refused across origins: no login CSRF.
	resp, _ := e.do("POST", "/api/login", `{"password": "`+testPassword+`"}`, "Origin", "http://evil.example")
	if resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) > 0 {
		t.Errorf("cross-origin login: %s", resp.Status)
	}
	// A same-origin request from a browser passes.
	resp, _ = e.do("DELETE", "/api/shares/Nope", "", "Cookie", cookie, csrfHeader, a.csrf, "Sec-Fetch-Site", "same-origin")
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("same-origin DELETE of a missing share: %s, want 404", resp.Status)
	}
}

func TestSessionLimit(t *testing.T) {
	var a authState
	a.init()
	first, _ := a.start("")
	for range maxSessions {
		a.start("alice")
	}
	if len(a.sessions) != maxSessions {
		t.Errorf("%d sessions, want %d", len(a.sessions), maxSessions)
	}
	if a.sessions[first] != nil {
		t.Error("the oldest session was kept")
	}
	// An idle session ends.
	id, sess := a.start("")
	sess.lastUsed = time.Now().Add(-sessionIdle - time.Minute)
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: sessionCookie, Value: id})
	if a.session(r) != nil {
		t.Error("an idle session is still valid")
	}
}
