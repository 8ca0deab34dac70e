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

// fuzzTime is how long each target is fuzzed under CI, when the test
// binary's -timeout leaves room for it; with more targets than that room
// holds, each gets an equal share of it, but at least minFuzzTime.
const (
	fuzzTime    = 20 * time.Second
	minFuzzTime = 5 * time.Second
	// overhead is what one target costs besides fuzzing: building its
	// package with coverage, starting the workers, reading its corpus.
	overhead = 4 * time.Second
	// margin is kept for the rest of the test binary.
	margin = time.Minute
)

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
		t.Skip("set CI=true to run every fuzz target for up to " + fuzzTime.String())
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
	for i, tg := range targets {
		// Each target gets its share of the time the test binary's
		// -timeout (10 min by default) leaves; fail clearly, not with go
		// test's timeout panic, when even the minimum does not fit.
		each := fuzzTime
		if deadline, ok := t.Deadline(); ok {
			left := time.Until(deadline) - margin
			each = min(fuzzTime, left/time.Duration(len(targets)-i)-overhead).Truncate(time.Second)
			if each < minFuzzTime {
				t.Fatalf("not enough time left for %s and the rest: raise go test -timeout (%d targets left, %v)", tg.name, len(targets)-i, left)
			}
		}
		t.Run(strings.TrimPrefix(tg.pkg, "./")+"/"+tg.name, func(t *testing.T) {
			fuzz := func() ([]byte, error) {
				cmd := exec.Command(goBin, "test", "-run", "^$", "-fuzz", "^"+tg.name+"$",
					"-fuzztime", each.String(), "-parallel", "1", tg.pkg)
				cmd.Dir = root
				return cmd.CombinedOutput()
			}
			out, err := fuzz()
			if err != nil && boundaryFlake(out) {
				// Go's fuzzer can fail at the end of -fuzztime on a loaded
				// machine without having found anything (golang/go#51484,
				// #56238). A finding always writes its input; this did not,
				// so try once more.
				t.Logf("%s: the fuzzer failed at its deadline without a failing input (a known Go flake on a busy machine); running it again:\n%s", tg.name, tail(out))
				out, err = fuzz()
			}
			if err != nil {
				t.Fatalf("%s in %s: %v\n%s", tg.name, tg.pkg, err, out)
			}
			execs := "unknown"
			if m := execsRe.FindAllSubmatch(out, -1); len(m) > 0 {
				execs = string(m[len(m)-1][1])
			}
			t.Logf("%s: %s execs in %v", tg.name, execs, each)
		})
	}
}

// boundaryFlake reports whether a failed fuzzing run's output is Go's
// fuzzer giving up at its deadline (a worker that did not answer in time on
// a loaded machine) rather than a finding: a finding always says where it
// wrote the failing input.
func boundaryFlake(out []byte) bool {
	s := string(out)
	if strings.Contains(s, "Failing input written to") {
		return false
	}
	return strings.Contains(s, "context deadline exceeded") ||
		strings.Contains(s, "fuzzing process hung or terminated unexpectedly")
}

// tail returns the last lines of a command's output.
func tail(out []byte) string {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-6):], "\n")
}

func TestBoundaryFlake(t *testing.T) {
	for out, want := range map[string]bool{
		"fuzz: elapsed: 20s, execs: 278682 (0/sec)\n--- FAIL: FuzzX (20.10s)\n    context deadline exceeded\nFAIL\n":                                                        true,
		"--- FAIL: FuzzX (20.10s)\n    fuzzing process hung or terminated unexpectedly: exit status 2\nFAIL\n":                                                              true,
		"--- FAIL: FuzzX (23.23s)\n    fuzzing process hung or terminated unexpectedly: exit status 2\n    Failing input written to testdata/fuzz/FuzzX/447ffa6326d3330f\n": false,
		"--- FAIL: FuzzX (0.10s)\n    x_test.go:12: wrong answer\n    Failing input written to testdata/fuzz/FuzzX/1\n":                                                     false,
		"# pkg\n./x.go:3:1: syntax error\nFAIL\n": false,
	} {
		if got := boundaryFlake([]byte(out)); got != want {
			t.Errorf("boundaryFlake(%q) = %v, want %v", out, got, want)
		}
	}
}
