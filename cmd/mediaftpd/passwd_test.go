package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/mediaftpd/mediaftpd/internal/config"
	"github.com/mediaftpd/mediaftpd/library"
	"github.com/mediaftpd/mediaftpd/web"
)

func TestPasswd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	writeFile(t, path, "# My box.\nname: Box\n")
	var out, errOut bytes.Buffer
	if err := runPasswd([]string{"-config", path}, strings.NewReader("a long secret\n"), &out, &errOut); err != nil {
		t.Fatalf("Passwd: %v (%s)", err, errOut.String())
	}
	if !strings.Contains(out.String(), "Restart mediaftpd") {
		t.Errorf("output %q", out.String())
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := bcrypt.CompareHashAndPassword([]byte(cfg.Web.PasswordHash), []byte("a long secret")); err != nil {
		t.Errorf("the stored hash does not match the password: %v", err)
	}
	if data, _ := os.ReadFile(path); !strings.HasPrefix(string(data), "# My box.\nname: Box\n") {
		t.Errorf("the file lost its start:\n%s", data)
	}

	// A server started with that file lets the admin in.
	set := &library.Set{}
	page := httptest.NewServer(&web.Server{Shares: set, Manager: &library.Manager{Set: set}, PasswordHash: cfg.Web.PasswordHash,
		Logger: slog.New(slog.DiscardHandler)})
	defer page.Close()
	resp, err := http.Post(page.URL+"/api/login", "application/json", strings.NewReader(`{"password": "a long secret"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("login with the new password: %s %s", resp.Status, body)
	}

	// A new file, and a password without a line ending.
	fresh := filepath.Join(t.TempDir(), "new.yaml")
	if err := runPasswd([]string{"-config", fresh}, strings.NewReader("another secret"), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if cfg, err := config.Load(fresh); err != nil || cfg.Web.PasswordHash == "" {
		t.Errorf("new file: %+v, %v", cfg, err)
	}
}

func TestPasswdErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	writeFile(t, path, "name: Box\n")
	tests := []struct {
		name  string
		args  []string
		stdin string
		want  error  // matched with errors.Is, if set
		text  string // in the error, if set
	}{
		{"help", []string{"-h"}, "", flag.ErrHelp, ""},
		{"no config", nil, "a long secret\n", errUsage, ""},
		{"extra argument", []string{"-config", path, "x"}, "a long secret\n", errUsage, ""},
		{"unknown flag", []string{"-cfg", path}, "", errUsage, ""},
		{"no password", []string{"-config", path}, "", nil, "no password"},
		{"short", []string{"-config", path}, "short\n", nil, "too short"},
		{"long", []string{"-config", path}, strings.Repeat("x", 73) + "\n", nil, "too long"},
		{"missing folder", []string{"-config", filepath.Join(path, "nope", "c.yaml")}, "a long secret\n", nil, "saving config"},
		{"reserved user", []string{"--user", "anonymous", "-config", path}, "a long secret\n", config.ErrInvalid, "logs in anonymously"},
		{"bad user name", []string{"--user", "a b", "-config", path}, "a long secret\n", config.ErrInvalid, "user name"},
		{"short user password", []string{"--user", "alice", "-config", path}, "short\n", nil, "too short"},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		err := runPasswd(tt.args, strings.NewReader(tt.stdin), &out, &errOut)
		if err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		if tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("%s: error %v, want %v", tt.name, err, tt.want)
		}
		if tt.text != "" && !strings.Contains(err.Error(), tt.text) {
			t.Errorf("%s: error %q lacks %q", tt.name, err, tt.text)
		}
	}
	if data, _ := os.ReadFile(path); string(data) != "name: Box\n" {
		t.Errorf("failed runs changed the file:\n%s", data)
	}
}

// TestPasswdUser: --user adds the user, then changes their password,
// keeping the admin's and the rest of the file.
func TestPasswdUser(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	writeFile(t, path, "# My box.\nname: Box\nshares:\n  - name: Home\n    path: /srv/home\n")
	var out, errOut bytes.Buffer
	for _, pw := range []string{"alice's first", "alice's second"} {
		if err := runPasswd([]string{"--user", "alice", "-config", path}, strings.NewReader(pw+"\n"), &out, &errOut); err != nil {
			t.Fatalf("passwd --user: %v (%s)", err, errOut.String())
		}
	}
	if err := runPasswd([]string{"-user", "bob", "-config", path}, strings.NewReader("bob's secret\n"), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "The password of user alice is stored") {
		t.Errorf("output %q", out.String())
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Users) != 2 || cfg.Users[0].Name != "alice" || cfg.Users[1].Name != "bob" || cfg.Web.PasswordHash != "" {
		t.Fatalf("users %+v, admin hash %q", cfg.Users, cfg.Web.PasswordHash)
	}
	if bcrypt.CompareHashAndPassword([]byte(cfg.Users[0].PasswordHash), []byte("alice's second")) != nil ||
		bcrypt.CompareHashAndPassword([]byte(cfg.Users[1].PasswordHash), []byte("bob's secret")) != nil {
		t.Error("stored hashes do not match the passwords")
	}
	if data, _ := os.ReadFile(path); !strings.HasPrefix(string(data), "# My box.\nname: Box\n") || strings.Contains(string(data), "secret") {
		t.Errorf("file:\n%s", data)
	}
}
