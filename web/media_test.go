package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/testtool"
	"github.com/mediaftpd/mediaftpd/library"
	"github.com/mediaftpd/mediaftpd/library/probe"
	"github.com/mediaftpd/mediaftpd/library/store"
	"github.com/mediaftpd/mediaftpd/library/thumb"
)

// mediaEnv is a test server with media details: a real prober filling a
// store, a thumbnail cache, positions in the store, over the test tree
// with these files added (made by ffmpeg and image encoders):
//
//	Movies/Film.webm           10 s, 320x240, VP8
//	Movies/Film-poster.jpg     400x600: the film's poster
//	Movies/Film.en.srt, Movies/Film.fr.forced.ass
//	Movies/Music/01 Song.mp3   1 s, tags A/B/C, track 3, a cover embedded
//	Movies/Music/02 Bare.mp3   1 s, no tags, no cover
//	Movies/Show/poster.jpg, Movies/Show/ep.mkv
//	Movies/pic.png             640x480
type mediaEnv struct {
	*testEnv
	prober *library.Prober
	store  *store.Store
	thumbs *thumb.Cache
	ffmpeg string
}

// mediaFiles are the files mediaEnv adds, whose details it awaits.
var mediaFiles = []string{"Film.webm", "Music/01 Song.mp3", "Music/02 Bare.mp3", "pic.png"}

func newMediaServer(t *testing.T, configure ...func(*Server)) *mediaEnv {
	t.Helper()
	me := &mediaEnv{ffmpeg: testtool.Need(t, "ffmpeg")}
	state := t.TempDir()
	withDetails := func(s *Server) {
		st, err := store.Open(state, quietLogger())
		if err != nil {
			t.Fatal(err)
		}
		me.store = st
		me.prober = &library.Prober{Set: s.Shares, Store: st, Logger: quietLogger()}
		me.thumbs = &thumb.Cache{Dir: filepath.Join(state, "thumbs"), Logger: quietLogger()}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			me.prober.Run(ctx)
			close(done)
		}()
		t.Cleanup(func() {
			cancel()
			<-done
			st.Close()
		})
		s.Details, s.Thumbs, s.Positions = me.prober, me.thumbs, st
	}
	me.testEnv = newTestServer(t, append([]func(*Server){withDetails}, configure...)...)
	me.makeMedia(filepath.Join(me.media, "Movies"))
	me.waitDetails()
	return me
}

// makeMedia writes the media files into dir.
func (me *mediaEnv) makeMedia(dir string) {
	t := me.t
	t.Helper()
	work := t.TempDir() // made elsewhere, then moved in whole
	cover := filepath.Join(work, "cover.jpg")
	writeJPEG(t, cover, 300, 300)
	me.run("-f", "lavfi", "-i", "testsrc2=duration=10:size=320x240:rate=10", "-c:v", "libvpx", "-b:v", "200k",
		"-deadline", "realtime", "-cpu-used", "8", filepath.Join(work, "Film.webm"))
	me.run("-f", "lavfi", "-i", "sine=duration=1", "-i", cover, "-map", "0", "-map", "1", "-c:a", "libmp3lame", "-c:v", "copy",
		"-id3v2_version", "3", "-metadata", "title=A Song", "-metadata", "artist=Artist", "-metadata", "album=Album",
		"-metadata", "track=3", filepath.Join(work, "01 Song.mp3"))
	me.run("-f", "lavfi", "-i", "sine=duration=1", "-c:a", "libmp3lame", filepath.Join(work, "02 Bare.mp3"))
	writeJPEG(t, filepath.Join(work, "Film-poster.jpg"), 400, 600)
	writeJPEG(t, filepath.Join(work, "poster.jpg"), 200, 300)
	writePNG(t, filepath.Join(work, "pic.png"), 640, 480)
	mustWrite(t, filepath.Join(work, "Film.en.srt"), "1\r\n00:00:00,500 --> 00:00:09,500\r\n<i>Hello</i> from the test\r\n")
	mustWrite(t, filepath.Join(work, "Film.fr.forced.ass"),
		"[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"+
			"Dialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,{\\an8}Bonjour\n")
	for from, to := range map[string]string{
		"Film.webm": "Film.webm", "Film-poster.jpg": "Film-poster.jpg", "Film.en.srt": "Film.en.srt",
		"Film.fr.forced.ass": "Film.fr.forced.ass", "pic.png": "pic.png",
		"01 Song.mp3": "Music/01 Song.mp3", "02 Bare.mp3": "Music/02 Bare.mp3", "poster.jpg": "Show/poster.jpg",
	} {
		mustMkdir(t, filepath.Dir(filepath.Join(dir, to)))
		if err := os.Rename(filepath.Join(work, from), filepath.Join(dir, to)); err != nil {
			t.Fatal(err)
		}
	}
	mustWrite(t, filepath.Join(dir, "Show", "ep.mkv"), "episode")
}

