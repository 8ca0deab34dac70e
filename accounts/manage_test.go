package accounts

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mediaftpd/mediaftpd/internal/config"
	"github.com/mediaftpd/mediaftpd/library"
)

// newManager returns a Manager over a config file with users alice and
// bob, a public share Movies and a share Home private to alice and bob.
func newManager(t *testing.T) (*Manager, string, *[]string) {
	t.Helper()
	dir := t.TempDir()
	alice, bob := mustHash(t, "alice's secret"), mustHash(t, "bob's secret")
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(`# The box.
users:
  - name: alice # mum
    password_hash: "`+alice+`"
  - name: bob
    password_hash: "`+bob+`"
shares:
  - name: Movies
    path: `+dir+`
  - name: Home
    path: `+dir+`/home
    access: [alice, bob]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	set, err := library.NewSet(library.Share{Name: "Movies", Path: dir},
		library.Share{Name: "Home", Path: dir + "/home", Access: []string{"alice", "bob"}})
	if err != nil {
		t.Fatal(err)
	}
	var ended []string
	users, _ := newUsers(t)
	users.Set([]User{{"alice", alice}, {"bob", bob}}, true)
	m := &Manager{Users: users, Shares: &library.Manager{Set: set, ConfigPath: path}, ConfigPath: path,
		OnEnded: func(names []string) { ended = append(ended, names...) }}
	m.Logger = users.Logger
	return m, path, &ended
}

func loadConfig(t *testing.T, path string) *config.Config {
	t.Helper()
	c, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestManagerSetPassword(t *testing.T) {
	m, path, ended := newManager(t)
	if saved, err := m.SetPassword("carol", "carol's secret"); err != nil || !saved {
		t.Fatalf("add carol: %v, %v", saved, err)
	}
	if saved, err := m.SetPassword("alice", "alice's new secret"); err != nil || !saved {
		t.Fatalf("alice's password: %v, %v", saved, err)
	}
	if !slices.Equal(*ended, []string{"alice"}) {
		t.Errorf("sessions ended: %q, want alice's", *ended)
	}
	c := loadConfig(t, path)
	if len(c.Users) != 3 || !Matches(c.Users[0].PasswordHash, "alice's new secret") || !Matches(c.Users[2].PasswordHash, "carol's secret") {
		t.Errorf("saved users %+v", c.Users)
	}
	if _, err := m.Add("Carol", "a long password"); !errors.Is(err, ErrUserExists) {
		t.Errorf("Add of an existing name: %v", err)
	}
	if saved, err := m.Add("dave", "dave's secret"); err != nil || !saved || !m.Users.Has("dave") {
		t.Errorf("Add dave: %v, %v", saved, err)
	}
	if !m.Users.Has("carol") || !Matches(m.Users.hashes["alice"], "alice's new secret") {
		t.Error("not applied")
	}
	for _, tc := range []struct {
		name, password string
		want           error
	}{
		{"Carol", "a long password", config.ErrInvalid},
		{"anonymous", "a long password", config.ErrInvalid},
		{"a b", "a long password", config.ErrInvalid},
		{"dave", "short", ErrBadPassword},
	} {
		if _, err := m.SetPassword(tc.name, tc.password); !errors.Is(err, tc.want) {
			t.Errorf("SetPassword(%q): %v, want %v", tc.name, err, tc.want)
		}
	}
	if data, _ := os.ReadFile(path); !strings.Contains(string(data), "# mum") || len(loadConfig(t, path).Users) != 4 {
		t.Errorf("file:\n%s", data)
	}
}

func TestManagerRemoveAndShares(t *testing.T) {
	m, path, ended := newManager(t)
	set := m.Shares.Set
	if _, err := m.SetShares("bob", nil); err != nil {
		t.Fatal(err)
	}
	if set.Allows("Home", "bob") || !set.Allows("Home", "alice") {
		t.Error("bob still sees Home")
	}
	// alice is now Home's only user: she cannot be removed, nor lose it.
	if _, err := m.Remove("alice"); !errors.Is(err, config.ErrOnlyUser) {
		t.Errorf("removing Home's only user: %v", err)
	}
	if _, err := m.SetShares("alice", nil); !errors.Is(err, config.ErrOnlyUser) {
		t.Errorf("taking Home from its only user: %v", err)
	}
	if _, err := m.SetShares("bob", []string{"Movies"}); !errors.Is(err, ErrPublicShare) {
		t.Errorf("giving a public share: %v", err)
	}
	if _, err := m.SetShares("bob", []string{"Nope"}); !errors.Is(err, library.ErrNoShare) {
		t.Errorf("giving a missing share: %v", err)
	}
	if _, err := m.SetShares("mallory", nil); !errors.Is(err, ErrNoUser) {
		t.Errorf("shares of a missing user: %v", err)
	}
	if _, err := m.SetShares("bob", []string{"Home", "Home"}); !errors.Is(err, config.ErrInvalid) {
		t.Errorf("a share named twice: %v", err)
	}
	if saved, err := m.SetShares("bob", []string{"Home"}); err != nil || !saved || !set.Allows("Home", "bob") {
		t.Fatalf("giving Home back: %v", err)
	}
	if saved, err := m.Remove("bob"); err != nil || !saved {
		t.Fatalf("Remove bob: %v, %v", saved, err)
	}
	if set.Allows("Home", "bob") || m.Users.Has("bob") || !slices.Equal(*ended, []string{"bob"}) {
		t.Errorf("bob not removed everywhere (ended %q)", *ended)
	}
	c := loadConfig(t, path)
	if len(c.Users) != 1 || !slices.Equal([]string(c.Shares[1].Access), []string{"alice"}) {
		t.Errorf("saved: users %+v, Home access %q", c.Users, c.Shares[1].Access)
	}
	if _, err := m.Remove("bob"); !errors.Is(err, ErrNoUser) {
		t.Errorf("removing bob again: %v", err)
	}
}

func TestManagerReload(t *testing.T) {
	m, _, ended := newManager(t)
	alice := m.Users.hashes["alice"]
	if !m.Reload([]User{{"alice", alice}}, false) {
		t.Error("Reload without bob reports no change")
	}
	if !slices.Equal(*ended, []string{"bob"}) || m.Users.Anonymous() {
		t.Errorf("ended %q, anonymous %v", *ended, m.Users.Anonymous())
	}
	if m.Reload([]User{{"alice", alice}}, false) {
		t.Error("the same users again: Reload reports a change")
	}
	// A user added on the page since, and the file read again without
	// them: the running users follow the file.
	if _, err := m.SetPassword("carol", "carol's secret"); err != nil {
		t.Fatal(err)
	}
	if !m.Reload([]User{{"alice", alice}}, false) || m.Users.Has("carol") {
		t.Error("Reload kept a user the file does not have")
	}
}
