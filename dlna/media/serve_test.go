package media

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const (
	streamingCF   = "DLNA.ORG_OP=01;DLNA.ORG_CI=0;DLNA.ORG_FLAGS=01700000000000000000000000000000"
	interactiveCF = "DLNA.ORG_OP=01;DLNA.ORG_CI=0;DLNA.ORG_FLAGS=00D00000000000000000000000000000"
	samsungUA     = "DLNADOC/1.50 SEC_HHP_[TV] Samsung Q7 Series (49)/1.0"
	captionURL    = "http://192.168.1.2:8200/sub/clip.srt"
)

// TestServeWhole checks a plain GET: the whole file, byte for byte, with
// every header a TV relies on.
func TestServeWhole(t *testing.T) {
	ts := newTestServer(t)
	data := ts.file(t, "clip.mkv", 9<<20+12345) // more than two chunks
	resp, body := ts.do(t, "GET", "/v/clip.mkv", nil)
	if resp.StatusCode != 200 || !bytes.Equal(body, data) {
		t.Fatalf("status %d, %d bytes (equal: %v)", resp.StatusCode, len(body), bytes.Equal(body, data))
	}
	want := map[string]string{
		"Content-Type":          "video/x-matroska",
		"Content-Length":        strconv.Itoa(len(data)),
		"Accept-Ranges":         "bytes",
		"Last-Modified":         "Sat, 09 Mar 2024 20:15:07 GMT",
		"transferMode.dlna.org": "Streaming",
		"realTimeInfo.dlna.org": "DLNA.ORG_TLAG=*",
		"EXT":                   "",
	}
	for k, v := range want {
		if vs := resp.Header.Values(k); len(vs) != 1 || vs[0] != v {
			t.Errorf("%s: %q, want %q", k, vs, v)
		}
	}
	for _, k := range []string{"contentFeatures.dlna.org", "CaptionInfo.sec", "Content-Range"} {
		if v, ok := resp.Header[http.CanonicalHeaderKey(k)]; ok {
			t.Errorf("%s sent unasked: %q", k, v)
		}
	}
	if got := ts.sent.Load(); got != int64(len(data)) {
		t.Errorf("Sent = %d, want %d", got, len(data))
	}
}

