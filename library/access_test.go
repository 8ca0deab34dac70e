package library

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestAccessRule is the one rule: public shares for everyone, private
// ones for the users they list, exactly as written.
func TestAccessRule(t *testing.T) {
	for _, tc := range []struct {
		access []string
		user   string
		want   bool
	}{
		{nil, Anonymous, true},
		{nil, "alice", true},
		{[]string{}, Anonymous, true},
		{[]string{"alice"}, Anonymous, false},
		{[]string{"alice"}, "alice", true},
		{[]string{"alice"}, "Alice", false},
		{[]string{"alice"}, "bob", false},
		{[]string{"alice", "bob"}, "bob", true},
	} {
		if got := (Share{Name: "S", Path: "/x", Access: tc.access}).Allows(tc.user); got != tc.want {
			t.Errorf("access %q, user %q: Allows = %v, want %v", tc.access, tc.user, got, tc.want)
		}
	}
}

// TestScope runs a set with a public and two private shares and checks
// that each user's scope shows exactly their shares, answering for the
// others as for a share that does not exist.
func TestScope(t *testing.T) {
	dirs := map[string]string{}
	var shares []Share
	for _, sh := range []Share{
		{Name: "Movies"},
		{Name: "Home videos", Access: []string{"alice", "bob"}},
		{Name: "Alice", Access: []string{"alice"}},
	} {
		dir := t.TempDir()
		writeFile(t, dir, "Folder/"+sh.Name+".mkv", 10)
		dirs[sh.Name] = dir
		sh.Path = dir
		shares = append(shares, sh)
	}
	s, _ := newRunningSet(t, shares...)
	for _, sh := range shares {
		awaitStatus(t, s, sh.Name, "the first scan", hasFiles(1, 10))
	}

	want := map[string][]string{
		Anonymous: {"Movies"},
		"alice":   {"Movies", "Home videos", "Alice"},
		"bob":     {"Movies", "Home videos"},
		"carol":   {"Movies"},
	}
	for user, names := range want {
		sc := s.Scope(user)
		if got := sc.Names(); !slices.Equal(got, names) {
			t.Errorf("%q: Names = %q, want %q", user, got, names)
		}
		var status []string
		for _, st := range sc.Status() {
			status = append(status, st.Name)
		}
		if !slices.Equal(status, names) {
			t.Errorf("%q: Status shares = %q, want %q", user, status, names)
		}
		var recent []string
		for _, a := range sc.Recent(10) {
			recent = append(recent, a.Share)
		}
		slices.Sort(recent)
		sorted := slices.Sorted(slices.Values(names))
		if !slices.Equal(recent, sorted) {
			t.Errorf("%q: Recent shares = %q, want %q", user, recent, sorted)
		}
		for _, sh := range shares {
			allowed := slices.Contains(names, sh.Name)
			rel := "Folder/" + sh.Name + ".mkv"
			checks := map[string]error{}
			root, err := sc.Root(sh.Name)
			if err == nil {
				root.Close()
			}
			checks["Root"] = err
			f, _, err := sc.Open(sh.Name, rel)
			if err == nil {
				f.Close()
			}
			checks["Open"] = err
			_, checks["Entry"] = sc.Entry(sh.Name, ".", AllFiles)
			_, _, checks["Children"] = sc.Children(sh.Name, "Folder", AllFiles, 0, 0)
			checks["Walk"] = sc.Walk(sh.Name, ".", AllFiles, func(string, Entry) bool { return true })
			for what, err := range checks {
				switch {
				case allowed && err != nil:
					t.Errorf("%q: %s of %q: %v", user, what, sh.Name, err)
				case !allowed && !errors.Is(err, ErrNoShare):
					t.Errorf("%q: %s of hidden %q: %v, want ErrNoShare", user, what, sh.Name, err)
				case !allowed && err.Error() != fmt.Errorf("%w: %q", ErrNoShare, sh.Name).Error():
					t.Errorf("%q: %s of hidden %q says %q, not what a missing share says", user, what, sh.Name, err)
				}
			}
			if got := sc.Allows(sh.Name); got != allowed {
				t.Errorf("%q: Allows(%q) = %v", user, sh.Name, got)
			}
		}
	}

	// The change of a private share's access is seen at once, and
	// watchers of those who no longer see it learn only that something
	// changed.
	anon := s.Scope(Anonymous).Watch()
	defer anon.Close()
	alice := s.Scope("alice").Watch()
	defer alice.Close()
	writeFile(t, dirs["Alice"], "Folder/new.mkv", 10)
	awaitChange(t, alice, Change{"Alice", "Folder"})
	writeFile(t, dirs["Movies"], "Folder/new.mkv", 10)
	awaitChange(t, anon, Change{"Movies", "Folder"})
	for _, c := range anon.Take() {
		if c.Share == "Alice" {
			t.Errorf("anonymous watcher told of %v", c)
		}
	}
	if err := s.SetAccess("Movies", []string{"alice"}); err != nil {
		t.Fatal(err)
	}
	if got := s.Scope(Anonymous).Names(); len(got) != 0 {
		t.Errorf("anonymous sees %q after Movies became private", got)
	}
	awaitChange(t, anon, Change{})
	if err := s.SetAccess("Nope", nil); !errors.Is(err, ErrNoShare) {
		t.Errorf("SetAccess of a missing share: %v", err)
	}
}

