package discovery

import (
	"bytes"
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/miekg/dns"
)

// Record TTLs, RFC 6762 section 10: records that name or locate a host
// (SRV, A, AAAA) live 120 s, so a stale address is forgotten quickly;
// the others 75 minutes.
const (
	hostTTL   = 120
	otherTTL  = 4500
	legacyTTL = 10 // cap for legacy unicast responses, RFC 6762 6.7
)

// The top bit of the class field: in a response record it is the
// cache-flush bit (RFC 6762 10.2), in a question the unicast-response
// ("QU") bit (RFC 6762 5.4).
const (
	classCacheFlush = 1 << 15
	classQU         = 1 << 15
)

const (
	domain       = "local."
	servicesName = "_services._dns-sd._udp.local." // RFC 6763 9
	maxLabel     = 63                              // bytes in a DNS label
)

// kind says which of our names a record belongs to.
type kind int

const (
	kindNone     kind = iota
	kindInstance      // "<instance>.<type>.local.": SRV and TXT
	kindHost          // "<host>.local.": A and AAAA
)

// names are the instance and host labels in use, after any renaming.
type names struct {
	instance string // "Living Room Media (2)", unescaped
	host     string // "pi-mediaftpd"
}

func (n names) hostFQDN() string { return escapeLabel(n.host) + "." + domain }

func (n names) instanceFQDN(s Service) string {
	return escapeLabel(n.instance) + "." + s.Type + "." + domain
}

// escapeLabel writes a label in the presentation format of miekg/dns: a
// dot or backslash inside the label is escaped; every other byte
// (spaces, parentheses, UTF-8) stands for itself.
func escapeLabel(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '.' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// canonName returns a name in a form for comparisons: its wire encoding
// with ASCII letters folded to lower case (DNS names compare
// case-insensitively, RFC 6762 16). Names read from packets come escaped
// ("Living\ Room\ Media\195\188") while ours are not, so comparing the
// strings would not do. An unencodable name gives "".
func canonName(name string) string {
	buf := make([]byte, 256)
	n, err := dns.PackDomainName(dns.Fqdn(name), buf, 0, nil, false)
	if err != nil {
		return ""
	}
	return string(bytes.ToLower(buf[:n]))
}

// rrKey identifies a record by name, type, class (without the cache-flush
// bit) and data, ignoring the TTL: two records with equal keys are the
// same record (RFC 6762 10.2 "same name, rrtype, rrclass and rdata").
func rrKey(rr dns.RR) string {
	h := rr.Header()
	var data string
	switch rr := rr.(type) {
	case *dns.PTR:
		data = canonName(rr.Ptr)
	case *dns.SRV:
		data = fmt.Sprintf("%d %d %d %s", rr.Priority, rr.Weight, rr.Port, canonName(rr.Target))
	case *dns.A:
		data = rr.A.String()
	case *dns.AAAA:
		data = rr.AAAA.String()
	default:
		data = string(rdata(rr))
	}
	return canonName(h.Name) + "/" + strconv.Itoa(int(h.Rrtype)) + "/" + strconv.Itoa(int(h.Class&^classCacheFlush)) + "/" + data
}

// rdata returns the uncompressed wire form of a record's data, for the
// lexicographic comparison of simultaneous probes (RFC 6762 8.2).
func rdata(rr dns.RR) []byte {
	buf := make([]byte, dns.Len(rr)+64)
	n, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		return nil
	}
	l := int(rr.Header().Rdlength)
	if l > n {
		return nil
	}
	return buf[n-l : n]
}

// unique reports whether a record is one only its owner may hold (SRV,
// TXT, A, AAAA: RFC 6762 2 "unique"), as opposed to a shared PTR.
func unique(rr dns.RR) bool { return rr.Header().Rrtype != dns.TypePTR }

