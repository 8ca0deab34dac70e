package mcast_test

import (
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/mcast"
	"github.com/mediaftpd/mediaftpd/internal/netif"
	"github.com/mediaftpd/mediaftpd/internal/netlab"
	"github.com/mediaftpd/mediaftpd/internal/testtool"
)

// inbox collects what a Conn receives.
type inbox struct {
	mu  sync.Mutex
	got []mcast.Datagram
}

func (b *inbox) receive(d mcast.Datagram) {
	b.mu.Lock()
	defer b.mu.Unlock()
	d.Data = append([]byte(nil), d.Data...)
	b.got = append(b.got, d)
}

// await returns the first datagram received with data, failing the test
// after 10 s.
func (b *inbox) await(t *testing.T, data string) mcast.Datagram {
	t.Helper()
	var found mcast.Datagram
	testtool.WaitFor(t, "datagram "+data, func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, d := range b.got {
			if string(d.Data) == data {
				found = d
				return true
			}
		}
		return false
	})
	return found
}

// listenIn opens a Conn in namespace ns, joined to its group on ifname.
func listenIn(t *testing.T, l *netlab.Lab, ns, ifname string, cfg mcast.Config) (*mcast.Conn, netif.Interface) {
	t.Helper()
	var (
		c   *mcast.Conn
		ifc netif.Interface
		err error
	)
	l.In(t, ns, func() {
		var ifi *net.Interface
		if ifi, err = net.InterfaceByName(ifname); err != nil {
			return
		}
		ifc = netif.Interface{Index: ifi.Index, Name: ifi.Name}
		if c, err = mcast.Listen(cfg); err != nil {
			return
		}
		err = c.Join(ifc)
	})
	if err != nil {
		t.Fatalf("in %s: %v", ns, err)
	}
	t.Cleanup(func() { c.Close() })
	return c, ifc
}

// TestConn: in two namespaces joined by a veth pair, a datagram sent to
// the group out of one interface arrives with the interface it came in
// on, its sender and the group as destination; a unicast answer from a
// chosen source address arrives from that address; over IPv4 and IPv6.
func TestConn(t *testing.T) {
	l := netlab.New(t, "mc")
	srv, cli := l.Pair("mc0", "10.99.31.1/24", "mc1", "10.99.31.2/24")
	l.Run(srv, "ip", "addr", "add", "10.99.31.3/24", "dev", "mc0")
	for _, c := range []struct {
		name  string
		group string
		from  netip.Addr // the server's source for the unicast answer
	}{
		{"IPv4", "239.255.77.1:19077", netip.MustParseAddr("10.99.31.3")},
		{"IPv6", "[ff02::77:1]:19077", netip.Addr{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			group := netip.MustParseAddrPort(c.group)
			var srvIn, cliIn inbox
			cfg := mcast.Config{Group: group, HopLimit: 2, UnicastHopLimit: 64, MaxDatagram: 100}
			cfg.Receive = srvIn.receive
			s, srvIf := listenIn(t, l, srv, "mc0", cfg)
			cfg.Receive = cliIn.receive
			cl, cliIf := listenIn(t, l, cli, "mc1", cfg)
			if !s.Joined(srvIf.Index) || s.Joined(srvIf.Index+100) || s.Group() != group {
				t.Errorf("joined %v, group %v", s.Joined(srvIf.Index), s.Group())
			}
			if err := s.Join(srvIf); err != nil {
				t.Errorf("joining again: %v", err)
			}
			// Another program may hold the port too (SO_REUSEADDR).
			l.In(t, srv, func() {
				other, err := mcast.Listen(mcast.Config{Group: group, HopLimit: 2, MaxDatagram: 100})
				if err != nil {
					t.Errorf("a second socket on the port: %v", err)
					return
				}
				other.Close()
			})

			if err := cl.WriteTo([]byte("search"), cliIf.Index, netip.Addr{}, group); err != nil {
				t.Fatal(err)
			}
			d := srvIn.await(t, "search")
			t.Logf("server got %+v", d)
			if d.IfIndex != srvIf.Index || d.Dst != group.Addr() || d.Src.Port() != group.Port() {
				t.Errorf("server got %+v; want it on interface %d, to %v", d, srvIf.Index, group.Addr())
			}
			if c.from.IsValid() && d.Src.Addr().Unmap() != netip.MustParseAddr("10.99.31.2") {
				t.Errorf("from %v, want 10.99.31.2", d.Src)
			}

			// Without the zone: the reading goroutine, outside the
			// namespace, named it after the machine's own interfaces.
			// The interface index chooses the link.
			to := netip.AddrPortFrom(d.Src.Addr().WithZone(""), d.Src.Port())
			if err := s.WriteTo([]byte("answer"), d.IfIndex, c.from, to); err != nil {
				t.Fatal(err)
			}
			a := cliIn.await(t, "answer")
			t.Logf("client got %+v", a)
			if c.from.IsValid() && a.Src.Addr().Unmap() != c.from {
				t.Errorf("answer from %v, want %v", a.Src, c.from)
			}
			if a.IfIndex != cliIf.Index || a.Dst.IsMulticast() {
				t.Errorf("client got %+v; want it unicast on interface %d", a, cliIf.Index)
			}

			s.Leave(srvIf.Index)
			if s.Joined(srvIf.Index) {
				t.Error("still joined after Leave")
			}
			start := time.Now()
			if err := s.Close(); err != nil {
				t.Error(err)
			}
			t.Logf("closed in %v", time.Since(start))
		})
	}
}