// TestServeDLNAHeaders drives every rule on request headers: transfer
// modes, contentFeatures, CaptionInfo.sec, time seek, play speed, methods
// and the Samsung MIME type.
func TestServeDLNAHeaders(t *testing.T) {
	ts := newTestServer(t)
	ts.file(t, "clip.mkv", 1000)
	ts.file(t, "song.flac", 1000)
	ts.file(t, "photo.jpg", 1000)
	ts.file(t, "notes.txt", 1000)
	for _, tt := range []struct {
		name    string
		method  string
		path    string
		headers map[string]string
		status  int
		want    map[string]string // "" value: header absent
	}{
		{"video plain", "GET", "/v/clip.mkv", nil, 200,
			map[string]string{"transferMode.dlna.org": "Streaming", "contentFeatures.dlna.org": "", "Content-Type": "video/x-matroska"}},
		{"video features", "GET", "/v/clip.mkv", map[string]string{"getcontentFeatures.dlna.org": "1"}, 200,
			map[string]string{"contentFeatures.dlna.org": streamingCF}},
		{"features 0", "GET", "/v/clip.mkv", map[string]string{"getcontentFeatures.dlna.org": "0"}, 200,
			map[string]string{"contentFeatures.dlna.org": ""}},
		{"audio features", "GET", "/v/song.flac", map[string]string{"getcontentFeatures.dlna.org": "1"}, 200,
			map[string]string{"contentFeatures.dlna.org": streamingCF, "transferMode.dlna.org": "Streaming", "Content-Type": "audio/flac"}},
		{"image features", "GET", "/v/photo.jpg", map[string]string{"getcontentFeatures.dlna.org": "1"}, 200,
			map[string]string{"contentFeatures.dlna.org": interactiveCF, "transferMode.dlna.org": "Interactive", "Content-Type": "image/jpeg"}},
		{"samsung mkv", "GET", "/v/clip.mkv", map[string]string{"User-Agent": samsungUA}, 200,
			map[string]string{"Content-Type": "video/x-mkv"}},
		{"caption asked", "GET", "/v/clip.mkv?caption=" + captionURL, map[string]string{"getCaptionInfo.sec": "1", "User-Agent": samsungUA}, 200,
			map[string]string{"CaptionInfo.sec": captionURL}},
		{"caption asked, none", "GET", "/v/clip.mkv", map[string]string{"getCaptionInfo.sec": "1"}, 200,
			map[string]string{"CaptionInfo.sec": ""}},
		{"caption not asked", "GET", "/v/clip.mkv?caption=" + captionURL, nil, 200,
			map[string]string{"CaptionInfo.sec": ""}},
		{"streaming video", "GET", "/v/clip.mkv", map[string]string{"transferMode.dlna.org": "Streaming"}, 200,
			map[string]string{"transferMode.dlna.org": "Streaming"}},
		{"streaming lower case", "GET", "/v/clip.mkv", map[string]string{"transferMode.dlna.org": "streaming"}, 200,
			map[string]string{"transferMode.dlna.org": "Streaming"}},
		{"background video", "GET", "/v/clip.mkv", map[string]string{"transferMode.dlna.org": "Background"}, 200,
			map[string]string{"transferMode.dlna.org": "Background"}},
		{"interactive video", "GET", "/v/clip.mkv", map[string]string{"transferMode.dlna.org": "Interactive"}, 406, nil},
		{"interactive audio", "GET", "/v/song.flac", map[string]string{"transferMode.dlna.org": "Interactive"}, 406, nil},
		{"streaming image", "GET", "/v/photo.jpg", map[string]string{"transferMode.dlna.org": "Streaming"}, 406, nil},
		{"interactive image", "GET", "/v/photo.jpg", map[string]string{"transferMode.dlna.org": "Interactive"}, 200,
			map[string]string{"transferMode.dlna.org": "Interactive"}},
		{"background image", "GET", "/v/photo.jpg", map[string]string{"transferMode.dlna.org": "Background"}, 200,
			map[string]string{"transferMode.dlna.org": "Background"}},
		{"interactive other", "GET", "/v/notes.txt", map[string]string{"transferMode.dlna.org": "Interactive"}, 200,
			map[string]string{"Content-Type": "application/octet-stream"}},
		{"unknown mode", "GET", "/v/clip.mkv", map[string]string{"transferMode.dlna.org": "Bulk"}, 400, nil},
		{"HEAD interactive video", "HEAD", "/v/clip.mkv", map[string]string{"transferMode.dlna.org": "Interactive"}, 406, nil},
		{"time seek alone", "GET", "/v/clip.mkv", map[string]string{"TimeSeekRange.dlna.org": "npt=10.0-"}, 406, nil},
		{"time seek with range", "GET", "/v/clip.mkv", map[string]string{"TimeSeekRange.dlna.org": "npt=10.0-", "Range": "bytes=10-19"}, 206,
			map[string]string{"Content-Range": "bytes 10-19/1000"}},
		{"play speed 2", "GET", "/v/clip.mkv", map[string]string{"PlaySpeed.dlna.org": "speed=2"}, 406, nil},
		{"play speed 1", "GET", "/v/clip.mkv", map[string]string{"PlaySpeed.dlna.org": "speed=1"}, 200, nil},
		{"POST", "POST", "/v/clip.mkv", nil, 405, map[string]string{"Allow": "GET, HEAD"}},
		{"PUT", "PUT", "/v/clip.mkv", nil, 405, map[string]string{"Allow": "GET, HEAD"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := ts.do(t, tt.method, tt.path, tt.headers)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, tt.status, body)
			}
			for k, v := range tt.want {
				got, ok := resp.Header[http.CanonicalHeaderKey(k)]
				switch {
				case v == "" && ok:
					t.Errorf("%s: %q, want none", k, got)
				case v != "" && (len(got) != 1 || got[0] != v):
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			if tt.status >= 400 && len(resp.Header.Values("transferMode.dlna.org")) > 0 {
				t.Errorf("a refusal carries transferMode.dlna.org")
			}
		})
	}
}