// buildRecords returns every record advertised on one interface whose
// addresses are v4 and v6, in the order announcements list them: per
// service its PTR, SRV and TXT, then the service-type enumeration PTRs,
// then A records before AAAA records. TTLs are the normal ones and no
// cache-flush bit is set; [withTTL] adapts them to each message.
func buildRecords(n names, services []Service, v4, v6 []netip.Addr) []dns.RR {
	host := n.hostFQDN()
	var rrs []dns.RR
	for _, s := range services {
		inst := n.instanceFQDN(s)
		text := s.Text
		if len(text) == 0 {
			text = []string{""} // RFC 6763 6.1: one empty string
		}
		rrs = append(rrs,
			&dns.PTR{Hdr: hdr(s.Type+"."+domain, dns.TypePTR, otherTTL), Ptr: inst},
			&dns.SRV{Hdr: hdr(inst, dns.TypeSRV, hostTTL), Port: uint16(s.Port), Target: host},
			&dns.TXT{Hdr: hdr(inst, dns.TypeTXT, otherTTL), Txt: slices.Clone(text)},
		)
	}
	for _, s := range services {
		rrs = append(rrs, &dns.PTR{Hdr: hdr(servicesName, dns.TypePTR, otherTTL), Ptr: s.Type + "." + domain})
	}
	for _, a := range v4 {
		rrs = append(rrs, &dns.A{Hdr: hdr(host, dns.TypeA, hostTTL), A: a.AsSlice()})
	}
	for _, a := range v6 {
		rrs = append(rrs, &dns.AAAA{Hdr: hdr(host, dns.TypeAAAA, hostTTL), AAAA: a.AsSlice()})
	}
	return rrs
}

func hdr(name string, typ uint16, ttl uint32) dns.RR_Header {
	return dns.RR_Header{Name: name, Rrtype: typ, Class: dns.ClassINET, Ttl: ttl}
}

// withTTL returns copies of rrs for one message. A negative ttl keeps each
// record's own TTL; otherwise each TTL is min(own, ttl) (zero for
// goodbyes). flush sets the cache-flush bit on unique records.
func withTTL(rrs []dns.RR, ttl int, flush bool) []dns.RR {
	out := make([]dns.RR, 0, len(rrs))
	for _, rr := range rrs {
		c := dns.Copy(rr)
		h := c.Header()
		if ttl >= 0 && uint32(ttl) < h.Ttl {
			h.Ttl = uint32(ttl)
		}
		h.Class = dns.ClassINET
		if flush && unique(c) {
			h.Class |= classCacheFlush
		}
		out = append(out, c)
	}
	return out
}

// matches reports whether rr answers question q (RFC 6762 6: name, type
// or ANY, class IN or ANY; the QU bit ignored).
func matches(q dns.Question, qname string, rr dns.RR) bool {
	h := rr.Header()
	if q.Qtype != dns.TypeANY && q.Qtype != h.Rrtype {
		return false
	}
	if c := q.Qclass &^ classQU; c != dns.ClassINET && c != dns.ClassANY {
		return false
	}
	return qname == canonName(h.Name)
}

// answer returns the records of rrs that answer any of the questions, in
// the order of rrs, each once.
func answer(rrs []dns.RR, qs []dns.Question) []dns.RR {
	var out []dns.RR
	for _, rr := range rrs {
		for _, q := range qs {
			if matches(q, canonName(q.Name), rr) {
				out = append(out, rr)
				break
			}
		}
	}
	return out
}

// additionals returns the records RFC 6763 12 says to add to answers:
// for a PTR to a service instance its SRV and TXT and the host's
// addresses, for an SRV the host's addresses. VLC's microdns and
// zeroconf's browser need SRV and A in the same packet as the PTR. The
// order is that of rrs (SRV, TXT, then A before AAAA); records already
// among the answers are left out.
func additionals(rrs, answers []dns.RR) []dns.RR {
	wantInst := map[string]bool{} // canonical instance names
	wantHost := map[string]bool{}
	for _, rr := range answers {
		switch rr := rr.(type) {
		case *dns.PTR:
			wantInst[canonName(rr.Ptr)] = true
		case *dns.SRV:
			wantHost[canonName(rr.Target)] = true
		}
	}
	for _, rr := range rrs {
		if srv, ok := rr.(*dns.SRV); ok && wantInst[canonName(srv.Hdr.Name)] {
			wantHost[canonName(srv.Target)] = true
		}
	}
	in := map[string]bool{}
	for _, rr := range answers {
		in[rrKey(rr)] = true
	}
	var out []dns.RR
	for _, rr := range rrs {
		h := rr.Header()
		name := canonName(h.Name)
		var want bool
		switch h.Rrtype {
		case dns.TypeSRV, dns.TypeTXT:
			want = wantInst[name]
		case dns.TypeA, dns.TypeAAAA:
			want = wantHost[name]
		}
		if want && !in[rrKey(rr)] {
			out = append(out, rr)
		}
	}
	return out
}

