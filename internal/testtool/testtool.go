// Package testtool finds the outside programs that integration tests drive
// (curl, ffmpeg, lftp, python3, ...). A missing program skips the test with
// a reason on a developer's machine and fails it under CI (CI=true), where
// .ci/run installs every one of them.
package testtool

import (
	"os"
	"os/exec"
	"testing"
	"time"
)

// Need returns the path of the named program. When it is not on PATH, the
// test is skipped, or failed if the CI environment variable is "true".
func Need(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if InCI() {
		t.Fatalf("%s is required under CI but not installed (.ci/run should install it): %v", name, err)
	}
	t.Skipf("skipping: %s is not installed (%v); .ci/run installs it", name, err)
	return ""
}

// InCI reports whether the tests run under CI.
func InCI() bool { return os.Getenv("CI") == "true" }

// NeedRoot skips the test unless it runs as root; under CI it fails.
func NeedRoot(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if InCI() {
		t.Fatalf("%s needs root, and CI runs as root; it does not here", why)
	}
	t.Skipf("skipping: %s needs root", why)
}

// WaitFor polls cond until it holds, failing the test with what after
// 10 s. Tests await conditions with it instead of sleeping.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
