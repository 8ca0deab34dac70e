package dlna

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/library"
	"github.com/mediaftpd/mediaftpd/library/probe"
	"github.com/mediaftpd/mediaftpd/library/store"
	"github.com/mediaftpd/mediaftpd/library/thumb"
)

// bigFolder returns a fake with one share holding a folder of n videos,
// a few of them with subtitles.
func bigFolder(t testing.TB, n int) *fakeContent {
	files := make([]fakeFile, 0, n)
	for i := range n {
		files = append(files, fakeFile{share: "TV", path: fmt.Sprintf("Big/Show S%02d E%03d - An Episode Title %d.mkv", i/100, i%100, i), size: 1 << 30})
		if i%100 == 0 {
			files = append(files, fakeFile{share: "TV", path: fmt.Sprintf("Big/Show S%02d E%03d - An Episode Title %d.srt", i/100, i%100, i), size: 100})
		}
	}
	return newFake(t, false, files...)
}

// TestBrowsePageCost checks that a page of a big folder in the default
// order reads a page's worth of entries, not the folder.
func TestBrowsePageCost(t *testing.T) {
	f := bigFolder(t, 10000)
	ts := newTestServer(t, &Server{Content: f})
	for _, ua := range []string{"", samsungUA} {
		f.fetched.Store(0)
		r := browseCall(t, ts.base, hdr("User-Agent", ua), "ObjectID", "0/TV/Big", "BrowseFlag", "BrowseDirectChildren",
			"Filter", "*", "StartingIndex", "5000", "RequestedCount", "50", "SortCriteria", "")
		if r.returned != 50 || r.total != 10000 {
			t.Fatalf("returned %d of %d", r.returned, r.total)
		}
		// The page, and for each video a binary search (15 entries for
		// 10,100) and the entries around it for subtitles: a page's worth
		// of work, not the folder's 10,100 entries.
		if n := f.fetched.Load(); n > 50+1+50*(15+2*subtitleMargin+1) {
			t.Errorf("User-Agent %q: a page of 50 read %d entries", ua, n)
		}
	}
	// BrowseMetadata of one video reads O(log n) entries for its subtitles.
	f.fetched.Store(0)
	r := browseCall(t, ts.base, hdr("User-Agent", samsungUA), "ObjectID", "0/TV/Big/Show%20S50%20E000%20-%20An%20Episode%20Title%205000.mkv", "BrowseFlag", "BrowseMetadata", "Filter", "*")
	if len(r.objects) != 1 || len(r.objects[0].CaptionInfo) != 1 {
		t.Fatalf("metadata %+v", r.objects)
	}
	if n := f.fetched.Load(); n > 40+2*subtitleMargin+1 {
		t.Errorf("BrowseMetadata of one video read %d entries", n)
	}
}

// benchBrowse posts a Browse of the big folder, as a Samsung asks, b.N
// times and reads each answer whole.
func benchBrowse(b *testing.B, start, count int, withDetails bool) {
	f := bigFolder(b, 10000)
	srv := &Server{Content: f}
	if withDetails {
		srv.Details, srv.Thumbs = storeDetails(b, f, "TV", "Big"), &thumb.Cache{Dir: b.TempDir()}
	}
	ts := newTestServer(b, srv)
	body := envStart + `<u:Browse xmlns:u="` + cdsType + `"><ObjectID>0/TV/Big</ObjectID><BrowseFlag>BrowseDirectChildren</BrowseFlag>` +
		`<Filter>*</Filter><StartingIndex>` + strconv.Itoa(start) + `</StartingIndex><RequestedCount>` + strconv.Itoa(count) +
		`</RequestedCount><SortCriteria></SortCriteria></u:Browse>` + envEnd
	client := &http.Client{}
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest("POST", ts.base+"/control/ContentDirectory", strings.NewReader(body))
		req.Header.Set("SOAPACTION", `"`+cdsType+`#Browse"`)
		req.Header.Set("User-Agent", samsungUA)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || n < 1000 {
			b.Fatalf("%d %v, %d bytes", resp.StatusCode, err, n)
		}
	}
}

// BenchmarkBrowsePage is a TV paging through a 10,000-item folder: a page
// of 50 at StartingIndex 5,000, over HTTP on loopback.
func BenchmarkBrowsePage(b *testing.B) { benchBrowse(b, 5000, 50, false) }

