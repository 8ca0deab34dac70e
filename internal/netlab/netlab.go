// Package netlab builds small networks for tests out of Linux network
// namespaces, so that multicast protocols (mDNS, SSDP) and the programs
// that speak them run between test hosts and never reach a real network.
//
// Every namespace is made by the test ("ip netns add") and removed by its
// cleanup, after whatever still runs in it is killed: only the test's own
// processes can. Two namespaces are joined by a veth pair created
// directly inside them, never in the test machine's own namespace.
// Programs run in a namespace with "ip netns exec" (Lab.Start), or Go code
// on a thread that entered it (Lab.GoIn). Namespaces need root: New skips
// the test without it, and fails it under CI (testtool.InCI).
//
// A program the test starts reports to it by printing lines
// "EVENT {json}" whose object has a "kind" (and, by convention, a
// "data"); Proc.Await waits for them.
package netlab

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mediaftpd/mediaftpd/internal/testtool"
)

var seq atomic.Int64

// machineNS is the inode of the test machine's network namespace, read
// before any test could move a thread.
var machineNS = nsInode("/proc/self/ns/net")

// Lab is the namespaces of one test.
type Lab struct {
	t      testing.TB
	prefix string // unique per process and test: "<prefix>-<pid>-<n>"
}

// New returns the lab of a test; prefix starts the names of its
// namespaces. It skips the test (fails it under CI) unless namespaces can
// be made.
func New(t testing.TB, prefix string) *Lab {
	t.Helper()
	testtool.NeedRoot(t, "creating network namespaces")
	testtool.Need(t, "ip")
	return &Lab{t: t, prefix: fmt.Sprintf("%s-%d-%d", prefix, os.Getpid(), seq.Add(1))}
}

// Prefix is the start of the lab's namespace names, unique to the test.
func (l *Lab) Prefix() string { return l.prefix }

// NS makes a namespace with lo up, removed when the test ends after
// killing whatever still runs in it.
func (l *Lab) NS(suffix string) string {
	l.t.Helper()
	name := l.prefix + "-" + suffix
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		if testtool.InCI() {
			l.t.Fatalf("ip netns add: %v: %s", err, out)
		}
		l.t.Skipf("skipping: cannot create a network namespace here: %v: %s", err, out)
	}
	l.t.Cleanup(func() { l.removeNS(name) })
	l.Run(name, "ip", "link", "set", "lo", "up")
	// Addresses usable at once (no IPv6 duplicate address detection),
	// and a secondary IPv4 address kept when the primary is deleted (a
	// DHCP lease changing). /proc/sys/net shows the namespace of the
	// process that writes it.
	l.Run(name, "sh", "-c", `for k in all default; do
		echo 0 >/proc/sys/net/ipv6/conf/$k/accept_dad
		echo 1 >/proc/sys/net/ipv4/conf/$k/promote_secondaries
	done`)
	return name
}

