package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// server is the mediaftpd process under soak: the real binary, run as a
// child in its own process group, so that a Ctrl-C reaches only the soak,
// which then stops it.
type server struct {
	cmd  *exec.Cmd
	pid  int
	work string // the soak's work folder: config, log, tree
	log  string // its stdout and stderr
	ftp  string // control address
	web  string // status page address
	done chan struct{}
	err  error // how it exited, once done is closed
}

// findModule returns the folder of the module the soak runs in, to build
// mediaftpd from.
func findModule(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside the mediaftpd module: run ftpsoak from the checkout, or give -server")
	}
	return filepath.Dir(mod), nil
}

// buildServer builds cmd/mediaftpd of the module into dir.
func buildServer(ctx context.Context, dir string) (string, error) {
	mod, err := findModule(ctx)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "mediaftpd")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/mediaftpd")
	cmd.Dir = mod
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/mediaftpd: %w\n%s", err, out)
	}
	return bin, nil
}

// serverConfig is the config file the soak gives mediaftpd: its tree as
// the only share, limits well above the load, loopback only, no mDNS.
func serverConfig(root string, clients int) string {
	limit := max(200, 4*clients)
	return fmt.Sprintf(`# written by ftpsoak
name: ftpsoak
ftp:
  listen: "127.0.0.1:0"
  max_clients: %d
  max_per_ip: %d
  idle_timeout: 5m
shares:
  - name: %s
    path: %s
web:
  listen: "127.0.0.1:0"
mdns:
  enabled: false
`, limit, limit, shareName, strconv.Quote(root))
}

var (
	ftpAddrRe = regexp.MustCompile(`msg=serving .*\bftp=(\S+)`)
	webAddrRe = regexp.MustCompile(`msg="status page" addr=(\S+)`)
)

