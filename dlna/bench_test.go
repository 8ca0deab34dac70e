package dlna

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
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
func benchBrowse(b *testing.B, start, count int) {
	f := bigFolder(b, 10000)
	ts := newTestServer(b, &Server{Content: f})
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
func BenchmarkBrowsePage(b *testing.B) { benchBrowse(b, 5000, 50) }

// BenchmarkBrowseAll is the same folder with RequestedCount 0.
func BenchmarkBrowseAll(b *testing.B) { benchBrowse(b, 0, 0) }
