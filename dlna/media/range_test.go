package media

import (
	"testing"
)

func TestParseRange(t *testing.T) {
	for _, tt := range []struct {
		v          string
		size       int64
		start, len int64
		res        rangeResult
	}{
		{"bytes=0-9", 100, 0, 10, rangeOK},
		{"bytes=90-", 100, 90, 10, rangeOK},
		{"bytes=-10", 100, 90, 10, rangeOK},
		{"bytes=-1000", 100, 0, 100, rangeOK},
		{"bytes=50-1000", 100, 50, 50, rangeOK},
		{"Bytes = 1-1", 100, 1, 1, rangeOK},
		{"bytes=,,1-2,", 100, 1, 2, rangeOK},
		{"bytes=4294967396-4294967495", 5 << 30, 4294967396, 100, rangeOK},
		{"bytes=0-9223372036854775807", 100, 0, 100, rangeOK},
		{"bytes=100-", 100, 0, 0, rangeUnsatisfiable},
		{"bytes=-0", 100, 0, 0, rangeUnsatisfiable},
		{"bytes=0-0", 0, 0, 0, rangeUnsatisfiable},
		{"bytes=-5", 0, 0, 0, rangeUnsatisfiable},
		{"bytes=9223372036854775808-", 100, 0, 0, rangeUnsatisfiable},
		{"bytes=0-1,3-4", 100, 0, 0, rangeIgnored},
		{"bytes=", 100, 0, 0, rangeIgnored},
		{"bytes=-", 100, 0, 0, rangeIgnored},
		{"bytes=1", 100, 0, 0, rangeIgnored},
		{"bytes=2-1", 100, 0, 0, rangeIgnored},
		{"bytes=a-b", 100, 0, 0, rangeIgnored},
		{"bytes=1 - 2", 100, 0, 0, rangeIgnored},
		{"bytes=0x1-2", 100, 0, 0, rangeIgnored},
		{"bytes=--1", 100, 0, 0, rangeIgnored},
		{"pages=1-2", 100, 0, 0, rangeIgnored},
		{"0-10", 100, 0, 0, rangeIgnored},
		{"", 100, 0, 0, rangeIgnored},
	} {
		s, n, res := parseRange(tt.v, tt.size)
		if res != tt.res || res == rangeOK && (s != tt.start || n != tt.len) {
			t.Errorf("parseRange(%q, %d) = %d, %d, %d; want %d, %d, %d", tt.v, tt.size, s, n, res, tt.start, tt.len, tt.res)
		}
	}
}

// FuzzParseRange checks that no Range header panics parseRange and that
// a range it accepts lies inside the file.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-9", "bytes=-5", "bytes=5-", "bytes=0-1,2-3", "bytes=99999999999999999999-"} {
		f.Add(s, int64(1000))
	}
	f.Fuzz(func(t *testing.T, v string, size int64) {
		if size < 0 {
			size = -(size + 1)
		}
		s, n, res := parseRange(v, size)
		if res == rangeOK && (s < 0 || n < 1 || s >= size || n > size-s) {
			t.Fatalf("parseRange(%q, %d) = %d, %d outside the file", v, size, s, n)
		}
		if size == 0 && res == rangeOK {
			t.Fatalf("a range of an empty file")
		}
	})
}
