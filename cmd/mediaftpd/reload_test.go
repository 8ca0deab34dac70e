package main

// SIGHUP: the config file is read again and applied while sessions go on.

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/textproto"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/mediaftpd/mediaftpd/internal/testtool"
)

// sighup sends SIGHUP to the server and waits until its log holds want
// once more than before.
func (s *server) sighup(t *testing.T, want string) {
	t.Helper()
	before := strings.Count(s.Log(), want)
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatalf("SIGHUP: %v", err)
	}
	testtool.WaitFor(t, fmt.Sprintf("%q in the log after SIGHUP", want), func() bool {
		select {
		case <-s.exited:
			t.Fatalf("mediaftpd exited on SIGHUP (%v)\nlog:\n%s", s.cmd.ProcessState, s.Log())
		default:
		}
		return strings.Count(s.Log(), want) > before
	})
}

// expectRefused421 connects and checks that the server answers 421 and
// closes the connection.
func expectRefused421(t *testing.T, addr string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(toolTimeout))
	r := bufio.NewReader(conn)
	line, err := textproto.NewReader(r).ReadLine()
	if err != nil || !strings.HasPrefix(line, "421 ") {
		t.Fatalf("a connection over max_per_ip got %q, %v; want 421", line, err)
	}
	if rest, err := io.ReadAll(r); err != nil || len(rest) != 0 {
		t.Fatalf("a refused connection was not closed after 421: %q, %v", rest, err)
	}
}

// topNames returns the NLST of / in a logged-in session, sorted.
func topNames(c *ftpConn) []string {
	names := c.nlst("/")
	for i, n := range names {
		names[i] = strings.TrimPrefix(n, "/")
	}
	slices.Sort(names)
	return names
}

// writeConfig writes a config file from lines.
func writeConfig(t *testing.T, path string, lines ...string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestReload changes shares and limits with SIGHUP under a running
// transfer and an idle session, then sends a broken file, which changes
// nothing.
func TestReload(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	a, b, c, d := filepath.Join(root, "a"), filepath.Join(root, "b"), filepath.Join(root, "c"), filepath.Join(root, "d")
	big := pseudoRandom(7, 48<<20) // more than the socket buffers hold
	writeTree(t, a, map[string][]byte{"big.mkv": big})
	writeTree(t, b, map[string][]byte{"b.mkv": []byte("b")})
	writeTree(t, c, map[string][]byte{"c.mkv": []byte("c")})
	writeTree(t, d, map[string][]byte{"d.mkv": []byte("d")})
	cfg := filepath.Join(root, "config.yaml")
	writeConfig(t, cfg,
		"name: Reload Test",
		"ftp:",
		"  max_per_ip: 4",
		"shares:",
		"  - name: A",
		"    path: "+a,
		"  - name: B",
		"    path: "+b,
	)
	s := startServer(t, "", "-config", cfg)

	// A player streaming from A, paused after the first bytes: the rest
	// of the film waits in the server while the config changes.
	stream := dialFTP(t, s.Addr)
	stream.login()
	stream.cmd(200, "TYPE I")
	data, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(stream.epsv())), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer data.Close()
	data.SetDeadline(time.Now().Add(toolTimeout))
	stream.cmd(150, "RETR /A/big.mkv")
	got := make([]byte, 64<<10)
	if _, err := io.ReadFull(data, got); err != nil {
		t.Fatalf("reading the first bytes: %v", err)
	}
	idle := dialFTP(t, s.Addr)
	idle.login()

	writeConfig(t, cfg,
		"name: Reload Test Renamed",
		"ftp:",
		"  max_per_ip: 2",
		"  idle_timeout: 10m",
		"shares:",
		"  - name: B",
		"    path: "+b,
		"  - name: C",
		"    path: "+c,
	)
	s.sighup(t, "config reloaded")

	rest, err := io.ReadAll(data)
	if err != nil {
		t.Fatalf("reading the rest of the stream after SIGHUP: %v", err)
	}
	got = append(got, rest...)
	if sha256.Sum256(got) != sha256.Sum256(big) {
		t.Errorf("the stream from the removed share: %d bytes, not the file's %d bytes", len(got), len(big))
	}
	stream.expect(226, "the end of the stream from the removed share")
	idle.cmd(200, "NOOP")
	if names := topNames(idle); !slices.Equal(names, []string{"B", "C"}) {
		t.Errorf("NLST / after SIGHUP = %q, want [B C]", names)
	}
	expectRefused421(t, s.Addr) // 2 sessions from 127.0.0.1, the new max_per_ip
	log := s.Log()
	for _, want := range []string{
		`msg="config reloaded"`, "shares_added=C", "shares_removed=A",
		"ftp.max_per_ip: 4 -> 2", "ftp.idle_timeout: 5m0s -> 10m0s",
		"restart", "keys=name",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("the log after SIGHUP lacks %q", want)
		}
	}

	// A broken file: an unknown key on line 4. Nothing of it is applied.
	writeConfig(t, cfg,
		"name: Reload Test Renamed",
		"ftp:",
		"  max_per_ip: 10",
		"  idle_timout: 10m",
		"shares:",
		"  - name: D",
		"    path: "+d,
	)
	s.sighup(t, "config reload failed")
	log = s.Log()
	for _, want := range []string{cfg + ":4", "idle_timout", "unknown key"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log of the failed reload lacks %q", want)
		}
	}
	idle.cmd(200, "NOOP")
	if names := topNames(idle); !slices.Equal(names, []string{"B", "C"}) {
		t.Errorf("NLST / after a broken config = %q, want [B C] still", names)
	}
	expectRefused421(t, s.Addr) // max_per_ip is 2 still
	stream.cmd(221, "QUIT")
	idle.cmd(221, "QUIT")

	if code, _ := s.stop(t); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
}

