package main

import (
	"fmt"
	"io"

	"github.com/mediaftpd/mediaftpd/internal/benchreport"
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
	m, base  metric             // base "": not compared
	target   benchreport.Target // zero: not judged
	explains bool               // a row that explains the one above (indented)
}

// rows returns the rows of the table for a library of files files and
// probe fresh ones.
func rows(files, fresh int) []row {
	n, f := count(files), count(fresh)
	return []row{
		{label: "1. first probing of " + n + " files: start to details ready", unit: "s", m: mFirstReady},
		{label: "probe rate of the first probing (files/took)", unit: "files/s", m: mFirstRate, explains: true},
		{label: "PSS after the first probing", unit: "MiB", m: mFirstPSS, explains: true},
		{label: "1. restart with " + n + " known files: start to details ready", unit: "s", m: mRestartReady, target: benchreport.AtMost(2, "s")},
		{label: "start to share indexed", unit: "s", m: mRestartIndexed, explains: true},
		{label: "the check of the stored details (the log's took)", unit: "s", m: mRestartPass, explains: true},
		{label: "1. store size per file after the first probing", unit: "B", m: mStoreFirst, target: benchreport.AtMost(400, "B")},
		{label: "1. store size per file after the restarts", unit: "B", m: mStoreAfter, target: benchreport.AtMost(400, "B")},
		{label: "2. PSS serving " + n + " files, details on | off", unit: "MiB", m: mPSSOn, base: mPSSOff},
		{label: "anonymous (heap, stacks), on | off", unit: "MiB", m: mAnonOn, base: mAnonOff, explains: true},
		{label: "file-backed (binary, store's map), on | off", unit: "MiB", m: mFileOn, base: mFileOff, explains: true},
		{label: "of which the store file's map (bbolt)", unit: "MiB", m: mStoreMap, explains: true},
		{label: "Go heap (/api/status), on | off", unit: "MiB", m: mHeapOn, base: mHeapOff, explains: true},
		{label: "2. PSS added by details, per file", unit: "B", m: mPSSPerFile, target: benchreport.AtMost(60, "B")},
		{label: "anonymous memory added, per file", unit: "B", m: mAnonPerFile, explains: true},
		{label: "file-backed memory added, per file", unit: "B", m: mFilePerFile, explains: true},
		{label: "3. paced stream's rate, probing " + f + " files | details known", unit: "MB/s", m: mRateProbing, base: mRateKnown, target: benchreport.RatioAtLeast(0.95)},
		{label: "slowest window of the stream", unit: "MB/s", m: mSlowProbing, base: mSlowKnown, explains: true},
		{label: "longest wait in a read of the stream", unit: "ms", m: mStallProbing, base: mStallKnown, explains: true},
		{label: "3. seek during the stream (REST+RETR to first byte)", unit: "µs", m: mSeekProbing, base: mSeekKnown, target: benchreport.RatioAtMost(1.2)},
		{label: "3. seek with no stream: prober at full speed | idle", unit: "µs", m: mIdleProbing, base: mIdleKnown, target: benchreport.RatioAtMost(1.2)},
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

// writeTable prints the table of medians as Markdown, columns aligned,
// and returns how many targets were judged and how many were missed.
func writeTable(w io.Writer, rs []row, res results) (judged, missed int) {
	var table []benchreport.Row
	for _, r := range rs {
		if len(res[r.m]) == 0 {
			continue
		}
		label := r.label
		if r.explains {
			label = "   " + label
		}
		tr := benchreport.Row{Label: label, Unit: r.unit, Measured: res[r.m], Target: r.target}
		if r.base != "" {
			tr.Compared = res[r.base]
		}
		table = append(table, tr)
	}
	return benchreport.WriteTable(w, [3]string{"figure", "measured", "compared with"}, table)
}

// writeRuns prints every sample of the table's figures, in the order
// taken.
func writeRuns(w io.Writer, rs []row, res results) {
	for _, r := range rs {
		vs := res[r.m]
		if len(vs) == 0 {
			continue
		}
		fmt.Fprintf(w, "- %s (%s): %s", benchreport.ItemLabel(r.label), r.unit, benchreport.Nums(vs))
		if bs := res[r.base]; r.base != "" && len(bs) > 0 {
			fmt.Fprintf(w, " | %s", benchreport.Nums(bs))
		}
		fmt.Fprintln(w)
	}
}
