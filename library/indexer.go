package library

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// maxPending bounds the changed paths waiting to settle. Past it the
// pending changes are dropped for one rescan of the share, so a flood of
// changes costs bounded memory.
const maxPending = 50_000

// progressEvery is how often subscribers hear of a running scan.
const progressEvery = 500 * time.Millisecond

// pendingEntry is a changed path waiting to settle.
type pendingEntry struct {
	due time.Time // when it is looked at, unless it changes again
	seq uint64    // order of the last change, to apply changes in order
	// hasSnap is set for a file that a scan found still being written:
	// it is indexed once its size and time match the snapshot at due.
	hasSnap     bool
	size, mtime int64
}

// indexer keeps the index of one share: it scans the folder, watches it
// (or rescans it) and updates the index as files settle. Its methods run
// on one goroutine, which owns every field but limitHit; what others may
// see goes out through publish.
//
// The logic that turns events into index updates (event, flush, reconcile)
// takes the current time as an argument and reads the disk only through
// the share's root, so tests drive it with events of their own.
//
// No file descriptor on the share's file system is held between uses, so
// that an idle disk can be unmounted (umount fails with EBUSY while a
// folder on it is open; inotify watches do not hinder it). A root is
// opened for a full scan, for a batch of changes and for new folders, and
// closed after each; the folder is told from a replacement (a disk
// plugged in again, a folder made anew) by its device and inode.
type indexer struct {
	set *Set
	sh  *share

	settle       time.Duration
	offlineCheck time.Duration
	fallback     time.Duration
	recentMax    int
	maxPending   int
	rescanEvery  time.Duration // the share's SetRescanInterval
	newSource    sourceFunc

	ctx  context.Context
	id   fileID      // the share folder being indexed
	root *os.Root    // open while withRoot runs, nil otherwise
	src  eventSource // nil unless the share is watched
	ix   *index      // nil until the first scan is done

	// poll, when positive, is how often the share is rescanned because it
	// is not watched; pollReason says why.
	poll       time.Duration
	pollReason string

	pending  map[string]*pendingEntry
	seq      uint64
	earliest time.Time // no pending entry is due before this

	scan     *fullScan   // the running full scan, or nil
	rescan   string      // why another full scan must follow the running one
	renew    bool        // the next full scan starts with fresh watches
	limitHit atomic.Bool // a watch failed for the system's watch limit

	state  State
	reason string
	dirty  bool // published state is out of date
	lost   bool // the index was dropped since the last publish
}

// fullScan is a scan of the whole share running in its own goroutine.
type fullScan struct {
	cancel   context.CancelFunc
	done     chan scanResult
	progress progress
	why      string
	started  time.Time
}

// scanResult is what a full scan found.
type scanResult struct {
	tree    *dirNode
	visited map[fileID]*dirNode
	fresh   []freshFile
	err     error // the share folder could not be read
}

// newIndexer returns the indexer of sh; a positive rescan interval means
// rescanning instead of watching.
func newIndexer(s *Set, sh *share, rescan time.Duration) *indexer {
	x := &indexer{
		rescanEvery:  rescan,
		set:          s,
		sh:           sh,
		settle:       orDefault(s.Settle, DefaultSettle),
		offlineCheck: orDefault(s.OfflineCheck, DefaultOfflineCheck),
		fallback:     orDefault(s.FallbackRescan, DefaultFallbackRescan),
		recentMax:    orDefault(s.RecentMax, DefaultRecentMax),
		maxPending:   maxPending,
		newSource:    s.newSource,
		ctx:          context.Background(),
		pending:      make(map[string]*pendingEntry),
	}
	if x.newSource == nil {
		x.newSource = newFSNotifySource
	}
	return x
}

