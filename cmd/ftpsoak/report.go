package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// write prints the report: the load held, the errors, the server's
// resources at the start and end, and the verdict.
func (r *result) write(w io.Writer) {
	o, st := r.o, r.st
	secs := r.ran.Seconds()
	fmt.Fprintf(w, "ftpsoak: mediaftpd %s (pid %d), %d churning clients for %v, seed %d\n",
		r.version, r.pid, o.clients, r.ran.Round(time.Second), o.seed)
	fmt.Fprintf(w, "Command: %s\n", strings.Join(append([]string{"ftpsoak"}, o.args...), " "))
	if r.interrupted {
		fmt.Fprintf(w, "Interrupted: the clients ran %v of %v\n", r.ran.Round(time.Second), o.duration)
	}
	fmt.Fprintf(w, "Tree: %d files, %s MiB (big files %v MiB; %d small files in one folder)\n\n",
		r.tree.fileCount(), mib(r.tree.bytes), o.sizes, o.many)

	st.mu.Lock()
	defer st.mu.Unlock()
	var ops int64
	var parts []string
	for _, a := range actions {
		ops += st.ops[a.name]
		parts = append(parts, fmt.Sprintf("%s %d", a.name, st.ops[a.name]))
	}
	fmt.Fprintln(w, "Load held")
	fmt.Fprintf(w, "  sessions        %d made (%.1f/s), at most %d open at once on the server\n", st.sessions.Load(), float64(st.sessions.Load())/secs, r.peak.sessions)
	fmt.Fprintf(w, "  actions         %d done (%.1f/s): %s\n", ops, float64(ops)/secs, strings.Join(parts, ", "))
	fmt.Fprintf(w, "  received        %.2f GiB (%.1f MiB/s), every byte verified\n", float64(st.bytes.Load())/(1<<30), float64(st.bytes.Load())/(1<<20)/secs)
	fmt.Fprintf(w, "  seeks           %d (REST+RETR)\n", st.seeks.Load())
	fmt.Fprintf(w, "  aborts          %d (%v %d, %v %d, %v %d)\n", st.aborts[0].Load()+st.aborts[1].Load()+st.aborts[2].Load(),
		abortClose, st.aborts[abortClose].Load(), abortPlain, st.aborts[abortPlain].Load(), abortUrgent, st.aborts[abortUrgent].Load())
	fmt.Fprintf(w, "  drops           %d (transfer left without ABOR or QUIT)\n", st.drops.Load())
	fmt.Fprintf(w, "  cut at the end  %d actions still running at the deadline\n\n", st.cut.Load())

	var n int64
	kinds := make([]string, 0, len(st.errors))
	for k, v := range st.errors {
		n += v
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	fmt.Fprintln(w, "Errors")
	fmt.Fprintf(w, "  unexpected      %d\n", n)
	fmt.Fprintf(w, "  mismatches      %d\n", st.mismatches.Load())
	for _, k := range kinds {
		fmt.Fprintf(w, "    %-28s %d, e.g. %s\n", k, st.errors[k], st.samples[k])
	}
	fmt.Fprintf(w, "  server log      %d ERROR, %d WARN lines\n", r.logErrs, r.logWarns)
	exit := "exit 0 on SIGTERM"
	if r.exitErr != nil {
		exit = r.exitErr.Error()
	}
	fmt.Fprintf(w, "  server exit     %s\n\n", exit)

	fmt.Fprintf(w, "Server resources (%d samples every %v; start after %v settle, end after sessions drained + %v)\n", r.samples+1, o.sample, o.settle, o.settle)
	fmt.Fprintf(w, "  %-22s %10s %10s %10s\n", "", "start", "end", "max")
	row := func(name string, s, e, m string) { fmt.Fprintf(w, "  %-22s %10s %10s %10s\n", name, s, e, m) }
	itoa := func(i int) string { return fmt.Sprint(i) }
	if r.start.goroutines >= 0 {
		row("goroutines", itoa(r.start.goroutines), itoa(r.end.goroutines), itoa(r.peak.goroutines))
	}
	row("threads", itoa(r.start.threads), itoa(r.end.threads), itoa(r.peak.threads))
	row("open FDs", itoa(r.start.fds), itoa(r.end.fds), itoa(r.peak.fds))
	row("RSS MiB", mib(r.start.rss), mib(r.end.rss), mib(r.peak.rss))
	row("PSS MiB", mib(r.start.pss), mib(r.end.pss), mib(r.peak.pss))
	row("CPU s (cumulative)", fmt.Sprintf("%.1f", r.start.cpu.Seconds()), fmt.Sprintf("%.1f", r.end.cpu.Seconds()), "")
	row("FTP sessions open", itoa(r.start.sessions), itoa(r.end.sessions), itoa(r.peak.sessions))
	if r.start.goroutines < 0 {
		fmt.Fprintln(w, "  goroutines: not in this server's /api/status")
	}
	fmt.Fprintln(w)
	if len(r.faults) == 0 {
		fmt.Fprintf(w, "PASS: no mismatch, no unexpected error, resources back near the start (goroutines +%d, FDs +%d, threads up to %d, RSS +%d MiB allowed)\n",
			goroutineSlack, fdSlack, r.threadLimit(), rssSlackMiB)
		return
	}
	fmt.Fprintln(w, "FAIL:")
	for _, f := range r.faults {
		fmt.Fprintf(w, "  - %s\n", f)
	}
}
