package config

import (
	"errors"
	"os"
	"strings"
	"testing"
)

const (
	hashA = "$2a$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234"
	hashB = "$2a$10$zyxwvutsrqponmlkjihgfeABCDEFGHIJKLMNOPQRSTUVWXYZ01234"
)

// TestAccountsParsed reads users, access, anonymous and tls, and fills in
// their defaults.
func TestAccountsParsed(t *testing.T) {
	c, err := Parse("c.yaml", []byte(`
users:
  - name: alice
    password_hash: "`+hashA+`"
  - name: bob.smith@home
    password_hash: "`+hashB+`"
anonymous: false
shares:
  - name: Home videos
    path: /srv/home
    access: [alice, bob.smith@home]
  - name: Movies
    path: /srv/movies
    access: public
  - name: Music
    path: /srv/music
tls:
  cert: /etc/ssl/box.pem
  key: /etc/ssl/box.key
  require_for_users: false
  implicit_listen: ":990"
web:
  tls: true
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Users) != 2 || c.Users[1].Name != "bob.smith@home" || c.Users[0].PasswordHash != hashA || c.Users[1].Line != 5 {
		t.Errorf("users = %+v", c.Users)
	}
	if got := c.Shares[0].Access; len(got) != 2 || got[0] != "alice" || got[1] != "bob.smith@home" {
		t.Errorf("access = %q", got)
	}
	if !c.Shares[1].Access.Public() || !c.Shares[2].Access.Public() {
		t.Errorf("public shares' access = %q, %q", c.Shares[1].Access, c.Shares[2].Access)
	}
	if c.AnonymousOn() || c.TLS.RequireOn() || c.TLS.ImplicitListen != ":990" || !c.Web.TLS {
		t.Errorf("anonymous %v, require %v, implicit %q, web.tls %v", c.AnonymousOn(), c.TLS.RequireOn(), c.TLS.ImplicitListen, c.Web.TLS)
	}
	d := (&Config{}).WithDefaults()
	if !d.AnonymousOn() || !d.TLS.RequireOn() || d.Anonymous == nil || d.TLS.RequireForUsers == nil {
		t.Errorf("defaults: anonymous %v, require_for_users %v", d.AnonymousOn(), d.TLS.RequireOn())
	}
}

// TestAccountsRefused: every bad user, access list and tls value is
// reported at its line, all at once.
func TestAccountsRefused(t *testing.T) {
	_, err := Parse("c.yaml", []byte(`users:
  - name: alice
    password_hash: "`+hashA+`"
  - name: Alice
    password_hash: nope
  - name: ftp
  - name: "-x"
    password_hash: "`+hashB+`"
  - name: "a b"
    password_hash: "`+hashB+`"
shares:
  - name: Home
    path: /srv/home
    access: [alice, bob, alice, ALICE]
  - name: X
    path: /srv/x
    access: []
  - name: Y
    path: /srv/y
    access: private
  - name: Z
    path: /srv/z
    access: {alice: yes}
tls:
  cert: relative.pem
  implicit_listen: "990"
`))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`c.yaml:4: name: "Alice" is already a user (line 2`,
		`c.yaml:5: password_hash: is not a bcrypt hash`,
		`c.yaml:6: name: "ftp" logs in anonymously`,
		`c.yaml:6: password_hash: missing: set it with mediaftpd passwd --user ftp`,
		`c.yaml:7: name: "-x" starts with '-'`,
		`c.yaml:9: name: "a b" contains ' '`,
		`c.yaml:14: access: "bob" is not a user`,
		`c.yaml:14: access: "alice" is listed twice`,
		`c.yaml:14: access: "ALICE" is written "alice" under users`,
		`c.yaml:17: access: an empty list would let nobody see the share`,
		`c.yaml:20: access: "private" is neither "public" nor a list`,
		`c.yaml:23: access: must be "public" or a list of user names, not a section of keys`,
		`c.yaml:24: tls: cert and key go together`,
		`c.yaml:25: cert: "relative.pem" is not an absolute path`,
		`c.yaml:26: implicit_listen: "990" is not host:port`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q; it is:\n%v", want, err)
		}
	}
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("error does not match ErrInvalid: %v", err)
	}
}

// TestAccountsSaved: users and access are changed in the file with its
// comments kept, and a change that would make a private share public is
// refused.
func TestAccountsSaved(t *testing.T) {
	path := writeConfig(t, `# my server
users:
  # the family
  - name: alice # mum
    password_hash: "`+hashA+`"
shares:
  - name: Home # private
    path: /srv/home
    access: [alice] # only mum
  - name: Movies
    path: /srv/movies
`)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(SetUserPasswordHash(path, "bob", hashB))
	must(SetUserPasswordHash(path, "alice", hashB))
	if found, err := SetShareAccess(path, "Movies", Access{"bob"}); err != nil || !found {
		t.Fatalf("SetShareAccess Movies: %v, %v", found, err)
	}
	if found, err := SetShareAccess(path, "Home", Access{"alice", "bob"}); err != nil || !found {
		t.Fatalf("SetShareAccess Home: %v, %v", found, err)
	}
	c := loadFile(t, path)
	if len(c.Users) != 2 || c.Users[0].PasswordHash != hashB || c.Users[1].Name != "bob" || c.Users[1].PasswordHash != hashB {
		t.Errorf("users = %+v", c.Users)
	}
	if got := strings.Join(c.Shares[0].Access, ","); got != "alice,bob" {
		t.Errorf("Home access = %q", got)
	}
	if found, err := SetShareAccess(path, "Nope", nil); err != nil || found {
		t.Errorf("SetShareAccess of a missing share: %v, %v", found, err)
	}
	// Refused: bob is the only user of Movies.
	if _, err := RemoveUser(path, "bob"); !errors.Is(err, ErrOnlyUser) || !strings.Contains(err.Error(), `share "Movies"`) {
		t.Errorf("RemoveUser bob: %v, want ErrOnlyUser naming Movies", err)
	}
	if _, err := SetShareAccess(path, "Movies", Access{"carol"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("access for a user who does not exist: %v", err)
	}
	if found, err := SetShareAccess(path, "Movies", nil); err != nil || !found {
		t.Fatalf("SetShareAccess public: %v, %v", found, err)
	}
	found, err := RemoveUser(path, "bob")
	if err != nil || !found {
		t.Fatalf("RemoveUser bob: %v, %v", found, err)
	}
	if found, err := RemoveUser(path, "bob"); err != nil || found {
		t.Errorf("RemoveUser bob again: %v, %v", found, err)
	}
	c = loadFile(t, path)
	if len(c.Users) != 1 || strings.Join(c.Shares[0].Access, ",") != "alice" || !c.Shares[1].Access.Public() {
		t.Errorf("after removing bob: users %+v, access %q, %q", c.Users, c.Shares[0].Access, c.Shares[1].Access)
	}
	data, _ := os.ReadFile(path)
	for _, comment := range []string{"# my server", "# the family", "# mum", "# private", "# only mum"} {
		if !strings.Contains(string(data), comment) {
			t.Errorf("comment %q lost:\n%s", comment, data)
		}
	}
	if err := SetUserPasswordHash(path, "Alice", hashA); !errors.Is(err, ErrInvalid) {
		t.Errorf("a second user differing in case: %v", err)
	}
	if err := SetUserPasswordHash(path, "anonymous", hashA); !errors.Is(err, ErrInvalid) {
		t.Errorf("user anonymous: %v", err)
	}
}

func loadFile(t *testing.T, path string) *Config {
	t.Helper()
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSaveFixesErrors: a file whose access list names a user not yet in
// users takes that user (the change fixes the file's only error), and a
// file with another error is still left as it is.
func TestSaveFixesErrors(t *testing.T) {
	content := "shares:\n  - name: Home\n    path: /srv/home\n    access: [alice]\n"
	path := writeConfig(t, content)
	if _, err := Load(path); err == nil {
		t.Fatal("the file loads before alice is added")
	}
	if err := SetUserPasswordHash(path, "bob", hashA); err == nil || !strings.Contains(err.Error(), "has errors") {
		t.Errorf("adding bob, which leaves the error: %v", err)
	}
	if data, _ := os.ReadFile(path); string(data) != content {
		t.Errorf("the file changed:\n%s", data)
	}
	if err := SetUserPasswordHash(path, "alice", hashA); err != nil {
		t.Fatalf("adding alice, which fixes the file: %v", err)
	}
	if c := loadFile(t, path); len(c.Users) != 1 || c.Users[0].Name != "alice" {
		t.Errorf("users %+v", c.Users)
	}
	broken := "name: [\n"
	path = writeConfig(t, broken)
	if err := SetUserPasswordHash(path, "alice", hashA); err == nil || !strings.Contains(err.Error(), "has errors") {
		t.Errorf("a file with a syntax error: %v", err)
	}
}
