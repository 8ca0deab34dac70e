package discovery

import (
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"

	"github.com/miekg/dns"

	"github.com/mediaftpd/mediaftpd/internal/mcast"
	"github.com/mediaftpd/mediaftpd/internal/netif"
)

// Protocol timing, RFC 6762.
const (
	mdnsPort = 5353

	probeWait      = 250 * time.Millisecond // random delay before the first probe (8.1)
	probeInterval  = 250 * time.Millisecond // between the three probes (8.1)
	probeCount     = 3
	probeDeferral  = time.Second // after losing a simultaneous-probe tiebreak (8.2)
	announceCount  = 3           // at least two, one second apart, then doubling (8.3)
	conflictWindow = 10 * time.Second
	conflictBurst  = 15              // conflicts within conflictWindow before slowing down (8.1)
	conflictPause  = 5 * time.Second // the slowed-down delay before probing
	rateLimit      = time.Second     // no record multicast twice a second on a link (6)
	defenseLimit   = 250 * time.Millisecond
	sharedDelayMin = 20 * time.Millisecond // responses with shared records wait 20-120 ms (6)
	sharedDelayMax = 120 * time.Millisecond
	mcMemory       = 20 * time.Minute // how long a multicast time is remembered
)

// family is the IP version a packet travels by.
type family uint8

const (
	famAll family = iota // multicast on every family joined on the interface
	fam4
	fam6
)

// inPacket is a received mDNS message.
type inPacket struct {
	ifIndex int
	fam     family
	src     netip.AddrPort
	dst     netip.Addr // the group, or one of our addresses; invalid if unknown
	msg     *dns.Msg
}

// outPacket is a message to send.
type outPacket struct {
	ifIndex int
	fam     family
	dst     netip.AddrPort // the zero value means the mDNS group
	msg     *dns.Msg
}

// phase is where an interface is in RFC 6762 section 8.
type phase int

const (
	phaseProbing    phase = iota // checking that the names are free; not answering
	phaseAnnouncing              // answering, and sending the unsolicited announcements
	phaseAnnounced               // answering
)

func (p phase) String() string {
	switch p {
	case phaseProbing:
		return "probing"
	case phaseAnnouncing:
		return "announcing"
	default:
		return "announced"
	}
}

// ifaceState is the responder's state on one interface. Every IPv4
// address of the interface and the IPv6 ones that are not link-local are
// advertised; a unicast query is answered only from a source on one of
// its prefixes (RFC 6762 11).
type ifaceState struct {
	info  netif.Interface
	phase phase
	sent  int       // probes or announcements sent in this phase
	next  time.Time // when the next one is due; zero when none is
	recs  []dns.RR  // the records advertised here, from buildRecords
}

type mcKey struct {
	ifIndex int
	fam     family
	rr      string // rrKey
}

type delayedPacket struct {
	at time.Time
	p  outPacket
}

// engine is the mDNS responder without sockets or clocks: the caller feeds
// it interface lists, received packets and the time, and sends what it
// puts in out. It is not safe for concurrent use; [Advertiser.Run] owns
// it, through an [mcast.Loop].
type engine struct {
	log      *slog.Logger
	rng      *rand.Rand
	services []Service

	baseInstance, baseHost string
	instanceN, hostN       int // 1 for the names as configured, then 2, 3, ...

	ifaces    map[int]*ifaceState
	out       []outPacket
	delayed   []delayedPacket
	conflicts []time.Time         // when names were found taken, for the rate limit
	lastMC    map[mcKey]time.Time // when each record was last multicast
}

var _ mcast.Engine[inPacket, outPacket] = (*engine)(nil)

func newEngine(instance, host string, services []Service, log *slog.Logger, rng *rand.Rand) *engine {
	return &engine{
		log:          log,
		rng:          rng,
		services:     services,
		baseInstance: instance,
		baseHost:     host,
		instanceN:    1,
		hostN:        1,
		ifaces:       map[int]*ifaceState{},
		lastMC:       map[mcKey]time.Time{},
	}
}

func (e *engine) names() names {
	return names{instance: instanceName(e.baseInstance, e.instanceN), host: hostName(e.baseHost, e.hostN)}
}

