package config

import (
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxNameBytes is the longest friendly name: a DNS-SD service instance
// name is at most 63 bytes (RFC 6763 section 4.1.1).
const maxNameBytes = 63

// validator collects problems with a config. File and lines locate values
// that came from a config file; both are empty for a config made in code.
type validator struct {
	file  string
	lines map[string]int
	probs []*problem
}

// validate returns every problem with c. File names the config file and
// lines maps key paths to their lines in it, as recorded by decode; for a
// config not read from a file both are empty.
func (c *Config) validate(file string, lines map[string]int) []*problem {
	v := &validator{file: file, lines: lines}

	if c.Name != "" {
		if err := checkText(c.Name); err != nil {
			v.add("name", "name", err)
		} else if len(c.Name) > maxNameBytes {
			v.add("name", "name", newError(ErrInvalid, "%q is %d bytes long; mDNS allows at most %d", c.Name, len(c.Name), maxNameBytes))
		}
	}

	f := &c.FTP
	if f.Listen != "" {
		v.add("ftp.listen", "listen", checkListen(f.Listen, DefaultFTPListen, false))
	}
	if !f.PassivePorts.IsZero() {
		v.add("ftp.passive_ports", "passive_ports", f.PassivePorts.check())
	}
	if f.MaxClients < 0 {
		v.add("ftp.max_clients", "max_clients", newError(ErrInvalid, "%d is negative (0 means the default, %d)", f.MaxClients, DefaultMaxClients))
	}
	switch {
	case f.MaxPerIP < 0:
		v.add("ftp.max_per_ip", "max_per_ip", newError(ErrInvalid, "%d is negative (0 means the default, %d)", f.MaxPerIP, DefaultMaxPerIP))
	case f.MaxClients > 0 && f.MaxPerIP > f.MaxClients:
		v.add("ftp.max_per_ip", "max_per_ip", newError(ErrInvalid, "%d is more than max_clients (%d)", f.MaxPerIP, f.MaxClients))
	}
	if f.IdleTimeout < 0 {
		v.add("ftp.idle_timeout", "idle_timeout", newError(ErrInvalid, "%v is negative (0 means the default, %v)", f.IdleTimeout, DefaultIdleTimeout))
	}

	for i := range c.Shares {
		v.share(c.Shares, i)
	}
	v.accounts(c)

	if c.Web.Listen != "" && c.Web.Listen != Off {
		v.add("web.listen", "listen", checkListen(c.Web.Listen, DefaultWebListen, true))
	}
	for i, root := range c.Web.ShareRoots {
		if !filepath.IsAbs(root) {
			v.add(fmt.Sprintf("web.share_roots[%d]", i), "share_roots",
				newError(ErrInvalid, "%q is not an absolute path (write it from /, like /media)", root))
		}
	}

	for i, name := range c.MDNS.Interfaces {
		if strings.TrimSpace(name) == "" {
			v.add(fmt.Sprintf("mdns.interfaces[%d]", i), "interfaces", newError(ErrInvalid, "an interface name is empty"))
		}
	}

	d := &c.DLNA
	if d.Listen != "" && d.Listen != Off {
		v.add("dlna.listen", "listen", checkListen(d.Listen, DefaultDLNAListen, true))
	}
	if d.NotifyInterval != 0 && (d.NotifyInterval < MinDLNANotifyInterval || d.NotifyInterval > MaxDLNANotifyInterval) {
		v.add("dlna.notify_interval", "notify_interval", newError(ErrInvalid, "%v is not between %v and %v (TVs forget a server they have not heard from lately)",
			d.NotifyInterval, MinDLNANotifyInterval, MaxDLNANotifyInterval))
	}
	for i, a := range d.Allow {
		if _, err := ParseAllow(a); err != nil {
			v.add(fmt.Sprintf("dlna.allow[%d]", i), "allow", err)
		}
	}
	for i, name := range d.Interfaces {
		if strings.TrimSpace(name) == "" {
			v.add(fmt.Sprintf("dlna.interfaces[%d]", i), "interfaces", newError(ErrInvalid, "an interface name is empty"))
		}
	}
	if c.Thumbnails != "" && c.Thumbnails != ThumbnailsFFmpeg {
		v.add("thumbnails", "thumbnails", newError(ErrInvalid, "%q is not %q (leave it out to make no pictures of videos without artwork)", c.Thumbnails, ThumbnailsFFmpeg))
	}
	if c.StateDir != "" && !filepath.IsAbs(c.StateDir) {
		v.add("state_dir", "state_dir", newError(ErrInvalid, "%q is not an absolute path (write it from /, like /var/lib/mediaftpd)", c.StateDir))
	}
	return v.probs
}

// share checks shares[i], including that no earlier share has its name.
func (v *validator) share(shares []Share, i int) {
	s := &shares[i]
	if err := CheckShareName(s.Name); err != nil {
		v.addShare(s, i, "name", err)
	} else {
		for j := range i {
			if o := &shares[j]; SameShareName(o.Name, s.Name) {
				other := fmt.Sprintf("share %q", o.Name)
				if o.Line > 0 {
					other = fmt.Sprintf("the share at line %d", o.Line)
				}
				v.addShare(s, i, "name", newError(ErrDuplicateShare,
					"%q is already the name of %s (names are compared ignoring case)", s.Name, other))
				break
			}
		}
	}
	switch {
	case s.Path == "":
		v.addShare(s, i, "path", newError(ErrInvalid, "missing: every share needs the folder to share, like /media/usb/Movies"))
	case !filepath.IsAbs(s.Path):
		v.addShare(s, i, "path", newError(ErrInvalid, "%q is not an absolute path (write it from /, like /media/usb/Movies)", s.Path))
	}
	if s.RescanInterval < 0 {
		v.addShare(s, i, "rescan_interval", newError(ErrInvalid,
			"%v is negative (0 watches the folder for changes; an interval like 10m rescans it that often)", s.RescanInterval))
	}
}

// CheckShareName reports whether name can name a share: it must be one
// folder name that every FTP client can show and open, so it must be
// non-empty valid UTF-8 without "/", "\" or control characters, not "."
// or "..", not start with "." (clients hide such folders), and not start
// or end with a space.
func CheckShareName(name string) error {
	switch {
	case name == "":
		return newError(ErrInvalid, "missing: every share needs a name, the folder clients see")
	case strings.ContainsAny(name, `/\`):
		return newError(ErrInvalid, "%q contains a slash; a share name is a single folder name", name)
	case name == "." || name == "..":
		return newError(ErrInvalid, "%q is not allowed as a share name", name)
	case strings.HasPrefix(name, "."):
		return newError(ErrInvalid, "%q starts with a dot, which hides it from most clients", name)
	case strings.TrimSpace(name) != name:
		return newError(ErrInvalid, "%q starts or ends with a space", name)
	}
	return checkText(name)
}

// SameShareName reports whether two names name the same share. Names are
// compared without regard to case: Windows clients, macOS and many players
// do, so "Movies" and "movies" side by side would confuse them. No two
// shares may have the same name.
func SameShareName(a, b string) bool { return strings.EqualFold(a, b) }

// checkText reports text that is not valid UTF-8 or holds control
// characters.
func checkText(s string) error {
	if !utf8.ValidString(s) {
		return newError(ErrInvalid, "%q is not valid UTF-8", s)
	}
	if strings.ContainsFunc(s, unicode.IsControl) {
		return newError(ErrInvalid, "%q contains a control character", s)
	}
	return nil
}

// ParseAllow parses one entry of dlna.allow: an address, which stands for
// itself alone, or a CIDR prefix like 192.168.1.0/24 or fd00::/8.
func ParseAllow(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	return netip.Prefix{}, newError(ErrInvalid, "%q is neither an address nor a prefix like 192.168.1.0/24", s)
}

// checkListen checks a listen address: host:port with a numeric port.
// Example is an address to suggest, like ":21"; off says whether "off" is
// allowed too.
func checkListen(addr, example string, off bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		hint := fmt.Sprintf("like %q for every address, or %q", example, "192.168.1.10"+example)
		if off {
			hint = fmt.Sprintf("like %q for every address, %q, or %q to turn it off", example, "192.168.1.10"+example, Off)
		}
		if _, err := strconv.ParseUint(addr, 10, 16); err == nil {
			hint = fmt.Sprintf("did you mean %q?", ":"+addr)
		}
		return newError(ErrInvalid, "%q is not host:port (%s)", addr, hint)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return newError(ErrInvalid, "%q: port %q is not a number from 0 to 65535", addr, port)
	}
	if strings.ContainsFunc(host, unicode.IsSpace) {
		return newError(ErrInvalid, "%q: host %q contains a space", addr, host)
	}
	return nil
}

// add records err, if not nil, as a problem with the value at path, whose
// key is key.
func (v *validator) add(path, key string, err error) {
	if err == nil {
		return
	}
	line := v.lines[path]
	label := path
	if line > 0 {
		label = key
	}
	v.probs = append(v.probs, &problem{file: v.file, line: line, label: label, err: err})
}

// addShare records err as a problem with key of share s, which is
// shares[i]. It is located at the key's line if known, else at the share's.
func (v *validator) addShare(s *Share, i int, key string, err error) {
	path := fmt.Sprintf("shares[%d].%s", i, key)
	line := v.lines[path]
	if line == 0 {
		line = s.Line
	}
	label := path
	switch {
	case line > 0:
		label = key
	case s.Name != "" && key != "name":
		label = fmt.Sprintf("share %q: %s", s.Name, key)
	}
	v.probs = append(v.probs, &problem{file: v.file, line: line, label: label, err: err})
}