func (l *Lab) removeNS(name string) {
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

// Link joins namespaces a and b with a veth pair, aIf in a and bIf in b,
// both up and multicast-capable.
func (l *Lab) Link(a, aIf, b, bIf string) {
	l.t.Helper()
	l.Run(a, "ip", "link", "add", aIf, "type", "veth", "peer", "name", bIf, "netns", b)
	for _, x := range [][2]string{{a, aIf}, {b, bIf}} {
		l.Run(x[0], "ip", "link", "set", x[1], "multicast", "on", "up")
	}
}

// Pair makes two namespaces, "srv" and "cli", joined by a veth pair
// (srvIf and cliIf) with the addresses srvAddr and cliAddr (CIDR, like
// "10.99.7.1/24"), and a route for multicast on each side.
func (l *Lab) Pair(srvIf, srvAddr, cliIf, cliAddr string) (srv, cli string) {
	l.t.Helper()
	srv, cli = l.NS("srv"), l.NS("cli")
	l.Link(srv, srvIf, cli, cliIf)
	for _, x := range [][3]string{{srv, srvIf, srvAddr}, {cli, cliIf, cliAddr}} {
		l.Run(x[0], "ip", "addr", "add", x[2], "dev", x[1])
		l.Run(x[0], "ip", "route", "add", "224.0.0.0/4", "dev", x[1])
	}
	return srv, cli
}

// Run runs a command in namespace ns and fails the test if it fails.
func (l *Lab) Run(ns string, args ...string) string {
	l.t.Helper()
	out, err := exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...).CombinedOutput()
	if err != nil {
		l.t.Fatalf("in %s: %s: %v\n%s", ns, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Proc is a process started in a namespace. Lines it prints as
// "EVENT <json>" arrive as events; every other line, on stdout or stderr,
// is kept for the log and arrives as an event of kind "line".
type Proc struct {
	Name     string
	Cmd      *exec.Cmd
	events   chan Event
	exited   chan struct{} // closed when the process has exited
	readDone chan struct{} // closed when its stdout is at EOF

	stdin io.WriteCloser

	mu     sync.Mutex
	out    bytes.Buffer     // stdout lines that are not events, and stderr
	latest map[string]Event // the last event of each kind
}

// Event is one line of a process's output.
type Event struct {
	At   time.Time       // when the test read it
	Kind string          `json:"kind"` // "line" for a line that is not an event
	Data json.RawMessage `json:"data"`
	Line string          // the whole line
}

// Decode decodes the event's data into v, failing the test if it cannot.
func (ev Event) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(ev.Data, v); err != nil {
		t.Fatalf("event %s: %v: %s", ev.Kind, err, ev.Line)
	}
}

type lockedWriter struct{ p *Proc }

func (w lockedWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.out.Write(b)
}

// Last returns the last event of a kind read so far.
func (p *Proc) Last(kind string) (Event, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ev, ok := p.latest[kind]
	return ev, ok
}

// emit queues an event; one that finds the queue full is dropped
// rather than stall the process.
func (p *Proc) emit(ev Event) {
	p.mu.Lock()
	if p.latest == nil {
		p.latest = map[string]Event{}
	}
	p.latest[ev.Kind] = ev
	p.mu.Unlock()
	select {
	case p.events <- ev:
	default:
	}
}

// Output returns what the process printed that was not an event.
func (p *Proc) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// Start runs args in namespace ns with env added to the environment. The
// process is killed when the test ends, and its output is logged if the
// test failed. Its stdin is a pipe: see Send.
func (l *Lab) Start(name, ns string, env []string, args ...string) *Proc {
	l.t.Helper()
	p := &Proc{Name: name, events: make(chan Event, 1000), exited: make(chan struct{}), readDone: make(chan struct{})}
	p.Cmd = exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...)
	p.Cmd.Env = append(os.Environ(), env...)
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
	p.Cmd.Stdout, p.Cmd.Stderr = outW, errW
	stdin, err := p.Cmd.StdinPipe()
	if err != nil {
		l.t.Fatal(err)
	}
	err = p.Cmd.Start()
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		l.t.Fatalf("starting %s: %v", name, err)
	}
	p.stdin = stdin
	go func() {
		defer close(p.readDone)
		p.scan(outR)
	}()
	go p.scan(errR)
	go func() {
		p.Cmd.Wait()
		close(p.exited)
	}()
	l.t.Cleanup(func() {
		p.Stop(syscall.SIGKILL)
		if l.t.Failed() {
			l.t.Logf("output of %s:\n%s", name, p.Output())
		}
	})
	return p
}

// scan reads the lines of one of the process's outputs until EOF and
// closes it. A line "EVENT {json}" (on stdout, by convention) is an event;
// any other is kept for the log and is an event of kind "line".
func (p *Proc) scan(r io.ReadCloser) {
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4<<20), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		if js, ok := strings.CutPrefix(line, "EVENT "); ok {
			ev := Event{At: time.Now(), Line: line}
			if json.Unmarshal([]byte(js), &ev) == nil {
				p.emit(ev)
				continue
			}
		}
		lockedWriter{p}.Write([]byte(line + "\n"))
		p.emit(Event{At: time.Now(), Kind: "line", Line: line})
	}
}

// Send writes a line to the process's stdin.
func (p *Proc) Send(t testing.TB, line string) {
	t.Helper()
	if _, err := io.WriteString(p.stdin, line+"\n"); err != nil {
		t.Fatalf("writing to %s: %v", p.Name, err)
	}
}

// Exited returns a channel closed once the process has exited.
func (p *Proc) Exited() <-chan struct{} { return p.exited }

// Stop signals the process (by its PID: "ip netns exec" execs the
// program in place) and waits up to 5 s for it to exit; then it kills it.
// It reports whether the process exited by itself.
func (p *Proc) Stop(sig syscall.Signal) bool {
	select {
	case <-p.exited:
		return true
	default:
	}
	p.Cmd.Process.Signal(sig)
	select {
	case <-p.exited:
		return true
	case <-time.After(5 * time.Second):
		p.Cmd.Process.Kill()
		<-p.exited
		return false
	}
}

// Await returns the first event of the kind for which ok holds, failing
// the test after timeout. Events before it are discarded.
func (p *Proc) Await(t testing.TB, kind string, timeout time.Duration, ok func(Event) bool) Event {
	t.Helper()
	ev, _ := p.AwaitAll(t, kind, timeout, ok)
	return ev
}

