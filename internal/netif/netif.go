// Package netif lists the network interfaces that the discovery
// protocols (mDNS in discovery, SSDP in dlna/ssdp) run on, with their
// addresses sorted into what is advertised. Both poll it and compare
// the lists to notice an interface that comes, goes or changes address.
package netif

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
)

// Addrs are the addresses of one interface, sorted for advertising.
type Addrs struct {
	// V4 are the interface's IPv4 addresses, link-local (169.254/16)
	// included, in the order the system lists them.
	V4 []netip.Addr
	// V6 are its IPv6 addresses that are not link-local: a link-local
	// address is useless to a client that has no zone for it.
	V6 []netip.Addr
	// Nets are all the interface's prefixes, link-local included; a
	// neighbour is an address inside one of them.
	Nets []netip.Prefix
}

// Active reports whether there is any address to advertise.
func (a Addrs) Active() bool { return len(a.V4)+len(a.V6) > 0 }

// Equal reports whether a and b hold the same addresses and prefixes in
// the same order.
func (a Addrs) Equal(b Addrs) bool {
	return slices.Equal(a.V4, b.V4) && slices.Equal(a.V6, b.V6) && slices.Equal(a.Nets, b.Nets)
}

// OnLink reports whether ip is a neighbour on the interface: inside one
// of its prefixes, or any IPv6 link-local address.
func (a Addrs) OnLink(ip netip.Addr) bool {
	ip = ip.Unmap()
	if ip.Is6() && ip.IsLinkLocalUnicast() {
		return true
	}
	for _, p := range a.Nets {
		if p.Contains(ip.WithZone("")) {
			return true
		}
	}
	return false
}

// All returns the advertised addresses, IPv4 first.
func (a Addrs) All() []netip.Addr { return append(slices.Clone(a.V4), a.V6...) }

// Interface is one network interface and its addresses.
type Interface struct {
	Index int    // the kernel's interface index
	Name  string // "eth0"
	Addrs
}

// List returns the interfaces to advertise on. With no names that is
// every interface that is up, multicast-capable and not loopback. With
// names, it is those of them that are up and multicast-capable; a named
// interface that is missing, down or cannot multicast is reported in
// problems, one sentence each (it may appear later: a USB Wi-Fi stick, a
// bridge made after boot). Interfaces without addresses are listed too;
// [Addrs.Active] tells them apart. err is set only when the system's list
// cannot be read at all.
func List(names []string) (list []Interface, problems []string, err error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, nil, fmt.Errorf("listing network interfaces: %w", err)
	}
	seen := map[string]bool{}
	for _, ifi := range ifs {
		named := slices.Contains(names, ifi.Name)
		seen[ifi.Name] = true
		switch {
		case len(names) > 0 && !named:
			continue
		case len(names) == 0 && ifi.Flags&net.FlagLoopback != 0:
			continue
		case ifi.Flags&net.FlagUp == 0:
			if named {
				problems = append(problems, fmt.Sprintf("interface %s is down", ifi.Name))
			}
			continue
		case ifi.Flags&net.FlagMulticast == 0:
			if named {
				problems = append(problems, fmt.Sprintf("interface %s cannot multicast", ifi.Name))
			}
			continue
		}
		addrs, err := ifi.Addrs()
		if err != nil {
			problems = append(problems, fmt.Sprintf("interface %s: %v", ifi.Name, err))
			continue
		}
		list = append(list, FromAddrs(ifi.Index, ifi.Name, ifi.Flags&net.FlagLoopback != 0, addrs))
	}
	for _, n := range names {
		if !seen[n] {
			problems = append(problems, fmt.Sprintf("interface %s does not exist", n))
		}
	}
	return list, problems, nil
}

// FromAddrs makes the Interface with the given index and name from the
// addresses the system lists for it (as [net.Interface.Addrs] returns
// them). Loopback addresses are advertised only on a loopback interface,
// which is used only when named on purpose.
func FromAddrs(index int, name string, loopback bool, addrs []net.Addr) Interface {
	info := Interface{Index: index, Name: name}
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(ipn.IP)
		if !ok {
			continue
		}
		ip = ip.Unmap()
		ones, _ := ipn.Mask.Size()
		info.Nets = append(info.Nets, netip.PrefixFrom(ip, ones).Masked())
		switch {
		case ip.IsLoopback() && !loopback:
		case ip.Is4():
			info.V4 = append(info.V4, ip)
		case ip.IsLinkLocalUnicast():
		default:
			info.V6 = append(info.V6, ip)
		}
	}
	return info
}
