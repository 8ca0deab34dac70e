package discovery_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/discovery"
	"github.com/mediaftpd/mediaftpd/internal/netlab"
	"github.com/mediaftpd/mediaftpd/internal/testtool"
)

const livingRoom = "Living Room Media"

// pair makes a server and a client namespace joined by srv0 <-> cli0, the
// server at 10.99.0.1 and fd99::1, the client at 10.99.0.2 and fd99::2.
// (Each also has its IPv6 link-local address.)
func pair(t *testing.T) (l *lab, srvNS, cliNS string) {
	l = newLab(t)
	srvNS, cliNS = l.Pair("srv0", "10.99.0.1/24", "cli0", "10.99.0.2/24")
	l.Run(srvNS, "ip", "addr", "add", "fd99::1/64", "dev", "srv0")
	l.Run(cliNS, "ip", "addr", "add", "fd99::2/64", "dev", "cli0")
	return l, srvNS, cliNS
}

func decode[T any](t *testing.T, ev netlab.Event) T {
	t.Helper()
	var v T
	ev.Decode(t, &v)
	return v
}

// awaitStatus waits until the server's status satisfies ok: the last
// status it reported, or a later one.
func awaitStatus(t *testing.T, server *netlab.Proc, timeout time.Duration, ok func(discovery.Status) bool) discovery.Status {
	t.Helper()
	if ev, found := server.Last("status"); found {
		if st := decode[discovery.Status](t, ev); ok(st) {
			return st
		}
	}
	ev := server.Await(t, "status", timeout, func(ev netlab.Event) bool {
		var st discovery.Status
		return json.Unmarshal(ev.Data, &st) == nil && ok(st)
	})
	return decode[discovery.Status](t, ev)
}

// settled reports whether the server has finished probing on every
// interface and answers queries.
func settled(st discovery.Status) bool {
	if len(st.Interfaces) == 0 {
		return false
	}
	for _, i := range st.Interfaces {
		if i.State == "probing" {
			return false
		}
	}
	return true
}

// avahiEntry is one line of "avahi-browse -p".
type avahiEntry struct {
	Op, Iface, Proto, Name, Type, Domain, Host, Addr, TXT string
	Port                                                  int
}

func parseAvahi(line string) (avahiEntry, bool) {
	f := strings.Split(line, ";")
	if len(f) < 6 {
		return avahiEntry{}, false
	}
	e := avahiEntry{Op: f[0], Iface: f[1], Proto: f[2], Name: unescapeDNS(f[3]), Type: f[4], Domain: f[5]}
	if e.Op == "=" && len(f) >= 10 {
		e.Host, e.Addr, e.TXT = f[6], f[7], strings.Join(f[9:], ";")
		e.Port, _ = strconv.Atoi(f[8])
	}
	return e, true
}

// unescapeDNS undoes the \DDD and \X escapes of DNS presentation format,
// as avahi-browse and miekg/dns (under zeroconf) print names.
func unescapeDNS(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 >= len(s) {
			b = append(b, s[i])
			continue
		}
		if i+3 < len(s) {
			if n, err := strconv.Atoi(s[i+1 : i+4]); err == nil && n < 256 {
				b = append(b, byte(n))
				i += 3
				continue
			}
		}
		b = append(b, s[i+1])
		i++
	}
	return string(b)
}

func awaitAvahi(t *testing.T, p *netlab.Proc, timeout time.Duration, ok func(avahiEntry) bool) avahiEntry {
	t.Helper()
	ev := p.Await(t, "line", timeout, func(ev netlab.Event) bool {
		e, valid := parseAvahi(ev.Line)
		return valid && ok(e)
	})
	e, _ := parseAvahi(ev.Line)
	return e
}

