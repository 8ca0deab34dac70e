package library

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The tests in this file run the Set with real inotify watches on temp
// folders, and change those folders as users do.

func TestWatchNewFile(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "Films/Old.mkv", 10)
	s, _ := newRunningSet(t, Share{Name: "Media", Path: dir})
	awaitStatus(t, s, "Media", "the first scan", hasFiles(1, 10))

	writeFile(t, dir, "Films/New.mkv", 20)
	writeFile(t, dir, "Cover.jpg", 5)
	st := awaitStatus(t, s, "Media", "the new files", hasFiles(3, 35))
	if st.Video != 2 || st.Image != 1 || st.Dirs != 1 {
		t.Errorf("status = %+v", st)
	}
	rec := s.Recent(10)
	if len(rec) != 3 || rec[2].Path != "Films/Old.mkv" || rec[0].Share != "Media" {
		t.Errorf("recent = %+v", rec)
	}
	for _, a := range rec[:2] {
		if time.Since(a.Added) > time.Minute || (a.Path != "Films/New.mkv" && a.Path != "Cover.jpg") {
			t.Errorf("recent addition %+v", a)
		}
	}
}

func TestWatchNestedFolders(t *testing.T) {
	dir := t.TempDir()
	s, _ := newRunningSet(t, Share{Name: "Media", Path: dir})
	awaitStatus(t, s, "Media", "the first scan", watching)

	// mkdir -p a/b/c, then files at once, faster than watches can be set.
	if err := os.MkdirAll(filepath.Join(dir, "a/b/c"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{"a/1.mkv", "a/b/2.mkv", "a/b/c/3.mkv", "a/b/c/d/e/4.mkv"} {
		writeFile(t, dir, rel, 100)
	}
	st := awaitStatus(t, s, "Media", "the nested files", hasFiles(4, 400))
	if st.Dirs != 5 {
		t.Errorf("dirs = %d, want 5", st.Dirs)
	}
	// The deepest folders are watched too.
	writeFile(t, dir, "a/b/c/d/e/5.mkv", 100)
	awaitStatus(t, s, "Media", "a file in the deepest folder", hasFiles(5, 500))
}

func TestWatchDelete(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "Show/S01/E01.mkv", 10)
	writeFile(t, dir, "Show/S01/E02.mkv", 10)
	writeFile(t, dir, "Show/S02/E01.mkv", 10)
	writeFile(t, dir, "Song.mp3", 1)
	s, _ := newRunningSet(t, Share{Name: "Media", Path: dir})
	awaitStatus(t, s, "Media", "the first scan", hasFiles(4, 31))

	os.Remove(filepath.Join(dir, "Song.mp3"))
	awaitStatus(t, s, "Media", "a file deleted", hasFiles(3, 30))
	os.RemoveAll(filepath.Join(dir, "Show/S01"))
	// The files' events and the folder's may come in different batches:
	// the index must come to 1 file in 2 folders.
	files := hasFiles(1, 10)
	awaitStatus(t, s, "Media", "a folder deleted (1 file, 2 folders)", func(st ShareStatus) bool { return files(st) && st.Dirs == 2 })
	if rec := s.Recent(10); len(rec) != 1 || rec[0].Path != "Show/S02/E01.mkv" {
		t.Errorf("recent = %+v", rec)
	}
}

func TestWatchRenameFolder(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "Show/S01/E01.mkv", 10)
	writeFile(t, dir, "Show/S01/E02.mkv", 10)
	s, _ := newRunningSet(t, Share{Name: "Media", Path: dir})
	awaitStatus(t, s, "Media", "the first scan", hasFiles(2, 20))

	if err := os.Rename(filepath.Join(dir, "Show"), filepath.Join(dir, "Show (2024)")); err != nil {
		t.Fatal(err)
	}
	awaitStatus(t, s, "Media", "the renamed folder", func(st ShareStatus) bool {
		rec := s.Recent(10)
		return hasFiles(2, 20)(st) && st.Dirs == 2 && len(rec) == 2 && strings.HasPrefix(rec[0].Path, "Show (2024)/S01/")
	})
	// The watches follow the new names: a file made and removed in the
	// renamed folder's subfolder is seen both times.
	writeFile(t, dir, "Show (2024)/S01/E03.mkv", 10)
	awaitStatus(t, s, "Media", "a file in the renamed folder", hasFiles(3, 30))
	os.Remove(filepath.Join(dir, "Show (2024)/S01/E03.mkv"))
	awaitStatus(t, s, "Media", "its removal", hasFiles(2, 20))
}