// TestServeRanges checks byte ranges on a 1000-byte file: 206 with
// Content-Range and the right bytes, 416 past the end, and the whole file
// for ranges that are ignored.
func TestServeRanges(t *testing.T) {
	ts := newTestServer(t)
	data := ts.file(t, "clip.mkv", 1000)
	ts.file(t, "empty.mkv", 0)
	lastMod := modTime.Format(http.TimeFormat)
	for _, tt := range []struct {
		path, rng, ifRange string
		status             int
		from, to           int // the bytes expected, to inclusive
	}{
		{"clip.mkv", "bytes=0-9", "", 206, 0, 9},
		{"clip.mkv", "bytes=0-0", "", 206, 0, 0},
		{"clip.mkv", "bytes=990-", "", 206, 990, 999},
		{"clip.mkv", "bytes=999-999", "", 206, 999, 999},
		{"clip.mkv", "bytes=-5", "", 206, 995, 999},
		{"clip.mkv", "bytes=500-5000", "", 206, 500, 999},
		{"clip.mkv", "bytes=-5000", "", 206, 0, 999},
		{"clip.mkv", "bytes=0-", "", 206, 0, 999},
		{"clip.mkv", "BYTES=3-4", "", 206, 3, 4},
		{"clip.mkv", "bytes= 3-4 ,", "", 206, 3, 4},
		{"clip.mkv", "bytes=0-99999999999999999999", "", 206, 0, 999},
		{"clip.mkv", "bytes=1000-", "", 416, 0, 0},
		{"clip.mkv", "bytes=1000-1001", "", 416, 0, 0},
		{"clip.mkv", "bytes=-0", "", 416, 0, 0},
		{"clip.mkv", "bytes=99999999999999999999-", "", 416, 0, 0},
		{"clip.mkv", "bytes=0-1,5-6", "", 200, 0, 999}, // several ranges: the whole file
		{"clip.mkv", "bytes=5-1", "", 200, 0, 999},
		{"clip.mkv", "bytes=abc", "", 200, 0, 999},
		{"clip.mkv", "bytes=1-2-3", "", 200, 0, 999},
		{"clip.mkv", "bytes=+1-2", "", 200, 0, 999},
		{"clip.mkv", "bytes=", "", 200, 0, 999},
		{"clip.mkv", "items=0-1", "", 200, 0, 999},
		{"clip.mkv", "bytes=10-19", lastMod, 206, 10, 19},
		{"clip.mkv", "bytes=10-19", "Sat, 09 Mar 2024 20:15:08 GMT", 200, 0, 999},
		{"clip.mkv", "bytes=10-19", `"an-etag"`, 200, 0, 999},
		{"empty.mkv", "bytes=0-", "", 416, 0, 0},
		{"empty.mkv", "bytes=-1", "", 416, 0, 0},
		{"empty.mkv", "", "", 200, 0, -1},
	} {
		t.Run(tt.path+" "+tt.rng+" "+tt.ifRange, func(t *testing.T) {
			h := map[string]string{}
			if tt.rng != "" {
				h["Range"] = tt.rng
			}
			if tt.ifRange != "" {
				h["If-Range"] = tt.ifRange
			}
			size := len(data)
			if tt.path == "empty.mkv" {
				size = 0
			}
			resp, body := ts.do(t, "GET", "/v/"+tt.path, h)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			cr := resp.Header.Get("Content-Range")
			switch tt.status {
			case 416:
				if want := fmt.Sprintf("bytes */%d", size); cr != want {
					t.Errorf("Content-Range %q, want %q", cr, want)
				}
				return
			case 206:
				if want := fmt.Sprintf("bytes %d-%d/%d", tt.from, tt.to, size); cr != want {
					t.Errorf("Content-Range %q, want %q", cr, want)
				}
			default:
				if cr != "" {
					t.Errorf("Content-Range %q on 200", cr)
				}
			}
			want := data[:0]
			if tt.to >= 0 {
				want = data[tt.from : tt.to+1]
			}
			if !bytes.Equal(body, want) || resp.ContentLength != int64(len(want)) {
				t.Errorf("got %d bytes (Content-Length %d), want bytes %d-%d", len(body), resp.ContentLength, tt.from, tt.to)
			}
		})
	}
}