func (me *mediaEnv) run(args ...string) {
	me.t.Helper()
	cmd := exec.Command(me.ffmpeg, append([]string{"-v", "error", "-nostdin", "-y"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		me.t.Fatalf("ffmpeg %q: %v\n%s", args, err, out)
	}
}

// waitDetails waits until the prober is done and knows the details of
// every media file.
func (me *mediaEnv) waitDetails() {
	me.t.Helper()
	waitFor(me.t, "the details of the media files", func() bool {
		if me.prober.Progress().Running {
			return false
		}
		for _, rel := range mediaFiles {
			e, err := me.set.Entry("Movies", rel, library.AllFiles)
			if err != nil {
				return false
			}
			if _, ok := me.prober.Of("Movies", rel, e); !ok {
				return false
			}
		}
		return true
	})
}

// item fetches /api/items for a path of the Movies share.
func (e *testEnv) item(rel string) (*Item, int) {
	e.t.Helper()
	resp, body := e.do("GET", "/api/items/Movies/"+escapePath(rel), "")
	if resp.StatusCode != http.StatusOK {
		return nil, resp.StatusCode
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		e.t.Errorf("GET /api/items/Movies/%s: Content-Type %q", rel, ct)
	}
	var it Item
	if err := json.Unmarshal([]byte(body), &it); err != nil {
		e.t.Fatalf("GET /api/items/Movies/%s: %v\n%s", rel, err, body)
	}
	return &it, resp.StatusCode
}

func writeJPEG(t *testing.T, name string, w, h int) {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, testPicture(w, h), nil); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, name, b.String())
}

func writePNG(t *testing.T, name string, w, h int) {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, testPicture(w, h)); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, name, b.String())
}

func testPicture(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	return img
}

