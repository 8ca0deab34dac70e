package mcast

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"github.com/mediaftpd/mediaftpd/internal/netif"
)

// Config is what Listen opens.
type Config struct {
	// Group is the multicast group and port, like 224.0.0.251:5353. The
	// socket is bound to the port on every address of the group's IP
	// version.
	Group netip.AddrPort
	// HopLimit is the TTL (IPv4) or hop limit (IPv6) of the multicast
	// datagrams sent.
	HopLimit int
	// UnicastHopLimit is that of the unicast datagrams sent; zero leaves
	// the system's default.
	UnicastHopLimit int
	// MaxDatagram is the size of the read buffer; a longer datagram
	// arrives cut to it.
	MaxDatagram int
	// Receive, if set, is called from the socket's reading goroutine
	// with every datagram received, until Close. Its Data is reused
	// after Receive returns. It must not block: a protocol drops what it
	// cannot queue.
	Receive func(Datagram)
}

// Datagram is a datagram received.
type Datagram struct {
	// IfIndex is the interface it came in on (IP_PKTINFO); 0 if unknown.
	IfIndex int
	// Src is the sender.
	Src netip.AddrPort
	// Dst is the datagram's destination address (IP_PKTINFO): the
	// group, or one of our addresses for a unicast datagram; invalid if
	// unknown.
	Dst  netip.Addr
	Data []byte
}

// Conn is the UDP socket of a multicast protocol, for one IP version:
// bound to the group's port, joined to the group on the interfaces
// chosen, reading the interface and destination address of each datagram
// that arrives and choosing the interface (and source address) of each
// one sent (IP_PKTINFO, IPV6_PKTINFO). Multicast loopback is on: other
// programs on this machine listen too. On Linux the port is shared with
// other programs (SO_REUSEADDR: avahi-daemon, minissdpd, a player on the
// same machine), and the socket hears only the group it joined itself,
// on the interfaces it joined it on (IP_MULTICAST_ALL off; Linux
// otherwise hands it every group any socket on the machine joined).
//
// Join, Leave, Joined and WriteTo are for one goroutine; the reading
// goroutine runs beside it.
type Conn struct {
	group  netip.AddrPort
	v4     *ipv4.PacketConn // one of v4 and v6 is set
	v6     *ipv6.PacketConn
	pc     groupConn    // the one that is set
	joined map[int]bool // interface index -> group joined
	wg     sync.WaitGroup
}

// groupConn is what ipv4.PacketConn and ipv6.PacketConn do alike.
type groupConn interface {
	JoinGroup(ifi *net.Interface, group net.Addr) error
	LeaveGroup(ifi *net.Interface, group net.Addr) error
	Close() error
}

// Listen opens the socket and starts reading it. It returns the error of
// the bind, or of setting the socket's options, as it is.
func Listen(cfg Config) (*Conn, error) {
	network, laddr := "udp4", fmt.Sprintf("0.0.0.0:%d", cfg.Group.Port())
	if !cfg.Group.Addr().Is4() {
		network, laddr = "udp6", fmt.Sprintf("[::]:%d", cfg.Group.Port())
	}
	lc := net.ListenConfig{Control: control}
	pc, err := lc.ListenPacket(context.Background(), network, laddr)
	if err != nil {
		return nil, err
	}
	c := &Conn{group: cfg.Group, joined: map[int]bool{}}
	if network == "udp4" {
		c.v4 = ipv4.NewPacketConn(pc)
		c.pc = c.v4
		err = errors.Join(
			c.v4.SetControlMessage(ipv4.FlagInterface|ipv4.FlagDst, true),
			c.v4.SetMulticastTTL(cfg.HopLimit),
			c.v4.SetMulticastLoopback(true),
		)
		if err == nil && cfg.UnicastHopLimit > 0 {
			err = c.v4.SetTTL(cfg.UnicastHopLimit)
		}
	} else {
		c.v6 = ipv6.NewPacketConn(pc)
		c.pc = c.v6
		err = errors.Join(
			c.v6.SetControlMessage(ipv6.FlagInterface|ipv6.FlagDst, true),
			c.v6.SetMulticastHopLimit(cfg.HopLimit),
			c.v6.SetMulticastLoopback(true),
		)
		if err == nil && cfg.UnicastHopLimit > 0 {
			err = c.v6.SetHopLimit(cfg.UnicastHopLimit)
		}
	}
	if err != nil {
		pc.Close()
		return nil, err
	}
	if cfg.Receive != nil {
		c.wg.Go(func() { c.read(cfg.MaxDatagram, cfg.Receive) })
	}
	return c, nil
}

