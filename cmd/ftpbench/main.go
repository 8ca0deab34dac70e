// Command ftpbench measures mediaftpd against vsftpd, the C server Linux
// distributions ship, on this machine, and prints a table of both figures,
// their ratio and the targets of issue 7; then the same over FTPS, with
// logins and a flood of wrong passwords, for issue 15 (ftps.go).
//
// It builds mediaftpd from the checkout it runs in, makes a media tree
// once (a 1 GiB file, a folder of 20,000 files, a few small files), starts
// both servers by hand on loopback over that tree, each with an anonymous
// read-only config the bench writes itself, and runs each workload on
// them in turn: mediaftpd, vsftpd, mediaftpd, vsftpd... The table shows
// the median of the runs. It installs nothing: vsftpd comes from the
// distribution (apt-get install vsftpd), and needs root.
//
//	sudo go run ./cmd/ftpbench            # 5 runs of each workload, about 8 minutes
//	sudo go run ./cmd/ftpbench -quick     # 1 run, shorter workloads
//	sudo go run ./cmd/ftpbench -only ftps-single,ftps-parallel,logins,flood
//
// See docs/performance.md and docs/ftps-performance.md for what each
// figure measures and how.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/benchreport"
	"github.com/mediaftpd/mediaftpd/internal/childproc"
	"github.com/mediaftpd/mediaftpd/internal/procstat"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the bench could not run to the end
	exitUsage = 2
)

func main() {
	if spec := os.Getenv(flooderEnv); spec != "" {
		os.Exit(runFlooder(spec, os.Stdin, os.Stdout))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options is the command line.
type options struct {
	runs        int
	quick       bool
	dir         string
	portBase    int
	mediaftpd   string
	vsftpdOpts  []string
	only        []string
	pprofDir    string
	keep        bool
	noCgroup    bool
	window      time.Duration // of the flood workloads' streams
	floodRate   int           // wrong passwords per second the flood offers; 0: unpaced
	floodInProc bool          // flooders in the bench's process, at its priority
	args        []string      // as given, for the report
}

// stepNames are what -only accepts: the workloads, the library
// benchmark, and the FTPS workloads (ftps.go).
func stepNames() []string {
	var names []string
	for _, w := range workloads {
		names = append(names, w.name)
	}
	return append(append(names, "index"), ftpsStepNames()...)
}

const usageText = `Usage: ftpbench [flags]

Measures mediaftpd against vsftpd on loopback and prints a Markdown table
of the medians, their ratio and the targets. Run it as root inside the
mediaftpd checkout, with vsftpd installed (apt-get install vsftpd):

  sudo go run ./cmd/ftpbench

Flags:
`

func parseArgs(args []string, stderr io.Writer) (*options, error) {
	o := &options{args: args}
	fs := flag.NewFlagSet("ftpbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
	}
	fs.IntVar(&o.runs, "runs", 5, "runs of each workload on each server")
	fs.BoolVar(&o.quick, "quick", false, "a short run: 1 run of each workload (unless -runs is given), shorter workloads")
	fs.StringVar(&o.dir, "dir", "/var/tmp/ftpbench", "`folder` for the media tree, made once and kept (about 1 GiB)")
	fs.IntVar(&o.portBase, "ports", 30000, "`base` of the loopback ports: vsftpd on base+21, passive base+100..599; mediaftpd on base+22, passive base+600..1099")
	fs.StringVar(&o.mediaftpd, "mediaftpd", "", "mediaftpd `binary` to measure (default: build cmd/mediaftpd of this checkout)")
	fs.Func("vsftpd-opt", "extra vsftpd.conf `line` such as isolate_network=NO (repeatable)", func(s string) error {
		if !strings.Contains(s, "=") || strings.ContainsAny(s, "\n\r") {
			return errors.New("want key=value")
		}
		o.vsftpdOpts = append(o.vsftpdOpts, s)
		return nil
	})
	only := fs.String("only", "", "comma-separated `steps` to run, of "+strings.Join(stepNames(), ","))
	fs.StringVar(&o.pprofDir, "pprof", "", "build mediaftpd with profiling endpoints and write CPU and heap profiles of every run into `dir` (figures then are not the reference)")
	fs.BoolVar(&o.noCgroup, "no-cgroup", false, "account server CPU from /proc instead of a cgroup v2 per server (see docs/performance.md)")
	fs.DurationVar(&o.window, "window", defaultWindow, "how long each stream of the flood workloads runs (-quick: "+quickWindow.String()+")")
	fs.IntVar(&o.floodRate, "flood-rate", 0, "wrong passwords per `second` the flood sends in all (0: as fast as the server answers)")
	fs.BoolVar(&o.floodInProc, "flood-inproc", false, "run the flood's guessers as goroutines of the bench, at its priority, instead of a process of their own at nice 19")
	fs.BoolVar(&o.keep, "keep", false, "keep the work folder (configs, logs, binary) and print where it is")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	runsGiven, windowGiven := false, false
	fs.Visit(func(f *flag.Flag) {
		runsGiven = runsGiven || f.Name == "runs"
		windowGiven = windowGiven || f.Name == "window"
	})
	if o.quick && !runsGiven {
		o.runs = 1
	}
	if o.quick && !windowGiven {
		o.window = quickWindow
	}
	if o.floodRate < 0 {
		return nil, errors.New("-flood-rate must be 0 or more")
	}
	if o.window < 500*time.Millisecond {
		return nil, errors.New("-window must be 500ms or more")
	}
	if o.runs < 1 {
		return nil, errors.New("-runs must be 1 or more")
	}
	if o.portBase < 1024 || o.portBase+1100 > 32768 {
		return nil, errors.New("-ports must lie between 1024 and 31668")
	}
	o.only = stepNames()
	if *only != "" {
		o.only = nil
		for _, s := range strings.Split(*only, ",") {
			if !slices.Contains(stepNames(), s) {
				return nil, fmt.Errorf("-only: unknown step %q (known: %s)", s, strings.Join(stepNames(), ", "))
			}
			o.only = append(o.only, s)
		}
	}
	return o, nil
}

// bench is one run of the bench.
type bench struct {
	servers     []*server // mediaftpd first: the order of each round
	res         results
	big         *os.File // big.bin, to check the bytes of seeks
	sessionTime time.Duration
	lists       int // timed listings per LIST run
	seeks       int // timed seeks per seek run
	progress    io.Writer
}

func (b *bench) logf(format string, args ...any) { fmt.Fprintf(b.progress, format+"\n", args...) }

func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "ftpbench: %v\n", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := measure(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "ftpbench: %v\n", err)
		return exitError
	}
	return exitOK
}

