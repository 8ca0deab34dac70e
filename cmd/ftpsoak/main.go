// Command ftpsoak runs mediaftpd under a long churning load and checks
// that it loses nothing: every byte a client receives is verified, every
// reply is checked, and the server's threads, open files and memory must
// be back near where they started once the clients have gone.
//
// It makes a media tree in a temporary folder (big files of -sizes MiB
// with UTF-8 names, a folder of -many small files), builds mediaftpd from
// the checkout it runs in (or takes -server), starts it as a child on
// loopback with mDNS off and limits above the load, and runs -clients
// clients for -duration. Each client loops over a random mix: stream a
// whole file at a player's rate; seek several times on one session (REST,
// RETR, a few MiB, ABOR in its three forms); LIST, MLSD or NLST of big and
// small folders; SIZE and MDTM; drop a transfer without QUIT; idle; connect
// and leave without logging in. The server's resources are sampled every
// -sample from /proc and its status page. The report goes to standard
// output; the exit status is 1 on any byte mismatch, unexpected error,
// server error or resource not back near its start.
//
//	go run ./cmd/ftpsoak                          # 50 clients, 10 minutes
//	go run ./cmd/ftpsoak -clients 10 -duration 1m
//
// It is not run in CI (TestShortSoak runs it for a few seconds there).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1 // the soak found a fault, or could not run
	exitUsage = 2
)

// Slack allowed between the start and the end of the soak, once the
// clients have gone: Go keeps idle threads (see threadLimit) and returns
// freed memory to the system slowly, but a leaked socket or file shows at
// once.
const (
	fdSlack = 4
	// goroutineSlack allows for the server's own that come and go (the
	// status page's connection, a reload, the idle reclaim).
	goroutineSlack = 4
	threadSlack    = 16
	rssSlackMiB    = 64
	drainTimeout   = 30 * time.Second
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options is the command line.
type options struct {
	clients  int
	duration time.Duration
	server   string
	sizes    []int
	many     int
	rateLo   float64 // MiB/s of streams
	rateHi   float64
	sample   time.Duration
	settle   time.Duration
	seed     uint64
	keep     bool
	args     []string

	// damage, if set, changes the tree after it is made: tests use it to
	// check that the soak notices a server sending wrong bytes.
	damage func(*tree) error
}

const usageText = `Usage: ftpsoak [flags]

Runs churning FTP clients against the mediaftpd binary on loopback, checks
every byte and reply, and reports the load held, the errors and the
server's resources at the start and end. Run it in the mediaftpd checkout:

  go run ./cmd/ftpsoak

Flags:
`

func parseArgs(args []string, stderr io.Writer) (*options, error) {
	o := &options{args: args}
	fs := flag.NewFlagSet("ftpsoak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
	}
	fs.IntVar(&o.clients, "clients", 50, "churning clients at once")
	fs.DurationVar(&o.duration, "duration", 10*time.Minute, "how long the clients run")
	fs.StringVar(&o.server, "server", "", "mediaftpd `binary` to soak (default: go build ./cmd/mediaftpd of this checkout)")
	sizes := fs.String("sizes", "16,64,128,256", "`MiB` of each big file, comma-separated (at most 5)")
	fs.IntVar(&o.many, "many", 3000, "small files in the big folder")
	rates := fs.String("rate", "1-8", "`LO-HI` MiB/s of a stream; each picks a rate between")
	fs.DurationVar(&o.sample, "sample", 10*time.Second, "interval between samples of the server")
	fs.DurationVar(&o.settle, "settle", 2*time.Second, "wait before the start and end samples")
	seed := fs.Int64("seed", 0, "random `seed` of the clients' choices (default: from the clock)")
	fs.BoolVar(&o.keep, "keep", false, "keep the work folder (tree, config, server log) and print where it is")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.clients < 1 || o.duration <= 0 || o.sample <= 0 || o.many < 1 || o.settle < 0 {
		return nil, errors.New("-clients, -duration, -sample and -many must be positive")
	}
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-sizes: %q is not a size in MiB", s)
		}
		o.sizes = append(o.sizes, n)
	}
	if len(o.sizes) > len(bigNames) {
		return nil, fmt.Errorf("-sizes: at most %d files", len(bigNames))
	}
	lo, hi, ok := strings.Cut(*rates, "-")
	var err1, err2 error
	o.rateLo, err1 = strconv.ParseFloat(lo, 64)
	o.rateHi, err2 = strconv.ParseFloat(hi, 64)
	if !ok || err1 != nil || err2 != nil || o.rateLo <= 0 || o.rateHi < o.rateLo {
		return nil, fmt.Errorf("-rate: want LO-HI in MiB/s, such as 1-8")
	}
	o.seed = uint64(time.Now().UnixNano())
	if *seed != 0 {
		o.seed = uint64(*seed)
	}
	return o, nil
}

