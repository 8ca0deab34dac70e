package store

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/library/probe"
)

// TestWalkReleasesMap: a walk of the whole store (the check at Open,
// EachDetails) or of many files (DetailsMany) leaves little of the store's file resident in the
// process, as /proc/self/smaps counts the Rss of bbolt's mapping of it,
// though reading every entry one by one makes nearly all of it resident;
// and reads after the release still find every entry's details.
func TestWalkReleasesMap(t *testing.T) {
	const files = 40_000 // about 6 MiB of store
	rel := func(n int) string { return fmt.Sprintf("artist %03d/album %02d/track %03d.mp3", n/400, n/20%20, n%20) }
	stamp := func(n int) Stamp {
		return Stamp{Size: int64(4e6 + n), ModTime: 1700000000e9 + int64(n), Ino: uint64(n + 1)}
	}
	details := func(n int) probe.Details {
		return probe.Details{
			Container: "mp3", AudioCodec: "mp3", Duration: time.Duration(180+n%60) * time.Second,
			Bitrate: 320000, Channels: 2, SampleRate: 44100, Track: n%20 + 1, Year: 1990 + n%30,
			Title:  fmt.Sprintf("a song's title, number %d", n),
			Artist: fmt.Sprintf("the artist %d", n/400), Album: fmt.Sprintf("an album %d", n/20),
		}
	}

	s, dir := newTestStore(t, Options{})
	for n := range files {
		if err := s.PutDetails("Music", rel(n), stamp(n), details(n)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Open checks every entry, then releases.
	s, err := Open(dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fi, err := os.Stat(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	size := fi.Size()
	if size < 4<<20 {
		t.Fatalf("the store has %d bytes, want several MiB for this test", size)
	}
	if rss := mappedRss(t, s.Path()); rss > size/4 {
		t.Errorf("after Open: %d bytes of the %d-byte store resident, want at most a quarter", rss, size)
	}

	// Reading every entry, one by one, makes the store resident: the
	// measure sees the pages.
	for n := range files {
		if _, ok := s.Details("Music", rel(n), stamp(n)); !ok {
			t.Fatalf("%s: no details", rel(n))
		}
	}
	if rss := mappedRss(t, s.Path()); rss < size/2 {
		t.Fatalf("after reading every entry: %d bytes of the %d-byte store resident, want at least half (does the test see the mapping?)", rss, size)
	} else {
		t.Logf("after reading every entry: %d of %d bytes resident", rss, size)
	}

	walked := 0
	err = s.EachDetails("Music", func(r string, st Stamp) bool {
		if r != rel(walked) || st != stamp(walked) {
			t.Fatalf("entry %d: %q %+v, want %q %+v", walked, r, st, rel(walked), stamp(walked))
		}
		walked++
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if walked != files {
		t.Fatalf("EachDetails walked %d entries, want %d", walked, files)
	}
	if rss := mappedRss(t, s.Path()); rss > size/4 {
		t.Errorf("after EachDetails: %d bytes of the %d-byte store resident, want at most a quarter", rss, size)
	} else {
		t.Logf("after EachDetails: %d of %d bytes resident", rss, size)
	}

	// So does a read of many files' details at once (a big folder's
	// page), after the store was made resident again.
	lookups := make([]Lookup, files)
	for n := range files {
		if _, ok := s.Details("Music", rel(n), stamp(n)); !ok {
			t.Fatalf("%s: no details", rel(n))
		}
		lookups[n] = Lookup{Rel: rel(n), Stamp: stamp(n)}
	}
	found := 0
	s.DetailsMany("Music", lookups, func(i int, d probe.Details) {
		if d != details(i) {
			t.Errorf("DetailsMany %s: %+v", rel(i), d)
		}
		found++
	})
	if found != files {
		t.Fatalf("DetailsMany found %d of %d", found, files)
	}
	if rss := mappedRss(t, s.Path()); rss > size/4 {
		t.Errorf("after DetailsMany of %d files: %d bytes of the %d-byte store resident, want at most a quarter", files, rss, size)
	}

	// The pages come back as they are read.
	for n := range files {
		d, ok := s.Details("Music", rel(n), stamp(n))
		if want := details(n); !ok || d != want {
			t.Fatalf("%s after the release: %+v %v, want %+v", rel(n), d, ok, want)
		}
	}
}

// mappedRss is the Rss, in bytes, of this process's mappings of the file
// at path, from /proc/self/smaps; it fails the test when there is none.
func mappedRss(t *testing.T, path string) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	found, in := false, false
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if !strings.HasSuffix(f[0], ":") { // a mapping's first line: range perms offset dev inode [path]
			in = len(f) >= 6 && strings.Join(f[5:], " ") == path
			found = found || in
			continue
		}
		if in && f[0] == "Rss:" && len(f) >= 2 {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				t.Fatalf("smaps: %q: %v", line, err)
			}
			total += kb << 10
		}
	}
	if !found {
		t.Fatalf("no mapping of %s in /proc/self/smaps", path)
	}
	return total
}
