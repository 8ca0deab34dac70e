package discovery

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"

	"github.com/miekg/dns"

	"github.com/mediaftpd/mediaftpd/internal/mcast"
	"github.com/mediaftpd/mediaftpd/internal/netif"
)

// maxPacket is the largest mDNS message, RFC 6762 17.
const maxPacket = 9000

var (
	group4 = netip.MustParseAddr("224.0.0.251")
	group6 = netip.MustParseAddr("ff02::fb")
)

// udpTransport is one socket per IP version ([mcast.Conn]) bound to port
// 5353, beside avahi-daemon or another responder, joined to the mDNS
// group on each interface used, sending each packet out of one chosen
// interface with TTL 255 (RFC 6762 11).
type udpTransport struct {
	log *slog.Logger
	v4  *mcast.Conn // nil when IPv4 could not be opened
	v6  *mcast.Conn // nil when IPv6 could not be opened
}

var _ mcast.Transport[outPacket] = (*udpTransport)(nil)

// openUDP opens the sockets and starts reading them into in. A packet that
// finds in full is dropped: the loop is busy and a later query repeats it.
func openUDP(in chan<- inPacket, log *slog.Logger) (mcast.Transport[outPacket], error) {
	t := &udpTransport{log: log}
	open := func(group netip.Addr, fam family) (*mcast.Conn, error) {
		return mcast.Listen(mcast.Config{
			Group:           netip.AddrPortFrom(group, mdnsPort),
			HopLimit:        255,
			UnicastHopLimit: 255,
			MaxDatagram:     maxPacket,
			Receive:         func(d mcast.Datagram) { t.receive(in, fam, d) },
		})
	}
	var err4, err6 error
	t.v4, err4 = open(group4, fam4)
	t.v6, err6 = open(group6, fam6)
	switch {
	case t.v4 == nil && t.v6 == nil:
		return nil, fmt.Errorf("opening UDP port %d: %w", mdnsPort, errors.Join(err4, err6))
	case t.v4 == nil:
		log.Warn("mDNS: IPv4 socket failed; advertising over IPv6 only", "err", err4)
	case t.v6 == nil:
		log.Debug("mDNS: IPv6 socket failed; advertising over IPv4 only", "err", err6)
	}
	return t, nil
}

// receive decodes a datagram and queues it for the engine.
func (t *udpTransport) receive(in chan<- inPacket, fam family, d mcast.Datagram) {
	msg := new(dns.Msg)
	if err := msg.Unpack(d.Data); err != nil {
		t.log.Debug("mDNS: undecodable packet", "from", d.Src, "err", err)
		return
	}
	select {
	case in <- inPacket{ifIndex: d.IfIndex, fam: fam, src: d.Src, dst: d.Dst, msg: msg}:
	default:
	}
}

// Join joins the group with every IP version that can; it fails only
// when none could.
func (t *udpTransport) Join(info netif.Interface) error {
	var err4, err6 error
	if t.v4 != nil {
		err4 = t.v4.Join(info)
	}
	if t.v6 != nil {
		err6 = t.v6.Join(info)
	}
	if t.joined(t.v4, info.Index) || t.joined(t.v6, info.Index) {
		if err4 != nil || err6 != nil {
			t.log.Debug("mDNS: joined the group with one IP version only", "interface", info.Name, "ipv4", err4, "ipv6", err6)
		}
		return nil
	}
	return fmt.Errorf("joining the mDNS group on %s: %w", info.Name, errors.Join(err4, err6))
}

func (t *udpTransport) joined(c *mcast.Conn, index int) bool { return c != nil && c.Joined(index) }

// Leave leaves the group on the interface with every IP version joined.
func (t *udpTransport) Leave(index int) {
	for _, c := range []*mcast.Conn{t.v4, t.v6} {
		if c != nil {
			c.Leave(index)
		}
	}
}

// Send sends p; a failure is an interface that just went away, which the
// next poll of the interfaces notices.
func (t *udpTransport) Send(p outPacket) {
	if err := t.send(p); err != nil {
		t.log.Debug("mDNS: send failed", "interface", p.ifIndex, "err", err)
	}
}

func (t *udpTransport) send(p outPacket) error {
	b, err := p.msg.Pack()
	if err != nil {
		return fmt.Errorf("packing mDNS message: %w", err)
	}
	if p.dst.IsValid() { // unicast reply
		if p.dst.Addr().Unmap().Is4() && t.v4 != nil {
			return t.v4.WriteTo(b, p.ifIndex, netip.Addr{}, p.dst)
		} else if t.v6 != nil {
			return t.v6.WriteTo(b, p.ifIndex, netip.Addr{}, p.dst)
		}
		return nil
	}
	var errs []error
	if (p.fam == famAll || p.fam == fam4) && t.joined(t.v4, p.ifIndex) {
		errs = append(errs, t.v4.WriteTo(b, p.ifIndex, netip.Addr{}, t.v4.Group()))
	}
	if (p.fam == famAll || p.fam == fam6) && t.joined(t.v6, p.ifIndex) {
		errs = append(errs, t.v6.WriteTo(b, p.ifIndex, netip.Addr{}, t.v6.Group()))
	}
	return errors.Join(errs...)
}

// Close closes both sockets and waits for their readers.
func (t *udpTransport) Close() error {
	var errs []error
	for _, c := range []*mcast.Conn{t.v4, t.v6} {
		if c != nil {
			errs = append(errs, c.Close())
		}
	}
	return errors.Join(errs...)
}