// knownAnswer reports whether the querier already holds rr with at least
// half its TTL left, so it need not be sent (RFC 6762 7.1).
func knownAnswer(rr dns.RR, known []dns.RR) bool {
	k := rrKey(rr)
	for _, kn := range known {
		if kn.Header().Ttl >= rr.Header().Ttl/2 && rrKey(kn) == k {
			return true
		}
	}
	return false
}

// compareRecordSets compares the records two hosts propose for one name
// in simultaneous probes (RFC 6762 8.2): each set sorted, then record by
// record by class (without the cache-flush bit), type and raw rdata
// bytes; when one set runs out first, the longer set is greater. The
// result is -1, 0 or +1, as cmp.Compare.
func compareRecordSets(ours, theirs []dns.RR) int {
	type rec struct {
		class, typ uint16
		data       []byte
	}
	cmpRec := func(a, b rec) int {
		return cmp.Or(cmp.Compare(a.class, b.class), cmp.Compare(a.typ, b.typ), bytes.Compare(a.data, b.data))
	}
	sorted := func(rrs []dns.RR) []rec {
		out := make([]rec, len(rrs))
		for i, rr := range rrs {
			h := rr.Header()
			out[i] = rec{h.Class &^ classCacheFlush, h.Rrtype, rdata(rr)}
		}
		slices.SortFunc(out, cmpRec)
		return out
	}
	a, b := sorted(ours), sorted(theirs)
	for i := range min(len(a), len(b)) {
		if c := cmpRec(a[i], b[i]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

// instanceName returns the instance label for the n-th attempt: the name
// itself for n = 1, then "Name (2)", "Name (3)", ... (the style of RFC 6763
// appendix D and of avahi and Bonjour), with the name cut at a rune
// boundary so the label stays within 63 bytes.
func instanceName(base string, n int) string {
	base = cutLabel(base, maxLabel)
	if n <= 1 {
		return base
	}
	suffix := " (" + strconv.Itoa(n) + ")"
	return cutLabel(base, maxLabel-len(suffix)) + suffix
}

// hostName returns the host label for the n-th attempt: the label itself,
// then "label-2", "label-3", ... (RFC 6762 9), within 63 bytes.
func hostName(base string, n int) string {
	base = cutLabel(base, maxLabel)
	if n <= 1 {
		return base
	}
	suffix := "-" + strconv.Itoa(n)
	return strings.TrimRight(cutLabel(base, maxLabel-len(suffix)), "-") + suffix
}

// cutLabel shortens s to at most max bytes without splitting a rune.
func cutLabel(s string, max int) string {
	for len(s) > max {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

// defaultHost makes the default host label from the machine's host name:
// its first label, lower-cased, with anything but letters, digits and
// hyphens turned into hyphens, then "-mediaftpd". The suffix keeps clear
// of "<hostname>.local", which avahi-daemon on the same machine (standard
// on Raspberry Pi OS) owns: sharing it would make the two responders
// fight over the address records, and our goodbyes on shutdown would
// withdraw avahi's.
func defaultHost(hostname string) string {
	h, _, _ := strings.Cut(hostname, ".")
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	const suffix = "mediaftpd"
	label := strings.Trim(b.String(), "-")
	if label == "" {
		return suffix
	}
	return strings.TrimRight(cutLabel(label, maxLabel-len(suffix)-1), "-") + "-" + suffix
}
