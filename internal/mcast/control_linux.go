package mcast

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// control prepares a socket before it is bound: SO_REUSEADDR, so that it
// can share its port with another program on the machine, and
// IP_MULTICAST_ALL (IPV6_MULTICAST_ALL) off, so that it receives only the
// groups it joined itself, on the interfaces it joined them on.
func control(network, _ string, c syscall.RawConn) error {
	var err error
	cerr := c.Control(func(fd uintptr) {
		err = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
		if err != nil {
			return
		}
		// IPV6_MULTICAST_ALL came in Linux 4.20; an older kernel just
		// lacks the filter.
		if network == "udp6" {
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
