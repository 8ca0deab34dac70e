package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"sync/atomic"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/procstat"
	"github.com/mediaftpd/mediaftpd/internal/rawftp"
)

// The flood workloads: does a flood of wrong passwords slow a film that
// is being streamed? Each run streams big.bin anonymously (over and over,
// on one session) for the window, once alone and once while
// floodAddrs*floodPerAddr connections from floodAddrs loopback addresses,
// new ones for each run, guess benchUser's password as fast as the server
// answers: AUTH TLS (mediaftpd refuses a named user's USER in clear),
// then USER and a wrong PASS again and again on the connection until it
// is answered 421, then a new connection. Each address gets its first
// wrong passwords checked with bcrypt (one check at a time server-wide,
// each answered after the throttle's delay) and is locked out after a
// few: from then on its guesses get 421 at once, unchecked. The flooders
// run in the bench's process, on the same CPUs as the server and the
// stream: their own CPU is reported beside the figures.

// floodResult counts the replies to the flood's guesses.
type floodResult struct {
	wrong, locked, conns, errs int64
	elapsed                    time.Duration
	lastWrong                  time.Duration // from the start to the last 530: the checking phase
	cpu                        time.Duration // the flooder process's CPU; 0 with -flood-inproc
}

// streamMetrics are the figures of one kind of stream in the flood
// workloads.
type streamMetrics struct {
	alone, with         metric // MiB/s
	cpuAlone, cpuWith   metric // the server's CPU
	selfAlone, selfWith metric // the bench's CPU
	checking, lockedOut metric // MiB/s in each phase of the flood
}

var (
	plainStreamMetrics = streamMetrics{mStreamPlain, mStreamPlainFlood, mStreamCPUPlain, mStreamCPUPlainFlood,
		mSelfCPUPlain, mSelfCPUPlainFlood, mStreamPlainChecking, mStreamPlainLocked}
	tlsStreamMetrics = streamMetrics{mStreamTLS, mStreamTLSFlood, mStreamCPUTLS, mStreamCPUTLSFlood,
		mSelfCPUTLS, mSelfCPUTLSFlood, mStreamTLSChecking, mStreamTLSLocked}
)

// flood is one run of a flood workload: the stream alone, then with the
// flood (or the other way round in odd runs, so that neither always
// comes first).
func (p *ftpsBench) flood(ctx context.Context, s *server, name string, run int, overTLS bool) ([]sample, error) {
	m := plainStreamMetrics
	if overTLS {
		m = tlsStreamMetrics
	}
	var ss []sample
	for _, withFlood := range []bool{run%2 == 1, run%2 == 0} {
		if err := s.awaitIdle(ctx); err != nil {
			return nil, err
		}
		prof := profName(name+"-alone", run)
		if withFlood {
			prof = profName(name+"-flooded", run)
		}
		if err := s.begin(ctx, prof); err != nil {
			return nil, err
		}
		cpu0, err := s.cpuTime()
		if err != nil {
			return nil, err
		}
		self0 := procstat.SelfCPU()
		var stopFlood func() (floodResult, error)
		pr := &progress{origin: time.Now()}
		if withFlood {
			p.floods++
			p.info.Flood = true
			if stopFlood, err = p.startFlood(ctx, s, p.floods); err != nil {
				return nil, err
			}
		}
		n, elapsed, err := p.stream(ctx, s, overTLS, pr)
		var fr floodResult
		if stopFlood != nil {
			var ferr error
			fr, ferr = stopFlood()
			err = errors.Join(err, ferr)
		}
		if err != nil {
			return nil, err
		}
		cpu1, err := s.cpuTime()
		if err != nil {
			return nil, err
		}
		self1 := procstat.SelfCPU()
		if err := s.end(ctx, prof); err != nil {
			return nil, err
		}
		rate := float64(n) / mib / elapsed.Seconds()
		cpu := 100 * (cpu1 - cpu0).Seconds() / elapsed.Seconds()
		self := 100 * (self1 - self0).Seconds() / elapsed.Seconds()
		if !withFlood {
			ss = append(ss, sample{m.alone, rate}, sample{m.cpuAlone, cpu}, sample{m.selfAlone, self})
			continue
		}
		if fr.wrong+fr.locked == 0 {
			return nil, fmt.Errorf("the flood got no answer in %v (%d connections, %d errors)", elapsed, fr.conns, fr.errs)
		}
		secs := fr.elapsed.Seconds()
		ss = append(ss, sample{m.with, rate}, sample{m.cpuWith, cpu}, sample{m.selfWith, self},
			sample{mFloodWrong, float64(fr.wrong) / secs}, sample{mFloodLocked, float64(fr.locked) / secs},
			sample{mFloodConns, float64(fr.conns) / secs}, sample{mFloodChecking, fr.lastWrong.Seconds()})
		if fr.cpu > 0 {
			ss = append(ss, sample{mFlooderCPU, 100 * fr.cpu.Seconds() / secs})
		}
		// The stream during the checking phase and after it, when every
		// guess is answered 421 unchecked.
		if r, ok := pr.rate(0, fr.lastWrong); ok {
			ss = append(ss, sample{m.checking, r / mib})
		}
		if r, ok := pr.rate(fr.lastWrong, fr.elapsed); ok {
			ss = append(ss, sample{m.lockedOut, r / mib})
		}
		p.logf("    flood: %d wrong passwords answered 530 (the last after %v), %d answered 421, %d connections, %d failed, in %v",
			fr.wrong, fr.lastWrong.Round(time.Millisecond), fr.locked, fr.conns, fr.errs, fr.elapsed.Round(time.Millisecond))
	}
	return ss, nil
}

