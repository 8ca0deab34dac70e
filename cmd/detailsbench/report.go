package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// metric names a figure; each has its samples, in the order taken.
type metric string

// The figures.
const (
	mFirstReady     metric = "first-ready"     // s, start to details ready, first probing of the library
	mFirstRate      metric = "first-rate"      // files/s, by the log's took
	mFirstPSS       metric = "first-pss"       // MiB, after the first probing
	mRestartReady   metric = "restart-ready"   // s
	mRestartIndexed metric = "restart-indexed" // s, start to share indexed
	mRestartPass    metric = "restart-pass"    // s, the check's own took
	mStoreFirst     metric = "store-first"     // bytes per file
	mStoreAfter     metric = "store-after"     // bytes per file
	mPSSOn          metric = "pss-on"          // MiB
	mPSSOff         metric = "pss-off"
	mAnonOn         metric = "anon-on"
	mAnonOff        metric = "anon-off"
	mFileOn         metric = "file-on"
	mFileOff        metric = "file-off"
	mPSSPerFile     metric = "pss-per-file" // bytes, per pair of runs
	mAnonPerFile    metric = "anon-per-file"
	mFilePerFile    metric = "file-per-file"
	mStoreMap       metric = "store-map" // MiB, PSS of the store file's map
	mHeapOn         metric = "heap-on"   // MiB
	mHeapOff        metric = "heap-off"
	mRateProbing    metric = "rate-probing" // MB/s
	mRateKnown      metric = "rate-known"
	mSlowProbing    metric = "slow-probing" // MB/s
	mSlowKnown      metric = "slow-known"
	mStallProbing   metric = "stall-probing" // ms
	mStallKnown     metric = "stall-known"
	mSeekProbing    metric = "seek-probing" // µs, during the stream
	mSeekKnown      metric = "seek-known"
	mIdleProbing    metric = "idle-seek-probing" // µs, no stream
	mIdleKnown      metric = "idle-seek-known"
	mProbedDuring   metric = "probed-during" // files probed during the stream
	mFreshReady     metric = "fresh-took"    // s, the log's took for the fresh files after the seeks
	mFreshAfter     metric = "fresh-after"   // s, from the stream's end to their details ready
)

// row is one line of the table: a figure, and the one it is compared with.
type row struct {
	label    string
	unit     string
	m, base  metric // base "": not compared
	target   target // zero: not judged
	explains bool   // a row that explains the one above (indented)
}

// target is a goal for a row, judged on the medians.
type target struct {
	text string
	met  func(v, ratio float64) bool
}

func atMost(x float64, unit string) target {
	return target{fmt.Sprintf("≤ %g %s", x, unit), func(v, _ float64) bool { return v <= x }}
}

func ratioAtLeast(x float64) target {
	return target{fmt.Sprintf("ratio ≥ %.2f", x), func(_, r float64) bool { return r >= x }}
}

func ratioAtMost(x float64) target {
	return target{fmt.Sprintf("ratio ≤ %.1f", x), func(_, r float64) bool { return r <= x }}
}

