package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/benchreport"
	"github.com/mediaftpd/mediaftpd/internal/procstat"
)

// metric names one figure of the table.
type metric string

// The figures. Workloads report them; the table shows them in the order
// of rows (report.go).
const (
	mSingle         metric = "single"          // MiB/s
	mParallel       metric = "parallel"        // MiB/s, all streams together
	mCPUPerGiB      metric = "cpu-per-gib"     // CPU seconds per GiB sent
	mClientPerGiB   metric = "client-per-gib"  // the bench's own CPU seconds per GiB received
	mSessions       metric = "sessions"        // sessions per second
	mCPUPerSession  metric = "cpu-per-session" // CPU microseconds per session
	mList           metric = "list"            // ms
	mSeek           metric = "seek"            // µs
	mPSSIdle        metric = "pss-idle"        // MiB
	mPSSSessions    metric = "pss-sessions"    // MiB, with memSessions sessions
	mPSSPerSession  metric = "pss-per-session" // KiB per session
	mPSSAfter       metric = "pss-after"       // MiB, idle after all workloads
	mIndexTime      metric = "index-time"      // s
	mIndexHeap      metric = "index-heap"      // MiB
	mIndexPerFile   metric = "index-per-file"  // ns per file
	mIndexHeapBytes metric = "index-heap-file" // bytes per file
)

// sample is one measured value of a figure.
type sample struct {
	m metric
	v float64
}

// Sizes of the workloads.
const (
	parallelStreams = 8
	sessionClients  = 4
	memSessions     = 200
)

// workload is one kind of run, made on each server in turn.
type workload struct {
	name string // for -only, progress lines and profile file names
	run  func(b *bench, ctx context.Context, s *server, run int) ([]sample, error)
}

// workloads in the order they run. Memory comes first, so that its first
// idle figure is of servers that have served nothing yet.
var workloads = []workload{
	{"memory", (*bench).memory},
	{"seek", (*bench).seek},
	{"list", (*bench).list},
	{"sessions", (*bench).sessions},
	{"single", func(b *bench, ctx context.Context, s *server, run int) ([]sample, error) {
		return b.download(ctx, s, "single", run, 1)
	}},
	{"parallel", func(b *bench, ctx context.Context, s *server, run int) ([]sample, error) {
		return b.download(ctx, s, "parallel", run, parallelStreams)
	}},
}

const (
	mib = 1 << 20
	gib = 1 << 30
)

// profName is the file name stem of a run's profiles.
func profName(workload string, run int) string { return workload + "-" + strconv.Itoa(run+1) }

// closeAll closes the control connections of clients that are still open.
func closeAll(cs []*client) {
	for _, c := range cs {
		if c != nil {
			c.Close()
		}
	}
}

