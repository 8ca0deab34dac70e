// Command detailsbench measures what media details (issue 14) cost the
// mediaftpd binary, on this machine, in one run, and prints a table of the
// figures, the targets of the Performance section, ratios and
// verdicts:
//
//  1. a restart with 100,000 known files: the time from start to "media
//     details ready" with nothing probed (target ≤ 2 s), and the store's
//     size per file (≤ 400 bytes); the first probing's time and rate too;
//  2. the resident memory details add: the PSS of mediaftpd serving the
//     100,000 files, idle, with details against without (no state folder),
//     per file (≤ 60 bytes);
//  3. a film streamed at a paced 10 MB/s while 10,000 new files are
//     probed, against the same with their details already known: the
//     stream's rate (ratio ≥ 0.95) and the time of a seek (REST + RETR to
//     the first byte; ratio ≤ 1.2), during the stream and with no stream.
//
// It builds mediaftpd from the checkout it runs in, makes the media trees
// once under -dir (small generated MP3 and WAV files, and a 1 GiB film read
// through so that it is served from the page cache), and runs the binary
// on loopback with mDNS and DLNA off, its status page on loopback, and a
// state folder of its own (or none). Runs of the two conditions of a
// figure alternate; the table shows medians. No root is needed.
//
//	go run ./cmd/detailsbench            # about 10 minutes
//	go run ./cmd/detailsbench -quick     # 2,000 files, short runs
//
// See docs/details-performance.md for the figures and how they are taken.
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
	"strings"
	"syscall"
	"time"

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
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options is the command line.
type options struct {
	files      int           // the library of figures 1 and 2
	fresh      int           // the files probed in figure 3
	runs       int           // runs of each condition
	quick      bool          //
	dir        string        // the media trees, kept
	portBase   int           //
	mediaftpd  string        // a binary to measure; "" builds one
	bigSize    int64         // the streamed file
	rate       float64       // bytes per second of the stream
	streamFor  time.Duration // how long each stream lasts
	seeks      int           // back-to-back seeks with no stream
	seekGap    time.Duration // between seeks during the stream
	settle     time.Duration // idle time before a PSS is read
	keep       bool          //
	args       []string      // as given, for the report
	readyLimit time.Duration // for the first probing
}

const usageText = `Usage: detailsbench [flags]

Measures the cost of media details in the mediaftpd binary on loopback and
prints a Markdown table of the medians, ratios and targets of issue 14.
Run it inside the mediaftpd checkout:

  go run ./cmd/detailsbench

Flags:
`