func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "ftpsoak: %v\n", err)
		return exitUsage
	}
	// The first Ctrl-C ends the clients early and the soak still drains,
	// samples and reports; a second one kills the soak (and the server,
	// through its parent-death signal).
	interrupt, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(interrupt, stop)
	r, err := soak(context.Background(), interrupt, o, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "ftpsoak: %v\n", err)
		return exitFail
	}
	r.write(stdout)
	if len(r.faults) > 0 {
		return exitFail
	}
	return exitOK
}

// result is what a soak found.
type result struct {
	o        *options
	version  string
	pid      int
	tree     *tree
	st       *stats
	ran      time.Duration
	start    usage
	end      usage
	peak     usage // the maximum of each field over all samples
	samples  int
	logErrs  int
	logWarns int
	firstErr string
	exitErr  error
	// interrupted is set when Ctrl-C ended the clients before -duration.
	interrupted bool
	startFDs    string // what the server's descriptors are, at the start
	endFDs      string // and at the end
	faults      []string
}

// soak runs the whole soak and judges it. When interrupt ends, the
// clients stop early, and the soak goes on to drain and report.
func soak(ctx, interrupt context.Context, o *options, progress io.Writer) (*result, error) {
	if runtime.GOOS != "linux" {
		return nil, errors.New("the soak reads /proc: it needs Linux")
	}
	logf := func(format string, args ...any) { fmt.Fprintf(progress, "ftpsoak: "+format+"\n", args...) }
	work, err := os.MkdirTemp("", "ftpsoak-")
	if err != nil {
		return nil, err
	}
	if o.keep {
		defer logf("work folder kept: %s", work)
	} else {
		defer os.RemoveAll(work)
	}
	bin := o.server
	if bin == "" {
		logf("building mediaftpd")
		if bin, err = buildServer(ctx, work); err != nil {
			return nil, err
		}
	}
	logf("making the media tree (%v MiB and %d small files)", o.sizes, o.many)
	root := work + "/media"
	t, err := makeTree(root, o.sizes, o.many)
	if err != nil {
		return nil, fmt.Errorf("making the media tree: %w", err)
	}
	if o.damage != nil {
		if err := o.damage(t); err != nil {
			return nil, err
		}
	}
	srv, err := startServer(ctx, bin, work, root, o.clients)
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	r := &result{o: o, pid: srv.PID(), tree: t, st: newStats(), version: serverVersion(bin)}
	logf("mediaftpd pid %d serves %s (status page %s)", srv.PID(), srv.ftp, srv.web)

	if err := sleep(ctx, o.settle); err != nil {
		return nil, err
	}
	if r.start, err = srv.sample(ctx); err != nil {
		return nil, fmt.Errorf("sampling the server: %w", err)
	}
	r.peak = r.start
	logf("start: %s", r.start)
	r.startFDs = srv.fdSummary()

	began := time.Now()
	if err := r.runClients(ctx, interrupt, srv, began, logf); err != nil {
		return nil, err
	}
	if err := r.drain(ctx, srv, began, logf); err != nil {
		return nil, err
	}
	r.endFDs = srv.fdSummary()
	r.exitErr = srv.Stop()
	r.logErrs, r.logWarns, r.firstErr = srv.logCounts()
	r.judge()
	return r, nil
}

// runClients runs the churning clients for the soak's duration (or until
// interrupt), sampling the server meanwhile, from began.
func (r *result) runClients(ctx, interrupt context.Context, srv *server, began time.Time, logf func(string, ...any)) error {
	cctx, cancel := context.WithTimeout(interrupt, r.o.duration)
	defer cancel()
	var wg sync.WaitGroup
	for i := range r.o.clients {
		w := &worker{
			addr: srv.ftp, tree: r.tree, st: r.st,
			rng:   rand.New(rand.NewPCG(r.o.seed, uint64(i))),
			buf:   make([]byte, 256<<10),
			want:  make([]byte, 256<<10),
			rates: [2]float64{r.o.rateLo * (1 << 20), r.o.rateHi * (1 << 20)},
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.loop(cctx)
		}()
	}
	clientsDone := make(chan struct{})
	go func() {
		wg.Wait()
		close(clientsDone)
	}()
	tick := time.NewTicker(r.o.sample)
	defer tick.Stop()
	sampleErr := error(nil)
	for running := true; running; {
		select {
		case <-clientsDone:
			running = false
		case <-tick.C:
			u, err := srv.sample(ctx)
			if err != nil {
				sampleErr = err
				cancel()
				continue
			}
			u.at = time.Since(began)
			r.add(u)
			logf("%s, %d sessions made, %.2f GiB verified, %d errors", u, r.st.sessions.Load(), float64(r.st.bytes.Load())/(1<<30), r.errorCount())
		}
	}
	r.ran = time.Since(began)
	if interrupt.Err() != nil {
		r.interrupted = true
		logf("interrupted: the clients stopped early")
	}
	if sampleErr != nil {
		return fmt.Errorf("sampling the server: %w", sampleErr)
	}
	return nil

}

