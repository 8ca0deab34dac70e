package access

import (
	"errors"
	"net/netip"
	"testing"
)

func TestAllowsDefault(t *testing.T) {
	for _, tt := range []struct {
		addr string
		want bool
	}{
		{"192.168.1.20", true},
		{"10.1.2.3", true},
		{"172.16.0.1", true},
		{"172.31.255.254", true},
		{"172.32.0.1", false},
		{"127.0.0.1", true},
		{"127.8.9.10", true},
		{"169.254.10.20", true},
		{"100.64.0.1", false}, // carrier-grade NAT is not a home network
		{"8.8.8.8", false},
		{"0.0.0.0", false},
		{"255.255.255.255", false},
		{"239.255.255.250", false},
		{"::1", true},
		{"fe80::1", true},
		{"fe80::1%eth0", true}, // zones ignored
		{"fd12:3456::1", true},
		{"fc00::1", true},
		{"2001:db8::1", false},
		{"2a00:1450::1", false},
		{"::", false},
		{"::ffff:192.168.1.20", true}, // IPv4-mapped: judged as IPv4
		{"::ffff:127.0.0.1", true},
		{"::ffff:8.8.8.8", false},
		{"ff02::c", false},
	} {
		a := netip.MustParseAddr(tt.addr)
		if got := List(nil).Allows(a); got != tt.want {
			t.Errorf("default Allows(%s) = %v, want %v", tt.addr, got, tt.want)
		}
	}
	if (List{}).Allows(netip.Addr{}) {
		t.Error("the zero Addr is allowed")
	}
}

func TestAllowsList(t *testing.T) {
	l, err := Parse([]string{"192.168.1.0/24", " 10.0.0.5 ", "2001:db8::/32", "::ffff:172.20.0.0/112", "fe80::/10"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		addr string
		want bool
	}{
		{"192.168.1.1", true},
		{"192.168.1.255", true},
		{"192.168.2.1", false}, // private, but the list replaces the default
		{"127.0.0.1", false},   // so does loopback
		{"10.0.0.5", true},
		{"10.0.0.6", false},
		{"::ffff:192.168.1.9", true},
		{"::ffff:10.0.0.5", true},
		{"172.20.3.4", true}, // from the mapped prefix
		{"172.21.0.1", false},
		{"2001:db8:1::7", true},
		{"2001:db9::1", false},
		{"fe80::9%wlan0", true},
		{"::1", false},
	} {
		if got := l.Allows(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("%v.Allows(%s) = %v, want %v", l, tt.addr, got, tt.want)
		}
	}
}

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		in   []string
		want string // List.String, or "" for an error
	}{
		{nil, "default (private, link-local, loopback)"},
		{[]string{}, "default (private, link-local, loopback)"},
		{[]string{"192.168.1.7/24"}, "192.168.1.0/24"},
		{[]string{"10.0.0.1"}, "10.0.0.1/32"},
		{[]string{"fd00::1"}, "fd00::1/128"},
		{[]string{"::ffff:10.0.0.0/104"}, "10.0.0.0/8"},
		{[]string{"::ffff:10.0.0.1"}, "10.0.0.1/32"},
		{[]string{"0.0.0.0/0", "::/0"}, "0.0.0.0/0, ::/0"},
		{[]string{"192.168.1.0/33"}, ""},
		{[]string{"192.168.1"}, ""},
		{[]string{""}, ""},
		{[]string{"  "}, ""},
		{[]string{"fe80::1%eth0"}, ""},
		{[]string{"fe80::%eth0/64"}, ""},
		{[]string{"example.com"}, ""},
		{[]string{"10.0.0.0/8", "bad"}, ""},
		{[]string{"10.0.0.0/-1"}, ""},
	} {
		l, err := Parse(tt.in)
		if tt.want == "" {
			if err == nil || !errors.Is(err, ErrBadEntry) {
				t.Errorf("Parse(%q) = %v, %v; want an error wrapping ErrBadEntry", tt.in, l, err)
			}
			continue
		}
		if err != nil || l.String() != tt.want {
			t.Errorf("Parse(%q) = %q, %v; want %q", tt.in, l.String(), err, tt.want)
		}
	}
	_, err := Parse([]string{"10.0.0.0/8", "10.0.0.0/40"})
	if err == nil || err.Error() != `entry 2 "10.0.0.0/40": not an IP address or CIDR prefix` {
		t.Errorf("error %v does not name the bad entry", err)
	}
}

// FuzzParse checks that no entry panics Parse, and that an accepted list
// allows exactly the addresses its prefixes contain.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"192.168.1.0/24", "::ffff:10.0.0.0/104", "fe80::1%eth0", "10.0.0.1", "", "1.2.3.4/99"} {
		f.Add(s, "192.168.1.5")
	}
	f.Fuzz(func(t *testing.T, entry, addr string) {
		l, err := Parse([]string{entry})
		if err != nil {
			return
		}
		if len(l) != 1 || !l[0].IsValid() || l[0] != l[0].Masked() {
			t.Fatalf("Parse(%q) = %v", entry, l)
		}
		a, err := netip.ParseAddr(addr)
		if err != nil {
			return
		}
		if l.Allows(a) != l[0].Contains(a.Unmap().WithZone("")) {
			t.Fatalf("%v.Allows(%s) disagrees with Contains", l, a)
		}
	})
}
