package store

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestKillDuringWrites kills (SIGKILL) a process writing a stream of
// details to the store, many times at random moments, continuing the same
// file each time, and checks after each kill that the store opens without
// being set aside and holds a prefix of the stream: exactly the entries
// 0..n-1, each intact, with n at least what the writer last reported
// committed.
func TestKillDuringWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: kills a writer 100 times")
	}
	dir := t.TempDir()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	const kills = 100
	last := 0 // entries the store held after the previous kill
	for k := range kills {
		h := startHelper(t, "write", dir)
		// Let it commit a random number of batches (none: killed while it
		// opens the store), then kill it while it writes the next ones.
		committed := 0
		for range rng.IntN(12) {
			n, err := strconv.Atoi(h.line(t))
			if err != nil {
				t.Fatal(err)
			}
			committed = n
		}
		if rng.IntN(2) == 0 {
			// A random moment more (not awaiting anything), so the kill
			// lands anywhere in a batch or its commit.
			time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
		}
		if err := h.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		h.cmd.Wait()

		log, buf := newLog()
		s, err := Open(dir, log)
		if err != nil {
			t.Fatalf("kill %d: Open: %v", k, err)
		}
		if buf.String() != "" {
			t.Fatalf("kill %d: Open logged:\n%s", k, buf)
		}
		n := 0
		err = s.EachDetails("S", func(rel string, st Stamp) bool {
			if st != streamStamp(n) {
				t.Fatalf("kill %d: entry %d of the walk is %s %+v: not a prefix of the stream", k, n, rel, st)
			}
			n++
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range []int{0, n / 2, n - 1} {
			if n == 0 {
				break
			}
			raw, ok := s.detailsRaw("S", streamRel(i), streamStamp(i))
			if !ok || !bytes.Equal(raw, streamRaw(i)) {
				t.Fatalf("kill %d: entry %d: %q, %v", k, i, raw, ok)
			}
		}
		count := 0
		if v, ok := s.Value("count"); ok {
			count, _ = strconv.Atoi(string(v))
		}
		if n < last || n < committed || count < committed || count > n {
			t.Fatalf("kill %d: %d entries, count %d; before the kill %d entries, %d reported committed", k, n, count, last, committed)
		}
		t.Logf("kill %d: %d entries reported committed; the store holds %d (%d more than before), count %d", k, committed, n, n-last, count)
		last = n
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, FileName+".*")); len(matches) != 0 {
		t.Errorf("files set aside: %q", matches)
	}
	fi, _ := os.Stat(filepath.Join(dir, FileName))
	t.Logf("%d kills, %d entries, file %d bytes", kills, last, fi.Size())
}
