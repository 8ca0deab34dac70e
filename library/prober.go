package library

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"path"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mediaftpd/mediaftpd/library/probe"
	"github.com/mediaftpd/mediaftpd/library/store"
)

// Media details
//
// A Prober reads what is inside the media files of the shares (duration,
// picture size, codecs, tags: package probe) in the background and keeps it
// in the store (package store), keyed by share and path and checked
// against each file's size, modification time and inode. Front ends ask it
// (Prober.Of) for the details of the files they show; nothing is read from
// the disk then.
//
// It works through the index, never the disk's folders: after a share's
// scan it checks every video, audio and image file of the share against the
// store and probes those it has no details of (a restart with nothing
// changed probes nothing), then the folders the index reports changed. A
// probe reads a few MiB at most. The workers run at idle I/O priority on
// Linux, and while a stream is being sent (Prober.Busy) only one works,
// with pauses, so that a film on the same disk keeps its rate.

// DefaultProbeWorkers is the number of files probed at once when
// Prober.Workers is zero.
const DefaultProbeWorkers = 2

// busyPause is how long the one worker left while a stream runs waits
// between two files.
const busyPause = 200 * time.Millisecond

// Prober probes the media files of a Set and keeps their details in a
// store. Set the exported fields, then call Run once; Of and Progress may
// be called at any time.
type Prober struct {
	// Set is the shares whose files are probed; required.
	Set *Set
	// Store keeps the details; required.
	Store *store.Store
	// Workers is how many files are probed at once; zero means
	// DefaultProbeWorkers.
	Workers int
	// Busy reports whether a stream is being sent now (an FTP transfer, a
	// DLNA stream, a download from the page); while it is, probing backs
	// off to one file at a time with pauses. Nil means never.
	Busy func() bool
	// Logger receives a line when a share's details are ready, and
	// problems; nil means the Set's.
	Logger *slog.Logger

	// Progress since nothing was left to do: files checked (known, or
	// probed, or found unreadable), files to check, files probed.
	checked, total, probed atomic.Int64
	running                atomic.Bool // a pass runs
	idle                   atomic.Bool // the workers took the idle I/O class
	slow                   sync.Mutex  // held by the one worker that probes while Busy
}

// DetailsProgress is how far the details of the shares are.
type DetailsProgress struct {
	// Running is set while files are being checked or probed.
	Running bool `json:"running"`
	// Checked of Total media files of the shares being gone through have
	// been checked against the store so far; Probed of them had to be
	// read.
	Checked int64 `json:"checked"`
	Total   int64 `json:"total"`
	Probed  int64 `json:"probed"`
}

// Progress returns how far the passes under way are.
func (p *Prober) Progress() DetailsProgress {
	return DetailsProgress{
		Running: p.running.Load(),
		Checked: p.checked.Load(),
		Total:   p.total.Load(),
		Probed:  p.probed.Load(),
	}
}

// Of returns the details of the file rel of the share, whose index entry
// is e (from Entry, Children or Walk), if they are known for that version
// of the file.
func (p *Prober) Of(share, rel string, e Entry) (probe.Details, bool) {
	if !hasDetails(e) {
		return probe.Details{}, false
	}
	return p.Store.Details(share, rel, stampOf(e))
}

// OfMany is Of for many files of one share, read from the store at once:
// rels[i] is the path of the file whose entry is es[i]. It calls fn with
// the index of each file whose details are known, once each, in no set
// order; fn must not wait for anything.
func (p *Prober) OfMany(share string, rels []string, es []Entry, fn func(i int, d probe.Details)) {
	files := make([]store.Lookup, 0, len(es))
	at := make([]int, 0, len(es))
	for i, e := range es {
		if !hasDetails(e) {
			continue
		}
		files = append(files, store.Lookup{Rel: rels[i], Stamp: stampOf(e)})
		at = append(at, i)
	}
	if len(files) > 0 {
		p.Store.DetailsMany(share, files, func(j int, d probe.Details) { fn(at[j], d) })
	}
}

