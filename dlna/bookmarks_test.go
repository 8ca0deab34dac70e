package dlna

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestBookmarkStore(t *testing.T) {
	dir := t.TempDir()
	quiet := slog.New(slog.DiscardHandler)
	b := newBookmarkStore(dir, quiet)
	now := testTime
	steps := []struct {
		id   string
		pos  int64
		want map[string]int64
	}{
		{"0/M/a.mkv", 120, map[string]int64{"0/M/a.mkv": 120}},
		{"0/M/b.mkv", 29, map[string]int64{"0/M/a.mkv": 120, "0/M/b.mkv": 0}}, // under 30 s: not kept
		{"0/M/b.mkv", 30, map[string]int64{"0/M/a.mkv": 120, "0/M/b.mkv": 30}},
		{"0/M/a.mkv", 5, map[string]int64{"0/M/a.mkv": 0, "0/M/b.mkv": 30}}, // started over
	}
	for _, s := range steps {
		now = now.Add(time.Minute)
		if err := b.set(s.id, s.pos, now); err != nil {
			t.Fatal(err)
		}
		for id, want := range s.want {
			if got := b.get(id); got != want {
				t.Errorf("after set(%s, %d): get(%s) = %d, want %d", s.id, s.pos, id, got, want)
			}
		}
		// A new store reads the same from the file.
		if got := newBookmarkStore(dir, quiet).get("0/M/b.mkv"); got != s.want["0/M/b.mkv"] {
			t.Errorf("reloaded: %d, want %d", got, s.want["0/M/b.mkv"])
		}
	}
	// No temporary files left behind.
	files, _ := os.ReadDir(dir)
	if len(files) != 1 || files[0].Name() != bookmarksFile {
		t.Errorf("state folder holds %v", files)
	}
	// A damaged file is survived.
	os.WriteFile(filepath.Join(dir, bookmarksFile), []byte("{not json"), 0o644)
	if got := newBookmarkStore(dir, quiet).get("0/M/b.mkv"); got != 0 {
		t.Errorf("damaged file: %d", got)
	}
	// In memory only.
	m := newBookmarkStore("", quiet)
	m.set("x", 100, now)
	if m.get("x") != 100 {
		t.Error("in-memory store lost its bookmark")
	}
}

func TestBookmarkStoreBounded(t *testing.T) {
	b := newBookmarkStore("", slog.New(slog.DiscardHandler))
	for i := range maxBookmarks + 10 {
		b.set(string(rune('a'+i%26))+string(rune(i)), 100, testTime.Add(time.Duration(i)*time.Second))
	}
	if n := len(b.m); n != maxBookmarks {
		t.Errorf("%d bookmarks kept, want %d", n, maxBookmarks)
	}
	if b.get("a"+string(rune(0))) != 0 {
		t.Error("the oldest bookmark was kept")
	}
}