// TestSyncAccess: a reload that changes only a share's access keeps its
// index and reports it changed.
func TestSyncAccess(t *testing.T) {
	dir := t.TempDir()
	s, err := NewSet(Share{Name: "Home", Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := s.Sync([]Share{{Name: "Home", Path: dir, Access: []string{"alice"}}})
	if err != nil || !slices.Equal(ch.Changed, []string{"Home"}) || len(ch.Added)+len(ch.Removed) != 0 {
		t.Fatalf("Sync = %+v, %v", ch, err)
	}
	if s.Allows("Home", Anonymous) || !s.Allows("Home", "alice") {
		t.Error("access not applied by Sync")
	}
	if ch, err := s.Sync([]Share{{Name: "Home", Path: dir, Access: []string{"alice"}}}); err != nil || !ch.IsZero() {
		t.Errorf("the same access again: %+v, %v", ch, err)
	}
}

// TestManagerSetAccess saves the access to the config file and applies it.
func TestManagerSetAccess(t *testing.T) {
	m, configPath, _ := newManager(t)
	if err := os.WriteFile(configPath, []byte(readFile(t, configPath)+
		"users:\n  - name: alice\n    password_hash: \"$2a$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	saved, err := m.SetAccess("Movies", []string{"alice"})
	if err != nil || !saved {
		t.Fatalf("SetAccess = %v, %v", saved, err)
	}
	if !strings.Contains(readFile(t, configPath), "access: [alice]") || m.Set.Allows("Movies", Anonymous) {
		t.Errorf("not saved or not applied:\n%s", readFile(t, configPath))
	}
	// A user the file does not have: refused, nothing changed.
	if _, err := m.SetAccess("Movies", []string{"mallory"}); err == nil || !m.Set.Allows("Movies", "alice") || m.Set.Allows("Movies", "mallory") {
		t.Errorf("SetAccess for an unknown user: %v", err)
	}
	if saved, err := m.SetAccess("Movies", nil); err != nil || !saved || !m.Set.Allows("Movies", Anonymous) {
		t.Errorf("back to public: %v, %v", saved, err)
	}
	if strings.Contains(readFile(t, configPath), "access") {
		t.Errorf("public share still has access:\n%s", readFile(t, configPath))
	}
}

// TestScopeWatchWhileAccessChanges takes a scope's changes while another
// goroutine changes a share's access: Take asks the access rule (the
// Set's lock) and a change tells the watchers while holding that lock,
// so Take must not hold the watcher's own lock meanwhile. It deadlocked
// before.
func TestScopeWatchWhileAccessChanges(t *testing.T) {
	s, err := NewSet(Share{Name: "Home", Path: t.TempDir()}, Share{Name: "Movies", Path: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	w := s.Scope(Anonymous).Watch()
	defer w.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 2000 {
			access := []string{"alice"}
			if i%2 == 0 {
				access = nil
			}
			if err := s.SetAccess("Home", access); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	finished := false
	for !finished {
		select {
		case <-done:
			finished = true
		case <-time.After(time.Minute):
			t.Fatal("SetAccess and Take blocked each other")
		default:
			w.Take()
		}
	}
}
