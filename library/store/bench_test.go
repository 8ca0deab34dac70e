package store

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// benchFiles is the number of files of the restart target.
const benchFiles = 100_000

// benchRel is the path of file i of a big library: a film per folder, as
// in "Movies/Some Film (2019)/Some Film (2019) 1080p.mkv" (61 bytes here,
// longer than that example).
func benchRel(i int) string {
	y := 1950 + i%75
	return fmt.Sprintf("Movies/Some Film %05d (%d)/Some Film %05d (%d) 1080p.mkv", i, y, i, y)
}

// benchStamp is a file's stamp: a few GB, a time in 2024, an inode.
func benchStamp(i int) Stamp {
	return Stamp{Size: 1_500_000_000 + int64(i)*7919, ModTime: 1_710_000_000_000_000_000 + int64(i)*1_000_003_001, Ino: 1_048_576 + uint64(i)*3}
}

// benchOrder returns the order of the puts: sorted by path (a scan of a
// tidy library) or shuffled (probes finishing in any order).
func benchOrder(shuffled bool) []int {
	order := make([]int, benchFiles)
	for i := range order {
		order[i] = i
	}
	if shuffled {
		rand.New(rand.NewPCG(1, 2)).Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	}
	return order
}

// fillStore puts benchFiles typical entries into the store in dir and
// closes it; it returns the number of write transactions.
func fillStore(b *testing.B, dir string, order []int, o Options) int64 {
	s, err := o.Open(dir, nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, i := range order {
		if err := s.PutDetails("Videos", benchRel(i), benchStamp(i), typical); err != nil {
			b.Fatal(err)
		}
	}
	st, err := s.Stats()
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	return st.Batches + 1 // the last one at Close
}

// fileSize is the size of the file at path.
func fileSize(b *testing.B, path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return fi.Size()
}

// reopen opens and closes the store in dir (Open compacts a bloated
// file) and returns its file's size and the time it took.
func reopen(b *testing.B, dir string) (int64, time.Duration) {
	start := time.Now()
	s, err := Open(dir, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	return fileSize(b, s.Path()), time.Since(start)
}

// BenchmarkPutDetails puts 100,000 typical entries (path, stamp, a video's
// details) into a new store and closes it, in key order or shuffled, in
// batches of MaxBatch (4096, the default, or 256, as when probes trickle
// in and MaxDelay writes them); it reports the transactions, the store's
// bytes per file as they are ("bytes/file", the file's size) and after the
// next Open ("reopened-bytes/file"; Open compacts a file less than half
// used, "reopen-ms" is how long that Open took), and the bytes each entry
// brings (path, stamp, details: "entry-bytes/file").
func BenchmarkPutDetails(b *testing.B) {
	for _, c := range []struct {
		batch    int
		shuffled bool
	}{{4096, false}, {4096, true}, {256, true}} {
		b.Run(fmt.Sprintf("files=%d/batch=%d/shuffled=%v", benchFiles, c.batch, c.shuffled), func(b *testing.B) {
			order := benchOrder(c.shuffled)
			var dir string
			var txs int64
			for b.Loop() {
				b.StopTimer()
				dir = b.TempDir()
				b.StartTimer()
				txs = fillStore(b, dir, order, Options{MaxBatch: c.batch, MaxDelay: time.Hour})
			}
			raw := typicalDetails(b)
			var entry int
			for i := range benchFiles {
				entry += len(benchRel(i)) + len(encodeDetails(benchStamp(i), raw))
			}
			b.ReportMetric(float64(txs), "tx/op")
			b.ReportMetric(float64(fileSize(b, filepath.Join(dir, FileName)))/benchFiles, "bytes/file")
			size, took := reopen(b, dir)
			b.ReportMetric(float64(size)/benchFiles, "reopened-bytes/file")
			b.ReportMetric(float64(took.Microseconds())/1000, "reopen-ms")
			b.ReportMetric(float64(entry)/benchFiles, "entry-bytes/file")
		})
	}
}

// BenchmarkPut10000 puts 10,000 entries and writes them (Flush): the
// transactions it takes and the time.
func BenchmarkPut10000(b *testing.B) {
	var txs int64
	for b.Loop() {
		b.StopTimer()
		s, err := Open(b.TempDir(), nil)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for i := range 10_000 {
			if err := s.PutDetails("Videos", benchRel(i), benchStamp(i), typical); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.Flush(); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		st, _ := s.Stats()
		txs = st.Batches
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(txs), "tx/op")
}

// BenchmarkRestart is a restart with 100,000 known files: Open and a
// walk of every stamp (the restart's check), and with details=true also
// every file's details read and decoded, as a client browsing everything
// would. The store was written in shuffled order and compacted by a
// first Open (BenchmarkPutDetails's reopen-ms is that one).
func BenchmarkRestart(b *testing.B) {
	dir := b.TempDir()
	fillStore(b, dir, benchOrder(true), Options{})
	reopen(b, dir) // compacts it: the store as restarts find it
	for _, details := range []bool{false, true} {
		b.Run(fmt.Sprintf("files=%d/details=%v", benchFiles, details), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				restart(b, dir, details)
			}
		})
	}
}

// restart opens the store in dir, walks the stamps of share Videos (and
// reads each file's details) and closes it.
func restart(b *testing.B, dir string, details bool) {
	s, err := Open(dir, nil)
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	err = s.EachDetails("Videos", func(rel string, st Stamp) bool {
		n++
		if details {
			if !readDetails(s, rel, st) {
				b.Fatalf("%s: no details", rel)
			}
		}
		return true
	})
	if err != nil {
		b.Fatal(err)
	}
	if n != benchFiles {
		b.Fatalf("walked %d files, want %d", n, benchFiles)
	}
	s.Close()
}