// selected returns the workloads -only chose.
func (o *options) selected() []workload {
	var ws []workload
	for _, w := range workloads {
		if slices.Contains(o.only, w.name) {
			ws = append(ws, w)
		}
	}
	return ws
}

// measure runs the bench and prints its report.
func measure(ctx context.Context, o *options, stdout, stderr io.Writer) error {
	if runtime.GOOS != "linux" {
		return errors.New("the bench reads /proc and runs vsftpd: it needs Linux")
	}
	ws, tlsSteps := o.selected(), o.selectedFTPS()
	vsftpdBin := ""
	if len(ws) > 0 || len(tlsSteps) > 0 {
		var err error
		if vsftpdBin, err = findVsftpd(); err != nil {
			return err
		}
		if os.Geteuid() != 0 {
			return errors.New("run the bench as root: vsftpd needs root to chroot anonymous sessions and change user")
		}
	}
	moduleRoot, err := childproc.FindModule(ctx, "")
	if errors.Is(err, childproc.ErrNoModule) {
		err = fmt.Errorf("%w; run the bench inside it (go run ./cmd/ftpbench), or give a binary with -mediaftpd", err)
	}
	if err != nil && (o.mediaftpd == "" || o.pprofDir != "" || slices.Contains(o.only, "index")) {
		return err
	}
	m := describeMachine(ctx, moduleRoot, vsftpdBin)
	b := &bench{res: results{}, sessionTime: 3 * time.Second, lists: 10, seeks: 200, progress: stderr}
	if o.quick {
		b.sessionTime, b.lists, b.seeks = time.Second, 3, 50
	}

	start := time.Now()
	acct, others := "", -1.0
	if len(ws) > 0 {
		if acct, others, err = b.compare(ctx, o, ws, moduleRoot, vsftpdBin); err != nil {
			return err
		}
	}
	if slices.Contains(o.only, "index") {
		b.logf("index: go test -bench BenchmarkInitialScan ./library/ (%d runs)", o.runs)
		runs, err := runIndexBench(ctx, moduleRoot, o.runs, o.quick)
		if err != nil {
			return err
		}
		for _, ss := range runs {
			b.res.add(nameMediaftpd, ss)
		}
	}
	var ftps *ftpsInfo
	if len(tlsSteps) > 0 {
		if ftps, err = b.compareFTPS(ctx, o, tlsSteps, moduleRoot, vsftpdBin); err != nil {
			return err
		}
	}
	writeReport(stdout, o, m, acct, others, b.res, ftps, time.Since(start))
	return nil
}

