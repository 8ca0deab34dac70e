package library

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

// The tests in this file drive the indexer by hand, the way syncthing tests
// its watcher: events come from the test, not from inotify, and time is an
// argument. The disk is real (a temp folder), read through the share's
// os.Root as in production.

// later is a time well after the test's files were written, so that no
// file looks like it is still being copied.
func later() time.Time { return time.Now().Add(time.Minute) }

func TestIndexerScanCounts(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "Films/Film.mkv", 100)
	writeFile(t, dir, "Films/Film.srt", 10)
	writeFile(t, dir, "Music/Album/01.flac", 30)
	writeFile(t, dir, "Photos/a.JPG", 5)
	writeFile(t, dir, ".hidden/x.mkv", 7)
	x, src, _ := newTestIndexer(t, dir, later())

	want := counts{files: 4, dirs: 4, bytes: 145}
	want.kinds[Video], want.kinds[Audio], want.kinds[Image], want.kinds[Other] = 1, 1, 1, 1
	if got := x.totals(); got != want {
		t.Errorf("counts = %+v, want %+v", got, want)
	}
	if got, want := src.watches(), []string{".", "Films", "Music", "Music/Album", "Photos"}; !slices.Equal(got, want) {
		t.Errorf("watches = %q, want %q", got, want)
	}
	if x.state != StateWatching {
		t.Errorf("state = %s, want watching", x.state)
	}
}

func TestIndexerDebounce(t *testing.T) {
	dir := t.TempDir()
	x, _, _ := newTestIndexer(t, dir, later())
	t0 := later()
	settle := x.settle

	// A file written in 20 chunks, one every settle/4: it never settles
	// until the last chunk has been quiet for settle.
	var tEnd time.Time
	for i := range 20 {
		now := t0.Add(time.Duration(i) * settle / 4)
		writeFile(t, dir, "New.mkv", (i+1)*1000)
		op := fsnotify.Write
		if i == 0 {
			op = fsnotify.Create
		}
		x.ev("New.mkv", op, now)
		x.flush(now)
		if got := x.totals().files; got != 0 {
			t.Fatalf("after chunk %d the file is counted already", i)
		}
		tEnd = now
	}
	x.flush(tEnd.Add(settle - time.Millisecond))
	if got := x.totals().files; got != 0 {
		t.Fatalf("counted before it settled")
	}
	x.flush(tEnd.Add(settle))
	if got, want := x.files(), []string{"New.mkv 20000"}; !slices.Equal(got, want) {
		t.Fatalf("files = %q, want %q", got, want)
	}
	if len(x.pending) != 0 {
		t.Errorf("%d changes still pending", len(x.pending))
	}
}

func TestIndexerBurst(t *testing.T) {
	// A season copied at once: thousands of events on a few paths keep one
	// pending entry per path, and each file is counted once.
	dir := t.TempDir()
	x, _, _ := newTestIndexer(t, dir, later())
	now := later()
	const files, writes = 24, 5000
	for i := range files {
		writeFile(t, dir, fmt.Sprintf("Season 1/E%02d.mkv", i+1), 4096)
	}
	x.ev("Season 1", fsnotify.Create, now)
	for w := range writes {
		for i := range files {
			x.ev(fmt.Sprintf("Season 1/E%02d.mkv", i+1), fsnotify.Write, now.Add(time.Duration(w)*time.Microsecond))
		}
	}
	if len(x.pending) != files+1 {
		t.Fatalf("%d pending entries for %d paths", len(x.pending), files+1)
	}
	x.flush(now.Add(time.Second))
	if c := x.totals(); c.files != files || c.bytes != files*4096 || c.dirs != 1 {
		t.Errorf("counts = %+v", c)
	}
}

