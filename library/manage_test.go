package library

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const manageConfig = "# The box.\nname: Box\nshares:\n  - name: Movies # films\n    path: %s\n"

// newManager returns a Manager of a Set holding the share Movies, saving
// to a config file that lists it, and the folder it may add shares from.
func newManager(t *testing.T) (m *Manager, configPath, media string) {
	t.Helper()
	dir := t.TempDir()
	media = filepath.Join(dir, "media")
	for _, d := range []string{"Movies", "Music", "USB"} {
		if err := os.MkdirAll(filepath.Join(media, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	configPath = filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(configPath, []byte(strings.ReplaceAll(manageConfig, "%s", filepath.Join(media, "Movies"))), 0o600); err != nil {
		t.Fatal(err)
	}
	set, err := NewSet(Share{Name: "Movies", Path: filepath.Join(media, "Movies")})
	if err != nil {
		t.Fatal(err)
	}
	log, _ := testLogger(t)
	set.Logger = log
	return &Manager{Set: set, ConfigPath: configPath}, configPath, media
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestManagerChanges checks the three changes when all goes well: applied
// at once, saved with the file's comments kept.
func TestManagerChanges(t *testing.T) {
	m, cfg, media := newManager(t)
	saved, err := m.Add(Share{Name: "Music", Path: filepath.Join(media, "Music")})
	if err != nil || !saved {
		t.Fatalf("Add: saved %v, %v", saved, err)
	}
	if saved, err := m.Rename("Music", "Songs"); err != nil || !saved {
		t.Fatalf("Rename: saved %v, %v", saved, err)
	}
	if got := m.Set.Names(); !slices.Equal(got, []string{"Movies", "Songs"}) {
		t.Errorf("names %q", got)
	}
	file := readFile(t, cfg)
	for _, want := range []string{"# The box.", "# films", "name: Songs", filepath.Join(media, "Music")} {
		if !strings.Contains(file, want) {
			t.Errorf("config lacks %q:\n%s", want, file)
		}
	}
	if saved, err := m.Remove("Songs"); err != nil || !saved {
		t.Fatalf("Remove: saved %v, %v", saved, err)
	}
	if strings.Contains(readFile(t, cfg), "Songs") {
		t.Errorf("removed share still in the file:\n%s", readFile(t, cfg))
	}

	// A share from the command line is not in the file: removed, not saved.
	if err := m.Set.Add(Share{Name: "Cmdline", Path: filepath.Join(media, "USB")}); err != nil {
		t.Fatal(err)
	}
	if saved, err := m.Remove("Cmdline"); err != nil || saved {
		t.Errorf("Remove of a command-line share: saved %v, %v", saved, err)
	}

	// Without a config file: applied, not saved.
	m.ConfigPath = ""
	if saved, err := m.Add(Share{Name: "USB", Path: filepath.Join(media, "USB")}); err != nil || saved {
		t.Errorf("Add without a file: saved %v, %v", saved, err)
	}
	if !slices.Contains(m.Set.Names(), "USB") {
		t.Error("Add without a file did not apply")
	}
}

// TestManagerRefusals checks that what the rules refuse changes neither
// the set nor the file.
func TestManagerRefusals(t *testing.T) {
	m, cfg, media := newManager(t)
	before := readFile(t, cfg)
	if err := os.Symlink(filepath.Join(media, "Movies"), filepath.Join(media, "films-link")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		what string
		do   func() error
		want error
	}{
		{"bad name", func() error { _, err := m.Add(Share{Name: ".x", Path: filepath.Join(media, "USB")}); return err }, ErrBadShareName},
		{"name taken, other case", func() error { _, err := m.Add(Share{Name: "MOVIES", Path: filepath.Join(media, "USB")}); return err }, ErrShareExists},
		{"folder shared", func() error { _, err := m.Add(Share{Name: "Films", Path: filepath.Join(media, "Movies")}); return err }, ErrShared},
		{"folder shared by a link", func() error {
			_, err := m.Add(Share{Name: "Films", Path: filepath.Join(media, "films-link")})
			return err
		}, ErrShared},
		{"relative path", func() error { _, err := m.Add(Share{Name: "Films", Path: "media/USB"}); return err }, nil},
		{"rename onto another", func() error {
			if err := m.Set.Add(Share{Name: "Cmd", Path: filepath.Join(media, "USB")}); err != nil {
				return err
			}
			defer m.Set.Remove("Cmd")
			_, err := m.Rename("Cmd", "movies")
			return err
		}, ErrShareExists},
		{"rename missing", func() error { _, err := m.Rename("Nope", "X"); return err }, ErrNoShare},
		{"remove missing", func() error { _, err := m.Remove("Nope"); return err }, ErrNoShare},
	} {
		err := tc.do()
		if err == nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.what, err, tc.want)
		}
	}
	if got := m.Set.Names(); !slices.Equal(got, []string{"Movies"}) {
		t.Errorf("names after refusals %q", got)
	}
	if after := readFile(t, cfg); after != before {
		t.Errorf("refusals changed the file:\n%s", after)
	}
}

// TestManagerFailedSave checks that a change whose save fails changes
// nothing live, and returns the error: injected, and real (a config file
// with an error in it, which is never overwritten).
func TestManagerFailedSave(t *testing.T) {
	m, cfg, media := newManager(t)
	injected := errors.New("disk full (injected)")
	m.beforeSave = func(op string) error { return injected }
	before := readFile(t, cfg)
	music := filepath.Join(media, "Music")
	for _, do := range []func() (bool, error){
		func() (bool, error) { return m.Add(Share{Name: "Music", Path: music}) },
		func() (bool, error) { return m.Rename("Movies", "Films") },
		func() (bool, error) { return m.Remove("Movies") },
	} {
		if saved, err := do(); saved || !errors.Is(err, injected) {
			t.Errorf("change with a failing save: saved %v, %v", saved, err)
		}
	}
	if got := m.Set.Names(); !slices.Equal(got, []string{"Movies"}) {
		t.Errorf("names after failed saves %q", got)
	}
	if readFile(t, cfg) != before {
		t.Error("failed saves changed the file")
	}

	m.beforeSave = nil
	broken := before + "typo: 1\n"
	if err := os.WriteFile(cfg, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := m.Add(Share{Name: "Music", Path: music})
	if err == nil || !strings.Contains(err.Error(), "typo") {
		t.Errorf("Add with a broken config file: %v", err)
	}
	if slices.Contains(m.Set.Names(), "Music") || readFile(t, cfg) != broken {
		t.Error("a change that could not be saved was applied or written")
	}
}

// TestManagerFailedApply checks that a change saved but not applied puts
// the file back byte for byte, and returns the error.
func TestManagerFailedApply(t *testing.T) {
	m, cfg, media := newManager(t)
	injected := errors.New("apply failed (injected)")
	var sawSaved []bool
	m.beforeApply = func(op string) error {
		sawSaved = append(sawSaved, readFile(t, cfg) != strings.ReplaceAll(manageConfig, "%s", filepath.Join(media, "Movies")))
		return injected
	}
	before := readFile(t, cfg)
	for _, do := range []func() (bool, error){
		func() (bool, error) { return m.Add(Share{Name: "Music", Path: filepath.Join(media, "Music")}) },
		func() (bool, error) { return m.Rename("Movies", "Films") },
		func() (bool, error) { return m.Remove("Movies") },
	} {
		if saved, err := do(); saved || !errors.Is(err, injected) {
			t.Errorf("change with a failing apply: saved %v, %v", saved, err)
		}
		if after := readFile(t, cfg); after != before {
			t.Errorf("the file was not put back:\n%s", after)
		}
	}
	if !slices.Equal(sawSaved, []bool{true, true, true}) {
		t.Errorf("the file held the change when applying: %v", sawSaved)
	}
	if got := m.Set.Names(); !slices.Equal(got, []string{"Movies"}) {
		t.Errorf("names after failed applies %q", got)
	}

	// The file cannot be put back either: both errors are returned.
	m.beforeApply = func(op string) error {
		if err := os.RemoveAll(filepath.Dir(cfg)); err != nil {
			t.Fatal(err)
		}
		return injected
	}
	_, err := m.Add(Share{Name: "Music", Path: filepath.Join(media, "Music")})
	if !errors.Is(err, injected) || !strings.Contains(err.Error(), "putting the config file back") {
		t.Errorf("apply and restore failing: %v", err)
	}
}

// TestManagerReloadWaits checks that a reload reads the file only after a
// change under way is done, so it neither undoes nor half-sees it.
func TestManagerReloadWaits(t *testing.T) {
	m, _, media := newManager(t)
	inApply, release := make(chan struct{}), make(chan struct{})
	m.beforeApply = func(op string) error {
		close(inApply)
		<-release
		return nil
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := m.Add(Share{Name: "Music", Path: filepath.Join(media, "Music")}); err != nil {
			t.Errorf("Add: %v", err)
		}
	})
	<-inApply
	loaded := make(chan []string, 1)
	wg.Go(func() {
		m.Reload(func() ([]Share, error) {
			loaded <- m.Set.Names()
			return m.Set.List(), nil
		})
	})
	select {
	case names := <-loaded:
		t.Fatalf("reload read the file while a change was being applied (names %q)", names)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if names := <-loaded; !slices.Equal(names, []string{"Movies", "Music"}) {
		t.Errorf("reload saw %q, want the change applied", names)
	}
	wg.Wait()

	// A load error changes nothing.
	if _, err := m.Reload(func() ([]Share, error) { return nil, errors.New("bad file") }); err == nil {
		t.Error("Reload with a failing load: no error")
	}
	if got := m.Set.Names(); !slices.Equal(got, []string{"Movies", "Music"}) {
		t.Errorf("names after a failed reload %q", got)
	}
}
