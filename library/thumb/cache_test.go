package thumb

import (
	"bytes"
	"errors"
	"fmt"
	"image/jpeg"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// counted returns a src giving b, and the count of its calls.
func counted(b []byte) (func() (io.ReadCloser, error), *atomic.Int64) {
	n := new(atomic.Int64)
	return func() (io.ReadCloser, error) {
		n.Add(1)
		return io.NopCloser(bytes.NewReader(b)), nil
	}, n
}

func TestCacheHit(t *testing.T) {
	c := &Cache{Dir: filepath.Join(t.TempDir(), "thumbs")}
	src, calls := counted(encodeJPEGTest(t, quadrants(800, 600)))
	p1, err := c.Thumbnail("Movies\x00Film/poster.jpg\x001234", SizeTN, src)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := c.Thumbnail("Movies\x00Film/poster.jpg\x001234", SizeTN, src)
	if err != nil {
		t.Fatal(err)
	}
	if p1 != p2 || calls.Load() != 1 {
		t.Fatalf("paths %q %q, src called %d times", p1, p2, calls.Load())
	}
	if s := c.Stats(); s.Made != 1 || s.Hits != 1 {
		t.Fatalf("stats %+v", s)
	}
	if filepath.Dir(p1) != c.Dir || !strings.HasSuffix(p1, "-160.jpg") || len(filepath.Base(p1)) != 32+len("-160.jpg") {
		t.Errorf("path %q", p1)
	}
	b, err := os.ReadFile(p1)
	if err != nil {
		t.Fatal(err)
	}
	if cfg, err := jpeg.DecodeConfig(bytes.NewReader(b)); err != nil || cfg.Width != 160 || cfg.Height != 120 {
		t.Fatalf("thumbnail %+v, %v", cfg, err)
	}
	if s := c.Stats(); s.Bytes != int64(len(b)) {
		t.Errorf("Bytes %d, the file has %d", s.Bytes, len(b))
	}
	info, _ := os.Stat(c.Dir)
	if info.Mode().Perm() != 0o700 {
		t.Errorf("folder mode %v", info.Mode())
	}

	// Another size, another key: made again. A changed stamp is another key.
	p3, err := c.Thumbnail("Movies\x00Film/poster.jpg\x001234", SizeSmall, src)
	if err != nil || p3 == p1 {
		t.Fatalf("size 320: %q, %v", p3, err)
	}
	p4, err := c.Thumbnail("Movies\x00Film/poster.jpg\x001235", SizeTN, src)
	if err != nil || p4 == p1 {
		t.Fatalf("new stamp: %q, %v", p4, err)
	}
	if calls.Load() != 3 || c.Stats().Made != 3 {
		t.Fatalf("src called %d times, stats %+v", calls.Load(), c.Stats())
	}

	// A new Cache on the same folder finds them: nothing is decoded.
	c2 := &Cache{Dir: c.Dir}
	if p, err := c2.Thumbnail("Movies\x00Film/poster.jpg\x001234", SizeTN, src); err != nil || p != p1 {
		t.Fatalf("after a restart: %q, %v", p, err)
	}
	if calls.Load() != 3 || c2.Stats().Made != 0 || c2.Stats().Bytes == 0 {
		t.Fatalf("after a restart: src called %d times, stats %+v", calls.Load(), c2.Stats())
	}
}

// TestCacheConcurrent asks for one thumbnail from many goroutines at once:
// it is made once.
func TestCacheConcurrent(t *testing.T) {
	c := &Cache{Dir: t.TempDir()}
	data := encodeJPEGTest(t, quadrants(1000, 1000))
	entered, release := make(chan struct{}), make(chan struct{})
	var calls atomic.Int64
	src := func() (io.ReadCloser, error) {
		if calls.Add(1) == 1 {
			close(entered)
		}
		<-release
		return io.NopCloser(bytes.NewReader(data)), nil
	}
	const n = 16
	var ready, done sync.WaitGroup
	paths := make([]string, n)
	errs := make([]error, n)
	ready.Add(n)
	done.Add(n)
	for i := range n {
		go func() {
			defer done.Done()
			ready.Done()
			paths[i], errs[i] = c.Thumbnail("k", SizeTN, src)
		}()
	}
	ready.Wait()
	<-entered
	close(release)
	done.Wait()
	for i := range n {
		if errs[i] != nil || paths[i] != paths[0] {
			t.Fatalf("call %d: %q, %v", i, paths[i], errs[i])
		}
	}
	if calls.Load() != 1 || c.Stats().Made != 1 {
		t.Fatalf("src called %d times, stats %+v", calls.Load(), c.Stats())
	}
}

// TestCacheEvict keeps the folder under MaxBytes by removing the least
// recently used thumbnails, never young ones.
func TestCacheEvict(t *testing.T) {
	data := encodeJPEGTest(t, photo(400, 300))
	probe := &Cache{Dir: t.TempDir()}
	p, err := probe.Thumbnail("size", SizeTN, func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		t.Fatal(err)
	}
	info, _ := os.Stat(p)
	one := info.Size() // every thumbnail below is this big: same picture

	c := &Cache{Dir: t.TempDir(), MaxBytes: one*7/2 + 1} // room for 3.5
	old := time.Now().Add(-24 * time.Hour)
	src, calls := counted(data)
	path := func(i int) string {
		p, err := c.Thumbnail(fmt.Sprint("key", i), SizeTN, src)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	var paths []string
	for i := range 3 {
		paths = append(paths, path(i))
		when := old.Add(time.Duration(i) * time.Minute)
		os.Chtimes(paths[i], when, when) // made long ago, key0 first
	}
	if c.Stats().Evicted != 0 {
		t.Fatalf("evicted under the cap: %+v", c.Stats())
	}
	// key0 is used again: it becomes the most recent (touched).
	path(0)
	if info, _ := os.Stat(paths[0]); time.Since(info.ModTime()) > time.Minute {
		t.Fatalf("key0 not touched: %v", info.ModTime())
	}
	// Two more: the folder goes over 3.5, the least recently used go.
	paths = append(paths, path(3))
	if _, err := os.Stat(paths[1]); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("key1 (least recently used) kept: %v", err)
	}
	for _, i := range []int{0, 2, 3} {
		if _, err := os.Stat(paths[i]); err != nil {
			t.Errorf("key%d removed: %v", i, err)
		}
	}
	s := c.Stats()
	if s.Evicted != 1 || s.Bytes != 3*one || s.Bytes > c.MaxBytes {
		t.Errorf("stats %+v, one is %d", s, one)
	}
	// key1 again: made again, and key2 is now the least recently used.
	before := calls.Load()
	path(1)
	if calls.Load() != before+1 {
		t.Errorf("key1 not made again")
	}
	if _, err := os.Stat(paths[2]); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("key2 kept: %v", err)
	}
	// Now every thumbnail is young: over the cap, none is removed.
	path(4)
	if s := c.Stats(); s.Evicted != 2 || s.Bytes != 4*one {
		t.Errorf("young ones evicted: %+v", s)
	}
	entries, _ := os.ReadDir(c.Dir)
	if len(entries) != 4 {
		t.Errorf("%d files in the folder", len(entries))
	}
}

