package library

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

// The tests in this file run the Set with a fake event source, to reach
// states that real folders reach only by chance.

// newFakeSet returns a Set like newRunningSet's whose shares get src as
// their event source, not yet running.
func newFakeSet(t *testing.T, src *fakeSource, shares ...Share) (*Set, *logBuffer) {
	t.Helper()
	log, lb := testLogger(t)
	s := &Set{Logger: log, Settle: time.Millisecond, OfflineCheck: 50 * time.Millisecond, FallbackRescan: 100 * time.Millisecond}
	s.newSource = func(string) (eventSource, error) { return src, nil }
	for _, sh := range shares {
		if err := s.Add(sh); err != nil {
			t.Fatal(err)
		}
	}
	return s, lb
}

func TestStatusWhileScanning(t *testing.T) {
	// The first scan is held up in one folder (a slow disk): meanwhile the
	// status shows it scanning with its progress, and the share serves.
	dir := t.TempDir()
	for i := range 30 {
		writeFile(t, dir, fmt.Sprintf("A/%02d.mkv", i), 1)
	}
	writeFile(t, dir, "Slow/x.mkv", 1)
	src := newFakeSource()
	release := make(chan struct{})
	src.onAdd = func(rel string) {
		if rel == "Slow" {
			<-release
		}
	}
	s, _ := newFakeSet(t, src, Share{Name: "Media", Path: dir})
	runSet(t, s)
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unblock) // before runSet's, which waits for Run
	st := awaitStatus(t, s, "Media", "scan progress", func(st ShareStatus) bool {
		return st.State == StateScanning && st.Progress.Dirs >= 2 // the top and A
	})
	if st.Reason != "first scan" || st.Files != 0 {
		t.Errorf("status while scanning = %+v", st)
	}
	root, err := s.Root("Media")
	if err != nil {
		t.Fatalf("Root while scanning: %v", err)
	}
	defer root.Close()
	f, err := root.Open("A/00.mkv")
	if err != nil {
		t.Fatalf("open while scanning: %v", err)
	}
	if b, _ := io.ReadAll(f); len(b) != 1 {
		t.Errorf("read %d bytes", len(b))
	}
	f.Close()
	unblock()
	st = awaitStatus(t, s, "Media", "the scan's end", hasFiles(31, 31))
	if st.Progress != (Progress{}) || st.Dirs != 2 {
		t.Errorf("status after the scan = %+v", st)
	}
}

func TestOverflowRescans(t *testing.T) {
	dir := t.TempDir()
	src := newFakeSource()
	s, lb := newFakeSet(t, src, Share{Name: "Media", Path: dir})
	runSet(t, s)
	awaitStatus(t, s, "Media", "the first scan", watching)
	// Events were lost: nothing tells of these files but a rescan.
	writeFile(t, dir, "Lost/a.mkv", 1)
	writeFile(t, dir, "b.mkv", 2)
	src.errors <- fsnotify.ErrEventOverflow
	awaitStatus(t, s, "Media", "the rescan", hasFiles(2, 3))
	if !strings.Contains(lb.String(), "overflowed") {
		t.Error("the overflow was not logged")
	}
	// Other errors are logged and change nothing.
	src.errors <- errors.New("something odd")
	writeFile(t, dir, "c.mkv", 3)
	src.events <- fsnotify.Event{Name: "c.mkv", Op: fsnotify.Create}
	awaitStatus(t, s, "Media", "a new file", hasFiles(3, 6))
}

func TestCannotWatch(t *testing.T) {
	// No inotify instance is to be had (fs.inotify.max_user_instances):
	// the share is rescanned instead, and the log says how to fix it.
	dir := t.TempDir()
	writeFile(t, dir, "a.mkv", 1)
	log, lb := testLogger(t)
	s := &Set{Logger: log, Settle: time.Millisecond, OfflineCheck: 50 * time.Millisecond, FallbackRescan: 50 * time.Millisecond}
	s.newSource = func(string) (eventSource, error) {
		return nil, fmt.Errorf("couldn't initialize inotify: %w", syscall.EMFILE)
	}
	if err := s.Add(Share{Name: "Media", Path: dir}); err != nil {
		t.Fatal(err)
	}
	runSet(t, s)
	st := awaitStatus(t, s, "Media", "polling", func(st ShareStatus) bool { return st.State == StatePolling && st.Files == 1 })
	if !strings.Contains(st.Reason, "instance limit") {
		t.Errorf("reason = %q", st.Reason)
	}
	if !strings.Contains(lb.String(), "sysctl -w fs.inotify.max_user_instances=") {
		t.Error("the fix is not logged")
	}
	writeFile(t, dir, "b.mkv", 1)
	awaitStatus(t, s, "Media", "a file found by a rescan", func(st ShareStatus) bool { return st.State == StatePolling && st.Files == 2 })
}

func TestRunStopsEverything(t *testing.T) {
	// Shares in every state at once; runSet checks that Run returns and
	// leaves no goroutine behind.
	watched, polled := t.TempDir(), t.TempDir()
	s, _ := newRunningSet(t,
		Share{Name: "Watched", Path: watched},
		Share{Name: "Polled", Path: polled},
		Share{Name: "Offline", Path: watched + "/missing"},
	)
	if err := s.SetRescanInterval("Polled", 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	awaitStatus(t, s, "Watched", "watching", watching)
	awaitStatus(t, s, "Polled", "polling", func(st ShareStatus) bool { return st.State == StatePolling })
	awaitStatus(t, s, "Offline", "offline", func(st ShareStatus) bool { return st.State == StateOffline })
	for i := range 20 {
		writeFile(t, watched, fmt.Sprintf("%d/f.mkv", i), 1)
	}
}