func orDefault[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// run indexes the share until ctx is done: online while its folder is
// there, offline (checking every offlineCheck) while it is not.
func (x *indexer) run(ctx context.Context) {
	x.ctx = ctx
	defer func() {
		x.teardown()
		x.setState(StateIdle, "stopped")
		x.publish()
	}()
	wasOffline := false
	for {
		id, err := x.reach()
		if err == nil {
			if wasOffline {
				x.logger().Info("share folder is back")
			}
			err = x.online(ctx, id)
			x.teardown()
		}
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, errReplaced) {
			x.logger().Info("share folder was replaced; indexing it again")
			continue
		}
		if !wasOffline || x.reason != offlineReason(err) {
			x.logger().Warn("share is offline", "reason", offlineReason(err))
		}
		wasOffline = true
		x.setState(StateOffline, offlineReason(err))
		x.publish()
		select {
		case <-ctx.Done():
			return
		case <-time.After(x.offlineCheck):
		}
	}
}

// offlineReason says in a few words why a share's folder is unusable.
func offlineReason(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "folder missing"
	case errors.Is(err, syscall.ENOTDIR):
		return "not a folder"
	}
	return err.Error()
}

// online indexes the share folder whose identity is id until ctx is done
// or the folder goes away or is replaced, which it returns as an error.
func (x *indexer) online(ctx context.Context, id fileID) error {
	x.id = id
	x.poll, x.pollReason = 0, ""
	x.limitHit.Store(false)
	if x.rescanEvery > 0 {
		x.poll = x.rescanEvery
		x.pollReason = fmt.Sprintf("rescan_interval is set: rescanning every %v", x.poll)
	} else if src, err := x.newSource(x.sh.Path); err != nil {
		x.cannotWatch(err)
	} else {
		x.src = src
	}
	x.startScan("first scan")

	check := time.NewTicker(x.offlineCheck)
	defer check.Stop()
	tick := time.NewTicker(progressEvery)
	defer tick.Stop()
	debounce := time.NewTimer(time.Hour)
	debounce.Stop()
	defer debounce.Stop()
	var armed time.Time
	pollTimer := time.NewTimer(time.Hour)
	pollTimer.Stop()
	defer pollTimer.Stop()
	pollArmed := false

	for {
		var (
			events   <-chan fsnotify.Event
			errs     <-chan error
			scanDone <-chan scanResult
			progress <-chan time.Time
		)
		if x.src != nil {
			events, errs = x.src.Events(), x.src.Errors()
		}
		if x.scan != nil {
			scanDone, progress = x.scan.done, tick.C
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev, ok := <-events:
			if !ok {
				x.cannotWatch(errors.New("the watcher stopped"))
				break
			}
			if x.event(ev, time.Now()) {
				if err := x.checkRoot(); err != nil {
					return err
				}
			}
		case err, ok := <-errs:
			if !ok {
				x.cannotWatch(errors.New("the watcher stopped"))
				break
			}
			x.sourceError(err)
		case res := <-scanDone:
			if err := x.finishScan(res, time.Now()); err != nil {
				return err
			}
		case <-progress:
			x.set.notify()
		case <-debounce.C:
			armed = time.Time{}
			// Events that came meanwhile, unread as the goroutine was
			// busy, may show that a path is not quiet after all.
			for drained := false; !drained && events != nil; {
				select {
				case ev, ok := <-events:
					if !ok {
						drained = true
					} else if x.event(ev, time.Now()) {
						if err := x.checkRoot(); err != nil {
							return err
						}
					}
				default:
					drained = true
				}
			}
			if err := x.flush(time.Now()); err != nil {
				return err
			}
		case <-check.C:
			if err := x.checkRoot(); err != nil {
				return err
			}
		case <-pollTimer.C:
			pollArmed = false
			x.requestRescan("periodic rescan")
		}
		// The next rescan of an unwatched share is due an interval after
		// the last one ended.
		if x.poll > 0 && x.scan == nil && !pollArmed {
			pollTimer.Reset(x.poll)
			pollArmed = true
		}
		// Wake for the earliest pending change, unless a scan holds them.
		if len(x.pending) > 0 && x.scan == nil {
			if armed.IsZero() || x.earliest.Before(armed) {
				armed = x.earliest
				debounce.Reset(time.Until(armed))
			}
		}
		if x.dirty {
			x.publish()
		}
	}
}

