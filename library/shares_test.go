package library_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/mediaftpd/mediaftpd/library"
)

// shareFolder makes a folder holding one file, name.txt, with name as content.
func shareFolder(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".txt"), []byte(name), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// readThrough reads a file through the named share's root.
func readThrough(t *testing.T, s *library.Set, share, file string) (string, error) {
	t.Helper()
	root, err := s.Root(share)
	if err != nil {
		return "", err
	}
	defer root.Close()
	b, err := root.ReadFile(file)
	return string(b), err
}

func TestSetAddRemove(t *testing.T) {
	films, music, photos := shareFolder(t, "films"), shareFolder(t, "music"), shareFolder(t, "photos")
	s, err := library.NewSet(
		library.Share{Name: "Films", Path: films},
		library.Share{Name: "Music", Path: music},
	)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Add(library.Share{Name: "Photos", Path: photos}); err != nil {
		t.Fatal(err)
	}
	if got, want := s.Names(), []string{"Films", "Music", "Photos"}; !slices.Equal(got, want) {
		t.Errorf("Names = %q, want %q (the order of adding)", got, want)
	}
	if got, want := s.List(), []library.Share{{Name: "Films", Path: films}, {Name: "Music", Path: music}, {Name: "Photos", Path: photos}}; !reflect.DeepEqual(got, want) {
		t.Errorf("List = %v, want %v", got, want)
	}
	for share, file := range map[string]string{"Films": "films.txt", "Music": "music.txt", "Photos": "photos.txt"} {
		if got, err := readThrough(t, s, share, file); err != nil || got+".txt" != file {
			t.Errorf("reading %s through %s: %q, %v", file, share, got, err)
		}
	}

	// The root is a jail.
	root, err := s.Root("Films")
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if _, err := root.Open("../music/music.txt"); err == nil {
		t.Error("a share's root opens a file outside it")
	}

	if err := s.Remove("Music"); err != nil {
		t.Fatal(err)
	}
	if got, want := s.Names(), []string{"Films", "Photos"}; !slices.Equal(got, want) {
		t.Errorf("Names after Remove = %q, want %q", got, want)
	}
	if _, err := s.Root("Music"); !errors.Is(err, library.ErrNoShare) {
		t.Errorf("Root of a removed share: %v, want ErrNoShare", err)
	}
	if err := s.Remove("Music"); !errors.Is(err, library.ErrNoShare) {
		t.Errorf("Remove twice: %v, want ErrNoShare", err)
	}
	if _, err := s.Root("Nothing"); !errors.Is(err, library.ErrNoShare) {
		t.Errorf("Root of an unknown share: %v, want ErrNoShare", err)
	}
	// A root handed out before Remove keeps working.
	if b, err := root.ReadFile("films.txt"); err != nil || string(b) != "films" {
		t.Errorf("a root after its share's removal: %q, %v", b, err)
	}
	// The name is free again.
	if err := s.Add(library.Share{Name: "music", Path: music}); err != nil {
		t.Errorf("Add after Remove: %v", err)
	}
	if got, want := s.Names(), []string{"Films", "Photos", "music"}; !slices.Equal(got, want) {
		t.Errorf("Names = %q, want %q", got, want)
	}

	var zero library.Set
	if n := zero.Names(); len(n) != 0 {
		t.Errorf("zero Set Names = %q", n)
	}
	if err := zero.Add(library.Share{Name: "A", Path: films}); err != nil {
		t.Errorf("zero Set Add: %v", err)
	}
}