func TestIndexerTooManyPending(t *testing.T) {
	dir := t.TempDir()
	x, _, lb := newTestIndexer(t, dir, later())
	x.maxPending = 10
	now := later()
	for i := range 11 {
		writeFile(t, dir, fmt.Sprintf("f%d", i), 1)
		x.ev(fmt.Sprintf("f%d", i), fsnotify.Create, now)
	}
	if len(x.pending) > 10 {
		t.Fatalf("%d pending, want at most 10", len(x.pending))
	}
	if x.scan == nil {
		t.Fatal("no rescan started")
	}
	x.waitScan(t, later())
	if got := x.totals().files; got != 11 {
		t.Errorf("files = %d after the rescan, want 11", got)
	}
	if !contains(lb.String(), "too many changes") {
		t.Error("not logged")
	}
}

func TestIndexerNewFolderWatchedBeforeRead(t *testing.T) {
	dir := t.TempDir()
	x, src, _ := newTestIndexer(t, dir, later())
	// mkdir -p a/b/c, with files made before and while its folders get
	// their watches: each made just after a watch is set must be found by
	// the read that follows.
	writeFile(t, dir, "a/b/c/before.mkv", 1)
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(filepath.Join(dir, "a/b/c/before.mkv"), old, old); err != nil {
		t.Fatal(err)
	}
	// File times come from a coarse clock, which may lag ours by a few
	// milliseconds: the files written next must look recent all the same.
	now := time.Now().Add(-time.Second)
	src.onAdd = func(rel string) {
		writeFile(t, dir, rel+"/during.mkv", 2)
	}
	x.ev("a", fsnotify.Create, now)
	x.flush(now.Add(x.settle))
	src.onAdd = nil
	// Those files were written just now: they are left to settle first.
	if got, want := x.files(), []string{"a/b/c/before.mkv 1"}; !slices.Equal(got, want) {
		t.Errorf("files before settling = %q, want %q", got, want)
	}
	x.flush(time.Now().Add(time.Minute))
	want := []string{"a/b/c/before.mkv 1", "a/b/c/during.mkv 2", "a/b/during.mkv 2", "a/during.mkv 2"}
	if got := x.files(); !slices.Equal(got, want) {
		t.Errorf("files = %q, want %q", got, want)
	}
	if got, want := src.watches(), []string{".", "a", "a/b", "a/b/c"}; !slices.Equal(got, want) {
		t.Errorf("watches = %q, want %q", got, want)
	}
	// The events for the files come too, later; they change nothing.
	x.ev("a/b/c/during.mkv", fsnotify.Create, later())
	x.flush(later().Add(time.Minute))
	if got := x.totals().files; got != 4 {
		t.Errorf("files = %d, want 4", got)
	}
}