// awaitIdle waits until the server has used under 2% of a CPU over
// 200 ms: after a flood, mediaftpd may still check passwords that
// flooders sent before they hung up, and that must not be counted against
// the next stream. It gives up, saying so, after idleTimeout.
func (s *server) awaitIdle(ctx context.Context) error {
	if err := s.awaitQuiet(ctx); err != nil {
		return err
	}
	const (
		interval    = 200 * time.Millisecond
		idleTimeout = 30 * time.Second
	)
	prev, err := s.cpuTime()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(idleTimeout)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
		now, err := s.cpuTime()
		if err != nil {
			return errors.Join(err, s.Exited())
		}
		if now-prev < interval/50 {
			return nil
		}
		prev = now
		if time.Now().After(deadline) {
			return fmt.Errorf("%s was still busy %v after the flood", s.Name, idleTimeout)
		}
	}
}

// startFlood starts the flooders of flood run n, in a flooder process
// unless -flood-inproc, and returns the function that stops them and
// counts their answers.
func (p *ftpsBench) startFlood(ctx context.Context, s *server, n int) (func() (floodResult, error), error) {
	if !p.floodInProc {
		return p.startFloodProcess(ctx, s.addr, n)
	}
	stop := flood(ctx, s.addr, n, p.floodRate, p.cert.roots)
	return func() (floodResult, error) { return stop(), nil }, nil
}

// guess is one flood connection: AUTH TLS, then USER and a wrong PASS
// until the server answers 421 (and ends the session) or ctx ends. A 421
// before the TLS handshake counts as a locked-out answer too. With pace,
// each guess waits for a tick of it first: the one that opens the
// connection before it connects, the others before their USER.
func guess(ctx context.Context, addr string, from netip.Addr, conf *tls.Config, pace <-chan time.Time, start time.Time, wrong, locked, lastWrong *atomic.Int64) error {
	wait := func() bool {
		if pace == nil {
			return ctx.Err() == nil
		}
		select {
		case <-pace:
			return true
		case <-ctx.Done():
			return false
		}
	}
	if !wait() {
		return nil
	}
	f, err := dialFTPS(ctx, addr, from, conf)
	if rawftp.ReplyCode(err) == 421 {
		// Refused before the TLS handshake, at the greeting or at AUTH.
		locked.Add(1)
		return nil
	}
	if err != nil {
		return err
	}
	defer context.AfterFunc(ctx, func() { f.Close() })()
	defer f.Close()
	for first := true; first || wait(); first = false {
		if _, err := f.CmdExpect("USER "+benchUser, 331); err != nil {
			return err
		}
		code, text, err := f.Cmd("PASS " + wrongPassword)
		switch {
		case err != nil:
			return err
		case code == 530:
			wrong.Add(1)
			t := int64(time.Since(start))
			for old := lastWrong.Load(); t > old && !lastWrong.CompareAndSwap(old, t); old = lastWrong.Load() {
			}
		case code == 421:
			locked.Add(1)
			return nil
		default:
			return fmt.Errorf("PASS with a wrong password: %q", text)
		}
	}
	return nil
}

