package ssdp

import (
	"cmp"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/mcast"
	"github.com/mediaftpd/mediaftpd/internal/netif"
)

// Protocol constants (UDA 1.1 section 1) and the limits that keep a
// flood of searches bounded.
const (
	ssdpPort = 1900
	// maxMX caps the MX of a search: a device SHOULD treat more than 5 s
	// as 5 s (1.3.2).
	maxMX = 5 * time.Second
	// repeatGapMin and repeatGapMax bound the random gap between the two
	// copies of each set of NOTIFY messages: UDP may lose one, so every
	// set goes out twice (1.2.2), as MiniDLNA does.
	repeatGapMin = 100 * time.Millisecond
	repeatGapMax = 250 * time.Millisecond

	// replyRate and replyBurst limit the replies queued for one source
	// address: replyBurst at once (ten ssdp:all searches of a root device
	// with three services), then replyRate a second.
	replyRate  = 20
	replyBurst = 60
	// maxPendingPerSource and maxPendingTotal bound the replies waiting
	// for their random delay.
	maxPendingPerSource = 60
	maxPendingTotal     = 512
	// maxSources bounds the sources whose rate is remembered; when it is
	// full of busy sources, a new source's searches are dropped.
	maxSources = 1024
	// dropLogEvery: dropped packets are logged at debug level at most
	// this often per reason, since a flood must not flood the log too.
	dropLogEvery = 10 * time.Second
)

// group is the SSDP multicast group and port.
var group = netip.MustParseAddrPort("239.255.255.250:1900")

// inPacket is a received datagram.
type inPacket struct {
	ifIndex int            // the interface it came in on (IP_PKTINFO)
	src     netip.AddrPort // the sender
	// dst is the datagram's destination address (IP_PKTINFO): the SSDP
	// group, or one of our addresses for a unicast search; invalid if
	// unknown.
	dst  netip.Addr
	data []byte
}

// outPacket is a datagram to send.
type outPacket struct {
	ifIndex int        // the interface to send it out of
	src     netip.Addr // the source address to use; invalid leaves it to the system
	dst     netip.AddrPort
	data    []byte
}

// device is what is announced: a Server's fields, checked, with the
// defaults applied.
type device struct {
	udn          string   // "uuid:..."
	deviceType   string   // "urn:schemas-upnp-org:device:MediaServer:1"
	serviceTypes []string // "urn:schemas-upnp-org:service:ContentDirectory:1", ...
	location     func(netip.Addr) string
	server       string
	maxAge       time.Duration
	interval     time.Duration // between sets of NOTIFY ssdp:alive
	allow        func(netip.Addr) bool
	bootID       int64
	configID     int
}

// notification is one notification type (NT, or ST in a search reply)
// with its unique service name.
type notification struct{ nt, usn string }

// notifications returns what is announced, in UDA order: the root device,
// the device's UUID, its type, then each service type.
func (d *device) notifications() []notification {
	out := []notification{
		{"upnp:rootdevice", d.udn + "::upnp:rootdevice"},
		{d.udn, d.udn},
		{d.deviceType, d.udn + "::" + d.deviceType},
	}
	for _, s := range d.serviceTypes {
		out = append(out, notification{s, d.udn + "::" + s})
	}
	return out
}

// match returns the replies a search for target st gets: one for each
// notification type for ssdp:all; the root device; the UUID; or a device
// or service type we have in the same or a higher version. A search for
// a lower version is answered with the version searched for in ST and
// USN: UDA 1.1 1.3.2 says "the response MUST specify the same version as
// was contained in the search request".
func (d *device) match(st string) []notification {
	switch {
	case st == "ssdp:all":
		return d.notifications()
	case st == "upnp:rootdevice":
		return d.notifications()[:1]
	case len(st) > 5 && strings.EqualFold(st[:5], "uuid:"):
		if strings.EqualFold(st, d.udn) { // UUIDs are hexadecimal: any case
			return []notification{{d.udn, d.udn}}
		}
	case strings.HasPrefix(st, "urn:"):
		base, ver, ok := splitVersion(st)
		if !ok {
			return nil
		}
		for _, t := range append([]string{d.deviceType}, d.serviceTypes...) {
			if tb, tv, _ := splitVersion(t); tb == base && ver <= tv {
				return []notification{{st, d.udn + "::" + st}}
			}
		}
	}
	return nil
}

