package ssdp

import (
	"net/netip"
	"testing"
)

// BenchmarkReceiveFlood is the engine's cost for one search of a flood
// from one source (rate-limited after the first few), with the status
// snapshot Run publishes after each packet.
func BenchmarkReceiveFlood(b *testing.B) {
	e, now := startedEngine(b)
	data := msearch("ssdp:all", "1")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		e.Receive(now, searchFrom(netip.AddrPortFrom(tv.Addr(), uint16(i)), eth0, data))
		e.Advance(now)
		e.TakeOut()
		_ = e.status()
	}
}
