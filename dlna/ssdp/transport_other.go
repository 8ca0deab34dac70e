//go:build !linux

package ssdp

import "syscall"

// controlSocket leaves the socket as it is: mediaftpd is made for Linux,
// and elsewhere SSDP works only when nothing else holds port 1900.
func controlSocket(network, address string, c syscall.RawConn) error { return nil }
