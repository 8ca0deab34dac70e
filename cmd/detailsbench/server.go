package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/childproc"
	"github.com/mediaftpd/mediaftpd/internal/procstat"
	"github.com/mediaftpd/mediaftpd/internal/rawftp"
	"github.com/mediaftpd/mediaftpd/library/store"
)

// server is one run of the mediaftpd binary: loopback only, mDNS and DLNA
// off, the status page on (for /api/status), and its own state folder, or
// none (details off).
type server struct {
	childproc.Process
	addr    string    // FTP control address
	web     string    // status page address
	started time.Time // just before the process was started
	log     logReader
}

// stopTimeout is how long mediaftpd has to exit after SIGTERM.
const stopTimeout = 15 * time.Second

// serverConfig is what a run of mediaftpd is started with.
type serverConfig struct {
	bin      string
	logFile  string
	ports    ports
	stateDir string   // "": no state folder, so no details
	shares   []string // NAME=DIR
}

// ports are the loopback ports of the bench's mediaftpd.
type ports struct {
	control, web   int
	pasvLo, pasvHi int
}

// portsFor returns the ports from the base: FTP on base+21, the status
// page on base+80, passive ports base+100..199.
func portsFor(base int) ports {
	return ports{control: base + 21, web: base + 80, pasvLo: base + 100, pasvHi: base + 199}
}

// checkFree fails if a port the bench needs is taken.
func (p ports) checkFree() error {
	for _, port := range []int{p.control, p.web, p.pasvLo, p.pasvHi} {
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			return fmt.Errorf("port %d is not free (%w); choose other ports with -ports", port, err)
		}
		l.Close()
	}
	return nil
}

// benchEnv is the environment of every mediaftpd the bench starts: the
// bench's own without what names a default state folder, so that only
// -state-dir gives one. With none, the store is off (cmd/mediaftpd's
// openStore: "no state folder").
func benchEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "HOME", "XDG_STATE_HOME", "STATE_DIRECTORY":
			continue
		}
		env = append(env, kv)
	}
	return env
}

// startServer starts mediaftpd. It does not wait for anything.
func startServer(c serverConfig) (*server, error) {
	args := []string{
		"-listen", net.JoinHostPort("127.0.0.1", strconv.Itoa(c.ports.control)),
		"-pasv-ports", fmt.Sprintf("%d-%d", c.ports.pasvLo, c.ports.pasvHi),
		"-web", net.JoinHostPort("127.0.0.1", strconv.Itoa(c.ports.web)),
		"-mdns=false",
		"-dlna", "off",
	}
	if c.stateDir != "" {
		args = append(args, "-state-dir", c.stateDir)
	}
	args = append(args, c.shares...)
	cmd := exec.Command(c.bin, args...)
	cmd.Env = benchEnv()
	s := &server{
		addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(c.ports.control)),
		web:  net.JoinHostPort("127.0.0.1", strconv.Itoa(c.ports.web)),
	}
	s.Process = childproc.Process{Name: "mediaftpd", Cmd: cmd, LogFile: c.logFile, StopTimeout: stopTimeout}
	s.log.path = c.logFile
	s.started = time.Now()
	if err := s.Start(); err != nil {
		return nil, err
	}
	return s, nil
}

// stop ends the server and fails unless it exits cleanly.
func (s *server) stop() error {
	if err := s.Stop(); err != nil {
		return fmt.Errorf("mediaftpd did not stop cleanly: %w; its log, %s, ends:\n%s", err, s.LogFile, s.LogTail())
	}
	return nil
}

// awaitLine waits for the first line of the log, after those already
// taken, for which match is true, and returns it.
func (s *server) awaitLine(ctx context.Context, timeout time.Duration, what string, match func(logLine) bool) (logLine, error) {
	var found logLine
	err := s.Await(ctx, timeout, 5*time.Millisecond, func() (bool, error) {
		lines, err := s.log.next()
		for _, l := range lines {
			if match(l) {
				found = l
				return true, nil
			}
		}
		return false, err
	})
	if errors.Is(err, childproc.ErrTimeout) {
		return found, fmt.Errorf("mediaftpd logged no %s within %v; its log, %s, ends:\n%s", what, timeout, s.LogFile, s.LogTail())
	}
	return found, err
}