func parseArgs(args []string, stderr io.Writer) (*options, error) {
	o := &options{args: args}
	fs := flag.NewFlagSet("detailsbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
	}
	fs.IntVar(&o.files, "files", 100_000, "music `files` of the library of figures 1 and 2")
	fs.IntVar(&o.fresh, "probe-files", 10_000, "new music `files` probed while figure 3 streams")
	fs.IntVar(&o.runs, "runs", 5, "runs of each condition (restarts, memory with and without details, streams with and without probing)")
	fs.BoolVar(&o.quick, "quick", false, "a short run: 2,000 and 1,000 files, a 32 MiB film streamed for 1 s, 1 run, PSS read without waiting for the idle reclaim (flags given win)")
	fs.StringVar(&o.dir, "dir", "/var/tmp/detailsbench", "`folder` for the media trees, made once and kept (about 1.1 GiB)")
	fs.IntVar(&o.portBase, "ports", 28000, "`base` of the loopback ports: FTP base+21, status page base+80, passive base+100..199")
	fs.StringVar(&o.mediaftpd, "mediaftpd", "", "mediaftpd `binary` to measure (default: build cmd/mediaftpd of this checkout)")
	fs.Int64Var(&o.bigSize, "big", 1<<30, "`bytes` of the film streamed in figure 3")
	fs.Float64Var(&o.rate, "rate", 10e6, "the stream's paced rate in `bytes` per second")
	fs.DurationVar(&o.streamFor, "stream", 15*time.Second, "how long each stream of figure 3 lasts")
	fs.IntVar(&o.seeks, "seeks", 200, "back-to-back seeks with no stream, per run of figure 3")
	fs.DurationVar(&o.seekGap, "seek-gap", 50*time.Millisecond, "pause between seeks during the stream")
	fs.DurationVar(&o.settle, "settle", 11*time.Second, "idle time after the work before a PSS is read (mediaftpd returns freed memory after 5 s idle)")
	fs.BoolVar(&o.keep, "keep", false, "keep the work folder (state folders, logs, binary) and print where it is")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if o.quick {
		quick := map[string]func(){
			"files":       func() { o.files = 2000 },
			"probe-files": func() { o.fresh = 1000 },
			"runs":        func() { o.runs = 1 },
			"big":         func() { o.bigSize = 32 << 20 },
			"stream":      func() { o.streamFor = time.Second },
			"seeks":       func() { o.seeks = 20 },
			"settle":      func() { o.settle = 0 },
		}
		for name, set := range quick {
			if !given[name] {
				set()
			}
		}
	}
	switch {
	case o.files < 1 || o.fresh < 1:
		return nil, errors.New("-files and -probe-files must be 1 or more")
	case o.runs < 1:
		return nil, errors.New("-runs must be 1 or more")
	case o.portBase < 1024 || o.portBase+200 > 32768:
		return nil, errors.New("-ports must lie between 1024 and 32568")
	case o.bigSize < 1<<20:
		return nil, errors.New("-big must be 1 MiB or more")
	case o.rate <= 0:
		return nil, errors.New("-rate must be positive")
	case o.streamFor <= 0 || o.seeks < 1:
		return nil, errors.New("-stream and -seeks must be positive")
	case float64(o.bigSize) < o.rate*o.streamFor.Seconds()*1.2:
		return nil, fmt.Errorf("-big %d is too small to stream for %v at %.0f bytes/s", o.bigSize, o.streamFor, o.rate)
	}
	o.readyLimit = 30 * time.Minute
	return o, nil
}

// bench is one run of the bench.
type bench struct {
	o          *options
	bin        string
	work       string // state folders and logs of this run
	ports      ports
	res        results
	notes      []string      // what the table cannot say, for the report
	serverCPU  time.Duration // of every server run so far, for the load figure
	progress   io.Writer
	logSeq     int
	streamLoad float64 // share of the CPUs other processes used during figure 3
}

func (b *bench) logf(format string, args ...any) { fmt.Fprintf(b.progress, format+"\n", args...) }

func (b *bench) note(format string, args ...any) {
	b.notes = append(b.notes, fmt.Sprintf(format, args...))
}

func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "detailsbench: %v\n", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := measure(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "detailsbench: %v\n", err)
		return exitError
	}
	return exitOK
}

// measure runs the bench and prints its report.
func measure(ctx context.Context, o *options, stdout, stderr io.Writer) error {
	if runtime.GOOS != "linux" {
		return errors.New("the bench reads /proc: it needs Linux")
	}
	moduleRoot, err := childproc.FindModule(ctx, "")
	if errors.Is(err, childproc.ErrNoModule) && o.mediaftpd == "" {
		return fmt.Errorf("%w; run the bench inside it (go run ./cmd/detailsbench), or give a binary with -mediaftpd", err)
	}
	if err != nil && o.mediaftpd == "" {
		return err
	}
	b := &bench{o: o, ports: portsFor(o.portBase), res: results{}, progress: stderr}
	if err := b.ports.checkFree(); err != nil {
		return err
	}
	if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return err
	}
	if b.work, err = os.MkdirTemp("", "detailsbench-"); err != nil {
		return err
	}
	if o.keep {
		defer fmt.Fprintf(stderr, "detailsbench: state folders, logs and binary kept in %s\n", b.work)
	} else {
		defer os.RemoveAll(b.work)
	}
	m := describeMachine(ctx, moduleRoot, o.dir)
	b.bin = o.mediaftpd
	if b.bin == "" {
		b.bin = filepath.Join(b.work, "mediaftpd")
		b.logf("building mediaftpd from %s", moduleRoot)
		if err := childproc.Build(ctx, moduleRoot, b.bin, "./cmd/mediaftpd"); err != nil {
			return err
		}
	}
	library, err := musicTree(o.dir, "library", o.files, stderr)
	if err != nil {
		return err
	}
	fresh, err := musicTree(o.dir, "fresh", o.fresh, stderr)
	if err != nil {
		return err
	}
	films, err := bigFile(o.dir, o.bigSize, stderr)
	if err != nil {
		return err
	}

	start := time.Now()
	l := procstat.TakeLoad()
	if err := b.restartAndMemory(ctx, library); err != nil {
		return err
	}
	if err := b.streamWhileProbing(ctx, fresh, films); err != nil {
		return err
	}
	b.writeReport(stdout, m, l.Others(b.serverCPU), time.Since(start))
	return nil
}