// startServer writes the config into work and starts bin, and waits until
// it serves and has indexed its share.
func startServer(ctx context.Context, bin, work, root string, clients int) (*server, error) {
	conf := filepath.Join(work, "mediaftpd.yaml")
	if err := os.WriteFile(conf, []byte(serverConfig(root, clients)), 0o600); err != nil {
		return nil, err
	}
	s := &server{work: work, log: filepath.Join(work, "mediaftpd.log"), done: make(chan struct{})}
	logf, err := os.Create(s.log)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child has its own copy
	s.cmd = exec.Command(bin, "-config", conf, "-mdns=false", "-listen", "127.0.0.1:0", "-web", "127.0.0.1:0")
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	s.pid = s.cmd.Process.Pid
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	deadline := time.Now().Add(time.Minute)
	for {
		b, _ := os.ReadFile(s.log)
		if m := ftpAddrRe.FindSubmatch(b); m != nil && s.ftp == "" {
			s.ftp = string(m[1])
		}
		if m := webAddrRe.FindSubmatch(b); m != nil && s.web == "" {
			s.web = string(m[1])
		}
		if s.ftp != "" && s.web != "" && strings.Contains(string(b), "share indexed") {
			return s, nil
		}
		if err := s.exited(); err != nil {
			return nil, err
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("mediaftpd did not serve and index its share within a minute; its log ends:\n%s", s.logTail())
		}
		select {
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// exited returns an error with the end of the log if the server is gone.
func (s *server) exited() error {
	select {
	case <-s.done:
		return fmt.Errorf("mediaftpd exited (%v); its log ends:\n%s", s.err, s.logTail())
	default:
		return nil
	}
}

func (s *server) logTail() string {
	b, _ := os.ReadFile(s.log)
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

// stop sends SIGTERM and waits for the exit; SIGKILL after 15 s. It
// returns how the server exited: nil for exit status 0.
func (s *server) stop() error {
	select {
	case <-s.done:
		return s.err
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
		return s.err
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
		return fmt.Errorf("did not exit within 15 s of SIGTERM; killed")
	}
}

// statusClient asks the status page without keeping connections open,
// so that the soak's own polling holds no descriptor of the server
// between samples.
var statusClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// status returns the number of FTP sessions the status page lists and the
// server's goroutines (-1 when the page does not say).
func (s *server) status(ctx context.Context) (sessions, goroutines int, err error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+s.web+"/api/status", nil)
	if err != nil {
		return 0, 0, err
	}
	resp, err := statusClient.Do(req)
	if err != nil {
		return 0, 0, fmt.Errorf("status page: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("status page: %s", resp.Status)
	}
	var st struct {
		Sessions []json.RawMessage `json:"sessions"`
		Process  struct {
			Goroutines *int `json:"goroutines"`
		} `json:"process"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return 0, 0, fmt.Errorf("status page: %w", err)
	}
	goroutines = -1
	if st.Process.Goroutines != nil {
		goroutines = *st.Process.Goroutines
	}
	return len(st.Sessions), goroutines, nil
}

// logCounts counts the ERROR and WARN lines of the server's log.
func (s *server) logCounts() (errs, warns int, firstErr string) {
	f, err := os.Open(s.log)
	if err != nil {
		return 0, 0, ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		switch line := sc.Text(); {
		case strings.Contains(line, "level=ERROR"):
			if errs == 0 {
				firstErr = line
			}
			errs++
		case strings.Contains(line, "level=WARN"):
			warns++
		}
	}
	return errs, warns, firstErr
}

// userHZ is the unit of the times in /proc/PID/stat.
const userHZ = 100

// usage is one sample of the server's resources.
type usage struct {
	at       time.Duration // since the soak's clients started; negative before
	fds      int           // entries of /proc/PID/fd
	threads  int           // Threads of /proc/PID/status
	rss, pss int64         // bytes: VmRSS, and Pss of smaps_rollup
	cpu      time.Duration // utime+stime
	sessions int           // FTP sessions on the status page; -1 unknown
	// goroutines is the server's, from the status page; -1 unknown.
	goroutines int
}

// sample reads the server's resources from /proc and its session count
// from the status page.
func (s *server) sample(ctx context.Context) (usage, error) {
	var u usage
	dir := fmt.Sprintf("/proc/%d", s.pid)
	fds, err := os.ReadDir(dir + "/fd")
	if err != nil {
		return u, errors.Join(err, s.exited())
	}
	u.fds = len(fds)
	status, err := os.ReadFile(dir + "/status")
	if err != nil {
		return u, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		k, v, _ := strings.Cut(line, ":")
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "Threads":
			u.threads = int(n)
		case "VmRSS":
			u.rss = n << 10
		}
	}
	rollup, err := os.ReadFile(dir + "/smaps_rollup")
	if err != nil {
		return u, err
	}
	for _, line := range strings.Split(string(rollup), "\n") {
		if rest, ok := strings.CutPrefix(line, "Pss:"); ok {
			n, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			u.pss = n << 10
			break
		}
	}
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return u, err
	}
	// Fields after the command name, which is in parentheses and may
	// hold anything: state(3) ... utime(14) stime(15).
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	if len(f) < 13 {
		return u, fmt.Errorf("%s/stat: %d fields", dir, len(f))
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	u.cpu = time.Duration(ut+st) * time.Second / userHZ
	u.sessions, u.goroutines = -1, -1
	if n, g, err := s.status(ctx); err == nil {
		u.sessions, u.goroutines = n, g
	}
	return u, nil
}

// execOutput runs a program and returns its standard output.
func execOutput(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).Output()
	return string(out), err
}

// tcpStates are the states of /proc/net/tcp, by their hex code.
var tcpStates = map[string]string{
	"01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1", "05": "FIN_WAIT2",
	"06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT", "09": "LAST_ACK", "0A": "LISTEN", "0B": "CLOSING",
}

// fdSummary describes the server's open descriptors, to tell what leaked:
// files by path, TCP sockets by state and by whether their local port is
// the FTP control port, a passive port or the status page's.
func (s *server) fdSummary() string {
	dir := fmt.Sprintf("/proc/%d", s.pid)
	sockets := map[string]string{} // inode -> "STATE local-port"
	for _, f := range []string{"/net/tcp", "/net/tcp6"} {
		b, err := os.ReadFile(dir + f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fs := strings.Fields(line)
			if len(fs) < 10 {
				continue
			}
			_, port, _ := strings.Cut(fs[1], ":")
			p, _ := strconv.ParseUint(port, 16, 16)
			role := "data"
			switch {
			case strings.HasSuffix(s.ftp, ":"+strconv.FormatUint(p, 10)):
				role = "control"
			case strings.HasSuffix(s.web, ":"+strconv.FormatUint(p, 10)):
				role = "web"
			}
			sockets[fs[9]] = role + " " + tcpStates[fs[3]]
		}
	}
	entries, err := os.ReadDir(dir + "/fd")
	if err != nil {
		return err.Error()
	}
	counts := map[string]int{}
	for _, e := range entries {
		target, err := os.Readlink(dir + "/fd/" + e.Name())
		if err != nil {
			continue
		}
		if inode, ok := strings.CutPrefix(target, "socket:["); ok {
			if desc, ok := sockets[strings.TrimSuffix(inode, "]")]; ok {
				target = "tcp " + desc
			} else {
				target = "socket (not TCP)"
			}
		} else if rel, err := filepath.Rel(s.work, target); err == nil && !strings.HasPrefix(rel, "..") {
			target = "file <work>/" + filepath.ToSlash(rel)
		}
		counts[target]++
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", counts[k], k)
	}
	return strings.Join(parts, ", ")
}
