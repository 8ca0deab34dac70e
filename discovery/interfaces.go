package discovery

import (
	"net"

	"github.com/mediaftpd/mediaftpd/internal/netif"
)

// ifaceInfo is one network interface as the responder sees it: the
// transport knows it by index and name, the engine by its addresses
// (every IPv4 address and the IPv6 ones that are not link-local are
// advertised; a unicast query is answered only from a source on one of
// its prefixes, RFC 6762 11).
type ifaceInfo struct {
	index int
	name  string
	netif.Addrs
}

// active reports whether there is anything to advertise on the interface.
func (i ifaceInfo) active() bool { return i.Active() }

func fromNetif(i netif.Interface) ifaceInfo {
	return ifaceInfo{index: i.Index, name: i.Name, Addrs: i.Addrs}
}

// systemInterfaces lists the interfaces to advertise on, as [netif.List]
// does.
func systemInterfaces(names []string) ([]ifaceInfo, []string, error) {
	list, problems, err := netif.List(names)
	if err != nil {
		return nil, nil, err
	}
	infos := make([]ifaceInfo, len(list))
	for i, ifc := range list {
		infos[i] = fromNetif(ifc)
	}
	return infos, problems, nil
}

// makeIfaceInfo sorts an interface's addresses into what is advertised,
// as [netif.FromAddrs] does.
func makeIfaceInfo(index int, name string, loopback bool, addrs []net.Addr) ifaceInfo {
	return fromNetif(netif.FromAddrs(index, name, loopback, addrs))
}
