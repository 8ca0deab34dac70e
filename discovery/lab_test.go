package discovery_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/testtool"
)

// The integration tests build a small network out of network namespaces,
// each made by the test and removed by its cleanup: "ip netns add",
// joined by veth pairs created directly inside them (never in the test
// machine's own namespace), addresses from 10.99.0.0/24. mDNS then runs
// only in there: the machine's own interfaces reach a real network.
// Every program is run with "ip netns exec", and a helper process
// refuses to start if it finds itself in the namespace the test started
// in.

// Environment of the helper processes.
const (
	envHelper = "DISCOVERY_TEST_HELPER" // the helper's mode
	envParams = "DISCOVERY_TEST_PARAMS" // its parameters, JSON
	envRootNS = "DISCOVERY_TEST_NETNS"  // the inode of the namespace it must not run in
)

var labSeq atomic.Int64

// lab is the namespaces of one test.
type lab struct {
	t      *testing.T
	prefix string // unique per process and test: "mdns-<pid>-<n>"
}

// newLab skips the test (fails it under CI) unless namespaces can be made.
func newLab(t *testing.T) *lab {
	t.Helper()
	testtool.NeedRoot(t, "creating network namespaces")
	testtool.Need(t, "ip")
	return &lab{t: t, prefix: fmt.Sprintf("mdns-%d-%d", os.Getpid(), labSeq.Add(1))}
}

// ns makes a namespace with lo up, removed when the test ends after
// killing whatever still runs in it: only this test's processes can.
func (l *lab) ns(suffix string) string {
	l.t.Helper()
	name := l.prefix + "-" + suffix
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		if testtool.InCI() {
			l.t.Fatalf("ip netns add: %v: %s", err, out)
		}
		l.t.Skipf("skipping: cannot create a network namespace here: %v: %s", err, out)
	}
	l.t.Cleanup(func() { l.removeNS(name) })
	l.run(name, "ip", "link", "set", "lo", "up")
	// Addresses usable at once (no IPv6 duplicate address detection),
	// and a secondary IPv4 address kept when the primary is deleted (a
	// DHCP lease changing). /proc/sys/net shows the namespace of the
	// process that writes it.
	l.run(name, "sh", "-c", `for k in all default; do
		echo 0 >/proc/sys/net/ipv6/conf/$k/accept_dad
		echo 1 >/proc/sys/net/ipv4/conf/$k/promote_secondaries
	done`)
	return name
}

