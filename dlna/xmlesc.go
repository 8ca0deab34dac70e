package dlna

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// escapeXML appends s to b as XML character data, fit for both text and
// attribute values: the five specials become entities, tab, newline and
// carriage return become character references (so attribute values keep
// them), and what XML 1.0 cannot carry (other control characters, U+FFFE,
// U+FFFF, invalid UTF-8) becomes U+FFFD. The output is always well-formed.
// escapedLen returns about how long escapeXML makes s (exactly, but for
// the invalid bytes and characters it replaces), to size buffers: a
// DIDL-Lite page escaped grows by half.
func escapedLen(s string) int {
	n := len(s)
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '&', '\'', '"', '\t', '\n', '\r':
			n += 4
		case '<', '>':
			n += 3
		}
	}
	return n
}

// stringWriter is what escapeXML writes to: a bytes.Buffer, a
// strings.Builder.
type stringWriter interface {
	WriteString(s string) (int, error)
}

func escapeXML(b stringWriter, s string) {
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
			esc = "&amp;"
		case c == '<':
			esc = "&lt;"
		case c == '>':
			esc = "&gt;"
		case c == '"':
			esc = "&quot;"
		case c == '\'':
			esc = "&apos;"
		case c == '\t':
			esc = "&#x9;"
		case c == '\n':
			esc = "&#xA;"
		case c == '\r':
			esc = "&#xD;"
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
			b.WriteString(s[last:i])
			b.WriteString(esc)
			last = i + width
		}
		i += width
	}
	b.WriteString(s[last:])
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
