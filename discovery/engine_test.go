package discovery

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mediaftpd/mediaftpd/internal/mcast/mcasttest"
	"github.com/mediaftpd/mediaftpd/internal/netif"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// eth0 and wlan0 are a Pi's two interfaces on different networks.
var (
	eth0 = netif.Interface{
		Index: 2, Name: "eth0",
		Addrs: netif.Addrs{
			V4:   []netip.Addr{netip.MustParseAddr("192.168.1.20")},
			V6:   []netip.Addr{netip.MustParseAddr("fd00::20")},
			Nets: []netip.Prefix{netip.MustParsePrefix("192.168.1.0/24"), netip.MustParsePrefix("fd00::/64"), netip.MustParsePrefix("fe80::/64")},
		},
	}
	wlan0 = netif.Interface{
		Index: 3, Name: "wlan0",
		Addrs: netif.Addrs{
			V4:   []netip.Addr{netip.MustParseAddr("10.0.0.7")},
			Nets: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24"), netip.MustParsePrefix("fe80::/64")},
		},
	}
)

func newTestEngine() (*engine, *mcasttest.LogBuffer) {
	log, buf := mcasttest.Logger()
	e := newEngine("Living Room Media", "pi-mediaftpd", []Service{FTP(21), HTTP(8021)}, log, rand.New(rand.NewPCG(1, 2)))
	return e, buf
}

// settle runs the engine's timers from now until nothing is due (at most a
// minute on), returning the packets sent and the time reached.
func settle(e *engine, now time.Time) ([]outPacket, time.Time) {
	var out []outPacket
	for range 100 {
		d := e.NextDeadline()
		if d.IsZero() || d.Sub(now) > time.Minute {
			break
		}
		if d.After(now) {
			now = d
		}
		e.Advance(now)
		out = append(out, e.TakeOut()...)
	}
	return out, now
}

// announcedEngine is an engine that has probed and announced on eth0 and
// wlan0, and the time after that.
func announcedEngine(t *testing.T) (*engine, time.Time, *mcasttest.LogBuffer) {
	t.Helper()
	e, log := newTestEngine()
	e.SetInterfaces(t0, []netif.Interface{eth0, wlan0})
	_, now := settle(e, t0)
	for _, st := range e.ifaces {
		if st.phase != phaseAnnounced {
			t.Fatalf("%s still %v", st.info.Name, st.phase)
		}
	}
	return e, now.Add(10 * time.Second), log
}

func query(name string, typ uint16) *dns.Msg {
	m := new(dns.Msg)
	m.Question = []dns.Question{{Name: name, Qtype: typ, Qclass: dns.ClassINET}}
	return m
}

var (
	peer4 = netip.MustParseAddrPort("192.168.1.50:5353")
	mc4   = netip.MustParseAddr("224.0.0.251")
)

// ask hands the engine a query received on eth0 over IPv4 from src and
// returns what it sends within 200 ms.
func ask(e *engine, now time.Time, m *dns.Msg, src netip.AddrPort, dst netip.Addr) []outPacket {
	e.Receive(now, inPacket{ifIndex: eth0.Index, fam: fam4, src: src, dst: dst, msg: m})
	e.Advance(now.Add(200 * time.Millisecond))
	return e.TakeOut()
}

func describe(pkts []outPacket) string {
	var b strings.Builder
	for _, p := range pkts {
		to := "multicast"
		if p.dst.IsValid() {
			to = "unicast to " + p.dst.String()
		}
		fmt.Fprintf(&b, "-- interface %d, %s\n%s\n", p.ifIndex, to, p.msg.String())
	}
	if len(pkts) == 0 {
		b.WriteString("-- nothing sent\n")
	}
	return b.String()
}

