package discovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeTransport records what Run does with its sockets; no socket is
// opened.
type fakeTransport struct {
	mu     sync.Mutex
	joined map[int]bool
	left   []int
	sent   []outPacket
	closed bool
}

func (f *fakeTransport) join(info ifaceInfo) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.joined[info.index] = true
	return nil
}

func (f *fakeTransport) leave(index int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.joined, index)
	f.left = append(f.left, index)
}

func (f *fakeTransport) send(p outPacket) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, p)
	return nil
}

func (f *fakeTransport) close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	return nil
}

// fakeInterfaces is a settable interface list.
type fakeInterfaces struct {
	mu       sync.Mutex
	list     []ifaceInfo
	problems []string
}

func (f *fakeInterfaces) set(list []ifaceInfo, problems ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.list, f.problems = list, problems
}

func (f *fakeInterfaces) get([]string) ([]ifaceInfo, []string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.list, f.problems, nil
}

// startFake runs a with fake interfaces and transport until the test ends.
func startFake(t *testing.T, a *Advertiser, ifs *fakeInterfaces) (tr *fakeTransport, stop func() error) {
	t.Helper()
	tr = &fakeTransport{joined: map[int]bool{}}
	a.listInterfaces = ifs.get
	a.openTransport = func(chan<- inPacket, *slog.Logger) (transport, error) { return tr, nil }
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- a.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-ran:
			case <-time.After(5 * time.Second):
				err = errors.New("Run did not return")
			}
		})
		return err
	}
	t.Cleanup(func() { stop() })
	return tr, stop
}