// TestReloadKeepsBrowserChanges checks that a share added on the status
// page, which saves it to the config file, is kept by a SIGHUP after it.
func TestReloadKeepsBrowserChanges(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	b, d := filepath.Join(root, "b"), filepath.Join(root, "d")
	writeTree(t, b, map[string][]byte{"b.mkv": []byte("b")})
	writeTree(t, d, map[string][]byte{"d.mkv": []byte("d")})
	hash, err := bcrypt.GenerateFromPassword([]byte("secret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(root, "config.yaml")
	writeConfig(t, cfg,
		"shares:",
		"  - name: B",
		"    path: "+b,
		"web:",
		fmt.Sprintf("  password_hash: %q", hash),
		"  share_roots: ["+root+"]",
	)
	webAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	s := startServer(t, "", "-config", cfg, "-web", webAddr)

	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Jar: jar, Timeout: toolTimeout}
	post := func(path, token string, body any) *http.Response {
		t.Helper()
		js, _ := json.Marshal(body)
		req, err := http.NewRequest(http.MethodPost, "http://"+webAddr+path, bytes.NewReader(js))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("X-CSRF-Token", token)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	resp := post("/api/login", "", map[string]string{"password": "secret"})
	var login struct {
		CSRFToken string `json:"csrf_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&login); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("login: %s, %v", resp.Status, err)
	}
	if resp := post("/api/shares", login.CSRFToken, map[string]string{"name": "D", "path": d}); resp.StatusCode != http.StatusCreated {
		msg, _ := io.ReadAll(resp.Body)
		t.Fatalf("adding a share on the page: %s %s", resp.Status, msg)
	}

	s.sighup(t, "config reloaded")
	if !strings.Contains(s.Log(), "config reloaded: nothing changed") {
		t.Error(`the reload after the page's change did not log "nothing changed"`)
	}
	if names := listNames(t, s, "/"); !slices.Equal(names, []string{"B", "D"}) {
		t.Errorf("NLST / after SIGHUP = %q, want [B D]: the page's share must stay", names)
	}

	// A new password (mediaftpd passwd, then systemctl reload) is in force
	// at once, and whoever was logged in with the old one is logged out.
	newHash, err := bcrypt.GenerateFromPassword([]byte("new secret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(old, hash) {
		t.Fatalf("the config file lost its password hash:\n%s", old)
	}
	if err := os.WriteFile(cfg, bytes.Replace(old, hash, newHash, 1), 0o600); err != nil {
		t.Fatal(err)
	}
	s.sighup(t, "admin_password")
	if resp := post("/api/shares", login.CSRFToken, map[string]string{"name": "B2", "path": b}); resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden {
		t.Errorf("a change with the old login after a password change: %s, want 401 or 403", resp.Status)
	}
	if resp := post("/api/login", "", map[string]string{"password": "secret"}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("login with the old password after the reload: %s, want 401", resp.Status)
	}
	if resp := post("/api/login", "", map[string]string{"password": "new secret"}); resp.StatusCode != http.StatusOK {
		t.Errorf("login with the new password after the reload: %s, want 200", resp.Status)
	}
}
