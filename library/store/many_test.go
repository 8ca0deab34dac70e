package store

import (
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/library/probe"
)

// TestDetailsMany: one DetailsMany over files flushed, still queued,
// replaced or forgotten in the queue after a flush, with the right or a
// wrong stamp, finds exactly what Details finds for each, once.
func TestDetailsMany(t *testing.T) {
	stamp := func(n int) Stamp { return Stamp{Size: int64(n), ModTime: 1700000000e9 + int64(n), Ino: uint64(n)} }
	details := func(n int) probe.Details {
		return probe.Details{Container: "matroska", Duration: time.Duration(n) * time.Second, Title: fmt.Sprint("title ", n)}
	}
	s, _ := newTestStore(t, Options{})
	for n := range 6 {
		if err := s.PutDetails("S", fmt.Sprintf("d/%d.mkv", n), stamp(n), details(n)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	// After the flush, queued only: 6 and 7 new, 1 replaced, 2 forgotten.
	s.PutDetails("S", "d/6.mkv", stamp(6), details(6))
	s.PutDetails("S", "d/7.mkv", stamp(7), details(7))
	s.PutDetails("S", "d/1.mkv", stamp(11), details(11))
	if err := s.ForgetDetails("S", "d/2.mkv"); err != nil {
		t.Fatal(err)
	}
	files := []Lookup{
		{"d/0.mkv", stamp(0)},  // flushed
		{"d/1.mkv", stamp(1)},  // replaced in the queue: the old stamp is gone
		{"d/1.mkv", stamp(11)}, // the new one
		{"d/2.mkv", stamp(2)},  // forgotten in the queue
		{"d/3.mkv", stamp(4)},  // wrong stamp
		{"d/5.mkv", stamp(5)},  // flushed
		{"d/6.mkv", stamp(6)},  // queued
		{"d/7.mkv", stamp(8)},  // queued, wrong stamp
		{"d/9.mkv", stamp(9)},  // never put
		{"d", Stamp{}},         // a folder
	}
	got := make([]*probe.Details, len(files))
	s.DetailsMany("S", files, func(i int, d probe.Details) {
		if got[i] != nil {
			t.Errorf("%s called twice", files[i].Rel)
		}
		got[i] = &d
	})
	for i, f := range files {
		want, ok := s.Details("S", f.Rel, f.Stamp)
		switch {
		case ok != (got[i] != nil):
			t.Errorf("%s %+v: DetailsMany found %v, Details %v", f.Rel, f.Stamp, got[i] != nil, ok)
		case ok && (got[i].Title != want.Title || got[i].Duration != want.Duration):
			t.Errorf("%s: DetailsMany %+v, Details %+v", f.Rel, *got[i], want)
		}
	}
	var found int
	for _, g := range got {
		if g != nil {
			found++
		}
	}
	if found != 4 { // 0, 1 (new), 5, 6
		t.Errorf("found %d; want 4", found)
	}
	s.DetailsMany("Other", files, func(i int, d probe.Details) { t.Errorf("another share gave %s", files[i].Rel) })
}

// TestPositionsIn: the positions of a folder's own files, not those of
// its subfolders, of a folder whose name starts the same, or of another
// share.
func TestPositionsIn(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	at := time.Unix(1700000000, 0)
	for i, rel := range []string{"a/x.mkv", "a/y.mkv", "a/b/z.mkv", "ab/w.mkv", "top.mkv", "a b/v.mkv"} {
		if err := s.SetPosition("S", rel, time.Duration(i+1)*time.Minute, at); err != nil {
			t.Fatal(err)
		}
	}
	s.SetPosition("T", "a/other.mkv", time.Minute, at)
	for _, tt := range []struct {
		dir  string
		want map[string]time.Duration
	}{
		{"a", map[string]time.Duration{"x.mkv": time.Minute, "y.mkv": 2 * time.Minute}},
		{"a/b", map[string]time.Duration{"z.mkv": 3 * time.Minute}},
		{"ab", map[string]time.Duration{"w.mkv": 4 * time.Minute}},
		{".", map[string]time.Duration{"top.mkv": 5 * time.Minute}},
		{"a b", map[string]time.Duration{"v.mkv": 6 * time.Minute}},
		{"none", map[string]time.Duration{}},
	} {
		got := map[string]time.Duration{}
		s.PositionsIn("S", tt.dir, func(name string, pos time.Duration) { got[name] = pos })
		if !maps.Equal(got, tt.want) {
			t.Errorf("PositionsIn(%q) = %v; want %v", tt.dir, got, tt.want)
		}
	}
}