func TestWatchMoveOutAndIn(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	writeFile(t, dir, "Season 1/E01.mkv", 10)
	writeFile(t, dir, "Season 1/Extras/Making of.mkv", 10)
	writeFile(t, dir, "Keep.mkv", 1)
	writeFile(t, outside, "Season 2/E01.mkv", 20)
	writeFile(t, outside, "Season 2/Extras/Bloopers.mkv", 20)
	s, _ := newRunningSet(t, Share{Name: "Media", Path: dir})
	awaitStatus(t, s, "Media", "the first scan", hasFiles(3, 21))

	if err := os.Rename(filepath.Join(dir, "Season 1"), filepath.Join(outside, "Season 1")); err != nil {
		t.Fatal(err)
	}
	st := awaitStatus(t, s, "Media", "a folder moved out", hasFiles(1, 1))
	if st.Dirs != 0 {
		t.Errorf("dirs = %d, want 0", st.Dirs)
	}
	if err := os.Rename(filepath.Join(outside, "Season 2"), filepath.Join(dir, "Season 2")); err != nil {
		t.Fatal(err)
	}
	awaitStatus(t, s, "Media", "a folder moved in", hasFiles(3, 41))
	// Changes outside the share are not seen; changes in what moved in are.
	writeFile(t, outside, "Season 1/E02.mkv", 10)
	writeFile(t, dir, "Season 2/Extras/Trailer.mkv", 5)
	awaitStatus(t, s, "Media", "a file in the moved-in folder", hasFiles(4, 46))
}

func TestWatchChunkedWrite(t *testing.T) {
	// A file written in many chunks, each well within the settle time of
	// the last, is counted once, with its final size.
	dir := t.TempDir()
	log, _ := testLogger(t)
	s := &Set{Logger: log, Settle: 300 * time.Millisecond}
	if err := s.Add(Share{Name: "Media", Path: dir}); err != nil {
		t.Fatal(err)
	}
	runSet(t, s)
	awaitStatus(t, s, "Media", "the first scan", watching)

	// Record every count the status page could have shown.
	var mu sync.Mutex
	var seen []string
	ch, cancel := s.Subscribe()
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for range ch {
			st := shareStatus(t, s, "Media")
			mu.Lock()
			seen = append(seen, fmt.Sprintf("%d/%d", st.Files, st.Bytes))
			mu.Unlock()
		}
	}()

	const chunks, chunk = 100, 64 << 10
	f, err := os.Create(filepath.Join(dir, "Film.mkv"))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, chunk)
	var stall time.Duration // the longest time between two writes
	last := time.Now()
	for range chunks {
		if _, err := f.Write(buf); err != nil {
			t.Fatal(err)
		}
		stall = max(stall, time.Since(last))
		last = time.Now()
		time.Sleep(5 * time.Millisecond) // a copy in progress
	}
	f.Close()
	awaitStatus(t, s, "Media", "the copied file", hasFiles(1, chunks*chunk))
	cancel()
	<-stopped
	mu.Lock()
	defer mu.Unlock()
	if stall > s.Settle/2 {
		// The machine is too busy for the copy to look like one.
		t.Skipf("the writer stalled for %v between two writes; settle time is %v", stall, s.Settle)
	}
	final := fmt.Sprintf("1/%d", chunks*chunk)
	for _, c := range seen {
		if c != "0/0" && c != final {
			t.Errorf("the status showed %s while the file was copied; want 0/0 or %s (all: %q)", c, final, seen)
			break
		}
	}
}