// TestCacheStartup removes what a crash left and counts what is there.
func TestCacheStartup(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-time.Hour)
	for name, size := range map[string]int{".tmp-123": 10, ".tmp-456": 20, "0123-160.jpg": 1000, "other": 5} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, make([]byte, size), 0o600); err != nil {
			t.Fatal(err)
		}
		if name != ".tmp-456" {
			os.Chtimes(p, old, old)
		}
	}
	c := &Cache{Dir: dir}
	src, _ := counted(encodeJPEGTest(t, quadrants(10, 10)))
	if _, err := c.Thumbnail("k", SizeTN, src); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".tmp-123")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("an old temporary file kept: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".tmp-456")); err != nil {
		t.Errorf("a young temporary file (being written) removed: %v", err)
	}
	if s := c.Stats(); s.Bytes <= 1000 || s.Bytes > 2000 {
		t.Errorf("Bytes %d, want 1000 and the new one", s.Bytes)
	}
	// Over the cap at startup: the old thumbnail goes at once.
	c2 := &Cache{Dir: dir, MaxBytes: 500}
	if _, err := c2.Thumbnail("k", SizeTN, src); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "0123-160.jpg")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("over the cap at startup, the old thumbnail kept: %v", err)
	}
}

// TestCacheFailures remembers pictures that cannot be made, not read
// errors.
func TestCacheFailures(t *testing.T) {
	c := &Cache{Dir: t.TempDir()}
	src, calls := counted([]byte("not a picture at all"))
	for range 3 {
		if _, err := c.Thumbnail("bad", SizeTN, src); !errors.Is(err, ErrFormat) {
			t.Fatalf("err %v", err)
		}
	}
	trunc, tcalls := counted(encodePNGTest(t, photo(100, 100))[:500])
	for range 2 {
		if _, err := c.Thumbnail("truncated", SizeTN, trunc); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated: %v", err)
		}
	}
	if calls.Load() != 1 || tcalls.Load() != 1 || c.Stats().Failed != 2 {
		t.Fatalf("src called %d and %d times, stats %+v", calls.Load(), tcalls.Load(), c.Stats())
	}
	var opens int
	missing := func() (io.ReadCloser, error) {
		opens++
		return os.Open(filepath.Join(t.TempDir(), "gone.jpg"))
	}
	for range 2 {
		if _, err := c.Thumbnail("gone", SizeTN, missing); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("missing: %v", err)
		}
	}
	if opens != 2 {
		t.Errorf("a missing file remembered: opened %d times", opens)
	}
	entries, _ := os.ReadDir(c.Dir)
	if len(entries) != 0 {
		t.Errorf("files left: %v", entries)
	}
}