// BenchmarkBrowseAll is the same folder with RequestedCount 0.
func BenchmarkBrowseAll(b *testing.B) { benchBrowse(b, 0, 0, false) }

// BenchmarkBrowsePageDetails is BenchmarkBrowsePage with every video's
// details in a store and album art looked for.
func BenchmarkBrowsePageDetails(b *testing.B) { benchBrowse(b, 5000, 50, true) }

// BenchmarkBrowseAllDetails is BenchmarkBrowseAll with details and art.
func BenchmarkBrowseAllDetails(b *testing.B) { benchBrowse(b, 0, 0, true) }

// storeDetails returns a Details reading a store that holds a typical
// film's details for every file of the folder dir of the share.
func storeDetails(b *testing.B, f *fakeContent, share, dir string) Details {
	st := openStore(b, b.TempDir())
	entries, _, err := f.Children(share, dir, library.AllFiles, 0, 0)
	if err != nil {
		b.Fatal(err)
	}
	d := probe.Details{Container: "matroska", Duration: 42 * time.Minute, Width: 1920, Height: 1080, VideoCodec: "h264",
		AudioCodec: "eac3", Bitrate: 6_000_000, Channels: 6, SampleRate: 48000}
	for _, e := range entries {
		if err := st.PutDetails(share, joinRel(dir, e.Name), stampOf(e), d); err != nil {
			b.Fatal(err)
		}
	}
	if err := st.Flush(); err != nil {
		b.Fatal(err)
	}
	return &library.Prober{Store: st}
}

func stampOf(e library.Entry) store.Stamp {
	return store.Stamp{Size: e.Size, ModTime: e.ModTime.UnixNano(), Ino: e.Ino}
}