// awaitMsg waits for a line with the message msg and, if share is not
// empty, share=share.
func (s *server) awaitMsg(ctx context.Context, timeout time.Duration, msg, share string) (logLine, error) {
	what := fmt.Sprintf("%q", msg)
	if share != "" {
		what += " for share " + share
	}
	return s.awaitLine(ctx, timeout, what, func(l logLine) bool {
		return l.attrs["msg"] == msg && (share == "" || l.attrs["share"] == share)
	})
}

// sinceStart is how long after the server's start the line was logged,
// by the line's own time stamp (milliseconds).
func (s *server) sinceStart(l logLine) time.Duration { return l.time.Sub(s.started) }

// awaitFTP waits until the server greets an FTP client.
func (s *server) awaitFTP(ctx context.Context) error {
	var last error
	err := s.Await(ctx, 30*time.Second, 10*time.Millisecond, func() (bool, error) {
		c, err := rawftp.Dial(ctx, s.addr)
		if err != nil {
			last = err
			return false, nil
		}
		return true, c.Quit()
	})
	if errors.Is(err, childproc.ErrTimeout) {
		return fmt.Errorf("mediaftpd does not answer on %s: %w", s.addr, last)
	}
	return err
}

// status is the part of GET /api/status the bench reads.
type status struct {
	Details struct {
		Enabled bool  `json:"enabled"`
		Running bool  `json:"running"`
		Checked int64 `json:"checked"`
		Total   int64 `json:"total"`
		Probed  int64 `json:"probed"`
	} `json:"details"`
	Process struct {
		HeapBytes uint64 `json:"heap_bytes"`
	} `json:"process"`
}

// status asks the status page.
func (s *server) status(ctx context.Context) (status, error) {
	var st status
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.web+"/api/status", nil)
	if err != nil {
		return st, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return st, fmt.Errorf("GET /api/status: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("GET /api/status: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return st, fmt.Errorf("GET /api/status: %w", err)
	}
	return st, nil
}

// cpu returns the CPU time the server has used so far.
func (s *server) cpu() time.Duration {
	d, _ := procstat.TreeCPU(s.PID())
	return d
}

// logLine is one line of mediaftpd's log (slog's text format).
type logLine struct {
	text  string
	time  time.Time
	attrs map[string]string
}

// int returns an attribute as a number, or -1.
func (l logLine) int(key string) int64 {
	n, err := strconv.ParseInt(l.attrs[key], 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// duration returns an attribute as a duration, or -1.
func (l logLine) duration(key string) time.Duration {
	d, err := time.ParseDuration(l.attrs[key])
	if err != nil {
		return -1
	}
	return d
}

// parseLogLine splits a line of slog's text format into its key=value
// attributes, unquoting quoted values. A line that is not of that format
// has no attributes.
func parseLogLine(text string) logLine {
	l := logLine{text: text, attrs: map[string]string{}}
	rest := strings.TrimSpace(text)
	for rest != "" {
		k, v, ok := strings.Cut(rest, "=")
		if !ok || k == "" || strings.ContainsAny(k, " \"") {
			return logLine{text: text, attrs: map[string]string{}}
		}
		if strings.HasPrefix(v, `"`) {
			q, err := strconv.QuotedPrefix(v)
			if err != nil {
				return logLine{text: text, attrs: map[string]string{}}
			}
			rest = strings.TrimLeft(v[len(q):], " ")
			v, _ = strconv.Unquote(q)
		} else {
			v, rest, _ = strings.Cut(v, " ")
			rest = strings.TrimLeft(rest, " ")
		}
		l.attrs[k] = v
	}
	l.time, _ = time.Parse(time.RFC3339Nano, l.attrs["time"])
	return l
}

// logReader reads a growing log file line by line.
type logReader struct {
	path    string
	off     int64
	partial string
}

// next returns the complete lines written since the last call.
func (r *logReader) next() ([]logLine, error) {
	f, err := os.Open(r.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := f.Seek(r.off, io.SeekStart); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	r.off += int64(len(b))
	text := r.partial + string(b)
	var lines []logLine
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(nil, 1<<20)
	consumed := 0
	for sc.Scan() {
		line := sc.Text()
		if consumed+len(line) >= len(text) || text[consumed+len(line)] != '\n' {
			break // not ended yet
		}
		consumed += len(line) + 1
		lines = append(lines, parseLogLine(line))
	}
	r.partial = text[consumed:]
	return lines, nil
}

// storeSize returns the size of the store file in a state folder.
func storeSize(stateDir string) (int64, error) {
	fi, err := os.Stat(filepath.Join(stateDir, store.FileName))
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}
