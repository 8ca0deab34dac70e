//go:build !linux

package mcast

import "syscall"

// control leaves sockets as they are: mediaftpd is made for Linux, and
// elsewhere a protocol works only when nothing else holds its port.
func control(network, address string, c syscall.RawConn) error { return nil }
