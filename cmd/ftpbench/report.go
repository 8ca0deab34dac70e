package main

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// row is one line of the table.
type row struct {
	m     metric
	label string
	unit  string
	// target is what the issue asks of mediaftpd; the zero target marks a
	// row that explains another and is not judged.
	target target
}

// target is a goal for a row, judged on the medians.
type target struct {
	text string
	met  func(mediaftpd, ratio float64) bool
}

func ratioAtLeast(x float64) target {
	return target{fmt.Sprintf("ratio ≥ %.1f", x), func(_, r float64) bool { return r >= x }}
}

func ratioAtMost(x float64) target {
	return target{fmt.Sprintf("ratio ≤ %.1f", x), func(_, r float64) bool { return r <= x }}
}

func mediaftpdAtMost(x float64, unit string) target {
	return target{fmt.Sprintf("mediaftpd ≤ %g %s", x, unit), func(m, _ float64) bool { return m <= x }}
}

// rows of the table, numbered as the figures of issue 7.
var rows = []row{
	{mSingle, "1. download of a 1 GiB file, one stream", "MiB/s", ratioAtLeast(1)},
	{mParallel, "2. 8 downloads at once, together", "MiB/s", ratioAtLeast(1)},
	{mCPUPerGiB, "3. server CPU per GiB sent (figures 1 and 2)", "s", ratioAtMost(1)},
	{mClientPerGiB, "   bench client CPU per GiB received", "s", target{}},
	{mSessions, "4. sessions per second, 4 clients (connect, login, SIZE, QUIT)", "1/s", ratioAtLeast(2)},
	{mCPUPerSession, "   server CPU per session", "µs", target{}},
	{mList, "5. LIST of a folder of 20,000 entries", "ms", ratioAtMost(1)},
	{mSeek, "6. seek: REST + RETR to the first byte, open session", "µs", ratioAtMost(1)},
	{mPSSIdle, "7. PSS at idle", "MiB", mediaftpdAtMost(20, "MiB")},
	{mPSSSessions, "7. PSS with 200 logged-in idle sessions", "MiB", ratioAtMost(0.5)},
	{mPSSPerSession, "   PSS per idle session", "KiB", target{}},
	{mPSSAfter, "   PSS at idle after all workloads", "MiB", target{}},
	{mIndexTime, "8. index 100,000 files (mediaftpd alone): time", "s", target{}},
	{mIndexHeap, "8. index 100,000 files (mediaftpd alone): heap", "MiB", target{}},
}

// results holds every sample, by server and figure, in the order taken.
type results map[string]map[metric][]float64

func (r results) add(server string, ss []sample) {
	if r[server] == nil {
		r[server] = map[metric][]float64{}
	}
	for _, s := range ss {
		r[server][s.m] = append(r[server][s.m], s.v)
	}
}

// num formats a figure with about three significant digits.
func num(v float64) string {
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

// writeTable prints the table of medians as Markdown, columns aligned. It
// returns how many targets were judged and how many of them were missed.
func writeTable(w io.Writer, res results) (judged, missed int) {
	table := [][]string{{"workload", nameMediaftpd, nameVsftpd, "ratio", "target", "met?"}}
	for _, r := range rows {
		ms, vs := res[nameMediaftpd][r.m], res[nameVsftpd][r.m]
		if len(ms) == 0 && len(vs) == 0 {
			continue
		}
		cells := []string{r.label + " (" + r.unit + ")", "—", "—", "—", r.target.text, ""}
		if cells[4] == "" {
			cells[4] = "—"
		}
		var m, v float64
		if len(ms) > 0 {
			m = median(ms)
			cells[1] = num(m)
		}
		if len(vs) > 0 {
			v = median(vs)
			cells[2] = num(v)
		}
		ratio := 0.0
		if len(ms) > 0 && len(vs) > 0 && v != 0 {
			ratio = m / v
			cells[3] = fmt.Sprintf("%.2f", ratio)
		}
		if r.target.met != nil && len(ms) > 0 && (len(vs) > 0 || strings.HasPrefix(r.target.text, nameMediaftpd)) {
			judged++
			if r.target.met(m, ratio) {
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

// writeRuns prints every sample of the table's rows, in the order taken.
func writeRuns(w io.Writer, res results) {
	for _, r := range rows {
		ms, vs := res[nameMediaftpd][r.m], res[nameVsftpd][r.m]
		if len(ms) == 0 && len(vs) == 0 {
			continue
		}
		// "- 1. ..." would start a numbered list inside the item.
		label := strings.TrimSpace(r.label)
		if n, rest, ok := strings.Cut(label, ". "); ok && len(n) == 1 && isDigit(n[0]) {
			label = "figure " + n + ", " + rest
		}
		fmt.Fprintf(w, "- %s (%s): %s %s", label, r.unit, nameMediaftpd, nums(ms))
		if len(vs) > 0 {
			fmt.Fprintf(w, "; %s %s", nameVsftpd, nums(vs))
		}
		fmt.Fprintln(w)
	}
}

func nums(vs []float64) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = num(v)
	}
	return strings.Join(s, " ")
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

func isDigit(b byte) bool { return '0' <= b && b <= '9' }
