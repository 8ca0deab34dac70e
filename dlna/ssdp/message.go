package ssdp

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Limits on a received message. An SSDP message is one UDP datagram; real
// ones are under 1 KiB.
const (
	maxMessage = 8192 // bytes
	maxHeaders = 64
)

// singleHeaders are the header fields that may appear only once: a
// message giving two values for one of them is malformed, since we could
// not tell which one the sender meant.
var singleHeaders = []string{"HOST", "MAN", "MX", "ST", "NT", "NTS", "USN"}

// message is one parsed SSDP message: a request (M-SEARCH, NOTIFY) or a
// response ("HTTP/1.1 200 OK").
type message struct {
	// method is "M-SEARCH", "NOTIFY" or another token for a request, and
	// "" for a response.
	method string
	target string // the request-target, "*" in SSDP
	proto  string // "HTTP/1.1"
	status int    // a response's status code
	// header maps each field name, upper-cased, to its value without
	// leading and trailing blanks. A repeated field keeps its first value
	// (except singleHeaders, which make the message malformed).
	header map[string]string
}

// get returns the value of the named header (upper case) and whether the
// message has it.
func (m *message) get(name string) (string, bool) {
	v, ok := m.header[name]
	return v, ok
}

// parse parses a datagram as an SSDP message: an HTTP/1.1-style start
// line and header fields, lines ending in CRLF (a bare LF is accepted
// too), up to an empty line or the end of the datagram; anything after
// the empty line is ignored. It returns an error wrapping errMalformed
// for anything else, never panics, and never keeps a reference to b.
func parse(b []byte) (*message, error) {
	bad := func(format string, args ...any) (*message, error) {
		return nil, fmt.Errorf("%w: "+format, append([]any{errMalformed}, args...)...)
	}
	if len(b) > maxMessage {
		return bad("%d bytes, more than %d", len(b), maxMessage)
	}
	if len(b) == 0 {
		return bad("empty")
	}
	m := &message{header: map[string]string{}}
	rest := b
	next := func() ([]byte, bool) {
		if len(rest) == 0 {
			return nil, false
		}
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		return bytes.TrimSuffix(line, []byte{'\r'}), true
	}

	start, _ := next()
	if err := m.parseStart(start); err != nil {
		return nil, err
	}
	n := 0
	for {
		line, ok := next()
		if !ok || len(line) == 0 {
			break
		}
		if n++; n > maxHeaders {
			return bad("more than %d header fields", maxHeaders)
		}
		if line[0] == ' ' || line[0] == '\t' {
			return bad("folded header line") // obsolete line folding, RFC 7230 3.2.4
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return bad("header line without a name and a colon")
		}
		name := string(line[:colon])
		if !isToken(name) {
			return bad("header name %q", name)
		}
		value := line[colon+1:]
		if i := bytes.IndexFunc(value, isCTL); i >= 0 {
			return bad("control character %#x in header %s", value[i], name)
		}
		name = strings.ToUpper(name)
		v := strings.Trim(string(value), " \t")
		if old, dup := m.header[name]; dup {
			for _, s := range singleHeaders {
				if name == s {
					return bad("header %s twice (%q, %q)", name, old, v)
				}
			}
			continue
		}
		m.header[name] = v
	}
	return m, nil
}

// parseStart parses the start line: "METHOD target HTTP/1.1" or
// "HTTP/1.1 200 reason".
func (m *message) parseStart(line []byte) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{errMalformed}, args...)...)
	}
	if bytes.IndexFunc(line, isCTL) >= 0 {
		return bad("control character in the start line")
	}
	parts := strings.SplitN(string(line), " ", 3)
	if len(parts) < 3 && !(len(parts) == 2 && strings.HasPrefix(parts[0], "HTTP/")) {
		return bad("start line %q", clip(string(line)))
	}
	if strings.HasPrefix(parts[0], "HTTP/") { // a response; the reason may be empty
		if !isVersion(parts[0]) {
			return bad("version %q", clip(parts[0]))
		}
		code, err := strconv.Atoi(parts[1])
		if err != nil || len(parts[1]) != 3 || code < 100 {
			return bad("status %q", clip(parts[1]))
		}
		m.proto, m.status = parts[0], code
		return nil
	}
	if !isToken(parts[0]) || parts[1] == "" || strings.ContainsAny(parts[1], " \t") || !isVersion(parts[2]) {
		return bad("start line %q", clip(string(line)))
	}
	m.method, m.target, m.proto = parts[0], parts[1], parts[2]
	return nil
}

// isVersion reports whether s is "HTTP/x.y".
func isVersion(s string) bool {
	v, ok := strings.CutPrefix(s, "HTTP/")
	return ok && len(v) == 3 && v[1] == '.' && isDigit(v[0]) && isDigit(v[2])
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isToken reports whether s is an HTTP token (RFC 7230 3.2.6).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', isDigit(c):
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// isCTL reports whether r is a control character other than a tab.
func isCTL(r rune) bool { return (r < 0x20 && r != '\t') || r == 0x7f }

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// parseMX reads an MX value: decimal digits only; more than maxMX
// seconds counts as maxMX (UDA 1.1 1.3.2).
func parseMX(s string) (time.Duration, bool) {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	s = strings.TrimLeft(s, "0")
	if len(s) > 2 {
		return maxMX, true
	}
	n := 0
	for i := range len(s) {
		n = n*10 + int(s[i]-'0')
	}
	return min(time.Duration(n)*time.Second, maxMX), true
}

// writer builds an outgoing message: a start line and header fields,
// each ending in CRLF, then the empty line.
type writer struct{ b []byte }

func (w *writer) line(s string) { w.b = append(append(w.b, s...), '\r', '\n') }

func (w *writer) header(name, value string) {
	w.b = append(w.b, name...)
	w.b = append(w.b, ':')
	if value != "" {
		w.b = append(w.b, ' ')
		w.b = append(w.b, value...)
	}
	w.b = append(w.b, '\r', '\n')
}

func (w *writer) bytes() []byte { return append(w.b, '\r', '\n') }
