package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStateFolderInUse starts a second server on the state folder of a
// running one: it must say so and exit 2 without serving anything, and
// the first one must go on unharmed.
func TestStateFolderInUse(t *testing.T) {
	state := t.TempDir()
	media := t.TempDir()
	first := startServer(t, "", "-state-dir", state, "Media="+media)
	if _, err := os.Stat(filepath.Join(state, "mediaftpd.db")); err != nil {
		t.Fatalf("the store was not made in the state folder: %v", err)
	}
	_, stderr, code := runBin(t, "", "-listen", "127.0.0.1:0", "-web", "off", "-mdns=false", "-dlna", "off",
		"-state-dir", state, "Media="+media)
	if code != exitUsage || !strings.Contains(stderr, "another mediaftpd uses the state folder "+state) {
		t.Errorf("second server: exit %d, stderr:\n%s", code, stderr)
	}
	if strings.Contains(stderr, "serving") {
		t.Errorf("the second server served:\n%s", stderr)
	}
	c := dialFTP(t, first.Addr)
	c.login()
	c.cmd(257, "PWD")
}