func TestItemsAPI(t *testing.T) {
	e := newMediaServer(t)

	film, code := e.item("Film.webm")
	if film == nil {
		t.Fatalf("GET /api/items/Movies/Film.webm: %d", code)
	}
	if !film.DetailsKnown || film.Kind != "video" || film.Container != "webm" || film.VideoCodec != "vp8" ||
		film.Width != 320 || film.Height != 240 || math.Abs(film.DurationSeconds-10) > 0.2 || film.Bitrate <= 0 {
		t.Errorf("film details: %+v", film)
	}
	if film.URL != "/files/Movies/Film.webm" || film.PlayURL != "/play/Movies/Film.webm" {
		t.Errorf("film URLs %q %q", film.URL, film.PlayURL)
	}
	if !strings.HasPrefix(film.Artwork, "/thumbs/Movies/Film-poster.jpg?size=320&v=") {
		t.Errorf("film artwork %q", film.Artwork)
	}
	wantSubs := []SubtitleInfo{
		{Path: "Film.en.srt", Lang: "en", Format: "srt", URL: "/subtitles/Movies/Film.en.srt"},
		{Path: "Film.fr.forced.ass", Lang: "fr", Format: "ass", Forced: true, URL: "/subtitles/Movies/Film.fr.forced.ass"},
	}
	if len(film.Subtitles) != len(wantSubs) {
		t.Errorf("film subtitles %+v", film.Subtitles)
	} else {
		for i, s := range wantSubs {
			if film.Subtitles[i] != s {
				t.Errorf("subtitle %d: %+v, want %+v", i, film.Subtitles[i], s)
			}
		}
	}
	if film.PositionSeconds != 0 {
		t.Errorf("position %v before any was kept", film.PositionSeconds)
	}

	song, _ := e.item("Music/01 Song.mp3")
	if song == nil || !song.DetailsKnown || song.Title != "A Song" || song.Artist != "Artist" || song.Album != "Album" ||
		song.Track != 3 || song.AudioCodec != "mp3" || song.Channels != 1 || song.SampleRate != 44100 {
		t.Errorf("song: %+v", song)
	}
	if song != nil && !strings.HasPrefix(song.Artwork, "/thumbs/Movies/Music/01%20Song.mp3?size=320&v=") {
		t.Errorf("song artwork (its embedded cover) %q", song.Artwork)
	}
	if bare, _ := e.item("Music/02 Bare.mp3"); bare == nil || !bare.DetailsKnown || bare.Artwork != "" || bare.Title != "" {
		t.Errorf("a song without cover or tags: %+v", bare)
	}
	if pic, _ := e.item("pic.png"); pic == nil || pic.Kind != "image" || pic.Width != 640 || pic.Height != 480 ||
		!strings.HasPrefix(pic.Artwork, "/thumbs/Movies/pic.png?") || pic.PlayURL != "" {
		t.Errorf("picture: %+v", pic)
	}
	if show, _ := e.item("Show"); show == nil || show.Kind != "folder" || show.URL != "/files/Movies/Show/" ||
		!strings.HasPrefix(show.Artwork, "/thumbs/Movies/Show/poster.jpg?") {
		t.Errorf("folder: %+v", show)
	}
	if top, _ := e.item(""); top == nil || top.Kind != "folder" || top.Path != "." || top.Name != "Movies" {
		t.Errorf("the share's folder: %+v", top)
	}
	// A file without details (not media, or not read): the rest is there.
	if notes, _ := e.item("notes.txt"); notes == nil || notes.DetailsKnown || notes.Kind != "other" || notes.Size != 5 ||
		notes.Subtitles == nil || notes.Artwork != "" {
		t.Errorf("notes: %+v", notes)
	}

	// The one visibility rule: what FTP and /files do not show is not found.
	for _, p := range []string{"/api/items/Movies/.hidden.mkv", "/api/items/Movies/escape/secret.txt", "/api/items/Nope/x.mkv",
		"/api/items/Movies/%2e%2e/%2e%2e/outside/secret.txt", "/api/items/Movies/nothing.mkv", "/api/items/Movies/sub/.x", "/api/items/"} {
		resp, body := e.do("GET", p, "")
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %s, want 404", p, resp.Status)
		} else if !strings.Contains(body, `"error"`) && p != "/api/items/" {
			t.Errorf("GET %s: body %q is not a JSON error", p, body)
		}
	}
}

func TestItemsAPIWithoutDetails(t *testing.T) {
	e := newTestServer(t)
	it, code := e.item("film.mkv")
	if it == nil {
		t.Fatalf("GET /api/items/Movies/film.mkv: %d", code)
	}
	if it.DetailsKnown || it.Artwork != "" || it.Kind != "video" || it.Size != int64(len(filmData)) || it.PlayURL == "" {
		t.Errorf("without details: %+v", it)
	}
	// The folder view is as it was: no pictures, no position script.
	_, body := e.do("GET", "/files/Movies/", "")
	if strings.Contains(body, "/thumbs/") {
		t.Error("the folder view shows pictures without Thumbs")
	}
	_, body = e.do("GET", "/play/Movies/film.mkv", "")
	if !strings.Contains(body, `data-position-url=""`) {
		t.Error("the player keeps positions without Positions")
	}
	resp, _ := e.do("PUT", "/api/positions/Movies/film.mkv", `{"seconds": 4}`, "Origin", e.ts.URL)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("PUT a position without Positions: %s", resp.Status)
	}
	if resp, _ := e.do("GET", "/thumbs/Movies/photo.jpg", ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /thumbs without Thumbs: %s", resp.Status)
	}
	if st := e.status(); st.Details.Enabled {
		t.Errorf("details enabled without Details: %+v", st.Details)
	}
}

