package media

import (
	"math"
	"strings"
)

// rangeResult is what parseRange makes of a Range header.
type rangeResult uint8

const (
	rangeIgnored       rangeResult = iota // send the whole file with 200
	rangeOK                               // send the one range with 206
	rangeUnsatisfiable                    // 416
)

// parseRange reads a Range header value (RFC 9110 section 14.1.2) for a
// file of size bytes. One satisfiable byte range gives its start and
// length. Another unit, a malformed value and several ranges are ignored;
// a range starting at or past the end, a suffix range of zero bytes and
// any range of an empty file are unsatisfiable.
func parseRange(v string, size int64) (start, length int64, res rangeResult) {
	unit, set, ok := strings.Cut(v, "=")
	if !ok || !strings.EqualFold(strings.TrimSpace(unit), "bytes") {
		return 0, 0, rangeIgnored
	}
	var spec string
	n := 0
	for s := range strings.SplitSeq(set, ",") {
		if s = strings.Trim(s, " \t"); s != "" {
			spec = s
			n++
		}
	}
	if n != 1 {
		return 0, 0, rangeIgnored
	}
	first, last, ok := strings.Cut(spec, "-")
	if !ok {
		return 0, 0, rangeIgnored
	}
	if first == "" { // suffix range: the last n bytes
		suffix, ok := digits(last)
		switch {
		case !ok:
			return 0, 0, rangeIgnored
		case suffix == 0 || size == 0:
			return 0, 0, rangeUnsatisfiable
		}
		suffix = min(suffix, size)
		return size - suffix, suffix, rangeOK
	}
	a, ok := digits(first)
	if !ok {
		return 0, 0, rangeIgnored
	}
	b := int64(math.MaxInt64)
	if last != "" {
		if b, ok = digits(last); !ok || b < a {
			return 0, 0, rangeIgnored
		}
	}
	if a >= size {
		return 0, 0, rangeUnsatisfiable
	}
	b = min(b, size-1)
	return a, b - a + 1, rangeOK
}

// digits parses a non-empty run of ASCII digits; a number too big for
// int64 is math.MaxInt64, which is past the end of any file.
func digits(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > (math.MaxInt64-int64(c-'0'))/10 {
			n = math.MaxInt64
			continue
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