// start starts mediaftpd with a log file of its own.
func (b *bench) start(stateDir string, shares ...string) (*server, error) {
	b.logSeq++
	name := fmt.Sprintf("mediaftpd-%02d.log", b.logSeq)
	return startServer(serverConfig{bin: b.bin, logFile: filepath.Join(b.work, name), ports: b.ports, stateDir: stateDir, shares: shares})
}

// stop stops a server and counts its CPU.
func (b *bench) stop(s *server) error {
	b.serverCPU += s.cpu()
	return s.stop()
}

// writeReport prints the header, the table, every run and the notes.
func (b *bench) writeReport(w io.Writer, m machine, others float64, took time.Duration) {
	o := b.o
	what := "mediaftpd " + m.Revision
	if o.mediaftpd != "" {
		what = "the mediaftpd binary " + o.mediaftpd + " (given with -mediaftpd; the checkout is at " + m.Revision + ")"
	}
	fmt.Fprintf(w, "%s, media details (issue 14): %d run(s) of each condition, alternating; medians.\n", what, o.runs)
	fmt.Fprintf(w, "Machine: %s, %d CPUs, %s RAM, %s, %s.\n", m.CPU, m.CPUs, m.Memory, m.Kernel, m.Go)
	fmt.Fprintf(w, "Disk: %s is on %s. Media files and the film are read from the page cache (written, or read through, before the runs).\n", o.dir, m.Disk)
	fmt.Fprintf(w, "Library: %s MP3 and WAV files of %d-%d bytes; figure 3 probes %s more while a %s-byte film is streamed at %s bytes/s for %v.\n",
		count(o.files), minFileSize, maxFileSize, count(o.fresh), count(int(o.bigSize)), count(int(o.rate)), o.streamFor)
	if others >= 0 {
		fmt.Fprintf(w, "Other processes kept the CPUs %.0f%% busy during the bench (%.0f%% during figure 3)", 100*others, 100*b.streamLoad)
		if others > 0.05 || b.streamLoad > 0.05 {
			fmt.Fprint(w, ": the machine was not quiet, and timings are less sure")
		}
		fmt.Fprintln(w, ".")
	}
	fmt.Fprintf(w, "Command: %s (took %v)\n\n", strings.Join(append([]string{"detailsbench"}, o.args...), " "), took.Round(time.Second))
	rs := rows(o.files, o.fresh)
	judged, missed := writeTable(w, rs, b.res)
	fmt.Fprintf(w, "\n%d of %d targets met.\n\nEvery run, in the order run (measured | compared with):\n\n", judged-missed, judged)
	writeRuns(w, rs, b.res)
	if len(b.notes) > 0 {
		fmt.Fprintln(w, "\nNotes:")
		fmt.Fprintln(w)
		for _, n := range b.notes {
			fmt.Fprintf(w, "- %s\n", n)
		}
	}
}

// The sizes of the generated music files, for the report.
var minFileSize, maxFileSize = func() (lo, hi int) {
	lo = 1 << 30
	for i := range tracksPerAlbum * albumsPerArtist * 2 {
		_, data := musicFile(i)
		lo, hi = min(lo, len(data)), max(hi, len(data))
	}
	return lo, hi
}()