// rows returns the rows of the table for a library of files files and
// probe fresh ones.
func rows(files, fresh int) []row {
	n, f := count(files), count(fresh)
	return []row{
		{label: "1. first probing of " + n + " files: start to details ready", unit: "s", m: mFirstReady},
		{label: "probe rate of the first probing (files/took)", unit: "files/s", m: mFirstRate, explains: true},
		{label: "PSS after the first probing", unit: "MiB", m: mFirstPSS, explains: true},
		{label: "1. restart with " + n + " known files: start to details ready", unit: "s", m: mRestartReady, target: atMost(2, "s")},
		{label: "start to share indexed", unit: "s", m: mRestartIndexed, explains: true},
		{label: "the check of the stored details (the log's took)", unit: "s", m: mRestartPass, explains: true},
		{label: "1. store size per file after the first probing", unit: "B", m: mStoreFirst, target: atMost(400, "B")},
		{label: "1. store size per file after the restarts", unit: "B", m: mStoreAfter, target: atMost(400, "B")},
		{label: "2. PSS serving " + n + " files, details on | off", unit: "MiB", m: mPSSOn, base: mPSSOff},
		{label: "anonymous (heap, stacks), on | off", unit: "MiB", m: mAnonOn, base: mAnonOff, explains: true},
		{label: "file-backed (binary, store's map), on | off", unit: "MiB", m: mFileOn, base: mFileOff, explains: true},
		{label: "of which the store file's map (bbolt)", unit: "MiB", m: mStoreMap, explains: true},
		{label: "Go heap (/api/status), on | off", unit: "MiB", m: mHeapOn, base: mHeapOff, explains: true},
		{label: "2. PSS added by details, per file", unit: "B", m: mPSSPerFile, target: atMost(60, "B")},
		{label: "anonymous memory added, per file", unit: "B", m: mAnonPerFile, explains: true},
		{label: "file-backed memory added, per file", unit: "B", m: mFilePerFile, explains: true},
		{label: "3. paced stream's rate, probing " + f + " files | details known", unit: "MB/s", m: mRateProbing, base: mRateKnown, target: ratioAtLeast(0.95)},
		{label: "slowest window of the stream", unit: "MB/s", m: mSlowProbing, base: mSlowKnown, explains: true},
		{label: "longest wait in a read of the stream", unit: "ms", m: mStallProbing, base: mStallKnown, explains: true},
		{label: "3. seek during the stream (REST+RETR to first byte)", unit: "µs", m: mSeekProbing, base: mSeekKnown, target: ratioAtMost(1.2)},
		{label: "3. seek with no stream: prober at full speed | idle", unit: "µs", m: mIdleProbing, base: mIdleKnown, target: ratioAtMost(1.2)},
		{label: "files probed during the stream", unit: "files", m: mProbedDuring, explains: true},
		{label: "probing of the " + f + " files: the log's took", unit: "s", m: mFreshReady, explains: true},
		{label: "from the stream's end to their details ready", unit: "s", m: mFreshAfter, explains: true},
	}
}

// count formats n with thousands separators.
func count(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// results holds every sample of every figure, in the order taken.
type results map[metric][]float64

func (r results) add(m metric, v float64) { r[m] = append(r[m], v) }

// median of vs (the mean of the middle two for an even count); 0 for none.
func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
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

// writeTable prints the table of medians as Markdown, columns aligned,
// and returns how many targets were judged and how many were missed.
func writeTable(w io.Writer, rs []row, res results) (judged, missed int) {
	table := [][]string{{"figure", "measured", "compared with", "ratio", "target", "met?"}}
	for _, r := range rs {
		vs := res[r.m]
		if len(vs) == 0 {
			continue
		}
		label := r.label
		if r.explains {
			label = "   " + label
		}
		cells := []string{label + " (" + r.unit + ")", num(median(vs)), "—", "—", "—", ""}
		v, ratio := median(vs), 0.0
		bs := res[r.base]
		if r.base != "" && len(bs) > 0 {
			b := median(bs)
			cells[2] = num(b)
			if b != 0 {
				ratio = v / b
				cells[3] = fmt.Sprintf("%.2f", ratio)
			}
		}
		if r.target.met != nil {
			cells[4] = r.target.text
			if r.base == "" || len(bs) > 0 {
				judged++
				if r.target.met(v, ratio) {
					cells[5] = "yes"
				} else {
					cells[5] = "**no**"
					missed++
				}
			}
		}
		table = append(table, cells)
	}
	writeMarkdown(w, table, []bool{false, true, true, true, false, false})
	return judged, missed
}

// writeRuns prints every sample of the table's figures, in the order
// taken.
func writeRuns(w io.Writer, rs []row, res results) {
	for _, r := range rs {
		vs := res[r.m]
		if len(vs) == 0 {
			continue
		}
		label := strings.TrimSpace(r.label)
		// "- 1. ..." would start a numbered list inside the item.
		if n, rest, ok := strings.Cut(label, ". "); ok && len(n) == 1 && '0' <= n[0] && n[0] <= '9' {
			label = "figure " + n + ", " + rest
		}
		fmt.Fprintf(w, "- %s (%s): %s", label, r.unit, nums(vs))
		if bs := res[r.base]; r.base != "" && len(bs) > 0 {
			fmt.Fprintf(w, " | %s", nums(bs))
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