// TestResponsesGolden checks the exact messages: announcements, probes,
// goodbyes and the answers to the questions clients ask, against
// testdata/responses.golden (go test -update rewrites it).
func TestResponsesGolden(t *testing.T) {
	var b strings.Builder
	section := func(title, body string) { fmt.Fprintf(&b, "=== %s\n%s\n", title, body) }

	e, _ := newTestEngine()
	e.SetInterfaces(t0, []netif.Interface{eth0})
	out, _ := settle(e, t0)
	var probes, announcements []outPacket
	for _, p := range out {
		if p.msg.Response {
			announcements = append(announcements, p)
		} else {
			probes = append(probes, p)
		}
	}
	if len(probes) != probeCount || len(announcements) != announceCount {
		t.Fatalf("%d probes and %d announcements, want %d and %d", len(probes), len(announcements), probeCount, announceCount)
	}
	section("first probe (QU bit set)", describe(probes[:1]))
	section("second probe", describe(probes[1:2]))
	section("announcement", describe(announcements[:1]))

	cases := []struct {
		title string
		m     *dns.Msg
		src   netip.AddrPort
		dst   netip.Addr
	}{
		{"PTR _ftp._tcp, multicast (VLC microdns, avahi, zeroconf)", query("_ftp._tcp.local.", dns.TypePTR), peer4, mc4},
		{"PTR _http._tcp, multicast", query("_http._tcp.local.", dns.TypePTR), peer4, mc4},
		{"PTR with upper-case name", query("_FTP._TCP.LOCAL.", dns.TypePTR), peer4, mc4},
		{"PTR _ftp._tcp, legacy unicast from port 40000", query("_ftp._tcp.local.", dns.TypePTR), netip.MustParseAddrPort("192.168.1.50:40000"), mc4},
		{"SRV of the instance", query(`Living\ Room\ Media._ftp._tcp.local.`, dns.TypeSRV), peer4, mc4},
		{"TXT of the instance", query(`Living\ Room\ Media._ftp._tcp.local.`, dns.TypeTXT), peer4, mc4},
		{"ANY of the instance", query(`Living\ Room\ Media._ftp._tcp.local.`, dns.TypeANY), peer4, mc4},
		{"A of the host", query("pi-mediaftpd.local.", dns.TypeA), peer4, mc4},
		{"AAAA of the host", query("pi-mediaftpd.local.", dns.TypeAAAA), peer4, mc4},
		{"service type enumeration", query("_services._dns-sd._udp.local.", dns.TypePTR), peer4, mc4},
		{"query sent to our unicast address", query("_ftp._tcp.local.", dns.TypePTR), peer4, netip.MustParseAddr("192.168.1.20")},
		{"someone else's service", query("_smb._tcp.local.", dns.TypePTR), peer4, mc4},
		{"another instance", query(`Kitchen._ftp._tcp.local.`, dns.TypeSRV), peer4, mc4},
		{"legacy query from off the link", query("_ftp._tcp.local.", dns.TypePTR), netip.MustParseAddrPort("192.0.2.9:40000"), mc4},
	}
	for i, c := range cases {
		// Far apart, so the rate limit does not interfere.
		now := t0.Add(time.Duration(i+1) * time.Minute)
		c.m.Id = 0x1234
		section(c.title, describe(ask(e, now, c.m, c.src, c.dst)))
	}
	section("goodbye", describe(e.Goodbye()))

	golden(t, "responses.golden", b.String())
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update rewrites it); got:\n%s", path, got)
	}
}

// types lists the record types of a section, for compact comparisons.
func types(rrs []dns.RR) string {
	var s []string
	for _, rr := range rrs {
		s = append(s, dns.TypeToString[rr.Header().Rrtype])
	}
	return strings.Join(s, " ")
}

func addrsOf(rrs []dns.RR) []string {
	var s []string
	for _, rr := range rrs {
		switch rr := rr.(type) {
		case *dns.A:
			s = append(s, rr.A.String())
		case *dns.AAAA:
			s = append(s, rr.AAAA.String())
		}
	}
	return s
}

// TestPTRAnswerCarriesSRVTXTAndAddresses: the additional records that
// microdns and zeroconf need arrive in the same packet, A before AAAA.
func TestPTRAnswerCarriesSRVTXTAndAddresses(t *testing.T) {
	e, now, _ := announcedEngine(t)
	out := ask(e, now, query("_ftp._tcp.local.", dns.TypePTR), peer4, mc4)
	if len(out) != 1 {
		t.Fatalf("sent %d packets, want 1", len(out))
	}
	m := out[0].msg
	if types(m.Answer) != "PTR" || types(m.Extra) != "SRV TXT A AAAA" {
		t.Errorf("answer %q, additional %q; want PTR and SRV TXT A AAAA", types(m.Answer), types(m.Extra))
	}
	if !m.Response || !m.Authoritative || len(m.Question) != 0 || m.Id != 0 {
		t.Errorf("header: %v", m.MsgHdr)
	}
}

