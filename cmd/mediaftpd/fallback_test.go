package main

import (
	"bufio"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/testtool"
)

// TestListenFallback runs the server as an unprivileged user with no
// -listen: port 21 is refused, so it must listen on 2121 and say so.
func TestListenFallback(t *testing.T) {
	testtool.NeedRoot(t, "running the server as another user")
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start"); err == nil {
		if n, _ := strconv.Atoi(strings.TrimSpace(string(b))); n <= 21 {
			t.Skipf("skipping: net.ipv4.ip_unprivileged_port_start is %d, so port 21 is not privileged here", n)
		}
	}
	if l, err := net.Listen("tcp", ":2121"); err != nil {
		t.Skipf("skipping: port 2121 is taken: %v", err)
	} else {
		l.Close()
	}

	// The test binary's folder is private; nobody needs a copy it can run.
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "mediaftpd")
	data, err := os.ReadFile(mediaftpdBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(bin, "-web", "off", "-mdns=false", "-dlna", "off", "-state-dir", t.TempDir(), "Share="+dir)
	cmd.Dir = dir
	cmd.Env = serverEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		for range lines {
		}
		if err := <-exited; err != nil {
			t.Errorf("mediaftpd exited with %v after SIGTERM, want 0", err)
		}
	})

	deadline := time.After(startTimeout)
	for found := false; !found; {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatal("mediaftpd exited before saying where it listens")
			}
			t.Log(line)
			found = strings.Contains(line, "listening on 2121") && strings.Contains(line, "port 21")
		case <-deadline:
			t.Fatal("no log line about falling back to port 2121")
		}
	}
	c, err := net.DialTimeout("tcp", "127.0.0.1:2121", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	greeting, err := bufio.NewReader(c).ReadString('\n')
	if err != nil && err != io.EOF {
		t.Fatal(err)
	}
	if !strings.HasPrefix(greeting, "220 ") {
		t.Fatalf("greeting on 2121 = %q, want 220", greeting)
	}
}
