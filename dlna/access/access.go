// Package access decides which source addresses may talk to the DLNA
// server: over SSDP (searches from others are not answered) and over HTTP
// (others get 403 Forbidden).
//
// The default, an empty [List], lets in the addresses a home network
// uses and nobody from outside it: private addresses (RFC 1918 for IPv4,
// unique local fc00::/7 for IPv6), link-local addresses (169.254.0.0/16,
// fe80::/10) and loopback. A configured list (the config key dlna.allow)
// replaces the default entirely: loopback and private addresses are then
// let in only if the list names them.
//
// Addresses are compared without their IPv6 zone, and an IPv4-mapped IPv6
// address (::ffff:192.168.1.20, what a dual-stack socket reports for an
// IPv4 client) is compared as the IPv4 address it carries.
package access

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// ErrBadEntry is wrapped by the errors of [Parse]: an entry of the list is
// neither an address nor a CIDR prefix.
var ErrBadEntry = errors.New("not an IP address or CIDR prefix")

// List is the set of prefixes whose addresses may talk to the server. The
// empty List means the default rule described in the package
// documentation.
type List []netip.Prefix

// Parse reads a list of CIDR prefixes ("192.168.1.0/24", "fd00::/8") or
// single addresses ("10.0.0.5", taken as /32 or /128), as the config key
// dlna.allow holds them. Spaces around an entry are ignored. Prefixes are
// stored masked ("192.168.1.7/24" is 192.168.1.0/24), and an IPv4-mapped
// IPv6 prefix of at least 96 bits is stored as the IPv4 prefix it covers.
// The error names the first bad entry and wraps [ErrBadEntry]; zones
// ("fe80::1%eth0") are refused, as a list cannot follow an interface.
// No entries give the empty List, the default rule.
func Parse(cidrs []string) (List, error) {
	var l List
	for i, s := range cidrs {
		p, err := parseOne(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("entry %d %q: %w", i+1, s, err)
		}
		l = append(l, p)
	}
	return l, nil
}

func parseOne(s string) (netip.Prefix, error) {
	if s == "" {
		return netip.Prefix{}, fmt.Errorf("empty: %w", ErrBadEntry)
	}
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return netip.Prefix{}, ErrBadEntry
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, ErrBadEntry
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

// Allows reports whether a may talk to the server: by the default rule
// when l is empty, else when one of l's prefixes contains it. The
// invalid (zero) address is never allowed.
func (l List) Allows(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	a = a.Unmap().WithZone("")
	if len(l) == 0 {
		return a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast()
	}
	for _, p := range l {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// String returns the prefixes separated by ", ", or "default (private,
// link-local, loopback)" for the empty List.
func (l List) String() string {
	if len(l) == 0 {
		return "default (private, link-local, loopback)"
	}
	s := make([]string, len(l))
	for i, p := range l {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}
