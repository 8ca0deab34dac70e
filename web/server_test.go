package web

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/discovery"
	"github.com/mediaftpd/mediaftpd/dlna"
	"github.com/mediaftpd/mediaftpd/dlna/ssdp"
	"github.com/mediaftpd/mediaftpd/ftpd"
	"github.com/mediaftpd/mediaftpd/library"
)

func TestStatusPage(t *testing.T) {
	e := newTestServer(t)
	resp, body := e.do("GET", "/", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /: %s", resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	for _, want := range []string{
		"<title>Test Box</title>",
		"ftp://127.0.0.1:2121/",
		`data-share="Movies"`,
		`<a href="/files/Movies/">Movies</a>`,
		`<dd class="files">5</dd>`, // film, song, photo, notes, sub/ep1
		`<dd class="video">2</dd>`,
		`<dd class="audio">1</dd>`,
		`<dd class="image">1</dd>`,
		"watching",
		`id="login-form"`,
		"No player is connected.",
		"Movies/sub/ep1.mkv", // recent additions
		"not listed by name on the network (mDNS is off)",
	} {
		if !strings.Contains(body, want) && !strings.Contains(strings.ToLower(body), strings.ToLower(want)) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(body, "will not survive a restart") {
		t.Error("the page says changes are not saved, though a config file is set")
	}
	if strings.Contains(body, "hidden") && strings.Contains(body, ".hidden.mkv") {
		t.Error("the page shows a dotfile")
	}
	// The page's assets are embedded and served.
	for name, ctype := range map[string]string{
		"app.css":  "text/css; charset=utf-8",
		"app.js":   "text/javascript; charset=utf-8",
		"icon.svg": "image/svg+xml",
	} {
		url := e.srv.assetURL(name)
		if !strings.Contains(body, url) {
			t.Errorf("the page does not link %s", url)
		}
		resp, data := e.do("GET", url, "")
		if resp.StatusCode != http.StatusOK || len(data) == 0 {
			t.Errorf("GET %s: %s", url, resp.Status)
		}
		if ct := resp.Header.Get("Content-Type"); ct != ctype {
			t.Errorf("GET %s: Content-Type %q, want %q", url, ct, ctype)
		}
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("GET %s: Cache-Control %q", url, cc)
		}
		etag := resp.Header.Get("ETag")
		resp, _ = e.do("GET", "/assets/"+name, "", "If-None-Match", etag)
		if resp.StatusCode != http.StatusNotModified {
			t.Errorf("GET /assets/%s with its ETag: %s, want 304", name, resp.Status)
		}
	}
	if resp, _ := e.do("GET", "/assets/nope.js", ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET of a missing asset: %s", resp.Status)
	}
}

func TestStatusPageManagementOff(t *testing.T) {
	e := newTestServer(t, func(s *Server) { s.PasswordHash = "" })
	_, body := e.do("GET", "/", "")
	if !strings.Contains(body, "mediaftpd passwd -config "+e.config) {
		t.Error("the page does not say how to turn management on")
	}
	if strings.Contains(body, `id="login-form"`) || strings.Contains(body, `data-action="remove"`) {
		t.Error("the page offers management though it is off")
	}
	resp, body := e.do("POST", "/api/login", `{"password": "x"}`)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "passwd") {
		t.Errorf("login with management off: %s %s", resp.Status, body)
	}
	if e.status().Management.Enabled {
		t.Error("status says management is on")
	}
}

func TestBadPasswordHash(t *testing.T) {
	e := newTestServer(t, func(s *Server) { s.PasswordHash = "secret" })
	if e.status().Management.Enabled {
		t.Error("management is on with a hash that is not bcrypt's")
	}
	if resp, _ := e.do("POST", "/api/login", `{"password": "secret"}`); resp.StatusCode != http.StatusForbidden {
		t.Errorf("login: %s, want 403", resp.Status)
	}
}

func TestStatusPageNotPersisted(t *testing.T) {
	e := newTestServer(t, func(s *Server) { s.Manager.ConfigPath = "" })
	_, body := e.do("GET", "/", "")
	if !strings.Contains(body, "will not survive a restart") {
		t.Error("the page does not say that changes are not saved")
	}
	if st := e.status(); !st.Management.Enabled || st.Management.Persistent {
		t.Errorf("management %+v, want enabled and not persistent", st.Management)
	}
}

