package library

import (
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

// TestScanVisibility checks that the index counts what FTP shows: no
// dotfiles, only regular files and folders, symlinks only inside the share,
// and a folder reached twice counted once.
func TestScanVisibility(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	writeFile(t, dir, "Films/Film.mkv", 100)
	writeFile(t, dir, "Films/.Film.mkv.part", 50)
	writeFile(t, dir, ".Trash-1000/files/Old.mkv", 10)
	writeFile(t, dir, "Music/Album/01.flac", 30)
	writeFile(t, dir, ".stash/Hidden/secret.mkv", 1)
	writeFile(t, outside, "Escaped.mkv", 1000)
	writeFile(t, outside, "Dir/Escaped.mkv", 1000)
	symlink(t, "Film.mkv", dir, "Films/Same Film.mkv")           // a file inside: counted, as FTP lists it
	symlink(t, "../Music", dir, "Films/Music again")             // a folder inside: not counted twice
	symlink(t, "..", dir, "Music/Album/Loop")                    // a loop
	symlink(t, filepath.Join(outside, "Escaped.mkv"), dir, "E1") // leaves the share
	symlink(t, "../"+filepath.Base(outside)+"/Dir", dir, "E2")   // so does this, relatively
	symlink(t, "nowhere", dir, "Dangling")
	symlink(t, ".stash/Hidden", dir, "Shown") // a hidden folder's only visible way in
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.mkv"), 0o644); err != nil {
		t.Fatal(err)
	}
	x, _, _ := newTestIndexer(t, dir, later())
	want := []string{
		"Films/Film.mkv 100",
		"Films/Same Film.mkv 100",
		"Music/Album/01.flac 30",
		"Shown/secret.mkv 1",
	}
	if got := x.files(); !slices.Equal(got, want) {
		t.Errorf("files = %q\nwant %q", got, want)
	}
	if c := x.totals(); c.files != 4 || c.dirs != 4 || c.bytes != 231 {
		t.Errorf("counts = %+v, want 4 files, 4 folders (Films Music Music/Album Shown), 231 bytes", c)
	}

	// The same rules hold for changes.
	now := later()
	symlink(t, "../Films", dir, "Music/Films again")
	writeFile(t, dir, ".hidden.mkv", 1)
	x.ev("Music/Films again", fsnotify.Create, now)
	x.ev("Dangling", fsnotify.Write, now)
	x.flush(now.Add(time.Minute))
	if got := x.files(); !slices.Equal(got, want) {
		t.Errorf("after changes, files = %q\nwant %q", got, want)
	}
}

func symlink(t *testing.T, target, dir, rel string) {
	t.Helper()
	if err := os.Symlink(target, filepath.Join(dir, filepath.FromSlash(rel))); err != nil {
		t.Fatal(err)
	}
}

func TestScanRecentAdditions(t *testing.T) {
	dir := t.TempDir()
	x, _, _ := newTestIndexer(t, dir, later())
	now := later()
	for i, name := range []string{"a.mkv", "b.mkv", "c.mkv", "d.mkv", "e.mkv", "f.mkv", "g.mkv"} {
		writeFile(t, dir, name, i+1)
		x.ev(name, fsnotify.Create, now)
		x.flush(now.Add(time.Duration(i+1) * time.Minute))
	}
	paths := func() []string {
		var out []string
		for _, f := range x.ix.recent.items {
			out = append(out, f.path)
		}
		return out
	}
	// RecentMax is 5 for test indexers.
	if got, want := paths(), []string{"g.mkv", "f.mkv", "e.mkv", "d.mkv", "c.mkv"}; !slices.Equal(got, want) {
		t.Errorf("recent = %q, want %q", got, want)
	}
	os.Remove(filepath.Join(dir, "f.mkv"))
	x.ev("f.mkv", fsnotify.Remove, now)
	x.flush(now.Add(time.Hour))
	x.publish()
	if got, want := paths(), []string{"g.mkv", "e.mkv", "d.mkv", "c.mkv", "b.mkv"}; !slices.Equal(got, want) {
		t.Errorf("after a removal, recent = %q, want %q", got, want)
	}
}
