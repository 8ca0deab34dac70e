package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"
)

// By default the flood's guessers run in a process of their own at nice
// 19, as a guesser on another machine would: its connections and TLS
// handshakes then take the CPU the stream leaves idle, and do not share
// the stream client's Go runtime. -flood-inproc runs them as goroutines of
// the bench, at its priority, as before: that figure also measures the
// guessers' own CPU on these two CPUs.

// flooderEnv, when set in the environment, makes the bench's binary a
// flooder: it floods as its JSON value (a flooderSpec) says until its
// standard input closes, then writes its counts (flooderCounts) as JSON
// to standard output and exits.
const flooderEnv = "FTPBENCH_FLOODER"

// flooderSpec is what a flooder process floods.
type flooderSpec struct {
	Addr     string // the server's control address
	Run      int    // the flood run, which picks the addresses
	Rate     int    // guesses per second in all; 0: as fast as answered
	CertFile string // the root the TLS client trusts
}

// flooderCounts is a floodResult as a flooder process reports it.
type flooderCounts struct {
	Wrong, Locked, Conns, Errs int64
	Elapsed, LastWrong         time.Duration
}

// runFlooder is the main of a flooder process.
func runFlooder(spec string, stdin io.Reader, stdout io.Writer) int {
	var s flooderSpec
	if err := json.Unmarshal([]byte(spec), &s); err != nil {
		fmt.Fprintf(os.Stderr, "flooder: bad %s: %v\n", flooderEnv, err)
		return exitUsage
	}
	pem, err := os.ReadFile(s.CertFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "flooder:", err)
		return exitError
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		fmt.Fprintln(os.Stderr, "flooder: no certificate in", s.CertFile)
		return exitError
	}
	stop := flood(context.Background(), s.Addr, s.Run, s.Rate, roots)
	io.Copy(io.Discard, stdin)
	r := stop()
	json.NewEncoder(stdout).Encode(flooderCounts{r.wrong, r.locked, r.conns, r.errs, r.elapsed, r.lastWrong})
	return exitOK
}

// startFloodProcess starts flood run n in a flooder process at nice 19
// and returns the function that stops it and reads its counts.
func (p *ftpsBench) startFloodProcess(ctx context.Context, addr string, n int) (func() (floodResult, error), error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	spec, _ := json.Marshal(flooderSpec{Addr: addr, Run: n, Rate: p.floodRate, CertFile: p.cert.certFile})
	cmd := exec.CommandContext(ctx, "nice", "-n", "19", exe)
	cmd.Env = append(os.Environ(), flooderEnv+"="+string(spec))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	var out safeBuffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the flooder: %w", err)
	}
	return func() (floodResult, error) {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			return floodResult{}, fmt.Errorf("the flooder: %w", err)
		}
		var c flooderCounts
		if err := json.Unmarshal(out.Bytes(), &c); err != nil {
			return floodResult{}, fmt.Errorf("the flooder's counts %q: %w", out.Bytes(), err)
		}
		return floodResult{wrong: c.Wrong, locked: c.Locked, conns: c.Conns, errs: c.Errs, elapsed: c.Elapsed, lastWrong: c.LastWrong,
			cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}, nil
	}, nil
}

// safeBuffer is a byte buffer written by one goroutine and read after.
type safeBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *safeBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *safeBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf
}

// flood starts the flooders of flood run n against addr and returns the
// function that stops them and counts their answers. With rate, the
// flooders together send at most that many passwords per second.
func flood(ctx context.Context, addr string, n, rate int, roots *x509.CertPool) func() floodResult {
	fctx, cancel := context.WithCancel(ctx)
	var (
		wg                         sync.WaitGroup
		wrong, locked, conns, errs atomic.Int64
		lastWrong                  atomic.Int64 // nanoseconds from start
	)
	start := time.Now()
	conf := &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: roots, ServerName: certHost}
	var pace <-chan time.Time // nil: as fast as answered
	stopPace := func() {}
	if rate > 0 {
		t := time.NewTicker(time.Second / time.Duration(rate))
		pace, stopPace = t.C, t.Stop
	}
	for a := range floodAddrs {
		for range floodPerAddr {
			wg.Go(func() {
				for fctx.Err() == nil {
					conns.Add(1)
					if err := guess(fctx, addr, floodAddr(n, a), conf, pace, start, &wrong, &locked, &lastWrong); err != nil && fctx.Err() == nil {
						errs.Add(1)
						time.Sleep(10 * time.Millisecond) // no spinning on a refusal
					}
				}
			})
		}
	}
	return func() floodResult {
		cancel()
		elapsed := time.Since(start)
		wg.Wait()
		stopPace()
		return floodResult{wrong: wrong.Load(), locked: locked.Load(), conns: conns.Load(), errs: errs.Load(),
			elapsed: elapsed, lastWrong: time.Duration(lastWrong.Load())}
	}
}
