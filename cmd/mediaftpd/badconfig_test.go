package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestBadConfigAtStart: a config file that is corrupt, has an unknown key
// or a bad value stops the start with exit code 2 and a message naming
// the file, the line and the key; nothing was started (neither the FTP
// port nor the status page's answers), and the file is left as it was.
func TestBadConfigAtStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	share := filepath.Join(dir, "media")
	if err := os.Mkdir(share, 0o755); err != nil {
		t.Fatal(err)
	}
	ftpAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	webAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	head := fmt.Sprintf("name: Bad\nftp:\n  listen: %q\nweb:\n  listen: %q\n", ftpAddr, webAddr)
	for _, tc := range []struct {
		name, body string
		want       []string // in the message; "N: " means file:N:
	}{
		{"unknown key", head + "shares:\n  - name: Films\n    path: " + share + "\n    rescan: 5m\n",
			[]string{"9: ", `unknown key "rescan"`, "rescan_interval"}},
		{"misspelled section", head + "sharez:\n  - name: Films\n", []string{"6: ", `unknown key "sharez"`}},
		{"bad value", head + "shares:\n  - name: Films\n    path: " + share + "\n    rescan_interval: often\n",
			[]string{"9: ", "rescan_interval", "often"}},
		{"tab", head + "shares:\n\t- name: Films\n", []string{"7: ", "tab"}},
		{"broken block", head + "shares:\n  - name: Films\n    path: " + share + "\n   bad\n", []string{"9: "}},
		{"quote left open", head + "shares:\n  - name: \"Films\n    path: " + share + "\n", []string{"7: ", "end of stream"}},
		{"duplicate share", head + "shares:\n  - name: Films\n    path: " + share + "\n  - name: films\n    path: " + share + "\n",
			[]string{"9: ", `"films"`, "line 7"}},
		{"binary garbage", "\x00\x01\xfe\xff" + head, []string{"1: "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := filepath.Join(t.TempDir(), "config.yaml")
			if err := os.WriteFile(cfg, []byte(tc.body), 0o640); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			code := run([]string{"-config", cfg, "-mdns=false", "-dlna", "off"}, &stdout, &stderr)
			msg := stderr.String()
			if code != exitUsage {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, exitUsage, msg)
			}
			if !strings.Contains(msg, cfg+":") {
				t.Errorf("the message does not name the file %s:\n%s", cfg, msg)
			}
			t.Logf("stderr: %s", msg)
			for _, w := range tc.want {
				if strings.HasSuffix(w, ": ") { // a line number
					w = cfg + ":" + w
				}
				if !strings.Contains(msg, w) {
					t.Errorf("the message does not say %q:\n%s", w, msg)
				}
			}
			if strings.Contains(msg, "serving") || stdout.Len() > 0 {
				t.Errorf("something started: stdout %q, stderr %q", stdout.String(), msg)
			}
			for _, addr := range []string{ftpAddr, webAddr} {
				if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
					c.Close()
					t.Errorf("%s answers after a bad config", addr)
				}
			}
			if now, err := os.ReadFile(cfg); err != nil || string(now) != tc.body {
				t.Errorf("the config file changed: %q, %v", now, err)
			}
		})
	}
}