// checkRoot reports whether the share's folder is still the one indexed.
// It opens nothing: after an unmount the folder at the path is the mount
// point's, another one, and the index must follow it.
func (x *indexer) checkRoot() error {
	id, err := x.sh.identify()
	if err != nil {
		return err
	}
	if id != x.id {
		return errReplaced
	}
	return nil
}

// reach returns the identity of the share folder after checking that it
// can be opened, so an unreadable folder stays offline. Nothing is left
// open.
func (x *indexer) reach() (fileID, error) {
	r, err := x.sh.open()
	if err != nil {
		return fileID{}, err
	}
	defer r.Close()
	fi, err := r.Stat(".")
	if err != nil {
		return fileID{}, fmt.Errorf("%w: %w", ErrOffline, err)
	}
	id, ok := idOf(fi)
	if !ok {
		return fileID{}, fmt.Errorf("%w: %s: no device and inode numbers", ErrOffline, x.sh.Path)
	}
	return id, nil
}

// openRoot opens a root of the share folder, which the caller closes. It
// fails when the folder is gone or is not the one indexed. It reads only
// fields that do not change while a scan runs, so scans call it too.
func (x *indexer) openRoot() (*os.Root, error) {
	r, err := x.sh.open()
	if err != nil {
		return nil, err
	}
	fi, err := r.Stat(".")
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("%w: %w", ErrOffline, err)
	}
	if id, ok := idOf(fi); !ok || id != x.id {
		r.Close()
		return nil, errReplaced
	}
	return r, nil
}

// withRoot runs fn with x.root open on the share folder and closes it
// afterwards. Called while it runs, it runs fn with the root already open.
// It returns, without running fn, what openRoot returns.
func (x *indexer) withRoot(fn func()) error {
	if x.root != nil {
		fn()
		return nil
	}
	r, err := x.openRoot()
	if err != nil {
		return err
	}
	x.root = r
	defer func() {
		x.root = nil
		r.Close()
	}()
	fn()
	return nil
}

// teardown stops the running scan and the watches and forgets the index.
func (x *indexer) teardown() {
	if x.scan != nil {
		x.scan.cancel()
		<-x.scan.done
		x.scan = nil
	}
	x.closeSource()
	if x.ix != nil {
		x.setIndex(nil)
	}
	x.rescan, x.renew = "", false
	clear(x.pending)
	x.dirty = true
}

func (x *indexer) closeSource() {
	if x.src != nil {
		x.src.Close()
		x.src = nil
	}
}

// cannotWatch switches the share to rescans because err keeps it from
// being watched.
func (x *indexer) cannotWatch(err error) {
	x.closeSource()
	x.poll = x.fallback
	switch {
	case errors.Is(err, syscall.ENOSPC):
		x.pollReason = fmt.Sprintf("inotify watch limit reached: rescanning every %v", x.poll)
		x.set.logWatchLimit(x.logger(), "fs.inotify.max_user_watches", x.poll)
	case errors.Is(err, syscall.EMFILE):
		x.pollReason = fmt.Sprintf("inotify instance limit reached: rescanning every %v", x.poll)
		x.set.logWatchLimit(x.logger(), "fs.inotify.max_user_instances", x.poll)
	default:
		x.pollReason = fmt.Sprintf("cannot watch (%v): rescanning every %v", err, x.poll)
		x.logger().Warn("cannot watch the share folder; rescanning it periodically instead", "err", err, "every", x.poll)
	}
	if x.scan == nil && x.ix != nil {
		x.setState(StatePolling, x.pollReason)
	}
}

