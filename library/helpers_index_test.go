package library

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

// logBuffer collects log lines, for tests that check what was logged, and
// passes them on to the test's log.
type logBuffer struct {
	t  testing.TB
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.t.Logf("%s", bytes.TrimRight(p, "\n"))
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func testLogger(t testing.TB) (*slog.Logger, *logBuffer) {
	lb := &logBuffer{t: t}
	return slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug})), lb
}

// fakeSource is an eventSource that tests feed by hand. It records the
// watched folders, and can fail Add with ENOSPC past a limit.
type fakeSource struct {
	mu      sync.Mutex
	watched map[string]bool
	adds    []string
	limit   int              // Add fails with ENOSPC once this many are watched; 0: no limit
	onAdd   func(rel string) // if set, called by Add after the watch is set
	closed  bool
	events  chan fsnotify.Event
	errors  chan error
}

var _ eventSource = (*fakeSource)(nil)

func newFakeSource() *fakeSource {
	return &fakeSource{
		watched: make(map[string]bool),
		events:  make(chan fsnotify.Event, 16),
		errors:  make(chan error, 16),
	}
}

func (f *fakeSource) Add(rel string) error {
	f.mu.Lock()
	if f.limit > 0 && !f.watched[rel] && len(f.watched) >= f.limit {
		f.mu.Unlock()
		return fmt.Errorf("inotify_add_watch %s: %w", rel, syscall.ENOSPC)
	}
	f.watched[rel] = true
	f.adds = append(f.adds, rel)
	hook := f.onAdd
	f.mu.Unlock()
	if hook != nil {
		hook(rel)
	}
	return nil
}

func (f *fakeSource) Remove(rel string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.watched[rel] {
		return fsnotify.ErrNonExistentWatch
	}
	delete(f.watched, rel)
	return nil
}

func (f *fakeSource) Events() <-chan fsnotify.Event { return f.events }
func (f *fakeSource) Errors() <-chan error          { return f.errors }

func (f *fakeSource) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	clear(f.watched)
	return nil
}

// watches returns the watched folders, sorted.
func (f *fakeSource) watches() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for rel := range f.watched {
		out = append(out, rel)
	}
	slices.Sort(out)
	return out
}

// newTestIndexer returns an indexer of the folder dir that is driven by
// hand: events go in through x.event, time through flush's argument. It
// has scanned dir as it is at now.
func newTestIndexer(t *testing.T, dir string, now time.Time) (*indexer, *fakeSource, *logBuffer) {
	t.Helper()
	log, lb := testLogger(t)
	s := &Set{Logger: log, Settle: 100 * time.Millisecond, RecentMax: 5}
	src := newFakeSource()
	s.newSource = func(string) (eventSource, error) { return src, nil }
	sh := &share{Share: Share{Name: "Test", Path: dir}}
	x := newIndexer(s, sh, 0)
	id, err := sh.identify()
	if err != nil {
		t.Fatal(err)
	}
	x.id, x.src = id, src
	t.Cleanup(x.teardown)
	x.startScanSync(t, now)
	return x, src, lb
}

// startScanSync runs a full scan of x in this goroutine and installs it.
func (x *indexer) startScanSync(t *testing.T, now time.Time) {
	t.Helper()
	x.scan = &fullScan{why: "test scan", started: now}
	res := x.scanAll(context.Background(), x.src, &x.scan.progress, now)
	if err := x.finishScan(res, now); err != nil {
		t.Fatal(err)
	}
}

// waitScan waits for the full scan that x started and installs it.
func (x *indexer) waitScan(t *testing.T, now time.Time) {
	t.Helper()
	if x.scan == nil {
		t.Fatal("no scan is running")
	}
	res := <-x.scan.done
	if err := x.finishScan(res, now); err != nil {
		t.Fatal(err)
	}
}

// ev feeds x one event.
func (x *indexer) ev(rel string, op fsnotify.Op, now time.Time) {
	x.event(fsnotify.Event{Name: rel, Op: op}, now)
}

// counts returns the index's totals.
func (x *indexer) totals() counts {
	if x.ix == nil {
		return counts{}
	}
	return x.ix.counts
}

// files lists the indexed files as "path size", sorted.
func (x *indexer) files() []string {
	var out []string
	var walk func(d *dirNode, rel string)
	walk = func(d *dirNode, rel string) {
		for f := range d.files.all() {
			out = append(out, fmt.Sprintf("%s %d", joinRel(rel, f.name), f.size))
		}
		for _, c := range d.dirs {
			walk(c, joinRel(rel, c.name))
		}
	}
	if x.ix != nil {
		walk(x.ix.root, ".")
	}
	slices.Sort(out)
	return out
}

// writeFile writes size bytes to dir/rel, making folders as needed.
func writeFile(t testing.TB, dir, rel string, size int) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, bytes.Repeat([]byte("x"), size), 0o644); err != nil {
		t.Fatal(err)
	}
}

// runSet runs s until the test ends, and then checks that Run returns
// and leaves no goroutine behind.
func runSet(t *testing.T, s *Set) {
	t.Helper()
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return after its context was cancelled")
		}
		checkGoroutines(t, before)
	})
}

// checkGoroutines fails the test if more goroutines than before are left
// once the ones that are ending have ended.
func checkGoroutines(t testing.TB, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines left, %d before:\n%s", runtime.NumGoroutine(), before, buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// newRunningSet returns a Set with fast settings for the given shares,
// running until the test ends.
func newRunningSet(t *testing.T, shares ...Share) (*Set, *logBuffer) {
	t.Helper()
	log, lb := testLogger(t)
	s := &Set{
		Logger:         log,
		Settle:         50 * time.Millisecond,
		OfflineCheck:   50 * time.Millisecond,
		FallbackRescan: 100 * time.Millisecond,
	}
	for _, sh := range shares {
		if err := s.Add(sh); err != nil {
			t.Fatal(err)
		}
	}
	runSet(t, s)
	return s, lb
}

// shareStatus returns the status of the named share.
func shareStatus(t testing.TB, s *Set, name string) ShareStatus {
	t.Helper()
	for _, st := range s.Status() {
		if st.Name == name {
			return st
		}
	}
	t.Fatalf("no share %q", name)
	return ShareStatus{}
}

// awaitStatus waits, through Subscribe, until the named share's status
// satisfies ok, and returns it. It fails the test after a while.
func awaitStatus(t testing.TB, s *Set, name string, what string, ok func(ShareStatus) bool) ShareStatus {
	t.Helper()
	ch, cancel := s.Subscribe()
	defer cancel()
	timeout := time.After(20 * time.Second)
	for {
		st := shareStatus(t, s, name)
		if ok(st) {
			return st
		}
		select {
		case <-ch:
		case <-timeout:
			t.Fatalf("share %s: timed out waiting for %s; status %+v", name, what, st)
		}
	}
}

// watching is a condition for awaitStatus.
func watching(st ShareStatus) bool { return st.State == StateWatching }

// hasFiles returns a condition: watching with n files of total bytes.
func hasFiles(n, bytes int64) func(ShareStatus) bool {
	return func(st ShareStatus) bool {
		return st.State == StateWatching && st.Files == n && st.Bytes == bytes
	}
}

// contains reports whether s contains sub, for log checks.
func contains(s, sub string) bool { return strings.Contains(s, sub) }
