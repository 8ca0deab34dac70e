package ssdp

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/mcast/mcasttest"
	"github.com/mediaftpd/mediaftpd/internal/netif"
	"github.com/mediaftpd/mediaftpd/internal/testtool"
)

// fakeTransport records what Run does with its socket; no socket is
// opened. It reports 3 datagrams dropped.
type fakeTransport struct {
	*mcasttest.Transport[inPacket, outPacket]
}

func (fakeTransport) overflowed() uint64 { return 3 }

// sentWith returns the packets sent so far whose text contains s.
func (f fakeTransport) sentWith(s string) []outPacket {
	var out []outPacket
	for _, p := range f.Sent() {
		if strings.Contains(string(p.data), s) {
			out = append(out, p)
		}
	}
	return out
}

func testServer() *Server {
	log, _ := mcasttest.Logger()
	return &Server{
		UDN:          testUDN,
		DeviceType:   mediaServer,
		ServiceTypes: []string{contentDir, connMgr, registrar},
		Location:     testLocation,
		ServerHeader: serverHeader,
		Logger:       log,
		PollInterval: 20 * time.Millisecond,
	}
}

// startFake runs s with fake interfaces and transport until the test
// ends; stop ends Run and returns its error.
func startFake(t *testing.T, s *Server, ifs *mcasttest.Interfaces) (tr fakeTransport, stop func() error) {
	t.Helper()
	tr = fakeTransport{&mcasttest.Transport[inPacket, outPacket]{}}
	s.listInterfaces = ifs.List
	s.openTransport = func(in chan<- inPacket, log *slog.Logger) (transport, error) {
		tr.Open(in, log)
		return tr, nil
	}
	return tr, mcasttest.Start(t, nil, s.Run)
}

func TestNilServerIsDisabled(t *testing.T) {
	var s *Server
	if st := s.Status(); st.Enabled {
		t.Errorf("nil server status %+v", st)
	}
}

func TestRunRejectsBadFields(t *testing.T) {
	for _, c := range []struct {
		what string
		set  func(s *Server)
	}{
		{"no UDN", func(s *Server) { s.UDN = "" }},
		{"UDN without uuid:", func(s *Server) { s.UDN = strings.TrimPrefix(testUDN, "uuid:") }},
		{"UDN not a UUID", func(s *Server) { s.UDN = "uuid:living-room" }},
		{"UDN with CRLF", func(s *Server) { s.UDN = testUDN + "\r\nX: y" }},
		{"no device type", func(s *Server) { s.DeviceType = "" }},
		{"device type without version", func(s *Server) { s.DeviceType = "urn:schemas-upnp-org:device:MediaServer" }},
		{"service as device type", func(s *Server) { s.DeviceType = contentDir }},
		{"device as service type", func(s *Server) { s.ServiceTypes = []string{mediaServer} }},
		{"service type version 0", func(s *Server) { s.ServiceTypes = []string{"urn:schemas-upnp-org:service:ContentDirectory:0"} }},
		{"service type twice", func(s *Server) { s.ServiceTypes = []string{contentDir, contentDir} }},
		{"service type with space", func(s *Server) { s.ServiceTypes = []string{"urn:schemas-upnp-org:service:Content Directory:1"} }},
		{"no Location", func(s *Server) { s.Location = nil }},
		{"SERVER with CRLF", func(s *Server) { s.ServerHeader = "x\r\ny" }},
		{"negative max-age", func(s *Server) { s.MaxAge = -time.Second }},
		{"max-age under a second", func(s *Server) { s.MaxAge = time.Millisecond }},
		{"negative interval", func(s *Server) { s.NotifyInterval = -time.Second }},
		{"interval not under half the max-age", func(s *Server) { s.NotifyInterval = 900 * time.Second }},
		{"interval over the short max-age", func(s *Server) { s.MaxAge = 100 * time.Second }},
		{"CONFIGID too big", func(s *Server) { s.ConfigID = MaxConfigID + 1 }},
		{"CONFIGID negative", func(s *Server) { s.ConfigID = -1 }},
	} {
		s := testServer()
		c.set(s)
		s.listInterfaces = func([]string) ([]netif.Interface, []string, error) {
			t.Fatalf("%s: Run went on", c.what)
			return nil, nil, nil
		}
		if err := s.Run(context.Background()); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Run returned %v", c.what, err)
		}
	}
	// The defaults and the Microsoft registrar's domain are fine.
	s := testServer()
	d, err := s.check(1)
	if err != nil || d.maxAge != DefaultMaxAge || d.interval != DefaultNotifyInterval || d.allow == nil {
		t.Errorf("check: %+v, %v", d, err)
	}
	s.ServerHeader = ""
	if d, _ := s.check(1); d.server != DefaultServerHeader {
		t.Errorf("default SERVER %q", d.server)
	}
}

