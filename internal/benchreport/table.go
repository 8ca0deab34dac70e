package benchreport

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Target is a goal for a row, judged on the medians.
type Target struct {
	Text string // as the table shows it, "ratio ≥ 1.0"
	// Met reports whether the goal is met, given the median of the
	// measured samples and its ratio to the median of the compared ones
	// (0 where there is no ratio).
	Met func(v, ratio float64) bool
	// Ratio marks a goal on the ratio: a row without compared samples is
	// not judged on it.
	Ratio bool
}

// AtMost is the goal that the measured median is at most x unit.
func AtMost(x float64, unit string) Target {
	return Target{Text: fmt.Sprintf("≤ %g %s", x, unit), Met: func(v, _ float64) bool { return v <= x }}
}

// RatioAtLeast is the goal that the ratio of the medians is at least x.
func RatioAtLeast(x float64) Target {
	return Target{Text: "ratio ≥ " + ratioText(x), Met: func(_, r float64) bool { return r >= x }, Ratio: true}
}

// RatioAtMost is the goal that the ratio of the medians is at most x.
func RatioAtMost(x float64) Target {
	return Target{Text: "ratio ≤ " + ratioText(x), Met: func(_, r float64) bool { return r <= x }, Ratio: true}
}

// ratioText writes a ratio's bound with at least one decimal: 1.0, 1.2, 0.95.
func ratioText(x float64) string {
	s := strconv.FormatFloat(x, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// Row is one line of the table: a figure's samples, the samples it is
// compared with, and its target.
type Row struct {
	Label    string // the figure, as the first column shows it
	Unit     string // shown after the label in parentheses
	Measured []float64
	Compared []float64 // none: no comparison, no ratio
	Target   Target    // zero: not judged
}

// WriteTable prints rows as a Markdown table with its columns aligned:
// the label and unit, the median of the measured samples, the median of
// the compared ones, their ratio, the target and whether it is met ("—"
// where there is none). head names the first three columns. It returns
// how many targets were judged and how many of them were missed.
func WriteTable(w io.Writer, head [3]string, rows []Row) (judged, missed int) {
	table := [][]string{{head[0], head[1], head[2], "ratio", "target", "met?"}}
	for _, r := range rows {
		cells := []string{r.Label + " (" + r.Unit + ")", "—", "—", "—", r.Target.Text, ""}
		if cells[4] == "" {
			cells[4] = "—"
		}
		var v, c float64
		if len(r.Measured) > 0 {
			v = Median(r.Measured)
			cells[1] = Num(v)
		}
		if len(r.Compared) > 0 {
			c = Median(r.Compared)
			cells[2] = Num(c)
		}
		ratio := 0.0
		if len(r.Measured) > 0 && len(r.Compared) > 0 && c != 0 {
			ratio = v / c
			cells[3] = fmt.Sprintf("%.2f", ratio)
		}
		if r.Target.Met != nil && len(r.Measured) > 0 && (!r.Target.Ratio || len(r.Compared) > 0) {
			judged++
			if r.Target.Met(v, ratio) {
				cells[5] = "yes"
			} else {
				cells[5] = "**no**"
				missed++
			}
		}
		table = append(table, cells)
	}
	writeMarkdown(w, table, []bool{false, true, true, true, false, false})
	return judged, missed
}

// writeMarkdown prints a Markdown table with its columns padded to the
// same width; right marks the columns aligned right.
func writeMarkdown(w io.Writer, table [][]string, right []bool) {
	widths := make([]int, len(table[0]))
	for _, line := range table {
		for i, c := range line {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	pad := func(s string, i int) string {
		fill := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(s))
		if right[i] {
			return fill + s
		}
		return s + fill
	}
	for n, line := range table {
		cells := make([]string, len(line))
		for i, c := range line {
			cells[i] = pad(c, i)
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
		if n == 0 {
			for i := range cells {
				dashes := strings.Repeat("-", widths[i])
				if right[i] {
					dashes = dashes[1:] + ":"
				}
				cells[i] = dashes
			}
			fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
		}
	}
}
