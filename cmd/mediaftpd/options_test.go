package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mediaftpd/mediaftpd/internal/config"
)

func TestShareArg(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	for _, d := range []string{"Movies", "a=b", ".hidden", "Films 2024"} {
		if err := os.Mkdir(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(root, "file.txt")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	movies := filepath.Join(root, "Movies")

	for _, tc := range []struct {
		arg       string
		name      string // want this share name, or
		path      string // (with this path)
		errSubstr string // want an error containing this
	}{
		{arg: movies, name: "Movies", path: movies},
		{arg: movies + "/", name: "Movies", path: movies},
		{arg: movies + "/../Movies", name: "Movies", path: movies},
		{arg: filepath.Join(root, "Films 2024"), name: "Films 2024", path: filepath.Join(root, "Films 2024")},
		{arg: "Films=" + movies, name: "Films", path: movies},
		{arg: "Living Room=" + movies, name: "Living Room", path: movies},
		// A folder whose name has "=" is that folder, not NAME=DIR.
		{arg: filepath.Join(root, "a=b"), name: "a=b", path: filepath.Join(root, "a=b")},
		{arg: "/", name: "root", path: "/"},
		{arg: filepath.Join(root, "missing"), errSubstr: filepath.Join(root, "missing") + " does not exist"},
		{arg: "X=" + filepath.Join(root, "missing"), errSubstr: filepath.Join(root, "missing") + " does not exist"},
		{arg: "=" + movies, errSubstr: "does not exist"}, // no name: the whole is a path
		{arg: file, errSubstr: "is not a folder"},
		{arg: filepath.Join(root, ".hidden"), errSubstr: "NAME=DIR"},
		{arg: "A/B=" + movies, errSubstr: "slash"},
	} {
		sh, err := shareArg(tc.arg)
		switch {
		case tc.errSubstr != "":
			if err == nil || !strings.Contains(err.Error(), tc.errSubstr) {
				t.Errorf("shareArg(%q) = %+v, %v; want an error containing %q", tc.arg, sh, err, tc.errSubstr)
			}
		case err != nil:
			t.Errorf("shareArg(%q): %v", tc.arg, err)
		case sh.Name != tc.name || sh.Path != tc.path:
			t.Errorf("shareArg(%q) = %q at %q, want %q at %q", tc.arg, sh.Name, sh.Path, tc.name, tc.path)
		}
	}
}

// parseConfig runs the command line args through parseArgs and config.
func parseConfig(t *testing.T, args ...string) (*options, config.Config, error) {
	t.Helper()
	var stderr bytes.Buffer
	o, err := parseArgs(args, &stderr)
	if err != nil {
		return nil, config.Config{}, err
	}
	cfg, err := o.config()
	return o, cfg, err
}

func TestFlagsOverrideConfig(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	movies, music := filepath.Join(root, "Movies"), filepath.Join(root, "Music")
	for _, d := range []string{movies, music} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cfgPath := filepath.Join(root, "mediaftpd.yaml")
	err := os.WriteFile(cfgPath, []byte(`name: From Config
ftp:
  listen: "127.0.0.1:2100"
  passive_ports: 50000-50010
shares:
  - name: Music
    path: `+music+`
web:
  listen: "127.0.0.1:8100"
mdns:
  enabled: true
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("config alone", func(t *testing.T) {
		o, cfg, err := parseConfig(t, "-config", cfgPath)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Name != "From Config" || cfg.FTP.Listen != "127.0.0.1:2100" ||
			cfg.FTP.PassivePorts != (config.PortRange{Lo: 50000, Hi: 50010}) ||
			cfg.Web.Listen != "127.0.0.1:8100" || !cfg.MDNS.On() {
			t.Errorf("config not applied: %+v", cfg)
		}
		if len(cfg.Shares) != 1 || cfg.Shares[0].Name != "Music" {
			t.Errorf("shares = %+v, want only the config's Music (no working folder)", cfg.Shares)
		}
		if !o.listenGiven {
			t.Error("a listen address from the config file must not fall back to :2121")
		}
	})

	t.Run("flags win", func(t *testing.T) {
		o, cfg, err := parseConfig(t, "-config", cfgPath, "-listen", "127.0.0.1:2200", "-name", "From Flag",
			"-pasv-ports", "51000-51005", "-web", "off", "-mdns=false", "-dlna", "off", "-state-dir", t.TempDir(), movies)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Name != "From Flag" || cfg.FTP.Listen != "127.0.0.1:2200" ||
			cfg.FTP.PassivePorts != (config.PortRange{Lo: 51000, Hi: 51005}) ||
			cfg.Web.Listen != config.Off || cfg.MDNS.On() {
			t.Errorf("flags not applied over the config: %+v (mdns on: %v)", cfg, cfg.MDNS.On())
		}
		if len(cfg.Shares) != 2 || cfg.Shares[0].Name != "Music" || cfg.Shares[1].Name != "Movies" {
			t.Errorf("shares = %+v, want the config's Music and the command line's Movies", cfg.Shares)
		}
		if !o.listenGiven {
			t.Error("listenGiven = false with -listen")
		}
	})

	t.Run("duplicate of a config share", func(t *testing.T) {
		if _, _, err := parseConfig(t, "-config", cfgPath, "music="+movies); !errors.Is(err, config.ErrDuplicateShare) {
			t.Errorf("a DIR named like a config share: %v, want ErrDuplicateShare", err)
		}
	})
}

func TestDefaults(t *testing.T) {
	// Not parallel: it changes the working folder.
	here := filepath.Join(t.TempDir(), "Here")
	if err := os.Mkdir(here, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(here)
	o, cfg, err := parseConfig(t)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Shares) != 1 || cfg.Shares[0].Name != "Here" || cfg.Shares[0].Path != here {
		t.Errorf("shares with no DIR and no config = %+v, want the working folder %s as Here", cfg.Shares, here)
	}
	if o.listenGiven || cfg.FTP.Listen != config.DefaultFTPListen {
		t.Errorf("listen %q (given %v), want the default %q, not given (so it may fall back)", cfg.FTP.Listen, o.listenGiven, config.DefaultFTPListen)
	}
	if cfg.Web.Listen != config.DefaultWebListen || !cfg.MDNS.On() || !strings.HasPrefix(cfg.Name, "Media ") {
		t.Errorf("defaults not filled in: %+v", cfg)
	}
	// A relative DIR is made absolute.
	_, cfg, err = parseConfig(t, "Films=.")
	if err != nil || len(cfg.Shares) != 1 || cfg.Shares[0].Path != here {
		t.Errorf("Films=. gives %+v, %v; want %s", cfg.Shares, err, here)
	}
}

func TestBadCommandLine(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"-nosuchflag"},
		{"-pasv-ports", "50100-50000"},
		{"-pasv-ports", "lots"},
		{"-pasv-ports", "0-10"},
		{"-listen", "127.0.0.1:99999"},
		{"-name", strings.Repeat("x", 64)},
		{"-config", filepath.Join(t.TempDir(), "missing.yaml")},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != exitUsage || stderr.Len() == 0 {
			t.Errorf("run(%q) = %d, stderr %q; want %d and a message", args, code, stderr.String(), exitUsage)
		}
	}
}

func TestHelpAndVersion(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-h"}, &stdout, &stderr); code != exitOK || !strings.Contains(stderr.String(), "Usage: mediaftpd") {
		t.Errorf("-h: exit %d, stderr %q; want 0 and the usage", code, stderr.String())
	}
	stdout.Reset()
	if code := run([]string{"-version"}, &stdout, &stderr); code != exitOK || stdout.String() != "mediaftpd "+versionString()+"\n" {
		t.Errorf("-version: exit %d, stdout %q", code, stdout.String())
	}
	if _, err := parseArgs([]string{"-help"}, &stderr); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("parseArgs(-help) = %v, want flag.ErrHelp", err)
	}
}

// TestConfigWithoutShares: a config file whose last share was removed from
// the status page shares nothing; the working folder (a service's "/") is
// shared only when there is no config at all.
func TestConfigWithoutShares(t *testing.T) {
	t.Parallel()
	cfgPath := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfgPath, []byte("name: Empty\nshares: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, cfg, err := parseConfig(t, "-config", cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Shares) != 0 {
		t.Errorf("shares = %+v, want none", cfg.Shares)
	}
}
