package web

import (
	"testing"
	"time"
)

func TestHumanBytes(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 B"}, {-5, "0 B"}, {999, "999 B"}, {1000, "1.00 kB"}, {1536, "1.54 kB"},
		{10_000, "10.0 kB"}, {999_499, "999 kB"}, {999_950, "1.00 MB"}, {12_345_678, "12.3 MB"},
		{3_200_000_000, "3.20 GB"}, {1 << 40, "1.10 TB"}, {5e15, "5.00 PB"}, {5e18, "5000 PB"},
	}
	for _, tt := range tests {
		if got := humanBytes(tt.n); got != tt.want {
			t.Errorf("humanBytes(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
	if got := humanRate(2_500_000); got != "2.50 MB/s" {
		t.Errorf("humanRate = %q", got)
	}
}

func TestCount(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 12345: "12,345", 1234567: "1,234,567", -1234: "-1,234"} {
		if got := count(n); got != want {
			t.Errorf("count(%d) = %q, want %q", n, got, want)
		}
	}
	if got := plural(1, "file", "files"); got != "1 file" {
		t.Errorf("plural(1) = %q", got)
	}
	if got := plural(2000, "file", "files"); got != "2,000 files" {
		t.Errorf("plural(2000) = %q", got)
	}
}

func TestHumanDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0 s"}, {-time.Second, "0 s"}, {45 * time.Second, "45 s"}, {12 * time.Minute, "12 min"},
		{3 * time.Hour, "3 h"}, {3*time.Hour + 5*time.Minute, "3 h 5 min"},
		{50 * time.Hour, "2 d 2 h"}, {48 * time.Hour, "2 d"},
	}
	for _, tt := range tests {
		if got := humanDuration(tt.d); got != tt.want {
			t.Errorf("humanDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestAgo(t *testing.T) {
	now := time.Date(2026, 5, 10, 12, 0, 0, 0, time.Local)
	tests := []struct {
		t    time.Time
		want string
	}{
		{now.Add(-10 * time.Second), "just now"},
		{now.Add(-5 * time.Minute), "5 min ago"},
		{now.Add(-3 * time.Hour), "3 h ago"},
		{now.Add(-50 * time.Hour), "2 d ago"},
		{now.Add(-30 * 24 * time.Hour), "10 Apr 2026"},
		{now.Add(time.Hour), "10 May 2026"}, // the future: a clock set since
		{time.Unix(3600, 0), "1 Jan 1970"},  // a Pi's clock before NTP
	}
	for _, tt := range tests {
		if got := ago(tt.t, now); got != tt.want {
			t.Errorf("ago(%v) = %q, want %q", tt.t, got, tt.want)
		}
	}
	if got := percent(5, 0); got != 0 {
		t.Errorf("percent of nothing = %d", got)
	}
	if got := percent(3, 4); got != 75 {
		t.Errorf("percent(3, 4) = %d", got)
	}
}
