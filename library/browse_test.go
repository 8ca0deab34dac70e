package library

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// names returns the names of entries.
func names(es []Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Name
	}
	return out
}

func TestBrowseIndex(t *testing.T) {
	dir := t.TempDir()
	for _, rel := range []string{"Episode 10.mkv", "Episode 2.mkv", "episode 1.mkv", "Season 10/a.mkv", "Season 9/b.mkv", ".hidden.mkv", "notes.txt"} {
		writeFile(t, dir, rel, 3)
	}
	when := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(dir, "notes.txt"), when, when); err != nil {
		t.Fatal(err)
	}
	s, _ := newRunningSet(t, Share{Name: "Shows", Path: dir})
	awaitStatus(t, s, "Shows", "indexed", hasFiles(6, 18))

	page, total, err := s.Children("Shows", ".", AllFiles, 0, 0)
	want := []string{"Season 9", "Season 10", "episode 1.mkv", "Episode 2.mkv", "Episode 10.mkv", "notes.txt"}
	if err != nil || total != 6 || !slices.Equal(names(page), want) {
		t.Fatalf("Children all = %q, %d, %v; want %q", names(page), total, err, want)
	}
	if !page[0].Dir || page[0].Children != 1 || page[5].Dir || page[5].Size != 3 || !page[5].ModTime.Equal(when) || page[2].Kind != Video {
		t.Errorf("entries %+v", page)
	}
	for _, tc := range []struct {
		offset, limit int
		want          []string
	}{
		{1, 2, want[1:3]},
		{4, 10, want[4:]},
		{6, 10, nil},
		{99, 1, nil},
		{-3, 1, want[:1]},
	} {
		page, total, err := s.Children("Shows", ".", AllFiles, tc.offset, tc.limit)
		if err != nil || total != 6 || !slices.Equal(names(page), tc.want) {
			t.Errorf("Children(%d, %d) = %q, %d, %v; want %q", tc.offset, tc.limit, names(page), total, err, tc.want)
		}
	}

	if e, err := s.Entry("Shows", ".", AllFiles); err != nil || e.Name != "Shows" || !e.Dir || e.Children != 6 {
		t.Errorf("Entry(.) = %+v, %v", e, err)
	}
	if e, err := s.Entry("Shows", "Season 10/a.mkv", AllFiles); err != nil || e.Name != "a.mkv" || e.Dir || e.Size != 3 {
		t.Errorf("Entry(Season 10/a.mkv) = %+v, %v", e, err)
	}
	for _, rel := range []string{".hidden.mkv", "nope", "Season 10/nope", "notes.txt/x"} {
		if _, err := s.Entry("Shows", rel, AllFiles); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Entry(%q): %v, want not exist", rel, err)
		}
	}
	if _, _, err := s.Children("Shows", "notes.txt", AllFiles, 0, 0); err == nil {
		t.Error("Children of a file: no error")
	}
	if _, err := s.Entry("Nope", ".", AllFiles); !errors.Is(err, ErrNoShare) {
		t.Errorf("Entry of a missing share: %v", err)
	}

	var walked []string
	s.Walk("Shows", ".", AllFiles, func(rel string, e Entry) bool {
		walked = append(walked, rel)
		return true
	})
	wantWalk := []string{"Season 9", "Season 9/b.mkv", "Season 10", "Season 10/a.mkv", "episode 1.mkv", "Episode 2.mkv", "Episode 10.mkv", "notes.txt"}
	if !slices.Equal(walked, wantWalk) {
		t.Errorf("Walk = %q, want %q", walked, wantWalk)
	}
	walked = nil
	s.Walk("Shows", ".", AllFiles, func(rel string, e Entry) bool {
		walked = append(walked, rel)
		return len(walked) < 3
	})
	if !slices.Equal(walked, wantWalk[:3]) {
		t.Errorf("Walk stopped = %q", walked)
	}
}