func (l *lab) removeNS(name string) {
	for range 50 {
		out, _ := exec.Command("ip", "netns", "pids", name).Output()
		pids := strings.Fields(string(out))
		if len(pids) == 0 {
			break
		}
		for _, p := range pids {
			if pid, err := strconv.Atoi(p); err == nil && pid > 1 && pid != os.Getpid() {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
		l.t.Errorf("ip netns del %s: %v: %s", name, err, out)
	}
}

// link joins namespaces a and b with a veth pair, aIf in a and bIf in b,
// both up and multicast-capable.
func (l *lab) link(a, aIf, b, bIf string) {
	l.t.Helper()
	l.run(a, "ip", "link", "add", aIf, "type", "veth", "peer", "name", bIf, "netns", b)
	for _, x := range [][2]string{{a, aIf}, {b, bIf}} {
		l.run(x[0], "ip", "link", "set", x[1], "multicast", "on", "up")
	}
}

// run runs a command in namespace ns and fails the test if it fails.
func (l *lab) run(ns string, args ...string) string {
	l.t.Helper()
	out, err := exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...).CombinedOutput()
	if err != nil {
		l.t.Fatalf("in %s: %s: %v\n%s", ns, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// proc is a process started in a namespace. Lines it prints as
// "EVENT <json>" arrive on events; everything else is kept for the log.
type proc struct {
	name     string
	cmd      *exec.Cmd
	events   chan event
	exited   chan struct{} // closed when the process has exited
	readDone chan struct{} // closed when its stdout is at EOF

	mu     sync.Mutex
	out    bytes.Buffer     // stdout lines that are not events, and stderr
	latest map[string]event // the last event of each kind
}

// event is one line of a helper's output.
type event struct {
	At   time.Time       // when the test read it
	Kind string          `json:"kind"` // "line" for a line that is not an event
	Data json.RawMessage `json:"data"`
	Line string          // the line, for kind "line"
}

type lockedWriter struct{ p *proc }

func (w lockedWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.out.Write(b)
}

// last returns the last event of a kind read so far.
func (p *proc) last(kind string) (event, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ev, ok := p.latest[kind]
	return ev, ok
}

// emit queues an event; one that finds the queue full is dropped
// rather than stall the process.
func (p *proc) emit(ev event) {
	p.mu.Lock()
	if p.latest == nil {
		p.latest = map[string]event{}
	}
	p.latest[ev.Kind] = ev
	p.mu.Unlock()
	select {
	case p.events <- ev:
	default:
	}
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// start runs args in namespace ns. The process is killed when the test
// ends, and its output is logged if the test failed.
func (l *lab) start(name, ns string, env []string, args ...string) *proc {
	l.t.Helper()
	p := &proc{name: name, events: make(chan event, 1000), exited: make(chan struct{}), readDone: make(chan struct{})}
	p.cmd = exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...)
	p.cmd.Env = append(os.Environ(), env...)
	// Pipes of our own, not exec's copying goroutines: daemons the
	// process starts keep them open, and Wait must not wait for them.
	outR, outW, err := os.Pipe()
	if err != nil {
		l.t.Fatal(err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		l.t.Fatal(err)
	}
	p.cmd.Stdout, p.cmd.Stderr = outW, errW
	err = p.cmd.Start()
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		l.t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		defer close(p.readDone)
		defer outR.Close()
		sc := bufio.NewScanner(outR)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if js, ok := strings.CutPrefix(line, "EVENT "); ok {
				ev := event{At: time.Now()}
				if json.Unmarshal([]byte(js), &ev) == nil {
					p.emit(ev)
					continue
				}
			}
			lockedWriter{p}.Write([]byte(line + "\n"))
			p.emit(event{At: time.Now(), Kind: "line", Line: line})
		}
	}()
	go func() {
		defer errR.Close()
		io.Copy(lockedWriter{p}, errR)
	}()
	go func() {
		p.cmd.Wait()
		close(p.exited)
	}()
	l.t.Cleanup(func() {
		p.stop(syscall.SIGKILL)
		if l.t.Failed() {
			l.t.Logf("output of %s:\n%s", name, p.output())
		}
	})
	return p
}

// stop signals the process (by its PID: "ip netns exec" execs the
// program in place) and waits up to 5 s for it to exit.
func (p *proc) stop(sig syscall.Signal) bool {
	select {
	case <-p.exited:
		return true
	default:
	}
	p.cmd.Process.Signal(sig)
	select {
	case <-p.exited:
		return true
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
		return false
	}
}

// await returns the first event of the kind for which ok holds, failing
// the test after timeout. Events before it are discarded.
func (p *proc) await(t *testing.T, kind string, timeout time.Duration, ok func(event) bool) event {
	t.Helper()
	ev, _ := p.awaitAll(t, kind, timeout, ok)
	return ev
}

// awaitAll is await that also returns the events before the one awaited.
func (p *proc) awaitAll(t *testing.T, kind string, timeout time.Duration, ok func(event) bool) (event, []event) {
	t.Helper()
	var before []event
	deadline := time.After(timeout)
	for {
		select {
		case ev := <-p.events:
			if ev.Kind == kind && (ok == nil || ok(ev)) {
				return ev, before
			}
			before = append(before, ev)
		case <-p.exited:
			// Drain what it printed before exiting.
			select {
			case <-p.readDone:
			case <-time.After(time.Second):
			}
			for {
				select {
				case ev := <-p.events:
					if ev.Kind == kind && (ok == nil || ok(ev)) {
						return ev, before
					}
					before = append(before, ev)
				default:
					t.Fatalf("%s exited before %s; output:\n%s", p.name, kind, p.output())
				}
			}
		case <-deadline:
			t.Fatalf("no %s from %s within %v; output:\n%s", kind, p.name, timeout, p.output())
		}
	}
}

// helper starts this test binary in namespace ns as a helper process of
// the given mode (see TestHelperProcess).
func (l *lab) helper(name, ns, mode string, params any) *proc {
	l.t.Helper()
	exe, err := os.Executable() // not /proc/self/exe: that would be ip
	if err != nil {
		l.t.Fatal(err)
	}
	js, err := json.Marshal(params)
	if err != nil {
		l.t.Fatal(err)
	}
	env := []string{envHelper + "=" + mode, envParams + "=" + string(js), envRootNS + "=" + strconv.FormatUint(netnsInode(), 10)}
	return l.start(name, ns, env, exe, "-test.run=^TestHelperProcess$", "-test.count=1")
}

// netnsInode identifies the network namespace this process runs in.
func netnsInode() uint64 {
	fi, err := os.Stat("/proc/self/ns/net")
	if err != nil {
		return 0
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

// avahi runs dbus-daemon and avahi-daemon in namespace ns, limited to
// interface ifname, each with private /run and /etc/avahi (a tmpfs and a
// bind mount in a mount namespace of their own: nothing of the test
// machine's is used or changed), then the command args (avahi-browse,
// avahi-publish) in the same place.
func (l *lab) avahi(name, ns, ifname string, args ...string) *proc {
	l.t.Helper()
	for _, prog := range []string{"dbus-daemon", "avahi-daemon", "avahi-browse", "unshare", "mount"} {
		testtool.Need(l.t, prog)
	}
	conf := filepath.Join(l.t.TempDir(), "avahi")
	if err := os.MkdirAll(filepath.Join(conf, "services"), 0o755); err != nil {
		l.t.Fatal(err)
	}
	daemonConf := fmt.Sprintf(`[server]
host-name=%s
use-ipv4=yes
use-ipv6=yes
allow-interfaces=%s
enable-dbus=yes
[wide-area]
enable-wide-area=no
[publish]
publish-addresses=no
publish-hinfo=no
publish-workstation=no
publish-domain=no
[reflector]
enable-reflector=no
`, "avahi-"+strings.ReplaceAll(l.prefix, "-", ""), ifname)
	if err := os.WriteFile(filepath.Join(conf, "avahi-daemon.conf"), []byte(daemonConf), 0o644); err != nil {
		l.t.Fatal(err)
	}
	script := `set -e
mount -t tmpfs tmpfs /run
mkdir -p /run/dbus /run/avahi-daemon
mount --bind "$1" /etc/avahi
shift
dbus-daemon --system --nofork --nopidfile --nosyslog &
i=0
until [ -S /run/dbus/system_bus_socket ]; do i=$((i+1)); [ $i -lt 200 ] || { echo "dbus did not start" >&2; exit 1; }; sleep 0.02; done
avahi-daemon --no-drop-root --no-chroot --no-rlimits --no-proc-title -f /etc/avahi/avahi-daemon.conf &
i=0
until avahi-browse -t -p _none._tcp >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 200 ] || { echo "avahi-daemon did not start" >&2; exit 1; }; sleep 0.05; done
echo 'EVENT {"kind":"avahi-ready"}'
exec "$@" 2>&1
`
	p := l.start(name, ns, nil, append([]string{"unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", conf}, args...)...)
	p.await(l.t, "avahi-ready", 15*time.Second, nil)
	return p
}