// splitVersion splits "urn:domain:device:type:2" into its base
// "urn:domain:device:type" and version 2. The version is a positive
// decimal number.
func splitVersion(t string) (base string, ver int, ok bool) {
	i := strings.LastIndexByte(t, ':')
	if i < 0 {
		return "", 0, false
	}
	v := t[i+1:]
	if v == "" || len(v) > 9 || strings.Trim(v, "0123456789") != "" {
		return "", 0, false
	}
	n, _ := strconv.Atoi(v)
	if n < 1 {
		return "", 0, false
	}
	return t[:i], n, true
}

// defaultAllow is the sources answered when Server.Allow is nil: private
// (RFC 1918), link-local and loopback addresses.
func defaultAllow(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLoopback()
}

// ifaceState is the server's state on one interface.
type ifaceState struct {
	info netif.Interface
	// addr is the address in the LOCATION of our NOTIFY messages: the
	// first IPv4 address that is not link-local, or a link-local one
	// when the interface has nothing else.
	addr       netip.Addr
	loc        string    // the LOCATION last announced
	next       time.Time // when the next set of NOTIFY ssdp:alive is due
	repeatNext bool      // the next set is the second copy of a pair
	announced  bool      // an alive set went out here, so a byebye is owed
}

// localAddr picks the address of info for a LOCATION: the address a
// unicast search was sent to; else an address that is not link-local,
// preferring one on the searcher's subnet (a multi-homed interface);
// else a link-local one. src and dst may be invalid (for a NOTIFY).
func localAddr(info netif.Interface, src, dst netip.Addr) netip.Addr {
	if dst.IsValid() && slices.Contains(info.V4, dst) {
		return dst
	}
	var first, linkLocal netip.Addr
	for _, a := range info.V4 {
		if a.IsLinkLocalUnicast() {
			if !linkLocal.IsValid() {
				linkLocal = a
			}
			continue
		}
		if !first.IsValid() {
			first = a
		}
		if src.IsValid() && slices.ContainsFunc(info.Nets, func(p netip.Prefix) bool { return p.Contains(a) && p.Contains(src) }) {
			return a
		}
	}
	if first.IsValid() {
		return first
	}
	return linkLocal
}

// nets4 returns the IPv4 prefixes of an interface.
func nets4(info netif.Interface) []netip.Prefix {
	return slices.DeleteFunc(slices.Clone(info.Nets), func(p netip.Prefix) bool { return !p.Addr().Is4() })
}

// replyKey identifies a queued reply: a second search for the same
// target from the same socket while one is queued is a duplicate.
type replyKey struct {
	ifIndex int
	dst     netip.AddrPort
	st      string
}

// reply is a search reply waiting for its random delay.
type reply struct {
	at    time.Time
	seq   uint64 // order of queueing, to send replies due at once in order
	key   replyKey
	usn   string
	local netip.Addr // the LOCATION address
}

// dropReason is why a received packet got no answer.
type dropReason int

const (
	dropMalformed dropReason = iota
	dropNotAllowed
	dropRateLimited
	dropDuplicate
	numDropReasons
)

func (r dropReason) String() string {
	return [...]string{"malformed", "source not allowed", "rate-limited", "duplicate"}[r]
}

// engine is the SSDP server without sockets or clock: the caller feeds it
// interface lists, received packets and the time, and sends what it puts
// in out. It is not safe for concurrent use; [Server.Run] owns it,
// through an [mcast.Loop].
type engine struct {
	d   device
	log *slog.Logger
	rng *rand.Rand

	ifaces map[int]*ifaceState
	out    []outPacket

	pending   []reply
	queued    map[replyKey]bool
	perSource map[netip.Addr]int       // queued replies per source address
	tat       map[netip.Addr]time.Time // per source: the rate limiter's theoretical arrival time (GCRA)
	seq       uint64

	searches, answered, replies, notifies uint64
	dropped                               [numDropReasons]uint64
	dropLogged                            [numDropReasons]time.Time
	droppedSinceLog                       [numDropReasons]uint64
	locationProblem                       string // "" when Location gave usable URLs
}

var _ mcast.Engine[inPacket, outPacket] = (*engine)(nil)

func newEngine(d device, log *slog.Logger, rng *rand.Rand) *engine {
	return &engine{
		d:         d,
		log:       log,
		rng:       rng,
		ifaces:    map[int]*ifaceState{},
		queued:    map[replyKey]bool{},
		perSource: map[netip.Addr]int{},
		tat:       map[netip.Addr]time.Time{},
	}
}

