package ssdp

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"

	"github.com/mediaftpd/mediaftpd/internal/mcast/mcasttest"
	"github.com/mediaftpd/mediaftpd/internal/netlab"
	"github.com/mediaftpd/mediaftpd/internal/testtool"
)

// The lab tests build a network of two namespaces (internal/netlab),
// each made by the test and removed by its cleanup: the server's
// ("h2-<pid>-<n>-srv", veth h2v0 at 10.99.13.1/24) and the client's
// ("h2-<pid>-<n>-cli", veth h2v1 at 10.99.13.2/24 and 10.99.13.3/24),
// the veth pair created directly inside them, never in the test
// machine's own namespace. The Server runs in this process on a
// goroutine locked to an OS thread that entered the server's namespace
// (netlab.Lab.GoIn); Go clients do the same in the client's;
// gssdp-discover runs there with "ip netns exec".

const (
	srvIf   = "h2v0"
	cliIf   = "h2v1"
	srvAddr = "10.99.13.1"
	cliAddr = "10.99.13.2"
	cliAlt  = "10.99.13.3" // a second source in the client namespace
)

// lab is the namespaces of one test.
type lab struct {
	*netlab.Lab
	t        *testing.T
	srv, cli string
}

// newLab makes the two namespaces joined by the veth pair; it skips the
// test (fails it under CI) unless that can be done.
func newLab(t *testing.T) *lab {
	t.Helper()
	l := netlab.New(t, "h2")
	srv, cli := l.Pair(srvIf, srvAddr+"/24", cliIf, cliAddr+"/24")
	l.Run(cli, "ip", "addr", "add", cliAlt+"/24", "dev", cliIf)
	return &lab{Lab: l, t: t, srv: srv, cli: cli}
}

// labServer is the Server the lab tests run: mediaftpd's device and
// services, as testServer, polling the interfaces every 100 ms.
func labServer() *Server {
	s := testServer()
	s.PollInterval = 100 * time.Millisecond
	return s
}

// startServer runs s in the server's namespace until the test ends;
// stop ends Run and returns its error.
func (l *lab) startServer(s *Server) (stop func() error) {
	l.t.Helper()
	stop = mcasttest.Start(l.t, func(f func()) { l.GoIn(l.t, l.srv, f) }, s.Run)
	testtool.WaitFor(l.t, "the server announcing", func() bool { return s.Status().Announcing })
	return stop
}

// received is a datagram a client got.
type received struct {
	at   time.Time
	from netip.AddrPort
	m    *message
}

// socket is a UDP socket in the client's namespace.
type socket struct {
	c  *ipv4.PacketConn
	mu sync.Mutex
	rx []received
}

// socket opens a UDP socket on laddr in the client's namespace, sending
// multicast out of h2v1, and starts collecting what it receives; with
// join it joins the SSDP group on h2v1 too (with SO_REUSEADDR, to listen
// on port 1900).
func (l *lab) socket(t testing.TB, laddr string, join bool) *socket {
	t.Helper()
	var s *socket
	var err error
	l.In(t, l.cli, func() {
		lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
			var serr error
			c.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1) })
			return serr
		}}
		var c net.PacketConn
		if c, err = lc.ListenPacket(context.Background(), "udp4", laddr); err != nil {
			return
		}
		var ifi *net.Interface
		if ifi, err = net.InterfaceByName(cliIf); err != nil {
			c.Close()
			return
		}
		s = &socket{c: ipv4.NewPacketConn(c)}
		err = s.c.SetMulticastInterface(ifi)
		if err == nil && join {
			err = s.c.JoinGroup(ifi, &net.UDPAddr{IP: group.Addr().AsSlice()})
		}
		if err != nil {
			c.Close()
		}
	})
	if err != nil {
		t.Fatalf("client socket on %s: %v", laddr, err)
	}
	t.Cleanup(func() { s.c.Close() })
	go func() {
		buf := make([]byte, 9000)
		for {
			n, _, from, err := s.c.ReadFrom(buf)
			if err != nil {
				return
			}
			m, perr := parse(buf[:n])
			if perr != nil {
				continue
			}
			r := received{at: time.Now(), m: m}
			if ua, ok := from.(*net.UDPAddr); ok {
				r.from = ua.AddrPort()
				r.from = netip.AddrPortFrom(r.from.Addr().Unmap(), r.from.Port())
			}
			s.mu.Lock()
			s.rx = append(s.rx, r)
			s.mu.Unlock()
		}
	}()
	return s
}