// sourceError handles an error from the event source.
func (x *indexer) sourceError(err error) {
	if errors.Is(err, fsnotify.ErrEventOverflow) {
		x.logger().Warn("too many changes at once: the event queue overflowed; rescanning the share")
		// The lost events may have been folder renames, which leave
		// fsnotify naming watches by the old paths: start afresh.
		x.renew = true
		x.requestRescan("event queue overflowed")
		return
	}
	x.logger().Warn("watching the share folder", "err", err)
}

// requestRescan starts a full scan, or queues one after the running one.
func (x *indexer) requestRescan(why string) {
	if x.scan != nil {
		x.rescan = why
		return
	}
	x.startScan(why)
}

// startScan starts a full scan of the share in another goroutine. Until it
// ends, settled changes are held, to be applied to its result.
func (x *indexer) startScan(why string) {
	if x.renew && x.src != nil {
		x.closeSource()
		if src, err := x.newSource(x.sh.Path); err != nil {
			x.cannotWatch(err)
		} else {
			x.src = src
		}
	}
	x.renew = false
	ctx, cancel := context.WithCancel(x.ctx)
	sc := &fullScan{cancel: cancel, done: make(chan scanResult, 1), why: why, started: time.Now()}
	x.scan = sc
	src := x.src
	go func() {
		defer cancel()
		sc.done <- x.scanAll(ctx, src, &sc.progress, time.Now())
	}()
	if x.ix == nil || x.poll == 0 {
		x.setState(StateScanning, why)
	}
	x.sh.setProgress(&sc.progress)
	x.dirty = true
}

// scanAll scans the whole share, watching each folder through src (if not
// nil) before reading it, through a root of its own that it closes when
// done. It runs in its own goroutine and touches none of x's fields but
// the read-only ones and limitHit.
func (x *indexer) scanAll(ctx context.Context, src eventSource, p *progress, now time.Time) scanResult {
	root, err := x.openRoot()
	if err != nil {
		return scanResult{err: err}
	}
	defer root.Close()
	sc := x.scanner(ctx, root, src, now, 0)
	sc.progress = p
	sc.visited = make(map[fileID]*dirNode)
	tree, err := sc.scanTree(".", "")
	if sc.err != nil {
		x.logger().Debug("part of the share could not be read", "err", sc.err)
	}
	return scanResult{tree: tree, visited: sc.visited, fresh: sc.fresh, err: err}
}

// scanner returns a scanner of the share, reading through root, that
// watches through src, if not nil. Files modified within the settle time
// before now are left to settle.
func (x *indexer) scanner(ctx context.Context, root *os.Root, src eventSource, now time.Time, added int64) *scanner {
	sc := &scanner{ctx: ctx, root: root, freshAfter: now.Add(-x.settle).UnixNano(), now: added}
	if src != nil {
		sc.watch = func(rel string) error {
			if x.limitHit.Load() {
				return nil
			}
			err := src.Add(rel)
			if errors.Is(err, syscall.ENOSPC) {
				x.limitHit.Store(true)
			}
			return err
		}
	}
	return sc
}