// TestAddressesOfTheInterfaceOnly: a query on wlan0 is answered with
// wlan0's address, not eth0's (RFC 6762 6.2).
func TestAddressesOfTheInterfaceOnly(t *testing.T) {
	e, now, _ := announcedEngine(t)
	for _, c := range []struct {
		ifc  netif.Interface
		src  string
		want []string
	}{
		{eth0, "192.168.1.50:5353", []string{"192.168.1.20", "fd00::20"}},
		{wlan0, "10.0.0.9:5353", []string{"10.0.0.7"}},
	} {
		e.Receive(now, inPacket{ifIndex: c.ifc.Index, fam: fam4, src: netip.MustParseAddrPort(c.src), dst: mc4, msg: query("_ftp._tcp.local.", dns.TypePTR)})
		e.Advance(now.Add(200 * time.Millisecond))
		out := e.TakeOut()
		if len(out) != 1 || out[0].ifIndex != c.ifc.Index {
			t.Fatalf("%s: sent %s", c.ifc.Name, describe(out))
		}
		if got := addrsOf(out[0].msg.Extra); !slices.Equal(got, c.want) {
			t.Errorf("%s: addresses %v, want %v", c.ifc.Name, got, c.want)
		}
	}
}

func TestNames(t *testing.T) {
	long := strings.Repeat("é", 40) // 80 bytes
	for _, c := range []struct{ got, want string }{
		{instanceName("Living Room Media", 1), "Living Room Media"},
		{instanceName("Living Room Media", 2), "Living Room Media (2)"},
		{instanceName("Living Room Media", 13), "Living Room Media (13)"},
		{instanceName(long, 1), strings.Repeat("é", 31)},            // 62 bytes: no half rune
		{instanceName(long, 2), strings.Repeat("é", 29) + " (2)"},   // 58 + 4
		{instanceName(long, 10), strings.Repeat("é", 29) + " (10)"}, // 58 + 5
		{hostName("pi-mediaftpd", 1), "pi-mediaftpd"},
		{hostName("pi-mediaftpd", 2), "pi-mediaftpd-2"},
		{hostName(strings.Repeat("a", 63), 3), strings.Repeat("a", 61) + "-3"},
		{defaultHost("raspberrypi"), "raspberrypi-mediaftpd"},
		{defaultHost("Living_Room.lan"), "living-room-mediaftpd"},
		{defaultHost("ünï"), "n-mediaftpd"},
		{defaultHost(""), "mediaftpd"},
		{defaultHost(strings.Repeat("x", 80)), strings.Repeat("x", 53) + "-mediaftpd"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
		if len(c.got) > maxLabel {
			t.Errorf("%q is %d bytes", c.got, len(c.got))
		}
	}
}

func TestCanonName(t *testing.T) {
	ours := names{instance: "Living Room Media (2) ü.x", host: "h"}.instanceFQDN(FTP(21))
	fromWire := `living\ room\ MEDIA\ \(2\)\ \195\188\.X._ftp._TCP.local.`
	if canonName(ours) != canonName(fromWire) || canonName(ours) == "" {
		t.Errorf("%q and %q should compare equal", ours, fromWire)
	}
	if canonName(ours) == canonName(`Living\ Room\ Media\ \(2\)\ ü.x._ftp._tcp.local.`) {
		t.Error("an unescaped dot is a label boundary")
	}
}

// response is a message another host sends.
func response(rrs ...string) *dns.Msg {
	m := new(dns.Msg)
	m.Response = true
	for _, s := range rrs {
		rr, err := dns.NewRR(s)
		if err != nil {
			panic(err)
		}
		m.Answer = append(m.Answer, rr)
	}
	return m
}

// otherSRV is a record of another device called "Living Room Media".
const otherSRV = `Living\ Room\ Media._ftp._tcp.local. 120 IN SRV 0 0 21 kitchen.local.`

// probeUntil runs the engine until its first probe on eth0 has gone out.
func probing(t *testing.T) (*engine, time.Time, *mcasttest.LogBuffer) {
	t.Helper()
	e, log := newTestEngine()
	e.SetInterfaces(t0, []netif.Interface{eth0})
	now := e.NextDeadline()
	e.Advance(now)
	if out := e.TakeOut(); len(out) != 1 || out[0].msg.Response {
		t.Fatalf("first probe: %s", describe(out))
	}
	return e, now, log
}

// TestConflictWhileProbingRenames: another device answers our probe for
// "Living Room Media": we become "Living Room Media (2)", log it, probe the
// new name and announce it.
func TestConflictWhileProbingRenames(t *testing.T) {
	e, now, log := probing(t)
	e.Receive(now.Add(10*time.Millisecond), inPacket{ifIndex: eth0.Index, fam: fam4, src: peer4, dst: mc4, msg: response(otherSRV)})
	if n := e.names(); n.instance != "Living Room Media (2)" || n.host != "pi-mediaftpd" {
		t.Fatalf("names after conflict: %+v", n)
	}
	if !strings.Contains(log.String(), `msg="mDNS: name already in use on the network; advertising under a new one" old="Living Room Media" new="Living Room Media (2)"`) {
		t.Errorf("log:\n%s", log)
	}
	out, _ := settle(e, now)
	var probed, announced bool
	for _, p := range out {
		s := p.msg.String()
		probed = probed || (!p.msg.Response && strings.Contains(s, `Living\ Room\ Media\ \(2\)._ftp._tcp.local.`))
		announced = announced || (p.msg.Response && strings.Contains(s, `Living\ Room\ Media\ \(2\)._ftp._tcp.local.`))
		if strings.Contains(s, `Living\ Room\ Media._ftp`) {
			t.Errorf("old name still used:\n%s", s)
		}
	}
	if !probed || !announced {
		t.Errorf("new name probed %v, announced %v", probed, announced)
	}
	if st := e.status(); st.Name != "Living Room Media (2)" || st.Services[1].Instance != "Living Room Media (2)._http._tcp.local" {
		t.Errorf("status %+v", st)
	}
}

// TestConflictOnBothNames: a second mediaftpd on a Pi with the same host
// name takes both names; both are renamed at once.
func TestConflictOnBothNames(t *testing.T) {
	e, now, _ := probing(t)
	e.Receive(now, inPacket{ifIndex: eth0.Index, fam: fam4, src: peer4, dst: mc4,
		msg: response(otherSRV, "pi-mediaftpd.local. 120 IN A 192.168.1.99")})
	if n := e.names(); n.instance != "Living Room Media (2)" || n.host != "pi-mediaftpd-2" {
		t.Errorf("names %+v", n)
	}
}

// TestNoConflict: our own records coming back (multicast loopback, or a
// second interface on the same link), goodbyes of another device, and
// records of other names are not conflicts.
func TestNoConflict(t *testing.T) {
	for _, c := range []struct {
		name string
		msg  func(e *engine) *dns.Msg
	}{
		{"our own announcement", func(e *engine) *dns.Msg { return e.announcement(e.ifaces[eth0.Index]) }},
		{"our wlan0 address heard on eth0", func(e *engine) *dns.Msg { return response("pi-mediaftpd.local. 120 IN A 10.0.0.7") }},
		{"a goodbye", func(e *engine) *dns.Msg { return response(strings.Replace(otherSRV, " 120 ", " 0 ", 1)) }},
		{"another instance", func(e *engine) *dns.Msg {
			return response(`Kitchen._ftp._tcp.local. 120 IN SRV 0 0 21 kitchen.local.`, "_ftp._tcp.local. 4500 IN PTR Kitchen._ftp._tcp.local.")
		}},
		{"shared PTR to our name", func(e *engine) *dns.Msg {
			return response(`_ftp._tcp.local. 4500 IN PTR Living\ Room\ Media._ftp._tcp.local.`)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, log := newTestEngine()
			e.SetInterfaces(t0, []netif.Interface{eth0, wlan0})
			now := e.NextDeadline()
			e.Advance(now)
			before := e.ifaces[eth0.Index].sent + e.ifaces[wlan0.Index].sent
			e.Receive(now, inPacket{ifIndex: eth0.Index, fam: fam4, src: peer4, dst: mc4, msg: c.msg(e)})
			if n := e.names(); n.instance != "Living Room Media" || n.host != "pi-mediaftpd" {
				t.Errorf("renamed to %+v; log:\n%s", n, log)
			}
			if after := e.ifaces[eth0.Index].sent + e.ifaces[wlan0.Index].sent; after != before || before == 0 {
				t.Errorf("probing restarted (%d probes sent before, %d after)", before, after)
			}
		})
	}
}

// TestConflictAfterAnnouncingProbesAgain: a device that starts answering
// for our announced name sends us back to probing (RFC 6762 9), without
// renaming yet; if it answers the new probes, we rename.
func TestConflictAfterAnnouncingProbesAgain(t *testing.T) {
	e, now, _ := announcedEngine(t)
	e.Receive(now, inPacket{ifIndex: eth0.Index, fam: fam4, src: peer4, dst: mc4, msg: response(otherSRV)})
	for _, st := range e.ifaces {
		if st.phase != phaseProbing {
			t.Errorf("%s is %v, want probing", st.info.Name, st.phase)
		}
	}
	if e.names().instance != "Living Room Media" {
		t.Errorf("renamed before probing: %+v", e.names())
	}
	e.Advance(e.NextDeadline())
	e.Receive(now.Add(time.Second), inPacket{ifIndex: eth0.Index, fam: fam4, src: peer4, dst: mc4, msg: response(otherSRV)})
	if e.names().instance != "Living Room Media (2)" {
		t.Errorf("not renamed: %+v", e.names())
	}
}

// TestSimultaneousProbes: two hosts probing for the same name compare
// their records; the lexicographically earlier one waits a second and
// probes again (RFC 6762 8.2).
func TestSimultaneousProbes(t *testing.T) {
	// Another host's probe proposes the same TXT and an SRV that differs
	// only in the port: ours is 21.
	probe := func(port int) *dns.Msg {
		m := query(`Living\ Room\ Media._ftp._tcp.local.`, dns.TypeANY)
		srv, _ := dns.NewRR(fmt.Sprintf(`Living\ Room\ Media._ftp._tcp.local. 120 IN SRV 0 0 %d pi-mediaftpd.local.`, port))
		txt, _ := dns.NewRR(`Living\ Room\ Media._ftp._tcp.local. 4500 IN TXT "path=/"`)
		m.Ns = []dns.RR{srv, txt}
		return m
	}
	for _, c := range []struct {
		port int
		lose bool
	}{{22, true}, {20, false}} {
		e, now, _ := probing(t)
		e.Receive(now, inPacket{ifIndex: eth0.Index, fam: fam4, src: peer4, dst: mc4, msg: probe(c.port)})
		st := e.ifaces[eth0.Index]
		deferred := st.sent == 0 && st.next.Sub(now) >= probeDeferral
		if deferred != c.lose {
			t.Errorf("against port %d: deferred %v (sent %d, next in %v), want %v", c.port, deferred, st.sent, st.next.Sub(now), c.lose)
		}
		if out := e.TakeOut(); len(out) != 0 {
			t.Errorf("answered while probing: %s", describe(out))
		}
	}
	// Our own probe, looped back, is ignored.
	e, now, _ := probing(t)
	e.Receive(now, inPacket{ifIndex: eth0.Index, fam: fam4, src: peer4, dst: mc4, msg: e.probeMsg(e.ifaces[eth0.Index], false)})
	if st := e.ifaces[eth0.Index]; st.sent != 1 {
		t.Errorf("own probe restarted probing")
	}
}

func TestCompareRecordSets(t *testing.T) {
	rr := func(s string) dns.RR {
		r, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a1 := rr("h.local. 120 IN A 10.0.0.1")
	a2 := rr("h.local. 120 IN A 10.0.0.2")
	aaaa := rr("h.local. 120 IN AAAA fd00::1")
	for _, c := range []struct {
		ours, theirs []dns.RR
		want         int
	}{
		{[]dns.RR{a1}, []dns.RR{a2}, -1},
		{[]dns.RR{a2}, []dns.RR{a1}, 1},
		{[]dns.RR{a1, a2}, []dns.RR{a2, a1}, 0}, // sorted first
		{[]dns.RR{a1}, []dns.RR{a1, a2}, -1},    // the longer list wins
		{[]dns.RR{aaaa}, []dns.RR{a2}, 1},       // type 28 > 1
	} {
		if got := compareRecordSets(c.ours, c.theirs); got != c.want {
			t.Errorf("compare(%v, %v) = %d, want %d", c.ours, c.theirs, got, c.want)
		}
	}
}

// TestRepeatedQueriesAndRateLimit: each query is answered, but a record
// is multicast at most once a second on a link, except to defend a name
// against a prober (250 ms).
func TestRepeatedQueriesAndRateLimit(t *testing.T) {
	e, now, _ := announcedEngine(t)
	q := func(at time.Duration) int {
		return len(ask(e, now.Add(at), query("_ftp._tcp.local.", dns.TypePTR), peer4, mc4))
	}
	if q(0) != 1 || q(500*time.Millisecond) != 0 || q(1500*time.Millisecond) != 1 || q(15*time.Second) != 1 || q(30*time.Second) != 1 {
		t.Error("want answers at 0 s, 1.5 s, 15 s and 30 s, none at 0.5 s")
	}
	srv := func(at time.Duration, probe bool) int {
		m := query(`Living\ Room\ Media._ftp._tcp.local.`, dns.TypeANY)
		if probe {
			rr, _ := dns.NewRR(otherSRV)
			m.Ns = []dns.RR{rr}
		}
		return len(ask(e, now.Add(at), m, peer4, mc4))
	}
	if srv(40*time.Second, false) != 1 || srv(40*time.Second+300*time.Millisecond, false) != 0 || srv(40*time.Second+600*time.Millisecond, true) != 1 {
		t.Error("want a probe answered 600 ms after the last answer, a query not")
	}
}

func TestKnownAnswerSuppression(t *testing.T) {
	e, now, _ := announcedEngine(t)
	for i, c := range []struct {
		ttl  int
		want int
	}{{4500, 0}, {2300, 0}, {2000, 1}} {
		m := query("_ftp._tcp.local.", dns.TypePTR)
		known, _ := dns.NewRR(fmt.Sprintf(`_ftp._tcp.local. %d IN PTR Living\ Room\ Media._ftp._tcp.local.`, c.ttl))
		m.Answer = []dns.RR{known}
		if got := len(ask(e, now.Add(time.Duration(i)*time.Minute), m, peer4, mc4)); got != c.want {
			t.Errorf("known answer with TTL %d: %d responses, want %d", c.ttl, got, c.want)
		}
	}
}

// TestUnicastResponseBit: a QU question is answered by unicast when the
// records were multicast lately, else by multicast (RFC 6762 5.4).
func TestUnicastResponseBit(t *testing.T) {
	e, now, _ := announcedEngine(t)
	qu := query(`Living\ Room\ Media._ftp._tcp.local.`, dns.TypeSRV)
	qu.Question[0].Qclass |= classQU
	out := ask(e, now, qu, peer4, mc4)
	if len(out) != 1 || out[0].dst != peer4 {
		t.Errorf("QU soon after announcing: %s", describe(out))
	}
	out = ask(e, now.Add(time.Minute), qu, peer4, mc4) // SRV TTL 120 s: a quarter is 30 s
	if len(out) != 1 || out[0].dst.IsValid() {
		t.Errorf("QU a minute later: %s", describe(out))
	}
}

// TestAddressChangeAnnouncedAtOnce: a new address is announced at once
// with the cache-flush bit, so caches drop the old one.
func TestAddressChangeAnnouncedAtOnce(t *testing.T) {
	e, now, log := announcedEngine(t)
	moved := eth0
	moved.V4 = []netip.Addr{netip.MustParseAddr("192.168.1.21")}
	e.SetInterfaces(now, []netif.Interface{moved, wlan0})
	e.Advance(now)
	out := e.TakeOut()
	if len(out) != 1 || !out[0].msg.Response || out[0].ifIndex != eth0.Index {
		t.Fatalf("sent %s", describe(out))
	}
	var found bool
	for _, rr := range out[0].msg.Answer {
		if a, ok := rr.(*dns.A); ok {
			found = a.A.String() == "192.168.1.21" && a.Hdr.Class == dns.ClassINET|classCacheFlush
		}
	}
	if !found {
		t.Errorf("no A 192.168.1.21 with cache-flush in %s", out[0].msg)
	}
	if !strings.Contains(log.String(), "mDNS: addresses changed") {
		t.Errorf("log:\n%s", log)
	}
	// An interface that loses its last address is dropped.
	e.SetInterfaces(now, []netif.Interface{moved})
	if len(e.ifaces) != 1 {
		t.Errorf("interfaces %v", e.ifaces)
	}
}

// TestConflictStormSlowsProbing: after 15 conflicts in 10 s, probing
// waits 5 s (RFC 6762 8.1).
func TestConflictStormSlowsProbing(t *testing.T) {
	e, now, _ := probing(t)
	for i := range conflictBurst {
		m := response()
		m.Answer = []dns.RR{&dns.SRV{Hdr: hdr(e.names().instanceFQDN(FTP(21)), dns.TypeSRV, 120), Port: 21, Target: "kitchen.local."}}
		e.Receive(now, inPacket{ifIndex: eth0.Index, fam: fam4, src: peer4, dst: mc4, msg: m})
		if i < conflictBurst-1 && e.ifaces[eth0.Index].next.Sub(now) > probeWait {
			t.Fatalf("slowed down after %d conflicts", i+1)
		}
	}
	if d := e.ifaces[eth0.Index].next.Sub(now); d < conflictPause {
		t.Errorf("next probe in %v after %d conflicts", d, conflictBurst)
	}
	if got := e.names().instance; got != fmt.Sprintf("Living Room Media (%d)", conflictBurst+1) {
		t.Errorf("name %q", got)
	}
}

// TestIgnored: responses from a port other than 5353, messages with an
// opcode or rcode, and packets from interfaces not in use are ignored.
func TestIgnored(t *testing.T) {
	e, now, _ := announcedEngine(t)
	bad := query("_ftp._tcp.local.", dns.TypePTR)
	bad.Opcode = dns.OpcodeUpdate
	if out := ask(e, now, bad, peer4, mc4); len(out) != 0 {
		t.Errorf("answered an UPDATE")
	}
	e.Receive(now, inPacket{ifIndex: 99, fam: fam4, src: peer4, dst: mc4, msg: query("_ftp._tcp.local.", dns.TypePTR)})
	e.Receive(now, inPacket{ifIndex: eth0.Index, fam: fam4, src: netip.MustParseAddrPort("192.168.1.50:40000"), msg: response(otherSRV)})
	e.Advance(now.Add(time.Second))
	if out := e.TakeOut(); len(out) != 0 || e.names().instance != "Living Room Media" {
		t.Errorf("sent %s; names %+v", describe(out), e.names())
	}
}

// FuzzReceive feeds arbitrary packets to an engine that is probing on one
// interface and announced on another: it must not panic, and whatever it
// sends must pack.
func FuzzReceive(f *testing.F) {
	seed := func(m *dns.Msg) {
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint16(5353), true)
	}
	seed(query("_ftp._tcp.local.", dns.TypePTR))
	seed(query(`Living\ Room\ Media._ftp._tcp.local.`, dns.TypeANY))
	seed(response(otherSRV, "pi-mediaftpd.local. 120 IN A 192.168.1.99"))
	f.Fuzz(func(t *testing.T, pkt []byte, port uint16, onEth0 bool) {
		m := new(dns.Msg)
		if m.Unpack(pkt) != nil {
			return
		}
		e, _ := newTestEngine()
		e.SetInterfaces(t0, []netif.Interface{eth0})
		_, now := settle(e, t0)
		e.SetInterfaces(now, []netif.Interface{eth0, wlan0})
		idx := wlan0.Index
		if onEth0 {
			idx = eth0.Index
		}
		e.Receive(now, inPacket{ifIndex: idx, fam: fam4, src: netip.AddrPortFrom(netip.MustParseAddr("192.168.1.50"), port), dst: mc4, msg: m})
		out, _ := settle(e, now)
		for _, p := range append(out, e.Goodbye()...) {
			if _, err := p.msg.Pack(); err != nil {
				t.Fatalf("cannot pack %s: %v", p.msg, err)
			}
		}
	})
}
