package main

// Benchmarks of mediaftpd's DLNA side, each against MiniDLNA (or FTP)
// measured in the same run, with both servers on the same tree in the
// lab's server namespace and the client in its client namespace. Each
// prints a table (figure, mediaftpd, the peer, ratio, target, verdict),
// every sample behind each figure, and reports the figures as metrics.
// They need root (network namespaces) and MiniDLNA, ffmpeg and curl:
//
//	go test -run '^$' -bench BenchmarkDLNA -benchtime 1x ./cmd/mediaftpd
//
// Each benchmark does its work once whatever b.N is; its figures are
// medians of repeated measurements inside that once. docs/dlna-performance.md
// holds a run's results.

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/benchreport"
	"github.com/mediaftpd/mediaftpd/internal/procstat"
	"github.com/mediaftpd/mediaftpd/internal/testtool"
)

const (
	benchMiniPort = 8300
	benchOursName = "Bench mediaftpd"
	benchMiniName = "Bench MiniDLNA"
	// bigFolder is how many files the big folder holds.
	bigFolder = 10_000
	// memoryFiles is how many files the memory benchmark indexes.
	memoryFiles = 100_000
	// streamSize is the size of the streamed file.
	streamSize = 512 << 20
	mib        = 1 << 20
)

// ---------------------------------------------------------------------------
// The table

// benchTable collects a benchmark's figures and prints them.
type benchTable struct {
	rows    [][]string
	samples []string
	metrics []benchMetric
}

type benchMetric struct {
	v    float64
	unit string
}

// add adds a row: a figure with mediaftpd's value, the peer's (NaN for
// none), the ratio of the two (NaN for none), the target on it and
// whether it is met.
func (t *benchTable) add(figure string, ours, peer, ratio float64, target string, met bool) {
	f := func(v float64) string {
		if math.IsNaN(v) {
			return "—"
		}
		return benchreport.Num(v)
	}
	verdict := ""
	if target != "" {
		verdict = map[bool]string{true: "met", false: "NOT met"}[met]
	}
	t.rows = append(t.rows, []string{figure, f(ours), f(peer), f(ratio), target, verdict})
}

// sample records the samples behind a figure, in the order taken.
func (t *benchTable) sample(figure string, who string, xs []float64) {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = benchreport.Num(x)
	}
	t.samples = append(t.samples, fmt.Sprintf("%s, %s: %s", figure, who, strings.Join(s, " ")))
}

// metric reports a figure as a benchmark metric.
func (t *benchTable) metric(v float64, unit string) {
	t.metrics = append(t.metrics, benchMetric{v, unit})
}

// report logs the table and the samples and reports the metrics.
func (t *benchTable) report(b *testing.B, peer string) {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', tabwriter.AlignRight|tabwriter.Debug)
	fmt.Fprintf(tw, "figure\tmediaftpd\t%s\tratio\ttarget\tverdict\t\n", peer)
	for _, r := range t.rows {
		fmt.Fprintln(tw, strings.Join(r, "\t")+"\t")
	}
	tw.Flush()
	blog(b, "\n%s\nsamples, in the order taken:\n  %s", buf.String(), strings.Join(t.samples, "\n  "))
	for _, m := range t.metrics {
		b.ReportMetric(m.v, m.unit)
	}
}

// blog logs a benchmark's line. go test keeps only the first ten lines a
// benchmark logs unless -v is given; without it the lines go to standard
// output, so the whole table is seen with the plain command.
func blog(b *testing.B, format string, args ...any) {
	b.Helper()
	if testing.Verbose() {
		b.Logf(format, args...)
		return
	}
	fmt.Println("    " + strings.ReplaceAll(fmt.Sprintf(format, args...), "\n", "\n    "))
}

// logMachine logs what the figures were measured on.
func logMachine(b *testing.B) {
	m := benchreport.DescribeMachine(b.Context(), "")
	load, _ := os.ReadFile("/proc/loadavg")
	mini, _ := exec.Command(needMiniDLNA(b), "-V").CombinedOutput()
	blog(b, "machine: %s, %d CPUs, %s, %s; %s; load average at start %s", m.CPU, m.CPUs,
		m.Kernel, m.Go, strings.TrimSpace(string(mini)), strings.Join(strings.Fields(string(load))[:3], " "))
}