// finishScan installs the result of a full scan. An error means the share
// folder could not be read.
func (x *indexer) finishScan(res scanResult, now time.Time) error {
	scan := x.scan
	x.scan = nil
	x.sh.setProgress(nil)
	x.dirty = true
	if res.err != nil {
		if x.ctx.Err() != nil {
			return x.ctx.Err()
		}
		if err := x.checkRoot(); err != nil {
			return err
		}
		if errors.Is(res.err, ErrOffline) || errors.Is(res.err, errReplaced) {
			return res.err // the scan could not open the folder
		}
		return fmt.Errorf("%w: cannot read folder: %w", ErrOffline, res.err)
	}
	if x.ix != nil {
		carryOver(x.ix.root, res.tree, now.UnixNano())
	}
	// Periodic rescans are routine; other scans are news to the admin.
	level := slog.LevelInfo
	if x.ix != nil && x.poll > 0 {
		level = slog.LevelDebug
	}
	ix := newIndex(&x.sh.treeMu, res.tree, res.visited, x.recentMax)
	var prev *dirNode
	if x.ix != nil {
		prev = x.ix.root
	}
	diffTree(prev, res.tree, ".", ix.changed)
	x.setIndex(ix)
	c := x.ix.counts
	x.logger().Log(x.ctx, level, "share indexed", "why", scan.why, "files", c.files, "folders", c.dirs, "bytes", c.bytes,
		"took", time.Since(scan.started).Round(time.Millisecond))
	if err := x.settleFresh(res.fresh, now); err != nil {
		return err
	}
	if x.limitHit.Load() && x.src != nil {
		x.cannotWatch(syscall.ENOSPC)
	}
	if x.poll > 0 {
		x.setState(StatePolling, x.pollReason)
	} else {
		x.setState(StateWatching, "")
	}
	if why := x.rescan; why != "" {
		x.rescan = ""
		x.startScan(why)
		return nil
	}
	return x.flush(now)
}

// event takes one change from the event source. It reports whether the
// share folder itself was removed or renamed, which the caller checks at
// once.
func (x *indexer) event(ev fsnotify.Event, now time.Time) (rootChanged bool) {
	if ev.Name == "." {
		return ev.Has(fsnotify.Remove | fsnotify.Rename)
	}
	// Chmod is ignored: it changes nothing that is indexed.
	if !ev.Has(fsnotify.Create|fsnotify.Write|fsnotify.Remove|fsnotify.Rename) || !VisiblePath(ev.Name) {
		return false
	}
	x.touch(ev.Name, now.Add(x.settle))
	return false
}

// touch makes the path rel pending, due at the given time, replacing
// what was pending for it.
func (x *indexer) touch(rel string, due time.Time) *pendingEntry {
	e := x.pending[rel]
	if e == nil {
		if len(x.pending) >= x.maxPending {
			x.logger().Warn("too many changes at once; rescanning the share", "pending", len(x.pending))
			clear(x.pending)
			x.requestRescan("too many changes at once")
			return nil
		}
		e = &pendingEntry{}
		x.pending[rel] = e
	}
	x.seq++
	*e = pendingEntry{due: due, seq: x.seq}
	if x.earliest.IsZero() || due.Before(x.earliest) {
		x.earliest = due
	}
	return e
}

// settleFresh makes the files that a scan found still being written
// pending (see touchFresh). Past maxPending, they are indexed at once,
// which needs the share folder open; an error means it could not be.
func (x *indexer) settleFresh(fresh []freshFile, now time.Time) error {
	settle := func() {
		for _, f := range fresh {
			if len(x.pending) < x.maxPending || x.pending[f.rel] != nil {
				x.touchFresh(f, now)
			} else if x.reconcile(f.rel, nil, now) {
				x.dirty = true
			}
		}
	}
	if len(x.pending)+len(fresh) <= x.maxPending {
		settle() // all made pending: nothing is read
		return nil
	}
	return x.withRoot(settle)
}

// touchFresh makes a file that is still being written pending: it is due
// a settle time after its last modification, and is indexed then if it
// has not changed since.
func (x *indexer) touchFresh(f freshFile, now time.Time) {
	due := time.Unix(0, f.mtime).Add(x.settle)
	if due.Before(now) {
		due = now
	} else if latest := now.Add(x.settle); due.After(latest) {
		due = latest // a clock ahead of ours, as on some network mounts
	}
	if e := x.touch(f.rel, due); e != nil {
		e.hasSnap, e.size, e.mtime = true, f.size, f.mtime
	}
}