// TestServeHead checks that HEAD gets the headers GET gets, and no body.
func TestServeHead(t *testing.T) {
	ts := newTestServer(t)
	ts.file(t, "clip.mkv", 5000)
	for _, h := range []map[string]string{
		{"getcontentFeatures.dlna.org": "1", "getCaptionInfo.sec": "1", "User-Agent": samsungUA},
		{"Range": "bytes=100-199", "transferMode.dlna.org": "Streaming"},
		{"Range": "bytes=6000-"},
	} {
		get, _ := ts.do(t, "GET", "/v/clip.mkv?caption="+captionURL, h)
		head := rawHead(t, ts, "HEAD", "/v/clip.mkv?caption="+captionURL, h)
		if head.StatusCode != get.StatusCode {
			t.Errorf("%v: HEAD %d, GET %d", h, head.StatusCode, get.StatusCode)
		}
		get.Header.Del("Date")
		head.Header.Del("Date")
		if fmt.Sprint(head.Header) != fmt.Sprint(get.Header) {
			t.Errorf("%v: headers differ\nHEAD %v\nGET  %v", h, head.Header, get.Header)
		}
	}
}

// rawHead sends a request on a fresh connection and reads the response
// head, then checks that nothing follows it: no body after a HEAD.
func rawHead(t *testing.T, ts *testServer, method, path string, headers map[string]string) *http.Response {
	t.Helper()
	c, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var req strings.Builder
	fmt.Fprintf(&req, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", method, path, ts.Listener.Addr())
	for k, v := range headers {
		fmt.Fprintf(&req, "%s: %s\r\n", k, v)
	}
	req.WriteString("\r\n")
	if _, err := io.WriteString(c, req.String()); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	rest, _ := io.ReadAll(br)
	if method == "HEAD" && len(rest) > 0 {
		t.Errorf("%d bytes after the HEAD response's head: %q", len(rest), rest[:min(len(rest), 40)])
	}
	return resp
}

// TestServeHeaderSpelling reads the response head off the wire: the DLNA
// headers keep DLNA's spelling, which some TVs compare case-sensitively.
func TestServeHeaderSpelling(t *testing.T) {
	ts := newTestServer(t)
	ts.file(t, "clip.mkv", 100)
	c, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "HEAD /v/clip.mkv?caption=%s HTTP/1.1\r\nHOST: x\r\ngetcontentFeatures.dlna.org: 1\r\ngetCaptionInfo.sec: 1\r\nConnection: close\r\n\r\n", captionURL)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	raw, _ := io.ReadAll(c)
	lines := strings.Split(string(raw), "\r\n")
	for _, want := range []string{
		"transferMode.dlna.org: Streaming",
		"contentFeatures.dlna.org: " + streamingCF,
		"realTimeInfo.dlna.org: DLNA.ORG_TLAG=*",
		"CaptionInfo.sec: " + captionURL,
		"EXT: ",
	} {
		found := false
		for _, l := range lines {
			found = found || l == want || want == "EXT: " && l == "EXT:"
		}
		if !found {
			t.Errorf("no line %q in\n%s", want, raw)
		}
	}
}

