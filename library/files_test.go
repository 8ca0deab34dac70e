package library

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

// TestFileListRoundTrip checks that every number comes back as packed,
// however far it is from the list's base, in either direction.
func TestFileListRoundTrip(t *testing.T) {
	files := []fileRec{
		{name: "a.mkv", size: 1 << 40, mtime: 1_700_000_000_123_456_789, ino: 12345, added: 1_750_000_000_000_000_001},
		{name: "b.mkv", size: 0, mtime: math.MinInt64, ino: 0, added: math.MaxInt64},
		{name: "c é.flac", size: math.MaxInt64, mtime: math.MaxInt64, ino: math.MaxUint64, added: math.MinInt64},
		{name: "d", size: 7, mtime: -1, ino: 1, added: 0},
	}
	l := packFiles(files)
	if got := slices.Collect(l.all()); !slices.Equal(got, files) {
		t.Fatalf("all() = %+v\nwant %+v", got, files)
	}
	for i, f := range files {
		if got := l.get(i); got != f {
			t.Errorf("get(%d) = %+v, want %+v", i, got, f)
		}
		if got := l.name(i); got != f.name {
			t.Errorf("name(%d) = %q, want %q", i, got, f.name)
		}
		if j, ok := l.index(f.name); !ok || j != i {
			t.Errorf("index(%q) = %d, %v; want %d, true", f.name, j, ok, i)
		}
	}
	for _, name := range []string{"", "a", "a.mkv0", "c", "e"} {
		want, _ := slices.BinarySearch([]string{"a.mkv", "b.mkv", "c é.flac", "d"}, name)
		if j, ok := l.index(name); ok || j != want {
			t.Errorf("index(%q) = %d, %v; want %d, false", name, j, ok, want)
		}
	}
	if cap(l.data) > len(l.data)+16 {
		t.Errorf("packed data has %d bytes of %d spare", cap(l.data)-len(l.data), cap(l.data))
	}
}

// TestFileListChanges changes a list file by file, as the indexer does,
// and checks it against a plain slice after each change; names taken out
// before a change stay as they were, compactions included.
func TestFileListChanges(t *testing.T) {
	var l fileList
	var want []fileRec
	type held struct{ name, want string }
	var names []held
	check := func(step string) {
		t.Helper()
		if got := slices.Collect(l.all()); !slices.Equal(got, want) {
			t.Fatalf("after %s: files %+v\nwant %+v", step, got, want)
		}
		for _, h := range names {
			if h.name != h.want {
				t.Fatalf("after %s: a name taken out earlier reads %q, want %q", step, h.name, h.want)
			}
		}
	}
	compacted := 0
	for round := range 4 {
		for i := range 50 {
			f := fileRec{name: fmt.Sprintf("E%02d-%d.mkv", (i*37)%50, round), size: int64(i), mtime: int64(i) * 1e9, ino: uint64(1000 - i), added: int64(round)}
			j, ok := l.index(f.name)
			if ok {
				t.Fatalf("%s found before it was added", f.name)
			}
			l.insert(j, f)
			want = slices.Insert(want, j, f)
			names = append(names, held{l.name(j), f.name})
		}
		check(fmt.Sprintf("round %d's inserts", round))
		for i := 0; i < l.len(); i += 2 {
			f := l.get(i)
			f.size, f.mtime, f.ino = f.size+1000, f.mtime-5, f.ino+1
			dead := l.dead
			l.set(i, f)
			if l.dead < dead {
				compacted++
			}
			want[i] = f
		}
		check(fmt.Sprintf("round %d's changes", round))
		for i := l.len() - 1; i >= 0; i -= 3 {
			dead := l.dead
			l.delete(i)
			if l.dead < dead {
				compacted++
			}
			want = slices.Delete(want, i, i+1)
		}
		check(fmt.Sprintf("round %d's removals", round))
	}
	if compacted == 0 {
		t.Error("the list was never compacted")
	}
	if l.dead > len(l.data)/2 {
		t.Errorf("%d of %d bytes dead", l.dead, len(l.data))
	}
	for l.len() > 0 {
		l.delete(0)
		want = want[1:]
	}
	check("removing every file")
}