// AwaitAll is Await that also returns the events before the one awaited.
func (p *Proc) AwaitAll(t testing.TB, kind string, timeout time.Duration, ok func(Event) bool) (Event, []Event) {
	t.Helper()
	var before []Event
	// take keeps ev, and reports whether it is the one awaited.
	take := func(ev Event) bool {
		if ev.Kind == kind && (ok == nil || ok(ev)) {
			return true
		}
		before = append(before, ev)
		return false
	}
	deadline := time.After(timeout)
	for {
		select {
		case ev := <-p.events:
			if take(ev) {
				return ev, before
			}
		case <-p.exited:
			// Drain what it printed before exiting.
			select {
			case <-p.readDone:
			case <-time.After(time.Second):
			}
			for {
				select {
				case ev := <-p.events:
					if take(ev) {
						return ev, before
					}
				default:
					t.Fatalf("%s exited before %s; output:\n%s", p.Name, kind, p.Output())
				}
			}
		case <-deadline:
			t.Fatalf("no %s from %s within %v; output:\n%s", kind, p.Name, timeout, p.Output())
		}
	}
}

// GoIn runs f on a new goroutine locked to an OS thread that entered
// network namespace ns, and returns a channel closed when f returns. The
// thread is never unlocked, so Go ends it with the goroutine and no other
// code ever runs in the namespace by accident. Sockets f opens stay in
// the namespace and may be used from any goroutine after. But only f's
// own goroutine is in ns: a goroutine f starts, and so a dial made by
// net/http's Transport, runs in the test machine's namespace; use DialIn
// or HTTPClient for those.
func (l *Lab) GoIn(t testing.TB, ns string, f func()) <-chan struct{} {
	t.Helper()
	done := make(chan struct{})
	entered := make(chan error, 1)
	var run func()
	run = func() {
		runtime.LockOSThread()
		if unix.Gettid() == unix.Getpid() {
			// The main thread must never change namespace (Go keeps
			// it, wedged, when its goroutine ends). While this
			// goroutine holds it, the next one runs elsewhere.
			inner := make(chan struct{})
			go func() { defer close(inner); run() }()
			<-inner
			runtime.UnlockOSThread()
			return
		}
		defer close(done)
		if err := enter(ns); err != nil {
			entered <- err
			return
		}
		entered <- nil
		f()
	}
	go run()
	if err := <-entered; err != nil {
		t.Fatalf("entering %s: %v", ns, err)
	}
	return done
}

// DialIn returns a dial function whose connections are made from network
// namespace ns, whichever goroutine calls it: each dial runs on a thread
// that entered ns (GoIn). Code running in GoIn must dial with it (or
// HTTPClient) whenever the dial may happen on another goroutine, as
// net/http's Transport does: a connection dialled from the test machine's
// own namespace would go to its real network.
func (l *Lab) DialIn(t testing.TB, ns string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (c net.Conn, err error) {
		var d net.Dialer
		<-l.GoIn(t, ns, func() { c, err = d.DialContext(ctx, network, addr) })
		return c, err
	}
}

// HTTPClient returns an HTTP client whose every connection is made from
// network namespace ns, without proxies, with the given timeout.
func (l *Lab) HTTPClient(t testing.TB, ns string, timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout:   timeout,
		Transport: &http.Transport{Proxy: nil, DialContext: l.DialIn(t, ns), DisableKeepAlives: true},
	}
}

// In runs f in namespace ns and waits for it.
func (l *Lab) In(t testing.TB, ns string, f func()) {
	t.Helper()
	<-l.GoIn(t, ns, f)
}

// enter moves the calling (locked) thread into namespace ns and checks
// that it got there.
func enter(ns string) error {
	fd, err := unix.Open(filepath.Join("/run/netns", ns), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("setns: %w", err)
	}
	var want unix.Stat_t
	if err := unix.Fstat(fd, &want); err != nil {
		return err
	}
	got := nsInode("/proc/thread-self/ns/net")
	if got != want.Ino || got == machineNS {
		return fmt.Errorf("thread is in namespace %d, want %d (machine's: %d)", got, want.Ino, machineNS)
	}
	return nil
}

// MachineNS is the inode of the test machine's own network namespace, for
// helper processes that must refuse to run in it.
func MachineNS() uint64 { return machineNS }

// CurrentNS is the inode of the network namespace this process runs in.
func CurrentNS() uint64 { return nsInode("/proc/self/ns/net") }

func nsInode(path string) uint64 {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0
	}
	return st.Ino
}