// TestServeBeyond4GiB reads ranges of a 5 GiB sparse file past the 4 GiB
// mark (32-bit offsets would wrap there).
func TestServeBeyond4GiB(t *testing.T) {
	ts := newTestServer(t)
	const size = 5 << 30
	p := filepath.Join(ts.dir, "big.mkv")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Skipf("no sparse 5 GiB file here: %v", err)
	}
	marker := []byte("past four gibibytes")
	at := int64(4<<30 + 100)
	if _, err := f.WriteAt(marker, at); err != nil {
		t.Fatal(err)
	}
	tail := []byte("the very end")
	if _, err := f.WriteAt(tail, size-int64(len(tail))); err != nil {
		t.Fatal(err)
	}
	f.Close()

	resp, body := ts.do(t, "GET", "/v/big.mkv", map[string]string{"Range": fmt.Sprintf("bytes=%d-%d", at-4, at+int64(len(marker))+3)})
	want := append(append([]byte{0, 0, 0, 0}, marker...), 0, 0, 0, 0)
	if resp.StatusCode != 206 || !bytes.Equal(body, want) {
		t.Fatalf("status %d, body %q", resp.StatusCode, body)
	}
	if got, want := resp.Header.Get("Content-Range"), fmt.Sprintf("bytes %d-%d/%d", at-4, at+int64(len(marker))+3, int64(size)); got != want {
		t.Errorf("Content-Range %q, want %q", got, want)
	}
	resp, body = ts.do(t, "GET", "/v/big.mkv", map[string]string{"Range": fmt.Sprintf("bytes=-%d", len(tail))})
	if resp.StatusCode != 206 || !bytes.Equal(body, tail) {
		t.Fatalf("suffix: status %d, body %q", resp.StatusCode, body)
	}
	resp, _ = ts.do(t, "HEAD", "/v/big.mkv", nil)
	if resp.ContentLength != size || resp.Header.Get("Content-Length") != "5368709120" {
		t.Errorf("HEAD Content-Length %q", resp.Header.Get("Content-Length"))
	}
	resp, _ = ts.do(t, "GET", "/v/big.mkv", map[string]string{"Range": "bytes=5368709120-"})
	if resp.StatusCode != 416 || resp.Header.Get("Content-Range") != "bytes */5368709120" {
		t.Errorf("past the end: %d %q", resp.StatusCode, resp.Header.Get("Content-Range"))
	}
}

