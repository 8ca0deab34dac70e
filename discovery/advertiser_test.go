package discovery

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/mcast"
	"github.com/mediaftpd/mediaftpd/internal/mcast/mcasttest"
	"github.com/mediaftpd/mediaftpd/internal/netif"
)

// fakeTransport records what Run does with its sockets; no socket is
// opened.
type fakeTransport = mcasttest.Transport[inPacket, outPacket]

// startFake runs a with fake interfaces and transport until the test ends.
func startFake(t *testing.T, a *Advertiser, ifs *mcasttest.Interfaces) (tr *fakeTransport, stop func() error) {
	t.Helper()
	tr = &fakeTransport{}
	a.listInterfaces = ifs.List
	a.openTransport = tr.Open
	return tr, mcasttest.Start(t, nil, a.Run)
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
		a.openTransport = func(chan<- inPacket, *slog.Logger) (mcast.Transport[outPacket], error) {
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
	log, buf := mcasttest.Logger()
	ifs := &mcasttest.Interfaces{}
	ifs.Set(nil, "interface wlan1 does not exist")
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
	if sent := len(tr.Sent()); sent != 0 {
		t.Errorf("sent %d packets", sent)
	}

	ifs.Set([]netif.Interface{eth0})
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
	log, _ := mcasttest.Logger()
	ifs := &mcasttest.Interfaces{}
	ifs.Set([]netif.Interface{eth0, wlan0})
	a := &Advertiser{Name: "Living Room Media", Host: "pi-mediaftpd", Services: []Service{FTP(21), HTTP(8021)}, Logger: log, PollInterval: 10 * time.Millisecond}
	tr, stop := startFake(t, a, ifs)
	awaitStatus(t, a, "advertising on both", func(st Status) bool {
		return st.Advertising && len(st.Interfaces) == 2 && st.Interfaces[0].State != "probing" && st.Interfaces[1].State != "probing"
	})
	ifs.Set([]netif.Interface{eth0})
	st := awaitStatus(t, a, "advertising on eth0 only", func(st Status) bool { return len(st.Interfaces) == 1 })
	if st.Interfaces[0].Name != "eth0" || st.Interfaces[0].Addrs[0].String() != "192.168.1.20" {
		t.Errorf("status %+v", st)
	}

	start := time.Now()
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	t.Logf("Run returned %v after cancel", time.Since(start))
	if left := tr.Left(); !tr.Closed() || len(left) != 1 || left[0] != wlan0.Index {
		t.Errorf("closed %v, left %v", tr.Closed(), left)
	}
	sent := tr.Sent()
	n := len(sent)
	if n < 2 {
		t.Fatalf("sent %d packets", n)
	}
	for _, p := range sent[n-2:] {
		if !p.msg.Response || p.ifIndex != eth0.Index || len(p.msg.Answer) == 0 {
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
