package ssdp

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// controlSocket prepares the SSDP socket before it is bound: SO_REUSEADDR
// so it can share port 1900 with another SSDP stack on the machine
// (minissdpd, a GUPnP program), and IP_MULTICAST_ALL off so it receives
// only the group it joined itself, on the interfaces it joined it on
// (Linux otherwise hands it every group any socket on the machine
// joined).
func controlSocket(_, _ string, c syscall.RawConn) error {
	var err error
	cerr := c.Control(func(fd uintptr) {
		err = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
		if err != nil {
			return
		}
		// Linux 4.2 and later; an older kernel just lacks the filter.
		_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_MULTICAST_ALL, 0)
	})
	if cerr != nil {
		return cerr
	}
	return err
}
