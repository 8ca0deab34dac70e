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
	"time"

	"github.com/mediaftpd/mediaftpd/internal/childproc"
	"github.com/mediaftpd/mediaftpd/internal/procstat"
)

// server is the mediaftpd process under soak: the real binary, run as a
// child alone in its process group (see childproc.Process), so that a
// Ctrl-C reaches only the soak, which then stops it.
type server struct {
	childproc.Process
	work string // the soak's work folder: config, log, tree
	ftp  string // control address
	web  string // status page address
}

// stopTimeout is how long the server has to exit after SIGTERM.
const stopTimeout = 15 * time.Second

// buildServer builds cmd/mediaftpd of the checkout the soak runs in into
// dir.
func buildServer(ctx context.Context, dir string) (string, error) {
	root, err := childproc.FindModule(ctx, "")
	if errors.Is(err, childproc.ErrNoModule) {
		return "", fmt.Errorf("%w; run ftpsoak from the checkout, or give -server", err)
	}
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "mediaftpd")
	return bin, childproc.Build(ctx, root, bin, "./cmd/mediaftpd")
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
dlna:
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
	s := &server{work: work}
	s.Process = childproc.Process{
		Name:        "mediaftpd",
		Cmd:         exec.Command(bin, "-config", conf, "-mdns=false", "-dlna", "off", "-state-dir", filepath.Join(work, "state"), "-listen", "127.0.0.1:0", "-web", "127.0.0.1:0"),
		LogFile:     filepath.Join(work, "mediaftpd.log"),
		StopTimeout: stopTimeout,
	}
	if err := s.Start(); err != nil {
		return nil, err
	}
	err := s.Await(ctx, time.Minute, 50*time.Millisecond, func() (bool, error) {
		b, _ := os.ReadFile(s.LogFile)
		if m := ftpAddrRe.FindSubmatch(b); m != nil && s.ftp == "" {
			s.ftp = string(m[1])
		}
		if m := webAddrRe.FindSubmatch(b); m != nil && s.web == "" {
			s.web = string(m[1])
		}
		return s.ftp != "" && s.web != "" && strings.Contains(string(b), "share indexed"), nil
	})
	if err != nil {
		s.Stop()
		if errors.Is(err, childproc.ErrTimeout) {
			err = fmt.Errorf("mediaftpd did not serve and index its share within a minute; its log ends:\n%s", s.LogTail())
		}
		return nil, err
	}
	return s, nil
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
	f, err := os.Open(s.LogFile)
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
	pid := s.PID()
	var err error
	if u.fds, err = procstat.CountFDs(pid); err != nil {
		return u, errors.Join(err, s.Exited())
	}
	status, err := procstat.ReadStatus(pid)
	if err != nil {
		return u, err
	}
	u.threads, u.rss = status.Threads, status.RSS
	if u.pss, err = procstat.ReadPSS(pid); err != nil {
		return u, err
	}
	stat, err := procstat.ReadStat(pid)
	if err != nil {
		return u, err
	}
	u.cpu = stat.CPU
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

// fdSummary describes the server's open descriptors, to tell what leaked:
// files by path, TCP sockets by state and by whether their local port is
// the FTP control port, a passive port or the status page's.
func (s *server) fdSummary() string {
	targets, err := procstat.FDTargets(s.PID())
	if err != nil {
		return err.Error()
	}
	sockets := procstat.TCPSockets(s.PID())
	counts := map[string]int{}
	for _, target := range targets {
		if inode, ok := procstat.SocketInode(target); ok {
			if sk, ok := sockets[inode]; ok {
				target = "tcp " + s.portRole(sk.LocalPort) + " " + sk.State
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

// portRole names the server's use of one of its local ports: "control"
// (FTP), "web" (the status page), else "data".
func (s *server) portRole(port int) string {
	switch suffix := ":" + strconv.Itoa(port); {
	case strings.HasSuffix(s.ftp, suffix):
		return "control"
	case strings.HasSuffix(s.web, suffix):
		return "web"
	}
	return "data"
}
