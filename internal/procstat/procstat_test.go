package procstat

import (
	"errors"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/testtool"
)

// gonePID is a PID no process has: above Linux's highest pid_max (2^22).
const gonePID = math.MaxInt32

func TestParseStat(t *testing.T) {
	// A command name with a space and a parenthesis, as a process may
	// choose; times in USER_HZ.
	line := "4321 (vs ftpd) x) S 1234 4321 4321 0 -1 4194560 100 0 0 0 150 50 7 3 20 0 1 0 100 1000 10 0\n"
	st, err := parseStat(4321, []byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if st.PID != 4321 || st.PPID != 1234 {
		t.Errorf("pid %d ppid %d, want 4321 and 1234", st.PID, st.PPID)
	}
	if want := 2100 * time.Millisecond; st.CPU+st.ChildCPU != want { // 150+50+7+3 ticks
		t.Errorf("cpu %v, want %v", st.CPU+st.ChildCPU, want)
	}
	if st.CPU != 2*time.Second || st.ChildCPU != 100*time.Millisecond {
		t.Errorf("own cpu %v, children's %v; want 2s and 100ms", st.CPU, st.ChildCPU)
	}
	for _, bad := range []string{
		"1 (init S 0",        // truncated, no ')'
		"1 (init) S 0 1 1 0", // too few fields
		"1 (init) S x 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0",
		"1 (init) S 0 1 1 0 -1 0 0 0 0 0 1 y 0 0 20 0 1 0",
		"",
	} {
		if _, err := parseStat(1, []byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestParseStatus(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     Status
		bad      bool
	}{
		{"live", "Name:\tx\nVmRSS:\t   5120 kB\nThreads:\t7\n", Status{Threads: 7, RSS: 5 << 20}, false},
		{"zombie", "Name:\tx\nState:\tZ (zombie)\nThreads:\t1\n", Status{Threads: 1}, false},
		{"empty value", "VmRSS:\n", Status{}, true},
		{"not a number", "Threads:\tmany\n", Status{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStatus(tc.in)
			if (err != nil) != tc.bad || got != tc.want {
				t.Errorf("got %+v, %v; want %+v, error %v", got, err, tc.want, tc.bad)
			}
		})
	}
}

func TestParsePSS(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     int64
		bad      bool
	}{
		{"rollup", "55d0-7ff [rollup]\nRss:   900 kB\nPss:   300 kB\nPss_Anon:  100 kB\n", 300 << 10, false},
		{"zombie", "", 0, false},
		{"no value", "Pss:\n", 0, true},
		{"not a number", "Pss: x kB\n", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parsePSS(tc.in)
			if (err != nil) != tc.bad || got != tc.want {
				t.Errorf("got %d, %v; want %d, error %v", got, err, tc.want, tc.bad)
			}
		})
	}
}

func TestParseBusy(t *testing.T) {
	// user nice system idle iowait irq softirq steal guest guest_nice
	got, err := parseBusy("cpu  100 2 30 5000 40 5 6 7 50 0")
	if err != nil {
		t.Fatal(err)
	}
	if want := 1500 * time.Millisecond; got != want { // 100+2+30+5+6+7 ticks
		t.Errorf("busy %v, want %v", got, want)
	}
	for _, bad := range []string{"", "cpu0 1 2 3 4 5 6 7", "cpu 1 2 3", "cpu 1 2 3 4 5 6 x"} {
		if _, err := parseBusy(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestParseTCP(t *testing.T) {
	table := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0015 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0
   1: 0100007F:0015 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 4243 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:ZZZZ 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 4244 1
   3: short line
`
	got := map[string]Socket{}
	parseTCP(table, got)
	want := map[string]Socket{"4242": {21, "LISTEN"}, "4243": {21, "ESTABLISHED"}}
	if len(got) != len(want) || got["4242"] != want["4242"] || got["4243"] != want["4243"] {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestSelf reads the test's own process: its figures must be there and
// plausible, an open file and a listening socket must show among its
// descriptors.
func TestSelf(t *testing.T) {
	pid := os.Getpid()
	st, err := ReadStat(pid)
	if err != nil {
		t.Fatal(err)
	}
	if st.PID != pid || st.PPID != os.Getppid() {
		t.Errorf("stat %+v: want pid %d, ppid %d", st, pid, os.Getppid())
	}
	status, err := ReadStatus(pid)
	if err != nil {
		t.Fatal(err)
	}
	if status.Threads < 1 || status.RSS <= 0 {
		t.Errorf("status %+v: want threads and RSS", status)
	}
	pss, err := ReadPSS(pid)
	if err != nil {
		t.Fatal(err)
	}
	// The process grows between two reads (under qemu by tens of KiB), so
	// PSS is held against the RSS read after it.
	after, err := ReadStatus(pid)
	if err != nil {
		t.Fatal(err)
	}
	if pss <= 0 || pss > after.RSS {
		t.Errorf("PSS %d, RSS after it %d: want 0 < PSS <= RSS", pss, after.RSS)
	}
	if SelfCPU() <= 0 {
		t.Error("no CPU time for the test itself")
	}
	if busy, err := MachineBusy(); err != nil || busy <= 0 {
		t.Errorf("machine busy %v, %v", busy, err)
	}
	SoftirqCPU() // may be 0 in a container; it must just not fail

	f, err := os.Create(filepath.Join(t.TempDir(), "open.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	n, err := CountFDs(pid)
	if err != nil || n < 5 {
		t.Errorf("%d FDs (%v): want at least stdin, stdout, stderr, a file and a socket", n, err)
	}
	targets, err := FDTargets(pid)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(targets, f.Name()) {
		t.Errorf("FD targets %q lack %s", targets, f.Name())
	}
	port := l.Addr().(*net.TCPAddr).Port
	sockets := TCPSockets(pid)
	found := false
	for _, target := range targets {
		if inode, ok := SocketInode(target); ok && sockets[inode] == (Socket{port, "LISTEN"}) {
			found = true
		}
	}
	if !found {
		t.Errorf("no descriptor is the socket listening on port %d: %q", port, targets)
	}
	if _, ok := SocketInode(f.Name()); ok {
		t.Errorf("%s taken for a socket", f.Name())
	}
}

// TestTree runs a child and finds it in the test's process tree.
func TestTree(t *testing.T) {
	cmd := exec.Command(testtool.Need(t, "sleep"), "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	self := os.Getpid()
	tree, err := Tree(self)
	if err != nil {
		t.Fatal(err)
	}
	pids := PIDs(tree)
	if pids[0] != self {
		t.Errorf("tree %v does not start with the root %d", pids, self)
	}
	i := slices.Index(pids, cmd.Process.Pid)
	if i < 0 {
		t.Fatalf("tree %v lacks the child %d", pids, cmd.Process.Pid)
	}
	if tree[i].PPID != self {
		t.Errorf("child's ppid %d, want %d", tree[i].PPID, self)
	}
	cpu, err := TreeCPU(self)
	if err != nil || cpu < tree[0].CPU {
		t.Errorf("tree CPU %v (%v), less than the root's own %v", cpu, err, tree[0].CPU)
	}
	if _, err := Tree(gonePID); err == nil {
		t.Error("the tree of a process that does not exist")
	}
}

func TestSumPSS(t *testing.T) {
	self := os.Getpid()
	total, n, err := SumPSS([]int{self, gonePID})
	if err != nil || n != 1 || total <= 0 {
		t.Errorf("SumPSS(self, gone) = %d, %d, %v; want the PSS of 1 process", total, n, err)
	}
	if _, _, err := SumPSS([]int{gonePID, self}); err == nil {
		t.Error("SumPSS with the first process gone: no error")
	}
	for _, read := range []func() error{
		func() error { _, err := ReadStat(gonePID); return err },
		func() error { _, err := ReadStatus(gonePID); return err },
		func() error { _, err := CountFDs(gonePID); return err },
		func() error { _, err := FDTargets(gonePID); return err },
	} {
		if err := read(); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("reading a process that does not exist: %v, want not-exist", err)
		}
	}
	if got := TCPSockets(gonePID); len(got) != 0 {
		t.Errorf("sockets of a process that does not exist: %v", got)
	}
}

func TestLoadOthers(t *testing.T) {
	t0 := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	then := Load{at: t0, busy: 100 * time.Second, self: 2 * time.Second, softirq: time.Second}
	// 10 s on 4 CPUs: 40 CPU-seconds. Busy 20 s more, of which the bench
	// 5 s, ksoftirqd 1 s, the measured servers 4 s: others 10 s, a quarter.
	now := Load{at: t0.Add(10 * time.Second), busy: 120 * time.Second, self: 7 * time.Second, softirq: 2 * time.Second}
	if got := then.others(now, 4*time.Second, 4); got != 0.25 {
		t.Errorf("others = %v, want 0.25", got)
	}
	// More counted for the bench than the machine was busy: none, not less.
	if got := then.others(now, 30*time.Second, 4); got != 0 {
		t.Errorf("others = %v, want 0", got)
	}
	if got := (Load{at: t0}).others(now, 0, 4); got != -1 {
		t.Errorf("others without /proc/stat at the start = %v, want -1", got)
	}
	if runtime.GOOS == "linux" {
		if got := TakeLoad().Others(0); got < 0 {
			t.Errorf("Others on Linux = %v, want a share", got)
		}
	}
}