func TestBrowseMediaView(t *testing.T) {
	dir := t.TempDir()
	for _, rel := range []string{"Film 10.mkv", "Film 2.mkv", "Film 2.srt", "Film 2.nfo", "poster.jpg", "song.mp3",
		"Extras/a.txt", "Extras/b.txt", "Season 1/E1.mkv", "Season 1/E1.en.srt"} {
		writeFile(t, dir, rel, 1)
	}
	s, _ := newRunningSet(t, Share{Name: "M", Path: dir})
	awaitStatus(t, s, "M", "indexed", hasFiles(10, 10))

	page, total, err := s.Children("M", ".", MediaFiles, 0, 0)
	want := []string{"Extras", "Season 1", "Film 2.mkv", "Film 10.mkv", "poster.jpg", "song.mp3"}
	if err != nil || total != 6 || !slices.Equal(names(page), want) {
		t.Fatalf("media view = %q, %d, %v; want %q", names(page), total, err, want)
	}
	if page[0].Children != 0 || page[1].Children != 1 {
		t.Errorf("media counts of Extras and Season 1: %d, %d; want 0, 1", page[0].Children, page[1].Children)
	}
	if _, total, _ := s.Children("M", ".", AllFiles, 0, 0); total != 8 {
		t.Errorf("all files: %d entries, want 8", total)
	}
	if page, total, _ := s.Children("M", ".", MediaFiles, 3, 2); total != 6 || !slices.Equal(names(page), want[3:5]) {
		t.Errorf("media page 3+2 = %q of %d", names(page), total)
	}
	if e, err := s.Entry("M", ".", MediaFiles); err != nil || e.Children != 6 {
		t.Errorf("Entry(., media) = %+v, %v", e, err)
	}
	if _, err := s.Entry("M", "Film 2.srt", MediaFiles); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a subtitle in the media view: %v", err)
	}
	if _, err := s.Entry("M", "Film 2.srt", AllFiles); err != nil {
		t.Errorf("a subtitle in the all-files view: %v", err)
	}
	var walked []string
	s.Walk("M", ".", MediaFiles, func(rel string, e Entry) bool {
		walked = append(walked, rel)
		return true
	})
	if wantWalk := []string{"Extras", "Season 1", "Season 1/E1.mkv", "Film 2.mkv", "Film 10.mkv", "poster.jpg", "song.mp3"}; !slices.Equal(walked, wantWalk) {
		t.Errorf("media walk %q, want %q", walked, wantWalk)
	}
}

func TestBrowseOffline(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "usb")
	s, _ := newRunningSet(t, Share{Name: "USB", Path: dir})
	awaitStatus(t, s, "USB", "offline", func(st ShareStatus) bool { return st.State == StateOffline })
	if _, _, err := s.Children("USB", ".", AllFiles, 0, 0); !errors.Is(err, ErrOffline) {
		t.Errorf("Children of an offline share: %v", err)
	}
}

// awaitChange waits until w has delivered every change in want.
func awaitChange(t *testing.T, w *Watcher, want ...Change) {
	t.Helper()
	missing := map[Change]bool{}
	for _, c := range want {
		missing[c] = true
	}
	timeout := time.After(20 * time.Second)
	for len(missing) > 0 {
		select {
		case <-w.C():
			for _, c := range w.Take() {
				delete(missing, c)
			}
		case <-timeout:
			t.Fatalf("timed out waiting for changes %v", missing)
		}
	}
}