// SetInterfaces brings the interface states in line with list, the
// interfaces as they are now. An interface with an IPv4 address is used;
// a new one, or one whose IPv4 addresses changed, is announced at once.
func (e *engine) SetInterfaces(now time.Time, list []netif.Interface) {
	seen := map[int]bool{}
	for _, info := range list {
		if len(info.V4) == 0 {
			continue
		}
		seen[info.Index] = true
		addr := localAddr(info, netip.Addr{}, netip.Addr{})
		st, ok := e.ifaces[info.Index]
		switch {
		case !ok || st.info.Name != info.Name:
			if ok {
				e.forget(info.Index)
			}
			e.ifaces[info.Index] = &ifaceState{info: info, addr: addr, next: now}
			e.log.Info("SSDP: using interface", "interface", info.Name, "addrs", info.V4)
		case !slices.Equal(st.info.V4, info.V4) || !slices.Equal(nets4(st.info), nets4(info)):
			st.info, st.addr = info, addr
			st.next, st.repeatNext = now, false
			e.log.Info("SSDP: addresses changed; announcing again", "interface", info.Name, "addrs", info.V4)
		default:
			st.info = info
		}
	}
	for _, idx := range slices.Sorted(maps.Keys(e.ifaces)) {
		if !seen[idx] {
			e.log.Info("SSDP: interface no longer used", "interface", e.ifaces[idx].info.Name)
			e.forget(idx)
			delete(e.ifaces, idx)
		}
	}
}

// forget drops the replies queued on an interface.
func (e *engine) forget(ifIndex int) {
	e.pending = slices.DeleteFunc(e.pending, func(r reply) bool {
		if r.key.ifIndex != ifIndex {
			return false
		}
		e.unqueue(r)
		return true
	})
}

func (e *engine) unqueue(r reply) {
	delete(e.queued, r.key)
	src := r.key.dst.Addr()
	if e.perSource[src]--; e.perSource[src] <= 0 {
		delete(e.perSource, src)
	}
}

// Receive handles one received datagram.
func (e *engine) Receive(now time.Time, p inPacket) {
	st := e.ifaces[p.ifIndex]
	if st == nil {
		return // not an interface we use
	}
	src := p.src.Addr().Unmap()
	if !e.d.allow(src) {
		e.drop(now, dropNotAllowed, p.src, "")
		return
	}
	if !src.Is4() || p.src.Port() == 0 {
		e.drop(now, dropMalformed, p.src, "source address")
		return
	}
	m, err := parse(p.data)
	if err != nil {
		e.drop(now, dropMalformed, p.src, err.Error())
		return
	}
	switch m.method {
	case "M-SEARCH":
		e.search(now, st, netip.AddrPortFrom(src, p.src.Port()), p.dst, m)
	case "NOTIFY", "":
		// Another device's announcement, or a reply to someone's
		// search: nothing for a device to do.
	default:
		e.drop(now, dropMalformed, p.src, "method "+clip(m.method))
	}
}

// search answers an M-SEARCH (UDA 1.1 1.3.2) by queueing the replies.
func (e *engine) search(now time.Time, st *ifaceState, src netip.AddrPort, dst netip.Addr, m *message) {
	bad := func(why string) { e.drop(now, dropMalformed, src, why) }
	if m.target != "*" || m.proto != "HTTP/1.1" {
		bad("start line")
		return
	}
	if h, _ := m.get("HOST"); h == "" {
		bad("no HOST")
		return
	}
	if man, _ := m.get("MAN"); man != `"ssdp:discover"` {
		bad("MAN is not \"ssdp:discover\"")
		return
	}
	target, _ := m.get("ST")
	if target == "" {
		bad("no ST")
		return
	}
	// A search sent to one of our addresses is answered at once, MX or
	// not (UDA 1.1: unicast searches carry no MX and are answered within
	// a second). A multicast search without a valid MX gets nothing.
	unicast := dst.IsValid() && slices.Contains(st.info.V4, dst)
	var mx time.Duration
	if !unicast {
		v, ok := m.get("MX")
		if mx, ok = parseMX(v); !ok {
			bad("MX " + strconv.Quote(clip(v)))
			return
		}
	}
	e.searches++

	targets := e.d.match(target)
	if len(targets) == 0 {
		return // not for us
	}
	local := localAddr(st.info, src.Addr(), dst)
	fresh := targets[:0:0]
	for _, t := range targets {
		if !e.queued[replyKey{st.info.Index, src, t.nt}] {
			fresh = append(fresh, t)
		}
	}
	switch {
	case len(fresh) == 0:
		e.drop(now, dropDuplicate, src, target)
		return
	case len(e.pending)+len(fresh) > maxPendingTotal,
		e.perSource[src.Addr()]+len(fresh) > maxPendingPerSource,
		!e.charge(now, src.Addr(), len(fresh)):
		e.drop(now, dropRateLimited, src, target)
		return
	}
	e.answered++
	for _, t := range fresh {
		var delay time.Duration
		if mx > 0 {
			delay = time.Duration(e.rng.Int64N(int64(mx)))
		}
		r := reply{at: now.Add(delay), seq: e.seq, key: replyKey{st.info.Index, src, t.nt}, usn: t.usn, local: local}
		e.seq++
		e.pending = append(e.pending, r)
		e.queued[r.key] = true
		e.perSource[src.Addr()]++
	}
}