// TestServeSubtitle serves subtitles with their types, whatever the
// transfer mode asked.
func TestServeSubtitle(t *testing.T) {
	ts := newTestServer(t)
	for _, tt := range []struct{ name, mime string }{
		{"clip.srt", "text/srt"},
		{"clip.en.SRT", "text/srt"},
		{"clip.vtt", "text/vtt; charset=utf-8"},
		{"clip.ass", "text/x-ssa"},
		{"clip.ssa", "text/x-ssa"},
	} {
		data := ts.file(t, tt.name, 300)
		for _, mode := range []string{"", "Interactive", "Streaming", "Background"} {
			h := map[string]string{"getcontentFeatures.dlna.org": "1"}
			if mode != "" {
				h["transferMode.dlna.org"] = mode
			}
			resp, body := ts.do(t, "GET", "/sub/"+tt.name, h)
			if resp.StatusCode != 200 || !bytes.Equal(body, data) || resp.Header.Get("Content-Type") != tt.mime {
				t.Errorf("%s %q: %d %q %d bytes", tt.name, mode, resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
			}
			if want := cmp(mode, "Interactive"); resp.Header.Get("transferMode.dlna.org") != want {
				t.Errorf("%s: transferMode %q, want %q", tt.name, resp.Header.Get("transferMode.dlna.org"), want)
			}
			if resp.Header.Get("contentFeatures.dlna.org") != interactiveCF {
				t.Errorf("%s: contentFeatures %q", tt.name, resp.Header.Get("contentFeatures.dlna.org"))
			}
		}
		resp, body := ts.do(t, "GET", "/sub/"+tt.name, map[string]string{"Range": "bytes=10-19"})
		if resp.StatusCode != 206 || !bytes.Equal(body, data[10:20]) {
			t.Errorf("%s range: %d", tt.name, resp.StatusCode)
		}
	}
	resp, _ := ts.do(t, "GET", "/sub/clip.srt", map[string]string{"transferMode.dlna.org": "Bogus"})
	if resp.StatusCode != 400 {
		t.Errorf("unknown mode: %d", resp.StatusCode)
	}
}

func cmp(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// TestServeSentProgress checks that Options.Sent rises at least every
// 4 MiB of body: the body is written chunk by chunk into a writer that
// notes Sent at each chunk.
func TestServeSentProgress(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "clip.mkv")
	const size = 10<<20 + 3
	if err := os.WriteFile(p, make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	var sent atomic.Int64
	w := &chunkRecorder{header: http.Header{}, sent: &sent}
	Serve(w, httpRequest(t, "GET", "/clip.mkv"), f, fi, Options{Sent: &sent})
	if w.status != 200 || w.total != size || sent.Load() != size {
		t.Fatalf("status %d, %d bytes written, Sent %d", w.status, w.total, sent.Load())
	}
	var before int64
	for i, c := range w.chunks {
		if c.sentBefore != before {
			t.Errorf("chunk %d: Sent was %d before it, want %d", i, c.sentBefore, before)
		}
		if c.n > 4<<20 {
			t.Errorf("chunk %d: %d bytes, more than 4 MiB between updates", i, c.n)
		}
		before += c.n
	}
	if len(w.chunks) < 3 {
		t.Errorf("%d chunks for %d bytes", len(w.chunks), size)
	}
}

// chunkRecorder is a ResponseWriter with ReadFrom, as net/http's is,
// noting each call's size and the Sent counter before it.
type chunkRecorder struct {
	header http.Header
	status int
	total  int64
	sent   *atomic.Int64
	chunks []struct{ n, sentBefore int64 }
}

func (c *chunkRecorder) Header() http.Header { return c.header }
func (c *chunkRecorder) WriteHeader(s int)   { c.status = s }
func (c *chunkRecorder) Write(p []byte) (int, error) {
	c.total += int64(len(p))
	return len(p), nil
}
func (c *chunkRecorder) ReadFrom(r io.Reader) (int64, error) {
	before := c.sent.Load()
	n, err := io.Copy(io.Discard, r)
	c.total += n
	c.chunks = append(c.chunks, struct{ n, sentBefore int64 }{n, before})
	return n, err
}

func httpRequest(t *testing.T, method, target string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, "http://127.0.0.1"+target, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestBodyWriterUnwraps checks that a wrapping ResponseWriter with Unwrap
// still lets the body reach net/http's ReadFrom (sendfile).
func TestBodyWriterUnwraps(t *testing.T) {
	inner := &chunkRecorder{header: http.Header{}}
	if got := bodyWriter(plainWrapper{inner}); got != io.Writer(inner) {
		t.Errorf("bodyWriter(wrapper) = %T, want the inner writer", got)
	}
	opaque := opaqueWriter{inner}
	if got := bodyWriter(opaque); got != io.Writer(opaque) {
		t.Errorf("bodyWriter(opaque) = %T, want itself", got)
	}
}

type plainWrapper struct{ http.ResponseWriter }

func (p plainWrapper) Unwrap() http.ResponseWriter { return p.ResponseWriter }

// opaqueWriter hides its writer's ReadFrom and has no Unwrap.
type opaqueWriter struct{ w http.ResponseWriter }

func (o opaqueWriter) Header() http.Header         { return o.w.Header() }
func (o opaqueWriter) WriteHeader(s int)           { o.w.WriteHeader(s) }
func (o opaqueWriter) Write(p []byte) (int, error) { return o.w.Write(p) }

// TestServeClientGoesAway checks that Serve returns when the client stops
// reading and hangs up in the middle of a big body.
func TestServeClientGoesAway(t *testing.T) {
	ts := newTestServer(t)
	sparse(t, filepath.Join(ts.dir, "big.mkv"), 1<<30)
	resp, err := ts.Client().Get(ts.URL + "/v/big.mkv")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close() // closes the connection: the body is unread
	awaitDone(t, ts, "/v/big.mkv")
	if s := ts.sent.Load(); s >= 1<<30 {
		t.Errorf("Sent %d: the whole file went to a client that left", s)
	}
}

// TestServeChunkTimeout checks that a client that stops reading is cut
// after ChunkTimeout.
func TestServeChunkTimeout(t *testing.T) {
	ts := newTestServer(t)
	ts.opts = func(o *Options) { o.ChunkTimeout = 300 * time.Millisecond }
	sparse(t, filepath.Join(ts.dir, "big.mkv"), 1<<30)
	c, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /v/big.mkv HTTP/1.1\r\nHost: x\r\n\r\n")
	awaitDone(t, ts, "/v/big.mkv") // without the deadline it would wait for us forever
}

func sparse(t *testing.T, p string, size int64) {
	t.Helper()
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
}

func awaitDone(t *testing.T, ts *testServer, path string) {
	t.Helper()
	select {
	case p := <-ts.done:
		if p != path {
			t.Fatalf("handler for %s done, want %s", p, path)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the handler for %s did not return", path)
	}
}