// uniqueNames maps the canonical form of each of our unique names to its
// kind.
func (e *engine) uniqueNames() map[string]kind {
	n := e.names()
	m := map[string]kind{canonName(n.hostFQDN()): kindHost}
	for _, s := range e.services {
		m[canonName(n.instanceFQDN(s))] = kindInstance
	}
	return m
}

// ourKeys is the set of every record we advertise on any interface. A
// record in it that comes back to us (multicast loopback, or two of our
// interfaces on one link) is not a conflict.
func (e *engine) ourKeys() map[string]bool {
	m := map[string]bool{}
	for _, st := range e.ifaces {
		for _, rr := range st.recs {
			m[rrKey(rr)] = true
		}
	}
	return m
}

func (e *engine) build(st *ifaceState) []dns.RR {
	return buildRecords(e.names(), e.services, st.info.V4, st.info.V6)
}

// SetInterfaces brings the interface states in line with list, the
// interfaces to advertise on as they are now.
func (e *engine) SetInterfaces(now time.Time, list []netif.Interface) {
	seen := map[int]bool{}
	for _, info := range list {
		if !info.Active() {
			continue
		}
		seen[info.Index] = true
		st, ok := e.ifaces[info.Index]
		if !ok || st.info.Name != info.Name {
			st = &ifaceState{info: info}
			e.ifaces[info.Index] = st
			e.startProbing(now, st, 0)
			e.log.Info("mDNS: using interface", "interface", info.Name, "addrs", info.All())
			continue
		}
		if st.info.Addrs.Equal(info.Addrs) {
			continue
		}
		st.info = info
		st.recs = e.build(st)
		if st.phase != phaseProbing {
			// RFC 6762 8.4: announce the new records again; the
			// cache-flush bit makes receivers drop the old addresses.
			st.phase, st.sent, st.next = phaseAnnouncing, 0, now
		}
		e.log.Info("mDNS: addresses changed", "interface", info.Name, "addrs", info.All())
	}
	for _, idx := range slices.Sorted(maps.Keys(e.ifaces)) {
		if !seen[idx] {
			e.log.Info("mDNS: interface no longer used", "interface", e.ifaces[idx].info.Name)
			delete(e.ifaces, idx)
		}
	}
	for k, t := range e.lastMC {
		if now.Sub(t) > mcMemory {
			delete(e.lastMC, k)
		}
	}
}

// startProbing (re)starts the probe sequence on st after delay plus the
// random wait of RFC 6762 8.1, or after conflictPause when names have
// been found taken too often lately.
func (e *engine) startProbing(now time.Time, st *ifaceState, delay time.Duration) {
	st.phase, st.sent = phaseProbing, 0
	st.recs = e.build(st)
	e.delayed = slices.DeleteFunc(e.delayed, func(d delayedPacket) bool { return d.p.ifIndex == st.info.Index })
	wait := delay + e.randDuration(0, probeWait)
	recent := 0
	for _, t := range e.conflicts {
		if now.Sub(t) < conflictWindow {
			recent++
		}
	}
	if recent >= conflictBurst {
		wait = max(wait, conflictPause)
	}
	st.next = now.Add(wait)
}

func (e *engine) randDuration(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(e.rng.Int64N(int64(hi-lo)+1))
}

// Receive handles one received message.
func (e *engine) Receive(now time.Time, p inPacket) {
	st := e.ifaces[p.ifIndex]
	m := p.msg
	if st == nil || m == nil {
		return // not an interface we advertise on
	}
	if m.Opcode != dns.OpcodeQuery || m.Rcode != dns.RcodeSuccess {
		return // RFC 6762 18.3, 18.11
	}
	if m.Response {
		if p.src.Port() == mdnsPort { // RFC 6762 6: other responses are ignored
			e.checkConflicts(now, st, m)
		}
		return
	}
	e.query(now, st, p)
}

