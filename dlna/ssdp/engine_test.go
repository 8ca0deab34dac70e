package ssdp

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/mcast/mcasttest"
	"github.com/mediaftpd/mediaftpd/internal/netif"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

const (
	testUDN      = "uuid:4d696e69-444c-164e-9d41-b827eb000001"
	mediaServer  = "urn:schemas-upnp-org:device:MediaServer:1"
	contentDir   = "urn:schemas-upnp-org:service:ContentDirectory:1"
	connMgr      = "urn:schemas-upnp-org:service:ConnectionManager:1"
	registrar    = "urn:microsoft.com:service:X_MS_MediaReceiverRegistrar:1"
	serverHeader = "Linux/6.1 UPnP/1.0 mediaftpd/1.0"
	testBootID   = 1767268800
	testConfigID = 7
)

func ip(s string) netip.Addr           { return netip.MustParseAddr(s) }
func ipp(s string) netip.AddrPort      { return netip.MustParseAddrPort(s) }
func prefix(s string) netip.Prefix     { return netip.MustParsePrefix(s) }
func addrs(ss ...string) []netip.Addr  { return mapSlice(ss, ip) }
func nets(ss ...string) []netip.Prefix { return mapSlice(ss, prefix) }

func mapSlice[T, U any](in []T, f func(T) U) []U {
	out := make([]U, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

// eth0 and wlan0 are a Pi's two interfaces on different networks.
var (
	eth0 = netif.Interface{Index: 2, Name: "eth0", Addrs: netif.Addrs{
		V4:   addrs("192.168.1.20"),
		V6:   addrs("fd00::20"),
		Nets: nets("192.168.1.0/24", "fd00::/64", "fe80::/64"),
	}}
	wlan0 = netif.Interface{Index: 3, Name: "wlan0", Addrs: netif.Addrs{
		V4:   addrs("10.0.0.7"),
		Nets: nets("10.0.0.0/24", "fe80::/64"),
	}}
)

func testLocation(a netip.Addr) string { return "http://" + a.String() + ":8200/rootDesc.xml" }

func testDevice() device {
	return device{
		udn:          testUDN,
		deviceType:   mediaServer,
		serviceTypes: []string{contentDir, connMgr, registrar},
		location:     testLocation,
		server:       serverHeader,
		maxAge:       DefaultMaxAge,
		interval:     DefaultNotifyInterval,
		allow:        defaultAllow,
		bootID:       testBootID,
		configID:     testConfigID,
	}
}

func newTestEngine(d device) (*engine, *mcasttest.LogBuffer) {
	log, buf := mcasttest.Logger()
	return newEngine(d, log, rand.New(rand.NewPCG(1, 2))), buf
}

// startEngine is an engine for d using ifaces whose start-up NOTIFY
// pairs went out, and the time after that.
func startEngine(t testing.TB, d device, ifaces ...netif.Interface) (*engine, time.Time) {
	t.Helper()
	e, _ := newTestEngine(d)
	e.SetInterfaces(t0, ifaces)
	if got, want := len(run(e, t0, t0.Add(time.Second))), 2*len(d.notifications())*len(ifaces); got != want {
		t.Fatalf("start-up sent %d packets, want %d", got, want)
	}
	return e, t0.Add(time.Second)
}

// startedEngine is startEngine with the test device on eth0 and wlan0.
func startedEngine(t testing.TB) (*engine, time.Time) {
	t.Helper()
	return startEngine(t, testDevice(), eth0, wlan0)
}

// replies keeps the search replies of out.
func replies(out []sent) []sent {
	return slices.DeleteFunc(out, func(s sent) bool { return s.m.method != "" })
}

// sent is an outgoing packet parsed back.
type sent struct {
	outPacket
	m *message
}

func (s sent) h(name string) string { return s.m.header[name] }

func parseOut(t testing.TB, out []outPacket) []sent {
	t.Helper()
	var r []sent
	for _, p := range out {
		m, err := parse(p.data)
		if err != nil {
			t.Fatalf("we sent something we cannot parse: %v\n%s", err, p.data)
		}
		if !bytes.HasSuffix(p.data, []byte("\r\n\r\n")) || bytes.Contains(bytes.ReplaceAll(p.data, []byte("\r\n"), nil), []byte("\n")) {
			t.Fatalf("not CRLF lines ending in an empty line: %q", p.data)
		}
		r = append(r, sent{p, m})
	}
	return r
}

// run advances the engine from now to until, firing each deadline on
// the way, and returns what it sent.
func run(e *engine, now, until time.Time) []outPacket {
	var out []outPacket
	for {
		d := e.NextDeadline()
		if d.IsZero() || d.After(until) {
			break
		}
		if d.After(now) {
			now = d
		}
		e.Advance(now)
		out = append(out, e.TakeOut()...)
	}
	return out
}

// msearch is an M-SEARCH with the given headers; "" leaves one out.
func msearch(st, mx string) []byte {
	var b strings.Builder
	b.WriteString("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\n")
	if mx != "" {
		b.WriteString("MX: " + mx + "\r\n")
	}
	if st != "" {
		b.WriteString("ST: " + st + "\r\n")
	}
	b.WriteString("USER-AGENT: Linux/6.1 UPnP/1.1 test/1.0\r\n\r\n")
	return []byte(b.String())
}

var (
	tv      = ipp("192.168.1.50:40000") // a TV on eth0's network
	tvWlan  = ipp("10.0.0.9:50000")
	mcGroup = group.Addr()
)

func searchFrom(src netip.AddrPort, ifc netif.Interface, data []byte) inPacket {
	return inPacket{ifIndex: ifc.Index, src: src, dst: mcGroup, data: data}
}

func TestNotifications(t *testing.T) {
	d := testDevice()
	want := []notification{
		{"upnp:rootdevice", testUDN + "::upnp:rootdevice"},
		{testUDN, testUDN},
		{mediaServer, testUDN + "::" + mediaServer},
		{contentDir, testUDN + "::" + contentDir},
		{connMgr, testUDN + "::" + connMgr},
		{registrar, testUDN + "::" + registrar},
	}
	if got := d.notifications(); !slices.Equal(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
}

// TestAliveSchedule: each set of NOTIFY goes out twice at start, 100 to
// 250 ms apart, and then again as a pair every NotifyInterval.
func TestAliveSchedule(t *testing.T) {
	e, _ := newTestEngine(testDevice())
	e.SetInterfaces(t0, []netif.Interface{eth0})
	var times []time.Duration
	now := t0
	for range 6 {
		now = e.NextDeadline()
		e.Advance(now)
		out := parseOut(t, e.TakeOut())
		if len(out) != 6 {
			t.Fatalf("at +%v sent %d packets, want 6", now.Sub(t0), len(out))
		}
		for i, p := range out {
			if p.dst != group || p.ifIndex != eth0.Index || p.src != ip("192.168.1.20") || p.h("NTS") != "ssdp:alive" {
				t.Fatalf("packet %d: %+v %v", i, p.outPacket, p.m.header)
			}
		}
		times = append(times, now.Sub(t0))
	}
	for i := 0; i < len(times); i += 2 {
		gap := times[i+1] - times[i]
		if gap < 100*time.Millisecond || gap > 250*time.Millisecond {
			t.Errorf("pair %d: copies %v apart", i/2, gap)
		}
		if want := time.Duration(i/2) * DefaultNotifyInterval; i > 0 && (times[i]-times[i-1] != DefaultNotifyInterval || times[i] < want) {
			t.Errorf("pair %d starts at +%v, %v after the last copy", i/2, times[i], times[i]-times[i-1])
		}
	}
	if times[0] != 0 {
		t.Errorf("first set at +%v, want at once", times[0])
	}
}

// TestAliveHeaders: one NOTIFY ssdp:alive per notification type, with
// every header UDA 1.1 1.2.2 asks for.
func TestAliveHeaders(t *testing.T) {
	e, _ := newTestEngine(testDevice())
	e.SetInterfaces(t0, []netif.Interface{eth0})
	e.Advance(t0)
	out := parseOut(t, e.TakeOut())
	wantNT := []string{"upnp:rootdevice", testUDN, mediaServer, contentDir, connMgr, registrar}
	if len(out) != len(wantNT) {
		t.Fatalf("sent %d", len(out))
	}
	for i, p := range out {
		want := map[string]string{
			"HOST":              "239.255.255.250:1900",
			"CACHE-CONTROL":     "max-age=1800",
			"LOCATION":          "http://192.168.1.20:8200/rootDesc.xml",
			"NT":                wantNT[i],
			"NTS":               "ssdp:alive",
			"SERVER":            serverHeader,
			"USN":               testUDN + "::" + wantNT[i],
			"BOOTID.UPNP.ORG":   "1767268800",
			"CONFIGID.UPNP.ORG": "7",
		}
		if wantNT[i] == testUDN {
			want["USN"] = testUDN
		}
		if p.m.method != "NOTIFY" || p.m.target != "*" || p.m.proto != "HTTP/1.1" {
			t.Errorf("start line %q %q %q", p.m.method, p.m.target, p.m.proto)
		}
		if fmt.Sprint(p.m.header) != fmt.Sprint(want) {
			t.Errorf("NOTIFY %d:\n got %v\nwant %v", i, p.m.header, want)
		}
	}
}

// TestAnnouncedLocation: the LOCATION of a NOTIFY skips link-local
// addresses unless the interface has nothing else.
func TestAnnouncedLocation(t *testing.T) {
	for _, c := range []struct {
		v4   []string
		want string
	}{
		{[]string{"192.168.1.20"}, "192.168.1.20"},
		{[]string{"169.254.10.10", "192.168.1.20"}, "192.168.1.20"},
		{[]string{"192.168.1.20", "10.1.1.1"}, "192.168.1.20"},
		{[]string{"169.254.10.10"}, "169.254.10.10"},
		{[]string{"169.254.10.10", "169.254.3.3"}, "169.254.10.10"},
	} {
		e, _ := newTestEngine(testDevice())
		ifc := netif.Interface{Index: 4, Name: "eth1", Addrs: netif.Addrs{V4: addrs(c.v4...)}}
		e.SetInterfaces(t0, []netif.Interface{ifc})
		e.Advance(t0)
		out := parseOut(t, e.TakeOut())
		if len(out) == 0 || out[0].h("LOCATION") != testLocation(ip(c.want)) || out[0].src != ip(c.want) {
			t.Errorf("%v: sent %d, LOCATION %q", c.v4, len(out), out[0].h("LOCATION"))
		}
	}
}

// TestInterfaceChanges: a new interface or a changed IPv4 address is
// announced at once; an IPv6 change is not; an interface gone is no
// longer announced on, and is announced again when it is back.
func TestInterfaceChanges(t *testing.T) {
	e, now := startedEngine(t)
	type step struct {
		what   string
		list   []netif.Interface
		wantOn map[int]string // interface index -> LOCATION host announced at once
	}
	moved := eth0
	moved.V4 = addrs("192.168.1.21")
	moved.Nets = nets("192.168.1.0/24")
	renet := moved
	renet.Nets = nets("192.168.0.0/16")
	v6 := renet
	v6.V6 = addrs("fd00::99")
	v6.Nets = append(slices.Clone(renet.Nets), prefix("fd00::/64"))
	usb := netif.Interface{Index: 9, Name: "usb0", Addrs: netif.Addrs{V4: addrs("172.16.0.1")}}
	for _, s := range []step{
		{"same list", []netif.Interface{eth0, wlan0}, nil},
		{"eth0 address changed", []netif.Interface{moved, wlan0}, map[int]string{2: "192.168.1.21"}},
		{"eth0 prefix changed", []netif.Interface{renet, wlan0}, map[int]string{2: "192.168.1.21"}},
		{"eth0 got IPv6 only", []netif.Interface{v6, wlan0}, nil},
		{"usb0 appeared", []netif.Interface{v6, wlan0, usb}, map[int]string{9: "172.16.0.1"}},
		{"wlan0 gone", []netif.Interface{v6, usb}, nil},
		{"wlan0 back", []netif.Interface{v6, wlan0, usb}, map[int]string{3: "10.0.0.7"}},
		{"wlan0 lost its IPv4 address", []netif.Interface{v6, {Index: 3, Name: "wlan0"}, usb}, nil},
	} {
		e.SetInterfaces(now, s.list)
		e.Advance(now)
		got := map[int]string{}
		for _, p := range parseOut(t, e.TakeOut()) {
			got[p.ifIndex] = strings.TrimSuffix(strings.TrimPrefix(p.h("LOCATION"), "http://"), ":8200/rootDesc.xml")
		}
		if fmt.Sprint(got) != fmt.Sprint(cmpMap(s.wantOn)) {
			t.Errorf("%s: announced %v, want %v", s.what, got, s.wantOn)
		}
		// Let the repeats go out, so the next step starts quiet.
		run(e, now, now.Add(time.Second))
		now = now.Add(2 * time.Second)
	}
	st := e.status()
	var names []string
	for _, i := range st.Interfaces {
		names = append(names, i.Name)
	}
	if fmt.Sprint(names) != "[eth0 usb0]" {
		t.Errorf("status interfaces %v", names)
	}
}

func cmpMap(m map[int]string) map[int]string {
	if m == nil {
		return map[int]string{}
	}
	return m
}

// TestSearchTargets: which search targets are answered, with which ST
// and USN.
func TestSearchTargets(t *testing.T) {
	v2 := testDevice()
	v2.deviceType = "urn:schemas-upnp-org:device:MediaServer:2"
	v2.serviceTypes = []string{"urn:schemas-upnp-org:service:ContentDirectory:3", connMgr}
	all := []string{"upnp:rootdevice", testUDN, mediaServer, contentDir, connMgr, registrar}
	for _, c := range []struct {
		dev  device
		st   string
		want []string // ST of each reply; the USN is derived
	}{
		{testDevice(), "ssdp:all", all},
		{testDevice(), "upnp:rootdevice", []string{"upnp:rootdevice"}},
		{testDevice(), testUDN, []string{testUDN}},
		{testDevice(), strings.ToUpper(testUDN[:5]) + strings.ToUpper(testUDN[5:]), []string{testUDN}},
		{testDevice(), "uuid:4d696e69-444c-164e-9d41-b827eb000002", nil},
		{testDevice(), mediaServer, []string{mediaServer}},
		{testDevice(), contentDir, []string{contentDir}},
		{testDevice(), connMgr, []string{connMgr}},
		{testDevice(), registrar, []string{registrar}},
		{testDevice(), "urn:schemas-upnp-org:service:ContentDirectory:2", nil}, // higher version
		{testDevice(), "urn:schemas-upnp-org:device:MediaRenderer:1", nil},
		{testDevice(), "urn:schemas-upnp-org:service:AVTransport:1", nil},
		{testDevice(), "urn:schemas-upnp-org:device:MediaServer", nil},
		{testDevice(), "urn:schemas-upnp-org:device:MediaServer:", nil},
		{testDevice(), "urn:schemas-upnp-org:device:MediaServer:0", nil},
		{testDevice(), "urn:schemas-upnp-org:device:MediaServer:x", nil},
		{testDevice(), "urn:schemas-upnp-org:device:MediaServe:1", nil},
		{testDevice(), "urn:schemas-upnp-org:device:mediaserver:1", nil}, // types are case-sensitive
		{testDevice(), "ssdp:ALL", nil},
		{testDevice(), "upnp:rootdevice2", nil},
		{testDevice(), "ST", nil},
		// Lower versions are answered with the version searched for.
		{v2, "urn:schemas-upnp-org:device:MediaServer:1", []string{"urn:schemas-upnp-org:device:MediaServer:1"}},
		{v2, "urn:schemas-upnp-org:device:MediaServer:2", []string{"urn:schemas-upnp-org:device:MediaServer:2"}},
		{v2, "urn:schemas-upnp-org:device:MediaServer:3", nil},
		{v2, "urn:schemas-upnp-org:service:ContentDirectory:1", []string{"urn:schemas-upnp-org:service:ContentDirectory:1"}},
		{v2, "urn:schemas-upnp-org:service:ContentDirectory:2", []string{"urn:schemas-upnp-org:service:ContentDirectory:2"}},
		{v2, "urn:schemas-upnp-org:service:ContentDirectory:4", nil},
		{v2, "ssdp:all", []string{"upnp:rootdevice", testUDN, "urn:schemas-upnp-org:device:MediaServer:2", "urn:schemas-upnp-org:service:ContentDirectory:3", connMgr}},
	} {
		e, now := startEngine(t, c.dev, eth0)
		e.Receive(now, searchFrom(tv, eth0, msearch(c.st, "1")))
		out := replies(parseOut(t, run(e, now, now.Add(2*time.Second))))
		var got []string
		for _, p := range out {
			got = append(got, p.h("ST"))
			wantUSN := testUDN + "::" + p.h("ST")
			if p.h("ST") == testUDN {
				wantUSN = testUDN
			}
			if p.h("USN") != wantUSN {
				t.Errorf("ST %s: reply ST %s with USN %s", c.st, p.h("ST"), p.h("USN"))
			}
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(c.want))
		if !slices.Equal(got, want) {
			t.Errorf("ST %s (device %s): replies %v, want %v", c.st, c.dev.deviceType, got, want)
		}
		if st := e.status(); st.Searches != 1 || (st.Answered == 1) != (len(c.want) > 0) {
			t.Errorf("ST %s: searches %d answered %d", c.st, st.Searches, st.Answered)
		}
	}
}

// TestReplyHeaders: the reply is unicast to the searcher, out of the
// interface the search came in on, with the headers of UDA 1.1 1.3.3.
func TestReplyHeaders(t *testing.T) {
	e, now := startedEngine(t)
	e.Receive(now, searchFrom(tvWlan, wlan0, msearch(contentDir, "2")))
	out := parseOut(t, run(e, now, now.Add(3*time.Second)))
	if len(out) != 1 {
		t.Fatalf("sent %d packets", len(out))
	}
	p := out[0]
	if p.dst != tvWlan || p.ifIndex != wlan0.Index || p.src != ip("10.0.0.7") {
		t.Errorf("sent to %v on %d from %v", p.dst, p.ifIndex, p.src)
	}
	if p.m.method != "" || p.m.proto != "HTTP/1.1" || p.m.status != 200 || !bytes.HasPrefix(p.data, []byte("HTTP/1.1 200 OK\r\n")) {
		t.Errorf("status line %q", bytes.SplitN(p.data, []byte("\r\n"), 2)[0])
	}
	sentAt, err := time.Parse("Mon, 02 Jan 2006 15:04:05 GMT", p.h("DATE"))
	if err != nil || sentAt.Before(now.Truncate(time.Second)) || sentAt.After(now.Add(2*time.Second)) {
		t.Errorf("DATE %q (%v)", p.h("DATE"), err)
	}
	want := map[string]string{
		"CACHE-CONTROL":     "max-age=1800",
		"DATE":              p.h("DATE"),
		"EXT":               "",
		"LOCATION":          "http://10.0.0.7:8200/rootDesc.xml",
		"SERVER":            serverHeader,
		"ST":                contentDir,
		"USN":               testUDN + "::" + contentDir,
		"BOOTID.UPNP.ORG":   "1767268800",
		"CONFIGID.UPNP.ORG": "7",
	}
	if fmt.Sprint(p.m.header) != fmt.Sprint(want) {
		t.Errorf("reply:\n got %v\nwant %v", p.m.header, want)
	}
}

// TestReplyLocation: the LOCATION of a reply is reachable from the
// searcher: the address a unicast search went to, else the interface's
// address on the searcher's subnet, else one that is not link-local.
func TestReplyLocation(t *testing.T) {
	multi := netif.Interface{Index: 5, Name: "br0", Addrs: netif.Addrs{
		V4:   addrs("169.254.5.5", "192.168.1.20", "192.168.2.20"),
		Nets: nets("169.254.0.0/16", "192.168.1.0/24", "192.168.2.0/24"),
	}}
	linkLocal := netif.Interface{Index: 6, Name: "eth9", Addrs: netif.Addrs{V4: addrs("169.254.6.6"), Nets: nets("169.254.0.0/16")}}
	for _, c := range []struct {
		ifc  netif.Interface
		src  string
		dst  string
		want string
	}{
		{multi, "192.168.2.77:1234", "239.255.255.250", "192.168.2.20"},
		{multi, "192.168.1.77:1234", "239.255.255.250", "192.168.1.20"},
		{multi, "10.9.9.9:1234", "239.255.255.250", "192.168.1.20"},    // another subnet: the first
		{multi, "169.254.1.1:1234", "239.255.255.250", "192.168.1.20"}, // link-local searcher: still not link-local
		{multi, "192.168.1.77:1234", "192.168.2.20", "192.168.2.20"},   // unicast: the address it went to
		{multi, "192.168.1.77:1234", "", "192.168.1.20"},               // destination unknown
		{linkLocal, "169.254.1.1:1234", "239.255.255.250", "169.254.6.6"},
	} {
		e, now := startEngine(t, testDevice(), c.ifc)
		p := searchFrom(ipp(c.src), c.ifc, msearch(mediaServer, "1"))
		p.dst = netip.Addr{}
		if c.dst != "" {
			p.dst = ip(c.dst)
		}
		e.Receive(now, p)
		var loc []string
		for _, s := range replies(parseOut(t, run(e, now, now.Add(2*time.Second)))) {
			loc = append(loc, s.h("LOCATION"))
			if s.src != ip(c.want) {
				t.Errorf("%s from %s to %s: sent from %v", c.ifc.Name, c.src, c.dst, s.src)
			}
		}
		if len(loc) != 1 || loc[0] != testLocation(ip(c.want)) {
			t.Errorf("%s from %s to %s: LOCATION %v, want %s", c.ifc.Name, c.src, c.dst, loc, c.want)
		}
	}
}

// TestSearchValidation: what an M-SEARCH must carry, and how MX sets the
// delay.
func TestSearchValidation(t *testing.T) {
	good := "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 2\r\nST: ssdp:all\r\n\r\n"
	without := func(h string) string {
		var keep []string
		for _, l := range strings.Split(good, "\r\n") {
			if !strings.HasPrefix(l, h+":") {
				keep = append(keep, l)
			}
		}
		return strings.Join(keep, "\r\n")
	}
	replace := func(old, new string) string { return strings.Replace(good, old, new, 1) }
	for _, c := range []struct {
		what      string
		data      string
		unicast   bool
		replies   int           // 0: none
		maxDelay  time.Duration // every reply within it
		malformed bool
	}{
		{"good", good, false, 6, 2 * time.Second, false},
		{"lower-case header names, odd spacing", "M-SEARCH * HTTP/1.1\r\nhost:239.255.255.250:1900\r\nman:\"ssdp:discover\"\r\nmx:\t2 \r\nst:ssdp:all\r\n\r\n", false, 6, 2 * time.Second, false},
		{"bare LF lines", strings.ReplaceAll(good, "\r\n", "\n"), false, 6, 2 * time.Second, false},
		{"no final empty line", strings.TrimSuffix(good, "\r\n"), false, 6, 2 * time.Second, false},
		{"no MX", without("MX"), false, 0, 0, true},
		{"empty MX", replace("MX: 2", "MX:"), false, 0, 0, true},
		{"MX not a number", replace("MX: 2", "MX: two"), false, 0, 0, true},
		{"MX negative", replace("MX: 2", "MX: -1"), false, 0, 0, true},
		{"MX fraction", replace("MX: 2", "MX: 1.5"), false, 0, 0, true},
		{"MX twice", replace("MX: 2", "MX: 2\r\nMX: 3"), false, 0, 0, true},
		{"MX 0: at once", replace("MX: 2", "MX: 0"), false, 6, 0, false},
		{"MX 120 capped at 5 s", replace("MX: 2", "MX: 120"), false, 6, 5 * time.Second, false},
		{"MX huge capped at 5 s", replace("MX: 2", "MX: 99999999999999999999999"), false, 6, 5 * time.Second, false},
		{"no MAN", without("MAN"), false, 0, 0, true},
		{"MAN unquoted", replace(`"ssdp:discover"`, "ssdp:discover"), false, 0, 0, true},
		{"MAN other", replace(`"ssdp:discover"`, `"ssdp:other"`), false, 0, 0, true},
		{"no HOST", without("HOST"), false, 0, 0, true},
		{"empty HOST", replace("HOST: 239.255.255.250:1900", "HOST:"), false, 0, 0, true},
		{"no ST", without("ST"), false, 0, 0, true},
		{"empty ST", replace("ST: ssdp:all", "ST: "), false, 0, 0, true},
		{"ST twice", replace("ST: ssdp:all", "ST: ssdp:all\r\nST: upnp:rootdevice"), false, 0, 0, true},
		{"target not *", replace("M-SEARCH *", "M-SEARCH /"), false, 0, 0, true},
		{"HTTP/1.0", replace("HTTP/1.1", "HTTP/1.0"), false, 0, 0, true},
		{"lower-case method", replace("M-SEARCH", "m-search"), false, 0, 0, true},
		{"unicast without MX: at once", without("MX"), true, 6, 0, false},
		{"unicast with MX 5: at once", replace("MX: 2", "MX: 5"), true, 6, 0, false},
		{"unicast with bad MX: at once", replace("MX: 2", "MX: x"), true, 6, 0, false},
	} {
		e, now := startEngine(t, testDevice(), eth0)
		p := searchFrom(tv, eth0, []byte(c.data))
		if c.unicast {
			p.dst = ip("192.168.1.20")
		}
		e.Receive(now, p)
		for _, r := range e.pending {
			if d := r.at.Sub(now); d < 0 || d > c.maxDelay || (c.maxDelay > 0 && d == c.maxDelay) {
				t.Errorf("%s: reply delayed %v, want under %v", c.what, d, c.maxDelay)
			}
		}
		got := len(replies(parseOut(t, run(e, now, now.Add(10*time.Second)))))
		if got != c.replies {
			t.Errorf("%s: %d replies, want %d", c.what, got, c.replies)
		}
		if m := e.status().Dropped.Malformed; (m == 1) != c.malformed || m > 1 {
			t.Errorf("%s: malformed count %d", c.what, m)
		}
	}
}

// TestRepliesSpread: the replies to one ssdp:all get their own random
// delays within MX, and so do separate searches.
func TestRepliesSpread(t *testing.T) {
	e, now := startedEngine(t)
	for i := range 8 {
		e.Receive(now, searchFrom(netip.AddrPortFrom(ip(fmt.Sprintf("192.168.1.%d", 100+i)), 4000), eth0, msearch("ssdp:all", "3")))
	}
	delays := map[time.Duration]bool{}
	for _, r := range e.pending {
		d := r.at.Sub(now)
		if d < 0 || d >= 3*time.Second {
			t.Errorf("delay %v outside [0, 3s)", d)
		}
		delays[d] = true
	}
	if len(e.pending) != 48 || len(delays) < 40 {
		t.Errorf("%d replies queued with %d distinct delays", len(e.pending), len(delays))
	}
}

// TestAllow: sources Allow refuses get nothing, silently, and are
// counted; by default only private, link-local and loopback sources are
// answered.
func TestAllow(t *testing.T) {
	for _, c := range []struct {
		src    string
		allow  func(netip.Addr) bool
		answer bool
	}{
		{"192.168.1.50:1900", nil, true},
		{"10.1.2.3:1900", nil, true},
		{"172.16.0.9:1900", nil, true},
		{"172.31.255.1:1900", nil, true},
		{"169.254.3.4:1900", nil, true},
		{"127.0.0.1:1900", nil, true},
		{"172.32.0.1:1900", nil, false},
		{"8.8.8.8:1900", nil, false},
		{"100.64.0.1:1900", nil, false}, // carrier-grade NAT is not private
		{"[::ffff:192.168.1.50]:1900", nil, true},
		{"[::ffff:8.8.8.8]:1900", nil, false},
		{"192.168.1.50:1900", func(a netip.Addr) bool { return a == ip("192.168.1.51") }, false},
		{"8.8.8.8:1900", func(netip.Addr) bool { return true }, true},
	} {
		d := testDevice()
		if c.allow != nil {
			d.allow = c.allow
		}
		e, now := startEngine(t, d, eth0)
		e.Receive(now, searchFrom(ipp(c.src), eth0, msearch("upnp:rootdevice", "1")))
		e.Receive(now, searchFrom(ipp(c.src), eth0, []byte("garbage")))
		out := replies(parseOut(t, run(e, now, now.Add(2*time.Second))))
		st := e.status()
		if c.answer {
			if len(out) != 1 || st.Dropped.NotAllowed != 0 || st.Dropped.Malformed != 1 {
				t.Errorf("%s: %d replies, dropped %+v", c.src, len(out), st.Dropped)
			}
		} else if len(out) != 0 || st.Dropped.NotAllowed != 2 || st.Dropped.Malformed != 0 || st.Searches != 0 {
			t.Errorf("%s: %d replies, dropped %+v, searches %d", c.src, len(out), st.Dropped, st.Searches)
		}
	}
}

// TestIgnored: other devices' NOTIFY and search replies, and packets on
// interfaces not in use, are neither answered nor counted as dropped;
// other methods and garbage are dropped as malformed.
func TestIgnored(t *testing.T) {
	e, now := startedEngine(t)
	notify := "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nNT: upnp:rootdevice\r\nNTS: ssdp:alive\r\nUSN: uuid:x::upnp:rootdevice\r\nLOCATION: http://192.168.1.9/\r\n\r\n"
	resp := "HTTP/1.1 200 OK\r\nST: upnp:rootdevice\r\nUSN: uuid:x::upnp:rootdevice\r\nEXT:\r\n\r\n"
	for _, c := range []struct {
		p         inPacket
		malformed uint64
	}{
		{searchFrom(tv, eth0, []byte(notify)), 0},
		{searchFrom(tv, eth0, []byte(resp)), 0},
		{inPacket{ifIndex: 42, src: tv, dst: mcGroup, data: msearch("ssdp:all", "1")}, 0},
		{searchFrom(tv, eth0, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")), 1},
		{searchFrom(tv, eth0, []byte("\x00\x01\x02")), 1},
		{searchFrom(tv, eth0, nil), 1},
		{searchFrom(netip.AddrPortFrom(ip("192.168.1.50"), 0), eth0, msearch("ssdp:all", "1")), 1},
	} {
		before := e.status().Dropped
		e.Receive(now, c.p)
		if out := run(e, now, now.Add(2*time.Second)); len(out) != 0 {
			t.Errorf("%q: sent %d", c.p.data, len(out))
		}
		after := e.status().Dropped
		if after.Malformed-before.Malformed != c.malformed || after.NotAllowed != before.NotAllowed {
			t.Errorf("%q: dropped %+v -> %+v", c.p.data, before, after)
		}
	}
}

// TestFloodOneSource: thousands of searches from one address are
// bounded: a repeated search from one socket is collapsed into the
// replies already queued, and a source gets replyBurst replies at once,
// then replyRate a second.
func TestFloodOneSource(t *testing.T) {
	e, now := startedEngine(t)
	start := now
	replies := 0
	for i := range 10000 {
		if i%100 == 0 && i > 0 {
			now = now.Add(100 * time.Millisecond) // 1000 searches a second for 10 s
			e.Advance(now)
			replies += len(e.TakeOut())
		}
		src := netip.AddrPortFrom(tv.Addr(), uint16(40000+i%500)) // many sockets
		st := "ssdp:all"
		if i%3 == 0 {
			st = contentDir
		}
		e.Receive(now, searchFrom(src, eth0, msearch(st, "5")))
		if len(e.pending) > maxPendingPerSource {
			t.Fatalf("search %d: %d replies queued for one source", i, len(e.pending))
		}
	}
	replies += len(run(e, now, now.Add(10*time.Second)))
	// Aside from the NOTIFY pairs every 60 s, the replies fit the budget.
	budget := replyBurst + int(now.Sub(start).Seconds()*replyRate) + 1
	notifies := int(e.status().Notifies) - 24
	if replies-notifies > budget {
		t.Errorf("%d replies to one source in %v, budget %d", replies-notifies, now.Sub(start), budget)
	}
	st := e.status()
	if st.Dropped.RateLimited == 0 || st.Dropped.RateLimited+st.Dropped.Duplicate+st.Answered != 10000 {
		t.Errorf("status %+v", st)
	}
	t.Logf("10000 searches in %v: %d replies, %d answered, %+v", now.Sub(start), replies-notifies, st.Answered, st.Dropped)

	// The same socket searching again while its replies wait is a
	// duplicate.
	e2, now2 := startedEngine(t)
	for range 100 {
		e2.Receive(now2, searchFrom(tv, eth0, msearch("ssdp:all", "3")))
	}
	if st := e2.status(); len(e2.pending) != 6 || st.Answered != 1 || st.Dropped.Duplicate != 99 {
		t.Errorf("same socket: %d queued, %+v", len(e2.pending), st)
	}
}

// TestFloodManySources: the replies queued in all stay under
// maxPendingTotal, and the rate memory under maxSources, however many
// sources search.
func TestFloodManySources(t *testing.T) {
	e, now := startedEngine(t)
	for i := range 5000 {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 1900)
		e.Receive(now, searchFrom(src, wlan0, msearch("ssdp:all", "5")))
		if len(e.pending) > maxPendingTotal || len(e.tat) > maxSources {
			t.Fatalf("search %d: %d queued, %d sources remembered", i, len(e.pending), len(e.tat))
		}
	}
	if st := e.status(); st.Dropped.RateLimited == 0 || st.Answered == 0 {
		t.Errorf("status %+v", st)
	}
	// Once the queue drains and the sources' allowances refill, new
	// sources are answered again.
	now = now.Add(10 * time.Second)
	run(e, now, now)
	if len(e.pending) != 0 {
		t.Fatalf("%d still queued", len(e.pending))
	}
	before := e.status().Answered
	e.Receive(now, searchFrom(ipp("10.200.0.1:1900"), wlan0, msearch("ssdp:all", "1")))
	if e.status().Answered != before+1 {
		t.Error("a new source is not answered after the flood")
	}
}

// TestByebye: the byebye set goes to every interface where alive went
// out, with NT, NTS, USN and no LOCATION; queued replies are forgotten.
func TestByebye(t *testing.T) {
	e, now := startedEngine(t)
	quiet := netif.Interface{Index: 7, Name: "eth7", Addrs: netif.Addrs{V4: addrs("192.168.7.1")}}
	e.SetInterfaces(now, []netif.Interface{eth0, wlan0, quiet}) // eth7 not yet announced: no advance
	e.Receive(now, searchFrom(tv, eth0, msearch("ssdp:all", "5")))
	out := parseOut(t, e.Goodbye())
	if len(out) != 12 {
		t.Fatalf("sent %d byebye", len(out))
	}
	nts := []string{"upnp:rootdevice", testUDN, mediaServer, contentDir, connMgr, registrar}
	for i, p := range out {
		wantIf := []int{eth0.Index, wlan0.Index}[i/6]
		want := map[string]string{
			"HOST":              "239.255.255.250:1900",
			"NT":                nts[i%6],
			"NTS":               "ssdp:byebye",
			"USN":               testUDN + "::" + nts[i%6],
			"BOOTID.UPNP.ORG":   "1767268800",
			"CONFIGID.UPNP.ORG": "7",
		}
		if nts[i%6] == testUDN {
			want["USN"] = testUDN
		}
		if p.ifIndex != wantIf || p.dst != group || fmt.Sprint(p.m.header) != fmt.Sprint(want) {
			t.Errorf("byebye %d on %d to %v: %v", i, p.ifIndex, p.dst, p.m.header)
		}
	}
	if len(e.pending) != 0 || len(e.queued) != 0 || len(e.perSource) != 0 {
		t.Errorf("replies still queued: %d", len(e.pending))
	}
}

// TestLocationUnusable: a Location that returns nothing usable announces
// nothing and says so in the status.
func TestLocationUnusable(t *testing.T) {
	for _, loc := range []string{"", "http://x/\r\nX-Evil: 1", "http://a b/"} {
		d := testDevice()
		d.location = func(netip.Addr) string { return loc }
		e, _ := newTestEngine(d)
		e.SetInterfaces(t0, []netif.Interface{eth0})
		e.Receive(t0, searchFrom(tv, eth0, msearch("ssdp:all", "0")))
		if out := run(e, t0, t0.Add(time.Second)); len(out) != 0 {
			t.Errorf("%q: sent %d", loc, len(out))
		}
		if st := e.status(); st.LastError == "" || st.Announcing {
			t.Errorf("%q: status %+v", loc, st)
		}
	}
}

// TestInterfaceGoneDropsReplies: replies queued on an interface that
// goes away are not sent.
func TestInterfaceGoneDropsReplies(t *testing.T) {
	e, now := startedEngine(t)
	e.Receive(now, searchFrom(tv, eth0, msearch("ssdp:all", "3")))
	e.Receive(now, searchFrom(tvWlan, wlan0, msearch("upnp:rootdevice", "3")))
	e.SetInterfaces(now, []netif.Interface{wlan0})
	out := parseOut(t, run(e, now, now.Add(4*time.Second)))
	if len(out) != 1 || out[0].dst != tvWlan {
		t.Errorf("sent %d", len(out))
	}
	if len(e.perSource) != 0 || len(e.queued) != 0 {
		t.Errorf("bookkeeping left: %v %v", e.perSource, e.queued)
	}
}

func TestDropLogIsRateLimited(t *testing.T) {
	e, log := newTestEngine(testDevice())
	e.SetInterfaces(t0, []netif.Interface{eth0})
	for i := range 1000 {
		e.Receive(t0.Add(time.Duration(i)*time.Millisecond), searchFrom(tv, eth0, []byte("junk")))
	}
	if n := strings.Count(log.String(), "dropped a packet"); n != 1 {
		t.Errorf("%d log lines for 1000 drops in 1 s", n)
	}
	e.Receive(t0.Add(11*time.Second), searchFrom(tv, eth0, []byte("junk")))
	if !strings.Contains(log.String(), "dropped_since_last_log=1000") {
		t.Errorf("log:\n%s", log)
	}
}
