//go:build !linux

package discovery

import "syscall"

// controlSocket leaves sockets as they are: mediaftpd is made for Linux,
// and elsewhere the responder works only when nothing else holds port
// 5353.
func controlSocket(network, address string, c syscall.RawConn) error { return nil }