// charge takes n replies from src's allowance (a generic cell rate
// algorithm: replyBurst at once, replyRate a second) and reports whether
// there were enough.
func (e *engine) charge(now time.Time, src netip.Addr, n int) bool {
	const every = time.Second / replyRate
	tat, ok := e.tat[src]
	if !ok && len(e.tat) >= maxSources {
		maps.DeleteFunc(e.tat, func(_ netip.Addr, t time.Time) bool { return !t.After(now) })
		if len(e.tat) >= maxSources {
			return false
		}
	}
	if tat.Before(now) {
		tat = now
	}
	tat = tat.Add(time.Duration(n) * every)
	if tat.Sub(now) > replyBurst*every {
		return false
	}
	e.tat[src] = tat
	return true
}

// drop counts a packet that gets no answer, and logs it at debug level
// at most every dropLogEvery for each reason.
func (e *engine) drop(now time.Time, why dropReason, src netip.AddrPort, detail string) {
	e.dropped[why]++
	e.droppedSinceLog[why]++
	if last := e.dropLogged[why]; !last.IsZero() && now.Sub(last) < dropLogEvery {
		return
	}
	e.log.Debug("SSDP: dropped a packet", "why", why.String(), "from", src, "detail", detail,
		"dropped_since_last_log", e.droppedSinceLog[why])
	e.dropLogged[why] = now
	e.droppedSinceLog[why] = 0
}

// location returns the LOCATION URL for a local address, or "" when
// Location gives nothing usable (which is then shown in Status).
func (e *engine) location(addr netip.Addr) string {
	u := e.d.location(addr)
	if u == "" || len(u) > 1024 || strings.ContainsFunc(u, isCTL) || strings.ContainsAny(u, " ") {
		e.locationProblem = "Location gave " + strconv.Quote(clip(u)) + " for " + addr.String() + ", not a usable URL; nothing announced there"
		return ""
	}
	e.locationProblem = ""
	return u
}

// Advance sends the NOTIFY sets and the search replies due by now.
func (e *engine) Advance(now time.Time) {
	for _, idx := range slices.Sorted(maps.Keys(e.ifaces)) {
		st := e.ifaces[idx]
		if st.next.IsZero() || now.Before(st.next) {
			continue
		}
		e.alive(st)
		if st.repeatNext {
			st.repeatNext, st.next = false, now.Add(e.d.interval)
		} else {
			gap := repeatGapMin + time.Duration(e.rng.Int64N(int64(repeatGapMax-repeatGapMin)+1))
			st.repeatNext, st.next = true, now.Add(gap)
		}
	}

	var due []reply
	e.pending = slices.DeleteFunc(e.pending, func(r reply) bool {
		if now.Before(r.at) {
			return false
		}
		due = append(due, r)
		e.unqueue(r)
		return true
	})
	slices.SortFunc(due, func(a, b reply) int { return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.seq, b.seq)) })
	for _, r := range due {
		loc := e.location(r.local)
		if loc == "" {
			continue
		}
		e.out = append(e.out, outPacket{ifIndex: r.key.ifIndex, src: r.local, dst: r.key.dst, data: e.replyMsg(now, r.key.st, r.usn, loc)})
		e.replies++
	}
}