// got returns what the socket received so far for which keep holds.
func (s *socket) got(keep func(received) bool) []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []received
	for _, r := range s.rx {
		if keep == nil || keep(r) {
			out = append(out, r)
		}
	}
	return out
}

func (s *socket) send(t *testing.T, data []byte, to string) {
	t.Helper()
	if _, err := s.c.WriteTo(data, nil, net.UDPAddrFromAddrPort(netip.MustParseAddrPort(to))); err != nil {
		t.Fatalf("sending to %s: %v", to, err)
	}
}

func isNotify(nts string) func(received) bool {
	return func(r received) bool { return r.m.method == "NOTIFY" && r.m.header["NTS"] == nts }
}

func isReply(r received) bool { return r.m.method == "" && r.m.status == 200 }

// gssdpDiscover is gssdp-discover running in the client's namespace
// with line-buffered output.
type gssdpDiscover struct{ *netlab.Proc }

func (l *lab) gssdpDiscover(args ...string) gssdpDiscover {
	l.t.Helper()
	testtool.Need(l.t, "gssdp-discover")
	testtool.Need(l.t, "stdbuf")
	return gssdpDiscover{l.Start("gssdp-discover", l.cli, nil, append([]string{"stdbuf", "-oL", "gssdp-discover"}, args...)...)}
}

// seen returns the USNs gssdp-discover reported available (or not), each
// with its location, from what it printed so far: a line "resource
// available" or "resource unavailable", then indented "USN:" and
// "Location:" lines.
func (g gssdpDiscover) seen(available bool) map[string]string {
	type resource struct {
		available     bool
		usn, location string
	}
	var all []resource
	for _, line := range strings.Split(g.Output(), "\n") {
		switch {
		case line == "resource available":
			all = append(all, resource{available: true})
		case line == "resource unavailable":
			all = append(all, resource{})
		case len(all) > 0 && strings.HasPrefix(line, "  USN:"):
			all[len(all)-1].usn = strings.TrimSpace(strings.TrimPrefix(line, "  USN:"))
		case len(all) > 0 && strings.HasPrefix(line, "  Location:"):
			all[len(all)-1].location = strings.TrimSpace(strings.TrimPrefix(line, "  Location:"))
		}
	}
	m := map[string]string{}
	for _, r := range all {
		if r.available == available && r.usn != "" {
			m[r.usn] = r.location
		}
	}
	return m
}

// allUSNs are the USNs the lab server announces.
func allUSNs() []string {
	var out []string
	d := testDevice()
	for _, n := range d.notifications() {
		out = append(out, n.usn)
	}
	return out
}

// TestLabGssdpDiscover: GSSDP's gssdp-discover, started before the
// server, learns of every USN from our NOTIFY ssdp:alive with the right
// LOCATION, and of their end from our byebye; a Go listener on the group
// checks the NOTIFY messages themselves.
func TestLabGssdpDiscover(t *testing.T) {
	l := newLab(t)
	listener := l.socket(t, "0.0.0.0:1900", true)
	g := l.gssdpDiscover("-i", cliIf, "-m", "all", "-n", "60")
	// gssdp-discover sends three M-SEARCH 500 ms apart when it starts:
	// once they are out, what it learns comes from our NOTIFY.
	testtool.WaitFor(t, "gssdp-discover's three searches", func() bool {
		return len(listener.got(func(r received) bool { return r.m.method == "M-SEARCH" })) >= 3
	})
	s := labServer()
	stop := l.startServer(s)
	testtool.WaitFor(t, "gssdp-discover seeing every USN", func() bool { return len(g.seen(true)) >= len(allUSNs()) })
	loc := testLocation(netip.MustParseAddr(srvAddr))
	seen := g.seen(true)
	for _, usn := range allUSNs() {
		if l, ok := seen[usn]; !ok || l != loc {
			t.Errorf("gssdp-discover: %s at %q, want %s", usn, l, loc)
		}
	}
	if len(seen) != len(allUSNs()) {
		t.Errorf("gssdp-discover saw %d resources: %v", len(seen), seen)
	}
	if st := s.Status(); st.Answered != 0 {
		t.Errorf("the server answered %d searches; gssdp-discover should have learnt from NOTIFY alone", st.Answered)
	}
	testtool.WaitFor(t, "both copies of the NOTIFY set", func() bool {
		return len(listener.got(isNotify("ssdp:alive"))) >= 2*len(allUSNs())
	})
	alive := listener.got(isNotify("ssdp:alive"))
	for _, r := range alive {
		h := r.m.header
		if r.from != netip.MustParseAddrPort(srvAddr+":1900") || h["LOCATION"] != loc || h["CACHE-CONTROL"] != "max-age=1800" ||
			h["SERVER"] != serverHeader || h["HOST"] != "239.255.255.250:1900" || h["BOOTID.UPNP.ORG"] == "" {
			t.Errorf("NOTIFY from %v: %v", r.from, h)
		}
	}
	// The gap between the copies is the engine's (TestAliveSchedule);
	// here it is only logged, since a busy machine may delay reading.
	gap := alive[len(allUSNs())].at.Sub(alive[0].at)

	if err := stop(); err != nil {
		t.Fatal(err)
	}
	testtool.WaitFor(t, "gssdp-discover seeing every USN go", func() bool { return len(g.seen(false)) >= len(allUSNs()) })
	gone := g.seen(false)
	for _, usn := range allUSNs() {
		if _, ok := gone[usn]; !ok {
			t.Errorf("gssdp-discover did not see %s go", usn)
		}
	}
	testtool.WaitFor(t, "both copies of the byebye set", func() bool {
		return len(listener.got(isNotify("ssdp:byebye"))) >= 2*len(allUSNs())
	})
	t.Logf("gssdp-discover saw %d resources come and %d go; the listener got %d alive (the copies %v apart) and %d byebye",
		len(seen), len(gone), len(alive), gap.Round(time.Millisecond), len(listener.got(isNotify("ssdp:byebye"))))
}

