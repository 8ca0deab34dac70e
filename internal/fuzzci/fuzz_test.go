package fuzzci

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/testtool"
)

// fuzzTime is how long each target is fuzzed under CI.
const fuzzTime = "20s"

// target is a fuzz function and the package folder it is in.
type target struct {
	pkg  string // "./ftpd"
	name string // "FuzzResolvePath"
}

// findTargets parses every _test.go file below root for functions
// func FuzzXxx(*testing.F).
func findTargets(t *testing.T, root string) []target {
	t.Helper()
	var out []target
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); p != root && (n == "testdata" || n == "vendor" || strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(p))
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			fd, ok := decl.(*ast.FuncDecl)
			if !ok || fd.Recv != nil || !isFuzzName(fd.Name.Name) || fd.Type.Params.NumFields() != 1 {
				continue
			}
			out = append(out, target{pkg: "./" + filepath.ToSlash(rel), name: fd.Name.Name})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// isFuzzName reports whether name is one go test takes for a fuzz target:
// "Fuzz" followed by nothing or a character that is not a lower-case letter.
func isFuzzName(name string) bool {
	rest, ok := strings.CutPrefix(name, "Fuzz")
	return ok && (rest == "" || !(rest[0] >= 'a' && rest[0] <= 'z'))
}

var execsRe = regexp.MustCompile(`execs: (\d+)`)

// TestFuzzTargets fuzzes each target of the module for fuzzTime, one after
// the other and with one worker, so that the other packages' tests, which
// go test runs meanwhile, keep a core. A failing input is saved under the
// package's testdata/fuzz, as go test -fuzz does, and the fuzzer's output
// fails the test.
func TestFuzzTargets(t *testing.T) {
	if !testtool.InCI() {
		t.Skip("set CI=true to run every fuzz target for " + fuzzTime)
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found two folders up: %v", err)
	}
	goBin := testtool.Need(t, "go")
	targets := findTargets(t, root)
	if len(targets) == 0 {
		t.Fatal("no fuzz targets found")
	}
	for _, tg := range targets {
		// Fail clearly, not with go test's timeout panic, when the
		// targets outgrow the test binary's -timeout (10 min by default).
		if deadline, ok := t.Deadline(); ok && time.Until(deadline) < time.Minute {
			t.Fatalf("not enough time left for %s and the rest: raise go test -timeout (%d targets at %s each)", tg.name, len(targets), fuzzTime)
		}
		t.Run(strings.TrimPrefix(tg.pkg, "./")+"/"+tg.name, func(t *testing.T) {
			cmd := exec.Command(goBin, "test", "-run", "^$", "-fuzz", "^"+tg.name+"$",
				"-fuzztime", fuzzTime, "-parallel", "1", tg.pkg)
			cmd.Dir = root
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s in %s: %v\n%s", tg.name, tg.pkg, err, out)
			}
			execs := "unknown"
			if m := execsRe.FindAllSubmatch(out, -1); len(m) > 0 {
				execs = string(m[len(m)-1][1])
			}
			t.Logf("%s: %s execs in %s", tg.name, execs, fuzzTime)
		})
	}
}