// compare starts both servers over the media tree, runs the workloads on
// them in turn and stops them. It returns how server CPU was accounted and
// how busy other processes kept the machine meanwhile.
func (b *bench) compare(ctx context.Context, o *options, ws []workload, moduleRoot, vsftpdBin string) (acct string, others float64, err error) {
	vPorts, mPorts := portsFor(o.portBase)
	for _, p := range []int{vPorts.control, mPorts.control} {
		if err := checkFree(p); err != nil {
			return "", 0, err
		}
	}
	work, err := os.MkdirTemp("", "ftpbench-")
	if err != nil {
		return "", 0, err
	}
	if o.keep {
		defer fmt.Fprintf(b.progress, "ftpbench: configs, logs and binary kept in %s\n", work)
	} else {
		defer os.RemoveAll(work)
	}
	t, err := ensureTree(o.dir, b.progress)
	if err != nil {
		return "", 0, err
	}
	if b.big, err = os.Open(t.host(bigName)); err != nil {
		return "", 0, err
	}
	defer b.big.Close()

	bin := o.mediaftpd
	var prof *profiler
	if o.pprofDir != "" || bin == "" {
		var flags []string
		if o.pprofDir != "" {
			overlay := ""
			if prof, overlay, err = newProfiler(o.pprofDir, work, moduleRoot); err != nil {
				return "", 0, err
			}
			flags = []string{"-overlay", overlay}
		}
		bin = filepath.Join(work, "mediaftpd")
		b.logf("building mediaftpd from %s", moduleRoot)
		if err := childproc.Build(ctx, moduleRoot, bin, "./cmd/mediaftpd", flags...); err != nil {
			return "", 0, err
		}
	}

	mcg, vcg, acct := cgroups(o.noCgroup, "", b.progress)
	if mcg != nil {
		// Deferred first, so run last: after the servers have stopped.
		defer mcg.remove()
		defer vcg.remove()
	}
	ms, err := startMediaftpd(ctx, bin, work, t, mPorts, prof, mcg)
	if err != nil {
		return "", 0, err
	}
	defer ms.stop()
	vs, err := startVsftpd(ctx, vsftpdBin, work, t, vPorts, o.vsftpdOpts, vcg)
	if err != nil {
		return "", 0, err
	}
	defer vs.stop()
	b.servers = []*server{ms, vs}

	load := startLoad(b.servers)
	for _, w := range ws {
		for i := range o.runs {
			for _, s := range b.servers {
				ss, err := w.run(b, ctx, s, i)
				if err != nil {
					return "", 0, fmt.Errorf("%s, run %d, %s: %w", w.name, i+1, s.Name, errors.Join(err, s.Exited()))
				}
				b.res.add(s.Name, ss)
				b.logf("%s run %d/%d, %s: %s", w.name, i+1, o.runs, s.Name, formatSamples(ss))
			}
		}
	}
	others = load.others(b.servers)
	if err := settle(ctx); err != nil {
		return "", 0, err
	}
	for _, s := range b.servers {
		if err := s.awaitQuiet(ctx); err != nil {
			return "", 0, err
		}
		pss, _, err := s.pss()
		if err != nil {
			return "", 0, err
		}
		b.res.add(s.Name, []sample{{mPSSAfter, float64(pss) / mib}})
	}
	vs.stop()
	ms.stop()
	return acct, others, errors.Join(ms.exitErr(), vs.exitErr())
}