func TestShareFolderRemovedAndRestored(t *testing.T) {
	usb, other := t.TempDir(), t.TempDir()
	writeFile(t, usb, "Films/A.mkv", 10)
	writeFile(t, other, "B.mkv", 20)
	s, lb := newRunningSet(t, Share{Name: "USB", Path: usb}, Share{Name: "Other", Path: other})
	awaitStatus(t, s, "USB", "the first scan", hasFiles(1, 10))
	awaitStatus(t, s, "Other", "the first scan", hasFiles(1, 20))

	// The disk is unplugged: its folder is gone.
	if err := os.RemoveAll(usb); err != nil {
		t.Fatal(err)
	}
	st := awaitStatus(t, s, "USB", "offline", func(st ShareStatus) bool { return st.State == StateOffline })
	if st.Reason != "folder missing" || st.Files != 0 || len(s.Recent(10)) != 1 {
		t.Errorf("offline status = %+v, recent %+v", st, s.Recent(10))
	}
	if !contains(lb.String(), "share is offline") {
		t.Error("going offline was not logged")
	}
	// The other share carries on.
	writeFile(t, other, "C.mkv", 5)
	awaitStatus(t, s, "Other", "a new file while the other share is offline", hasFiles(2, 25))

	// The disk comes back, with more on it.
	writeFile(t, usb, "Films/A.mkv", 10)
	writeFile(t, usb, "Films/D.mkv", 30)
	awaitStatus(t, s, "USB", "back online", hasFiles(2, 40))
	writeFile(t, usb, "E.mkv", 1)
	awaitStatus(t, s, "USB", "a new file after coming back", hasFiles(3, 41))

	// Renamed away and back, as an unmount and remount look from above.
	moved := usb + ".away"
	if err := os.Rename(usb, moved); err != nil {
		t.Fatal(err)
	}
	awaitStatus(t, s, "USB", "offline", func(st ShareStatus) bool { return st.State == StateOffline })
	if err := os.Rename(moved, usb); err != nil {
		t.Fatal(err)
	}
	awaitStatus(t, s, "USB", "back online", hasFiles(3, 41))
}

func TestShareFolderMissingAtStart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "not yet")
	s, _ := newRunningSet(t, Share{Name: "Later", Path: dir})
	awaitStatus(t, s, "Later", "offline", func(st ShareStatus) bool {
		return st.State == StateOffline && st.Reason == "folder missing"
	})
	writeFile(t, dir, "a.mkv", 1)
	awaitStatus(t, s, "Later", "online", hasFiles(1, 1))
}

func TestRunSharesAtRunTime(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	writeFile(t, a, "a.mkv", 1)
	writeFile(t, b, "b1.flac", 2)
	writeFile(t, b, "Sub/b2.flac", 3)
	s, _ := newRunningSet(t, Share{Name: "A", Path: a})
	awaitStatus(t, s, "A", "the first scan", hasFiles(1, 1))

	if err := s.Add(Share{Name: "B", Path: b}); err != nil {
		t.Fatal(err)
	}
	st := awaitStatus(t, s, "B", "a share added at run time", hasFiles(2, 5))
	if st.Audio != 2 || st.Dirs != 1 {
		t.Errorf("status = %+v", st)
	}
	if err := s.Rename("B", "Music"); err != nil {
		t.Fatal(err)
	}
	if err := s.Rename("A", "music"); !errors.Is(err, ErrShareExists) {
		t.Errorf("Rename to a name in use: %v", err)
	}
	if err := s.Rename("Nope", "X"); !errors.Is(err, ErrNoShare) {
		t.Errorf("Rename of an unknown share: %v", err)
	}
	if err := s.Rename("Music", ".x"); !errors.Is(err, ErrBadShareName) {
		t.Errorf("Rename to a bad name: %v", err)
	}
	// The renamed share keeps its index and its watches.
	writeFile(t, b, "Sub/b3.flac", 4)
	awaitStatus(t, s, "Music", "a new file in the renamed share", hasFiles(3, 9))
	if rec := s.Recent(1); len(rec) != 1 || rec[0].Share != "Music" || rec[0].Path != "Sub/b3.flac" || rec[0].Kind != Audio {
		t.Errorf("recent = %+v", rec)
	}
	if root, err := s.Root("Music"); err != nil {
		t.Errorf("Root of the renamed share: %v", err)
	} else {
		root.Close()
	}

	if err := s.Remove("A"); err != nil {
		t.Fatal(err)
	}
	if st := s.Status(); len(st) != 1 || st[0].Name != "Music" {
		t.Errorf("status after Remove = %+v", st)
	}
	// Re-adding a share under a removed one's name starts afresh.
	if err := s.Add(Share{Name: "A", Path: a}); err != nil {
		t.Fatal(err)
	}
	awaitStatus(t, s, "A", "the share added again", hasFiles(1, 1))
}

func TestRunTwice(t *testing.T) {
	s, _ := newRunningSet(t)
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.mu.RLock()
		running := s.running != nil
		s.mu.RUnlock()
		if running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Run did not start")
		}
		time.Sleep(time.Millisecond)
	}
	if err := s.Run(t.Context()); !errors.Is(err, ErrRunning) {
		t.Errorf("second Run: %v, want ErrRunning", err)
	}
}