func TestStatusJSON(t *testing.T) {
	e := newTestServer(t, func(s *Server) {
		s.MDNS = func() discovery.Status { return discovery.Status{Enabled: true, Advertising: true, Name: "Test Box"} }
		s.Started = time.Now().Add(-90 * time.Second)
	})
	start := time.Now().Add(-3 * time.Second)
	e.setSessions(
		ftpd.SessionInfo{ID: 1, Remote: "192.168.1.50:40000", User: "anonymous", Since: start},
		ftpd.SessionInfo{ID: 2, Remote: "192.168.1.51:40001", User: "anonymous", Since: start,
			Transfer: &ftpd.TransferInfo{Path: "/Movies/film.mkv", Size: 10 << 20, Sent: 3 << 20, Started: start}},
		ftpd.SessionInfo{ID: 3, Remote: "192.168.1.52:40002", Since: start,
			Transfer: &ftpd.TransferInfo{Path: "/Movies", Listing: true, Started: start}},
	)
	resp, body := e.do("GET", "/api/status", "")
	if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	// Every documented key is there.
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"name", "version", "started", "uptime_seconds", "ftp_urls", "mdns", "management", "shares", "sessions", "recent", "process"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("status lacks %q", k)
		}
	}
	var shares []map[string]json.RawMessage
	json.Unmarshal(raw["shares"], &shares)
	for _, k := range []string{"name", "path", "state", "progress", "rescan_seconds", "files", "dirs", "bytes", "video", "audio", "image", "other"} {
		if _, ok := shares[0][k]; !ok {
			t.Errorf("share lacks %q", k)
		}
	}

	var st Status
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	if st.Name != "Test Box" || st.Version != "1.2.3" {
		t.Errorf("name %q version %q", st.Name, st.Version)
	}
	if st.Process.Goroutines < 2 || st.Process.HeapBytes == 0 {
		t.Errorf("process %+v: want the goroutines and heap of this process", st.Process)
	}
	if st.UptimeSeconds < 89 || st.UptimeSeconds > 120 {
		t.Errorf("uptime %d s, want about 90", st.UptimeSeconds)
	}
	if d := time.Since(st.Started); d < 89*time.Second || d > 2*time.Minute {
		t.Errorf("started %v ago, want about 90 s", d)
	}
	if !slices.Equal(st.FTPURLs, []string{"ftp://127.0.0.1:2121/"}) {
		t.Errorf("ftp_urls %q", st.FTPURLs)
	}
	if !st.MDNS.Advertising || st.MDNS.Name != "Test Box" {
		t.Errorf("mdns %+v", st.MDNS)
	}
	if len(st.Shares) != 1 {
		t.Fatalf("%d shares", len(st.Shares))
	}
	sh := st.Shares[0]
	want := library.ShareStatus{Name: "Movies", Path: e.media + "/Movies", State: library.StateWatching,
		Files: 5, Dirs: 1, Bytes: int64(len(filmData) + 3 + 3 + 5 + 3), Video: 2, Audio: 1, Image: 1, Other: 1}
	if sh.ShareStatus != want || sh.Private || sh.Access != nil {
		t.Errorf("share\n%+v, want\n%+v", sh, want)
	}
	if len(st.Recent) != 5 {
		t.Errorf("%d recent additions, want 5: %+v", len(st.Recent), st.Recent)
	}
	for _, a := range st.Recent {
		if a.Share != "Movies" || strings.HasPrefix(a.Path, ".") || a.Added.IsZero() {
			t.Errorf("recent addition %+v", a)
		}
	}
	if len(st.Sessions) != 3 {
		t.Fatalf("%d sessions", len(st.Sessions))
	}
	if s := st.Sessions[0]; s.Transfer != nil || s.Remote != "192.168.1.50:40000" {
		t.Errorf("idle session %+v", s)
	}
	x := st.Sessions[1].Transfer
	if x == nil || x.Path != "/Movies/film.mkv" || x.Size != 10<<20 || x.Sent != 3<<20 || x.Listing {
		t.Fatalf("transfer %+v", x)
	}
	// First seen: the average since it started, 1 MiB/s.
	if x.Rate < 900_000 || x.Rate > 1_100_000 {
		t.Errorf("rate %d B/s, want about 1 MiB/s", x.Rate)
	}
	if l := st.Sessions[2].Transfer; l == nil || !l.Listing || l.Size != 0 {
		t.Errorf("listing %+v", l)
	}
	// The page shows the same.
	_, page := e.do("GET", "/", "")
	for _, want := range []string{"192.168.1.51:40001", "/Movies/film.mkv", "3.15 MB of 10.5 MB", "MB/s", "Listing"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}

