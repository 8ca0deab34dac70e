package dlna

import (
	"bytes"
	"io"
	"net/http"
	"net/netip"
	"path"
	"strings"
	"testing"
	"time"
)

func get(t testing.TB, method, url string, h http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

func pattern(n int) []byte {
	return bytes.Repeat([]byte("0123456789abcdef"), n/16+1)[:n]
}

func TestMediaRoute(t *testing.T) {
	ts := newTestServer(t, &Server{Content: newTestContent(t)})
	tests := []struct {
		name, method, path string
		h                  http.Header
		status             int
		body               []byte
		ctype              string
	}{
		{"whole file", "GET", "/m/Music/Song%201.mp3", nil, 200, pattern(10), "audio/mpeg"},
		{"HEAD", "HEAD", "/m/Music/Song%201.mp3", nil, 200, nil, "audio/mpeg"},
		{"range", "GET", "/m/Music/Song%201.mp3", hdr("Range", "bytes=2-5"), 206, pattern(10)[2:6], "audio/mpeg"},
		{"range past the end", "GET", "/m/Music/Song%201.mp3", hdr("Range", "bytes=10-"), 416, nil, ""},
		{"escaped specials", "GET", "/m/Movies/A%26B%20%3Cc%3E%20%22q%22%20%27x%27.mkv", nil, 200, pattern(100), "video/x-matroska"},
		{"escaped as browsers do", "GET", "/m/Movies/A&B%20%3Cc%3E%20%22q%22%20'x'.mkv", nil, 200, pattern(100), "video/x-matroska"},
		{"Latin-1 name", "GET", "/m/Movies/caf%E9.avi", nil, 200, pattern(100), "video/x-msvideo"},
		{"Samsung MKV", "HEAD", "/m/Movies/Film%20A.mkv", hdr("User-Agent", samsungUA), 200, nil, "video/x-mkv"},
		{"subfolder", "GET", "/m/Movies/Kids/Cartoon.mp4", nil, 200, pattern(100), "video/mp4"},
		{"no such share", "GET", "/m/Nope/x.mkv", nil, 404, nil, ""},
		{"no such file", "GET", "/m/Movies/Nope.mkv", nil, 404, nil, ""},
		{"offline share", "GET", "/m/Gone/x.mkv", nil, 503, nil, ""}, // as /files answers: the disk may come back
		{"a folder", "GET", "/m/Movies/Kids", nil, 404, nil, ""},
		{"a share", "GET", "/m/Movies", nil, 404, nil, ""},
		{"escaped slash", "GET", "/m/Movies/Kids%2FCartoon.mp4", nil, 404, nil, ""},
		{"POST", "POST", "/m/Music/Song%201.mp3", nil, 405, nil, ""},
		{"subtitle", "GET", "/s/Movies/Film%20A.srt", nil, 200, pattern(40), "text/srt"},
		{"not a subtitle", "GET", "/s/Movies/Film%20A.mkv", nil, 404, nil, ""},
		{"no such subtitle", "GET", "/s/Movies/Nope.srt", nil, 404, nil, ""},
	}
	for _, tt := range tests {
		resp, body := get(t, tt.method, ts.base+tt.path, tt.h)
		if resp.StatusCode != tt.status {
			t.Errorf("%s: %s %s: status %d, want %d", tt.name, tt.method, tt.path, resp.StatusCode, tt.status)
			continue
		}
		if tt.body != nil && !bytes.Equal(body, tt.body) {
			t.Errorf("%s: body %q, want %q", tt.name, body, tt.body)
		}
		if ct := resp.Header.Get("Content-Type"); tt.ctype != "" && ct != tt.ctype {
			t.Errorf("%s: Content-Type %q, want %q", tt.name, ct, tt.ctype)
		}
		if resp.Header.Get("Server") == "" {
			t.Errorf("%s: no Server header", tt.name)
		}
	}
}

func TestParseMediaPath(t *testing.T) {
	tests := []struct {
		in, share, rel string
		ok             bool
	}{
		{"/m/Movies/Film%20A.mkv", "Movies", "Film A.mkv", true},
		{"/m/My%20Music/a/b/c.mp3", "My Music", "a/b/c.mp3", true},
		{"/m/M/caf%E9.avi", "M", "caf\xe9.avi", true},
		{"/m/M/a+b.mkv", "M", "a+b.mkv", true},
		{"/m/M/%ZZ.mkv", "", "", false},
		{"/m/M/a%2Fb.mkv", "", "", false},
		{"/m/M/%2E%2E/x", "", "", false},
		{"/m/M/../x", "", "", false},
		{"/m/M//x", "", "", false},
		{"/m/M/", "", "", false},
		{"/m/M", "", "", false},
		{"/s/M/x.srt", "", "", false},
	}
	for _, tt := range tests {
		share, rel, ok := parseMediaPath(tt.in, mediaPrefix)
		if share != tt.share || rel != tt.rel || ok != tt.ok {
			t.Errorf("parseMediaPath(%q) = %q, %q, %v", tt.in, share, rel, ok)
		}
	}
	// What escapedPath writes comes back.
	for _, name := range []string{"a b.mkv", "A&B <c> \"q\" 'x'.mkv", "caf\xe9.avi", "100%.mp4", "日本.mkv", "x?y#z.mkv"} {
		p := escapedPath(mediaPrefix, "S h", "d/"+name)
		if share, rel, ok := parseMediaPath(p, mediaPrefix); !ok || share != "S h" || rel != "d/"+name {
			t.Errorf("%q: escaped %q, back %q %q %v", name, p, share, rel, ok)
		}
		if !strings.HasSuffix(p, path.Ext(name)) {
			t.Errorf("%q: escaped %q loses the extension", name, p)
		}
	}
}

func TestCaptionInfoHeader(t *testing.T) {
	ts := newTestServer(t, &Server{Content: newTestContent(t)})
	ask := hdr("User-Agent", samsungUA, "getCaptionInfo.sec", "1", "getcontentFeatures.dlna.org", "1")
	resp, _ := get(t, "HEAD", ts.base+"/m/Movies/Film%20A.mkv", ask)
	cap := resp.Header.Get("CaptionInfo.sec")
	if cap != ts.base+"/s/Movies/Film%20A.srt" && cap != ts.base+"/s/Movies/Film%20A.en.srt" {
		t.Fatalf("CaptionInfo.sec %q", cap)
	}
	if resp, body := get(t, "GET", cap, nil); resp.StatusCode != 200 || len(body) < 40 || resp.Header.Get("Content-Type") != "text/srt" {
		t.Errorf("subtitle: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if resp.Header.Get("contentFeatures.dlna.org") == "" {
		t.Error("no contentFeatures.dlna.org")
	}
	// No subtitle, no header; not asked, no header.
	if resp, _ := get(t, "HEAD", ts.base+"/m/Movies/Episode%202.mkv", ask); resp.Header.Get("CaptionInfo.sec") != "" {
		t.Errorf("CaptionInfo.sec for a video without subtitles: %q", resp.Header.Get("CaptionInfo.sec"))
	}
	if resp, _ := get(t, "HEAD", ts.base+"/m/Movies/Film%20A.mkv", hdr("User-Agent", samsungUA)); resp.Header.Get("CaptionInfo.sec") != "" {
		t.Error("CaptionInfo.sec sent unasked")
	}
}

func TestStatus(t *testing.T) {
	f := newFake(t, true, fakeFile{share: "Big", path: "movie.mkv", size: 32 << 20})
	ts := newTestServer(t, &Server{Content: f})
	if st := ts.Status(); len(st.Players) != 0 || len(st.Streams) != 0 || !validUDN(st.UDN) {
		t.Fatalf("idle status %+v", st)
	}
	browseCall(t, ts.base, hdr("User-Agent", samsungUA), "ObjectID", "0", "BrowseFlag", "BrowseDirectChildren")
	st := ts.Status()
	if len(st.Players) != 1 || st.Players[0].Name != "Samsung TV ([TV] Samsung Q7 Series (55))" ||
		st.Players[0].Addr != netip.MustParseAddr("127.0.0.1") || st.Players[0].LastSeen.IsZero() {
		t.Fatalf("players %+v", st.Players)
	}
	// A stream whose client reads slowly shows, with its progress.
	req, _ := http.NewRequest("GET", ts.base+"/m/Big/movie.mkv", nil)
	req.Header.Set("User-Agent", "VLC/3.0.18 LibVLC/3.0.18")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	// Past the first 4 MiB chunk, which package media counts once sent.
	if _, err := io.ReadFull(resp.Body, make([]byte, 5<<20)); err != nil {
		t.Fatal(err)
	}
	var s Stream
	waitFor(t, "the stream to show", func() bool {
		st := ts.Status()
		if len(st.Streams) != 1 {
			return false
		}
		s = st.Streams[0]
		return s.Sent >= 4<<20
	})
	if s.Share != "Big" || s.Path != "movie.mkv" || s.Player != "VLC" || s.Size != 32<<20 || s.Client != netip.MustParseAddr("127.0.0.1") || s.Started.IsZero() {
		t.Errorf("stream %+v", s)
	}
	resp.Body.Close()
	waitFor(t, "the stream to end", func() bool { return len(ts.Status().Streams) == 0 })
	// Unknown players are shown by their User-Agent.
	get(t, "HEAD", ts.base+"/m/Big/movie.mkv", hdr("User-Agent", "Foo/1.0 "+strings.Repeat("x", 200)))
	if p := ts.Status().Players[0]; !strings.HasPrefix(p.Name, "Foo/1.0 xxx") || len(p.Name) > maxPlayerName {
		t.Errorf("unknown player shown as %q", p.Name)
	}
}

// waitFor waits until cond holds, failing the test after a generous
// deadline (no timing is asserted).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
