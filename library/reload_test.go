package library

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"
)

// syncFolder makes a folder holding the given files of 10 bytes each.
func syncFolder(t *testing.T, files ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range files {
		writeFile(t, dir, f, 10)
	}
	return dir
}

// TestSyncReconciles checks each kind of change Sync makes to a running
// set, and that a file opened in a removed share can still be read.
func TestSyncReconciles(t *testing.T) {
	films, music := syncFolder(t, "a.mkv"), syncFolder(t, "b.mp3", "c.mp3")
	photos, photos2 := syncFolder(t, "p.jpg"), syncFolder(t, "p.jpg", "q.jpg", "r.jpg")
	shows := syncFolder(t, "s.mkv", "t.mkv")
	s, _ := newRunningSet(t,
		Share{Name: "Films", Path: films},
		Share{Name: "Music", Path: music},
		Share{Name: "Photos", Path: photos},
	)
	awaitStatus(t, s, "Films", "the first scan", hasFiles(1, 10))
	awaitStatus(t, s, "Photos", "the first scan", hasFiles(1, 10))
	// A film being streamed from the share about to go.
	root, err := s.Root("Films")
	if err != nil {
		t.Fatal(err)
	}
	streaming, err := root.Open("a.mkv")
	if err != nil {
		t.Fatal(err)
	}
	defer streaming.Close()

	ch, err := s.Sync([]Share{
		{Name: "music", Path: music + "/", RescanInterval: time.Hour}, // case, interval; same folder
		{Name: "Photos", Path: photos2},                               // another folder
		{Name: "Shows", Path: shows},                                  // new
	})
	if err != nil {
		t.Fatal(err)
	}
	want := Changes{Added: []string{"Shows"}, Removed: []string{"Films"}, Changed: []string{"music", "Photos"}}
	if !slices.Equal(ch.Added, want.Added) || !slices.Equal(ch.Removed, want.Removed) || !slices.Equal(ch.Changed, want.Changed) {
		t.Errorf("Sync = %+v, want %+v", ch, want)
	}
	if got := s.Names(); !slices.Equal(got, []string{"music", "Photos", "Shows"}) {
		t.Errorf("Names after Sync = %q", got)
	}
	if _, err := s.Root("Films"); !errors.Is(err, ErrNoShare) {
		t.Errorf("Root of the removed share: %v, want ErrNoShare", err)
	}
	if b, err := io.ReadAll(streaming); err != nil || len(b) != 10 {
		t.Errorf("reading a file opened before its share was removed: %d bytes, %v", len(b), err)
	}
	awaitStatus(t, s, "Shows", "the new share indexed", hasFiles(2, 20))
	awaitStatus(t, s, "Photos", "the new folder indexed", hasFiles(3, 30))
	awaitStatus(t, s, "music", "rescans instead of watching", func(st ShareStatus) bool {
		return st.State == StatePolling && st.Files == 2 && st.RescanInterval == time.Hour
	})

	// The same list again changes nothing.
	ch, err = s.Sync(s.List())
	if err != nil || !ch.IsZero() {
		t.Errorf("Sync with the set's own list = %+v, %v; want no change", ch, err)
	}
}

// TestSyncInvalid checks that Sync with a bad list changes nothing.
func TestSyncInvalid(t *testing.T) {
	a, b := syncFolder(t, "a.mkv"), syncFolder(t, "b.mkv")
	s, err := NewSet(Share{Name: "A", Path: a})
	if err != nil {
		t.Fatal(err)
	}
	for name, list := range map[string][]Share{
		"names equal ignoring case": {{Name: "B", Path: a}, {Name: "b", Path: b}},
		"bad name":                  {{Name: "B", Path: b}, {Name: ".hidden", Path: b}},
		"empty path":                {{Name: "B", Path: b}, {Name: "C"}},
	} {
		ch, err := s.Sync(list)
		if err == nil {
			t.Errorf("%s: Sync = %+v, nil; want an error", name, ch)
		}
		if got := s.List(); !reflect.DeepEqual(got, []Share{{Name: "A", Path: a}}) {
			t.Errorf("%s: the set changed to %v", name, got)
		}
	}
	if _, err := s.Sync([]Share{{Name: "A", Path: a}, {Name: "a", Path: b}}); !errors.Is(err, ErrShareExists) {
		t.Errorf("Sync with names equal ignoring case: %v, want ErrShareExists", err)
	}
}

// TestSyncAtomic checks that a concurrent reader sees the old set or the
// new one, never a mix.
func TestSyncAtomic(t *testing.T) {
	dir := t.TempDir()
	x, y, z := filepath.Join(dir, "x"), filepath.Join(dir, "y"), filepath.Join(dir, "z")
	for _, d := range []string{x, y, z} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	one := []Share{{Name: "X", Path: x}, {Name: "Y", Path: y}}
	two := []Share{{Name: "Y", Path: z}, {Name: "Z", Path: z}}
	s, err := NewSet(one...)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var mixed []Share
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if got := s.List(); !reflect.DeepEqual(got, one) && !reflect.DeepEqual(got, two) {
				mixed = got
				return
			}
		}
	})
	for i := range 2000 {
		list := one
		if i%2 == 0 {
			list = two
		}
		if _, err := s.Sync(list); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if mixed != nil {
		t.Errorf("a reader saw %v, neither the old set nor the new", mixed)
	}
}
