package ssdp

import (
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/mediaftpd/mediaftpd/internal/mcast"
	"github.com/mediaftpd/mediaftpd/internal/netif"
)

// transport is the socket side of the server. Every method but
// overflowed is called from the goroutine of [Server.Run]; received
// datagrams go to the channel given when it was opened.
type transport interface {
	mcast.Transport[outPacket]
	// overflowed counts the datagrams dropped because the channel was
	// full (a flood the engine could not keep up with).
	overflowed() uint64
}

// multicastTTL is the IP TTL of NOTIFY messages: UDA 1.1 1.1 says 2.
const multicastTTL = 2

// udpTransport is one UDP socket ([mcast.Conn]) bound to 0.0.0.0:1900,
// beside another SSDP stack on the same machine (minissdpd, a GUPnP
// program), joined to 239.255.255.250 on each interface used, reading
// the interface and destination address of each datagram and choosing
// the interface and source address of each one it sends.
type udpTransport struct {
	log     *slog.Logger
	c       *mcast.Conn
	dropped atomic.Uint64
}

var _ transport = (*udpTransport)(nil)

// openUDP opens the socket and starts reading it into in. A datagram
// that finds in full is dropped and counted.
func openUDP(in chan<- inPacket, log *slog.Logger) (transport, error) {
	t := &udpTransport{log: log}
	c, err := mcast.Listen(mcast.Config{
		Group:       group,
		HopLimit:    multicastTTL,
		MaxDatagram: maxMessage + 1, // one more, to see what is too long
		Receive:     func(d mcast.Datagram) { t.receive(in, d) },
	})
	if err != nil {
		return nil, fmt.Errorf("opening UDP port %d: %w", ssdpPort, err)
	}
	t.c = c
	return t, nil
}

// receive queues a copy of a datagram for the engine.
func (t *udpTransport) receive(in chan<- inPacket, d mcast.Datagram) {
	p := inPacket{ifIndex: d.IfIndex, src: d.Src, dst: d.Dst, data: append([]byte(nil), d.Data...)}
	select {
	case in <- p:
	default:
		t.dropped.Add(1)
	}
}

// Join joins the SSDP group on the interface.
func (t *udpTransport) Join(info netif.Interface) error {
	if err := t.c.Join(info); err != nil {
		return fmt.Errorf("joining the SSDP group on %s: %w", info.Name, err)
	}
	return nil
}

// Leave leaves the group on the interface.
func (t *udpTransport) Leave(index int) { t.c.Leave(index) }

// Send sends p; a failure is an interface that just went away, which the
// next poll of the interfaces notices.
func (t *udpTransport) Send(p outPacket) {
	if err := t.c.WriteTo(p.data, p.ifIndex, p.src, p.dst); err != nil {
		t.log.Debug("SSDP: send failed", "interface", p.ifIndex, "to", p.dst, "err", err)
	}
}

func (t *udpTransport) overflowed() uint64 { return t.dropped.Load() }

// Close closes the socket and waits for its reader.
func (t *udpTransport) Close() error { return t.c.Close() }