// checkConflicts looks in a response for records of our unique names that
// are not ours (RFC 6762 8.1, 9). While probing, any such record means
// the name is taken: it is renamed. After that, a record of a type we
// hold for the name with different data sends every interface back to
// probing, which renames if the other host still answers.
func (e *engine) checkConflicts(now time.Time, st *ifaceState, m *dns.Msg) {
	uniq := e.uniqueNames()
	mine := e.ourKeys()
	taken := map[kind]dns.RR{}
	for _, rr := range slices.Concat(m.Answer, m.Extra) {
		h := rr.Header()
		k, ok := uniq[canonName(h.Name)]
		if !ok || h.Ttl == 0 || mine[rrKey(rr)] {
			continue
		}
		if st.phase != phaseProbing && !holds(k, h.Rrtype) {
			continue
		}
		if _, dup := taken[k]; !dup {
			taken[k] = rr
		}
	}
	if len(taken) == 0 {
		return
	}
	if st.phase != phaseProbing {
		for _, rr := range taken {
			e.log.Info("mDNS: another host answers for our name; probing again",
				"interface", st.info.Name, "record", rr.String())
		}
		for _, s := range e.ifaces {
			e.startProbing(now, s, 0)
		}
		return
	}
	e.rename(now, st, taken)
}

// holds reports whether we advertise records of type t for names of kind
// k.
func holds(k kind, t uint16) bool {
	switch k {
	case kindInstance:
		return t == dns.TypeSRV || t == dns.TypeTXT
	case kindHost:
		return t == dns.TypeA || t == dns.TypeAAAA
	}
	return false
}

// rename picks the next name for each kind found taken and probes again
// on every interface.
func (e *engine) rename(now time.Time, st *ifaceState, taken map[kind]dns.RR) {
	for _, k := range []kind{kindInstance, kindHost} {
		rr, ok := taken[k]
		if !ok {
			continue
		}
		old := e.names()
		var what, from, to string
		if k == kindInstance {
			e.instanceN++
			what, from, to = "name", old.instance, e.names().instance
		} else {
			e.hostN++
			what, from, to = "host name", old.host+".local", e.names().host+".local"
		}
		e.log.Warn("mDNS: "+what+" already in use on the network; advertising under a new one",
			"old", from, "new", to, "interface", st.info.Name, "record", rr.String())
	}
	e.conflicts = append(e.conflicts, now)
	e.conflicts = slices.DeleteFunc(e.conflicts, func(t time.Time) bool { return now.Sub(t) >= conflictWindow })
	for _, idx := range slices.Sorted(maps.Keys(e.ifaces)) {
		e.startProbing(now, e.ifaces[idx], 0)
	}
}

// query answers a query, or, while probing, checks it for a simultaneous
// probe of our names.
func (e *engine) query(now time.Time, st *ifaceState, p inPacket) {
	m := p.msg
	if len(m.Ns) > 0 { // a probe: its authority section proposes records
		mine := e.ourKeys()
		if allIn(m.Ns, mine) {
			return // our own, looped back or heard on a second interface
		}
		if st.phase == phaseProbing {
			e.tiebreak(now, st, m.Ns, mine)
			return
		}
	}
	if st.phase == phaseProbing {
		return
	}

	legacy := p.src.Port() != mdnsPort                // RFC 6762 6.7
	direct := p.dst.IsValid() && !p.dst.IsMulticast() // RFC 6762 5.5
	qu := false
	for _, q := range m.Question {
		qu = qu || q.Qclass&classQU != 0
	}
	answers := answer(st.recs, m.Question)
	if !legacy {
		answers = slices.DeleteFunc(answers, func(rr dns.RR) bool { return knownAnswer(rr, m.Answer) })
	}
	if len(answers) == 0 {
		return
	}
	onLink := st.info.OnLink(p.src.Addr())

	switch {
	case legacy || direct:
		if !onLink {
			return // RFC 6762 11: unicast replies only to neighbours
		}
		r := e.response(st.recs, answers, -1, true)
		if legacy {
			// The querier is a plain DNS resolver: echo the ID and the
			// question, cap the TTLs and leave out the cache-flush bit.
			r = e.response(st.recs, answers, legacyTTL, false)
			r.Question = m.Question
		}
		r.Id = m.Id
		e.out = append(e.out, outPacket{ifIndex: st.info.Index, fam: p.fam, dst: p.src, msg: r})
		return
	case qu && onLink && e.multicastRecently(now, st, p.fam, answers):
		// RFC 6762 5.4: a unicast reply is enough when the records
		// were multicast on this link within a quarter of their TTL.
		r := e.response(st.recs, answers, -1, true)
		r.Id = m.Id
		e.out = append(e.out, outPacket{ifIndex: st.info.Index, fam: p.fam, dst: p.src, msg: r})
		return
	}

	limit := rateLimit
	if len(m.Ns) > 0 {
		limit = defenseLimit // defending our names against a prober
	}
	answers = slices.DeleteFunc(answers, func(rr dns.RR) bool {
		t, ok := e.lastMC[mcKey{st.info.Index, p.fam, rrKey(rr)}]
		return ok && now.Sub(t) < limit
	})
	if len(answers) == 0 {
		return
	}
	e.markMulticast(now, st.info.Index, p.fam, answers)
	pkt := outPacket{ifIndex: st.info.Index, fam: p.fam, msg: e.response(st.recs, answers, -1, true)}
	if len(m.Ns) == 0 && slices.ContainsFunc(answers, func(rr dns.RR) bool { return !unique(rr) }) {
		// Several hosts may answer a shared PTR question: spread them.
		e.delayed = append(e.delayed, delayedPacket{now.Add(e.randDuration(sharedDelayMin, sharedDelayMax)), pkt})
		return
	}
	e.out = append(e.out, pkt)
}

