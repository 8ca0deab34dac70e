package childproc

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mediaftpd/mediaftpd/internal/testtool"
)

func TestFindModule(t *testing.T) {
	testtool.Need(t, "go")
	ctx := context.Background()
	root, err := FindModule(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	if wd != filepath.Join(root, "internal", "childproc") {
		t.Errorf("module root %s does not hold the test's folder %s", root, wd)
	}

	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "go.mod"), []byte("module example.com/other\n\ngo 1.22\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := FindModule(ctx, other); !errors.Is(err, ErrNoModule) || !strings.Contains(err.Error(), "example.com/other") {
		t.Errorf("in another module: %v, want ErrNoModule naming it", err)
	}
	if _, err := FindModule(ctx, t.TempDir()); !errors.Is(err, ErrNoModule) {
		t.Errorf("outside any module: %v, want ErrNoModule", err)
	}
}

func TestBuild(t *testing.T) {
	testtool.Need(t, "go")
	ctx := context.Background()
	mod := t.TempDir()
	files := map[string]string{
		"go.mod":         "module example.com/hello\n\ngo 1.22\n",
		"main.go":        "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello\") }\n",
		"broken/main.go": "package main\n\nfunc main() { undefinedThing() }\n",
	}
	for name, text := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(mod, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(mod, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(t.TempDir(), "hello")
	if err := Build(ctx, mod, bin, ".", "-trimpath"); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin).Output()
	if err != nil || string(out) != "hello\n" {
		t.Errorf("the built program said %q (%v)", out, err)
	}
	err = Build(ctx, mod, filepath.Join(t.TempDir(), "broken"), "./broken")
	if err == nil || !strings.Contains(err.Error(), "undefinedThing") || !strings.HasPrefix(err.Error(), "go build -o ") {
		t.Errorf("a broken build: %v, want the command and the compiler's output", err)
	}
}
