package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Figures 1 and 2: the library of o.files music files, shared as "music".

const (
	mib         = 1 << 20
	msgReady    = "media details ready"
	msgIndexed  = "share indexed"
	libraryName = "music"
	pssSamples  = 3
	pssGap      = 500 * time.Millisecond
	restartWait = 5 * time.Minute // for a restart's details; the target is 2 s
)

// restartAndMemory probes the library from an empty state folder o.runs
// times, then restarts mediaftpd on the last one's folder o.runs times,
// each time also running it once with no state folder (details off),
// alternating which comes first.
func (b *bench) restartAndMemory(ctx context.Context, dir string) error {
	share := libraryName + "=" + dir
	state := filepath.Join(b.work, "state-library")
	for i := range b.o.runs {
		if err := b.firstProbing(ctx, i, state, share); err != nil {
			return err
		}
	}

	for i := range b.o.runs {
		order := []bool{true, false}
		if i%2 == 1 {
			order = []bool{false, true}
		}
		var on, off rollup
		for _, details := range order {
			var err error
			if details {
				on, err = b.restart(ctx, i, state, share)
			} else {
				off, err = b.detailsOff(ctx, i, share)
			}
			if err != nil {
				return err
			}
		}
		n := float64(b.o.files)
		b.res.add(mPSSPerFile, float64(on.PSS-off.PSS)/n)
		b.res.add(mAnonPerFile, float64(on.Anon-off.Anon)/n)
		b.res.add(mFilePerFile, float64(on.File-off.File)/n)
	}
	if b.o.settle == 0 {
		b.note("PSS was read at once after the work, without waiting for mediaftpd's idle reclaim (-settle 0): figure 2 is not the reference.")
	}
	return nil
}

// firstProbing starts mediaftpd on an empty state folder and waits until
// it has probed the library.
func (b *bench) firstProbing(ctx context.Context, run int, state, share string) error {
	if err := os.RemoveAll(state); err != nil {
		return err
	}
	b.logf("figure 1: first probing %d of %d files", run+1, b.o.files)
	s, err := b.start(state, share)
	if err != nil {
		return err
	}
	// The ready line after the share's scan (a pass that finds the share
	// not indexed yet logs nothing).
	if _, err := s.awaitMsg(ctx, restartWait, msgIndexed, libraryName); err != nil {
		b.stop(s)
		return err
	}
	ready, err := s.awaitMsg(ctx, b.o.readyLimit, msgReady, libraryName)
	if err != nil {
		b.stop(s)
		return err
	}
	files, probed, took := ready.int("files"), ready.int("probed"), ready.duration("took")
	if files != int64(b.o.files) || probed != files {
		b.note("First probing %d checked %d files and probed %d of them; the library has %d.", run+1, files, probed, b.o.files)
	}
	b.res.add(mFirstReady, s.sinceStart(ready).Seconds())
	if took > 0 {
		b.res.add(mFirstRate, float64(probed)/took.Seconds())
	}
	b.logf("figure 1: first probing %d: ready %v after the start; %s", run+1, s.sinceStart(ready).Round(time.Millisecond), ready.text)
	r, err := settledPSS(ctx, s, ready.time, b.o.settle, pssSamples, pssGap)
	if err != nil {
		b.stop(s)
		return err
	}
	b.res.add(mFirstPSS, float64(r.PSS)/mib)
	if err := b.stop(s); err != nil {
		return err
	}
	size, err := storeSize(state)
	if err != nil {
		return err
	}
	b.res.add(mStoreFirst, float64(size)/float64(b.o.files))
	b.logf("figure 1: store %d bytes after first probing %d", size, run+1)
	return nil
}

// restart starts mediaftpd on the state folder of a probed library and
// takes figure 1's restart and figure 2's "details on".
func (b *bench) restart(ctx context.Context, run int, state, share string) (rollup, error) {
	s, err := b.start(state, share)
	if err != nil {
		return rollup{}, err
	}
	indexed, err := s.awaitMsg(ctx, restartWait, msgIndexed, libraryName)
	if err != nil {
		b.stop(s)
		return rollup{}, err
	}
	ready, err := s.awaitMsg(ctx, restartWait, msgReady, libraryName)
	if err != nil {
		b.stop(s)
		return rollup{}, err
	}
	if p := ready.int("probed"); p != 0 {
		b.note("Restart %d probed %d files (want none): %s", run+1, p, ready.text)
	}
	b.res.add(mRestartReady, s.sinceStart(ready).Seconds())
	b.res.add(mRestartIndexed, s.sinceStart(indexed).Seconds())
	if took := ready.duration("took"); took >= 0 {
		b.res.add(mRestartPass, took.Seconds())
	}
	b.logf("figure 1: restart %d: ready %v after the start (indexed at %v)", run+1,
		s.sinceStart(ready).Round(time.Millisecond), s.sinceStart(indexed).Round(time.Millisecond))
	r, err := settledPSS(ctx, s, ready.time, b.o.settle, pssSamples, pssGap)
	if err != nil {
		b.stop(s)
		return r, err
	}
	st, err := s.status(ctx)
	if err != nil {
		b.stop(s)
		return r, err
	}
	b.res.add(mPSSOn, float64(r.PSS)/mib)
	b.res.add(mAnonOn, float64(r.Anon)/mib)
	b.res.add(mFileOn, float64(r.File)/mib)
	b.res.add(mStoreMap, float64(r.Store)/mib)
	b.res.add(mHeapOn, float64(st.Process.HeapBytes)/mib)
	b.logf("figure 2: details on, run %d: PSS %.2f MiB (anonymous %.2f, file %.2f, of which the store's map %.2f)", run+1,
		float64(r.PSS)/mib, float64(r.Anon)/mib, float64(r.File)/mib, float64(r.Store)/mib)
	if err := b.stop(s); err != nil {
		return r, err
	}
	size, err := storeSize(state)
	if err != nil {
		return r, err
	}
	b.res.add(mStoreAfter, float64(size)/float64(b.o.files))
	return r, nil
}

// detailsOff starts mediaftpd on the library with no state folder and
// takes figure 2's "details off".
func (b *bench) detailsOff(ctx context.Context, run int, share string) (rollup, error) {
	s, err := b.start("", share)
	if err != nil {
		return rollup{}, err
	}
	if _, err := s.awaitLine(ctx, time.Minute, `"no state folder ..."`, func(l logLine) bool {
		return strings.HasPrefix(l.attrs["msg"], "no state folder")
	}); err != nil {
		b.stop(s)
		return rollup{}, err
	}
	indexed, err := s.awaitMsg(ctx, restartWait, msgIndexed, libraryName)
	if err != nil {
		b.stop(s)
		return rollup{}, err
	}
	r, err := settledPSS(ctx, s, indexed.time, b.o.settle, pssSamples, pssGap)
	if err != nil {
		b.stop(s)
		return r, err
	}
	st, err := s.status(ctx)
	if err != nil {
		b.stop(s)
		return r, err
	}
	b.res.add(mPSSOff, float64(r.PSS)/mib)
	b.res.add(mAnonOff, float64(r.Anon)/mib)
	b.res.add(mFileOff, float64(r.File)/mib)
	b.res.add(mHeapOff, float64(st.Process.HeapBytes)/mib)
	b.logf("figure 2: details off, run %d: PSS %.2f MiB (anonymous %.2f, file %.2f)", run+1,
		float64(r.PSS)/mib, float64(r.Anon)/mib, float64(r.File)/mib)
	return r, b.stop(s)
}