func TestRateTracker(t *testing.T) {
	var rt rateTracker
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	xfer := func(id uint64, sent int64) ftpd.SessionInfo {
		return ftpd.SessionInfo{ID: id, Transfer: &ftpd.TransferInfo{Sent: sent, Started: t0}}
	}
	// First seen 2 s after it started, with 4 MiB sent: 2 MiB/s.
	r := rt.sample(t0.Add(2*time.Second), []ftpd.SessionInfo{xfer(1, 4<<20), {ID: 2}})
	if r[1] != 2<<20 {
		t.Errorf("first rate %d, want %d", r[1], 2<<20)
	}
	if _, ok := r[2]; ok {
		t.Error("a rate for an idle session")
	}
	// Half a second later: too short a span, the average again.
	r = rt.sample(t0.Add(2500*time.Millisecond), []ftpd.SessionInfo{xfer(1, 5<<20)})
	if r[1] != 2<<20 {
		t.Errorf("rate over a short span %d, want the average %d", r[1], 2<<20)
	}
	// Then 1 MiB/s for 4 s: the rate over the window.
	r = rt.sample(t0.Add(6*time.Second), []ftpd.SessionInfo{xfer(1, 8<<20)})
	if r[1] != 1<<20 {
		t.Errorf("rate %d, want %d", r[1], 1<<20)
	}
	// Stalled for 6 s: the window slides past the last progress.
	rt.sample(t0.Add(9*time.Second), []ftpd.SessionInfo{xfer(1, 8<<20)})
	r = rt.sample(t0.Add(12*time.Second), []ftpd.SessionInfo{xfer(1, 8<<20)})
	if r[1] != 0 {
		t.Errorf("rate of a stalled transfer %d, want 0", r[1])
	}
	// A finished transfer is forgotten.
	rt.sample(t0.Add(13*time.Second), nil)
	if len(rt.seen) != 0 {
		t.Errorf("%d transfers remembered after all ended", len(rt.seen))
	}
}

func TestFTPURLs(t *testing.T) {
	old := interfaceAddrs
	t.Cleanup(func() { interfaceAddrs = old })
	interfaceAddrs = func() ([]netip.Addr, error) {
		return []netip.Addr{
			netip.MustParseAddr("fe80::1"),
			netip.MustParseAddr("2001:db8::20"),
			netip.MustParseAddr("192.168.1.20"),
			netip.MustParseAddr("127.0.0.1"),
			netip.MustParseAddr("169.254.3.4"),
			netip.MustParseAddr("10.0.0.5"),
		}, nil
	}
	tests := []struct {
		addr string
		want []string
	}{
		{"[::]:21", []string{"ftp://192.168.1.20/", "ftp://10.0.0.5/", "ftp://[2001:db8::20]/"}},
		{":2121", []string{"ftp://192.168.1.20:2121/", "ftp://10.0.0.5:2121/", "ftp://[2001:db8::20]:2121/"}},
		{"0.0.0.0:21", []string{"ftp://192.168.1.20/", "ftp://10.0.0.5/"}},
		{"192.168.1.20:21", []string{"ftp://192.168.1.20/"}},
		{"[2001:db8::20]:2121", []string{"ftp://[2001:db8::20]:2121/"}},
		{"nas.local:21", []string{"ftp://nas.local/"}},
		{"", nil},
		{"garbage", nil},
	}
	for _, tt := range tests {
		s := &Server{FTPAddr: tt.addr}
		if got := s.ftpURLs(time.Now()); !slices.Equal(got, tt.want) {
			t.Errorf("FTPAddr %q: %q, want %q", tt.addr, got, tt.want)
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newTestServer(t)
	a := e.login()
	for _, path := range []string{"/", "/api/status", "/api/session", "/files/", "/files/Movies/", "/assets/app.css", "/nope", "/api/folders"} {
		resp, _ := e.do("GET", path, "", "Cookie", sessionCookie+"="+a.cookie)
		h := resp.Header
		if h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q", path, h.Get("X-Content-Type-Options"))
		}
		if h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: X-Frame-Options %q", path, h.Get("X-Frame-Options"))
		}
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("%s: Content-Security-Policy %q", path, csp)
		}
	}
	// Files from shares are sandboxed.
	resp, _ := e.do("GET", "/files/Movies/notes.txt", "")
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "sandbox") {
		t.Errorf("file Content-Security-Policy %q, want a sandbox", csp)
	}
}