func TestThumbs(t *testing.T) {
	e := newMediaServer(t)
	film, _ := e.item("Film.webm")
	if film == nil || film.Artwork == "" {
		t.Fatalf("film %+v", film)
	}
	get := func(url string, headers ...string) (*http.Response, string) {
		t.Helper()
		return e.do("GET", url, "", headers...)
	}
	checkJPEG := func(what, body string, side int) {
		t.Helper()
		cfg, format, err := image.DecodeConfig(strings.NewReader(body))
		if err != nil || format != "jpeg" || max(cfg.Width, cfg.Height) != side {
			t.Errorf("%s: %s %dx%d, %v; want a JPEG whose longer side is %d", what, format, cfg.Width, cfg.Height, err, side)
		}
	}

	resp, body := get(film.Artwork)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("GET %s: %s %q", film.Artwork, resp.Status, resp.Header.Get("Content-Type"))
	}
	checkJPEG("poster", body, 320)
	etag := resp.Header.Get("ETag")
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") || etag == "" {
		t.Errorf("a versioned thumbnail: Cache-Control %q, ETag %q", cc, etag)
	}
	if resp, _ := get(film.Artwork, "If-None-Match", etag); resp.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation: %s, want 304", resp.Status)
	}
	// Without the version (or with an old one), the browser revalidates.
	resp, _ = get("/thumbs/Movies/Film-poster.jpg?v=0123")
	if cc := resp.Header.Get("Cache-Control"); resp.StatusCode != 200 || cc != "no-cache" {
		t.Errorf("an unversioned thumbnail: %s, Cache-Control %q", resp.Status, cc)
	}
	resp, body = get("/thumbs/Movies/Film-poster.jpg?size=160")
	if resp.StatusCode != 200 || resp.Header.Get("ETag") == etag {
		t.Errorf("size 160: %s, ETag %q (the 320's %q)", resp.Status, resp.Header.Get("ETag"), etag)
	}
	checkJPEG("size 160", body, 160)
	_, body = get("/thumbs/Movies/Film-poster.jpg?size=640")
	checkJPEG("size 640 of a 400x600 poster", body, 600)

	// An embedded cover, a photo, a folder's poster.
	song, _ := e.item("Music/01 Song.mp3")
	resp, body = get(song.Artwork)
	if resp.StatusCode != 200 {
		t.Errorf("cover: %s", resp.Status)
	}
	checkJPEG("cover", body, 300)
	pic, _ := e.item("pic.png")
	_, body = get(pic.Artwork)
	checkJPEG("photo", body, 320)

	for url, want := range map[string]int{
		"/thumbs/Movies/Film-poster.jpg?size=1000": http.StatusBadRequest,
		"/thumbs/Movies/Film-poster.jpg?size=x":    http.StatusBadRequest,
		"/thumbs/Movies/notes.txt":                 http.StatusNotFound,
		"/thumbs/Movies/photo.jpg":                 http.StatusNotFound, // not a picture inside
		"/thumbs/Movies/Music/02%20Bare.mp3":       http.StatusNotFound, // no cover
		"/thumbs/Movies/Film.webm":                 http.StatusNotFound, // no frame grabs
		"/thumbs/Movies/.hidden.mkv":               http.StatusNotFound,
		"/thumbs/Movies/escape/secret.txt":         http.StatusNotFound,
		"/thumbs/Movies/sub":                       http.StatusNotFound,
		"/thumbs/Movies":                           http.StatusNotFound,
		"/thumbs/Nope/x.jpg":                       http.StatusNotFound,
	} {
		if resp, _ := get(url); resp.StatusCode != want {
			t.Errorf("GET %s: %s, want %d", url, resp.Status, want)
		}
	}
	if st := e.thumbs.Stats(); st.Made < 5 || st.Hits < 1 {
		t.Errorf("thumbnail cache: %+v", st)
	}
}