// TestAdvertiseBrowseDownloadGoodbye is the whole story: a server in one
// namespace, and in the other avahi-browse, zeroconf's browser, raw
// queries as VLC's microdns sends them and a one-shot (legacy) query all
// find "Living Room Media" with the right port, TXT and addresses; curl
// downloads a file from the address and port found; and on SIGTERM the
// entry leaves avahi-browse within seconds.
func TestAdvertiseBrowseDownloadGoodbye(t *testing.T) {
	t.Parallel()
	l, srvNS, cliNS := pair(t)
	curl := testtool.Need(t, "curl")
	dir := t.TempDir()
	clip := []byte(strings.Repeat("a media file\n", 1000))
	if err := os.WriteFile(filepath.Join(dir, "clip.mkv"), clip, 0o644); err != nil {
		t.Fatal(err)
	}

	server := l.helper("server", srvNS, "serve", serveParams{Name: livingRoom, Dir: dir, Web: true})
	ports := decode[listening](t, server.Await(t, "listening", 10*time.Second, nil))
	browse := l.avahi("avahi-browse", cliNS, "cli0", "avahi-browse", "-rpak")
	st := awaitStatus(t, server, 10*time.Second, settled)
	t.Logf("status: %+v", st)
	if st.Name != livingRoom || !st.Advertising || len(st.Interfaces) != 1 || st.Interfaces[0].Name != "srv0" {
		t.Errorf("status = %+v", st)
	}
	if got := st.Interfaces[0].Addrs; len(got) != 2 || got[0].String() != "10.99.0.1" || got[1].String() != "fd99::1" {
		t.Errorf("advertised addresses = %v, want [10.99.0.1 fd99::1]", got)
	}
	host := st.Host

	t.Run("avahi-browse", func(t *testing.T) {
		want := map[string]int{"_ftp._tcp": ports.FTP, "_http._tcp": ports.Web}
		for len(want) > 0 {
			e := awaitAvahi(t, browse, 15*time.Second, func(e avahiEntry) bool {
				_, ok := want[e.Type]
				return ok && e.Op == "=" && e.Proto == "IPv4" && e.Name == livingRoom
			})
			t.Logf("avahi-browse: %+v", e)
			if e.Iface != "cli0" || e.Host != host || e.Addr != "10.99.0.1" || e.Port != want[e.Type] || e.TXT != `"path=/"` || e.Domain != "local" {
				t.Errorf("avahi-browse resolved %+v; want host %s, 10.99.0.1, port %d, TXT \"path=/\"", e, host, want[e.Type])
			}
			delete(want, e.Type)
		}
	})

	var ftpAddr string
	t.Run("zeroconf", func(t *testing.T) {
		zc := l.helper("zeroconf", cliNS, "zeroconf", zeroconfParams{Service: "_ftp._tcp", Iface: "cli0"})
		e := decode[zcEntry](t, zc.Await(t, "entry", 15*time.Second, nil))
		t.Logf("zeroconf: %+v", e)
		if unescapeDNS(e.Instance) != livingRoom || e.Port != ports.FTP || !slices.Equal(e.Text, []string{"path=/"}) ||
			e.Host != host+"." || !slices.Equal(e.IPv4, []string{"10.99.0.1"}) || !slices.Equal(e.IPv6, []string{"fd99::1"}) {
			t.Errorf("zeroconf found %+v; want %q at %s port %d, path=/, 10.99.0.1 and fd99::1 only", e, livingRoom, host, ports.FTP)
		}
		if len(e.IPv4) > 0 {
			ftpAddr = e.IPv4[0]
		}
		zc.Stop(syscall.SIGTERM)
	})

	t.Run("microdns-style multicast PTR query", func(t *testing.T) {
		// From port 5353 like VLC's microdns, twice (it re-queries every
		// 15 s; here 1.2 s, past the 1 s rate limit), once the
		// announcements are over so that only answers arrive.
		awaitStatus(t, server, 10*time.Second, func(st discovery.Status) bool {
			return len(st.Interfaces) == 1 && st.Interfaces[0].State == "announced"
		})
		// The last announcement multicast the records just now; RFC
		// 6762 6 allows them on the link again only a second later.
		time.Sleep(1100 * time.Millisecond)
		q := l.helper("query", cliNS, "query", queryParams{Iface: "cli0", Name: "_ftp._tcp.local.", Type: "PTR", Mode: "multicast", Count: 2, IntervalMS: 1200, WaitMS: 500})
		got := responses(t, q)
		answered := map[int]bool{}
		for _, r := range got {
			t.Logf("response to query %d after %v: to %s, answer %v, extra %v", r.Query, r.Elapsed, r.To, r.Answer, r.Extra)
			if r.To != "224.0.0.251" {
				t.Errorf("response sent to %s, want the group", r.To)
			}
			checkPTRResponse(t, r, ports.FTP, host, false)
			answered[r.Query] = true
		}
		if !answered[1] || !answered[2] {
			t.Errorf("queries answered: %v, want both", answered)
		}
	})

	t.Run("legacy unicast PTR query", func(t *testing.T) {
		q := l.helper("query", cliNS, "query", queryParams{Iface: "cli0", Name: "_ftp._tcp.local.", Type: "PTR", Mode: "legacy", WaitMS: 500})
		r := decode[responseJSON](t, q.Await(t, "response", 5*time.Second, nil))
		t.Logf("legacy response: %+v", r)
		if r.ID != 0x4d00 || len(r.Qs) != 1 || !strings.HasPrefix(r.Qs[0], ";_ftp._tcp.local.") || r.To != "10.99.0.2" {
			t.Errorf("legacy response id %#x, questions %v, to %s; want the query's ID, its question, unicast to 10.99.0.2", r.ID, r.Qs, r.To)
		}
		checkPTRResponse(t, r, ports.FTP, host, true)
	})

	t.Run("FTP download", func(t *testing.T) {
		if ftpAddr == "" {
			t.Skip("zeroconf found no address")
		}
		// As Kodi does: libcurl, PASV only.
		url := "ftp://" + ftpAddr + ":" + strconv.Itoa(ports.FTP) + "/Media/clip.mkv"
		out, err := exec.Command("ip", "netns", "exec", cliNS, curl, "-sS", "--disable-epsv", "--max-time", "10", url).Output()
		if err != nil {
			t.Fatalf("curl %s: %v", url, err)
		}
		if string(out) != string(clip) {
			t.Errorf("downloaded %d bytes, want the %d of the file", len(out), len(clip))
		}
	})

	t.Run("goodbye on SIGTERM", func(t *testing.T) {
		start := time.Now()
		server.Stop(syscall.SIGTERM)
		stopped := server.Await(t, "stopped", 5*time.Second, nil)
		t.Logf("server stopped %v after SIGTERM", stopped.At.Sub(start))
		e := awaitAvahi(t, browse, 10*time.Second, func(e avahiEntry) bool {
			return e.Op == "-" && e.Type == "_ftp._tcp" && e.Name == livingRoom
		})
		gone := time.Since(start)
		t.Logf("avahi-browse dropped %q %v after SIGTERM", e.Name, gone)
		if gone > 5*time.Second {
			t.Errorf("entry left avahi-browse %v after SIGTERM; want within seconds (goodbye packets)", gone)
		}
		q := l.helper("query", cliNS, "query", queryParams{Iface: "cli0", Name: "_ftp._tcp.local.", Type: "PTR", Mode: "legacy", WaitMS: 700})
		for _, r := range responses(t, q) {
			t.Errorf("answer after shutdown: %+v", r)
		}
	})
}

