package dlna

import (
	"bytes"
	"io"
	"strings"
	"unicode/utf8"
)

// escapeXML appends s to b as XML character data, fit for both text and
// attribute values: the five specials become entities, tab, newline and
// carriage return become character references (so attribute values keep
// them), and what XML 1.0 cannot carry (other control characters, U+FFFE,
// U+FFFF, invalid UTF-8) becomes U+FFFD. The output is always well-formed.
func escapeXML(b io.StringWriter, s string) { escapeWith(b, s, &escOnce) }

// appendEscapedTwice appends what escapeXML would write of what
// escapeXML makes of s, in one pass: a value inside the DIDL-Lite that a
// SOAP answer carries as text.
func appendEscapedTwice(b []byte, s string) []byte { return appendEscaped(b, s, &escTwice) }

// Escapes of &, <, >, ", ', tab, newline and carriage return, once and
// twice. U+FFFD, for what XML cannot carry, needs none.
var (
	escOnce  = escapes{"&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#x9;", "&#xA;", "&#xD;"}
	escTwice = escapes{"&amp;amp;", "&amp;lt;", "&amp;gt;", "&amp;quot;", "&amp;apos;", "&amp;#x9;", "&amp;#xA;", "&amp;#xD;"}
)

type escapes [8]string

// escapeWith writes s to w escaped with e.
func escapeWith(w io.StringWriter, s string, e *escapes) {
	if needsEscape(s) {
		var buf [256]byte
		w.WriteString(string(appendEscaped(buf[:0], s, e)))
		return
	}
	w.WriteString(s)
}

// needsEscape reports whether escaping changes s.
func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		if xmlLook[s[i]] {
			return true
		}
	}
	return false
}

// appendEscaped appends s to b escaped with e: the one place that says
// what becomes of each character.
func appendEscaped(b []byte, s string, e *escapes) []byte {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if !xmlLook[c] {
			i++
			continue
		}
		var esc string
		width := 1
		switch {
		case c == '&':
			esc = e[0]
		case c == '<':
			esc = e[1]
		case c == '>':
			esc = e[2]
		case c == '"':
			esc = e[3]
		case c == '\'':
			esc = e[4]
		case c == '\t':
			esc = e[5]
		case c == '\n':
			esc = e[6]
		case c == '\r':
			esc = e[7]
		case c < utf8.RuneSelf: // other control characters, DEL
			esc = "\uFFFD"
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			width = n
			if r == utf8.RuneError && n == 1 || !xmlRune(r) {
				esc = "\uFFFD"
			}
		}
		if esc != "" {
			b = append(b, s[last:i]...)
			b = append(b, esc...)
			last = i + width
		}
		i += width
	}
	return append(b, s[last:]...)
}

// escapedLen returns how long escapeXML makes s, exactly: a SOAP answer
// is sent with its Content-Length before it is written.
func escapedLen(s string) int {
	var n byteCounter
	escapeXML(&n, s)
	return int(n)
}

// byteCounter counts what is written to it.
type byteCounter int

func (n *byteCounter) WriteString(s string) (int, error) {
	*n += byteCounter(len(s))
	return len(s), nil
}

// xmlLook marks the bytes escapeXML must look at: the specials, control
// characters, DEL, and every byte of a multi-byte UTF-8 sequence.
var xmlLook = func() (t [256]bool) {
	for c := range t {
		t[c] = c < 0x20 || c >= 0x7f || strings.IndexByte(`&<>"'`, byte(c)) >= 0
	}
	return t
}()

// xmlRune reports whether XML 1.0 allows r (the Char production), for
// runes from U+0080 up; DEL and the C1 controls are left out too, as
// they are never meant in a name.
func xmlRune(r rune) bool {
	switch {
	case r < 0xA0:
		return false
	case r <= 0xD7FF:
		return true
	case r < 0xE000:
		return false
	case r <= 0xFFFD:
		return true
	}
	return r >= 0x10000 && r <= 0x10FFFF
}

// xmlString returns s escaped by escapeXML.
func xmlString(s string) string {
	var b bytes.Buffer
	escapeXML(&b, s)
	return b.String()
}

// cleanText returns s fit for display: invalid UTF-8 and control
// characters each become U+FFFD. Titles go through it before escaping, so
// a name with a stray Latin-1 byte shows with one replacement character.
func cleanText(s string) string {
	clean := true
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || r < 0x20 || r == 0x7f || 0x80 <= r && r < 0xA0 || r == 0xFFFE || r == 0xFFFF {
			clean = false
			break
		}
		i += n
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || r < 0x20 || r == 0x7f || 0x80 <= r && r < 0xA0 || r == 0xFFFE || r == 0xFFFF {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}
