package ssdp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/ipv4"

	"github.com/mediaftpd/mediaftpd/internal/netif"
)

// transport is the socket side of the server. Every method but
// overflowed is called from the goroutine of [Server.Run]; received
// datagrams go to the channel given when it was opened.
type transport interface {
	// join makes the group's traffic on the interface arrive.
	join(info netif.Interface) error
	// leave undoes join; the interface may already be gone.
	leave(index int)
	send(p outPacket) error
	// overflowed counts the datagrams dropped because the channel was
	// full (a flood the engine could not keep up with).
	overflowed() uint64
	close() error
}

// multicastTTL is the IP TTL of NOTIFY messages: UDA 1.1 1.1 says 2.
const multicastTTL = 2

// udpTransport is one UDP socket bound to 0.0.0.0:1900 (with
// SO_REUSEADDR, beside another SSDP stack on the same machine), joined
// to 239.255.255.250 on each interface used, reading the interface and
// destination address of each datagram and choosing the interface and
// source address of each one it sends (IP_PKTINFO).
type udpTransport struct {
	log     *slog.Logger
	c       *ipv4.PacketConn
	dropped atomic.Uint64
	wg      sync.WaitGroup
}

var _ transport = (*udpTransport)(nil)

// openUDP opens the socket and starts reading it into in. A datagram
// that finds in full is dropped and counted.
func openUDP(in chan<- inPacket, log *slog.Logger) (transport, error) {
	lc := net.ListenConfig{Control: controlSocket}
	c, err := lc.ListenPacket(context.Background(), "udp4", fmt.Sprintf("0.0.0.0:%d", ssdpPort))
	if err != nil {
		return nil, fmt.Errorf("opening UDP port %d: %w", ssdpPort, err)
	}
	t := &udpTransport{log: log, c: ipv4.NewPacketConn(c)}
	if err := errors.Join(
		t.c.SetControlMessage(ipv4.FlagInterface|ipv4.FlagDst, true),
		t.c.SetMulticastTTL(multicastTTL),
		t.c.SetMulticastLoopback(true), // control points on this machine listen too
	); err != nil {
		c.Close()
		return nil, fmt.Errorf("setting up the SSDP socket: %w", err)
	}
	t.wg.Go(func() { t.read(in) })
	return t, nil
}

func (t *udpTransport) read(in chan<- inPacket) {
	buf := make([]byte, maxMessage+1) // one more, to see what is too long
	for {
		n, cm, src, err := t.c.ReadFrom(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			time.Sleep(10 * time.Millisecond) // never spin on a persistent error
			continue
		}
		p := inPacket{data: append([]byte(nil), buf[:n]...)}
		if cm != nil {
			p.ifIndex = cm.IfIndex
			if a, ok := netip.AddrFromSlice(cm.Dst); ok {
				p.dst = a.Unmap()
			}
		}
		if ua, ok := src.(*net.UDPAddr); ok {
			p.src = ua.AddrPort()
		}
		select {
		case in <- p:
		default:
			t.dropped.Add(1)
		}
	}
}

func (t *udpTransport) join(info netif.Interface) error {
	err := t.c.JoinGroup(&net.Interface{Index: info.Index, Name: info.Name}, &net.UDPAddr{IP: group.Addr().AsSlice()})
	if err != nil && !errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("joining the SSDP group on %s: %w", info.Name, err)
	}
	return nil
}

func (t *udpTransport) leave(index int) {
	t.c.LeaveGroup(&net.Interface{Index: index}, &net.UDPAddr{IP: group.Addr().AsSlice()})
}

func (t *udpTransport) send(p outPacket) error {
	cm := &ipv4.ControlMessage{IfIndex: p.ifIndex}
	if p.src.IsValid() {
		cm.Src = p.src.AsSlice()
	}
	_, err := t.c.WriteTo(p.data, cm, net.UDPAddrFromAddrPort(p.dst))
	return err
}

func (t *udpTransport) overflowed() uint64 { return t.dropped.Load() }

func (t *udpTransport) close() error {
	err := t.c.Close()
	t.wg.Wait()
	return err
}