// responses returns the responses a query helper received, once it is
// done.
func responses(t *testing.T, q *netlab.Proc) []responseJSON {
	t.Helper()
	_, evs := q.AwaitAll(t, "done", 15*time.Second, nil)
	var out []responseJSON
	for _, ev := range evs {
		if ev.Kind == "response" {
			out = append(out, decode[responseJSON](t, ev))
		}
	}
	return out
}

// srvTarget is the host an SRV record in the response points to, without
// the final dot.
func srvTarget(r responseJSON) string {
	for _, rr := range r.Extra {
		if f := strings.Fields(rr.Data); rr.Type == "SRV" && len(f) == 4 {
			return strings.TrimSuffix(f[3], ".")
		}
	}
	return ""
}

// checkPTRResponse checks a response to a PTR query for _ftp._tcp: the
// PTR answer, and SRV, TXT, A and AAAA together in the additional section
// (RFC 6763 12.1), A before AAAA, no link-local address.
func checkPTRResponse(t *testing.T, r responseJSON, port int, host string, legacy bool) {
	t.Helper()
	inst := `Living\ Room\ Media._ftp._tcp.local.`
	if len(r.Answer) != 1 || r.Answer[0].Type != "PTR" || r.Answer[0].Data != inst || r.Answer[0].Name != "_ftp._tcp.local." {
		t.Errorf("answer section %v, want one PTR to %s", r.Answer, inst)
	}
	var types []string
	for _, rr := range r.Extra {
		types = append(types, rr.Type)
		switch rr.Type {
		case "SRV":
			if want := "0 0 " + strconv.Itoa(port) + " " + host + "."; rr.Data != want {
				t.Errorf("SRV %q, want %q", rr.Data, want)
			}
		case "TXT":
			if rr.Data != `"path=/"` {
				t.Errorf("TXT %s, want \"path=/\"", rr.Data)
			}
		case "A":
			if rr.Data != "10.99.0.1" {
				t.Errorf("A %s, want 10.99.0.1", rr.Data)
			}
		case "AAAA":
			if rr.Data != "fd99::1" {
				t.Errorf("AAAA %s, want fd99::1 only (no link-local)", rr.Data)
			}
		}
		if legacy && (rr.TTL > 10 || rr.Flush) {
			t.Errorf("legacy response record %+v: want TTL <= 10 and no cache-flush bit", rr)
		}
		if !legacy && rr.Type != "PTR" && !rr.Flush {
			t.Errorf("record %+v lacks the cache-flush bit", rr)
		}
	}
	if !slices.Equal(types, []string{"SRV", "TXT", "A", "AAAA"}) {
		t.Errorf("additional records %v, want SRV, TXT, A, AAAA in that order", types)
	}
}