// flush applies every pending change that is due at now, in the order they
// happened, through a root opened for the batch. While a full scan runs,
// changes are held for its result. An error means the share folder is
// gone or was replaced.
func (x *indexer) flush(now time.Time) error {
	if x.scan != nil || x.ix == nil {
		return nil
	}
	type due struct {
		rel string
		e   *pendingEntry
	}
	var ready []due
	x.earliest = time.Time{}
	for rel, e := range x.pending {
		if e.due.After(now) {
			if x.earliest.IsZero() || e.due.Before(x.earliest) {
				x.earliest = e.due
			}
			continue
		}
		ready = append(ready, due{rel, e})
	}
	slices.SortFunc(ready, func(a, b due) int { return cmp.Compare(a.e.seq, b.e.seq) })
	for _, r := range ready {
		delete(x.pending, r.rel)
	}
	if len(ready) == 0 {
		return nil
	}
	// What is gone first, then what is there, each in the order it
	// happened. A folder renamed is then dropped from the index (with its
	// watches) before it is added under its new name, whatever order the
	// events came in.
	return x.withRoot(func() {
		for pass := range 2 {
			for _, r := range ready {
				if x.ix == nil {
					return
				}
				_, err := x.root.Lstat(r.rel)
				if (pass == 0) != (err != nil) {
					continue
				}
				if x.reconcile(r.rel, r.e, now) {
					x.dirty = true
				}
			}
		}
	})
}

// reconcile brings the index in step with what is at rel in the share,
// and reports whether the index changed. Files found now are recorded as
// added now. It reads through x.root, which withRoot opens.
func (x *indexer) reconcile(rel string, e *pendingEntry, now time.Time) bool {
	d, name, at := x.ix.parentOf(rel)
	if at != rel {
		// A folder on the way is not indexed: it appeared, and is
		// indexed as a whole.
		rel, e = at, nil
	}
	fi, err := Stat(x.root, rel) // a symlink is followed only inside the share
	fileAt, isFile := d.fileIndex(name)
	dirAt, isDir := d.dirIndex(name)
	switch {
	case err != nil:
		// Gone, or nothing a client would see.
		if isFile {
			x.ix.removeFile(d, fileAt, rel)
			return true
		}
		if isDir {
			x.ix.removeDir(d, dirAt, rel, x.unwatch)
			return true
		}
		return false

	case fi.Mode().IsRegular():
		if e != nil && e.hasSnap && (fi.Size() != e.size || fi.ModTime().UnixNano() != e.mtime) {
			// Still being written: wait for another quiet spell.
			x.touchFresh(freshFile{rel: rel, size: fi.Size(), mtime: fi.ModTime().UnixNano()}, now)
			return false
		}
		changed := false
		if isDir {
			x.ix.removeDir(d, dirAt, rel, x.unwatch)
			changed = true
		}
		id, _ := idOf(fi)
		return x.ix.putFile(d, rel, name, fi.Size(), fi.ModTime().UnixNano(), id.ino, now.UnixNano()) || changed

	default: // a folder
		id, _ := idOf(fi)
		if isDir && d.dirs[dirAt].id == id {
			return false
		}
		changed := false
		if isDir {
			x.ix.removeDir(d, dirAt, rel, x.unwatch)
			changed = true
		}
		if isFile {
			x.ix.removeFile(d, fileAt, rel)
			changed = true
		}
		return x.addFolder(d, rel, name, now) || changed
	}
}

// addFolder scans the new folder at rel, watching each of its folders
// before reading it, and adds it to d. It reports whether it did.
func (x *indexer) addFolder(d *dirNode, rel, name string, now time.Time) bool {
	fi, err := x.root.Stat(rel)
	if err != nil || !fi.IsDir() {
		return false
	}
	if id, ok := idOf(fi); ok && x.ix.visited[id] != nil && !x.dropIfMoved(x.ix.visited[id], d) {
		return false // indexed where it really is; this is a second way in
	}
	sc := x.scanner(x.ctx, x.root, x.src, now, now.UnixNano())
	sc.visited = x.ix.visited
	sub, err := sc.scanTree(rel, name)
	if x.limitHit.Load() && x.src != nil {
		x.cannotWatch(syscall.ENOSPC)
	}
	if err != nil {
		if !errors.Is(err, errVisited) && !errors.Is(err, fs.ErrNotExist) {
			x.logger().Debug("cannot read new folder", "folder", rel, "err", err)
		}
		return false
	}
	x.ix.addDir(d, sub, rel)
	x.settleFresh(sc.fresh, now) // x.root is open: cannot fail
	// Folders left out as indexed already may have been moved here from
	// elsewhere in the share, before that move was handled.
	for _, l := range sc.skipped {
		x.addFolder(l.parent, l.rel, l.name, now)
	}
	return true
}