func TestThumbsVideoFrames(t *testing.T) {
	ffmpeg := testtool.Need(t, "ffmpeg")
	e := newMediaServer(t, func(s *Server) {
		s.Thumbs.(*thumb.Cache).FFmpeg = ffmpeg
	})
	// A video with no artwork of its own gets a frame; the film keeps its poster.
	e.run("-f", "lavfi", "-i", "testsrc2=duration=3:size=160x120:rate=10", "-c:v", "libvpx", "-deadline", "realtime", filepath.Join(e.media, "Movies", "Show", "clip.webm"))
	var clip *Item
	waitFor(t, "the clip's details", func() bool {
		clip, _ = e.item("Show/clip.webm")
		return clip != nil && clip.DetailsKnown
	})
	// Show/ holds two videos (ep.mkv, clip.webm): the folder's poster is
	// not the clip's, so it gets a frame.
	if !strings.HasPrefix(clip.Artwork, "/thumbs/Movies/Show/clip.webm?") {
		t.Fatalf("clip artwork %q", clip.Artwork)
	}
	resp, body := e.do("GET", clip.Artwork, "")
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s %s", clip.Artwork, resp.Status, body)
	}
	if cfg, format, err := image.DecodeConfig(strings.NewReader(body)); err != nil || format != "jpeg" || cfg.Width > 320 || cfg.Width*3 != cfg.Height*4 {
		t.Errorf("frame: %s %dx%d %v", format, cfg.Width, cfg.Height, err)
	}
	if st := e.thumbs.Stats(); st.Frames != 1 {
		t.Errorf("frames grabbed: %d", st.Frames)
	}
	if film, _ := e.item("Film.webm"); film == nil || !strings.HasPrefix(film.Artwork, "/thumbs/Movies/Film-poster.jpg?") {
		t.Errorf("the film with a poster: %+v", film)
	}
}

