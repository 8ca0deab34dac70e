package discovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// transport is the socket side of the responder. Every method is called
// from the goroutine of [Advertiser.Run]; received packets go to the
// channel given when it was opened.
type transport interface {
	// join makes the interface's multicast traffic arrive and lets
	// send use it. It fails only when no IP version could join.
	join(info ifaceInfo) error
	// leave undoes join; the interface may already be gone.
	leave(index int)
	send(p outPacket) error
	close() error
}

// maxPacket is the largest mDNS message, RFC 6762 17.
const maxPacket = 9000

var (
	group4 = netip.MustParseAddr("224.0.0.251")
	group6 = netip.MustParseAddr("ff02::fb")
)

// udpTransport is one UDP socket per IP version bound to port 5353 (with
// SO_REUSEADDR, beside avahi-daemon or another responder), joined to the
// mDNS group on each interface used, sending each packet out of one
// chosen interface (IP_PKTINFO / IPV6_PKTINFO) with TTL 255.
type udpTransport struct {
	log *slog.Logger
	v4  *ipv4.PacketConn // nil when IPv4 could not be opened
	v6  *ipv6.PacketConn // nil when IPv6 could not be opened

	joined4, joined6 map[int]bool // interface index -> group joined; used by Run's goroutine only
	wg               sync.WaitGroup
}

var _ transport = (*udpTransport)(nil)

// openUDP opens the sockets and starts reading them into in. A packet that
// finds in full is dropped: the loop is busy and a later query repeats it.
func openUDP(in chan<- inPacket, log *slog.Logger) (transport, error) {
	t := &udpTransport{log: log, joined4: map[int]bool{}, joined6: map[int]bool{}}
	lc := net.ListenConfig{Control: controlSocket}
	c4, err4 := lc.ListenPacket(context.Background(), "udp4", fmt.Sprintf("0.0.0.0:%d", mdnsPort))
	if err4 == nil {
		t.v4 = ipv4.NewPacketConn(c4)
		err4 = errors.Join(
			t.v4.SetControlMessage(ipv4.FlagInterface|ipv4.FlagDst, true),
			t.v4.SetMulticastTTL(255), // RFC 6762 11
			t.v4.SetTTL(255),
			t.v4.SetMulticastLoopback(true), // other programs on this machine browse too
		)
		if err4 != nil {
			c4.Close()
			t.v4 = nil
		}
	}
	c6, err6 := lc.ListenPacket(context.Background(), "udp6", fmt.Sprintf("[::]:%d", mdnsPort))
	if err6 == nil {
		t.v6 = ipv6.NewPacketConn(c6)
		err6 = errors.Join(
			t.v6.SetControlMessage(ipv6.FlagInterface|ipv6.FlagDst, true),
			t.v6.SetMulticastHopLimit(255),
			t.v6.SetHopLimit(255),
			t.v6.SetMulticastLoopback(true),
		)
		if err6 != nil {
			c6.Close()
			t.v6 = nil
		}
	}
	switch {
	case t.v4 == nil && t.v6 == nil:
		return nil, fmt.Errorf("opening UDP port %d: %w", mdnsPort, errors.Join(err4, err6))
	case t.v4 == nil:
		log.Warn("mDNS: IPv4 socket failed; advertising over IPv6 only", "err", err4)
	case t.v6 == nil:
		log.Debug("mDNS: IPv6 socket failed; advertising over IPv4 only", "err", err6)
	}
	if t.v4 != nil {
		t.wg.Go(func() { t.read(in, fam4) })
	}
	if t.v6 != nil {
		t.wg.Go(func() { t.read(in, fam6) })
	}
	return t, nil
}