func TestCacheConfigErrors(t *testing.T) {
	src, calls := counted(nil)
	if _, err := (&Cache{}).Thumbnail("k", SizeTN, src); !errors.Is(err, ErrNoDir) {
		t.Errorf("no Dir: %v", err)
	}
	c := &Cache{Dir: t.TempDir()}
	for _, size := range []int{0, -1, MaxSize + 1} {
		if _, err := c.Thumbnail("k", size, src); !errors.Is(err, ErrSize) {
			t.Errorf("size %d: %v", size, err)
		}
	}
	if calls.Load() != 0 {
		t.Errorf("src called")
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	if _, err := (&Cache{Dir: filepath.Join(file, "thumbs")}).Thumbnail("k", SizeTN, src); err == nil {
		t.Errorf("a folder under a file: no error")
	}
}

// TestCacheLogs logs at debug level only for what it makes.
func TestCacheLogs(t *testing.T) {
	var buf bytes.Buffer
	c := &Cache{Dir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	src, _ := counted(encodeJPEGTest(t, quadrants(10, 10)))
	if _, err := c.Thumbnail("k", SizeTN, src); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "thumbnail made") {
		t.Errorf("log: %s", buf.String())
	}
}

// TestCacheDirRemoved: the folder removed while running is made again.
func TestCacheDirRemoved(t *testing.T) {
	c := &Cache{Dir: filepath.Join(t.TempDir(), "thumbs")}
	src, calls := counted(encodeJPEGTest(t, quadrants(10, 10)))
	if _, err := c.Thumbnail("a", SizeTN, src); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(c.Dir); err != nil {
		t.Fatal(err)
	}
	p, err := c.Thumbnail("a", SizeTN, src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil || calls.Load() != 2 {
		t.Fatalf("%v, src called %d times", err, calls.Load())
	}
	if _, err := c.Thumbnail("nil", SizeTN, func() (io.ReadCloser, error) { return nil, nil }); err == nil {
		t.Error("a nil reader: no error")
	}
}

// TestCacheWorkers makes at most Workers thumbnails at once.
func TestCacheWorkers(t *testing.T) {
	c := &Cache{Dir: t.TempDir(), Workers: 2}
	data := encodeJPEGTest(t, photo(600, 400))
	var active, most atomic.Int64
	src := func() (io.ReadCloser, error) {
		n := active.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		return struct {
			io.Reader
			io.Closer
		}{bytes.NewReader(data), closerFunc(func() error { active.Add(-1); return nil })}, nil
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if _, err := c.Thumbnail(fmt.Sprint(i), SizeTN, src); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if m := most.Load(); m < 1 || m > 2 {
		t.Errorf("%d made at once", m)
	}
	if s := c.Stats(); s.Made != 8 {
		t.Errorf("stats %+v", s)
	}
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }
