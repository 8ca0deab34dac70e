package main

import (
	"fmt"
	"io"

	"github.com/mediaftpd/mediaftpd/internal/benchreport"
)

// row is one line of the table.
type row struct {
	m     metric
	label string
	unit  string
	// target is what the issue asks of mediaftpd; the zero target marks a
	// row that explains another and is not judged.
	target benchreport.Target
}

// mediaftpdAtMost is the target that mediaftpd's figure is at most x
// unit, whatever vsftpd's.
func mediaftpdAtMost(x float64, unit string) benchreport.Target {
	t := benchreport.AtMost(x, unit)
	t.Text = nameMediaftpd + " " + t.Text
	return t
}

// rows of the table, numbered as the figures of issue 7.
var rows = []row{
	{mSingle, "1. download of a 1 GiB file, one stream", "MiB/s", benchreport.RatioAtLeast(1)},
	{mParallel, "2. 8 downloads at once, together", "MiB/s", benchreport.RatioAtLeast(1)},
	{mCPUPerGiB, "3. server CPU per GiB sent (figures 1 and 2)", "s", benchreport.RatioAtMost(1)},
	{mClientPerGiB, "   bench client CPU per GiB received", "s", benchreport.Target{}},
	{mSessions, "4. sessions per second, 4 clients (connect, login, SIZE, QUIT)", "1/s", benchreport.RatioAtLeast(2)},
	{mCPUPerSession, "   server CPU per session", "µs", benchreport.Target{}},
	{mList, "5. LIST of a folder of 20,000 entries", "ms", benchreport.RatioAtMost(1)},
	{mSeek, "6. seek: REST + RETR to the first byte, open session", "µs", benchreport.RatioAtMost(1)},
	{mPSSIdle, "7. PSS at idle", "MiB", mediaftpdAtMost(20, "MiB")},
	{mPSSSessions, "7. PSS with 200 logged-in idle sessions", "MiB", benchreport.RatioAtMost(0.5)},
	{mPSSPerSession, "   PSS per idle session", "KiB", benchreport.Target{}},
	{mPSSAfter, "   PSS at idle after all workloads", "MiB", benchreport.Target{}},
	{mIndexTime, "8. index 100,000 files (mediaftpd alone): time", "s", benchreport.Target{}},
	{mIndexHeap, "8. index 100,000 files (mediaftpd alone): heap", "MiB", benchreport.Target{}},
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

// writeTable prints the table of medians as Markdown, columns aligned. It
// returns how many targets were judged and how many of them were missed.
func writeTable(w io.Writer, res results) (judged, missed int) {
	var table []benchreport.Row
	for _, r := range rows {
		ms, vs := res[nameMediaftpd][r.m], res[nameVsftpd][r.m]
		if len(ms) == 0 && len(vs) == 0 {
			continue
		}
		table = append(table, benchreport.Row{Label: r.label, Unit: r.unit, Measured: ms, Compared: vs, Target: r.target})
	}
	if len(table) == 0 {
		return 0, 0
	}
	return benchreport.WriteTable(w, [3]string{"workload", nameMediaftpd, nameVsftpd}, table)
}

// writeRuns prints every sample of the table's rows, in the order taken.
func writeRuns(w io.Writer, res results) {
	for _, r := range rows {
		ms, vs := res[nameMediaftpd][r.m], res[nameVsftpd][r.m]
		if len(ms) == 0 && len(vs) == 0 {
			continue
		}
		fmt.Fprintf(w, "- %s (%s): %s %s", benchreport.ItemLabel(r.label), r.unit, nameMediaftpd, benchreport.Nums(ms))
		if len(vs) > 0 {
			fmt.Fprintf(w, "; %s %s", nameVsftpd, benchreport.Nums(vs))
		}
		fmt.Fprintln(w)
	}
}