// download has streams clients fetch big.bin at once, each on its own
// session, and reports the throughput of them all together and the
// server's CPU per GiB sent. The sessions are logged in and their data
// connections made before the clock starts; it stops when the last 226
// arrives.
func (b *bench) download(ctx context.Context, s *server, name string, run, streams int) ([]sample, error) {
	if err := s.awaitQuiet(ctx); err != nil {
		return nil, err
	}
	if err := s.begin(ctx, profName(name, run)); err != nil {
		return nil, err
	}
	cpu0, err := s.cpuTime()
	if err != nil {
		return nil, err
	}
	self0 := procstat.SelfCPU()
	clients := make([]*client, streams)
	data := make([]*net.TCPConn, streams)
	defer closeAll(clients)
	for i := range clients {
		c, err := login(ctx, s.addr)
		if err != nil {
			return nil, err
		}
		clients[i] = c
		if _, err := c.CmdExpect("TYPE I", 200); err != nil {
			return nil, err
		}
		if data[i], err = c.OpenData(ctx); err != nil {
			return nil, err
		}
	}
	got := make([]int64, streams)
	errs := make([]error, streams)
	var wg sync.WaitGroup
	start := time.Now()
	for i, c := range clients {
		wg.Go(func() {
			defer data[i].Close()
			if errs[i] = c.TransferStart("RETR " + bigName); errs[i] != nil {
				return
			}
			got[i], _, errs[i] = drain(data[i], make([]byte, 1<<20), false)
			if errs[i] == nil {
				_, errs[i] = c.Expect(226)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	self1 := procstat.SelfCPU()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for i, c := range clients {
		if got[i] != bigSize {
			return nil, fmt.Errorf("download %d got %d bytes of %d", i+1, got[i], bigSize)
		}
		err := c.Quit()
		clients[i] = nil
		if err != nil {
			return nil, err
		}
	}
	if err := s.awaitQuiet(ctx); err != nil {
		return nil, err
	}
	cpu1, err := s.cpuTime()
	if err != nil {
		return nil, err
	}
	if err := s.end(ctx, profName(name, run)); err != nil {
		return nil, err
	}
	total := float64(streams) * bigSize
	m := mSingle
	if streams > 1 {
		m = mParallel
	}
	return []sample{
		{m, total / mib / elapsed.Seconds()},
		{mCPUPerGiB, (cpu1 - cpu0).Seconds() / (total / gib)},
		{mClientPerGiB, (self1 - self0).Seconds() / (total / gib)},
	}, nil
}

// sessions has sessionClients clients each run whole sessions, one after
// the other, for the session time: connect, greeting, login, SIZE of a
// small file, QUIT, close.
func (b *bench) sessions(ctx context.Context, s *server, run int) ([]sample, error) {
	if err := s.awaitQuiet(ctx); err != nil {
		return nil, err
	}
	if err := s.begin(ctx, profName("sessions", run)); err != nil {
		return nil, err
	}
	cpu0, err := s.cpuTime()
	if err != nil {
		return nil, err
	}
	want := "213 " + strconv.Itoa(64<<10)
	counts := make([]int, sessionClients)
	errs := make([]error, sessionClients)
	var wg sync.WaitGroup
	start := time.Now()
	stop := start.Add(b.sessionTime)
	for i := range sessionClients {
		wg.Go(func() {
			for time.Now().Before(stop) && ctx.Err() == nil {
				c, err := login(ctx, s.addr)
				if err != nil {
					errs[i] = err
					return
				}
				text, err := c.CmdExpect("SIZE "+smallName, 213)
				if err == nil && text != want {
					err = fmt.Errorf("SIZE: got %q, want %q", text, want)
				}
				if err == nil {
					err = c.Quit()
				}
				c.Close()
				if err != nil {
					errs[i] = err
					return
				}
				counts[i]++
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := errors.Join(append(errs, ctx.Err())...); err != nil {
		return nil, err
	}
	if err := s.awaitQuiet(ctx); err != nil {
		return nil, err
	}
	cpu1, err := s.cpuTime()
	if err != nil {
		return nil, err
	}
	if err := s.end(ctx, profName("sessions", run)); err != nil {
		return nil, err
	}
	n := 0
	for _, c := range counts {
		n += c
	}
	return []sample{
		{mSessions, float64(n) / elapsed.Seconds()},
		{mCPUPerSession, float64((cpu1 - cpu0).Microseconds()) / float64(n)},
	}, nil
}

// list times LIST of the folder of 20,000 files on an open session: from
// sending LIST, with the data connection already made, until both the end
// of the data and the 226 have arrived. The run's figure is the median of
// b.lists listings, after one that is not counted.
func (b *bench) list(ctx context.Context, s *server, run int) ([]sample, error) {
	if err := s.awaitQuiet(ctx); err != nil {
		return nil, err
	}
	c, err := login(ctx, s.addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	buf := make([]byte, 256<<10)
	ms, err := s.medianOf(ctx, profName("list", run), b.lists, func() (float64, error) {
		d, err := c.OpenData(ctx)
		if err != nil {
			return 0, err
		}
		t0 := time.Now()
		if err := c.TransferStart("LIST " + manyDir); err != nil {
			d.Close()
			return 0, err
		}
		_, lines, err := drain(d, buf, true)
		d.Close()
		if err != nil {
			return 0, err
		}
		if _, err := c.Expect(226); err != nil {
			return 0, err
		}
		dt := time.Since(t0)
		if lines != manyCount {
			return 0, fmt.Errorf("LIST %s sent %d lines, want %d", manyDir, lines, manyCount)
		}
		return float64(dt.Microseconds()) / 1000, nil
	})
	if err != nil {
		return nil, err
	}
	if err := c.Quit(); err != nil {
		return nil, err
	}
	return []sample{{mList, ms}}, nil
}

// seek times what a player does to jump into a film, on an open session
// with the data connection made: REST, RETR, and the first byte of data.
// It then checks the bytes against the file, closes the data connection
// and sends ABOR, as players do. The run's figure is the median of
// b.seeks seeks to random offsets (the same ones for both servers), after
// one that is not counted.
func (b *bench) seek(ctx context.Context, s *server, run int) ([]sample, error) {
	if err := s.awaitQuiet(ctx); err != nil {
		return nil, err
	}
	c, err := login(ctx, s.addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if _, err := c.CmdExpect("TYPE I", 200); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(uint64(run), 0x5eec))
	buf := make([]byte, 64<<10)
	want := make([]byte, len(buf))
	us, err := s.medianOf(ctx, profName("seek", run), b.seeks, func() (float64, error) {
		// Far from the end: the rest of the file must not fit in the
		// socket buffers, or the transfer could end before ABOR.
		off := rng.Int64N(bigSize - 256<<20)
		d, err := c.OpenData(ctx)
		if err != nil {
			return 0, err
		}
		t0 := time.Now()
		if _, err := c.CmdExpect("REST "+strconv.FormatInt(off, 10), 350); err != nil {
			d.Close()
			return 0, err
		}
		if err := c.TransferStart("RETR " + bigName); err != nil {
			d.Close()
			return 0, err
		}
		d.SetReadDeadline(time.Now().Add(opTimeout))
		n, err := d.Read(buf)
		dt := time.Since(t0)
		d.Close() // with data unread: a reset, as a player that seeks
		if err != nil {
			return 0, fmt.Errorf("first byte after REST %d: %w", off, err)
		}
		if _, err := b.big.ReadAt(want[:n], off); err != nil {
			return 0, err
		}
		if !bytes.Equal(buf[:n], want[:n]) {
			return 0, fmt.Errorf("RETR after REST %d sent the wrong bytes", off)
		}
		if err := c.abortAfterClose(); err != nil {
			return 0, err
		}
		return float64(dt.Nanoseconds()) / 1000, nil
	})
	if err != nil {
		return nil, err
	}
	if err := c.Quit(); err != nil {
		return nil, err
	}
	return []sample{{mSeek, us}}, nil
}

// memory measures the server's PSS at idle, then with memSessions
// sessions logged in and idle, as TVs left on a menu.
func (b *bench) memory(ctx context.Context, s *server, run int) ([]sample, error) {
	if err := s.awaitQuiet(ctx); err != nil {
		return nil, err
	}
	if err := settle(ctx); err != nil {
		return nil, err
	}
	idle, _, err := s.pss()
	if err != nil {
		return nil, err
	}
	clients := make([]*client, memSessions)
	defer closeAll(clients)
	// Logged in a few at a time, as fast as the server takes them.
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		next = make(chan int)
	)
	for range 8 {
		wg.Go(func() {
			for i := range next {
				c, err := login(ctx, s.addr)
				mu.Lock()
				clients[i] = c
				if err != nil {
					errs = append(errs, err)
				}
				mu.Unlock()
			}
		})
	}
	for i := range clients {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	// Every process forked, every buffer made.
	if err := settle(ctx); err != nil {
		return nil, err
	}
	busy, procs, err := s.pss()
	if err != nil {
		return nil, err
	}
	if err := s.heap(ctx, profName("memory", run)+".sessions.heap.pprof"); err != nil {
		return nil, err
	}
	b.logf("    %s: %d processes with %d sessions", s.Name, procs, memSessions)
	for i, c := range clients {
		err := c.Quit()
		clients[i] = nil
		if err != nil {
			return nil, err
		}
	}
	return []sample{
		{mPSSIdle, float64(idle) / mib},
		{mPSSSessions, float64(busy) / mib},
		{mPSSPerSession, float64(busy-idle) / 1024 / memSessions},
	}, nil
}

// settle waits a second before a memory figure is taken, so that what a
// server does just after the last client came or went is over.
func settle(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Second):
		return nil
	}
}

// medianOf runs round once uncounted (a warm-up), then n times inside the
// profile window name, and returns the median of the counted rounds.
func (s *server) medianOf(ctx context.Context, name string, n int, round func() (float64, error)) (float64, error) {
	if _, err := round(); err != nil {
		return 0, err
	}
	if err := s.begin(ctx, name); err != nil {
		return 0, err
	}
	times := make([]float64, 0, n)
	for range n {
		v, err := round()
		if err != nil {
			return 0, err
		}
		times = append(times, v)
	}
	if err := s.end(ctx, name); err != nil {
		return 0, err
	}
	return benchreport.Median(times), nil
}