func awaitStatus(t *testing.T, a *Advertiser, what string, ok func(Status) bool) Status {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := a.Status()
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("status never %s; last: %+v", what, st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestNilAdvertiserIsDisabled(t *testing.T) {
	var a *Advertiser
	if st := a.Status(); st.Enabled || st.Advertising {
		t.Errorf("nil Advertiser status %+v", st)
	}
}

func TestRunRejectsBadFields(t *testing.T) {
	for _, a := range []*Advertiser{
		{Services: []Service{FTP(21)}},
		{Name: "  ", Services: []Service{FTP(21)}},
		{Name: "x\x01y", Services: []Service{FTP(21)}},
		{Name: "bad \xff", Services: []Service{FTP(21)}},
		{Name: "Media"},
		{Name: "Media", Services: []Service{FTP(0)}},
		{Name: "Media", Services: []Service{FTP(70000)}},
		{Name: "Media", Services: []Service{{Type: "ftp._tcp", Port: 21}}},
		{Name: "Media", Services: []Service{{Type: "_ftp._sctp", Port: 21}}},
		{Name: "Media", Services: []Service{{Type: "_much-too-long-name._tcp", Port: 21}}},
		{Name: "Media", Services: []Service{FTP(21), FTP(2121)}},
		{Name: "Media", Services: []Service{{Type: "_ftp._tcp", Port: 21, Text: []string{strings.Repeat("x", 256)}}}},
		{Name: "Media", Host: "pi.local", Services: []Service{FTP(21)}},
	} {
		a.openTransport = func(chan<- inPacket, *slog.Logger) (transport, error) {
			t.Fatal("opened sockets")
			return nil, nil
		}
		if err := a.Run(context.Background()); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: Run = %v, want ErrInvalid", a, err)
		}
	}
}

// TestRunWithoutInterface: with no usable interface (a Pi before its DHCP
// lease), Run logs it once, shows it in Status, opens no socket, keeps
// waiting, and returns nil when cancelled; it advertises once an
// interface appears.
func TestRunWithoutInterface(t *testing.T) {
	log, buf := testLogger()
	ifs := &fakeInterfaces{}
	ifs.set(nil, "interface wlan1 does not exist")
	a := &Advertiser{Name: "Living Room Media", Host: "pi-mediaftpd", Services: []Service{FTP(21)}, Logger: log, PollInterval: 10 * time.Millisecond}
	tr, stop := startFake(t, a, ifs)
	st := awaitStatus(t, a, "reporting the problem", func(st Status) bool { return st.LastError != "" })
	if !st.Enabled || st.Advertising || !strings.Contains(st.LastError, ErrNoInterface.Error()) || !strings.Contains(st.LastError, "wlan1 does not exist") {
		t.Errorf("status %+v", st)
	}
	time.Sleep(100 * time.Millisecond) // ten polls
	if n := strings.Count(buf.String(), "level=WARN"); n != 1 {
		t.Errorf("%d warnings, want 1:\n%s", n, buf)
	}
	tr.mu.Lock()
	sent := len(tr.sent)
	tr.mu.Unlock()
	if sent != 0 {
		t.Errorf("sent %d packets", sent)
	}

	ifs.set([]ifaceInfo{eth0})
	st = awaitStatus(t, a, "advertising", func(st Status) bool { return st.Advertising })
	if st.LastError != "" || len(st.Interfaces) != 1 || st.Interfaces[0].Name != "eth0" {
		t.Errorf("status %+v", st)
	}
	if !strings.Contains(buf.String(), "mDNS: problem solved") {
		t.Errorf("log:\n%s", buf)
	}
	if err := stop(); err != nil {
		t.Errorf("Run: %v", err)
	}
}

// TestRunLifecycle: probes, announcements, then on cancel goodbyes with
// TTL 0 (twice) before Run returns; interfaces that go away are left.
func TestRunLifecycle(t *testing.T) {
	log, _ := testLogger()
	ifs := &fakeInterfaces{}
	ifs.set([]ifaceInfo{eth0, wlan0})
	a := &Advertiser{Name: "Living Room Media", Host: "pi-mediaftpd", Services: []Service{FTP(21), HTTP(8021)}, Logger: log, PollInterval: 10 * time.Millisecond}
	tr, stop := startFake(t, a, ifs)
	awaitStatus(t, a, "advertising on both", func(st Status) bool {
		return st.Advertising && len(st.Interfaces) == 2 && st.Interfaces[0].State != "probing" && st.Interfaces[1].State != "probing"
	})
	ifs.set([]ifaceInfo{eth0})
	st := awaitStatus(t, a, "advertising on eth0 only", func(st Status) bool { return len(st.Interfaces) == 1 })
	if st.Interfaces[0].Name != "eth0" || st.Interfaces[0].Addrs[0].String() != "192.168.1.20" {
		t.Errorf("status %+v", st)
	}

	start := time.Now()
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	t.Logf("Run returned %v after cancel", time.Since(start))
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if !tr.closed || len(tr.left) != 1 || tr.left[0] != wlan0.index {
		t.Errorf("closed %v, left %v", tr.closed, tr.left)
	}
	n := len(tr.sent)
	if n < 2 {
		t.Fatalf("sent %d packets", n)
	}
	for _, p := range tr.sent[n-2:] {
		if !p.msg.Response || p.ifIndex != eth0.index || len(p.msg.Answer) == 0 {
			t.Fatalf("not a goodbye: %s", p.msg)
		}
		for _, rr := range p.msg.Answer {
			if rr.Header().Ttl != 0 {
				t.Errorf("goodbye record with TTL %d: %s", rr.Header().Ttl, rr)
			}
		}
	}
	if st := a.Status(); st.Advertising || len(st.Interfaces) != 0 || st.Name != "Living Room Media" {
		t.Errorf("status after Run: %+v", st)
	}
}

// TestSystemInterfacesMissing only reads the machine's interface list: a
// named interface that does not exist is reported, not an error.
func TestSystemInterfacesMissing(t *testing.T) {
	name := fmt.Sprintf("nosuch%d", os.Getpid()%100000)
	list, problems, err := systemInterfaces([]string{name})
	if err != nil || len(list) != 0 || len(problems) != 1 || problems[0] != "interface "+name+" does not exist" {
		t.Errorf("got %v, %q, %v", list, problems, err)
	}
}
