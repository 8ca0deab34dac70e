package library

import (
	"cmp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// NaturalCompare compares two names the way people sort them: without
// regard to case, and with runs of digits compared by their value, so
// "Episode 2" comes before "Episode 10" and "track9" before "Track10".
// Names equal in that order (such as "a" and "A", or "01" and "1") are
// ordered by their bytes, so the order is total and stable. It returns
// -1, 0 or +1 like strings.Compare.
func NaturalCompare(a, b string) int {
	if c := naturalFold(a, b); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

// naturalFold is NaturalCompare without the final tie-break.
func naturalFold(a, b string) int {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if isDigit(a[i]) && isDigit(b[j]) {
			// Compare the digit runs by value: skip leading zeros, then
			// the longer run is larger, else the first differing digit.
			ei, ej := digitsEnd(a, i), digitsEnd(b, j)
			na, nb := strings.TrimLeft(a[i:ei], "0"), strings.TrimLeft(b[j:ej], "0")
			if c := cmp.Compare(len(na), len(nb)); c != 0 {
				return c
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			i, j = ei, ej
			continue
		}
		ra, sa := utf8.DecodeRuneInString(a[i:])
		rb, sb := utf8.DecodeRuneInString(b[j:])
		if ra != rb {
			la, lb := unicode.ToLower(ra), unicode.ToLower(rb)
			if la != lb {
				return cmp.Compare(la, lb)
			}
		}
		i, j = i+sa, j+sb
	}
	return cmp.Compare(len(a)-i, len(b)-j)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// digitsEnd returns the end of the run of ASCII digits that starts at i.
func digitsEnd(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}