// hasDetails reports whether the entry e can have media details: a media
// file (MediaFiles shows it).
func hasDetails(e Entry) bool { return !e.Dir && MediaFiles.shows(e.Name) }

func stampOf(e Entry) store.Stamp {
	return store.Stamp{Size: e.Size, ModTime: e.ModTime.UnixNano(), Ino: e.Ino}
}

// job is a file to probe, for a pass that waits for it.
type job struct {
	share, rel string
	e          Entry
	done       *sync.WaitGroup
}

// Run probes until ctx is done: first every share, then what changes.
func (p *Prober) Run(ctx context.Context) error {
	w := p.Set.Watch()
	defer w.Close()
	jobs := make(chan job, 64)
	var wg sync.WaitGroup
	workers := p.Workers
	if workers <= 0 {
		workers = DefaultProbeWorkers
	}
	for range workers {
		wg.Go(func() { onOwnThread(func() { p.work(ctx, jobs) }) })
	}
	defer func() {
		close(jobs)
		wg.Wait()
	}()

	full := map[string]bool{}
	for _, name := range p.Set.Names() {
		full[name] = true
	}
	dirs := map[Change]bool{}
	for {
		p.running.Store(len(full)+len(dirs) > 0)
		for share := range full {
			delete(full, share)
			if err := p.pass(ctx, share, ".", jobs, true); err != nil {
				return nil
			}
		}
		for c := range dirs {
			delete(dirs, c)
			if err := p.pass(ctx, c.Share, c.Dir, jobs, false); err != nil {
				return nil
			}
		}
		// Nothing left to do: the progress starts afresh.
		p.running.Store(false)
		p.checked.Store(0)
		p.total.Store(0)
		p.probed.Store(0)
		select {
		case <-ctx.Done():
			return nil
		case <-w.C():
		}
		for _, c := range w.Take() {
			switch {
			case c.Share == "": // anything may have changed
				for _, name := range p.Set.Names() {
					full[name] = true
				}
			case c.Dir == ".":
				full[c.Share] = true
			default:
				dirs[c] = true
			}
		}
		for c := range dirs {
			if full[c.Share] {
				delete(dirs, c)
			}
		}
	}
}

// pass checks every media file below the folder dir of a share, probes
// those whose details are not known, and waits for them. A full pass (the
// share's own folder, after a scan) then forgets the details of files that
// are gone, and logs that the share's details are ready. It returns ctx's
// error when ctx ends; a share that is offline or not indexed yet is
// skipped (its scan's change brings it back).
func (p *Prober) pass(ctx context.Context, share, dir string, jobs chan<- job, full bool) error {
	if _, err := p.Set.Entry(share, dir, MediaFiles); err != nil {
		return nil // gone, offline, or not indexed yet
	}
	started := time.Now()
	var done sync.WaitGroup
	var checked int64
	probedBefore := p.probed.Load()
	// Folder by folder, each read from the index at once (no lock is held
	// while a job waits for a worker).
	stack := []string{dir}
	for len(stack) > 0 {
		d := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		entries, _, err := p.Set.children(share, d, MediaFiles, 0, 0, false)
		if err != nil {
			continue // removed meanwhile
		}
		for i := len(entries) - 1; i >= 0; i-- {
			if e := entries[i]; e.Dir {
				stack = append(stack, joinRel(d, e.Name))
			}
		}
		for _, e := range entries {
			if e.Dir {
				continue
			}
			rel := joinRel(d, e.Name)
			checked++
			p.total.Add(1)
			if _, ok := p.Store.Details(share, rel, stampOf(e)); ok {
				p.checked.Add(1)
				continue
			}
			done.Add(1)
			select {
			case jobs <- job{share: share, rel: rel, e: e, done: &done}:
			case <-ctx.Done():
				done.Done()
				return ctx.Err()
			}
		}
	}
	done.Wait()
	if !full {
		return nil
	}
	p.forgetGone(share)
	p.logger().Info("media details ready", "share", share, "files", checked,
		"probed", p.probed.Load()-probedBefore, "took", time.Since(started).Round(time.Millisecond))
	return nil
}