func TestIndexerFreshFileWaits(t *testing.T) {
	// A file that a scan finds still being written is indexed once its
	// size and time stayed put for the settle time.
	dir := t.TempDir()
	writeFile(t, dir, "Copying.mkv", 100)
	fi, err := os.Stat(filepath.Join(dir, "Copying.mkv"))
	if err != nil {
		t.Fatal(err)
	}
	now := fi.ModTime() // the scan runs right after the last write
	x, _, _ := newTestIndexer(t, dir, now)
	if got := x.totals().files; got != 0 {
		t.Fatal("a file still being written is counted")
	}
	if e := x.pending["Copying.mkv"]; e == nil || !e.hasSnap {
		t.Fatal("not pending")
	}
	// More is written; at its due time it has changed, so it waits again.
	f, err := os.OpenFile(filepath.Join(dir, "Copying.mkv"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(make([]byte, 50))
	f.Close()
	x.flush(now.Add(time.Hour))
	if got := x.totals().files; got != 0 {
		t.Fatal("counted while it changed")
	}
	x.flush(now.Add(2 * time.Hour))
	if got, want := x.files(), []string{"Copying.mkv 150"}; !slices.Equal(got, want) {
		t.Fatalf("files = %q, want %q", got, want)
	}
}

func TestIndexerDeleteAndReplace(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a/x.mkv", 10)
	writeFile(t, dir, "a/y.mkv", 20)
	writeFile(t, dir, "b.mp3", 5)
	x, src, _ := newTestIndexer(t, dir, later())
	now := later()

	os.Remove(filepath.Join(dir, "a/x.mkv"))
	x.ev("a/x.mkv", fsnotify.Remove, now)
	// A folder turned into a file, and a file into a folder.
	os.RemoveAll(filepath.Join(dir, "a"))
	writeFile(t, dir, "a", 3)
	os.Remove(filepath.Join(dir, "b.mp3"))
	writeFile(t, dir, "b.mp3/c.flac", 4)
	x.ev("a", fsnotify.Remove, now)
	x.ev("a", fsnotify.Create, now)
	x.ev("b.mp3", fsnotify.Remove, now)
	x.ev("b.mp3", fsnotify.Create, now)
	x.flush(now.Add(time.Minute))
	if got, want := x.files(), []string{"a 3", "b.mp3/c.flac 4"}; !slices.Equal(got, want) {
		t.Errorf("files = %q, want %q", got, want)
	}
	c := x.totals()
	if c.files != 2 || c.dirs != 1 || c.bytes != 7 || c.kinds[Audio] != 1 || c.kinds[Other] != 1 || c.kinds[Video] != 0 {
		t.Errorf("counts = %+v", c)
	}
	if got, want := src.watches(), []string{".", "b.mp3"}; !slices.Equal(got, want) {
		t.Errorf("watches = %q, want %q", got, want)
	}
}

func TestIndexerRenameFolder(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "Show/S01/E01.mkv", 10)
	writeFile(t, dir, "Show/S01/E02.mkv", 10)
	x, src, _ := newTestIndexer(t, dir, later())
	now := later()

	if err := os.Rename(filepath.Join(dir, "Show"), filepath.Join(dir, "Show (2020)")); err != nil {
		t.Fatal(err)
	}
	// What inotify reports: the old name moved from, the new moved to,
	// and the moved folder itself.
	x.ev("Show", fsnotify.Rename, now)
	x.ev("Show (2020)", fsnotify.Create, now)
	x.ev("Show", fsnotify.Rename, now)
	x.flush(now.Add(time.Minute))
	if got, want := x.files(), []string{"Show (2020)/S01/E01.mkv 10", "Show (2020)/S01/E02.mkv 10"}; !slices.Equal(got, want) {
		t.Errorf("files = %q, want %q", got, want)
	}
	if c := x.totals(); c.files != 2 || c.dirs != 2 {
		t.Errorf("counts = %+v", c)
	}
	if got, want := src.watches(), []string{".", "Show (2020)", "Show (2020)/S01"}; !slices.Equal(got, want) {
		t.Errorf("watches = %q, want %q", got, want)
	}
	// The old watches were dropped before the new ones were set, so that
	// a watch the kernel hands back for the same folder is not dropped.
	adds := src.adds[len(src.adds)-2:]
	if !slices.Equal(adds, []string{"Show (2020)", "Show (2020)/S01"}) {
		t.Errorf("last watches added = %q", adds)
	}
}

func TestIndexerMoveOutAndIn(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	writeFile(t, dir, "Season 1/E01.mkv", 10)
	writeFile(t, dir, "Season 1/Extras/E00.mkv", 10)
	writeFile(t, outside, "Season 2/E01.mkv", 20)
	x, src, _ := newTestIndexer(t, dir, later())
	now := later()

	os.Rename(filepath.Join(dir, "Season 1"), filepath.Join(outside, "Season 1"))
	x.ev("Season 1", fsnotify.Rename, now)
	os.Rename(filepath.Join(outside, "Season 2"), filepath.Join(dir, "Season 2"))
	x.ev("Season 2", fsnotify.Create, now)
	x.flush(now.Add(time.Minute))
	if got, want := x.files(), []string{"Season 2/E01.mkv 20"}; !slices.Equal(got, want) {
		t.Errorf("files = %q, want %q", got, want)
	}
	if c := x.totals(); c.files != 1 || c.dirs != 1 || c.bytes != 20 {
		t.Errorf("counts = %+v", c)
	}
	if got, want := src.watches(), []string{".", "Season 2"}; !slices.Equal(got, want) {
		t.Errorf("watches = %q, want %q", got, want)
	}
	if len(x.ix.visited) != 2 {
		t.Errorf("%d folders marked visited, want 2", len(x.ix.visited))
	}
}

func TestIndexerIgnoresHiddenAndChmod(t *testing.T) {
	dir := t.TempDir()
	x, _, _ := newTestIndexer(t, dir, later())
	now := later()
	writeFile(t, dir, ".part.mkv", 1)
	writeFile(t, dir, ".tmp/a.mkv", 1)
	writeFile(t, dir, "seen.mkv", 1)
	x.ev(".part.mkv", fsnotify.Create, now)
	x.ev(".tmp/a.mkv", fsnotify.Write, now)
	x.ev("seen.mkv", fsnotify.Chmod, now)
	if len(x.pending) != 0 {
		t.Errorf("pending = %v", x.pending)
	}
	// A rename from a hidden name to a visible one (how rsync and many
	// downloaders finish a file) is a Create of the visible name.
	os.Rename(filepath.Join(dir, ".part.mkv"), filepath.Join(dir, "done.mkv"))
	x.ev(".part.mkv", fsnotify.Rename, now)
	x.ev("done.mkv", fsnotify.Create, now)
	x.flush(now.Add(time.Minute))
	if got, want := x.files(), []string{"done.mkv 1"}; !slices.Equal(got, want) {
		t.Errorf("files = %q, want %q", got, want)
	}
	if !x.event(fsnotify.Event{Name: ".", Op: fsnotify.Remove}, now) {
		t.Error("removal of the share folder is not reported")
	}
}

func TestIndexerEventsInUnindexedFolder(t *testing.T) {
	// An event inside a folder the index does not have yet stands for that
	// whole folder.
	dir := t.TempDir()
	x, _, _ := newTestIndexer(t, dir, later())
	now := later()
	writeFile(t, dir, "New/Deep/a.mkv", 1)
	writeFile(t, dir, "New/b.mkv", 1)
	x.ev("New/Deep/a.mkv", fsnotify.Create, now)
	x.flush(now.Add(time.Minute))
	if got, want := x.files(), []string{"New/Deep/a.mkv 1", "New/b.mkv 1"}; !slices.Equal(got, want) {
		t.Errorf("files = %q, want %q", got, want)
	}
}

func TestIndexerHoldsChangesDuringScan(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.mkv", 1)
	x, _, _ := newTestIndexer(t, dir, later())
	now := later()
	x.sourceError(fsnotify.ErrEventOverflow)
	if x.scan == nil || x.state != StateScanning {
		t.Fatalf("overflow: scan %v, state %s", x.scan != nil, x.state)
	}
	// Changes that settle while the scan runs wait for its result.
	writeFile(t, dir, "b.mkv", 2)
	x.ev("b.mkv", fsnotify.Create, now)
	x.sourceError(fsnotify.ErrEventOverflow) // queues one more scan
	x.flush(now.Add(time.Minute))
	if len(x.pending) != 1 {
		t.Fatalf("pending = %d, want the change held", len(x.pending))
	}
	x.waitScan(t, now.Add(time.Minute))
	if x.scan == nil {
		t.Fatal("the queued rescan did not start")
	}
	x.waitScan(t, now.Add(time.Minute))
	if x.state != StateWatching || x.totals().files != 2 || len(x.pending) != 0 {
		t.Errorf("state %s, %d files, %d pending", x.state, x.totals().files, len(x.pending))
	}
}

func TestIndexerWatchLimit(t *testing.T) {
	dir := t.TempDir()
	for i := range 10 {
		writeFile(t, dir, fmt.Sprintf("d%d/f.mkv", i), 1)
	}
	log, lb := testLogger(t)
	s := &Set{Logger: log, FallbackRescan: time.Hour}
	for i, name := range []string{"One", "Two"} {
		src := newFakeSource()
		src.limit = 4
		sh := &share{Share: Share{Name: name, Path: dir}}
		x := newIndexer(s, sh, 0)
		x.id, _ = sh.identify()
		x.src = src
		x.startScanSync(t, later())
		if x.state != StatePolling || !strings.Contains(x.reason, "watch limit") || x.poll != time.Hour {
			t.Errorf("share %d: state %s (%s), poll %v", i, x.state, x.reason, x.poll)
		}
		if !src.closed || x.src != nil {
			t.Errorf("share %d: its watches were not dropped", i)
		}
		if got := x.totals().files; got != 10 {
			t.Errorf("share %d: %d files, want all 10 despite the limit", i, got)
		}
	}
	out := lb.String()
	if n := strings.Count(out, "sysctl -w fs.inotify.max_user_watches="); n != 1 {
		t.Errorf("the fix is explained %d times, want once:\n%s", n, out)
	}
	if !strings.Contains(out, "/etc/sysctl.d/") {
		t.Errorf("no word on keeping the setting:\n%s", out)
	}
}

func TestIndexerWatchLimitInNewFolder(t *testing.T) {
	dir := t.TempDir()
	x, src, _ := newTestIndexer(t, dir, later())
	src.limit = 2
	now := later()
	writeFile(t, dir, "a/b/c/f.mkv", 1)
	x.ev("a", fsnotify.Create, now)
	x.flush(now.Add(time.Minute))
	if x.state != StatePolling || x.src != nil {
		t.Errorf("state %s, source %v", x.state, x.src)
	}
	if got := x.totals().files; got != 1 {
		t.Errorf("files = %d, want 1", got)
	}
}

func TestIndexerRenameSeenOutOfOrder(t *testing.T) {
	// The new name of a renamed folder is handled before the old one: the
	// folder is found again by its inode, dropped where it was, and indexed
	// where it is.
	dir := t.TempDir()
	writeFile(t, dir, "Old/Sub/a.mkv", 1)
	writeFile(t, dir, "Other/b.mkv", 2)
	x, src, _ := newTestIndexer(t, dir, later())
	now := later()
	os.Rename(filepath.Join(dir, "Old"), filepath.Join(dir, "New"))
	x.ev("New", fsnotify.Create, now)
	x.flush(now.Add(time.Minute))
	x.ev("Old", fsnotify.Rename, now.Add(time.Minute))
	x.flush(now.Add(time.Hour))
	if got, want := x.files(), []string{"New/Sub/a.mkv 1", "Other/b.mkv 2"}; !slices.Equal(got, want) {
		t.Errorf("files = %q, want %q", got, want)
	}
	if c := x.totals(); c.files != 2 || c.dirs != 3 {
		t.Errorf("counts = %+v", c)
	}
	if got, want := src.watches(), []string{".", "New", "New/Sub", "Other"}; !slices.Equal(got, want) {
		t.Errorf("watches = %q, want %q", got, want)
	}

	// A folder moved into a new folder before that one was watched: only
	// the new folder's Create is seen.
	os.Mkdir(filepath.Join(dir, "Box"), 0o755)
	os.Rename(filepath.Join(dir, "Other"), filepath.Join(dir, "Box/Other"))
	x.ev("Box", fsnotify.Create, now)
	x.flush(now.Add(2 * time.Hour))
	if got, want := x.files(), []string{"Box/Other/b.mkv 2", "New/Sub/a.mkv 1"}; !slices.Equal(got, want) {
		t.Errorf("files = %q, want %q", got, want)
	}
	if c := x.totals(); c.files != 2 || c.dirs != 4 {
		t.Errorf("counts = %+v", c)
	}
}