func TestPositionsAPI(t *testing.T) {
	e := newMediaServer(t)
	const url = "/api/positions/Movies/Film.webm"
	same := []string{"Origin", e.ts.URL, "Sec-Fetch-Site", "same-origin"}
	stored := func() time.Duration {
		pos, _, _ := e.store.Position("Movies", "Film.webm")
		return pos
	}

	// A position is not an admin action: no login, no CSRF token.
	if resp, body := e.do("PUT", url, `{"seconds": 42.5}`, same...); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("PUT %s: %s %s", url, resp.Status, body)
	}
	if got := stored(); got != 42500*time.Millisecond {
		t.Errorf("stored %v, want 42.5s", got)
	}
	if it, _ := e.item("Film.webm"); it.PositionSeconds != 42.5 {
		t.Errorf("position_seconds %v", it.PositionSeconds)
	}
	// What DLNA keeps (a Samsung bookmark) is what the player resumes at.
	if err := e.store.SetPosition("Movies", "Film.webm", 7*time.Second, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, body := e.do("GET", "/play/Movies/Film.webm", ""); !strings.Contains(body, `data-position="7"`) {
		t.Errorf("the player does not resume at the bookmark:\n%s", body)
	}

	tests := []struct {
		name, url, body string
		headers         []string
		code            int
	}{
		{"another site by Origin", url, `{"seconds": 1}`, []string{"Origin", "http://evil.example"}, http.StatusForbidden},
		{"another site by Sec-Fetch-Site", url, `{"seconds": 1}`, []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"DNS rebinding", url, `{"seconds": 1}`, []string{"Host", "attacker.com"}, http.StatusForbidden},
		{"a form's content type", url, `{"seconds": 1}`, []string{"Origin", e.ts.URL, "Content-Type", "text/plain"}, http.StatusUnsupportedMediaType},
		{"not JSON", url, `seconds=1`, same, http.StatusBadRequest},
		{"unknown field", url, `{"seconds": 1, "x": 2}`, same, http.StatusBadRequest},
		{"negative", url, `{"seconds": -1}`, same, http.StatusBadRequest},
		{"too far", url, `{"seconds": 1e9}`, same, http.StatusBadRequest},
		{"huge number", url, `{"seconds": 1e999}`, same, http.StatusBadRequest},
		{"too long", url, `{"seconds": 1, "pad": "` + strings.Repeat("x", 5000) + `"}`, same, http.StatusRequestEntityTooLarge},
		{"hidden file", "/api/positions/Movies/.hidden.mkv", `{"seconds": 1}`, same, http.StatusNotFound},
		{"outside the share", "/api/positions/Movies/escape/secret.txt", `{"seconds": 1}`, same, http.StatusNotFound},
		{"not media", "/api/positions/Movies/notes.txt", `{"seconds": 1}`, same, http.StatusNotFound},
		{"a folder", "/api/positions/Movies/sub", `{"seconds": 1}`, same, http.StatusNotFound},
		{"a share", "/api/positions/Movies", `{"seconds": 1}`, same, http.StatusNotFound},
		{"no such file", "/api/positions/Movies/gone.mkv", `{"seconds": 1}`, same, http.StatusNotFound},
		{"GET", url, ``, same, http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		method := "PUT"
		if tt.name == "GET" {
			method = "GET"
		}
		resp, body := e.do(method, tt.url, tt.body, tt.headers...)
		if resp.StatusCode != tt.code {
			t.Errorf("%s: %s %s, want %d", tt.name, resp.Status, body, tt.code)
		}
		if got := stored(); got != 7*time.Second {
			t.Fatalf("%s: the position changed to %v", tt.name, got)
		}
	}
	if _, ok := func() (time.Duration, bool) { p, _, ok := e.store.Position("Movies", "notes.txt"); return p, ok }(); ok {
		t.Error("a position was kept for a refused file")
	}

	// 0 removes it (watched to the end, or "Start over").
	if resp, _ := e.do("PUT", url, `{"seconds": 0}`, same...); resp.StatusCode != http.StatusNoContent {
		t.Errorf("PUT 0: %s", resp.Status)
	}
	if _, _, ok := e.store.Position("Movies", "Film.webm"); ok {
		t.Error("PUT 0 left the position")
	}
	// A song has a position too.
	if resp, _ := e.do("PUT", "/api/positions/Movies/Music/01%20Song.mp3", `{"seconds": 0.5}`, same...); resp.StatusCode != http.StatusNoContent {
		t.Errorf("PUT a song's position: %s", resp.Status)
	}
}

func TestSubtitlesRoute(t *testing.T) {
	e := newMediaServer(t)
	mustWrite(t, filepath.Join(e.media, "Movies", "bad.srt"), "no cues in here")
	mustWrite(t, filepath.Join(e.media, "Movies", ".hidden.srt"), "1\n00:00:01,000 --> 00:00:02,000\nx\n")

	resp, body := e.do("GET", "/subtitles/Movies/Film.en.srt", "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/vtt; charset=utf-8" {
		t.Fatalf("GET the SRT: %s %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	if want := "WEBVTT\n\n00:00:00.500 --> 00:00:09.500\n<i>Hello</i> from the test\n\n"; body != want {
		t.Errorf("SRT as WebVTT:\n%q\nwant\n%q", body, want)
	}
	if resp, _ := e.do("GET", "/subtitles/Movies/Film.en.srt", "", "If-None-Match", resp.Header.Get("ETag")); resp.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation: %s", resp.Status)
	}
	_, body = e.do("GET", "/subtitles/Movies/Film.fr.forced.ass", "")
	if want := "WEBVTT\n\n00:00:01.000 --> 00:00:02.000 line:0\nBonjour\n\n"; body != want {
		t.Errorf("ASS as WebVTT:\n%q\nwant\n%q", body, want)
	}
	for url, want := range map[string]int{
		"/subtitles/Movies/bad.srt":           http.StatusUnprocessableEntity,
		"/subtitles/Movies/.hidden.srt":       http.StatusNotFound,
		"/subtitles/Movies/notes.txt":         http.StatusNotFound,
		"/subtitles/Movies/film.mkv":          http.StatusNotFound,
		"/subtitles/Movies/escape/secret.srt": http.StatusNotFound,
		"/subtitles/Movies/none.srt":          http.StatusNotFound,
	} {
		if resp, _ := e.do("GET", url, ""); resp.StatusCode != want {
			t.Errorf("GET %s: %s, want %d", url, resp.Status, want)
		}
	}
}

func TestPlayerPage(t *testing.T) {
	e := newMediaServer(t)
	resp, body := e.do("GET", "/play/Movies/Film.webm", "")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /play/Movies/Film.webm: %s", resp.Status)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "media-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("player CSP %q", csp)
	}
	for _, want := range []string{
		`<video id="player" controls preload="metadata" playsinline src="/files/Movies/Film.webm" poster="/thumbs/Movies/Film-poster.jpg?size=640&amp;v=`,
		`data-position="0" data-position-url="/api/positions/Movies/Film.webm"`,
		`<track kind="subtitles" src="/subtitles/Movies/Film.en.srt" label="EN" srclang="en" default>`,
		`<track kind="subtitles" src="/subtitles/Movies/Film.fr.forced.ass" label="FR forced" srclang="fr">`,
		`<span class="duration">0:10</span>`, `<span class="resolution">320×240</span>`, `<a href="/files/Movies/">back to the folder</a>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the player page lacks %s", want)
		}
	}
	_, body = e.do("GET", "/play/Movies/Music/01%20Song.mp3", "")
	if !strings.Contains(body, `<audio id="player"`) || !strings.Contains(body, "Artist · Album · track 3") || !strings.Contains(body, "<h1>A Song</h1>") {
		t.Errorf("the song's player:\n%s", body)
	}
	if resp, _ := e.do("GET", "/play/Movies/notes.txt", ""); resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/files/Movies/notes.txt" {
		t.Errorf("playing a text file: %s to %q", resp.Status, resp.Header.Get("Location"))
	}
	for _, p := range []string{"/play/Movies/.hidden.mkv", "/play/Movies/escape/secret.txt", "/play/Nope/x.mkv"} {
		if resp, _ := e.do("GET", p, ""); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %s, want 404", p, resp.Status)
		}
	}
}

func TestFolderViewDetails(t *testing.T) {
	e := newMediaServer(t)
	_, body := e.do("GET", "/files/Movies/", "")
	for _, want := range []string{
		`<a class="name" href="/play/Movies/Film.webm">Film.webm</a>`,
		`<img src="/thumbs/Movies/Film-poster.jpg?size=320&amp;v=`,
		`<span class="duration">0:10</span><span class="resolution">320×240</span><span class="subs">Subtitles EN, FR</span>`,
		`<img src="/thumbs/Movies/Show/poster.jpg?size=320&amp;v=`,
		`<img src="/thumbs/Movies/pic.png?size=320&amp;v=`,
		`<span class="resolution">640×480</span>`,
		`href="./Film.webm">file</a>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the folder view lacks %s", want)
		}
	}
	_, body = e.do("GET", "/files/Movies/Music/", "")
	for _, want := range []string{
		`<span class="title">A Song</span><span class="music">Artist · Album · track 3</span><span class="duration">0:01</span>`,
		`<img src="/thumbs/Movies/Music/01%20Song.mp3?size=320&amp;v=`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the music folder lacks %s", want)
		}
	}
	if strings.Contains(body, "/thumbs/Movies/Music/02%20Bare.mp3") {
		t.Error("a song without cover art has a picture")
	}
}