func TestSubscribeCoalesces(t *testing.T) {
	dir := t.TempDir()
	s, _ := newRunningSet(t, Share{Name: "Media", Path: dir})
	ch, cancel := s.Subscribe()
	// A subscriber that does not read holds nothing up.
	for i := range 50 {
		writeFile(t, dir, fmt.Sprintf("%02d.mkv", i), 1)
	}
	awaitStatus(t, s, "Media", "all files", hasFiles(50, 50))
	if len(ch) != 1 {
		t.Errorf("%d notifications waiting, want 1", len(ch))
	}
	cancel()
	cancel()
	<-ch
	if _, ok := <-ch; ok {
		t.Error("channel not closed by cancel")
	}
}

func TestPolling(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.mkv", 1)
	s, _ := newRunningSet(t, Share{Name: "NAS", Path: dir})
	awaitStatus(t, s, "NAS", "watching", hasFiles(1, 1))
	if err := s.SetRescanInterval("NAS", 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	st := awaitStatus(t, s, "NAS", "polling", func(st ShareStatus) bool { return st.State == StatePolling && st.Files == 1 })
	if !strings.Contains(st.Reason, "rescan_interval") || st.RescanInterval != 100*time.Millisecond {
		t.Errorf("status = %+v", st)
	}
	writeFile(t, dir, "Sub/b.mkv", 2)
	awaitStatus(t, s, "NAS", "a file found by a rescan", func(st ShareStatus) bool {
		return st.State == StatePolling && st.Files == 2 && st.Bytes == 3
	})
	os.Remove(filepath.Join(dir, "a.mkv"))
	awaitStatus(t, s, "NAS", "a file gone at a rescan", func(st ShareStatus) bool {
		return st.State == StatePolling && st.Files == 1 && st.Bytes == 2
	})
	if err := s.SetRescanInterval("NAS", 0); err != nil {
		t.Fatal(err)
	}
	awaitStatus(t, s, "NAS", "watching again", hasFiles(1, 2))
	if err := s.SetRescanInterval("Nope", 0); !errors.Is(err, ErrNoShare) {
		t.Errorf("SetRescanInterval of an unknown share: %v", err)
	}
}

// TestWatchLimitUserNamespace runs the watch limit for real: it runs
// itself again in a new user namespace whose inotify watch limit is set
// to 5 (a per-namespace limit, so the machine's is untouched), and there
// indexes a share of 20 folders.
func TestWatchLimitUserNamespace(t *testing.T) {
	if os.Getenv("LIBRARY_TEST_USERNS") == "1" {
		watchLimitChild(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestWatchLimitUserNamespace$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "LIBRARY_TEST_USERNS=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
	}
	out, err := cmd.CombinedOutput()
	if err != nil && strings.Contains(string(out), "--- SKIP") || errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EINVAL) {
		t.Skipf("no user namespaces here: %v\n%s", err, out)
	}
	if err != nil {
		t.Fatalf("in a user namespace: %v\n%s", err, out)
	}
	t.Logf("in a user namespace:\n%s", out)
}

func watchLimitChild(t *testing.T) {
	if err := os.WriteFile("/proc/sys/user/max_inotify_watches", []byte("5"), 0); err != nil {
		t.Skipf("cannot lower the watch limit: %v", err)
	}
	dir := t.TempDir()
	for i := range 20 {
		writeFile(t, dir, fmt.Sprintf("Folder %02d/a.mkv", i), 1)
	}
	s, lb := newRunningSet(t, Share{Name: "Big", Path: dir})
	st := awaitStatus(t, s, "Big", "polling", func(st ShareStatus) bool { return st.State == StatePolling && st.Files == 20 })
	if !strings.Contains(st.Reason, "watch limit") {
		t.Errorf("reason = %q", st.Reason)
	}
	if n := strings.Count(lb.String(), "sysctl -w fs.inotify.max_user_watches="); n != 1 {
		t.Errorf("the fix is explained %d times, want once", n)
	}
	// The rescans find what is added.
	writeFile(t, dir, "Folder 19/b.mkv", 1)
	awaitStatus(t, s, "Big", "a file found by a rescan", func(st ShareStatus) bool { return st.State == StatePolling && st.Files == 21 })
}