// alive queues a set of NOTIFY ssdp:alive on st's interface.
func (e *engine) alive(st *ifaceState) {
	loc := e.location(st.addr)
	if loc == "" {
		return
	}
	if loc != st.loc {
		e.log.Info("SSDP: announcing", "interface", st.info.Name, "location", loc, "udn", e.d.udn)
		st.loc = loc
	}
	for _, n := range e.d.notifications() {
		e.out = append(e.out, outPacket{ifIndex: st.info.Index, src: st.addr, dst: group, data: e.notifyMsg(n, "ssdp:alive", loc)})
		e.notifies++
	}
	st.announced = true
}

// Goodbye returns a set of NOTIFY ssdp:byebye for every interface where
// alive went out, and forgets the queued replies.
func (e *engine) Goodbye() []outPacket {
	var out []outPacket
	for _, idx := range slices.Sorted(maps.Keys(e.ifaces)) {
		st := e.ifaces[idx]
		if !st.announced {
			continue
		}
		for _, n := range e.d.notifications() {
			out = append(out, outPacket{ifIndex: idx, src: st.addr, dst: group, data: e.notifyMsg(n, "ssdp:byebye", "")})
		}
	}
	for _, r := range e.pending {
		e.unqueue(r)
	}
	e.pending = nil
	return out
}

// notifyMsg is a NOTIFY (UDA 1.1 1.2.2 and 1.2.3); byebye carries no
// CACHE-CONTROL, LOCATION or SERVER.
func (e *engine) notifyMsg(n notification, nts, loc string) []byte {
	var w writer
	w.line("NOTIFY * HTTP/1.1")
	w.header("HOST", group.String())
	if nts == "ssdp:alive" {
		w.header("CACHE-CONTROL", "max-age="+strconv.Itoa(int(e.d.maxAge/time.Second)))
		w.header("LOCATION", loc)
	}
	w.header("NT", n.nt)
	w.header("NTS", nts)
	if nts == "ssdp:alive" {
		w.header("SERVER", e.d.server)
	}
	w.header("USN", n.usn)
	e.upnpOrgHeaders(&w)
	return w.bytes()
}

// replyMsg is a search reply (UDA 1.1 1.3.3).
func (e *engine) replyMsg(now time.Time, st, usn, loc string) []byte {
	var w writer
	w.line("HTTP/1.1 200 OK")
	w.header("CACHE-CONTROL", "max-age="+strconv.Itoa(int(e.d.maxAge/time.Second)))
	w.header("DATE", now.UTC().Format(http.TimeFormat))
	w.header("EXT", "")
	w.header("LOCATION", loc)
	w.header("SERVER", e.d.server)
	w.header("ST", st)
	w.header("USN", usn)
	e.upnpOrgHeaders(&w)
	return w.bytes()
}

// upnpOrgHeaders writes BOOTID.UPNP.ORG and CONFIGID.UPNP.ORG, which UDA
// 1.1 requires in every announcement and reply; UDA 1.0 control points
// ignore them.
func (e *engine) upnpOrgHeaders(w *writer) {
	w.header("BOOTID.UPNP.ORG", strconv.FormatInt(e.d.bootID, 10))
	w.header("CONFIGID.UPNP.ORG", strconv.Itoa(e.d.configID))
}

// NextDeadline is when Advance next has something to do; zero if never.
func (e *engine) NextDeadline() time.Time {
	var next mcast.Earliest
	for _, st := range e.ifaces {
		next.Add(st.next)
	}
	for _, r := range e.pending {
		next.Add(r.at)
	}
	return next.Time()
}

// TakeOut returns and clears the packets to send.
func (e *engine) TakeOut() []outPacket {
	out := e.out
	e.out = nil
	return out
}

// status describes what is announced where, and the counters.
func (e *engine) status() Status {
	s := Status{
		Enabled:  true,
		UDN:      e.d.udn,
		BootID:   e.d.bootID,
		Searches: e.searches,
		Answered: e.answered,
		Replies:  e.replies,
		Notifies: e.notifies,
		Dropped: Dropped{
			Malformed:   e.dropped[dropMalformed],
			NotAllowed:  e.dropped[dropNotAllowed],
			RateLimited: e.dropped[dropRateLimited],
			Duplicate:   e.dropped[dropDuplicate],
		},
		LastError: e.locationProblem,
	}
	for _, idx := range slices.Sorted(maps.Keys(e.ifaces)) {
		st := e.ifaces[idx]
		s.Interfaces = append(s.Interfaces, InterfaceStatus{
			Name:     st.info.Name,
			Addrs:    slices.Clone(st.info.V4),
			Location: st.loc,
		})
		s.Announcing = s.Announcing || st.announced
	}
	return s
}
