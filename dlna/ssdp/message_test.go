package ssdp

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/netif"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in     string
		method string
		status int
		header string // fmt of the header map
	}{
		{"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n",
			"M-SEARCH", 0, `map[HOST:239.255.255.250:1900 MAN:"ssdp:discover" MX:1 ST:ssdp:all]`},
		{"NOTIFY * HTTP/1.1\nHost:x\nNT:  a b \t\nNTS:ssdp:alive\n\n",
			"NOTIFY", 0, "map[HOST:x NT:a b NTS:ssdp:alive]"},
		{"HTTP/1.1 200 OK\r\nEXT:\r\nST: upnp:rootdevice\r\n\r\n", "", 200, "map[EXT: ST:upnp:rootdevice]"},
		{"HTTP/1.1 200\r\nEXT:\r\n\r\n", "", 200, "map[EXT:]"}, // no reason phrase
		{"HTTP/1.1 200 \r\n", "", 200, "map[]"},
		{"M-SEARCH * HTTP/1.1", "M-SEARCH", 0, "map[]"},
		{"M-SEARCH * HTTP/1.1\r\nX-Thing: 1\r\nx-thing: 2\r\n\r\n", "M-SEARCH", 0, "map[X-THING:1]"}, // first value kept
		{"M-SEARCH * HTTP/1.1\r\nST: a\r\n\r\nbody: ignored\r\n", "M-SEARCH", 0, "map[ST:a]"},
		{"M-SEARCH * HTTP/1.1\r\nSERVER: caf\xc3\xa9/1\r\n\r\n", "M-SEARCH", 0, "map[SERVER:café/1]"},
		{"M-SEARCH * HTTP/1.1\r\nMX: 1\r\nMX: 1\r\n\r\n", "", -1, ""},
	} {
		m, err := parse([]byte(c.in))
		if c.status == -1 {
			if !errors.Is(err, errMalformed) {
				t.Errorf("%q: err %v, want malformed", c.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if m.method != c.method || m.status != c.status || fmt.Sprint(m.header) != c.header {
			t.Errorf("%q: got %q %d %v", c.in, m.method, m.status, m.header)
		}
	}
}

func TestParseMalformed(t *testing.T) {
	for _, in := range []string{
		"",
		"\r\n",
		"\r\nM-SEARCH * HTTP/1.1\r\n\r\n",
		"M-SEARCH\r\n\r\n",
		"M-SEARCH *\r\n\r\n",
		"M-SEARCH * HTTP/1.1 extra\r\n\r\n",
		"M-SEARCH  * HTTP/1.1\r\n\r\n",
		"M-SEARCH * HTTP/11\r\n\r\n",
		"M-SEARCH * FTP/1.1\r\n\r\n",
		"M SEARCH * HTTP/1.1\r\n\r\n",
		"M-SEARCH\x00 * HTTP/1.1\r\n\r\n",
		"HTTP/1.1 OK\r\n\r\n",
		"HTTP/1.1 20 OK\r\n\r\n",
		"HTTP/1.1 099 OK\r\n\r\n",
		"HTTP/x 200 OK\r\n\r\n",
		"HTTP/1.1\r\n\r\n",
		"M-SEARCH * HTTP/1.1\r\nST ssdp:all\r\n\r\n",
		"M-SEARCH * HTTP/1.1\r\n: value\r\n\r\n",
		"M-SEARCH * HTTP/1.1\r\nS T: x\r\n\r\n",
		"M-SEARCH * HTTP/1.1\r\nST : x\r\n\r\n",
		"M-SEARCH * HTTP/1.1\r\nST: a\r\n  folded\r\n\r\n",
		"M-SEARCH * HTTP/1.1\r\nST: a\x00b\r\n\r\n",
		"M-SEARCH * HTTP/1.1\r\nST: a\rb\r\n\r\n",
		"M-SEARCH * HTTP/1.1\r\nST: a\x7f\r\n\r\n",
		"M-SEARCH * HTTP/1.1\r\nST: a\r\nst: b\r\n\r\n",
		"M-SEARCH * HTTP/1.1\r\nHOST: a\r\nHost: a\r\n\r\n",
		"M-SEARCH * HTTP/1.1\r\n" + strings.Repeat("X: y\r\n", maxHeaders+1) + "\r\n",
		"M-SEARCH * HTTP/1.1\r\nX: " + strings.Repeat("y", maxMessage) + "\r\n\r\n",
	} {
		if m, err := parse([]byte(in)); !errors.Is(err, errMalformed) {
			t.Errorf("%q: got %+v, %v; want malformed", clip(in), m, err)
		}
	}
}

func TestParseMX(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true},
		{"1", time.Second, true},
		{"3", 3 * time.Second, true},
		{"05", 5 * time.Second, true},
		{"6", 5 * time.Second, true},
		{"120", 5 * time.Second, true},
		{"000000000000000000002", 2 * time.Second, true},
		{"99999999999999999999999999", 5 * time.Second, true},
		{"", 0, false},
		{"-1", 0, false},
		{"+1", 0, false},
		{"1.5", 0, false},
		{"1s", 0, false},
		{"one", 0, false},
		{" 1", 0, false}, // parse trims blanks; an inner one is bad
	} {
		got, ok := parseMX(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("parseMX(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestWriter(t *testing.T) {
	var w writer
	w.line("HTTP/1.1 200 OK")
	w.header("EXT", "")
	w.header("ST", "upnp:rootdevice")
	if got := string(w.bytes()); got != "HTTP/1.1 200 OK\r\nEXT:\r\nST: upnp:rootdevice\r\n\r\n" {
		t.Errorf("%q", got)
	}
}

// FuzzParse feeds arbitrary datagrams to the parser and to an engine:
// neither may panic; whatever parses has upper-case token names and
// values without control characters, and writing it back out parses to
// the same thing.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		string(msearch("ssdp:all", "3")),
		"NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nNT: upnp:rootdevice\r\nNTS: ssdp:alive\r\n\r\n",
		"HTTP/1.1 200 OK\r\nEXT:\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	e, _ := newTestEngine(testDevice())
	e.SetInterfaces(t0, []netif.Interface{eth0})
	f.Fuzz(func(t *testing.T, data []byte) {
		e.Receive(t0, searchFrom(tv, eth0, data))
		e.Advance(t0.Add(5 * time.Second))
		e.TakeOut()

		m, err := parse(data)
		if err != nil {
			if !errors.Is(err, errMalformed) {
				t.Fatalf("error %v does not wrap errMalformed", err)
			}
			return
		}
		var w writer
		if m.method != "" {
			w.line(m.method + " " + m.target + " " + m.proto)
		} else {
			w.line(fmt.Sprintf("%s %03d X", m.proto, m.status))
		}
		for name, v := range m.header {
			if !isToken(name) || name != strings.ToUpper(name) {
				t.Fatalf("header name %q", name)
			}
			if strings.ContainsFunc(v, isCTL) || v != strings.Trim(v, " \t") {
				t.Fatalf("header %s value %q", name, v)
			}
			w.header(name, v)
		}
		m2, err := parse(w.bytes())
		if err != nil {
			t.Fatalf("%q parsed, but %q written from it does not: %v", data, w.bytes(), err)
		}
		if fmt.Sprint(m2) != fmt.Sprint(m) {
			t.Fatalf("round trip: %+v became %+v", m, m2)
		}
	})
}
