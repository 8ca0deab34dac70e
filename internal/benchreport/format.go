package benchreport

import (
	"fmt"
	"slices"
	"strings"
)

// Median returns the median of vs (the mean of the middle two for an even
// count), or 0 for none. It does not change vs.
func Median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Num formats a figure with about three significant digits: no decimals
// from 100, one from 10, two from 1, three below.
func Num(v float64) string {
	switch a := max(v, -v); {
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3f", v)
	}
}

// Nums formats every figure of vs with Num, separated by spaces.
func Nums(vs []float64) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = Num(v)
	}
	return strings.Join(s, " ")
}

// ItemLabel returns a row's label fit to follow "- " in a Markdown list:
// trimmed, and with a leading figure number "1. " written "figure 1, ",
// since "- 1. ..." would start a numbered list inside the item.
func ItemLabel(label string) string {
	label = strings.TrimSpace(label)
	if n, rest, ok := strings.Cut(label, ". "); ok && len(n) == 1 && '0' <= n[0] && n[0] <= '9' {
		return "figure " + n + ", " + rest
	}
	return label
}
