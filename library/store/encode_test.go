package store

import (
	"bytes"
	"testing"
	"time"
)

func TestKeys(t *testing.T) {
	tests := []struct {
		rel string
		key string
	}{
		{"a", "a"},
		{"a/b", "a\x00b"},
		{"Movies/Film (2019)/Film.mkv", "Movies\x00Film (2019)\x00Film.mkv"},
		{"😀/é", "😀\x00é"},
	}
	for _, tt := range tests {
		if got := relKey(tt.rel); string(got) != tt.key {
			t.Errorf("relKey(%q) = %q, want %q", tt.rel, got, tt.key)
		}
		if got := keyRel([]byte(tt.key)); got != tt.rel {
			t.Errorf("keyRel(%q) = %q, want %q", tt.key, got, tt.rel)
		}
	}
}

func TestEncodings(t *testing.T) {
	for _, st := range []Stamp{{}, {Size: 1 << 62, ModTime: -1 << 62, Ino: 1<<64 - 1}, {Size: 4_700_000_000, ModTime: 1_700_000_000_123_456_789, Ino: 12345}} {
		for _, raw := range [][]byte{nil, {1}, []byte("details")} {
			got, gotRaw, err := decodeDetails(encodeDetails(st, raw))
			if err != nil || got != st || !bytes.Equal(gotRaw, raw) {
				t.Errorf("details %+v %q: decoded %+v %q %v", st, raw, got, gotRaw, err)
			}
		}
	}
	for _, p := range []struct {
		pos time.Duration
		at  time.Time
	}{{time.Nanosecond, time.Unix(0, 0)}, {90 * time.Minute, time.Date(2026, 1, 1, 0, 0, 0, 1, time.UTC)}, {1<<63 - 1, time.Unix(-1, 0)}} {
		pos, at, err := decodePosition(encodePosition(p.pos, p.at))
		if err != nil || pos != p.pos || !at.Equal(p.at) {
			t.Errorf("position %v %v: decoded %v %v %v", p.pos, p.at, pos, at, err)
		}
	}
	for _, bad := range [][]byte{nil, {0x80}, {1, 0x80}, {1, 2, 0x80}, bytes.Repeat([]byte{0xff}, 11)} {
		if _, _, err := decodeDetails(bad); err == nil {
			t.Errorf("decodeDetails(%x): no error", bad)
		}
	}
	for _, bad := range [][]byte{nil, {1}, {1, 2, 3}, {0x80, 1}} {
		if _, _, err := decodePosition(bad); err == nil {
			t.Errorf("decodePosition(%x): no error", bad)
		}
	}
}

// FuzzDecode: the values of a store read from disk (damaged or not) never
// make the decoders panic, and what decodes encodes back the same.
func FuzzDecode(f *testing.F) {
	f.Add(encodeDetails(Stamp{Size: 1, ModTime: 2, Ino: 3}, []byte("x")))
	f.Add(encodePosition(time.Minute, time.Unix(1, 2)))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, v []byte) {
		if st, raw, err := decodeDetails(v); err == nil {
			if again := encodeDetails(st, raw); len(again) > len(v) {
				t.Errorf("%x decodes to %+v %q, which encodes longer: %x", v, st, raw, again)
			}
		}
		if pos, at, err := decodePosition(v); err == nil {
			if p, a, err := decodePosition(encodePosition(pos, at)); err != nil || p != pos || !a.Equal(at) {
				t.Errorf("%x: position %v %v does not round-trip", v, pos, at)
			}
		}
		decodeFormat(v)
	})
}