func TestHostCheck(t *testing.T) {
	s := &Server{AllowedHosts: []string{"media.example.com"}, hostnames: []string{"pi4"}}
	tests := []struct {
		host string
		ok   bool
	}{
		{"127.0.0.1:8021", true},
		{"192.168.1.20:8021", true},
		{"192.168.1.20", true},
		{"[fd00::20]:8021", true},
		{"localhost:8021", true},
		{"pi4:8021", true},
		{"PI4", true},
		{"pi4.local:8021", true},
		{"pi4.local.:8021", true},
		{"media-box.lan", true},
		{"nas.home.arpa", true},
		{"media.example.com:8021", true},
		{"PI4.fritz.box:8021", true}, // AVM routers' home domain
		{"fritz.box.attacker.com", false},
		{"pi4.mynas.de:8021", false}, // a public name: unless in AllowedHosts
		{"evil.example:8021", false},
		{"pi4.attacker.com", false},
		{"192.168.1.20.attacker.com", false},
		{"local.attacker.com", false},
		{"", false},
		{":8021", false},
		{"[]:80", false},
	}
	for _, tt := range tests {
		if got := s.allowedHost(tt.host); got != tt.ok {
			t.Errorf("Host %q allowed=%v, want %v", tt.host, got, tt.ok)
		}
	}

	e := newTestServer(t)
	for host, want := range map[string]int{e.ts.Listener.Addr().String(): http.StatusOK, "attacker.com": http.StatusForbidden} {
		for _, path := range []string{"/", "/api/status", "/files/Movies/film.mkv"} {
			if resp, _ := e.do("GET", path, "", "Host", host); resp.StatusCode != want {
				t.Errorf("GET %s with Host %q: %s, want %d", path, host, resp.Status, want)
			}
		}
	}
}

func TestUnknownRoutes(t *testing.T) {
	e := newTestServer(t)
	tests := []struct {
		method, path string
		code         int
	}{
		{"GET", "/nope", http.StatusNotFound},
		{"GET", "/api/shares", http.StatusMethodNotAllowed},
		{"PUT", "/api/shares/Movies", http.StatusMethodNotAllowed},
		{"POST", "/api/status", http.StatusMethodNotAllowed},
		{"HEAD", "/", http.StatusOK},
	}
	for _, tt := range tests {
		resp, _ := e.do(tt.method, tt.path, "")
		if resp.StatusCode != tt.code {
			t.Errorf("%s %s: %s, want %d", tt.method, tt.path, resp.Status, tt.code)
		}
	}
	resp, _ := e.do("GET", "/files", "")
	if loc := resp.Header.Get("Location"); resp.StatusCode/100 != 3 || loc != "/files/" {
		t.Errorf("GET /files: %s to %q, want a redirect to /files/", resp.Status, loc)
	}
}

func TestStatusDLNA(t *testing.T) {
	start := time.Now().Add(-4 * time.Second)
	tv := netip.MustParseAddr("192.168.1.60")
	e := newTestServer(t, func(s *Server) {
		s.DLNA = func() (dlna.Status, ssdp.Status) {
			return dlna.Status{
					UDN:     "uuid:11111111-2222-3333-4444-555555555555",
					Players: []dlna.Player{{Name: "Samsung TV (QE55Q7)", Addr: tv, LastSeen: start}},
					Streams: []dlna.Stream{{Share: "Movies", Path: "film.mkv", Client: tv, Player: "Samsung TV (QE55Q7)",
						Started: start, Size: 10 << 20, Sent: 4 << 20}},
				},
				ssdp.Status{Enabled: true, Announcing: true}
		}
	})
	var st Status
	_, body := e.do("GET", "/api/status", "")
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	d := st.DLNA
	if !d.Enabled || !d.SSDP.Announcing || d.UDN == "" || len(d.Players) != 1 || len(d.Streams) != 1 {
		t.Fatalf("dlna %+v", d)
	}
	// First seen: the average since it started, 1 MiB/s.
	if s := d.Streams[0]; s.Path != "film.mkv" || s.Sent != 4<<20 || s.Rate < 900_000 || s.Rate > 1_100_000 {
		t.Errorf("stream %+v", s)
	}
	for _, key := range []string{`"dlna":{"enabled":true`, `"players":[{"name":"Samsung TV (QE55Q7)"`, `"rate":`, `"ssdp":{"enabled":true,"announcing":true`} {
		if !strings.Contains(body, key) {
			t.Errorf("the JSON lacks %s:\n%s", key, body)
		}
	}
	_, page := e.do("GET", "/", "")
	for _, want := range []string{"TVs (DLNA)", "lists this box under its sources", "Samsung TV (QE55Q7)", "/Movies/film.mkv", "4.19 MB of 10.5 MB"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}

	// With DLNA off the page says so, and the JSON has empty lists.
	off := newTestServer(t)
	_, body = off.do("GET", "/api/status", "")
	if !strings.Contains(body, `"dlna":{"enabled":false`) || !strings.Contains(body, `"players":[]`) || !strings.Contains(body, `"streams":[]`) {
		t.Errorf("DLNA off in JSON:\n%s", body)
	}
	if _, page := off.do("GET", "/", ""); !strings.Contains(page, "DLNA is off") {
		t.Error("the page does not say that DLNA is off")
	}
}
