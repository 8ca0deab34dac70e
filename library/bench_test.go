package library

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// Benchmarks of the index on a synthetic library. The tree is made once,
// of empty files, under os.TempDir() and kept there for later runs (it
// takes a few seconds to make); remove it by hand with
// rm -rf /tmp/mediaftpd-bench-*.
//
//	go test -run '^$' -bench . -benchmem ./library/

// Shape of the synthetic library: benchShows folders of benchSeasons
// folders each, every folder holding benchPerDir files.
const (
	benchShows   = 100
	benchSeasons = 49 // 100 + 100*49 = 5,000 folders
	benchPerDir  = 20 // 5,000 * 20 = 100,000 files
	benchFiles   = (benchShows + benchShows*benchSeasons) * benchPerDir
	benchFolders = benchShows + benchShows*benchSeasons
)

// benchFileTime is the modification time of the synthetic library's files.
var benchFileTime = time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)

// benchTree returns the synthetic library, making it if needed.
func benchTree(b *testing.B) string {
	b.Helper()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("mediaftpd-bench-%d-%d-old", benchFiles, benchFolders))
	done := filepath.Join(dir, ".complete")
	if _, err := os.Stat(done); err == nil {
		return dir
	}
	if err := os.RemoveAll(dir); err != nil {
		b.Fatal(err)
	}
	if err := makeTree(dir, benchShows, benchSeasons, benchPerDir); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(done, nil, 0o644); err != nil {
		b.Fatal(err)
	}
	return dir
}

// makeTree makes a synthetic media library at dir: shows folders ("Show
// 042"), each with seasons folders ("Season 07"), and perDir empty files
// in every one of them, named as real libraries name them and of mixed
// kinds (mostly video, some subtitles, artwork and music).
func makeTree(dir string, shows, seasons, perDir int) error {
	exts := []string{"mkv", "mkv", "mp4", "mkv", "srt", "mkv", "jpg", "flac", "m4v", "nfo"}
	files := func(d, prefix string) error {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		for i := range perDir {
			name := fmt.Sprintf("%s E%02d - Episode Title %d.%s", prefix, i+1, i, exts[i%len(exts)])
			p := filepath.Join(d, name)
			f, err := os.Create(p)
			if err != nil {
				return err
			}
			f.Close()
			// An old file, as a library's are: the first scan leaves
			// files modified within the settle time to settle.
			if err := os.Chtimes(p, benchFileTime, benchFileTime); err != nil {
				return err
			}
		}
		return nil
	}
	for s := range shows {
		show := fmt.Sprintf("Show %03d", s)
		if err := files(filepath.Join(dir, show), show+" Extras"); err != nil {
			return err
		}
		for n := range seasons {
			season := filepath.Join(dir, show, fmt.Sprintf("Season %02d", n+1))
			if err := files(season, fmt.Sprintf("%s S%02d", show, n+1)); err != nil {
				return err
			}
		}
	}
	return nil
}

// benchIndexer returns an indexer of dir, not watching.
func benchIndexer(b *testing.B, dir string) *indexer {
	b.Helper()
	s := &Set{Logger: slog.New(slog.DiscardHandler)}
	sh := &share{Share: Share{Name: "Bench", Path: dir}}
	x := newIndexer(s, sh, 0)
	id, err := sh.identify()
	if err != nil {
		b.Fatal(err)
	}
	x.id = id
	return x
}

// buildIndex scans the tree and makes its index, as the first scan does.
func (x *indexer) buildIndex(b *testing.B, src eventSource) *index {
	res := x.scanAll(context.Background(), src, &progress{}, time.Now())
	if res.err != nil {
		b.Fatal(res.err)
	}
	ix := newIndex(&x.sh.treeMu, res.tree, res.visited, x.recentMax)
	if ix.counts.files != benchFiles || ix.counts.dirs != benchFolders {
		b.Fatalf("indexed %d files in %d folders, want %d in %d", ix.counts.files, ix.counts.dirs, benchFiles, benchFolders)
	}
	return ix
}

// BenchmarkInitialScan measures the first scan of 100,000 files in 5,000
// folders with a warm page cache, without watches, and the heap the
// finished index holds per file (heap-B/file).
func BenchmarkInitialScan(b *testing.B) {
	x := benchIndexer(b, benchTree(b))
	x.buildIndex(b, nil) // warm the page cache
	b.ReportAllocs()
	for b.Loop() {
		x.buildIndex(b, nil)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchFiles, "ns/file")
	b.ReportMetric(heapPerFile(b, x), "heap-B/file")
}