func (t *udpTransport) read(in chan<- inPacket, fam family) {
	buf := make([]byte, maxPacket)
	for {
		var (
			n       int
			src     net.Addr
			ifIndex int
			dst     net.IP
			err     error
		)
		if fam == fam4 {
			var cm *ipv4.ControlMessage
			n, cm, src, err = t.v4.ReadFrom(buf)
			if cm != nil {
				ifIndex, dst = cm.IfIndex, cm.Dst
			}
		} else {
			var cm *ipv6.ControlMessage
			n, cm, src, err = t.v6.ReadFrom(buf)
			if cm != nil {
				ifIndex, dst = cm.IfIndex, cm.Dst
			}
		}
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			time.Sleep(10 * time.Millisecond) // never spin on a persistent error
			continue
		}
		msg := new(dns.Msg)
		if err := msg.Unpack(buf[:n]); err != nil {
			t.log.Debug("mDNS: undecodable packet", "from", src, "err", err)
			continue
		}
		p := inPacket{ifIndex: ifIndex, fam: fam, msg: msg}
		if ua, ok := src.(*net.UDPAddr); ok {
			p.src = ua.AddrPort()
		}
		if a, ok := netip.AddrFromSlice(dst); ok {
			p.dst = a.Unmap()
		}
		select {
		case in <- p:
		default:
		}
	}
}

func (t *udpTransport) join(info ifaceInfo) error {
	ifi := &net.Interface{Index: info.index, Name: info.name}
	var err4, err6 error
	if t.v4 != nil && !t.joined4[info.index] {
		err4 = t.v4.JoinGroup(ifi, &net.UDPAddr{IP: group4.AsSlice()})
		if err4 == nil || errors.Is(err4, syscall.EADDRINUSE) {
			t.joined4[info.index], err4 = true, nil
		}
	}
	if t.v6 != nil && !t.joined6[info.index] {
		err6 = t.v6.JoinGroup(ifi, &net.UDPAddr{IP: group6.AsSlice()})
		if err6 == nil || errors.Is(err6, syscall.EADDRINUSE) {
			t.joined6[info.index], err6 = true, nil
		}
	}
	if t.joined4[info.index] || t.joined6[info.index] {
		if err4 != nil || err6 != nil {
			t.log.Debug("mDNS: joined the group with one IP version only", "interface", info.name, "ipv4", err4, "ipv6", err6)
		}
		return nil
	}
	return fmt.Errorf("joining the mDNS group on %s: %w", info.name, errors.Join(err4, err6))
}

func (t *udpTransport) leave(index int) {
	ifi := &net.Interface{Index: index}
	if t.joined4[index] {
		t.v4.LeaveGroup(ifi, &net.UDPAddr{IP: group4.AsSlice()})
		delete(t.joined4, index)
	}
	if t.joined6[index] {
		t.v6.LeaveGroup(ifi, &net.UDPAddr{IP: group6.AsSlice()})
		delete(t.joined6, index)
	}
}

func (t *udpTransport) send(p outPacket) error {
	b, err := p.msg.Pack()
	if err != nil {
		return fmt.Errorf("packing mDNS message: %w", err)
	}
	cm4 := &ipv4.ControlMessage{IfIndex: p.ifIndex}
	cm6 := &ipv6.ControlMessage{IfIndex: p.ifIndex}
	if p.dst.IsValid() { // unicast reply
		to := net.UDPAddrFromAddrPort(p.dst)
		if p.dst.Addr().Unmap().Is4() && t.v4 != nil {
			_, err = t.v4.WriteTo(b, cm4, to)
		} else if t.v6 != nil {
			_, err = t.v6.WriteTo(b, cm6, to)
		}
		return err
	}
	var errs []error
	if (p.fam == famAll || p.fam == fam4) && t.joined4[p.ifIndex] {
		_, err := t.v4.WriteTo(b, cm4, &net.UDPAddr{IP: group4.AsSlice(), Port: mdnsPort})
		errs = append(errs, err)
	}
	if (p.fam == famAll || p.fam == fam6) && t.joined6[p.ifIndex] {
		_, err := t.v6.WriteTo(b, cm6, &net.UDPAddr{IP: group6.AsSlice(), Port: mdnsPort})
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (t *udpTransport) close() error {
	var errs []error
	if t.v4 != nil {
		errs = append(errs, t.v4.Close())
	}
	if t.v6 != nil {
		errs = append(errs, t.v6.Close())
	}
	t.wg.Wait()
	return errors.Join(errs...)
}