func TestSetDuplicateNames(t *testing.T) {
	dir := shareFolder(t, "a")
	s, err := library.NewSet(library.Share{Name: "Media", Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Media", "media", "MEDIA", "mEdIa"} {
		if err := s.Add(library.Share{Name: name, Path: t.TempDir()}); !errors.Is(err, library.ErrShareExists) {
			t.Errorf("Add(%q) with Media present: %v, want ErrShareExists", name, err)
		}
	}
	if got := s.Names(); !slices.Equal(got, []string{"Media"}) {
		t.Errorf("Names after refused Adds = %q", got)
	}
	if _, err := library.NewSet(library.Share{Name: "A", Path: dir}, library.Share{Name: "a", Path: dir}); !errors.Is(err, library.ErrShareExists) {
		t.Errorf("NewSet with duplicate names: %v, want ErrShareExists", err)
	}
	// Two names for one folder are fine.
	if err := s.Add(library.Share{Name: "Other", Path: dir}); err != nil {
		t.Errorf("second share of one folder: %v", err)
	}
}

func TestSetBadNames(t *testing.T) {
	dir := shareFolder(t, "a")
	for _, name := range []string{
		"", "/", "a/b", "/a", "a/", `a\b`, ".x", ".", "..", ".hidden",
		"a\x00b", "a\rb", "a\nb", "\tx", "x\x1f", "x\x7f",
	} {
		if err := library.CheckName(name); !errors.Is(err, library.ErrBadShareName) {
			t.Errorf("CheckName(%q) = %v, want ErrBadShareName", name, err)
		}
		s := &library.Set{}
		if err := s.Add(library.Share{Name: name, Path: dir}); !errors.Is(err, library.ErrBadShareName) {
			t.Errorf("Add(%q) = %v, want ErrBadShareName", name, err)
		}
		if n := s.Names(); len(n) != 0 {
			t.Errorf("Add(%q) refused but Names = %q", name, n)
		}
	}
	for _, name := range []string{"Media", "My Films", "a.b", "x.", "Фильмы", "映画", "Kids' (2024)", "-"} {
		if err := library.CheckName(name); err != nil {
			t.Errorf("CheckName(%q) = %v, want nil", name, err)
		}
	}
	s := &library.Set{}
	if err := s.Add(library.Share{Name: "NoPath"}); err == nil {
		t.Error("Add with an empty path succeeded")
	}
}

func TestSetOffline(t *testing.T) {
	parent := t.TempDir()
	usb := filepath.Join(parent, "usb")
	s, err := library.NewSet(library.Share{Name: "USB", Path: usb})
	if err != nil {
		t.Fatalf("a share whose folder is missing must be accepted: %v", err)
	}
	if _, err := s.Root("USB"); !errors.Is(err, library.ErrOffline) {
		t.Errorf("Root of a missing folder: %v, want ErrOffline", err)
	}
	if got := s.Names(); !slices.Equal(got, []string{"USB"}) {
		t.Errorf("Names = %q: an offline share is still in the set", got)
	}

	// A file where the folder should be is offline too.
	if err := os.WriteFile(usb, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Root("USB"); !errors.Is(err, library.ErrOffline) {
		t.Errorf("Root of a file: %v, want ErrOffline", err)
	}
	if err := os.Remove(usb); err != nil {
		t.Fatal(err)
	}

	// Plugged in.
	if err := os.Mkdir(usb, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(usb, "one.txt"), []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := readThrough(t, s, "USB", "one.txt"); err != nil || got != "one" {
		t.Errorf("after the folder appeared: %q, %v", got, err)
	}

	// Unplugged: offline again, even though a root was opened.
	if err := os.RemoveAll(usb); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Root("USB"); !errors.Is(err, library.ErrOffline) {
		t.Errorf("Root after the folder was removed: %v, want ErrOffline", err)
	}

	// Another disk: the new folder is served, not the old one.
	if err := os.Mkdir(usb, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(usb, "two.txt"), []byte("two"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := readThrough(t, s, "USB", "two.txt"); err != nil || got != "two" {
		t.Errorf("after the folder was recreated: %q, %v", got, err)
	}

	// The folder renamed away and another put in its place, with no
	// moment of absence that a Root call could see.
	if err := os.Rename(usb, filepath.Join(parent, "old")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(usb, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(usb, "three.txt"), []byte("three"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := readThrough(t, s, "USB", "three.txt"); err != nil || got != "three" {
		t.Errorf("after the folder was swapped: %q, %v", got, err)
	}
}

func TestSetConcurrent(t *testing.T) {
	dirs := make([]string, 4)
	for i := range dirs {
		dirs[i] = shareFolder(t, fmt.Sprint("d", i))
	}
	s, err := library.NewSet(library.Share{Name: "Fixed", Path: dirs[0]})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		name := fmt.Sprint("S", g)
		wg.Go(func() {
			for range 200 {
				if err := s.Add(library.Share{Name: name, Path: dirs[g]}); err != nil {
					t.Errorf("Add(%s): %v", name, err)
					return
				}
				root, err := s.Root(name)
				if err != nil {
					t.Errorf("Root(%s) while added: %v", name, err)
					return
				}
				root.Close()
				if err := s.Remove(name); err != nil {
					t.Errorf("Remove(%s): %v", name, err)
					return
				}
			}
		})
		wg.Go(func() {
			for range 200 {
				for _, n := range s.Names() {
					root, err := s.Root(n)
					if err != nil && !errors.Is(err, library.ErrNoShare) {
						t.Errorf("Root(%s): %v", n, err)
						return
					}
					if err == nil {
						root.Close()
					}
				}
				s.List()
				if got, err := readThrough(t, s, "Fixed", "d0.txt"); err != nil || got != "d0" {
					t.Errorf("Fixed share under load: %q, %v", got, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if got := s.Names(); !slices.Equal(got, []string{"Fixed"}) {
		t.Errorf("Names after the load = %q", got)
	}
}