// BenchmarkInitialScanWatched is BenchmarkInitialScan with an inotify
// watch set on each folder before it is read, as Run does.
func BenchmarkInitialScanWatched(b *testing.B) {
	dir := benchTree(b)
	x := benchIndexer(b, dir)
	x.buildIndex(b, nil)
	b.ReportAllocs()
	for b.Loop() {
		src, err := newFSNotifySource(dir)
		if err != nil {
			b.Fatal(err)
		}
		x.buildIndex(b, src)
		b.StopTimer()
		src.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchFiles, "ns/file")
}

// heapPerFile returns the live heap that one index of the tree holds,
// per file: HeapAlloc after a GC, with and without the index.
func heapPerFile(b *testing.B, x *indexer) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ix := x.buildIndex(b, nil)
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(ix)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / benchFiles
}

// BenchmarkNewFileLatency measures, with the default settings, the time
// from the last write to a new file until the index counts it
// (ms/counted). The file is written in ten chunks, 20 ms apart, as a copy
// would. The time is mostly Set.Settle, the quiet time waited for.
func BenchmarkNewFileLatency(b *testing.B) {
	dir := b.TempDir()
	s := &Set{Logger: slog.New(slog.DiscardHandler)}
	if err := s.Add(Share{Name: "Media", Path: dir}); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- s.Run(ctx) }()
	defer func() {
		cancel()
		<-ran
	}()
	awaitStatus(b, s, "Media", "the first scan", watching)
	ch, unsubscribe := s.Subscribe()
	defer unsubscribe()

	var total time.Duration
	chunk := make([]byte, 256<<10)
	n := int64(0)
	for b.Loop() {
		n++
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%06d.mkv", n)))
		if err != nil {
			b.Fatal(err)
		}
		for i := range 10 {
			if i > 0 {
				time.Sleep(20 * time.Millisecond)
			}
			f.Write(chunk)
		}
		last := time.Now()
		f.Close()
		for shareStatus(b, s, "Media").Files < n {
			<-ch
		}
		total += time.Since(last)
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/counted")
}

// BenchmarkSetRoot measures what each FTP command pays to reach its
// share's folder: Set.Root, a stat through the root, and closing it.
func BenchmarkSetRoot(b *testing.B) {
	dir := b.TempDir()
	s, err := NewSet(Share{Name: "Media", Path: dir})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		root, err := s.Root("Media")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := root.Stat("."); err != nil {
			b.Fatal(err)
		}
		root.Close()
	}
}

// benchSet returns a Set whose share "Bench" holds the index of the
// synthetic library, as Run leaves it after the first scan, and the paths
// of its folders.
func benchSet(b *testing.B) (*Set, []string) {
	b.Helper()
	s, err := NewSet(Share{Name: "Bench", Path: benchTree(b)})
	if err != nil {
		b.Fatal(err)
	}
	sh, _ := s.entry("Bench")
	x := newIndexer(s, sh, 0)
	if x.id, err = sh.identify(); err != nil {
		b.Fatal(err)
	}
	sh.ix = x.buildIndex(b, nil)
	var dirs []string
	if err := s.Walk("Bench", ".", AllFiles, func(rel string, e Entry) bool {
		if e.Dir {
			dirs = append(dirs, rel)
		}
		return true
	}); err != nil {
		b.Fatal(err)
	}
	return s, dirs
}

// BenchmarkChildren measures what a DLNA Browse asks of the index: the
// first page (50 entries) of a folder's media files, over every folder of
// the synthetic library in turn, their browsing order made already
// (ns/op is per page).
func BenchmarkChildren(b *testing.B) {
	s, dirs := benchSet(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, _, err := s.Children("Bench", dirs[i%len(dirs)], MediaFiles, 0, 50); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkWalk measures a Walk of the whole synthetic library in the
// media view, their browsing order made already (ns/entry).
func BenchmarkWalk(b *testing.B) {
	s, _ := benchSet(b)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if err := s.Walk("Bench", ".", MediaFiles, func(string, Entry) bool { n++; return true }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/entry")
}
