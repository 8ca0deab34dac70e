package discovery

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// controlSocket prepares an mDNS socket before it is bound: SO_REUSEADDR
// so it can share port 5353 with avahi-daemon or a player on the same
// machine, and IP_MULTICAST_ALL off so it receives only the groups it
// joined itself, on the interfaces it joined them (Linux otherwise hands
// it every group any socket on the machine joined).
func controlSocket(network, _ string, c syscall.RawConn) error {
	var err error
	cerr := c.Control(func(fd uintptr) {
		err = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
		if err != nil {
			return
		}
		if network == "udp6" {
			// Linux 4.20 and later; an older kernel just lacks the filter.
			_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_ALL, 0)
		} else {
			_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_MULTICAST_ALL, 0)
		}
	})
	if cerr != nil {
		return cerr
	}
	return err
}
