package web

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// This file holds the functions that put numbers into words on the page.

// humanBytes writes a size in decimal units, as disks are labelled:
// "999 B", "1.5 kB", "12 MB", "3.2 GB", "1.0 TB".
func humanBytes(n int64) string {
	if n < 1000 {
		if n < 0 {
			n = 0
		}
		return strconv.FormatInt(n, 10) + " B"
	}
	v := float64(n)
	for _, unit := range []string{"kB", "MB", "GB", "TB", "PB"} {
		v /= 1000
		if v < 999.95 || unit == "PB" {
			if v < 9.995 {
				return fmt.Sprintf("%.2f %s", v, unit)
			}
			if v < 99.95 {
				return fmt.Sprintf("%.1f %s", v, unit)
			}
			return fmt.Sprintf("%.0f %s", v, unit)
		}
	}
	panic("unreachable")
}

// humanRate writes bytes per second as "12.3 MB/s".
func humanRate(n int64) string { return humanBytes(n) + "/s" }

// count writes a number with thousands separators: "12,345".
func count(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// plural writes a count with its noun: "1 file", "2,000 files".
func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return count(n) + " " + many
}

// humanDuration writes a duration to the nearest useful unit:
// "45 s", "12 min", "3 h 5 min", "2 d 4 h".
func humanDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", max(int64(d/time.Second), 0))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int64(d/time.Minute))
	case d < 24*time.Hour:
		h, m := int64(d/time.Hour), int64(d%time.Hour/time.Minute)
		if m == 0 {
			return fmt.Sprintf("%d h", h)
		}
		return fmt.Sprintf("%d h %d min", h, m)
	}
	days, h := int64(d/(24*time.Hour)), int64(d%(24*time.Hour)/time.Hour)
	if h == 0 {
		return fmt.Sprintf("%d d", days)
	}
	return fmt.Sprintf("%d d %d h", days, h)
}

// ago writes how long before now t was: "just now", "5 min ago",
// "3 h ago", "2 d ago". Beyond a week, or when t is in the future or
// before 2000 (a clock that was not set yet), it writes the date.
func ago(t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case t.Year() < 2000 || d < -time.Minute || d > 7*24*time.Hour:
		return t.Local().Format("2 Jan 2006")
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int64(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%d h ago", int64(d/time.Hour))
	}
	return fmt.Sprintf("%d d ago", int64(d/(24*time.Hour)))
}

// percent writes part of whole as a whole percentage, for progress.
func percent(part, whole int64) int64 {
	if whole <= 0 {
		return 0
	}
	return min(max(part*100/whole, 0), 100)
}