// maxForget bounds the entries one pass forgets, so that a share whose
// files all went does not hold them in memory at once; the next pass
// forgets more.
const maxForget = 10_000

// forgetGone drops the details of files of the share that the index no
// longer has. Only an online, indexed share's files are judged: the
// details of an unplugged disk stay until its files are seen gone.
func (p *Prober) forgetGone(share string) {
	var gone []string
	err := p.Store.EachDetails(share, func(rel string, _ store.Stamp) bool {
		if _, err := p.Set.Entry(share, rel, MediaFiles); errors.Is(err, fs.ErrNotExist) {
			gone = append(gone, rel)
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return false // the share went offline or away meanwhile
		}
		return len(gone) < maxForget
	})
	if err != nil {
		p.logger().Warn("cannot go through the stored details", "share", share, "err", err)
		return
	}
	for _, rel := range gone {
		if err := p.Store.ForgetDetails(share, rel); err != nil {
			p.logger().Warn("cannot forget stored details", "share", share, "path", rel, "err", err)
			return
		}
	}
}

// onOwnThread runs f on a goroutine locked to a thread of its own, never the
// process's main thread (whose priorities ps and ionice show as the
// process's, and which Go keeps rather than ends): on the main thread, it
// stays there while another goroutine, then on another thread, runs f. The
// thread is never unlocked: it ends with f's goroutine, so that what f sets
// on its thread (an I/O priority) is never lent to other goroutines.
func onOwnThread(f func()) {
	runtime.LockOSThread()
	if isMainThread() {
		done := make(chan struct{})
		go func() {
			defer close(done)
			onOwnThread(f)
		}()
		<-done
		runtime.UnlockOSThread()
		return
	}
	f()
}

// work probes the jobs, at idle I/O priority, until jobs is closed. It
// runs on a thread of its own (onOwnThread).
func (p *Prober) work(ctx context.Context, jobs <-chan job) {
	if idleIOPriority() {
		p.idle.Store(true)
	}
	for j := range jobs {
		switch {
		case ctx.Err() != nil: // drain
		case p.busy():
			// While a stream runs, one file at a time, with pauses.
			p.slow.Lock()
			p.probeOne(j)
			sleepCtx(ctx, busyPause)
			p.slow.Unlock()
		default:
			p.probeOne(j)
		}
		p.checked.Add(1)
		j.done.Done()
	}
}

func (p *Prober) busy() bool { return p.Busy != nil && p.Busy() }

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// probeOne reads the details of one file and stores them, unless the file
// changed or cannot be read now (a later pass tries again).
func (p *Prober) probeOne(j job) {
	f, fi, err := p.Set.Open(j.share, j.rel)
	if err != nil {
		return
	}
	defer f.Close()
	e := j.e
	e.Size, e.ModTime = fi.Size(), fi.ModTime()
	if id, ok := idOf(fi); ok {
		e.Ino = id.ino
	}
	if e.Size != j.e.Size || !e.ModTime.Equal(j.e.ModTime) || e.Ino != j.e.Ino {
		return // changed since the index saw it: its change comes next
	}
	d, err := probe.Probe(f, e.Size, path.Base(j.rel))
	if err != nil {
		p.logger().Debug("cannot read media details", "share", j.share, "path", j.rel, "err", err)
		return
	}
	if err := p.Store.PutDetails(j.share, j.rel, stampOf(e), d); err != nil {
		p.logger().Warn("cannot keep media details", "share", j.share, "path", j.rel, "err", err)
		return
	}
	p.probed.Add(1)
}

func (p *Prober) logger() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return p.Set.logger()
}
