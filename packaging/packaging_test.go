package packaging

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/mediaftpd/mediaftpd/internal/testtool"
)

// TestPackages runs test.sh: build the three packages, check them with
// dpkg-deb and lintian, install, serve and purge the amd64 one, serve from
// the arm binaries under qemu, and run the service under systemd in a
// container. It installs a package, so it needs root (CI runs as root).
func TestPackages(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping in -short mode: building and installing the packages takes minutes")
	}
	testtool.NeedRoot(t, "installing the package")
	for _, tool := range []string{
		"dpkg-deb", "lintian", "readelf", "curl", "pgrep", "systemd-analyze",
		"qemu-aarch64-static", "qemu-arm-static", "debootstrap", "systemd-nspawn",
	} {
		testtool.Need(t, tool)
	}
	var out bytes.Buffer
	cmd := exec.Command("bash", "test.sh")
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	// The script prints one line per check; show the failed ones first.
	for line := range strings.Lines(out.String()) {
		if strings.HasPrefix(line, "FAIL") {
			t.Error(strings.TrimSpace(line))
		}
	}
	t.Logf("test.sh output:\n%s", out.String())
	if err != nil {
		t.Fatalf("test.sh: %v", err)
	}
}