// tiebreak handles another host's probe for one of our names while we
// probe too (RFC 6762 8.2): the lexicographically later record set wins;
// the loser waits a second and probes again, and by then the winner
// defends the name, so the loser renames.
func (e *engine) tiebreak(now time.Time, st *ifaceState, authority []dns.RR, mine map[string]bool) {
	for name := range e.uniqueNames() {
		var theirs, ours []dns.RR
		for _, rr := range authority {
			if canonName(rr.Header().Name) == name {
				theirs = append(theirs, rr)
			}
		}
		if len(theirs) == 0 || allIn(theirs, mine) {
			continue
		}
		for _, rr := range st.recs {
			if unique(rr) && canonName(rr.Header().Name) == name {
				ours = append(ours, rr)
			}
		}
		if compareRecordSets(ours, theirs) < 0 {
			e.log.Debug("mDNS: another host probes for our name at the same time and wins the tiebreak; probing again in 1 s",
				"interface", st.info.Name, "record", theirs[0].String())
			e.startProbing(now, st, probeDeferral)
			return
		}
	}
}

func allIn(rrs []dns.RR, keys map[string]bool) bool {
	for _, rr := range rrs {
		if !keys[rrKey(rr)] {
			return false
		}
	}
	return true
}

// multicastRecently reports whether every record was multicast on the
// interface within a quarter of its TTL.
func (e *engine) multicastRecently(now time.Time, st *ifaceState, fam family, rrs []dns.RR) bool {
	for _, rr := range rrs {
		t, ok := e.lastMC[mcKey{st.info.Index, fam, rrKey(rr)}]
		if !ok || now.Sub(t) > time.Duration(rr.Header().Ttl)*time.Second/4 {
			return false
		}
	}
	return true
}

func (e *engine) markMulticast(now time.Time, idx int, fam family, rrs []dns.RR) {
	fams := []family{fam}
	if fam == famAll {
		fams = []family{fam4, fam6}
	}
	for _, rr := range rrs {
		for _, f := range fams {
			e.lastMC[mcKey{idx, f, rrKey(rr)}] = now
		}
	}
}

// response builds a response carrying answers and their additional
// records from recs. ttl and flush are as for withTTL.
func (e *engine) response(recs, answers []dns.RR, ttl int, flush bool) *dns.Msg {
	r := new(dns.Msg)
	r.Response = true
	r.Authoritative = true
	r.Compress = true
	r.Answer = withTTL(answers, ttl, flush)
	if extra := additionals(recs, answers); len(extra) > 0 {
		r.Extra = withTTL(extra, ttl, flush)
	}
	return r
}

// probeMsg is a probe (RFC 6762 8.1): an ANY question for each unique
// name, the first with the QU bit, and the records we propose in the
// authority section, for simultaneous probes to compare.
func (e *engine) probeMsg(st *ifaceState, first bool) *dns.Msg {
	m := new(dns.Msg)
	class := uint16(dns.ClassINET)
	if first {
		class |= classQU
	}
	n := e.names()
	for _, s := range e.services {
		m.Question = append(m.Question, dns.Question{Name: n.instanceFQDN(s), Qtype: dns.TypeANY, Qclass: class})
	}
	m.Question = append(m.Question, dns.Question{Name: n.hostFQDN(), Qtype: dns.TypeANY, Qclass: class})
	for _, rr := range st.recs {
		if unique(rr) {
			m.Ns = append(m.Ns, rr)
		}
	}
	m.Ns = withTTL(m.Ns, -1, false)
	m.Compress = true
	return m
}