// cgroups makes a cgroup for each server, named after it and suffix, or
// returns none, and says which accounting the report uses.
func cgroups(off bool, suffix string, stderr io.Writer) (m, v *cgroup, acct string) {
	const procAcct = "/proc (utime+stime+cutime+cstime of the server and its live processes)"
	if off {
		return nil, nil, procAcct
	}
	m, err := newCgroup(nameMediaftpd + suffix)
	if err == nil {
		if v, err = newCgroup(nameVsftpd + suffix); err != nil {
			m.remove()
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "ftpbench: no cgroup for the servers (%v); CPU from /proc\n", err)
		return nil, nil, procAcct
	}
	return m, v, "a cgroup v2 per server (cpu.stat usage_usec, cgroup.procs)"
}

// load is a snapshot of the machine's CPU use and the servers', to tell
// how busy other processes kept the machine during the workloads.
type load struct {
	procstat.Load
	servers time.Duration
}

func startLoad(servers []*server) load {
	return load{Load: procstat.TakeLoad(), servers: serversCPU(servers)}
}

// others returns the share of all CPUs that processes other than the bench
// and the servers used since the snapshot, or -1 if unknown.
func (l load) others(servers []*server) float64 {
	return l.Load.Others(serversCPU(servers) - l.servers)
}

// serversCPU returns the CPU the servers have used, as far as known.
func serversCPU(servers []*server) time.Duration {
	var total time.Duration
	for _, s := range servers {
		c, _ := s.cpuTime()
		total += c
	}
	return total
}

// exitErr reports a server that did not stop cleanly when asked.
// mediaftpd exits 0 on SIGTERM; vsftpd dies of the signal.
func (s *server) exitErr() error {
	err := s.Wait()
	if s.Name == nameVsftpd || err == nil {
		return nil
	}
	return fmt.Errorf("%s did not stop cleanly: %v; its log, %s, ends:\n%s", s.Name, err, s.LogFile, s.LogTail())
}

func formatSamples(ss []sample) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(s.m) + "=" + benchreport.Num(s.v)
	}
	return strings.Join(parts, " ")
}

// writeReport prints the header, the table and every run.
func writeReport(w io.Writer, o *options, m machine, acct string, others float64, res results, ftps *ftpsInfo, took time.Duration) {
	fmt.Fprintf(w, "mediaftpd %s against vsftpd %s: %d run(s) of each workload, alternating mediaftpd and vsftpd; medians.\n",
		m.Revision, m.Vsftpd, o.runs)
	fmt.Fprintf(w, "Machine: %s, %d CPUs, %s RAM, %s, %s.\n", m.CPU, m.CPUs, m.Memory, m.Kernel, m.Go)
	if acct != "" {
		fmt.Fprintf(w, "Server CPU and processes from %s.\n", acct)
	}
	if others >= 0 {
		fmt.Fprintf(w, "Other processes kept the CPUs %.0f%% busy during the workloads", 100*others)
		if others > 0.05 {
			fmt.Fprint(w, ": the machine was not quiet, and the figures are less sure")
		}
		fmt.Fprintln(w, ".")
	}
	fmt.Fprintf(w, "Command: %s (took %v)\n\n", strings.Join(append([]string{"ftpbench"}, o.args...), " "), took.Round(time.Second))
	judged, missed := writeTable(w, res)
	if ftps != nil {
		j, m := writeFTPSReport(w, ftps, res)
		judged, missed = judged+j, missed+m
	}
	fmt.Fprintf(w, "\n%d of %d targets met.\n\nEvery run, in the order run:\n\n", judged-missed, judged)
	writeRuns(w, res)
	writeFTPSRuns(w, res)
}
