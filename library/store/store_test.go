package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/library/probe"
)

func TestDetails(t *testing.T) {
	st := Stamp{Size: 1000, ModTime: 1700000000123456789, Ino: 42}
	raw := []byte("some details")
	tests := []struct {
		name       string
		share, rel string
		st         Stamp
		want       []byte
		ok         bool
	}{
		{"same stamp", "Movies", "a/b.mkv", st, raw, true},
		{"other size", "Movies", "a/b.mkv", Stamp{Size: 1001, ModTime: st.ModTime, Ino: 42}, nil, false},
		{"other mtime", "Movies", "a/b.mkv", Stamp{Size: 1000, ModTime: st.ModTime + 1, Ino: 42}, nil, false},
		{"other inode", "Movies", "a/b.mkv", Stamp{Size: 1000, ModTime: st.ModTime, Ino: 43}, nil, false},
		{"other share", "Music", "a/b.mkv", st, nil, false},
		{"other path", "Movies", "a/c.mkv", st, nil, false},
		{"folder of it", "Movies", "a", st, nil, false},
		{"empty details", "Movies", "empty", Stamp{}, []byte{}, true},
		{"negative mtime", "Movies", "old.avi", Stamp{Size: 1, ModTime: -5, Ino: 1<<64 - 1}, []byte{1}, true},
	}
	for _, flush := range []bool{false, true} {
		t.Run(fmt.Sprintf("flushed=%v", flush), func(t *testing.T) {
			s, _ := newTestStore(t, Options{})
			puts := []struct {
				rel string
				st  Stamp
				raw []byte
			}{{"a/b.mkv", st, raw}, {"empty", Stamp{}, []byte{}}, {"old.avi", Stamp{Size: 1, ModTime: -5, Ino: 1<<64 - 1}, []byte{1}}}
			for _, p := range puts {
				if err := s.putDetailsRaw("Movies", p.rel, p.st, p.raw); err != nil {
					t.Fatal(err)
				}
			}
			if flush {
				if err := s.Flush(); err != nil {
					t.Fatal(err)
				}
			}
			for _, tt := range tests {
				got, ok := s.detailsRaw(tt.share, tt.rel, tt.st)
				if ok != tt.ok || !bytes.Equal(got, tt.want) || (ok && got == nil) {
					t.Errorf("%s: detailsRaw(%q, %q, %+v) = %q, %v; want %q, %v", tt.name, tt.share, tt.rel, tt.st, got, ok, tt.want, tt.ok)
				}
			}
		})
	}
}

func TestPutDetailsReplaces(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	old, new := Stamp{Size: 1, Ino: 1}, Stamp{Size: 2, Ino: 1}
	for _, step := range []struct {
		st    Stamp
		raw   string
		flush bool
	}{{old, "old", true}, {new, "new", false}} {
		if err := s.putDetailsRaw("S", "f", step.st, []byte(step.raw)); err != nil {
			t.Fatal(err)
		}
		if step.flush {
			s.Flush()
		}
	}
	for _, flushed := range []bool{false, true} {
		if flushed {
			s.Flush()
		}
		if _, ok := s.detailsRaw("S", "f", old); ok {
			t.Errorf("flushed=%v: the old stamp still matches", flushed)
		}
		if got, ok := s.detailsRaw("S", "f", new); !ok || string(got) != "new" {
			t.Errorf("flushed=%v: got %q, %v; want the new details", flushed, got, ok)
		}
	}
}

func TestBadNames(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	tests := []struct {
		share, rel string
	}{
		{"", "a"}, {"S", ""}, {"S", "/a"}, {"S", "a/"}, {"S", "a\x00b"}, {"S\x00", "a"},
	}
	for _, tt := range tests {
		if err := s.putDetailsRaw(tt.share, tt.rel, Stamp{}, nil); !errors.Is(err, ErrBadName) {
			t.Errorf("putDetailsRaw(%q, %q) = %v; want ErrBadName", tt.share, tt.rel, err)
		}
		if err := s.SetPosition(tt.share, tt.rel, time.Second, time.Now()); !errors.Is(err, ErrBadName) {
			t.Errorf("SetPosition(%q, %q) = %v; want ErrBadName", tt.share, tt.rel, err)
		}
		if tt.rel != "" {
			if err := s.ForgetDetails(tt.share, tt.rel); !errors.Is(err, ErrBadName) {
				t.Errorf("ForgetDetails(%q, %q) = %v; want ErrBadName", tt.share, tt.rel, err)
			}
		}
	}
	if err := s.SetValue("", []byte("x")); !errors.Is(err, ErrBadName) {
		t.Errorf(`SetValue("") = %v; want ErrBadName`, err)
	}
}