// BenchmarkBrowseLibrary posts Browses of a page of 50 at 5,000 (and of
// the whole folder: "all-") of a folder of 10,000 videos (and 100
// subtitles) indexed by a real library.Set, as a Samsung asks: "plain"
// without details, "details" with every video's details in a store and
// album art looked for, so the two can be compared in one run; "frames"
// is "details" with frame grabs on (ffmpeg installed), where every video
// is offered a frame as its thumbnail (none is grabbed: Browse only
// offers them).
func BenchmarkBrowseLibrary(b *testing.B) {
	dir := b.TempDir()
	big := filepath.Join(dir, "Big")
	if err := os.Mkdir(big, 0o755); err != nil {
		b.Fatal(err)
	}
	for i := range 10000 {
		name := fmt.Sprintf("Show S%02d E%03d - An Episode Title %d", i/100, i%100, i)
		os.WriteFile(filepath.Join(big, name+".mkv"), nil, 0o644)
		if i%100 == 0 {
			os.WriteFile(filepath.Join(big, name+".srt"), nil, 0o644)
		}
	}
	// And 10,000 songs, as cmd/mediaftpd's BenchmarkDLNABrowse has them.
	music := filepath.Join(dir, "Music")
	if err := os.Mkdir(music, 0o755); err != nil {
		b.Fatal(err)
	}
	for i := range 10000 {
		os.WriteFile(filepath.Join(music, fmt.Sprintf("Track %d.mp3", i+1)), nil, 0o644)
	}
	set, err := library.NewSet(library.Share{Name: "TV", Path: dir})
	if err != nil {
		b.Fatal(err)
	}
	set.Logger = slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- set.Run(ctx) }()
	b.Cleanup(func() { cancel(); <-done })
	for {
		e, err1 := set.Entry("TV", "Big", library.MediaFiles)
		m, err2 := set.Entry("TV", "Music", library.MediaFiles)
		if err1 == nil && err2 == nil && e.Children == 10000 && m.Children == 10000 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	st := openStore(b, b.TempDir())
	entries, _, _ := set.Children("TV", "Big", library.MediaFiles, 0, 0)
	d := probe.Details{Container: "matroska", Duration: 42 * time.Minute, Width: 1920, Height: 1080, Bitrate: 6_000_000, Channels: 6, SampleRate: 48000}
	for _, e := range entries {
		st.PutDetails("TV", "Big/"+e.Name, stampOf(e), d)
	}
	songs, _, _ := set.Children("TV", "Music", library.MediaFiles, 0, 0)
	for i, e := range songs {
		song := probe.Details{Container: "mp3", Duration: 3*time.Minute + time.Duration(i)*time.Millisecond, Bitrate: 320_000, Channels: 2, SampleRate: 44100,
			AudioCodec: "mp3", Title: fmt.Sprintf("Song number %d", i), Artist: "An Artist", Album: "An Album", Track: i%20 + 1}
		st.PutDetails("TV", "Music/"+e.Name, stampOf(e), song)
	}
	st.Flush()
	plain := newTestServer(b, &Server{Content: set})
	details := newTestServer(b, &Server{Content: set, Details: &library.Prober{Store: st}, Thumbs: &thumb.Cache{Dir: b.TempDir()}})
	var frames *testServer
	if _, err := exec.LookPath("ffmpeg"); err == nil {
		frames = newTestServer(b, &Server{Content: set, Details: &library.Prober{Store: st}, Thumbs: &thumb.Cache{Dir: b.TempDir(), FFmpeg: "ffmpeg"}})
	}
	browseBody := func(id string, start, count int) string {
		return envStart + `<u:Browse xmlns:u="` + cdsType + `"><ObjectID>` + id + `</ObjectID><BrowseFlag>BrowseDirectChildren</BrowseFlag>` +
			`<Filter>*</Filter><StartingIndex>` + strconv.Itoa(start) + `</StartingIndex><RequestedCount>` + strconv.Itoa(count) +
			`</RequestedCount><SortCriteria></SortCriteria></u:Browse>` + envEnd
	}
	body := func(start, count int) string { return browseBody("0/TV/Big", start, count) }
	client := &http.Client{}
	browse := func(b *testing.B, ts *testServer, body string) {
		req, _ := http.NewRequest("POST", ts.base+"/control/ContentDirectory", strings.NewReader(body))
		req.Header.Set("SOAPACTION", `"`+cdsType+`#Browse"`)
		req.Header.Set("User-Agent", samsungUA)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || n < 1000 {
			b.Fatalf("%d %v, %d bytes", resp.StatusCode, err, n)
		}
	}
	for _, bc := range []struct {
		name string
		ts   *testServer
		body string
	}{
		{"plain", plain, body(5000, 50)}, {"details", details, body(5000, 50)},
		{"all-plain", plain, body(0, 0)}, {"all-details", details, body(0, 0)},
		{"music-all-details", details, browseBody("0/TV/Music", 0, 0)},
		{"frames", frames, body(5000, 50)}, {"all-frames", frames, body(0, 0)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			if bc.ts == nil {
				b.Skip("ffmpeg is not installed")
			}
			b.ReportAllocs()
			for b.Loop() {
				browse(b, bc.ts, bc.body)
			}
		})
	}
}

// BenchmarkWriteDIDL writes the DIDL-Lite of a page of 10,000 songs with
// their details, as a Browse with RequestedCount 0 of the folder that
// cmd/mediaftpd's BenchmarkDLNABrowse lists: the writing alone, without
// the index, the store or HTTP (BenchmarkBrowseLibrary has those).
func BenchmarkWriteDIDL(b *testing.B) {
	const n = 10000
	page := make([]listed, n)
	when := time.Date(2024, 5, 1, 12, 30, 0, 0, time.UTC)
	for i := range page {
		name := fmt.Sprintf("Track %d.mp3", i+1)
		l := listedPath(pathObject("Media", "Big/"+name), library.Entry{Name: name, Size: 4_000_000 + int64(i), ModTime: when.Add(time.Duration(i) * time.Second)})
		l.details = probe.Details{Container: "mp3", Duration: 3*time.Minute + time.Duration(i)*time.Millisecond, Bitrate: 320_000,
			Channels: 2, SampleRate: 44100, AudioCodec: "mp3", Title: fmt.Sprintf("Song number %d", i), Artist: "An Artist", Album: "An Album", Track: i%20 + 1}
		l.hasDetails, l.looked = true, true
		l.title = l.details.Title
		page[i] = l
	}
	srv := &Server{}
	size := 0
	b.ReportAllocs()
	for b.Loop() {
		d := &didlWriter{filter: parseFilter("*"), loc: time.UTC, urls: newURLBases("http://192.168.1.20:8200")}
		d.begin()
		srv.writeObjects(d, page)
		size = len(d.escaped())
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/item")
	b.ReportMetric(float64(size)/n, "B/item")
}
