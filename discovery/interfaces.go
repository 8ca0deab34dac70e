package discovery

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
)

// ifaceInfo is one network interface as the responder sees it.
type ifaceInfo struct {
	index int
	name  string
	// v4 and v6 are the addresses advertised on the interface: every
	// IPv4 address, and the IPv6 addresses that are not link-local (a
	// link-local AAAA record is useless to clients, which take the first
	// address and have no zone for it).
	v4, v6 []netip.Addr
	// nets are all the interface's prefixes, link-local included: a
	// unicast query is answered only from a source inside one of them
	// (RFC 6762 11).
	nets []netip.Prefix
}

// active reports whether there is anything to advertise on the interface.
func (i ifaceInfo) active() bool { return len(i.v4)+len(i.v6) > 0 }

func (i ifaceInfo) sameAddrs(o ifaceInfo) bool {
	return slices.Equal(i.v4, o.v4) && slices.Equal(i.v6, o.v6) && slices.Equal(i.nets, o.nets)
}

// onLink reports whether a is a neighbour on this interface.
func (i ifaceInfo) onLink(a netip.Addr) bool {
	a = a.Unmap()
	if a.Is6() && a.IsLinkLocalUnicast() {
		return true
	}
	for _, p := range i.nets {
		if p.Contains(a.WithZone("")) {
			return true
		}
	}
	return false
}

// addrs returns the advertised addresses, IPv4 first.
func (i ifaceInfo) addrs() []netip.Addr { return append(slices.Clone(i.v4), i.v6...) }

// systemInterfaces lists the interfaces to advertise on. With no names
// that is every interface that is up, multicast-capable and not loopback.
// With names, it is those of them that are up; a named interface that is
// missing, down or cannot multicast is reported in problems (it may
// appear later: a USB Wi-Fi stick, a bridge made after boot). Interfaces without
// addresses are listed too; [ifaceInfo.active] tells them apart.
func systemInterfaces(names []string) (list []ifaceInfo, problems []string, err error) {
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
		list = append(list, makeIfaceInfo(ifi.Index, ifi.Name, ifi.Flags&net.FlagLoopback != 0, addrs))
	}
	for _, n := range names {
		if !seen[n] {
			problems = append(problems, fmt.Sprintf("interface %s does not exist", n))
		}
	}
	return list, problems, nil
}

// makeIfaceInfo sorts an interface's addresses into what is advertised.
// Loopback addresses are advertised only on a loopback interface (named
// in the config on purpose).
func makeIfaceInfo(index int, name string, loopback bool, addrs []net.Addr) ifaceInfo {
	info := ifaceInfo{index: index, name: name}
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
		info.nets = append(info.nets, netip.PrefixFrom(ip, ones).Masked())
		switch {
		case ip.IsLoopback() && !loopback:
		case ip.Is4():
			info.v4 = append(info.v4, ip)
		case ip.IsLinkLocalUnicast():
		default:
			info.v6 = append(info.v6, ip)
		}
	}
	return info
}
