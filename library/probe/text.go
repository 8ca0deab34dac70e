package probe

import (
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// maxTagString bounds a tag value kept in Details, in bytes.
const maxTagString = 256

// tagSet is what a tag block (ID3, Vorbis comments, RIFF INFO, iTunes
// items, Matroska tags) says.
type tagSet struct {
	title, artist, album string
	track, year          int
}

// set records the value of a tag by its common name ("title", "artist",
// "album", "track", "year"/"date"), keeping the first value of each.
func (t *tagSet) set(key, value string) {
	value = cleanText(value)
	if value == "" {
		return
	}
	switch key {
	case "title":
		if t.title == "" {
			t.title = value
		}
	case "artist":
		if t.artist == "" {
			t.artist = value
		}
	case "album":
		if t.album == "" {
			t.album = value
		}
	case "track":
		if t.track == 0 {
			t.track = parseLeadingInt(value)
		}
	case "year", "date":
		if t.year == 0 {
			t.year = parseYear(value)
		}
	}
}

// cleanText makes a tag value presentable: valid UTF-8, no control
// characters or NULs (a value ends at the first NUL), no surrounding
// spaces, at most maxTagString bytes (cut at a rune boundary).
func cleanText(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7F || c >= 0x80 {
			clean = false
			break
		}
	}
	if !clean {
		s = strings.ToValidUTF8(s, "\uFFFD")
		s = strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return -1
			}
			return r
		}, s)
	}
	s = strings.TrimSpace(s)
	if len(s) > maxTagString {
		cut := maxTagString
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = strings.TrimSpace(s[:cut])
	}
	return s
}

// latin1 decodes ISO-8859-1.
func latin1(b []byte) string {
	ascii := true
	for _, c := range b {
		if c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return string(b)
	}
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// decodeUTF16 decodes UTF-16 text; a byte order mark decides the order,
// else bigEndian does.
func decodeUTF16(b []byte, bigEndian bool) string {
	if len(b) >= 2 {
		switch {
		case b[0] == 0xFF && b[1] == 0xFE:
			b, bigEndian = b[2:], false
		case b[0] == 0xFE && b[1] == 0xFF:
			b, bigEndian = b[2:], true
		}
	}
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		var c uint16
		if bigEndian {
			c = uint16(b[i])<<8 | uint16(b[i+1])
		} else {
			c = uint16(b[i+1])<<8 | uint16(b[i])
		}
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u))
}

// parseLeadingInt parses the number a value starts with ("3/12" is 3,
// "07" is 7); 0 if none.
func parseLeadingInt(s string) int {
	s = strings.TrimSpace(s)
	n := 0
	for i := 0; i < len(s) && i < 9; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// parseYear finds the year in a date ("2021", "2021-05-01",
// "2021-05-01T10:00:00Z", "05/01/2021"): the first run of exactly four
// digits; 0 if none.
func parseYear(s string) int {
	run := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] >= '0' && s[i] <= '9' {
			run++
			continue
		}
		if run == 4 {
			return parseLeadingInt(s[i-4 : i])
		}
		run = 0
	}
	return 0
}