// announcement is an unsolicited response with every record, the unique
// ones with the cache-flush bit (RFC 6762 8.3).
func (e *engine) announcement(st *ifaceState) *dns.Msg {
	r := new(dns.Msg)
	r.Response = true
	r.Authoritative = true
	r.Compress = true
	r.Answer = withTTL(st.recs, -1, true)
	return r
}

// Advance sends the probes, announcements and delayed responses due by
// now.
func (e *engine) Advance(now time.Time) {
	for _, idx := range slices.Sorted(maps.Keys(e.ifaces)) {
		st := e.ifaces[idx]
		for !st.next.IsZero() && !now.Before(st.next) {
			switch st.phase {
			case phaseProbing:
				if st.sent == probeCount {
					st.phase, st.sent = phaseAnnouncing, 0
					continue
				}
				e.out = append(e.out, outPacket{ifIndex: idx, fam: famAll, msg: e.probeMsg(st, st.sent == 0)})
				st.sent++
				st.next = now.Add(probeInterval)
			case phaseAnnouncing:
				e.out = append(e.out, outPacket{ifIndex: idx, fam: famAll, msg: e.announcement(st)})
				e.markMulticast(now, idx, famAll, st.recs)
				if st.sent == 0 {
					n := e.names()
					e.log.Info("mDNS: advertising", "name", n.instance, "host", n.host+".local",
						"interface", st.info.Name, "addrs", st.info.All())
				}
				st.sent++
				if st.sent == announceCount {
					st.phase, st.next = phaseAnnounced, time.Time{}
				} else {
					st.next = now.Add(time.Second << (st.sent - 1))
				}
			default:
				st.next = time.Time{}
			}
		}
	}
	kept := e.delayed[:0]
	for _, d := range e.delayed {
		if now.Before(d.at) {
			kept = append(kept, d)
		} else {
			e.out = append(e.out, d.p)
		}
	}
	e.delayed = kept
}

// NextDeadline is when Advance next has something to do; zero if never.
func (e *engine) NextDeadline() time.Time {
	var next mcast.Earliest
	for _, st := range e.ifaces {
		next.Add(st.next)
	}
	for _, d := range e.delayed {
		next.Add(d.at)
	}
	return next.Time()
}

// Goodbye returns the goodbye packets (our records with TTL 0, RFC 6762
// 10.1) for the interfaces where we have announced, and forgets pending
// responses.
func (e *engine) Goodbye() []outPacket {
	var out []outPacket
	for _, idx := range slices.Sorted(maps.Keys(e.ifaces)) {
		st := e.ifaces[idx]
		if st.phase == phaseProbing {
			continue
		}
		// Not the service-type enumeration PTRs: another device may
		// offer _ftp._tcp too, and the records are the same.
		recs := slices.DeleteFunc(slices.Clone(st.recs), func(rr dns.RR) bool {
			return canonName(rr.Header().Name) == canonName(servicesName)
		})
		r := new(dns.Msg)
		r.Response = true
		r.Authoritative = true
		r.Compress = true
		r.Answer = withTTL(recs, 0, false)
		out = append(out, outPacket{ifIndex: idx, fam: famAll, msg: r})
	}
	e.delayed = nil
	return out
}

// TakeOut returns and clears the packets to send.
func (e *engine) TakeOut() []outPacket {
	out := e.out
	e.out = nil
	return out
}

// status describes what is advertised where.
func (e *engine) status() Status {
	n := e.names()
	st := Status{
		Enabled:  true,
		Name:     n.instance,
		Host:     n.host + ".local",
		Services: make([]ServiceStatus, len(e.services)),
	}
	for i, s := range e.services {
		st.Services[i] = ServiceStatus{
			Type:     s.Type,
			Instance: n.instance + "." + s.Type + ".local",
			Port:     s.Port,
			Text:     slices.Clone(s.Text),
		}
	}
	for _, idx := range slices.Sorted(maps.Keys(e.ifaces)) {
		is := e.ifaces[idx]
		st.Interfaces = append(st.Interfaces, InterfaceStatus{Name: is.info.Name, Addrs: is.info.All(), State: is.phase.String()})
		st.Advertising = st.Advertising || is.phase != phaseProbing
	}
	return st
}