// ---------------------------------------------------------------------------
// Trees

// writeMany writes n files named name(i) with content data into dir.
func writeMany(tb testing.TB, dir string, n int, name func(int) string, data []byte) {
	tb.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	for i := range n {
		if err := os.WriteFile(filepath.Join(dir, name(i)), data, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

// ageTree gives everything under dir the mtime fixedTime, so that no
// file looks still being written (mediaftpd leaves a file modified in the
// last 400 ms to settle before it lists it).
func ageTree(tb testing.TB, dir string) {
	tb.Helper()
	err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Chtimes(p, fixedTime, fixedTime)
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// tinyMP3 returns a second of tone as MP3 (8 KiB), so that MiniDLNA
// indexes every file of the big folder as a music track: it refuses
// an MP3 under a few KiB as "too small, probably corrupted".
func tinyMP3(tb testing.TB) []byte {
	tb.Helper()
	testtool.Need(tb, "ffmpeg")
	p := filepath.Join(tb.TempDir(), "tiny.mp3")
	out, err := exec.Command("ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "sine=duration=1",
		"-b:a", "64k", p).CombinedOutput()
	if err != nil {
		tb.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// ---------------------------------------------------------------------------
// Both servers

// benchPair is mediaftpd and MiniDLNA on the same tree, and a client of
// each in the client namespace.
type benchPair struct {
	lab     *refLab
	ours    *mediaftpdRun
	mini    *miniDLNA
	ourDev  upnpDevice
	miniDev upnpDevice
	ourCDS  *cdsClient
	miniCDS *cdsClient
	ctx     context.Context
}

func startPair(b *testing.B, r *refLab, media string) *benchPair {
	b.Helper()
	p := &benchPair{lab: r, ctx: context.Background()}
	start := time.Now()
	p.mini = r.startMiniDLNA(b, benchMiniPort, benchMiniName, false, media)
	blog(b, "MiniDLNA scanned the tree in %v", time.Since(start).Round(10*time.Millisecond))
	start = time.Now()
	p.ours = r.startMediaftpd(b, benchOursName, ":8200", "Media="+media)
	blog(b, "mediaftpd indexed the tree in %v (from its start)", time.Since(start).Round(10*time.Millisecond))
	p.ours.awaitDetails(b)
	blog(b, "mediaftpd had the media details in %v (from its start)", time.Since(start).Round(10*time.Millisecond))
	hc := r.labClient(b, r.cli)
	var err error
	if p.ourDev, err = readDevice(p.ctx, hc, p.ours.dlnaURL+"/description.xml"); err != nil {
		b.Fatal(err)
	}
	if p.miniDev, err = readDevice(p.ctx, hc, p.mini.url+"/rootDesc.xml"); err != nil {
		b.Fatal(err)
	}
	p.ourCDS = &cdsClient{hc: hc, control: p.ourDev.CDSControl}
	p.miniCDS = &cdsClient{hc: hc, control: p.miniDev.CDSControl}
	return p
}

// childID returns the ID of the container titled title in container id.
func childID(b *testing.B, ctx context.Context, c *cdsClient, id, title string) string {
	b.Helper()
	page, err := c.Browse(ctx, id, "BrowseDirectChildren", 0, 0)
	if err != nil {
		b.Fatalf("Browse %s: %v", id, err)
	}
	for _, o := range page.Objects {
		if o.Container && o.Title == title {
			return o.ID
		}
	}
	b.Fatalf("no container %q in %s", title, id)
	return ""
}

// awaitTotal polls Browse of id until TotalMatches is want.
func awaitTotal(b *testing.B, ctx context.Context, c *cdsClient, id string, want int, timeout time.Duration) {
	b.Helper()
	deadline := time.Now().Add(timeout)
	for {
		page, err := c.Browse(ctx, id, "BrowseDirectChildren", 0, 1)
		if err == nil && page.Total == want {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("Browse %s: TotalMatches %d (%v) after %v, want %d", id, page.Total, err, timeout, want)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// ---------------------------------------------------------------------------
// Browse

// BenchmarkDLNABrowse browses a folder of 10,000 files on both servers:
// a page of 50 from StartingIndex 5,000, and the whole folder
// (RequestedCount 0). Each request is timed from the request written to
// the answer's last byte read, on a new connection each (the dial is not
// counted); requests alternate between the servers.
func BenchmarkDLNABrowse(b *testing.B) {
	r := newRefLab(b)
	needMiniDLNA(b)
	logMachine(b)
	media := filepath.Join(b.TempDir(), "Media")
	writeMany(b, filepath.Join(media, "Big"), bigFolder, func(i int) string { return fmt.Sprintf("Track %d.mp3", i+1) }, tinyMP3(b))
	ageTree(b, media)
	p := startPair(b, r, media)
	ourBig := childID(b, p.ctx, p.ourCDS, "0/Media", "Big")
	miniBig := childID(b, p.ctx, p.miniCDS, miniFolders, "Big")
	awaitTotal(b, p.ctx, p.miniCDS, miniBig, bigFolder, 10*time.Minute)
	awaitTotal(b, p.ctx, p.ourCDS, ourBig, bigFolder, time.Minute)

	var tab benchTable
	// fetch browses the big folder on one server: one request at start
	// for count, or with whole the folder from 0 with RequestedCount 0,
	// going on from where an answer stopped until TotalMatches, as a TV
	// must with a server that caps its answers. It returns the time of
	// the requests (each from written to its last byte), how many there
	// were, and the items and bytes received.
	type fetched struct {
		ms              float64
		requests, items int
		bytes           int
	}
	// MiniDLNA now and then answers with a TotalMatches of 0 (seen once
	// in a run of a few hundred requests): such an answer is logged and
	// asked again, a few times at most.
	glitches := 0
	fetch := func(c *cdsClient, id string, start, count int, whole bool) fetched {
		var f fetched
		for {
			page, err := c.Browse(p.ctx, id, "BrowseDirectChildren", start+f.items, count)
			if err != nil {
				b.Fatalf("Browse %s from %d, %d: %v", id, start+f.items, count, err)
			}
			if c == p.miniCDS && page.Total != bigFolder && glitches < 5 {
				glitches++
				blog(b, "MiniDLNA: Browse %s from %d, %d: TotalMatches %d, NumberReturned %d; asking again",
					id, start+f.items, count, page.Total, page.Returned)
				continue
			}
			if page.Total != bigFolder || page.Returned != len(page.Objects) || page.Returned == 0 {
				b.Fatalf("Browse %s: TotalMatches %d, NumberReturned %d, %d objects", id, page.Total, page.Returned, len(page.Objects))
			}
			f.ms += float64(page.Elapsed.Microseconds()) / 1000
			f.requests++
			f.items += page.Returned
			f.bytes += page.Size
			if !whole || f.items >= bigFolder {
				return f
			}
		}
	}
	// measure alternates the servers for rounds, after two rounds to warm
	// up, and returns each one's samples and its last fetch.
	measure := func(rounds, start, count int, whole bool) (ours, theirs []float64, lastOurs, lastTheirs fetched) {
		for i := range rounds + 2 {
			lastOurs = fetch(p.ourCDS, ourBig, start, count, whole)
			lastTheirs = fetch(p.miniCDS, miniBig, start, count, whole)
			if i >= 2 {
				ours, theirs = append(ours, lastOurs.ms), append(theirs, lastTheirs.ms)
			}
		}
		blog(b, "Browse from %d, RequestedCount %d, whole folder %v: mediaftpd %d request(s), %d items, %d bytes; MiniDLNA %d request(s), %d items, %d bytes",
			start, count, whole, lastOurs.requests, lastOurs.items, lastOurs.bytes, lastTheirs.requests, lastTheirs.items, lastTheirs.bytes)
		return ours, theirs, lastOurs, lastTheirs
	}
	row := func(figure, unit string, ours, theirs []float64, target float64) {
		o, m := benchreport.Median(ours), benchreport.Median(theirs)
		if target > 0 {
			tab.add(figure, o, m, o/m, fmt.Sprintf("ratio <= %.1f", target), o/m <= target)
		} else {
			tab.add(figure, o, m, o/m, "", false)
		}
		tab.sample(figure, "mediaftpd", ours)
		tab.sample(figure, "MiniDLNA", theirs)
		tab.metric(o, "ours-"+unit)
		tab.metric(m, "minidlna-"+unit)
		tab.metric(o/m, "ratio-"+unit)
	}

	ours, theirs, _, _ := measure(51, 5000, 50, false)
	row("page of 50 at StartingIndex 5,000 (ms)", "ms/page50", ours, theirs, 0.5)
	ours, theirs, o, m := measure(21, 0, 0, true)
	row(fmt.Sprintf("all 10,000 with RequestedCount 0 (ms; %d and %d requests)", o.requests, m.requests), "ms/all", ours, theirs, 1.0)
	// The first request alone, and per item: MiniDLNA caps its answer.
	ours, theirs, o, m = measure(21, 0, 0, false)
	row(fmt.Sprintf("one request, RequestedCount 0 (ms; %d and %d items)", o.items, m.items), "ms/count0", ours, theirs, 0)
	perItem := func(xs []float64, items int) []float64 {
		out := make([]float64, len(xs))
		for i, x := range xs {
			out[i] = x * 1000 / float64(items) // µs per item
		}
		return out
	}
	row("  the same per item (µs)", "us/item", perItem(ours, o.items), perItem(theirs, m.items), 0)

	// For the record: both servers' memory once settled after the
	// browsing.
	ourPSS := settledPSS(b, p.ours.Cmd.Process.Pid, "mediaftpd after the browsing")
	miniPSS := settledPSS(b, p.mini.Cmd.Process.Pid, "MiniDLNA after the browsing")
	tab.add("PSS after the browsing, settled (MiB)", ourPSS, miniPSS, ourPSS/miniPSS, "", false)
	tab.metric(ourPSS, "ours-MiB")
	tab.metric(miniPSS, "minidlna-MiB")
	tab.report(b, "MiniDLNA")
}

// ---------------------------------------------------------------------------
// Events

// BenchmarkDLNAEvent times, at a subscriber in the client namespace, the
// ContainerUpdateIDs event that names a folder after a new file appears
// in it (renamed in, so the copy is finished at that instant): after a
// quiet spell longer than the 2 s moderation, and right after an event,
// when the moderation holds the next one back. MiniDLNA is subscribed
// too; what it sends is logged.
func BenchmarkDLNAEvent(b *testing.B) {
	r := newRefLab(b)
	needMiniDLNA(b)
	logMachine(b)
	base := b.TempDir()
	media := filepath.Join(base, "Media")
	incoming := filepath.Join(base, "incoming") // the same file system: a rename is instant
	tiny := tinyMP3(b)
	writeMany(b, filepath.Join(media, "Films"), 3, func(i int) string { return fmt.Sprintf("Film %d.mp3", i+1) }, tiny)
	if err := os.MkdirAll(incoming, 0o755); err != nil {
		b.Fatal(err)
	}
	ageTree(b, media)
	p := startPair(b, r, media)
	films := childID(b, p.ctx, p.ourCDS, "0/Media", "Films")
	miniFilms := childID(b, p.ctx, p.miniCDS, miniFolders, "Films")

	sink := newGenaSink(b, r.Lab, r.cli, refCliAddr)
	ourSID, err := sink.subscribe(p.ctx, p.ourCDS.hc, p.ourDev.CDSEvent, 1800)
	if err != nil {
		b.Fatal(err)
	}
	miniSID, err := sink.subscribe(p.ctx, p.miniCDS.hc, p.miniDev.CDSEvent, 1800)
	if err != nil {
		b.Fatal(err)
	}
	ev, _, ok := sink.await(ourSID, 20*time.Second, func(genaEvent) bool { return true })
	if !ok {
		b.Fatal("no initial event from mediaftpd")
	}
	blog(b, "mediaftpd's initial event (SEQ %s): %v", ev.Seq, ev.Vars)
	subscribed := time.Now()

	names := func(ev genaEvent) []string {
		f := strings.Split(ev.Vars["ContainerUpdateIDs"], ",")
		var ids []string
		for i := 0; i+1 < len(f); i += 2 {
			ids = append(ids, f[i])
		}
		return ids
	}
	n := 0
	copyIn := func() time.Time {
		n++
		name := fmt.Sprintf("New %d.mp3", n)
		tmp := filepath.Join(incoming, name)
		if err := os.WriteFile(tmp, tiny, 0o644); err != nil {
			b.Fatal(err)
		}
		at := time.Now()
		if err := os.Rename(tmp, filepath.Join(media, "Films", name)); err != nil {
			b.Fatal(err)
		}
		return at
	}
	awaitFilms := func(since time.Time) time.Duration {
		ev, _, ok := sink.await(ourSID, 20*time.Second, func(ev genaEvent) bool { return slices.Contains(names(ev), films) })
		if !ok {
			b.Fatalf("no ContainerUpdateIDs naming %s within 20 s of a new file", films)
		}
		return ev.At.Sub(since)
	}
	var quiet, busy []float64
	for range 5 {
		// A quiet spell: no event for longer than the moderation's 2 s.
		time.Sleep(3 * time.Second)
		quiet = append(quiet, awaitFilms(copyIn()).Seconds())
	}
	for range 3 {
		time.Sleep(3 * time.Second)
		awaitFilms(copyIn())
		// At once after an event: the moderation holds this one back.
		busy = append(busy, awaitFilms(copyIn()).Seconds())
	}

	// What MiniDLNA sent meanwhile, its initial event included.
	_, miniEvents, _ := sink.await(miniSID, 5*time.Second, func(genaEvent) bool { return false })
	var miniLog []string
	miniNamed := false
	for _, ev := range miniEvents {
		miniLog = append(miniLog, fmt.Sprintf("%.1f s after the SUBSCRIBE: SEQ %s %v", ev.At.Sub(subscribed).Seconds(), ev.Seq, ev.Vars))
		if ev.Vars["ContainerUpdateIDs"] != "" {
			miniNamed = true
		}
	}
	page, err := p.miniCDS.Browse(p.ctx, miniFilms, "BrowseDirectChildren", 0, 0)
	miniFound := fmt.Sprintf("%v", err)
	if err == nil {
		miniFound = fmt.Sprintf("%d of %d files", page.Total, 3+n)
	}
	blog(b, "MiniDLNA sent %d events in the %.0f s after its SUBSCRIBE was answered, while %d new files were renamed into Films; its Films folder lists %s%s",
		len(miniEvents), time.Since(subscribed).Seconds(), n, miniFound, strings.Join(append([]string{""}, miniLog...), "\n  "))

	var tab benchTable
	q, bu := benchreport.Median(quiet), benchreport.Median(busy)
	tab.add("new file to ContainerUpdateIDs, after a quiet spell (s)", q, math.NaN(), math.NaN(), "<= 3 s", q <= 3)
	tab.add("new file to ContainerUpdateIDs, just after an event (s)", bu, math.NaN(), math.NaN(), "<= 3 s", bu <= 3)
	tab.sample("after a quiet spell (s)", "mediaftpd", quiet)
	tab.sample("just after an event (s)", "mediaftpd", busy)
	tab.metric(q, "ours-s/event-quiet")
	tab.metric(bu, "ours-s/event-busy")
	tab.metric(float64(len(miniEvents)), "minidlna-events")
	if !miniNamed {
		tab.samples = append(tab.samples, fmt.Sprintf("MiniDLNA sent %d events, none with ContainerUpdateIDs naming a folder", len(miniEvents)))
	}
	tab.report(b, "MiniDLNA")
}

// ---------------------------------------------------------------------------
// Memory

// BenchmarkDLNAMemory measures mediaftpd's PSS over an index of 100,000
// files (a folder of 10,000 and 90 of 1,000) with DLNA off and on, idle
// once the index is built, and with DLNA on after a whole Browse of the
// big folder; and, to tell the index's share from DLNA's, over a share of
// three files. Three starts of each, alternating. The status page is on
// (-web :8021), mDNS off, as in every test.
func BenchmarkDLNAMemory(b *testing.B) {
	r := newRefLab(b)
	logMachine(b)
	media := filepath.Join(b.TempDir(), "Media")
	writeMany(b, filepath.Join(media, "Big"), bigFolder, func(i int) string { return fmt.Sprintf("Track %d.mp3", i+1) }, nil)
	for s := range (memoryFiles - bigFolder) / 1000 {
		writeMany(b, filepath.Join(media, "Shows", fmt.Sprintf("Show %02d", s+1)), 1000,
			func(i int) string { return fmt.Sprintf("Episode %d.mkv", i+1) }, nil)
	}
	small := filepath.Join(b.TempDir(), "Small")
	writeMany(b, small, 3, func(i int) string { return fmt.Sprintf("Film %d.mkv", i+1) }, []byte("tiny"))
	ageTree(b, media)
	ageTree(b, small)
	var smallOff, smallOn, off, on, browsed []float64
	for rep := range 3 {
		m := r.startMediaftpd(b, "Small off", "off", "Small="+small)
		m.awaitDetails(b)
		smallOff = append(smallOff, settledPSS(b, m.Cmd.Process.Pid, fmt.Sprintf("run %d, 3 files, DLNA off, idle", rep+1)))
		m.Stop(syscall.SIGTERM)
		m = r.startMediaftpd(b, "Small on", ":8200", "Small="+small)
		m.awaitDetails(b)
		smallOn = append(smallOn, settledPSS(b, m.Cmd.Process.Pid, fmt.Sprintf("run %d, 3 files, DLNA on, idle", rep+1)))
		m.Stop(syscall.SIGTERM)

		m = r.startMediaftpd(b, "Memory off", "off", "Media="+media)
		m.awaitDetails(b)
		off = append(off, settledPSS(b, m.Cmd.Process.Pid, fmt.Sprintf("run %d, DLNA off, idle", rep+1)))
		m.Stop(syscall.SIGTERM)

		m = r.startMediaftpd(b, "Memory on", ":8200", "Media="+media)
		m.awaitDetails(b)
		on = append(on, settledPSS(b, m.Cmd.Process.Pid, fmt.Sprintf("run %d, DLNA on, idle", rep+1)))
		hc := r.labClient(b, r.cli)
		ctx := context.Background()
		dev, err := readDevice(ctx, hc, m.dlnaURL+"/description.xml")
		if err != nil {
			b.Fatal(err)
		}
		c := &cdsClient{hc: hc, control: dev.CDSControl}
		page, err := c.Browse(ctx, childID(b, ctx, c, "0/Media", "Big"), "BrowseDirectChildren", 0, 0)
		if err != nil || page.Returned != bigFolder {
			b.Fatalf("Browse of the big folder: %d items, %v", page.Returned, err)
		}
		browsed = append(browsed, settledPSS(b, m.Cmd.Process.Pid, fmt.Sprintf("run %d, DLNA on, after a Browse of all 10,000", rep+1)))
		m.Stop(syscall.SIGTERM)
	}
	var tab benchTable
	so, sn := benchreport.Median(smallOff), benchreport.Median(smallOn)
	tab.add("PSS idle, 3 files, DLNA off (MiB)", so, math.NaN(), math.NaN(), "", false)
	tab.add("PSS idle, 3 files, DLNA on (MiB)", sn, math.NaN(), math.NaN(), "<= 20 MiB", sn <= 20)
	tab.sample("PSS idle, 3 files, DLNA off (MiB)", "mediaftpd", smallOff)
	tab.sample("PSS idle, 3 files, DLNA on (MiB)", "mediaftpd", smallOn)
	tab.metric(so, "small-off-MiB")
	tab.metric(sn, "small-on-MiB")
	o, n, br := benchreport.Median(off), benchreport.Median(on), benchreport.Median(browsed)
	tab.add("PSS idle, 100,000 files, DLNA off (MiB)", o, math.NaN(), math.NaN(), "", false)
	tab.add("PSS idle, 100,000 files, DLNA on (MiB)", n, math.NaN(), math.NaN(), "<= 20 MiB", n <= 20)
	tab.add("PSS after a Browse of all 10,000, DLNA on (MiB)", br, math.NaN(), math.NaN(), "<= 20 MiB", br <= 20)
	tab.add("added by DLNA, idle (MiB)", n-o, math.NaN(), math.NaN(), "<= 10 MiB", n-o <= 10)
	tab.add("added by DLNA, after the Browse (MiB)", br-o, math.NaN(), math.NaN(), "<= 10 MiB", br-o <= 10)
	tab.sample("PSS idle, 100,000 files, DLNA off (MiB)", "mediaftpd", off)
	tab.sample("PSS idle, 100,000 files, DLNA on (MiB)", "mediaftpd", on)
	tab.sample("PSS after the Browse, DLNA on (MiB)", "mediaftpd", browsed)
	tab.metric(o, "off-MiB")
	tab.metric(n, "on-MiB")
	tab.metric(br, "browsed-MiB")
	tab.metric(n-o, "added-MiB")
	tab.metric(br-o, "added-browsed-MiB")
	tab.report(b, "peer")
}

// settledPSS waits until the PSS of process pid has settled, at least 12
// s (two of the server's 5 s looks at freeing memory) after it is called
// and then unchanged within 1% over 3 s, and returns its median over
// those 3 s, in MiB. It gives up waiting after 90 s and takes the last 3
// s then.
func settledPSS(b *testing.B, pid int, what string) float64 {
	b.Helper()
	start := time.Now()
	var window []float64
	for {
		pss, err := procstat.ReadPSS(pid)
		if err != nil {
			b.Fatalf("%s: %v", what, err)
		}
		window = append(window, float64(pss)/mib)
		if len(window) > 7 {
			window = window[1:]
		}
		elapsed := time.Since(start)
		if len(window) == 7 && elapsed >= 12*time.Second {
			lo, hi := slices.Min(window), slices.Max(window)
			if hi-lo <= hi/100 || elapsed > 90*time.Second {
				m := benchreport.Median(window)
				blog(b, "%s: PSS %.2f MiB (settled after %v)", what, m, elapsed.Round(time.Second))
				return m
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// ---------------------------------------------------------------------------
// Streaming

// BenchmarkDLNAStream downloads one 512 MiB file with curl in the client
// namespace over mediaftpd's DLNA res URL, over its FTP, and over
// MiniDLNA's res URL, nine times each in turn, from the page cache, and
// counts the CPU each server used for it.
func BenchmarkDLNAStream(b *testing.B) {
	r := newRefLab(b)
	needMiniDLNA(b)
	testtool.Need(b, "curl")
	logMachine(b)
	media := filepath.Join(b.TempDir(), "Media")
	if err := os.MkdirAll(media, 0o755); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(media, "big.ts")
	writeStreamFile(b, path)
	ageTree(b, media)
	p := startPair(b, r, media)

	resOf := func(c *cdsClient, id string) string {
		page, err := c.Browse(p.ctx, id, "BrowseDirectChildren", 0, 0)
		if err != nil {
			b.Fatal(err)
		}
		for _, o := range page.Objects {
			if o.Title == "big" && len(o.Res) > 0 && o.Res[0].Size == streamSize {
				return o.Res[0].URL
			}
		}
		b.Fatalf("no item big of %d bytes in %s: %+v", streamSize, id, page.Objects)
		return ""
	}
	ourURL := resOf(p.ourCDS, "0/Media")
	miniURL := resOf(p.miniCDS, miniFolders)
	ftpURL := p.ours.ftpURL + "/Media/big.ts"
	blog(b, "URLs: %s, %s, %s", ourURL, ftpURL, miniURL)

	// From the page cache, for all three.
	if data, err := os.ReadFile(path); err != nil || len(data) != streamSize {
		b.Fatalf("reading %s: %v", path, err)
	}
	// serverCPU is the CPU a server's process tree has used, its reaped
	// children included (MiniDLNA sends each file from a child it forks),
	// once the tree is down to its first process.
	serverCPU := func(pid int) time.Duration {
		deadline := time.Now().Add(5 * time.Second)
		for {
			tree, err := procstat.Tree(pid)
			if err != nil {
				b.Fatal(err)
			}
			if len(tree) == 1 || time.Now().After(deadline) {
				return tree[0].CPU + tree[0].ChildCPU
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	// download returns the rate of one download with curl and the
	// server's CPU seconds per GiB sent.
	download := func(u string, pid int) (rate, cpu float64) {
		before := serverCPU(pid)
		out := r.Run(r.cli, "curl", "-sS", "--max-time", "120", "-o", "/dev/null", "-w", "%{size_download} %{speed_download}", u)
		used := serverCPU(pid) - before
		f := strings.Fields(out)
		if len(f) != 2 || f[0] != strconv.Itoa(streamSize) {
			b.Fatalf("curl %s: %q", u, out)
		}
		v, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			b.Fatal(err)
		}
		return v / mib, used.Seconds() * (1 << 30) / streamSize
	}
	ourPID, miniPID := p.ours.Cmd.Process.Pid, p.mini.Cmd.Process.Pid
	var dlna, ftp, mini, dlnaCPU, ftpCPU, miniCPU []float64
	for range 9 {
		for _, x := range []struct {
			u          string
			pid        int
			rate, cpus *[]float64
		}{{ourURL, ourPID, &dlna, &dlnaCPU}, {ftpURL, ourPID, &ftp, &ftpCPU}, {miniURL, miniPID, &mini, &miniCPU}} {
			rate, cpu := download(x.u, x.pid)
			*x.rate, *x.cpus = append(*x.rate, rate), append(*x.cpus, cpu)
		}
	}
	var tab benchTable
	d, f, m := benchreport.Median(dlna), benchreport.Median(ftp), benchreport.Median(mini)
	tab.add("512 MiB: mediaftpd's DLNA URL; peer: its FTP (MiB/s)", d, f, d/f, "ratio >= 1.0", d/f >= 1.0)
	tab.add("512 MiB: mediaftpd's DLNA URL; peer: MiniDLNA's (MiB/s)", d, m, d/m, "", false)
	dc, fc, mc := benchreport.Median(dlnaCPU), benchreport.Median(ftpCPU), benchreport.Median(miniCPU)
	tab.add("server CPU per GiB: DLNA; peer: FTP (s)", dc, fc, dc/fc, "", false)
	tab.add("server CPU per GiB: DLNA; peer: MiniDLNA (s)", dc, mc, dc/mc, "", false)
	tab.sample("DLNA (MiB/s)", "mediaftpd", dlna)
	tab.sample("FTP (MiB/s)", "mediaftpd", ftp)
	tab.sample("DLNA (MiB/s)", "MiniDLNA", mini)
	tab.sample("server CPU per GiB, DLNA (s)", "mediaftpd", dlnaCPU)
	tab.sample("server CPU per GiB, FTP (s)", "mediaftpd", ftpCPU)
	tab.sample("server CPU per GiB, DLNA (s)", "MiniDLNA", miniCPU)
	tab.metric(d, "dlna-MiB/s")
	tab.metric(f, "ftp-MiB/s")
	tab.metric(m, "minidlna-MiB/s")
	tab.metric(d/f, "ratio-dlna/ftp")
	tab.metric(dc, "dlna-cpu-s/GiB")
	tab.metric(fc, "ftp-cpu-s/GiB")
	tab.metric(mc, "minidlna-cpu-s/GiB")
	tab.report(b, "peer")
}

// writeStreamFile writes streamSize bytes of MPEG-TS to path: ten seconds
// of H.264 made by ffmpeg, repeated (MiniDLNA indexes it as a video),
// padded with random TS-sized packets of null PID to the exact size.
func writeStreamFile(b *testing.B, path string) {
	b.Helper()
	testtool.Need(b, "ffmpeg")
	clip := filepath.Join(b.TempDir(), "clip.ts")
	out, err := exec.Command("ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=duration=10:size=640x480:rate=25",
		"-c:v", "libx264", "-preset", "ultrafast", "-b:v", "4M", "-f", "mpegts", clip).CombinedOutput()
	if err != nil {
		b.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	data, err := os.ReadFile(clip)
	if err != nil {
		b.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	written := 0
	for written+len(data) <= streamSize {
		n, err := f.Write(data)
		if err != nil {
			b.Fatal(err)
		}
		written += n
	}
	// The rest: null packets (PID 0x1FFF), the last one cut short.
	pad := make([]byte, streamSize-written)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < len(pad); i += 188 {
		pkt := pad[i:min(i+188, len(pad))]
		for j := range pkt {
			pkt[j] = byte(rng.Uint32())
		}
		copy(pkt, []byte{0x47, 0x1F, 0xFF, 0x10})
	}
	if _, err := f.Write(pad); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}