// fakeDetails is a Details whose progress a test sets.
type fakeDetails struct{ progress library.DetailsProgress }

func (f *fakeDetails) Of(string, string, library.Entry) (probe.Details, bool) {
	return probe.Details{}, false
}
func (f *fakeDetails) Progress() library.DetailsProgress { return f.progress }

func TestStatusDetails(t *testing.T) {
	d := &fakeDetails{progress: library.DetailsProgress{Running: true, Checked: 4210, Total: 10000, Probed: 17}}
	e := newTestServer(t, func(s *Server) { s.Details = d })
	st := e.status()
	if want := (DetailsStatus{Enabled: true, DetailsProgress: d.progress}); st.Details != want {
		t.Errorf("details %+v, want %+v", st.Details, want)
	}
	_, body := e.do("GET", "/api/status", "")
	if !strings.Contains(body, `"details":{"enabled":true,"running":true,"checked":4210,"total":10000,"probed":17}`) {
		t.Errorf("/api/status JSON: %s", body)
	}
	_, body = e.do("GET", "/", "")
	if !strings.Contains(body, "Reading media details: 4,210 of 10,000") {
		t.Error("the page does not show the details' progress")
	}
}

// TestFolderViewBigFolder lists a folder too big to match each file
// against all its names (see siblings): every episode still gets its own
// picture and its subtitles, beside it and in the Subs folder, as in a
// small folder.
func TestFolderViewBigFolder(t *testing.T) {
	e := newTestServer(t, func(s *Server) { s.Thumbs = &thumb.Cache{Dir: t.TempDir()} })
	big := filepath.Join(e.media, "Movies", "Big")
	const n = 300
	for i := range n {
		ep := fmt.Sprintf("Show S01E%03d", i)
		mustWrite(t, filepath.Join(big, ep+".mkv"), "x")
		mustWrite(t, filepath.Join(big, ep+".en.srt"), "x")
		mustWrite(t, filepath.Join(big, ep+"-thumb.jpg"), "x")
		mustWrite(t, filepath.Join(big, "Subs", ep+".de.srt"), "x")
	}
	mustWrite(t, filepath.Join(big, "fanart.jpg"), "x")
	waitFor(t, "the big folder indexed", func() bool {
		_, total, err := e.set.Children("Movies", "Big", library.AllFiles, 0, 1)
		_, subs, err2 := e.set.Children("Movies", "Big/Subs", library.AllFiles, 0, 1)
		return err == nil && err2 == nil && total == 3*n+2 && subs == n
	})
	if 3*n+2 <= wholeFolder {
		t.Fatal("the folder is not big enough to test matching near each file")
	}
	_, body := e.do("GET", "/files/Movies/Big/", "")
	if got := strings.Count(body, "Subtitles DE, EN"); got != n {
		t.Errorf("%d episodes with both subtitles, want %d", got, n)
	}
	for _, i := range []int{0, 1, n / 2, n - 1} {
		ep := fmt.Sprintf("Show S01E%03d", i)
		if want := `<img src="/thumbs/Movies/Big/` + escapePath(ep+"-thumb.jpg") + `?size=320&amp;v=`; !strings.Contains(body, want) {
			t.Errorf("%s has not its own picture", ep)
		}
		it, _ := e.item("Big/" + ep + ".mkv")
		if it == nil || len(it.Subtitles) != 2 || it.Subtitles[0].Path != "Big/Subs/"+ep+".de.srt" || it.Subtitles[1].Path != "Big/"+ep+".en.srt" ||
			!strings.HasPrefix(it.Artwork, "/thumbs/Movies/Big/"+escapePath(ep)+"-thumb.jpg?") {
			t.Errorf("%s: %+v", ep, it)
		}
	}
}
