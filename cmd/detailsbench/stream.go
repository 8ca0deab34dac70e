package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/benchreport"
	"github.com/mediaftpd/mediaftpd/internal/procstat"
)

// Figure 3: a film streamed at a paced rate while o.fresh new files are
// probed ("probing": an empty state folder, so the prober starts on them
// as soon as the share is indexed), against the same with their details
// already known ("known": the state folder of an earlier run that probed
// them all, so nothing is probed). In each run a second session seeks
// during the stream, gap apart; then, with the stream over, it seeks
// o.seeks times back to back: the prober then works at full speed (it
// backs off only while a file is being sent).

const (
	freshName = "fresh"
	filmsName = "films"
)

// streamWhileProbing takes figure 3.
func (b *bench) streamWhileProbing(ctx context.Context, fresh, films string) error {
	shares := []string{freshName + "=" + fresh, filmsName + "=" + films}
	want, err := os.Open(filepath.Join(films, bigName))
	if err != nil {
		return err
	}
	defer want.Close()

	known := filepath.Join(b.work, "state-known")
	b.logf("figure 3: probing the %d files once, for the runs with details known", b.o.fresh)
	s, err := b.start(known, shares...)
	if err != nil {
		return err
	}
	if _, err := s.awaitMsg(ctx, b.o.readyLimit, msgReady, freshName); err != nil {
		b.stop(s)
		return err
	}
	if err := b.stop(s); err != nil {
		return err
	}

	l, cpu0 := procstat.TakeLoad(), b.serverCPU
	for i := range b.o.runs {
		order := []bool{true, false}
		if i%2 == 1 {
			order = []bool{false, true}
		}
		for _, probing := range order {
			if err := b.streamRun(ctx, i, probing, shares, known, want); err != nil {
				return err
			}
		}
	}
	b.streamLoad = max(0, l.Others(b.serverCPU-cpu0))
	return nil
}

// streamRun is one run of one condition of figure 3.
func (b *bench) streamRun(ctx context.Context, run int, probing bool, shares []string, known string, want *os.File) error {
	o := b.o
	cond, state := "details known", known
	if probing {
		cond, state = "probing", filepath.Join(b.work, fmt.Sprintf("state-fresh-%d", run+1))
		if err := os.RemoveAll(state); err != nil {
			return err
		}
	}
	s, err := b.start(state, shares...)
	if err != nil {
		return err
	}
	fail := func(err error) error {
		b.stop(s)
		return fmt.Errorf("figure 3, run %d, %s: %w", run+1, cond, err)
	}
	if probing {
		_, err = s.awaitMsg(ctx, restartWait, msgIndexed, freshName)
	} else {
		var ready logLine
		ready, err = s.awaitMsg(ctx, restartWait, msgReady, freshName)
		if err == nil && ready.int("probed") != 0 {
			b.note("Figure 3, run %d, details known: %d files were probed before the stream: %s", run+1, ready.int("probed"), ready.text)
		}
	}
	if err != nil {
		return fail(err)
	}
	if err := s.awaitFTP(ctx); err != nil {
		return fail(err)
	}
	sk, err := newSeeker(ctx, s.addr, want, o.bigSize, uint64(run))
	if err != nil {
		return fail(err)
	}
	stop, done := make(chan struct{}), make(chan struct{})
	var (
		during  []time.Duration
		seekErr error
	)
	go func() {
		defer close(done)
		during, seekErr = sk.seekUntil(ctx, stop, o.seekGap)
	}()
	window := time.Second
	if o.streamFor < 4*time.Second {
		window = o.streamFor / 4
	}
	// The count of files probed when the stream's transfer has begun:
	// until then the prober works at full speed.
	var (
		before      status
		beforeErr   error
		streamStart time.Time
	)
	res, err := stream(ctx, s.addr, want, o.rate, o.streamFor, window, func() {
		before, beforeErr = s.status(ctx)
		streamStart = time.Now()
	})
	close(stop)
	<-done
	if err != nil {
		return fail(err)
	}
	if err := errors.Join(seekErr, beforeErr); err != nil {
		return fail(err)
	}
	streamEnd := time.Now()
	after, err := s.status(ctx)
	if err != nil {
		return fail(err)
	}
	idle, err := sk.seekN(ctx, o.seeks)
	if err != nil {
		return fail(err)
	}
	seeksEnd := time.Now()
	if err := sk.close(); err != nil {
		return fail(err)
	}
	if len(during) == 0 {
		return fail(fmt.Errorf("no seek ended during the %v stream", o.streamFor))
	}

	mRate, mSlow, mStall, mSeek, mIdle := mRateKnown, mSlowKnown, mStallKnown, mSeekKnown, mIdleKnown
	if probing {
		mRate, mSlow, mStall, mSeek, mIdle = mRateProbing, mSlowProbing, mStallProbing, mSeekProbing, mIdleProbing
		ready, err := s.awaitMsg(ctx, b.o.readyLimit, msgReady, freshName)
		if err != nil {
			return fail(err)
		}
		if took := ready.duration("took"); took >= 0 {
			b.res.add(mFreshReady, took.Seconds())
		}
		b.res.add(mFreshAfter, ready.time.Sub(streamEnd).Seconds())
		// The log's time has milliseconds: a line of the same
		// millisecond as a moment counts as before it.
		switch at := ready.time.Add(time.Millisecond); {
		case at.Before(streamStart):
			b.note("Figure 3, run %d: probing had ended before the stream began: it measured nothing.", run+1)
		case at.Before(streamEnd):
			b.note("Figure 3, run %d: probing ended %v into the %v stream.", run+1, ready.time.Sub(streamStart).Round(time.Millisecond), o.streamFor)
		case at.Before(seeksEnd):
			b.note("Figure 3, run %d: probing ended during the %d seeks with no stream (%v into %v of them).", run+1, o.seeks,
				ready.time.Sub(streamEnd).Round(time.Millisecond), seeksEnd.Sub(streamEnd).Round(time.Millisecond))
		}
		if before.Details.Enabled {
			b.res.add(mProbedDuring, float64(after.Details.Probed-before.Details.Probed))
			b.logf("figure 3, run %d: %d files probed when the stream began, %d when it ended", run+1, before.Details.Probed, after.Details.Probed)
		}
		b.logf("figure 3, run %d: details ready %v after the stream ended (the seeks after it took %v): %s", run+1,
			ready.time.Sub(streamEnd).Round(time.Millisecond), seeksEnd.Sub(streamEnd).Round(time.Millisecond), ready.text)
	}
	b.res.add(mRate, res.rate/1e6)
	if res.slowest >= 0 {
		b.res.add(mSlow, res.slowest/1e6)
	}
	b.res.add(mStall, float64(res.stall.Microseconds())/1000)
	b.res.add(mSeek, medianMicros(during))
	b.res.add(mIdle, medianMicros(idle))
	b.logf("figure 3, run %d, %s: stream %.2f MB/s (slowest window %.2f), %d seeks during it, median %.0f µs; %d seeks after, median %.0f µs",
		run+1, cond, res.rate/1e6, res.slowest/1e6, len(during), medianMicros(during), len(idle), medianMicros(idle))
	return b.stop(s)
}

// medianMicros returns the median of ds in microseconds.
func medianMicros(ds []time.Duration) float64 {
	vs := make([]float64, len(ds))
	for i, d := range ds {
		vs[i] = float64(d.Nanoseconds()) / 1000
	}
	return benchreport.Median(vs)
}
