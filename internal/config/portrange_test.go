package config

import (
	"errors"
	"flag"
	"testing"

	"gopkg.in/yaml.v3"
)

var _ flag.Value = (*PortRange)(nil)

func TestParsePortRange(t *testing.T) {
	tests := []struct {
		in   string
		want PortRange
		ok   bool
	}{
		{"50000-50100", PortRange{50000, 50100}, true},
		{"50000", PortRange{50000, 50000}, true},
		{" 1 - 65535 ", PortRange{1, 65535}, true},
		{"2121-2121", PortRange{2121, 2121}, true},
		{"", PortRange{}, false},
		{"-", PortRange{}, false},
		{"50000-", PortRange{}, false},
		{"-50000", PortRange{}, false},
		{"a-b", PortRange{}, false},
		{"1-2-3", PortRange{}, false},
		{"0", PortRange{}, false},
		{"0-10", PortRange{}, false},
		{"65536", PortRange{}, false},
		{"10-5", PortRange{}, false},
		{"50000:50100", PortRange{}, false},
	}
	for _, tt := range tests {
		got, err := ParsePortRange(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("ParsePortRange(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("ParsePortRange(%q) error %v is not ErrInvalid", tt.in, err)
		}
	}
}

func TestPortRangeString(t *testing.T) {
	for _, tt := range []struct {
		r    PortRange
		want string
		len  int
	}{
		{PortRange{}, "", 0},
		{PortRange{50000, 50100}, "50000-50100", 101},
		{PortRange{21, 21}, "21-21", 1},
	} {
		if got := tt.r.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.r, got, tt.want)
		}
		if got := tt.r.Len(); got != tt.len {
			t.Errorf("%#v.Len() = %d, want %d", tt.r, got, tt.len)
		}
		if tt.r.IsZero() {
			continue
		}
		back, err := ParsePortRange(tt.r.String())
		if err != nil || back != tt.r {
			t.Errorf("ParsePortRange(%q) = %v, %v; want %v", tt.r.String(), back, err, tt.r)
		}
	}
}

func TestPortRangeSet(t *testing.T) {
	var r PortRange
	if err := r.Set("2000-2010"); err != nil || r != (PortRange{2000, 2010}) {
		t.Errorf("Set: %v, %v", r, err)
	}
	if err := r.Set("nope"); err == nil || r != (PortRange{2000, 2010}) {
		t.Errorf("Set(nope) = %v and changed r to %v", err, r)
	}
	if err := r.Set(""); err != nil || !r.IsZero() {
		t.Errorf("Set(\"\") = %v, left %v", err, r)
	}
}

func TestPortRangeYAML(t *testing.T) {
	type doc struct {
		P PortRange `yaml:"p"`
	}
	for _, tt := range []struct {
		in   string
		want PortRange
	}{
		{"p: 50000-50100", PortRange{50000, 50100}},
		{`p: "50000-50100"`, PortRange{50000, 50100}},
		{"p: 50000", PortRange{50000, 50000}},
		{"p: ~", PortRange{}},
		{`p: ""`, PortRange{}},
	} {
		var d doc
		if err := yaml.Unmarshal([]byte(tt.in), &d); err != nil || d.P != tt.want {
			t.Errorf("Unmarshal(%q) = %v, %v; want %v", tt.in, d.P, err, tt.want)
		}
	}
	var d doc
	if err := yaml.Unmarshal([]byte("p: {lo: 1}"), &d); err == nil {
		t.Errorf("Unmarshal of a mapping = %v, want an error", d.P)
	}

	out, err := yaml.Marshal(doc{PortRange{50000, 50100}})
	if err != nil || string(out) != "p: 50000-50100\n" {
		t.Errorf("Marshal = %q, %v", out, err)
	}
	var back doc
	if err := yaml.Unmarshal(out, &back); err != nil || back.P != (PortRange{50000, 50100}) {
		t.Errorf("round trip = %v, %v", back.P, err)
	}
}