// drain waits until the server lists no session, lets it settle, and
// takes the last sample.
func (r *result) drain(ctx context.Context, srv *server, began time.Time, logf func(string, ...any)) error {
	// Drain: every session gone from the server, then settle.
	logf("clients stopped after %v; waiting for the server's sessions to end", r.ran.Round(time.Second))
	deadline := time.Now().Add(drainTimeout)
	for {
		n, _, err := srv.status(ctx)
		if err == nil && n == 0 {
			break
		}
		if time.Now().After(deadline) {
			r.faults = append(r.faults, fmt.Sprintf("the server still listed %d sessions %v after the clients left (%v)", n, drainTimeout, err))
			break
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
	if err := sleep(ctx, r.o.settle); err != nil {
		return err
	}
	end, err := srv.sample(ctx)
	if err != nil {
		return fmt.Errorf("sampling the server: %w", err)
	}
	r.end = end
	r.end.at = time.Since(began)
	r.add(r.end)
	logf("end: %s", r.end)
	return nil
}

// add folds a sample into the peaks.
func (r *result) add(u usage) {
	r.samples++
	r.peak.fds = max(r.peak.fds, u.fds)
	r.peak.threads = max(r.peak.threads, u.threads)
	r.peak.rss = max(r.peak.rss, u.rss)
	r.peak.pss = max(r.peak.pss, u.pss)
	r.peak.cpu = max(r.peak.cpu, u.cpu)
	r.peak.sessions = max(r.peak.sessions, u.sessions)
	r.peak.goroutines = max(r.peak.goroutines, u.goroutines)
}

func (r *result) errorCount() int64 {
	r.st.mu.Lock()
	defer r.st.mu.Unlock()
	var n int64
	for _, v := range r.st.errors {
		n += v
	}
	return n
}

// threadLimit is the most threads the server may have at the end. Go's
// runtime keeps the threads it made for blocking system calls (sendfile,
// file reads) to reuse them, and makes at most about one per session
// blocked at once: more than that at the end means threads stuck in the
// kernel.
func (r *result) threadLimit() int { return r.start.threads + r.o.clients + threadSlack }

// judge lists the faults: anything but a clean soak.
func (r *result) judge() {
	if n := r.st.mismatches.Load(); n > 0 {
		r.faults = append(r.faults, fmt.Sprintf("%d byte or listing mismatches", n))
	}
	if n := r.errorCount(); n > 0 {
		r.faults = append(r.faults, fmt.Sprintf("%d unexpected client errors", n))
	}
	if r.logErrs > 0 {
		r.faults = append(r.faults, fmt.Sprintf("%d ERROR lines in the server's log, the first: %s", r.logErrs, r.firstErr))
	}
	if r.exitErr != nil {
		r.faults = append(r.faults, fmt.Sprintf("the server did not exit cleanly on SIGTERM: %v", r.exitErr))
	}
	if r.end.sessions != 0 {
		r.faults = append(r.faults, fmt.Sprintf("%d sessions left at the end", r.end.sessions))
	}
	if r.end.fds > r.start.fds+fdSlack {
		r.faults = append(r.faults, fmt.Sprintf("open FDs %d at the end, %d at the start (slack %d); at the start: %s; at the end: %s",
			r.end.fds, r.start.fds, fdSlack, r.startFDs, r.endFDs))
	}
	if limit := r.threadLimit(); r.end.threads > limit {
		r.faults = append(r.faults, fmt.Sprintf("threads %d at the end, %d at the start (at most %d allowed)", r.end.threads, r.start.threads, limit))
	}
	if r.start.goroutines >= 0 && r.end.goroutines > r.start.goroutines+goroutineSlack {
		r.faults = append(r.faults, fmt.Sprintf("goroutines %d at the end, %d at the start (slack %d)", r.end.goroutines, r.start.goroutines, goroutineSlack))
	}
	if r.end.rss > r.start.rss+rssSlackMiB<<20 {
		r.faults = append(r.faults, fmt.Sprintf("RSS %s at the end, %s at the start (slack %d MiB)", mib(r.end.rss), mib(r.start.rss), rssSlackMiB))
	}
	if r.st.sessions.Load() == 0 {
		r.faults = append(r.faults, "no session was made")
	}
}

func (u usage) String() string {
	s := fmt.Sprintf("threads %d, FDs %d, RSS %s MiB, PSS %s MiB, CPU %.1f s", u.threads, u.fds, mib(u.rss), mib(u.pss), u.cpu.Seconds())
	if u.goroutines >= 0 {
		s += fmt.Sprintf(", %d goroutines", u.goroutines)
	}
	if u.sessions >= 0 {
		s += fmt.Sprintf(", %d sessions open", u.sessions)
	}
	return s
}

func mib(b int64) string { return strconv.FormatFloat(float64(b)/(1<<20), 'f', 1, 64) }

// serverVersion asks the binary for its version.
func serverVersion(bin string) string {
	out, err := execOutput(bin, "-version")
	if err != nil {
		return "(unknown version)"
	}
	return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(out), "mediaftpd"))
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