// TestNameTakenByAvahi: a device already advertises "Living Room Media"
// (avahi-publish on the client side); the server becomes
// "Living Room Media (2)", says so in its log, and both are browsable.
func TestNameTakenByAvahi(t *testing.T) {
	t.Parallel()
	l, srvNS, cliNS := pair(t)
	testtool.Need(t, "avahi-publish")
	other := l.avahi("avahi-publish", cliNS, "cli0", "avahi-publish", "-s", livingRoom, "_ftp._tcp", "2121", "path=/")
	other.Await(t, "line", 10*time.Second, func(ev netlab.Event) bool { return strings.Contains(ev.Line, "Established under name") })

	server := l.helper("server", srvNS, "serve", serveParams{Name: livingRoom, Dir: t.TempDir()})
	st := awaitStatus(t, server, 10*time.Second, settled)
	if st.Name != livingRoom+" (2)" || st.Services[0].Instance != livingRoom+" (2)._ftp._tcp.local" {
		t.Errorf("advertised as %q (%+v); want %q", st.Name, st.Services, livingRoom+" (2)")
	}
	server.Stop(syscall.SIGTERM)
	server.Await(t, "stopped", 5*time.Second, nil)
	if log := server.Output(); !strings.Contains(log, `level=WARN msg="mDNS: name already in use on the network; advertising under a new one" old="Living Room Media" new="Living Room Media (2)"`) {
		t.Errorf("no rename in the log:\n%s", log)
	}
}

