package childproc

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ModulePath is the module FindModule looks for.
const ModulePath = "github.com/mediaftpd/mediaftpd"

// FindModule returns the root folder of the mediaftpd checkout that holds
// dir ("" for the working directory), as the go command sees it (go env
// GOMOD). Outside one, its error wraps ErrNoModule.
func FindModule(ctx context.Context, dir string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "env", "GOMOD")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w (mediaftpd is built with the go command)", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", ErrNoModule
	}
	b, err := os.ReadFile(gomod)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrNoModule, err)
	}
	for line := range strings.Lines(string(b)) {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
			if f[1] != ModulePath {
				return "", fmt.Errorf("%w: %s is module %s, not %s", ErrNoModule, gomod, f[1], ModulePath)
			}
			return filepath.Dir(gomod), nil
		}
	}
	return "", fmt.Errorf("%w: %s names no module", ErrNoModule, gomod)
}

// Build builds the package pkg (such as "./cmd/mediaftpd") of the module
// in root into the file out with go build, passing flags (such as
// "-overlay", FILE) before the package. Its error holds the compiler's
// output.
func Build(ctx context.Context, root, out, pkg string, flags ...string) error {
	args := append(append([]string{"build", "-o", out}, flags...), pkg)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, b)
	}
	return nil
}