// dropIfMoved removes the indexed folder old from the index if it is no
// longer where the index has it, and reports whether it did: it then was
// moved, and is found again under its new name. A folder that still is
// where it was, or that holds the folder d, stays.
func (x *indexer) dropIfMoved(old, d *dirNode) bool {
	if old.parent == nil {
		return false
	}
	for p := d; p != nil; p = p.parent {
		if p == old {
			return false
		}
	}
	rel := old.path()
	if fi, err := x.root.Stat(rel); err == nil && fi.IsDir() {
		if id, _ := idOf(fi); id == old.id {
			return false
		}
	}
	if i, ok := old.parent.dirIndex(old.name); ok && old.parent.dirs[i] == old {
		x.ix.removeDir(old.parent, i, rel, x.unwatch)
		x.dirty = true
	}
	return true
}

// unwatch drops the watch of the folder at rel, which left the index.
func (x *indexer) unwatch(rel string) {
	if x.src != nil {
		x.src.Remove(rel) // already gone with the folder, most often
	}
}

func (x *indexer) setState(s State, reason string) {
	if x.state != s || x.reason != reason {
		x.state, x.reason = s, reason
		x.dirty = true
	}
}

// publish makes the index's totals, recent additions and state visible
// to Status and Recent, and tells subscribers.
func (x *indexer) publish() {
	x.dirty = false
	var c counts
	var recent []recentFile
	if x.ix != nil {
		r := &x.ix.recent
		if r.short && len(r.items) < r.max && x.ix.counts.files > int64(len(r.items)) {
			r.rebuild(x.ix.root)
		}
		c, recent = x.ix.counts, slices.Clone(r.items)
	}
	// Watchers hear of the changes before the status shows them, so a
	// watcher made after a status was seen is never told of changes that
	// status already counted.
	x.tellChanges()
	x.sh.publish(x.state, x.reason, c, recent)
	x.set.notify()
}

// setIndex makes ix the share's index, which readers then see. A share
// without an index (nil: stopped or offline) has changed as a whole.
func (x *indexer) setIndex(ix *index) {
	x.sh.treeMu.Lock()
	x.sh.ix = ix
	x.sh.treeMu.Unlock()
	if ix == nil && x.ix != nil {
		x.lost = true
	}
	x.ix = ix
}

// tellChanges tells the Set's watchers which folders changed since the
// last time.
func (x *indexer) tellChanges() {
	var dirs []string
	if x.lost {
		x.lost = false
		dirs = append(dirs, ".")
	}
	if x.ix != nil && len(x.ix.changed) > 0 {
		for d := range x.ix.changed { // the indexer's alone
			dirs = append(dirs, d)
		}
		clear(x.ix.changed)
	}
	if len(dirs) == 0 {
		return
	}
	x.set.mu.RLock()
	name := x.sh.Name
	x.set.mu.RUnlock()
	changes := make([]Change, len(dirs))
	for i, d := range dirs {
		changes[i] = Change{Share: name, Dir: d}
	}
	x.set.changed(changes...)
}

// logger returns the Set's logger with the share's current name (which
// Rename may change) and path. Indexers log seldom: on state changes.
func (x *indexer) logger() *slog.Logger {
	x.set.mu.RLock()
	name := x.sh.Name
	x.set.mu.RUnlock()
	return x.set.logger().With("share", name, "path", x.sh.Path)
}
