package dlna

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
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
	"github.com/mediaftpd/mediaftpd/library/thumb"
)

// TestFrameThumbnails: with frame grabs on, a video without artwork is
// offered a thumbnail (upnp:albumArtURI and a JPEG_TN res) that a GET
// makes from a frame with the real ffmpeg, and Browse itself runs no
// ffmpeg; a video with a poster keeps its poster; a file ffmpeg finds no
// frame in answers 404 and is no longer offered one. With frame grabs
// off, a video without artwork has no thumbnail.
func TestFrameThumbnails(t *testing.T) {
	ffmpeg := testtool.Need(t, "ffmpeg")
	clip := filepath.Join(t.TempDir(), "clip.mp4")
	if out, err := exec.Command(ffmpeg, "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=1",
		"-t", "3", "-pix_fmt", "yuv420p", clip).CombinedOutput(); err != nil {
		t.Fatalf("making the clip: %v: %s", err, out)
	}
	video, err := os.ReadFile(clip)
	if err != nil {
		t.Fatal(err)
	}
	var poster bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 100, 100))
	for i := range img.Pix {
		img.Pix[i] = 0xff // white
	}
	if err := jpeg.Encode(&poster, img, nil); err != nil {
		t.Fatal(err)
	}
	// Two videos in the folder: its poster.jpg would be neither's.
	files := []fakeFile{
		{share: "V", path: "Clips/Clip.mp4", data: string(video)},
		{share: "V", path: "Clips/Film.mp4", data: string(video)},
		{share: "V", path: "Clips/Film-poster.jpg", data: poster.String()},
		{share: "V", path: "Clips/Broken.mkv", data: "not a video at all"},
	}
	details := &fakeDetails{m: map[string]probe.Details{
		"V/Clips/Clip.mp4": {Container: "mov,mp4,m4a,3gp,3g2,mj2", Duration: 3 * time.Second, Width: 320, Height: 240},
	}}
	const (
		clipID   = "0/V/Clips/Clip.mp4"
		filmID   = "0/V/Clips/Film.mp4"
		brokenID = "0/V/Clips/Broken.mkv"
	)

	get := func(t *testing.T, url string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("getcontentFeatures.dlna.org", "1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, body
	}
	// listing returns the folder's objects by ID.
	listing := func(t *testing.T, ts *testServer) map[string]didlObj {
		t.Helper()
		r := browse(t, ts.base, "0/V/Clips", "BrowseDirectChildren", 0, 0, "")
		objs := map[string]didlObj{}
		for _, o := range r.objects {
			objs[o.ID] = o
		}
		if len(objs) != 4 {
			t.Fatalf("listing: %v", titles(r.objects))
		}
		return objs
	}
	// art returns the object's albumArtURI, checking that a JPEG_TN res
	// says the same; "" for none.
	art := func(t *testing.T, o didlObj) string {
		t.Helper()
		var res []string
		for _, r := range o.Res {
			if strings.Contains(r.ProtocolInfo, "DLNA.ORG_PN=JPEG_TN") {
				res = append(res, r.URL)
			}
		}
		switch {
		case len(o.AlbumArt) == 0 && len(res) == 0:
			return ""
		case len(o.AlbumArt) != 1 || len(res) != 1 || o.AlbumArt[0].ProfileID != "JPEG_TN" || res[0] != o.AlbumArt[0].URL:
			t.Fatalf("%s: albumArtURI %+v, JPEG_TN res %q", o.Title, o.AlbumArt, res)
		}
		return o.AlbumArt[0].URL
	}
	// jpegOf checks that the answer to a GET of url is a JPEG_TN and
	// returns it decoded.
	jpegOf := func(t *testing.T, url string) image.Image {
		t.Helper()
		resp, body := get(t, url)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/jpeg" ||
			!strings.Contains(resp.Header.Get("contentFeatures.dlna.org"), "DLNA.ORG_PN=JPEG_TN") {
			t.Fatalf("%s: %s %v", resp.Request.URL, resp.Status, resp.Header)
		}
		img, format, err := image.Decode(bytes.NewReader(body))
		if err != nil || format != "jpeg" {
			t.Fatalf("%s: %q, %v", resp.Request.URL, format, err)
		}
		return img
	}

	t.Run("on", func(t *testing.T) {
		thumbs := &thumb.Cache{Dir: t.TempDir(), FFmpeg: ffmpeg}
		ts := newTestServer(t, &Server{Content: newFake(t, true, files...), Details: details, Thumbs: thumbs})
		objs := listing(t, ts)
		clipArt, filmArt, brokenArt := art(t, objs[clipID]), art(t, objs[filmID]), art(t, objs[brokenID])
		if clipArt == "" || filmArt == "" || brokenArt == "" {
			t.Fatalf("album art: clip %q, film %q, broken %q", clipArt, filmArt, brokenArt)
		}
		if st := thumbs.Stats(); st.Frames != 0 || st.Made != 0 {
			t.Errorf("Browse made thumbnails: %+v", st)
		}

		// The clip's thumbnail is its frame: 4:3, at most 160 pixels.
		frame := jpegOf(t, clipArt)
		if b := frame.Bounds(); b.Dx() != 160 || b.Dy() != 120 {
			t.Errorf("frame %v, want 160x120", b)
		}
		if st := thumbs.Stats(); st.Frames != 1 {
			t.Errorf("frames grabbed: %+v", st)
		}
		// Again: from the cache.
		jpegOf(t, clipArt)
		if st := thumbs.Stats(); st.Frames != 1 || st.Hits < 1 {
			t.Errorf("again: %+v", st)
		}

		// The film's is its white 100x100 poster, not a frame.
		poster := jpegOf(t, filmArt)
		if b := poster.Bounds(); b.Dx() != 100 || b.Dy() != 100 {
			t.Errorf("poster %v, want 100x100", b)
		}
		if r, g, b, _ := color.GrayModel.Convert(poster.At(50, 50)).RGBA(); r>>8 < 240 || g>>8 < 240 || b>>8 < 240 {
			t.Errorf("the film's thumbnail is not its white poster")
		}
		l, err := ts.lookup(mustParse(t, filmID))
		if err != nil {
			t.Fatal(err)
		}
		ts.itemExtras(&l, extras{art: true})
		if l.art.kind != artFile || l.art.path != "Clips/Film-poster.jpg" {
			t.Errorf("film art %+v", l.art)
		}

		// No frame in the broken file: 404, and later listings and its
		// metadata no longer offer it.
		if resp, _ := get(t, brokenArt); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %s, want 404", brokenArt, resp.Status)
		}
		failed := thumbs.Stats().Failed
		if failed == 0 {
			t.Errorf("the broken file's grab is not counted as failed: %+v", thumbs.Stats())
		}
		objs = listing(t, ts)
		if a := art(t, objs[brokenID]); a != "" {
			t.Errorf("broken still offered %q", a)
		}
		if art(t, objs[clipID]) != clipArt {
			t.Errorf("clip no longer offered")
		}
		if m := browse(t, ts.base, brokenID, "BrowseMetadata", 0, 0, ""); len(m.objects) != 1 || art(t, m.objects[0]) != "" {
			t.Errorf("broken metadata %+v", m.objects)
		}
		if resp, _ := get(t, brokenArt); resp.StatusCode != http.StatusNotFound || thumbs.Stats().Failed != failed {
			t.Errorf("GET %s again: %s, stats %+v", brokenArt, resp.Status, thumbs.Stats())
		}
	})

	t.Run("off", func(t *testing.T) {
		thumbs := &thumb.Cache{Dir: t.TempDir()}
		ts := newTestServer(t, &Server{Content: newFake(t, true, files...), Details: details, Thumbs: thumbs})
		objs := listing(t, ts)
		if a, b := art(t, objs[clipID]), art(t, objs[brokenID]); a != "" || b != "" {
			t.Errorf("frames off: clip %q, broken %q", a, b)
		}
		filmArt := art(t, objs[filmID])
		if filmArt == "" {
			t.Fatal("frames off: the film lost its poster")
		}
		if b := jpegOf(t, filmArt).Bounds(); b.Dx() != 100 {
			t.Errorf("poster %v", b)
		}
		// The clip's thumbnail URL, asked anyway, is no picture.
		if resp, _ := get(t, ts.base+"/t/V/Clips/Clip.mp4.jpg"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("frames off: GET of the clip's thumbnail: %s", resp.Status)
		}
		if st := thumbs.Stats(); st.Frames != 0 {
			t.Errorf("frames off: %+v", st)
		}
	})
}

// TestThumbKey: the keys of thumbnails kept on disk stay what they were
// when thumbKey used fmt.Sprintf, and a frame's key takes one allocation.
func TestThumbKey(t *testing.T) {
	for _, e := range []library.Entry{
		{Size: 1 << 40, ModTime: testTime, Ino: 1<<64 - 1},
		{Size: 0, ModTime: time.Unix(0, -5), Ino: 0},
		{Size: 123, ModTime: time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		got := thumbKey("frame", "My Films", "Kids/Cartoon \x00.mp4", e)
		want := fmt.Sprintf("dlna\x00%s\x00%s\x00%s\x00%d\x00%d\x00%d", "frame", "My Films", "Kids/Cartoon \x00.mp4", e.Size, e.ModTime.UnixNano(), e.Ino)
		if got != want {
			t.Errorf("thumbKey = %q, want %q", got, want)
		}
	}
	e := library.Entry{Size: 1 << 40, ModTime: testTime, Ino: 1<<64 - 1}
	if n := testing.AllocsPerRun(100, func() { frameKey("TV", "Big/Show S01 E001 - An Episode Title 1.mkv", e) }); n != 1 {
		t.Errorf("frameKey: %v allocations", n)
	}
}