// tree is a share's files in byte order of their paths.
var tree = []string{
	"a b/c", "a.txt", "a/x", "a/y/z", "ab/c", "b", "b/c/d", "😀/e",
}

// depthFirst is tree in EachDetails's order.
var depthFirst = []string{
	"a/x", "a/y/z", "a b/c", "a.txt", "ab/c", "b", "b/c/d", "😀/e",
}

// putTree puts tree into share, with each file's stamp made from its index.
func putTree(t *testing.T, s *Store, share string) {
	t.Helper()
	for i, rel := range tree {
		if err := s.putDetailsRaw(share, rel, Stamp{Size: int64(i)}, []byte(rel)); err != nil {
			t.Fatal(err)
		}
	}
}

// listShare returns what EachDetails gives for share.
func listShare(t *testing.T, s *Store, share string) []string {
	t.Helper()
	var got []string
	err := s.EachDetails(share, func(rel string, st Stamp) bool {
		if want := (Stamp{Size: int64(slices.Index(tree, rel))}); st != want {
			t.Errorf("%s: stamp %+v, want %+v", rel, st, want)
		}
		got = append(got, rel)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestEachDetails(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	putTree(t, s, "S")
	putTree(t, s, "T")
	s.putDetailsRaw("S2", "other", Stamp{}, nil)
	if got := listShare(t, s, "S"); !slices.Equal(got, depthFirst) {
		t.Errorf("EachDetails = %q; want %q", got, depthFirst)
	}
	if got := listShare(t, s, "none"); got != nil {
		t.Errorf("EachDetails of an unknown share = %q", got)
	}
	var n int
	s.EachDetails("S", func(string, Stamp) bool { n++; return n < 3 })
	if n != 3 {
		t.Errorf("fn called %d times after returning false at 3", n)
	}
}

// TestEachDetailsChanging forgets and puts from inside fn over more than
// one chunk: no deadlock, and every entry that stays is seen once.
func TestEachDetailsChanging(t *testing.T) {
	s, _ := newTestStore(t, Options{MaxBatch: 100})
	const n = 3*eachChunk + 17
	for i := range n {
		if err := s.putDetailsRaw("S", fmt.Sprintf("d/%05d", i), Stamp{Size: int64(i)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	var seen []int
	err := s.EachDetails("S", func(rel string, st Stamp) bool {
		seen = append(seen, int(st.Size))
		if st.Size%2 == 1 {
			if err := s.ForgetDetails("S", rel); err != nil {
				t.Fatal(err)
			}
		} else {
			// A re-probed file: new details, written in batches meanwhile.
			if err := s.putDetailsRaw("S", rel, Stamp{Size: st.Size, Ino: 1}, []byte("again")); err != nil {
				t.Fatal(err)
			}
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != n || !slices.IsSorted(seen) {
		t.Fatalf("seen %d entries (sorted %v), want %d in order", len(seen), slices.IsSorted(seen), n)
	}
	s.Flush()
	st, _ := s.Stats()
	if want := (n + 1) / 2; st.Details != want {
		t.Errorf("after the walk %d details, want %d", st.Details, want)
	}
	for i := range n {
		raw, ok := s.detailsRaw("S", fmt.Sprintf("d/%05d", i), Stamp{Size: int64(i), Ino: 1})
		if want := i%2 == 0; ok != want || ok && string(raw) != "again" {
			t.Fatalf("entry %d: %q, %v; want %v", i, raw, ok, want)
		}
	}
}

func TestForgetDetails(t *testing.T) {
	tests := []struct {
		rel  string
		gone []string
	}{
		{"a", []string{"a/x", "a/y/z"}},
		{"a/y", []string{"a/y/z"}},
		{"a/y/z", []string{"a/y/z"}},
		{"b", []string{"b", "b/c/d"}},
		{"a b", []string{"a b/c"}},
		{"a.txt", []string{"a.txt"}},
		{"😀", []string{"😀/e"}},
		{"c", nil},
		{"a/x/more", nil},
		{"", tree},
	}
	for _, tt := range tests {
		for _, flushed := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/flushed=%v", tt.rel, flushed), func(t *testing.T) {
				s, _ := newTestStore(t, Options{})
				putTree(t, s, "S")
				putTree(t, s, "T")
				if flushed {
					s.Flush()
				}
				if err := s.ForgetDetails("S", tt.rel); err != nil {
					t.Fatal(err)
				}
				var want []string
				for _, rel := range depthFirst {
					if !slices.Contains(tt.gone, rel) {
						want = append(want, rel)
					}
				}
				if got := listShare(t, s, "S"); !slices.Equal(got, want) {
					t.Errorf("left %q; want %q", got, want)
				}
				if got := listShare(t, s, "T"); !slices.Equal(got, depthFirst) {
					t.Errorf("another share lost entries: %q", got)
				}
			})
		}
	}
}

func TestForgetShare(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	putTree(t, s, "S")
	s.Flush()
	putTree(t, s, "T")
	s.SetPosition("S", "a/x", time.Minute, time.Unix(100, 0))
	for _, share := range []string{"S", "T", "never"} {
		if err := s.ForgetShare(share); err != nil {
			t.Fatal(err)
		}
		if got := listShare(t, s, share); got != nil {
			t.Errorf("%s: left %q", share, got)
		}
	}
	if _, _, ok := s.Position("S", "a/x"); !ok {
		t.Error("ForgetShare dropped a position")
	}
	if st, _ := s.Stats(); st.Details != 0 || st.Pending != 0 {
		t.Errorf("stats after forgetting all: %+v", st)
	}
}

func TestPositions(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	at := time.Date(2026, 5, 1, 20, 15, 0, 123, time.UTC)
	steps := []struct {
		share, rel string
		pos        time.Duration
		at         time.Time
	}{
		{"Movies", "Film (2019)/Film.mkv", 42*time.Minute + 7*time.Second + 250*time.Millisecond, at},
		{"Movies", "Other.mkv", time.Hour, at.Add(time.Hour)},
		{"Movies", "Other.mkv", 0, at}, // watched to the end: removed
		{"Movies", "never.mkv", -time.Second, at},
		{"Music", "Film (2019)/Film.mkv", time.Nanosecond, time.Unix(0, 0)},
	}
	for _, st := range steps {
		if err := s.SetPosition(st.share, st.rel, st.pos, st.at); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		share, rel string
		pos        time.Duration
		at         time.Time
		ok         bool
	}{
		{"Movies", "Film (2019)/Film.mkv", 42*time.Minute + 7*time.Second + 250*time.Millisecond, at, true},
		{"Movies", "Other.mkv", 0, time.Time{}, false},
		{"Movies", "never.mkv", 0, time.Time{}, false},
		{"Music", "Film (2019)/Film.mkv", time.Nanosecond, time.Unix(0, 0), true},
		{"Films", "Film (2019)/Film.mkv", 0, time.Time{}, false},
		{"Movies", "Film (2019)", 0, time.Time{}, false},
	}
	for _, tt := range tests {
		pos, at, ok := s.Position(tt.share, tt.rel)
		if pos != tt.pos || !at.Equal(tt.at) || ok != tt.ok {
			t.Errorf("Position(%q, %q) = %v, %v, %v; want %v, %v, %v", tt.share, tt.rel, pos, at, ok, tt.pos, tt.at, tt.ok)
		}
	}
	if st, _ := s.Stats(); st.Positions != 2 {
		t.Errorf("Stats().Positions = %d, want 2", st.Positions)
	}
}

func TestValues(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	steps := []struct {
		name string
		v    []byte
	}{
		{"udn", []byte("uuid:5f1c…")},
		{"system-update-id", []byte{0, 0, 1, 0}},
		{"system-update-id", []byte{0, 0, 2, 0}},
		{"empty", []byte{}},
		{"gone", []byte("x")},
		{"gone", nil},
	}
	for _, st := range steps {
		if err := s.SetValue(st.name, st.v); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		v    []byte
		ok   bool
	}{
		{"udn", []byte("uuid:5f1c…"), true},
		{"system-update-id", []byte{0, 0, 2, 0}, true},
		{"empty", []byte{}, true},
		{"gone", nil, false},
		{"never", nil, false},
	}
	for _, tt := range tests {
		v, ok := s.Value(tt.name)
		if !bytes.Equal(v, tt.v) || ok != tt.ok {
			t.Errorf("Value(%q) = %q, %v; want %q, %v", tt.name, v, ok, tt.v, tt.ok)
		}
	}
	// The copy is the caller's.
	v, _ := s.Value("udn")
	v[0] = 'X'
	if w, _ := s.Value("udn"); w[0] != 'u' {
		t.Error("Value returned the store's own bytes")
	}
}

// TestBatches: puts are written in a few transactions, at MaxBatch, at
// Flush and at MaxDelay.
func TestBatches(t *testing.T) {
	s, _ := newTestStore(t, Options{MaxBatch: 1000, MaxDelay: time.Hour})
	for i := range 10_000 {
		if err := s.putDetailsRaw("S", fmt.Sprintf("f%05d", i), Stamp{}, nil); err != nil {
			t.Fatal(err)
		}
	}
	st, _ := s.Stats()
	if st.Batches != 10 || st.Details != 10_000 || st.Pending != 0 {
		t.Errorf("after 10,000 puts with MaxBatch 1000: %+v; want 10 batches, 10,000 details", st)
	}
	s.putDetailsRaw("S", "one more", Stamp{}, nil)
	if st, _ = s.Stats(); st.Pending != 1 || st.Batches != 10 {
		t.Errorf("one more put: %+v; want it pending", st)
	}
	s.Flush()
	if st, _ = s.Stats(); st.Pending != 0 || st.Batches != 11 {
		t.Errorf("after Flush: %+v", st)
	}

	// MaxDelay: a lone put is written by itself soon.
	s2, _ := newTestStore(t, Options{MaxDelay: time.Millisecond})
	s2.putDetailsRaw("S", "f", Stamp{}, nil)
	for st, _ := s2.Stats(); st.Details != 1; st, _ = s2.Stats() {
		time.Sleep(time.Millisecond) // awaits the timer: no other signal
	}
}

func TestCloseWritesQueue(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	putTree(t, s, "S")
	s.SetPosition("S", "b", time.Second, time.Unix(1, 0))
	s.SetValue("v", []byte("1"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	for name, err := range map[string]error{
		"putDetailsRaw": s.putDetailsRaw("S", "x", Stamp{}, nil),
		"ForgetDetails": s.ForgetDetails("S", "x"),
		"SetPosition":   s.SetPosition("S", "x", time.Second, time.Now()),
		"SetValue":      s.SetValue("x", nil),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v; want ErrClosed", name, err)
		}
	}
	if _, ok := s.detailsRaw("S", "b", Stamp{}); ok {
		t.Error("DetailsRaw after Close found something")
	}

	s, err = Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := listShare(t, s, "S"); !slices.Equal(got, depthFirst) {
		t.Errorf("after reopening: %q", got)
	}
	if _, _, ok := s.Position("S", "b"); !ok {
		t.Error("position lost")
	}
	if v, _ := s.Value("v"); string(v) != "1" {
		t.Error("value lost")
	}
}

func TestStampOf(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, []byte("12345"), 0o600)
	mt := time.Unix(1700000000, 987654321)
	os.Chtimes(p, mt, mt)
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	st := StampOf(fi)
	if st.Size != 5 || st.ModTime != mt.UnixNano() || st.Ino == 0 {
		t.Errorf("StampOf = %+v", st)
	}
	// A file replaced under the same name (same size and time) has
	// another stamp: its inode.
	os.WriteFile(p+".new", []byte("54321"), 0o600)
	os.Chtimes(p+".new", mt, mt)
	os.Rename(p+".new", p)
	fi2, _ := os.Stat(p)
	if StampOf(fi2) == st {
		t.Errorf("a replaced file kept its stamp %+v", st)
	}
}

// TestConcurrent runs puts, reads, forgets, walks and flushes from several
// goroutines at once (for the race detector), then checks the end state.
func TestConcurrent(t *testing.T) {
	s, _ := newTestStore(t, Options{MaxBatch: 50, MaxDelay: time.Millisecond})
	const workers, each = 4, 300
	done := make(chan error, workers+1)
	for w := range workers {
		go func() {
			share := fmt.Sprintf("S%d", w)
			for i := range each {
				rel := fmt.Sprintf("f/%04d", i)
				if err := s.putDetailsRaw(share, rel, Stamp{Size: int64(i)}, []byte(rel)); err != nil {
					done <- err
					return
				}
				if raw, ok := s.detailsRaw(share, rel, Stamp{Size: int64(i)}); !ok || string(raw) != rel {
					done <- fmt.Errorf("%s/%s: read back %q, %v", share, rel, raw, ok)
					return
				}
				if i%10 == 9 {
					if err := s.ForgetDetails(share, rel); err != nil {
						done <- err
						return
					}
				}
				if i%100 == 0 {
					s.SetPosition(share, rel, time.Second, time.Now())
					s.EachDetails(share, func(string, Stamp) bool { return true })
				}
			}
			done <- nil
		}()
	}
	go func() {
		for range 20 {
			s.Stats()
			if err := s.Flush(); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for range workers + 1 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	s.Flush()
	st, _ := s.Stats()
	if want := workers * each * 9 / 10; st.Details != want || st.Positions != workers*each/100 {
		t.Errorf("stats %+v; want %d details, %d positions", st, want, workers*each/100)
	}
}

func TestDetailsTyped(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	tests := []struct {
		rel string
		d   probe.Details
	}{
		{"Film (2019)/Film.mkv", probe.Details{Container: "matroska", Duration: 2*time.Hour + 3*time.Microsecond, Width: 3840, Height: 2160, VideoCodec: "hevc", AudioCodec: "eac3", Bitrate: 25_000_000, Channels: 8, SampleRate: 48000, Title: "Film"}},
		{"Music/Artist/Album/01 Song.flac", probe.Details{Container: "flac", Duration: 3*time.Minute + 14*time.Second, AudioCodec: "flac", Channels: 2, SampleRate: 96000, Bitrate: 2_500_000, Title: "Song — ünïcode", Artist: "Artist", Album: "Album", Track: 1, Year: 1999, HasCover: true}},
		{"Photos/IMG_0001.jpg", probe.Details{Container: "jpeg", Width: 4032, Height: 3024, VideoCodec: "mjpeg", Taken: time.Date(2024, 8, 1, 18, 30, 5, 0, time.FixedZone("", 2*3600))}},
		{"unknown.bin", probe.Details{}},
	}
	for i, tt := range tests {
		if err := s.PutDetails("S", tt.rel, Stamp{Size: int64(i)}, tt.d); err != nil {
			t.Fatal(err)
		}
	}
	s.putDetailsRaw("S", "garbage", Stamp{}, []byte{0xee, 1, 2, 3})
	for _, flushed := range []bool{false, true} {
		if flushed {
			s.Flush()
		}
		for i, tt := range tests {
			got, ok := s.Details("S", tt.rel, Stamp{Size: int64(i)})
			if !ok || got.Container != tt.d.Container || got.Duration != tt.d.Duration || got.Width != tt.d.Width ||
				got.Title != tt.d.Title || got.Track != tt.d.Track || !got.Taken.Equal(tt.d.Taken) || got.HasCover != tt.d.HasCover {
				t.Errorf("flushed=%v: Details(%q) = %+v, %v; want %+v", flushed, tt.rel, got, ok, tt.d)
			}
			if _, ok := s.Details("S", tt.rel, Stamp{Size: int64(i), Ino: 9}); ok {
				t.Errorf("flushed=%v: %q found with another stamp", flushed, tt.rel)
			}
		}
		if d, ok := s.Details("S", "garbage", Stamp{}); ok {
			t.Errorf("flushed=%v: details that do not decode: %+v, true", flushed, d)
		}
	}
}
