package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/childproc"
	"github.com/mediaftpd/mediaftpd/internal/procstat"
)

// server is one FTP server under test, run as a child process of the
// bench alone in its process group (see childproc.Process), so that a
// Ctrl-C reaches only the bench, which then stops it.
type server struct {
	childproc.Process           // Name is nameMediaftpd or nameVsftpd
	addr              string    // control address
	prof              *profiler // mediaftpd built for -pprof; nil otherwise
	cg                *cgroup   // the server's own cgroup; nil: /proc accounting
}

// How the bench accounts a server's CPU and memory, counting every
// process of the server: vsftpd forks two processes per session (a
// privileged parent, and a chrooted, unprivileged child that speaks to the
// client); mediaftpd is one process.
//
// With a cgroup per server (cgroup.go), its cpu.stat and cgroup.procs say
// it all. Without one, from /proc (package procstat): vsftpd's listener
// waits for each session process, and each session process for its child,
// so the listener's utime+stime+cutime+cstime plus those of its live
// descendants are all the CPU its tree has used. A process exiting between
// two reads of one snapshot could be counted twice or not at all, so the
// bench takes CPU snapshots only when the server is quiescent: no session
// open and no session process left (see server.awaitQuiet). Memory is the
// PSS summed over the server's processes, which counts vsftpd's shared
// libc and binary pages once in total: what the server costs the machine.

// stopTimeout is how long a server has to exit after SIGTERM.
const stopTimeout = 5 * time.Second

// Names of the two servers, as the table shows them.
const (
	nameMediaftpd = "mediaftpd"
	nameVsftpd    = "vsftpd"
)

// ports are the loopback ports of a run. They lie below Linux's ephemeral
// range (32768-60999), so that the bench's own client connections can
// never hold a port a server wants for a passive listener.
type ports struct {
	control        int
	pasvLo, pasvHi int // passive range, inclusive
}

// portsFor returns the ports of each server from the base port: vsftpd
// on base+21 with passive ports base+100..599, mediaftpd on base+22 with
// base+600..1099.
func portsFor(base int) (vsftpd, mediaftpd ports) {
	return ports{base + 21, base + 100, base + 599}, ports{base + 22, base + 600, base + 1099}
}

// checkFree fails if a control port is taken, naming the flag that moves
// them.
func checkFree(port int) error {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("port %d is not free (%w); choose other ports with -ports", port, err)
	}
	return l.Close()
}

// vsftpdConfig is the config file the bench gives vsftpd: anonymous,
// read-only, on loopback, in the foreground. Everything else is vsftpd's
// built-in default, as the Debian package runs it (Debian's own
// /etc/vsftpd.conf is not read): two processes per session, sendfile,
// sessions isolated in their own network and PID namespaces. extra lines
// (from -vsftpd-opt) come last and win.
func vsftpdConfig(t tree, p ports, extra []string) string {
	lines := []string{
		"# written by ftpbench",
		"listen=YES",
		"listen_ipv6=NO",
		"listen_address=127.0.0.1",
		"listen_port=" + strconv.Itoa(p.control),
		"background=NO",
		"anonymous_enable=YES",
		"local_enable=NO",
		"no_anon_password=YES",
		"write_enable=NO",
		"anon_root=" + t.root,
		"pasv_min_port=" + strconv.Itoa(p.pasvLo),
		"pasv_max_port=" + strconv.Itoa(p.pasvHi),
		"seccomp_sandbox=NO",
		"secure_chroot_dir=" + vsftpdEmptyDir,
		"max_clients=1000",
		"max_per_ip=1000",
		"use_sendfile=YES",
		"xferlog_enable=NO",
	}
	return strings.Join(append(lines, extra...), "\n") + "\n"
}

// vsftpdEmptyDir is the empty folder vsftpd chroots its unprivileged
// pre-login process into; the Debian package makes it.
const vsftpdEmptyDir = "/var/run/vsftpd/empty"