// Group is the multicast group and port the socket is for.
func (c *Conn) Group() netip.AddrPort { return c.group }

func (c *Conn) read(size int, f func(Datagram)) {
	buf := make([]byte, size)
	for {
		var (
			n   int
			src net.Addr
			dst net.IP
			err error
			d   Datagram
		)
		if c.v4 != nil {
			var cm *ipv4.ControlMessage
			n, cm, src, err = c.v4.ReadFrom(buf)
			if cm != nil {
				d.IfIndex, dst = cm.IfIndex, cm.Dst
			}
		} else {
			var cm *ipv6.ControlMessage
			n, cm, src, err = c.v6.ReadFrom(buf)
			if cm != nil {
				d.IfIndex, dst = cm.IfIndex, cm.Dst
			}
		}
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			time.Sleep(10 * time.Millisecond) // never spin on a persistent error
			continue
		}
		if ua, ok := src.(*net.UDPAddr); ok {
			d.Src = ua.AddrPort()
		}
		if a, ok := netip.AddrFromSlice(dst); ok {
			d.Dst = a.Unmap()
		}
		d.Data = buf[:n]
		f(d)
	}
}

// Join joins the group on the interface, unless it is joined there
// already. A membership the socket holds already (EADDRINUSE) counts as
// joined.
func (c *Conn) Join(info netif.Interface) error {
	if c.joined[info.Index] {
		return nil
	}
	err := c.pc.JoinGroup(&net.Interface{Index: info.Index, Name: info.Name}, &net.UDPAddr{IP: c.group.Addr().AsSlice()})
	if err != nil && !errors.Is(err, syscall.EADDRINUSE) {
		return err
	}
	c.joined[info.Index] = true
	return nil
}

// Leave leaves the group on the interface, if joined there; the
// interface may already be gone.
func (c *Conn) Leave(index int) {
	if !c.joined[index] {
		return
	}
	c.pc.LeaveGroup(&net.Interface{Index: index}, &net.UDPAddr{IP: c.group.Addr().AsSlice()})
	delete(c.joined, index)
}

// Joined reports whether the group is joined on the interface.
func (c *Conn) Joined(index int) bool { return c.joined[index] }

// WriteTo sends b to dst out of interface ifIndex (0: as the routes
// say), from source address src (invalid: the system chooses).
func (c *Conn) WriteTo(b []byte, ifIndex int, src netip.Addr, dst netip.AddrPort) error {
	to := net.UDPAddrFromAddrPort(dst)
	if c.v4 != nil {
		cm := &ipv4.ControlMessage{IfIndex: ifIndex}
		if src.IsValid() {
			cm.Src = src.AsSlice()
		}
		_, err := c.v4.WriteTo(b, cm, to)
		return err
	}
	cm := &ipv6.ControlMessage{IfIndex: ifIndex}
	if src.IsValid() {
		cm.Src = src.AsSlice()
	}
	_, err := c.v6.WriteTo(b, cm, to)
	return err
}

// Close closes the socket and waits for its reading goroutine to end.
func (c *Conn) Close() error {
	err := c.pc.Close()
	c.wg.Wait()
	return err
}
