package mcast

import (
	"testing"
	"time"
)

func TestEarliest(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		add  []time.Time
		want time.Time
	}{
		{"none", nil, time.Time{}},
		{"only zeros", []time.Time{{}, {}}, time.Time{}},
		{"one", []time.Time{t0}, t0},
		{"zero ignored", []time.Time{{}, t0.Add(time.Second), {}}, t0.Add(time.Second)},
		{"earliest first", []time.Time{t0, t0.Add(time.Second)}, t0},
		{"earliest last", []time.Time{t0.Add(time.Second), t0.Add(time.Minute), t0}, t0},
	} {
		var e Earliest
		for _, u := range c.add {
			e.Add(u)
		}
		if got := e.Time(); !got.Equal(c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
