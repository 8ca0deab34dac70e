package config

import (
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// PortRange is an inclusive range of TCP ports, written "50000-50100", or
// "50000" for a single port. The zero value means not set.
//
// *PortRange implements flag.Value, so a command line flag can set it.
type PortRange struct{ Lo, Hi int }

// Interface guards.
var (
	_ yaml.Unmarshaler = (*PortRange)(nil)
	_ yaml.Marshaler   = PortRange{}
	_ yaml.IsZeroer    = PortRange{}
)

// ParsePortRange parses "lo-hi" or a single port "port". Ports must be in
// 1..65535 and lo must not exceed hi. Spaces around the numbers are
// allowed.
func ParsePortRange(s string) (PortRange, error) {
	lo, hi, isRange := strings.Cut(s, "-")
	if !isRange {
		hi = lo
	}
	var r PortRange
	var errLo, errHi error
	r.Lo, errLo = strconv.Atoi(strings.TrimSpace(lo))
	r.Hi, errHi = strconv.Atoi(strings.TrimSpace(hi))
	if errLo != nil || errHi != nil {
		return PortRange{}, newError(ErrInvalid, "%q is not a port range (use a form like 50000-50100)", s)
	}
	if err := r.check(); err != nil {
		return PortRange{}, err
	}
	return r, nil
}

// check reports whether r is a usable range: both ports in 1..65535 and
// Lo <= Hi. The zero value, not set, is not a range and fails too.
func (r PortRange) check() error {
	switch {
	case r.Lo < 1 || r.Lo > 65535:
		return newError(ErrInvalid, "port %d is out of range (ports are 1 to 65535)", r.Lo)
	case r.Hi < 1 || r.Hi > 65535:
		return newError(ErrInvalid, "port %d is out of range (ports are 1 to 65535)", r.Hi)
	case r.Lo > r.Hi:
		return newError(ErrInvalid, "%d-%d goes backwards (write the lower port first: %d-%d)", r.Lo, r.Hi, r.Hi, r.Lo)
	}
	return nil
}

// IsZero reports whether r is not set.
func (r PortRange) IsZero() bool { return r == PortRange{} }

// Len returns the number of ports in r, or 0 when r is not set.
func (r PortRange) Len() int {
	if r.IsZero() {
		return 0
	}
	return r.Hi - r.Lo + 1
}

// String returns "lo-hi", or "" when r is not set.
func (r PortRange) String() string {
	if r.IsZero() {
		return ""
	}
	return strconv.Itoa(r.Lo) + "-" + strconv.Itoa(r.Hi)
}

// Set parses s as [ParsePortRange] does, for flag.Value. An empty s
// clears r.
func (r *PortRange) Set(s string) error {
	if s == "" {
		*r = PortRange{}
		return nil
	}
	p, err := ParsePortRange(s)
	if err != nil {
		return err
	}
	*r = p
	return nil
}

// UnmarshalYAML decodes a port range written as "50000-50100", a single
// port 50000, or null or "" for not set.
func (r *PortRange) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return newError(ErrInvalid, "must be a port range like 50000-50100, not %s", describe(n))
	}
	if n.ShortTag() == "!!null" {
		*r = PortRange{}
		return nil
	}
	return r.Set(n.Value)
}

// MarshalYAML encodes r as its string form, "lo-hi".
func (r PortRange) MarshalYAML() (any, error) { return r.String(), nil }