// stream downloads big.bin anonymously for the window, again and again on
// one session, and returns the bytes received and the time taken, from
// the first RETR to the end of the window. The transfer running at the
// window's end is cut: data connection closed, ABOR, as a player does.
func (p *ftpsBench) stream(ctx context.Context, s *server, overTLS bool, pr *progress) (int64, time.Duration, error) {
	if overTLS {
		return p.streamTLS(ctx, s, pr)
	}
	c, err := login(ctx, s.addr)
	if err != nil {
		return 0, 0, err
	}
	defer c.Close()
	if _, err := c.CmdExpect("TYPE I", 200); err != nil {
		return 0, 0, err
	}
	buf := make([]byte, 1<<20)
	var total int64
	start := time.Now()
	end := start.Add(p.window)
	pr.add(0)
	for {
		d, err := c.OpenData(ctx)
		if err != nil {
			return total, 0, err
		}
		if err := c.TransferStart("RETR " + bigName); err != nil {
			d.Close()
			return total, 0, err
		}
		d.SetReadDeadline(end)
		n, cut, err := readUntil(d, buf, total, pr)
		d.Close()
		total += n
		if err != nil {
			return total, 0, err
		}
		if cut {
			elapsed := time.Since(start)
			if err := c.abortAfterClose(); err != nil {
				return total, 0, err
			}
			return total, elapsed, c.Quit()
		}
		if _, err := c.Expect(226); err != nil {
			return total, 0, err
		}
	}
}

// streamTLS is stream over FTPS, PROT P.
func (p *ftpsBench) streamTLS(ctx context.Context, s *server, pr *progress) (int64, time.Duration, error) {
	f, err := p.anonLogin(ctx, s, netip.Addr{})
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	if err := f.protect(); err != nil {
		return 0, 0, err
	}
	if _, err := f.CmdExpect("TYPE I", 200); err != nil {
		return 0, 0, err
	}
	buf := make([]byte, 1<<20)
	var total int64
	start := time.Now()
	end := start.Add(p.window)
	pr.add(0)
	for {
		d, err := f.OpenData(ctx)
		if err != nil {
			return total, 0, err
		}
		tc, err := f.startRetr(ctx, "RETR "+bigName, d)
		if err != nil {
			d.Close()
			return total, 0, err
		}
		tc.SetReadDeadline(end)
		n, cut, err := readUntil(tc, buf, total, pr)
		if cut {
			d.Close() // with data unread, as a player that stops
		} else {
			tc.Close()
		}
		total += n
		if err != nil {
			return total, 0, err
		}
		if cut {
			elapsed := time.Since(start)
			if err := f.Send("ABOR"); err != nil {
				return total, 0, err
			}
			if err := f.AbortReplies(); err != nil {
				return total, 0, err
			}
			return total, elapsed, f.Quit()
		}
		if _, err := f.Expect(226); err != nil {
			return total, 0, err
		}
	}
}

// readUntil reads conn to its end or to its read deadline, and reports
// whether the deadline cut it. It records the stream's progress after
// each read, counting from before, the bytes of the stream so far.
func readUntil(conn net.Conn, buf []byte, before int64, pr *progress) (n int64, cut bool, err error) {
	for {
		k, err := conn.Read(buf)
		n += int64(k)
		pr.add(before + n)
		var ne net.Error
		switch {
		case err == nil:
		case errors.Is(err, io.EOF):
			return n, false, nil
		case errors.As(err, &ne) && ne.Timeout():
			return n, true, nil
		default:
			return n, false, err
		}
	}
}

// progress records how many bytes a stream had received when, from an
// origin: the start of the flood, or of the stream alone.
type progress struct {
	origin time.Time
	at     []time.Duration
	bytes  []int64
}

// add records that n bytes had arrived by now.
func (p *progress) add(n int64) {
	p.at = append(p.at, time.Since(p.origin))
	p.bytes = append(p.bytes, n)
}

// minPhase is the shortest part of a stream whose rate is reported.
const minPhase = 500 * time.Millisecond

// rate returns the stream's rate in bytes per second between from and to
// (after the origin), clipped to the stream's first and last records,
// with the bytes at each end interpolated between records. ok is false
// if less than minPhase is left.
func (p *progress) rate(from, to time.Duration) (r float64, ok bool) {
	if len(p.at) < 2 {
		return 0, false
	}
	from, to = max(from, p.at[0]), min(to, p.at[len(p.at)-1])
	if to-from < minPhase {
		return 0, false
	}
	return (p.bytesAt(to) - p.bytesAt(from)) / (to - from).Seconds(), true
}

// bytesAt interpolates the bytes received at t, within the records.
func (p *progress) bytesAt(t time.Duration) float64 {
	i, _ := slices.BinarySearch(p.at, t)
	if i == 0 {
		return float64(p.bytes[0])
	}
	if i == len(p.at) {
		return float64(p.bytes[len(p.bytes)-1])
	}
	t0, t1 := p.at[i-1], p.at[i]
	b0, b1 := float64(p.bytes[i-1]), float64(p.bytes[i])
	if t1 == t0 {
		return b1
	}
	return b0 + (b1-b0)*float64(t-t0)/float64(t1-t0)
}