// TestTwoServersSameName: two mediaftpd on one network with the same
// friendly name and the same machine host name. The second to start
// renames both names; started at the same moment, exactly one renames.
func TestTwoServersSameName(t *testing.T) {
	t.Parallel()
	for _, together := range []bool{false, true} {
		t.Run(map[bool]string{false: "one after the other", true: "at the same time"}[together], func(t *testing.T) {
			t.Parallel()
			l, srvNS, cliNS := pair(t)
			first := l.helper("first", srvNS, "serve", serveParams{Name: livingRoom, Dir: t.TempDir()})
			if !together {
				awaitStatus(t, first, 10*time.Second, settled)
			}
			second := l.helper("second", cliNS, "serve", serveParams{Name: livingRoom, Dir: t.TempDir()})
			st2 := awaitStatus(t, second, 15*time.Second, settled)
			st1 := awaitStatus(t, first, 15*time.Second, settled)
			t.Logf("first: %s at %s; second: %s at %s", st1.Name, st1.Host, st2.Name, st2.Host)
			if st1.Name == st2.Name || st1.Host == st2.Host {
				t.Errorf("both advertise %q at %s / %s", st1.Name, st1.Host, st2.Host)
			}
			renamed := st2
			if together && st1.Name != livingRoom {
				renamed = st1
			}
			if renamed.Name != livingRoom+" (2)" || !strings.HasSuffix(renamed.Host, "-mediaftpd-2.local") {
				t.Errorf("renamed to %q at %s; want %q at <host>-mediaftpd-2.local", renamed.Name, renamed.Host, livingRoom+" (2)")
			}
			// Still that way a moment later: nobody took a name back.
			time.Sleep(1500 * time.Millisecond)
			for _, p := range []*netlab.Proc{first, second} {
				p.Stop(syscall.SIGTERM)
				final := decode[struct{ Status discovery.Status }](t, p.Await(t, "stopped", 5*time.Second, nil)).Status
				if want := map[*netlab.Proc]string{first: st1.Name, second: st2.Name}[p]; final.Name != want {
					t.Errorf("%s ended as %q, had announced %q", p.Name, final.Name, want)
				}
			}
		})
	}
}

// TestAddressChanges: the server starts before its interface has an
// address (a Pi before its DHCP lease); once the address is added it is
// advertised, and when the address changes, answers carry the new one,
// each within 10 s with the default poll interval.
func TestAddressChanges(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	srvNS, cliNS := l.NS("s"), l.NS("c")
	l.Link(srvNS, "srv0", cliNS, "cli0")
	l.Run(cliNS, "ip", "addr", "add", "10.99.0.2/24", "dev", "cli0")

	server := l.helper("server", srvNS, "serve", serveParams{Name: livingRoom, Dir: t.TempDir()})
	st := awaitStatus(t, server, 10*time.Second, func(st discovery.Status) bool { return st.LastError != "" })
	if st.Advertising || !strings.Contains(st.LastError, discovery.ErrNoInterface.Error()) {
		t.Errorf("without an address: %+v", st)
	}
	if !strings.Contains(server.Output(), "no multicast-capable network interface") {
		t.Errorf("not logged:\n%s", server.Output())
	}

	// One-shot queries every 100 ms for as long as the test needs.
	q := l.helper("query", cliNS, "query", queryParams{Iface: "cli0", Name: "_ftp._tcp.local.", Type: "PTR", Mode: "legacy", Count: 300, IntervalMS: 100})
	addrsIn := func(ev netlab.Event) []string {
		var got []string
		for _, rr := range decode[responseJSON](t, ev).Extra {
			if rr.Type == "A" {
				got = append(got, rr.Data)
			}
		}
		return got
	}

	start := time.Now()
	l.Run(srvNS, "ip", "addr", "add", "10.99.0.1/24", "dev", "srv0")
	ev := q.Await(t, "response", 15*time.Second, func(ev netlab.Event) bool { return slices.Equal(addrsIn(ev), []string{"10.99.0.1"}) })
	first := ev.At.Sub(start)
	t.Logf("address added: answered with it after %v", first)

	start = time.Now()
	l.Run(srvNS, "ip", "addr", "add", "10.99.0.3/24", "dev", "srv0")
	l.Run(srvNS, "ip", "addr", "del", "10.99.0.1/24", "dev", "srv0")
	ev = q.Await(t, "response", 15*time.Second, func(ev netlab.Event) bool { return slices.Equal(addrsIn(ev), []string{"10.99.0.3"}) })
	changed := ev.At.Sub(start)
	t.Logf("address changed: answered with the new one after %v", changed)
	if first > 10*time.Second || changed > 10*time.Second {
		t.Errorf("followed the address after %v and %v; want within 10 s", first, changed)
	}
	st = awaitStatus(t, server, 5*time.Second, func(st discovery.Status) bool {
		return len(st.Interfaces) == 1 && len(st.Interfaces[0].Addrs) == 1 && st.Interfaces[0].Addrs[0].String() == "10.99.0.3"
	})
	if st.LastError != "" {
		t.Errorf("status %+v", st)
	}
}

