package dlna

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/library/thumb"
)

func TestFormatDuration(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0:00:00.000"},
		{65250 * time.Millisecond, "0:01:05.250"},
		{time.Hour + 2*time.Minute + 3*time.Second + 4*time.Millisecond, "1:02:03.004"},
		{59*time.Second + 999600*time.Microsecond, "0:01:00.000"}, // rounded, carried
		{123 * time.Hour, "123:00:00.000"},
		{1400 * time.Microsecond, "0:00:00.001"},
	} {
		if got := formatDuration(tt.d); got != tt.want {
			t.Errorf("formatDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestThumbPath(t *testing.T) {
	for _, tt := range []struct {
		share, rel, url string
	}{
		{"Movies", ".", "/t/Movies.jpg"},
		{"My Films", "Kids/Cartoon.mp4", "/t/My%20Films/Kids/Cartoon.mp4.jpg"},
		{"M", "a&b/caf\xe9.jpg", "/t/M/a%26b/caf%E9.jpg.jpg"},
		{"x.jpg", ".", "/t/x.jpg.jpg"},
	} {
		if got := thumbURL(thumbPrefix, tt.share, tt.rel); got != tt.url {
			t.Errorf("thumbURL(%q, %q) = %q, want %q", tt.share, tt.rel, got, tt.url)
		}
		if share, rel, ok := parseThumbPath(tt.url); !ok || share != tt.share || rel != tt.rel {
			t.Errorf("parseThumbPath(%q) = %q, %q, %v", tt.url, share, rel, ok)
		}
	}
	for _, bad := range []string{"/t/", "/t/.jpg", "/t/M/.jpg", "/t/M/..jpg", "/t/M/%2e%2e/x.jpg", "/t/M/a%2Fb.jpg", "/t/M//x.jpg",
		"/t/M/x.mkv", "/m/M/x.mkv.jpg", "/t/%zz.jpg"} {
		if share, rel, ok := parseThumbPath(bad); ok {
			t.Errorf("parseThumbPath(%q) = %q, %q", bad, share, rel)
		}
	}
}

// FuzzParseThumbPath checks that what parseThumbPath accepts names a share
// and a clean path, whose URL parses back to the same.
func FuzzParseThumbPath(f *testing.F) {
	for _, s := range []string{"/t/Movies.jpg", "/t/M/Kids/Cartoon.mp4.jpg", "/t/M/%2e%2e/x.jpg", "/t/M/caf%E9.jpg.jpg", "/t/%2F.jpg"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		share, rel, ok := parseThumbPath(p)
		if !ok {
			return
		}
		if share == "" || strings.Contains(share, "/") || share == "." || share == ".." {
			t.Fatalf("parseThumbPath(%q): share %q", p, share)
		}
		if rel != "." {
			for c := range strings.SplitSeq(rel, "/") {
				if c == "" || c == "." || c == ".." {
					t.Fatalf("parseThumbPath(%q): path %q", p, rel)
				}
			}
		}
		u := thumbURL(thumbPrefix, share, rel)
		if s2, r2, ok := parseThumbPath(u); !ok || s2 != share || r2 != rel {
			t.Fatalf("parseThumbPath(%q) = %q, %q; its URL %q parses to %q, %q, %v", p, share, rel, u, s2, r2, ok)
		}
	})
}

// TestBigFolderArtwork: in folders too big to read whole, a page finds
// each file's artwork from the names around it: a song its folder's
// cover, a film its own poster, and a film without one none (the folder's
// poster is not an episode's when other videos are near), whole folder or
// page by page.
func TestBigFolderArtwork(t *testing.T) {
	const n = 3 * wholeFolderMax / 2
	var files []fakeFile
	for i := range n {
		files = append(files, fakeFile{share: "M", path: fmt.Sprintf("Big/Song %03d.mp3", i), size: 1000},
			fakeFile{share: "M", path: fmt.Sprintf("Films/Film %03d.mkv", i), size: 1000})
	}
	files = append(files, fakeFile{share: "M", path: "Big/cover.jpg", size: 100},
		fakeFile{share: "M", path: "Big/Song 150.jpg", size: 100},
		fakeFile{share: "M", path: "Films/Film 100-poster.jpg", size: 100},
		fakeFile{share: "M", path: "Films/poster.jpg", size: 100})
	ts := newTestServer(t, &Server{Content: newFake(t, false, files...), Thumbs: &thumb.Cache{Dir: t.TempDir()}})
	for _, page := range []struct{ start, count int }{{0, 0}, {90, 50}, {300, 100}} {
		for _, folder := range []string{"Big", "Films"} {
			r := browseCall(t, ts.base, nil, "ObjectID", "0/M/"+folder, "BrowseFlag", "BrowseDirectChildren", "Filter", "*",
				"StartingIndex", strconv.Itoa(page.start), "RequestedCount", strconv.Itoa(page.count), "SortCriteria", "")
			for _, o := range r.objects {
				if o.Class == "object.item.imageItem.photo" {
					continue
				}
				want := folder == "Big" || o.Title == "Film 100"
				if got := len(o.AlbumArt) > 0; got != want {
					t.Errorf("%s from %d: %s has artwork %v; want %v", folder, page.start, o.Title, got, want)
				}
			}
		}
	}
}