// TestLabSearch: a Go control point in the client's namespace searches
// the way TVs do; what is answered gets the right replies, what is not
// gets nothing.
func TestLabSearch(t *testing.T) {
	l := newLab(t)
	s := labServer()
	s.ServiceTypes = append(s.ServiceTypes, "urn:schemas-upnp-org:service:ScheduledRecording:2")
	l.startServer(s)
	loc := testLocation(netip.MustParseAddr(srvAddr))
	all := []string{"upnp:rootdevice", testUDN, mediaServer, contentDir, connMgr, registrar, "urn:schemas-upnp-org:service:ScheduledRecording:2"}
	mc := group.String()
	for _, c := range []struct {
		what string
		data []byte
		to   string
		want []string // the ST of each reply expected
	}{
		{"ssdp:all", msearch("ssdp:all", "1"), mc, all},
		{"root device", msearch("upnp:rootdevice", "1"), mc, []string{"upnp:rootdevice"}},
		{"uuid", msearch(testUDN, "1"), mc, []string{testUDN}},
		{"device type", msearch(mediaServer, "1"), mc, []string{mediaServer}},
		{"registrar", msearch(registrar, "2"), mc, []string{registrar}},
		{"lower version", msearch("urn:schemas-upnp-org:service:ScheduledRecording:1", "1"), mc, []string{"urn:schemas-upnp-org:service:ScheduledRecording:1"}},
		{"higher version", msearch("urn:schemas-upnp-org:service:ScheduledRecording:3", "1"), mc, nil},
		{"another device type", msearch("urn:schemas-upnp-org:device:MediaRenderer:1", "1"), mc, nil},
		{"bad MX", msearch("ssdp:all", "x"), mc, nil},
		{"no MX", msearch("ssdp:all", ""), mc, nil},
		{"unicast without MX", msearch("upnp:rootdevice", ""), srvAddr + ":1900", []string{"upnp:rootdevice"}},
	} {
		t.Run(c.what, func(t *testing.T) {
			t.Parallel()
			sock := l.socket(t, cliAddr+":0", false)
			sent := time.Now()
			sock.send(t, c.data, c.to)
			if len(c.want) > 0 {
				testtool.WaitFor(t, "the replies", func() bool { return len(sock.got(isReply)) >= len(c.want) })
			}
			// Absence can only be awaited: any reply comes within MX,
			// at most 2 s here.
			time.Sleep(2500*time.Millisecond - time.Since(sent))
			var got []string
			for _, r := range sock.got(isReply) {
				h := r.m.header
				got = append(got, h["ST"])
				wantUSN := testUDN + "::" + h["ST"]
				if h["ST"] == testUDN {
					wantUSN = testUDN
				}
				if r.from != netip.MustParseAddrPort(srvAddr+":1900") || h["LOCATION"] != loc || h["USN"] != wantUSN ||
					h["SERVER"] != serverHeader || h["CACHE-CONTROL"] != "max-age=1800" || h["DATE"] == "" || h["BOOTID.UPNP.ORG"] == "" {
					t.Errorf("reply from %v: %v", r.from, h)
				}
				if _, ok := h["EXT"]; !ok {
					t.Errorf("reply without EXT: %v", h)
				}
			}
			if fmt.Sprint(sortedCopy(got)) != fmt.Sprint(sortedCopy(c.want)) {
				t.Errorf("replies %v, want %v", got, c.want)
			}
		})
	}
	t.Cleanup(func() {
		st := s.Status()
		t.Logf("status: %+v", st)
		if st.Dropped.Malformed < 2 {
			t.Errorf("malformed count %d, want the searches with bad and no MX", st.Dropped.Malformed)
		}
	})
}