func TestWatchChanges(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "Films/a.mkv", 1)
	writeFile(t, dir, "Films/Old/b.mkv", 1)
	s, _ := newRunningSet(t, Share{Name: "Media", Path: dir})
	awaitStatus(t, s, "Media", "indexed", hasFiles(2, 2))
	w := s.Watch()
	defer w.Close()

	writeFile(t, dir, "Films/new.mkv", 5)
	awaitChange(t, w, Change{"Media", "Films"})
	if _, err := s.Entry("Media", "Films/new.mkv", AllFiles); err != nil {
		t.Errorf("new file not in the index after its change: %v", err)
	}

	if err := os.RemoveAll(filepath.Join(dir, "Films", "Old")); err != nil {
		t.Fatal(err)
	}
	awaitChange(t, w, Change{"Media", "Films"})

	writeFile(t, dir, "Films/new.mkv", 7) // a new size
	awaitChange(t, w, Change{"Media", "Films"})

	if err := os.Mkdir(filepath.Join(dir, "Series"), 0o755); err != nil {
		t.Fatal(err)
	}
	awaitChange(t, w, Change{"Media", "."})

	if err := s.Rename("Media", "Library"); err != nil {
		t.Fatal(err)
	}
	awaitChange(t, w, Change{"Media", "."}, Change{"Library", "."})
	if err := s.Remove("Library"); err != nil {
		t.Fatal(err)
	}
	awaitChange(t, w, Change{"Library", "."})
}

func TestWatcherBounded(t *testing.T) {
	s := &Set{}
	w := s.Watch()
	defer w.Close()
	var many []Change
	for i := range 3 * maxPendingChanges {
		many = append(many, Change{Share: "A", Dir: fmt.Sprint(i)})
	}
	s.changed(many...)
	got := w.Take()
	if len(got) > maxPendingChanges {
		t.Errorf("%d changes pending, more than %d", len(got), maxPendingChanges)
	}
	if !slices.Contains(got, Change{Share: "A", Dir: "."}) && !slices.Contains(got, Change{}) {
		t.Errorf("too many changes did not collapse into the share or everything: %d changes", len(got))
	}
	if got := w.Take(); len(got) != 0 {
		t.Errorf("Take after Take = %v", got)
	}
	w.Close()
	s.changed(Change{Share: "A", Dir: "x"})
	if got := w.Take(); len(got) != 0 {
		t.Errorf("Take after Close = %v", got)
	}
}

// TestOrdersKept checks which readers keep a folder's browsing order:
// browsing it and walking it (a DLNA Search, which TVs repeat) do; a
// listing of its parent and the prober's reading do not, as an order
// takes 4 bytes per file for good. The counts and entries are the same
// either way.
func TestOrdersKept(t *testing.T) {
	dir := t.TempDir()
	for _, rel := range []string{"A/Film 10.mkv", "A/Film 2.mkv", "A/Film 2.srt", "B/x.mkv", "C/y.mkv"} {
		writeFile(t, dir, rel, 1)
	}
	s, _ := newRunningSet(t, Share{Name: "M", Path: dir})
	awaitStatus(t, s, "M", "indexed", hasFiles(5, 5))
	kept := func(rel string) bool {
		var k bool
		s.readTree("M", func(ix *index) error {
			d, _, err := ix.lookup(rel)
			if err != nil {
				t.Fatal(err)
			}
			k = d.order.Load() != nil
			return nil
		})
		return k
	}
	root, _, _ := s.Children("M", ".", MediaFiles, 0, 0)
	page, _, err := s.children("M", "A", MediaFiles, 0, 0, false)
	if err != nil || !slices.Equal(names(page), []string{"Film 2.mkv", "Film 10.mkv"}) {
		t.Fatalf("A unkept: %q, %v", names(page), err)
	}
	if kept("A") || kept("B") || !kept(".") {
		t.Errorf("orders kept: A %v, B %v, root %v; want only the root's", kept("A"), kept("B"), kept("."))
	}
	if root[0].Children != 2 || root[1].Children != 1 {
		t.Errorf("counted: A %d, B %d; want 2, 1", root[0].Children, root[1].Children)
	}
	s.Children("M", "A", MediaFiles, 0, 1)
	if !kept("A") {
		t.Error("A browsed, but its order was not kept")
	}
	if e, _ := s.Entry("M", "A", MediaFiles); e.Children != 2 {
		t.Errorf("A counted from its order: %d, want 2", e.Children)
	}
	s.Walk("M", "C", MediaFiles, func(string, Entry) bool { return true })
	if !kept("C") || kept("B") {
		t.Errorf("after a walk of C: C kept %v, B kept %v; want true, false", kept("C"), kept("B"))
	}
}