// TestInterfaces: a server on two networks answers each with its own
// address only; with mdns.interfaces it keeps to the ones named.
func TestInterfaces(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	srvNS, aNS, bNS := l.NS("s"), l.NS("a"), l.NS("b")
	l.Link(srvNS, "srv0", aNS, "cli0")
	l.Link(srvNS, "srv1", bNS, "cli0")
	l.Run(srvNS, "ip", "addr", "add", "10.99.0.1/25", "dev", "srv0")
	l.Run(srvNS, "ip", "addr", "add", "10.99.0.129/25", "dev", "srv1")
	l.Run(aNS, "ip", "addr", "add", "10.99.0.2/25", "dev", "cli0")
	l.Run(bNS, "ip", "addr", "add", "10.99.0.130/25", "dev", "cli0")

	ask := func(ns string) []responseJSON {
		q := l.helper("query", ns, "query", queryParams{Iface: "cli0", Name: "_ftp._tcp.local.", Type: "PTR", Mode: "legacy", WaitMS: 500})
		return responses(t, q)
	}
	aAddrs := func(rs []responseJSON) []string {
		var got []string
		for _, r := range rs {
			for _, rr := range r.Extra {
				if rr.Type == "A" || rr.Type == "AAAA" {
					got = append(got, rr.Data)
				}
			}
		}
		return got
	}

	server := l.helper("all", srvNS, "serve", serveParams{Name: livingRoom, Dir: t.TempDir()})
	st := awaitStatus(t, server, 10*time.Second, func(st discovery.Status) bool { return settled(st) && len(st.Interfaces) == 2 })
	t.Logf("status: %+v", st.Interfaces)
	if got := aAddrs(ask(aNS)); !slices.Equal(got, []string{"10.99.0.1"}) {
		t.Errorf("network a told %v, want 10.99.0.1 only", got)
	}
	if got := aAddrs(ask(bNS)); !slices.Equal(got, []string{"10.99.0.129"}) {
		t.Errorf("network b told %v, want 10.99.0.129 only", got)
	}
	server.Stop(syscall.SIGTERM)
	server.Await(t, "stopped", 5*time.Second, nil)

	server = l.helper("srv1 only", srvNS, "serve", serveParams{Name: livingRoom, Dir: t.TempDir(), Interfaces: []string{"srv1"}})
	st = awaitStatus(t, server, 10*time.Second, settled)
	if len(st.Interfaces) != 1 || st.Interfaces[0].Name != "srv1" {
		t.Errorf("interfaces %+v, want srv1 only", st.Interfaces)
	}
	if got := aAddrs(ask(bNS)); !slices.Equal(got, []string{"10.99.0.129"}) {
		t.Errorf("network b told %v, want 10.99.0.129", got)
	}
	if got := ask(aNS); len(got) != 0 {
		t.Errorf("network a, not configured, was answered: %+v", got)
	}
}

