package netif

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"testing"
)

func ipnets(t *testing.T, cidrs ...string) []net.Addr {
	t.Helper()
	var out []net.Addr
	for _, c := range cidrs {
		ip, n, err := net.ParseCIDR(c)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, &net.IPNet{IP: ip, Mask: n.Mask})
	}
	return out
}

func TestFromAddrs(t *testing.T) {
	for _, c := range []struct {
		name     string
		loopback bool
		cidrs    []string
		want     string // All()
		active   bool
	}{
		{"eth0", false, []string{"fe80::1/64", "fd00::5/64", "192.168.1.5/24", "127.0.0.2/8", "2001:db8::5/64", "169.254.7.7/16"},
			"[192.168.1.5 169.254.7.7 fd00::5 2001:db8::5]", true},
		{"wlan0", false, []string{"fe80::2/64"}, "[]", false},
		{"lo", true, []string{"127.0.0.1/8", "::1/128"}, "[127.0.0.1 ::1]", true},
		{"lo", true, []string{"127.0.0.1/8"}, "[127.0.0.1]", true},
		{"v4mapped", false, []string{"::ffff:10.0.0.1/120"}, "[10.0.0.1]", true},
	} {
		info := FromAddrs(7, c.name, c.loopback, ipnets(t, c.cidrs...))
		if got := fmt.Sprint(info.All()); got != c.want {
			t.Errorf("%s: All() = %s, want %s", c.name, got, c.want)
		}
		if info.Active() != c.active {
			t.Errorf("%s: Active() = %v", c.name, info.Active())
		}
		if info.Index != 7 || info.Name != c.name {
			t.Errorf("%s: index/name %d %q", c.name, info.Index, info.Name)
		}
	}
}

func TestOnLink(t *testing.T) {
	a := FromAddrs(2, "eth0", false, ipnets(t, "192.168.1.5/24", "fd00::5/64"))
	for _, c := range []struct {
		ip   string
		want bool
	}{
		{"192.168.1.77", true},
		{"::ffff:192.168.1.77", true},
		{"192.168.2.1", false},
		{"fd00::99", true},
		{"fe80::99", true}, // any IPv6 link-local neighbour
		{"fe80::99%eth0", true},
		{"192.0.2.1", false},
	} {
		if got := a.OnLink(netip.MustParseAddr(c.ip)); got != c.want {
			t.Errorf("OnLink(%s) = %v, want %v", c.ip, got, c.want)
		}
	}
	// With every kind of address at once, as a Pi's eth0 may have.
	b := FromAddrs(5, "eth0", false, ipnets(t, "fe80::1/64", "fd00::5/64", "192.168.1.5/24", "127.0.0.2/8", "2001:db8::5/64", "169.254.7.7/16"))
	if !b.OnLink(netip.MustParseAddr("192.168.1.77")) || !b.OnLink(netip.MustParseAddr("fe80::99")) || b.OnLink(netip.MustParseAddr("192.0.2.1")) {
		t.Error("OnLink wrong with every kind of address")
	}
	// Only a link-local IPv6 address: nothing advertised at all.
	if ll := FromAddrs(6, "wlan0", false, ipnets(t, "fe80::2/64")); ll.Active() || len(ll.V6) != 0 {
		t.Errorf("link-local-only interface: %+v", ll)
	}
}

func TestEqual(t *testing.T) {
	a := FromAddrs(2, "eth0", false, ipnets(t, "192.168.1.5/24"))
	b := FromAddrs(2, "eth0", false, ipnets(t, "192.168.1.5/24"))
	c := FromAddrs(2, "eth0", false, ipnets(t, "192.168.1.6/24"))
	d := FromAddrs(2, "eth0", false, ipnets(t, "192.168.1.5/16"))
	if !a.Addrs.Equal(b.Addrs) || a.Addrs.Equal(c.Addrs) || a.Addrs.Equal(d.Addrs) {
		t.Error("Equal wrong")
	}
}

// TestListMissing only reads the machine's interface list: a named
// interface that does not exist is a problem, not an error.
func TestListMissing(t *testing.T) {
	name := fmt.Sprintf("nosuch%d", os.Getpid()%100000)
	list, problems, err := List([]string{name})
	if err != nil || len(list) != 0 || len(problems) != 1 || problems[0] != "interface "+name+" does not exist" {
		t.Errorf("got %v, %q, %v", list, problems, err)
	}
}

// TestListDefault: without names, no loopback interface is listed.
func TestListDefault(t *testing.T) {
	list, _, err := List(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range list {
		for _, a := range i.All() {
			if a.IsLoopback() {
				t.Errorf("%s: loopback address %s listed", i.Name, a)
			}
		}
	}
}