func sortedCopy(s []string) []string { return slices.Sorted(slices.Values(s)) }

// TestLabFlood: thousands of M-SEARCH from the client's namespace, first
// paced (5000 over about a second) and then all at once, get a bounded
// number of replies; the server's goroutines stay as they were; another
// source is answered during the paced flood and after the burst.
func TestLabFlood(t *testing.T) {
	l := newLab(t)
	s := labServer()
	l.startServer(s)
	base := runtime.NumGoroutine()

	const floodSockets, perSocket = 20, 250 // 5000 searches a phase
	var socks []*socket
	for range floodSockets {
		socks = append(socks, l.socket(t, cliAddr+":0", false))
	}
	other := l.socket(t, cliAlt+":0", false)
	maxGoroutines := 0
	flood := func(paced bool) {
		for i := range perSocket {
			for _, sock := range socks {
				st := "ssdp:all"
				if i%2 == 1 {
					st = mediaServer
				}
				sock.send(t, msearch(st, "1"), group.String())
			}
			if i%25 == 0 {
				maxGoroutines = max(maxGoroutines, runtime.NumGoroutine())
			}
			if paced && i == perSocket/2 {
				other.send(t, msearch("upnp:rootdevice", "1"), group.String())
			}
			if paced {
				time.Sleep(4 * time.Millisecond) // pacing, not waiting: 20 searches every 4 ms
			}
		}
	}

	start := time.Now()
	flood(true)
	paced := time.Since(start)
	testtool.WaitFor(t, "the other source's reply during the flood", func() bool { return len(other.got(isReply)) == 1 })
	afterPaced := s.Status()
	flood(false)
	floodTime := time.Since(start)
	// The burst fills the socket's buffer and the server's queue, so
	// the search may be lost; a control point repeats it, as this does.
	sends := 0
	testtool.WaitFor(t, "the other source's reply after the burst", func() bool {
		if len(other.got(isReply)) >= 2 {
			return true
		}
		if sends++; sends%50 == 1 { // every 500 ms
			other.send(t, msearch("upnp:rootdevice", "0"), group.String())
		}
		return false
	})
	// Absence can only be awaited: replies come within MX (1 s) of the
	// search they answer.
	time.Sleep(1500 * time.Millisecond)
	replies := 0
	for _, sock := range socks {
		replies += len(sock.got(isReply))
	}
	st := s.Status()
	budget := replyBurst + int(floodTime.Seconds()*replyRate) + replyRate // a second more for the clocks
	t.Logf("%d searches paced over %v: %+v", floodSockets*perSocket, paced.Round(time.Millisecond), afterPaced.Dropped)
	t.Logf("after the burst, the other source was answered after %d search(es)", (sends+49)/50)
	t.Logf("then %d at once; in all %v: %d replies to the flooding source (budget %d); searches %d, answered %d, dropped %+v; goroutines %d before, at most %d during",
		floodSockets*perSocket, floodTime.Round(time.Millisecond), replies, budget, st.Searches, st.Answered, st.Dropped, base, maxGoroutines)
	if replies > budget {
		t.Errorf("%d replies to the flooding source, more than %d", replies, budget)
	}
	if replies == 0 {
		t.Error("no replies at all to the flooding source")
	}
	if afterPaced.Dropped.RateLimited == 0 || st.Dropped.RateLimited <= afterPaced.Dropped.RateLimited {
		t.Errorf("nothing rate-limited in a phase: %+v, then %+v", afterPaced.Dropped, st.Dropped)
	}
	if st.Searches > 2*floodSockets*perSocket+2 {
		t.Errorf("%d searches counted", st.Searches)
	}
	// The clients' sockets have one reader goroutine each; the server
	// adds none however much arrives.
	if maxGoroutines > base+floodSockets+1+5 {
		t.Errorf("goroutines rose from %d to %d during the flood", base, maxGoroutines)
	}
}