// TestMediaftpdBinary runs the real program, built from cmd/mediaftpd,
// in the server namespace: it advertises its FTP port and status page
// with -name, says goodbye on SIGTERM, and with -mdns=false stays silent. It is skipped
// while cmd/mediaftpd does not use this package yet.
func TestMediaftpdBinary(t *testing.T) {
	t.Parallel()
	goTool := testtool.Need(t, "go")
	deps, err := exec.Command(goTool, "list", "-deps", "github.com/mediaftpd/mediaftpd/cmd/mediaftpd").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	if !slices.Contains(strings.Fields(string(deps)), "github.com/mediaftpd/mediaftpd/discovery") {
		t.Skip("skipping: cmd/mediaftpd does not import discovery yet")
	}
	l, srvNS, cliNS := pair(t)
	bin := filepath.Join(t.TempDir(), "mediaftpd")
	build := exec.Command(goTool, "build", "-o", bin, "github.com/mediaftpd/mediaftpd/cmd/mediaftpd")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := t.TempDir()

	server := l.Start("mediaftpd", srvNS, nil, bin, "-listen", ":2121", "-web", ":8021", "-state-dir", t.TempDir(), "-name", livingRoom, dir)
	// One-shot queries every 200 ms until one is answered.
	q := l.helper("query", cliNS, "query", queryParams{Iface: "cli0", Name: "_ftp._tcp.local.", Type: "PTR", Mode: "legacy", Count: 50, IntervalMS: 200})
	r := decode[responseJSON](t, q.Await(t, "response", 15*time.Second, nil))
	checkPTRResponse(t, r, 2121, srvTarget(r), true)
	q.Stop(syscall.SIGKILL)
	q = l.helper("query", cliNS, "query", queryParams{Iface: "cli0", Name: "_http._tcp.local.", Type: "PTR", Mode: "legacy", WaitMS: 500})
	r = decode[responseJSON](t, q.Await(t, "response", 5*time.Second, nil))
	if len(r.Extra) == 0 || r.Extra[0].Type != "SRV" || !strings.HasPrefix(r.Extra[0].Data, "0 0 8021 ") {
		t.Errorf("status page advertised as %+v; want an SRV to port 8021", r)
	}

	// A listener from port 5353 hears the goodbye.
	listener := l.helper("listener", cliNS, "query", queryParams{Iface: "cli0", Name: "_none._tcp.local.", Type: "PTR", Mode: "multicast", WaitMS: 10000})
	listener.Await(t, "sent", 5*time.Second, nil)
	start := time.Now()
	server.Stop(syscall.SIGTERM)
	bye := listener.Await(t, "response", 5*time.Second, func(ev netlab.Event) bool {
		r := decode[responseJSON](t, ev)
		return len(r.Answer) > 0 && r.Answer[0].Type == "PTR" && r.Answer[0].TTL == 0
	})
	t.Logf("goodbye heard %v after SIGTERM", bye.At.Sub(start))
	if code := server.Cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("mediaftpd exited with %d; output:\n%s", code, server.Output())
	}

	quiet := l.Start("mediaftpd -mdns=false", srvNS, nil, bin, "-listen", ":2121", "-web", "off", "-mdns=false", "-dlna", "off", "-state-dir", t.TempDir(), "-name", livingRoom, dir)
	q = l.helper("query", cliNS, "query", queryParams{Iface: "cli0", Name: "_ftp._tcp.local.", Type: "PTR", Mode: "legacy", Count: 10, IntervalMS: 300})
	for _, r := range responses(t, q) {
		t.Errorf("answered with -mdns=false: %+v", r)
	}
	quiet.Stop(syscall.SIGTERM)
}