// findVsftpd returns the path of the vsftpd binary, or an error that says
// how to install it.
func findVsftpd() (string, error) {
	if p, err := exec.LookPath("vsftpd"); err == nil {
		return p, nil
	}
	// /usr/sbin is not on every user's PATH.
	if _, err := os.Stat("/usr/sbin/vsftpd"); err == nil {
		return "/usr/sbin/vsftpd", nil
	}
	return "", errors.New("vsftpd is not installed; install it with: apt-get install vsftpd\n" +
		"(the bench runs it by hand on loopback with its own config; the service need not run)")
}

// vsftpdVersion asks the binary. vsftpd -v writes its version to standard
// input, so standard input is a pipe the bench reads.
func vsftpdVersion(bin string) string {
	r, w, err := os.Pipe()
	if err != nil {
		return "unknown"
	}
	defer r.Close()
	cmd := exec.Command(bin, "-v")
	cmd.Stdin = w
	err = cmd.Run()
	w.Close()
	if err != nil {
		return "unknown"
	}
	b := make([]byte, 256)
	r.SetReadDeadline(time.Now().Add(time.Second))
	n, _ := r.Read(b)
	v := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(b[:n])), "vsftpd: version"))
	if v == "" {
		return "unknown"
	}
	return v
}

// startVsftpd writes vsftpd's config into work and starts it.
func startVsftpd(ctx context.Context, bin, work string, t tree, p ports, extra []string, cg *cgroup) (*server, error) {
	if err := os.MkdirAll(vsftpdEmptyDir, 0o755); err != nil {
		return nil, err
	}
	conf := filepath.Join(work, "vsftpd.conf")
	if err := os.WriteFile(conf, []byte(vsftpdConfig(t, p, extra)), 0o600); err != nil {
		return nil, err
	}
	s := newServer(nameVsftpd, exec.Command(bin, conf), work, p, cg)
	if err := s.start(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// startMediaftpd starts the mediaftpd binary sharing t's media folder,
// with the web page and mDNS off and limits high enough for the 200
// sessions of the memory workload, and waits until its index is built.
func startMediaftpd(ctx context.Context, bin, work string, t tree, p ports, prof *profiler, cg *cgroup) (*server, error) {
	conf := filepath.Join(work, "mediaftpd.yaml")
	if err := os.WriteFile(conf, []byte(mediaftpdConfig), 0o600); err != nil {
		return nil, err
	}
	return startMediaftpdWith(ctx, bin, conf, work, t, p, prof, cg)
}

// mediaftpdConfig is the config file of the plain workloads.
const mediaftpdConfig = "# written by ftpbench\nftp:\n  max_clients: 1000\n  max_per_ip: 1000\n"

// startMediaftpdWith starts mediaftpd as startMediaftpd does, with the
// config file conf.
func startMediaftpdWith(ctx context.Context, bin, conf, work string, t tree, p ports, prof *profiler, cg *cgroup) (*server, error) {
	cmd := exec.Command(bin,
		"-config", conf,
		"-listen", net.JoinHostPort("127.0.0.1", strconv.Itoa(p.control)),
		"-pasv-ports", fmt.Sprintf("%d-%d", p.pasvLo, p.pasvHi),
		"-web", "off",
		"-mdns=false",
		"-dlna", "off",
		"-state-dir", filepath.Join(work, "state"),
		t.media())
	cmd.Env = os.Environ()
	if prof != nil {
		cmd.Env = append(cmd.Env, pprofEnv+"="+prof.addr)
	}
	s := newServer(nameMediaftpd, cmd, work, p, cg)
	s.prof = prof
	if err := s.start(ctx); err != nil {
		return nil, err
	}
	// The first scan of the share runs while FTP already answers; the
	// idle figures are of a server that has finished it.
	err := s.Await(ctx, time.Minute, 50*time.Millisecond, func() (bool, error) {
		b, err := os.ReadFile(s.LogFile)
		return err == nil && strings.Contains(string(b), "share indexed"), nil
	})
	if errors.Is(err, childproc.ErrTimeout) {
		fmt.Fprintf(os.Stderr, "ftpbench: mediaftpd logged no %q within a minute; going on\n", "share indexed")
		return s, nil
	}
	if err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// newServer returns the server that cmd starts on loopback with the
// control port of p, logging into work.
func newServer(name string, cmd *exec.Cmd, work string, p ports, cg *cgroup) *server {
	s := &server{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(p.control)), cg: cg}
	s.Process = childproc.Process{Name: name, Cmd: cmd, LogFile: filepath.Join(work, name+".log"), StopTimeout: stopTimeout}
	s.Group = s.processes
	return s
}

// start starts the server, moves it into its cgroup if it has one, and
// waits until it greets a client.
func (s *server) start(ctx context.Context) error {
	if err := s.Start(); err != nil {
		return err
	}
	// Before any client connects, so before the first fork.
	if s.cg != nil {
		if err := s.cg.add(s.PID()); err != nil {
			s.stop()
			return fmt.Errorf("moving %s into its cgroup: %w", s.Name, err)
		}
	}
	if err := s.awaitReady(ctx); err != nil {
		s.stop()
		return err
	}
	return nil
}

// processes returns the PIDs of the server's processes, its own first.
func (s *server) processes() ([]int, error) {
	if s.cg == nil {
		tree, err := procstat.Tree(s.PID())
		if err != nil {
			return nil, err
		}
		return procstat.PIDs(tree), nil
	}
	pids, err := s.cg.pids()
	if err != nil {
		return nil, err
	}
	if i := slices.Index(pids, s.PID()); i > 0 {
		pids[0], pids[i] = pids[i], pids[0]
	}
	return pids, nil
}

// cpuTime returns the CPU time all the server's processes have used so
// far, exited ones included: from its cgroup, or from /proc (then only
// when the server is quiet; see the top of this file).
func (s *server) cpuTime() (time.Duration, error) {
	if s.cg != nil {
		return s.cg.cpu()
	}
	return procstat.TreeCPU(s.PID())
}

// pss returns the summed PSS of the server's processes and their number.
func (s *server) pss() (int64, int, error) {
	pids, err := s.processes()
	if err != nil {
		return 0, 0, err
	}
	return procstat.SumPSS(pids)
}

// awaitReady waits until the server greets a client.
func (s *server) awaitReady(ctx context.Context) error {
	var dialErr error // the last attempt's
	err := s.Await(ctx, 15*time.Second, 20*time.Millisecond, func() (bool, error) {
		c, err := dial(ctx, s.addr)
		if err != nil {
			dialErr = err
			return false, nil
		}
		dialErr = c.Quit()
		return true, nil
	})
	if errors.Is(err, childproc.ErrTimeout) {
		return fmt.Errorf("%s does not answer on %s: %w; its log, %s, ends:\n%s", s.Name, s.addr, dialErr, s.LogFile, s.LogTail())
	}
	if err != nil {
		return err
	}
	return dialErr
}

// awaitQuiet waits until no session process of the server is left, so
// that the CPU of every finished session has been added to the server's
// own (see the top of this file). mediaftpd has no child processes.
func (s *server) awaitQuiet(ctx context.Context) error {
	sessions := 0
	err := s.Await(ctx, 30*time.Second, 5*time.Millisecond, func() (bool, error) {
		pids, err := s.processes()
		if err != nil {
			return false, errors.Join(err, s.Exited())
		}
		sessions = len(pids) - 1
		return sessions <= 0, nil
	})
	if errors.Is(err, childproc.ErrTimeout) {
		return fmt.Errorf("%s still has %d session processes 30 s after its clients left", s.Name, sessions)
	}
	if err != nil {
		return err
	}
	return s.Exited()
}

// stop ends the server: SIGTERM to it and to any session process left,
// then SIGKILL to what is still there after stopTimeout. It waits for
// every process of the server's cgroup to be gone.
func (s *server) stop() {
	s.Stop()
	if s.cg != nil {
		// Orphaned session processes, if any, are still in the cgroup.
		for range 100 {
			pids, err := s.cg.pids()
			if err != nil || len(pids) == 0 {
				break
			}
			for _, pid := range pids {
				syscall.Kill(pid, syscall.SIGKILL)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}