// TestRunWithoutInterface: Run keeps waiting for an interface and says
// why in the status.
func TestRunWithoutInterface(t *testing.T) {
	s := testServer()
	ifs := &mcasttest.Interfaces{}
	ifs.Set(nil, "interface eth9 does not exist")
	tr, stop := startFake(t, s, ifs)
	testtool.WaitFor(t, "a status", func() bool { return s.Status().LastError != "" })
	if st := s.Status(); !strings.Contains(st.LastError, ErrNoInterface.Error()) || !strings.Contains(st.LastError, "eth9") || st.Announcing {
		t.Errorf("status %+v", st)
	}
	// The interface gets its address: announced.
	ifs.Set([]netif.Interface{eth0})
	testtool.WaitFor(t, "announcing", func() bool { return s.Status().Announcing })
	if st := s.Status(); st.LastError != "" || len(st.Interfaces) != 1 || st.Interfaces[0].Location != testLocation(ip("192.168.1.20")) {
		t.Errorf("status %+v", st)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if len(tr.sentWith("ssdp:byebye")) != 2*6 {
		t.Errorf("sent %d byebye", len(tr.sentWith("ssdp:byebye")))
	}
}

// TestRunLifecycle: Run announces on the interfaces, answers a search,
// follows interface changes and says byebye twice when its context ends.
func TestRunLifecycle(t *testing.T) {
	s := testServer()
	s.NotifyInterval = time.Hour
	s.MaxAge = 3 * time.Hour
	ifs := &mcasttest.Interfaces{}
	ifs.Set([]netif.Interface{eth0})
	tr, stop := startFake(t, s, ifs)
	testtool.WaitFor(t, "the start-up pair", func() bool { return len(tr.sentWith("ssdp:alive")) == 12 })

	tr.In() <- inPacket{ifIndex: eth0.Index, src: tv, dst: mcGroup, data: msearch(registrar, "1")}
	testtool.WaitFor(t, "the reply", func() bool { return len(tr.sentWith("HTTP/1.1 200 OK")) == 1 })
	if r := tr.sentWith("HTTP/1.1 200 OK")[0]; r.dst != tv || !strings.Contains(string(r.data), "ST: "+registrar+"\r\n") {
		t.Errorf("reply %v %q", r.dst, r.data)
	}
	testtool.WaitFor(t, "the counters", func() bool {
		st := s.Status()
		return st.Searches == 1 && st.Answered == 1 && st.Replies == 1
	})

	ifs.Set([]netif.Interface{eth0, wlan0})
	testtool.WaitFor(t, "wlan0 announced", func() bool {
		return len(tr.sentWith("LOCATION: http://10.0.0.7:8200/rootDesc.xml")) == 12
	})
	if joined := len(tr.Joined()); joined != 2 {
		t.Errorf("joined %d interfaces", joined)
	}
	ifs.Set([]netif.Interface{wlan0})
	testtool.WaitFor(t, "eth0 left", func() bool {
		left := tr.Left()
		return len(left) == 1 && left[0] == eth0.Index
	})

	st := s.Status()
	if !st.Announcing || st.UDN != testUDN || st.BootID < 1700000000 || st.Notifies != 24 || st.Dropped.RateLimited != 3 {
		t.Errorf("status %+v", st)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	bye := tr.sentWith("ssdp:byebye")
	if len(bye) != 2*6 {
		t.Fatalf("sent %d byebye, want the set on wlan0 twice", len(bye))
	}
	for _, p := range bye {
		if p.ifIndex != wlan0.Index {
			t.Errorf("byebye on %d", p.ifIndex)
		}
	}
	if !tr.Closed() {
		t.Error("transport not closed")
	}
	if st := s.Status(); st.Announcing || len(st.Interfaces) != 0 || !st.Enabled {
		t.Errorf("status after Run: %+v", st)
	}
}

// TestDefaultAllow is the rule written out.
func TestDefaultAllow(t *testing.T) {
	for a, want := range map[string]bool{
		"10.0.0.1": true, "172.16.0.1": true, "192.168.0.1": true, "169.254.0.1": true, "127.0.0.1": true,
		"8.8.8.8": false, "100.64.0.1": false, "224.0.0.1": false, "0.0.0.0": false, "255.255.255.255": false,
	} {
		if got := defaultAllow(netip.MustParseAddr(a)); got != want {
			t.Errorf("defaultAllow(%s) = %v", a, got)
		}
	}
}
