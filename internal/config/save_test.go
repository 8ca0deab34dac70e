package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite the golden files of TestSaveGolden")

// goldenSep separates a golden file's input from its expected output.
const goldenSep = "==== want ====\n"

// TestSaveGolden edits the input of each golden file in testdata/save and
// compares the result with the file's expected output. Run with -update
// to write the expected outputs (then read them).
func TestSaveGolden(t *testing.T) {
	example, err := os.ReadFile("example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	add := func(name, path string) func(string) error {
		return func(p string) error { return AddShare(p, Share{Name: name, Path: path}) }
	}
	remove := func(name string) func(string) error {
		return func(p string) error {
			found, err := RemoveShare(p, name)
			if err == nil && !found {
				err = fmt.Errorf("share %q not found", name)
			}
			return err
		}
	}
	rename := func(old, new string) func(string) error {
		return func(p string) error {
			found, err := RenameShare(p, old, new)
			if err == nil && !found {
				err = fmt.Errorf("share %q not found", old)
			}
			return err
		}
	}
	passwd := func(hash string) func(string) error {
		return func(p string) error { return SetPasswordHash(p, hash) }
	}
	const hash = "$2a$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234"
	tests := []struct {
		file  string
		input string // "" for the example config
		edit  func(path string) error
	}{
		{"add_example", "", add("Films", "/media/usb/Films")},
		{"add_missing_key", "name: Box\n\nweb:\n  listen: \":8021\"\n", add("Films", "/media/usb/Films")},
		{"add_flow_empty", "# Shares come from the page.\nshares: []  # none yet\n\nmdns:\n  enabled: false\n", add("Films", "/media/usb/Films")},
		{"add_null", "shares: # from the page\n\n# The page.\nweb:\n  listen: \":8021\"\n", add("Films", "/media/usb/Films")},
		{"add_empty_file", "", nil},
		{"add_comment_only", "# My mediaftpd config.\n# Nothing set yet.\n", add("Films", "/media/usb/Films")},
		{"add_needs_quotes", "shares:\n- name: A\n  path: /a\n", add("123", "/media/x: y #z")},
		{"remove_middle", "", remove("Music")},
		{"remove_with_comment", "", remove("NAS Photos")},
		{"remove_last", "name: Box\nshares:\n  - name: A # the only one\n    path: /a\n\nweb:\n  listen: \":80\"\n", remove("A")},
		{"rename", "", rename("Movies", "Films & Series")},
		{"passwd_example", "", passwd(hash)},
		{"passwd_replace", "web:\n  password_hash: \"$2a$10$old\" # by passwd\n  listen: \":8021\"\n", passwd(hash)},
		{"passwd_no_web", "name: Box\n\n# Shares.\nshares:\n  - name: A\n    path: /a\n", passwd(hash)},
		{"passwd_empty_web", "web:\nmdns:\n  enabled: true\n", passwd(hash)},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			input := tt.input
			if input == "" && !strings.HasSuffix(tt.file, "_empty_file") {
				input = string(example)
			}
			edit := tt.edit
			if edit == nil {
				edit = add("Films", "/media/usb/Films")
			}
			path := filepath.Join(t.TempDir(), "config.yaml")
			if err := os.WriteFile(path, []byte(input), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := edit(path); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Parse(path, got); err != nil {
				t.Errorf("the saved file does not load: %v", err)
			}
			golden := filepath.Join("testdata", "save", tt.file+".txt")
			if *update {
				if err := os.WriteFile(golden, []byte(input+goldenSep+string(got)), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			data, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to make it)", err)
			}
			wantIn, want, ok := strings.Cut(string(data), goldenSep)
			if !ok || wantIn != input {
				t.Fatalf("%s: the input part differs from the test's input (run with -update)", golden)
			}
			if string(got) != want {
				t.Errorf("saved file:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// TestSaveKeepsEveryComment checks, on the example config, that every
// comment line and blank line survives adding a share: the only lines
// added are the share's.
func TestSaveKeepsEveryComment(t *testing.T) {
	example, err := os.ReadFile("example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := writeConfig(t, string(example))
	if err := AddShare(path, Share{Name: "Films", Path: "/media/usb/Films"}); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	oldLines, newLines := splitLines(example), splitLines(got)
	var added []string
	i := 0
	for _, l := range newLines {
		if i < len(oldLines) && strings.TrimSpace(l) == strings.TrimSpace(oldLines[i]) {
			i++
			continue
		}
		added = append(added, strings.TrimSpace(l))
	}
	if i != len(oldLines) {
		t.Errorf("line %d of the example is missing or moved: %q\nsaved:\n%s", i+1, oldLines[i], got)
	}
	if want := []string{"- name: Films", "path: /media/usb/Films"}; !slices.Equal(added, want) {
		t.Errorf("added lines %q, want %q", added, want)
	}
	cfg, err := Parse(path, got)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range cfg.Shares {
		names = append(names, s.Name)
	}
	if want := []string{"Movies", "Music", "NAS Photos", "Home videos", "Films"}; !slices.Equal(names, want) {
		t.Errorf("shares %q, want %q", names, want)
	}
}

func writeConfig(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(content), 0o640); err != nil {
		t.Fatal(err)
	}
	return path
}

const twoShares = "# Two shares.\nshares:\n  - name: Movies\n    path: /media/Movies\n  - name: Music\n    path: /media/Music\n"

// TestSaveRefusals checks the changes that are refused, and that the file
// is then left as it was.
func TestSaveRefusals(t *testing.T) {
	tests := []struct {
		name    string
		content string
		edit    func(path string) error
		want    error // matched with errors.Is; nil means any error
	}{
		{"add duplicate ignoring case", twoShares, func(p string) error {
			return AddShare(p, Share{Name: "MOVIES", Path: "/media/x"})
		}, ErrDuplicateShare},
		{"rename onto another", twoShares, func(p string) error {
			_, err := RenameShare(p, "Movies", "music")
			return err
		}, ErrDuplicateShare},
		{"add relative path", twoShares, func(p string) error {
			return AddShare(p, Share{Name: "X", Path: "media/x"})
		}, ErrInvalid},
		{"file has errors", "shares:\n  - name: A\n    path: /a\n    typo: 1\n", func(p string) error {
			return AddShare(p, Share{Name: "B", Path: "/b"})
		}, ErrUnknownKey},
		{"shares is an alias", "mdns:\n  interfaces: &s []\nshares: *s\n", func(p string) error {
			return AddShare(p, Share{Name: "B", Path: "/b"})
		}, ErrCannotEdit},
		{"share name is an alias", "name: &n Box\nshares:\n  - name: *n\n    path: /a\n", func(p string) error {
			_, err := RenameShare(p, "Box", "B")
			return err
		}, ErrCannotEdit},
		{"web is an alias", "ftp: &f {listen: \":80\"}\nweb: *f\n", func(p string) error {
			return SetPasswordHash(p, "h")
		}, ErrCannotEdit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.content)
			err := tt.edit(path)
			if err == nil {
				t.Fatal("no error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error %q does not match %q", err, tt.want)
			}
			if got, _ := os.ReadFile(path); string(got) != tt.content {
				t.Errorf("file changed to:\n%s", got)
			}
		})
	}
}

func TestRemoveAndRenameMissing(t *testing.T) {
	path := writeConfig(t, twoShares)
	before, _ := os.Stat(path)
	if found, err := RemoveShare(path, "movies"); err != nil || found {
		t.Errorf("RemoveShare of a name differing in case = %v, %v; want false, nil", found, err)
	}
	if found, err := RenameShare(path, "Photos", "Pics"); err != nil || found {
		t.Errorf("RenameShare of a missing share = %v, %v; want false, nil", found, err)
	}
	after, _ := os.Stat(path)
	if !os.SameFile(before, after) {
		t.Error("the file was rewritten though nothing changed")
	}
	// A file without shares at all.
	path = writeConfig(t, "name: Box\n")
	if found, err := RemoveShare(path, "A"); err != nil || found {
		t.Errorf("RemoveShare in a file without shares = %v, %v", found, err)
	}
}

// TestSaveFileMode checks that a saved file keeps its mode, that a new one
// is readable by its owner only, and that a symlinked config file stays a
// symlink.
func TestSaveFileMode(t *testing.T) {
	path := writeConfig(t, twoShares)
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := AddShare(path, Share{Name: "A", Path: "/a"}); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode after save %v, want 0640", fi.Mode().Perm())
	}

	fresh := filepath.Join(t.TempDir(), "new.yaml")
	if err := SetPasswordHash(fresh, "$2a$10$x"); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(fresh)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode of a new file %v, want 0600", fi.Mode().Perm())
	}
	cfg, err := Load(fresh)
	if err != nil || cfg.Web.PasswordHash != "$2a$10$x" {
		t.Errorf("Load after SetPasswordHash = %+v, %v", cfg, err)
	}

	dir := t.TempDir()
	link := filepath.Join(dir, "link.yaml")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	if err := AddShare(link, Share{Name: "B", Path: "/b"}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symlink was replaced: %v, %v", fi.Mode(), err)
	}
	cfg, err = Load(path)
	if err != nil || len(cfg.Shares) != 4 {
		t.Errorf("Load of the link's target = %+v, %v; want 4 shares", cfg, err)
	}
}

// TestSaveFailureKeepsOldFile fails a save at each stage before the
// rename and checks that the old file is intact and no temporary file is
// left behind.
func TestSaveFailureKeepsOldFile(t *testing.T) {
	for _, stage := range []string{"written", "synced"} {
		t.Run(stage, func(t *testing.T) {
			path := writeConfig(t, twoShares)
			saveHook = func(s string) error {
				if s == stage {
					return errors.New("disk on fire")
				}
				return nil
			}
			t.Cleanup(func() { saveHook = nil })
			err := AddShare(path, Share{Name: "A", Path: "/a"})
			if err == nil || !strings.Contains(err.Error(), "disk on fire") {
				t.Fatalf("AddShare error = %v", err)
			}
			if got, _ := os.ReadFile(path); string(got) != twoShares {
				t.Errorf("file changed to:\n%s", got)
			}
			if left := temps(t, path); len(left) > 0 {
				t.Errorf("temporary files left: %q", left)
			}
		})
	}
}

func temps(t *testing.T, path string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(filepath.Dir(path), tempPattern(path)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The helper process of the tests below: it runs when the test binary is
// started with MEDIAFTPD_SAVE_HELPER set, as "crash" or "add".
func TestMain(m *testing.M) {
	switch os.Getenv("MEDIAFTPD_SAVE_HELPER") {
	case "":
		os.Exit(m.Run())
	case "crash":
		// Save, and stop for good just before the rename: the parent
		// kills the process there, as a power cut or crash would.
		path, ready := os.Getenv("CONFIG"), os.Getenv("READY")
		saveHook = func(stage string) error {
			if stage == "synced" {
				os.WriteFile(ready, nil, 0o644)
				select {}
			}
			return nil
		}
		AddShare(path, Share{Name: "Crash", Path: "/crash"})
		os.Exit(3)
	case "add":
		path, prefix := os.Getenv("CONFIG"), os.Getenv("PREFIX")
		for i := range 5 {
			if err := AddShare(path, Share{Name: fmt.Sprintf("%s%d", prefix, i), Path: "/x"}); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
		os.Exit(0)
	}
}

func helper(t *testing.T, mode string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append(env, "MEDIAFTPD_SAVE_HELPER="+mode)...)
	cmd.Stderr = os.Stderr
	return cmd
}

// TestSaveCrash kills a process in the middle of a save, after the new
// file is written and synced but before it replaces the old one: the old
// file must be intact, and the next save must clean up and succeed.
func TestSaveCrash(t *testing.T) {
	path := writeConfig(t, twoShares)
	ready := filepath.Join(t.TempDir(), "ready")
	cmd := helper(t, "crash", "CONFIG="+path, "READY="+ready)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(ready); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatal("the helper never reached the rename")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	if got, _ := os.ReadFile(path); string(got) != twoShares {
		t.Fatalf("after the crash the file is:\n%s", got)
	}
	left := temps(t, path)
	if len(left) != 1 {
		t.Fatalf("temporary files after the crash: %q, want the one being written", left)
	}
	if data, _ := os.ReadFile(left[0]); !bytes.Contains(data, []byte("Crash")) {
		t.Errorf("the temporary file does not hold the new contents:\n%s", data)
	}

	if err := AddShare(path, Share{Name: "After", Path: "/after"}); err != nil {
		t.Fatal(err)
	}
	if left := temps(t, path); len(left) > 0 {
		t.Errorf("temporary files after the next save: %q", left)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Shares) != 3 || cfg.Shares[2].Name != "After" {
		t.Errorf("shares after the next save: %+v", cfg.Shares)
	}
}

// TestSaveConcurrent makes many changes at once, from goroutines and from
// other processes (which only the file lock keeps apart): none is lost.
func TestSaveConcurrent(t *testing.T) {
	path := writeConfig(t, twoShares)
	var cmds []*exec.Cmd
	for _, prefix := range []string{"P", "Q", "R"} {
		cmd := helper(t, "add", "CONFIG="+path, "PREFIX="+prefix)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			if err := AddShare(path, Share{Name: fmt.Sprintf("G%d", i), Path: "/g"}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Go(func() {
		if err := SetPasswordHash(path, "$2a$10$concurrent"); err != nil {
			t.Error(err)
		}
	})
	wg.Wait()
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("helper: %v", err)
		}
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(cfg.Shares), 2+10+15; got != want {
		t.Errorf("%d shares in the file, want %d", got, want)
	}
	if cfg.Web.PasswordHash != "$2a$10$concurrent" {
		t.Errorf("password hash lost: %q", cfg.Web.PasswordHash)
	}
	if got, _ := os.ReadFile(path); !bytes.HasPrefix(got, []byte("# Two shares.\n")) {
		t.Errorf("the leading comment is lost:\n%s", got)
	}
}

func TestRestoreBlankLinesFallsBack(t *testing.T) {
	// A literal block scalar whose blank line the alignment could double:
	// whatever happens, the data must stay the same.
	orig := []byte("a: |\n  x\n\n  y\n\nb: 1\n")
	enc := []byte("a: |\n  x\n\n  y\nb: 1\nc: 2\n")
	got := restoreBlankLines(orig, enc)
	var a, b any
	if err := yaml.Unmarshal(got, &a); err != nil {
		t.Fatal(err)
	}
	yaml.Unmarshal(enc, &b)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("restoreBlankLines changed the data: %v, want %v", a, b)
	}
	if want := "a: |\n  x\n\n  y\n\nb: 1\nc: 2\n"; string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
