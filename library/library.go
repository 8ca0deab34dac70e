package library

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// State is what the index of a share is doing.
type State string

// The states of a share.
const (
	// StateIdle: Run is not running, so the share is not indexed.
	StateIdle State = "idle"
	// StateScanning: the share is being scanned as a whole, at first or
	// after events were lost; ShareStatus.Progress tells how far it got.
	StateScanning State = "scanning"
	// StateWatching: the index follows changes as the kernel reports them.
	StateWatching State = "watching"
	// StatePolling: the share is rescanned periodically, because its
	// RescanInterval is set or it cannot be watched; the reason says which.
	StatePolling State = "polling"
	// StateOffline: the share's folder is missing or unreadable (the
	// reason says which); it is checked every Set.OfflineCheck.
	StateOffline State = "offline"
)

// Progress is how far a running scan got.
type Progress struct {
	Files int64 `json:"files"`
	Dirs  int64 `json:"dirs"`
}

// ShareStatus is a snapshot of one share and its index: the status model
// of the library, which the status page shows and its API returns as it is
// (web/doc.go lists the keys).
type ShareStatus struct {
	Name string `json:"name"`
	Path string `json:"path"`
	// RescanInterval is the share's; see Share.RescanInterval. JSON has it
	// in whole seconds, as rescan_seconds (0: the share is watched).
	RescanInterval time.Duration `json:"-"`
	State          State         `json:"state"`
	Reason         string        `json:"reason,omitempty"` // why it is offline, polling or scanning
	// Progress is what the running scan has read so far; zero when no
	// scan runs. The counts below are those of the last complete index.
	Progress Progress `json:"progress"`

	Files int64 `json:"files"`
	Dirs  int64 `json:"dirs"` // folders below the share's folder
	Bytes int64 `json:"bytes"`
	// Files by kind; they add up to Files.
	Video int64 `json:"video"`
	Audio int64 `json:"audio"`
	Image int64 `json:"image"`
	Other int64 `json:"other"`
}

// MarshalJSON encodes s with its rescan interval in seconds.
func (s ShareStatus) MarshalJSON() ([]byte, error) {
	type plain ShareStatus // without this method
	return json.Marshal(struct {
		plain
		RescanSeconds int64 `json:"rescan_seconds"`
	}{plain(s), int64(s.RescanInterval / time.Second)})
}

// Addition is a file recently added to a share.
type Addition struct {
	Share string `json:"share"`
	Path  string `json:"path"` // in the share, slash-separated, without a leading slash
	Size  int64  `json:"size"`
	// Added is when the index saw the file appear (and settle). For files
	// found by the scan at start-up or when a disk is plugged in, it is
	// the file's change time (ctime), the last time it was written,
	// renamed, moved in or had its permissions changed.
	Added time.Time `json:"added"`
	Kind  Kind      `json:"kind"`
}

// runState is a running call to Run.
type runState struct {
	ctx context.Context
	wg  sync.WaitGroup
}

// Run indexes every share, and each share added later, until ctx is done:
// it scans each share's folder and then watches it (or rescans it, see
// SetRescanInterval), and follows it offline and back. The shares
// serve FTP all along. Run returns nil once ctx is done and every share's
// indexer has stopped, or ErrRunning if Run is running already.
func (s *Set) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.running != nil {
		s.mu.Unlock()
		return ErrRunning
	}
	r := &runState{ctx: ctx}
	s.running = r
	for _, sh := range s.shares {
		s.start(sh)
	}
	s.mu.Unlock()

	<-ctx.Done()

	s.mu.Lock()
	for _, sh := range s.shares {
		sh.stop = nil // ctx stops them all
	}
	s.running = nil
	s.mu.Unlock()
	r.wg.Wait()
	return nil
}

// start starts indexing sh, once its previous indexer, if any, has
// stopped. s.mu is held.
func (s *Set) start(sh *share) {
	ctx, cancel := context.WithCancel(s.running.ctx)
	prev, done := sh.done, make(chan struct{})
	sh.stop, sh.done = cancel, done
	x := newIndexer(s, sh, sh.RescanInterval)
	s.running.wg.Go(func() {
		defer close(done)
		defer cancel()
		if prev != nil {
			<-prev
		}
		x.run(ctx)
	})
}

// Status returns a snapshot of every share, in the order they were added.
func (s *Set) Status() []ShareStatus { return s.status(nil) }

// status returns a snapshot of the shares keep accepts; nil keeps all.
func (s *Set) status(keep func(*share) bool) []ShareStatus {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]ShareStatus, 0, len(s.shares))
	for _, sh := range s.shares {
		if keep == nil || keep(sh) {
			out = append(out, sh.status())
		}
	}
	return out
}

func (sh *share) status() ShareStatus {
	sh.pmu.Lock()
	defer sh.pmu.Unlock()
	st := ShareStatus{
		Name:           sh.Name,
		Path:           sh.Path,
		RescanInterval: sh.RescanInterval,
		State:          sh.state,
		Reason:         sh.reason,
		Files:          sh.counts.files,
		Dirs:           sh.counts.dirs,
		Bytes:          sh.counts.bytes,
		Video:          sh.counts.kinds[Video],
		Audio:          sh.counts.kinds[Audio],
		Image:          sh.counts.kinds[Image],
		Other:          sh.counts.kinds[Other],
	}
	if p := sh.progress; p != nil {
		st.Progress = Progress{Files: p.files.Load(), Dirs: p.dirs.Load()}
	}
	return st
}

// Recent returns the at most n files most recently added across all
// shares, newest first. Each share keeps its Set.RecentMax newest.
func (s *Set) Recent(n int) []Addition { return s.recent(n, nil) }

// recent is Recent over the shares keep accepts; nil keeps all.
func (s *Set) recent(n int, keep func(*share) bool) []Addition {
	if n <= 0 {
		return nil
	}
	var out []Addition
	s.mu.RLock()
	for _, sh := range s.shares {
		if keep != nil && !keep(sh) {
			continue
		}
		sh.pmu.Lock()
		for _, f := range sh.recent {
			out = append(out, Addition{
				Share: sh.Name,
				Path:  f.path,
				Size:  f.size,
				Added: time.Unix(0, f.added),
				Kind:  KindOf(f.path),
			})
		}
		sh.pmu.Unlock()
	}
	s.mu.RUnlock()
	slices.SortStableFunc(out, func(a, b Addition) int { return b.Added.Compare(a.Added) })
	if len(out) > n {
		out = out[:n:n]
	}
	return out
}

// Subscribe returns a channel that receives a value after the shares or
// their index change: a share added, removed or renamed, a state change,
// files counted, scan progress. Notifications coalesce: a subscriber that
// is slow to receive gets one value for many changes, and never holds up
// the index. Call cancel to unsubscribe; it closes the channel.
func (s *Set) Subscribe() (c <-chan struct{}, cancel func()) {
	ch := make(chan struct{}, 1)
	s.subMu.Lock()
	if s.subs == nil {
		s.subs = make(map[chan struct{}]struct{})
	}
	s.subs[ch] = struct{}{}
	s.subMu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			s.subMu.Lock()
			delete(s.subs, ch)
			close(ch)
			s.subMu.Unlock()
		})
	}
}

// notify tells every subscriber that something changed.
func (s *Set) notify() {
	s.subMu.Lock()
	defer s.subMu.Unlock()
	for ch := range s.subs {
		select {
		case ch <- struct{}{}:
		default: // one is waiting already
		}
	}
}

func (s *Set) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// publish makes the indexer's view visible to Status and Recent.
func (sh *share) publish(state State, reason string, c counts, recent []recentFile) {
	sh.pmu.Lock()
	defer sh.pmu.Unlock()
	sh.state, sh.reason, sh.counts, sh.recent = state, reason, c, recent
}

// setProgress publishes the progress of the running scan, or nil.
func (sh *share) setProgress(p *progress) {
	sh.pmu.Lock()
	defer sh.pmu.Unlock()
	sh.progress = p
}

// inotifyLimits are the sysctl settings whose exhaustion keeps a share
// from being watched, with the value suggested when raising them.
var inotifyLimits = map[string]int{
	"fs.inotify.max_user_watches":   524288,
	"fs.inotify.max_user_instances": 1024,
}

// logWatchLimit explains, once per Set for each sysctl key, that an inotify
// limit is used up and how to raise it; later shares get a short line.
func (s *Set) logWatchLimit(log *slog.Logger, key string, every time.Duration) {
	s.limitMu.Lock()
	first := !s.limitLogged[key]
	if s.limitLogged == nil {
		s.limitLogged = make(map[string]bool)
	}
	s.limitLogged[key] = true
	s.limitMu.Unlock()
	if !first {
		log.Warn("inotify limit reached; rescanning the share periodically", "limit", key, "every", every)
		return
	}
	cur := "unknown"
	if b, err := os.ReadFile("/proc/sys/" + strings.ReplaceAll(key, ".", "/")); err == nil {
		cur = strings.TrimSpace(string(b))
	}
	want := inotifyLimits[key]
	if n, err := strconv.Atoi(cur); err == nil {
		want = max(want, 2*n)
	}
	what, need := "watch", "every folder of a watched share needs one watch"
	if key == "fs.inotify.max_user_instances" {
		what, need = "instance", "every watched share needs one instance"
	}
	log.Error(fmt.Sprintf("inotify %s limit reached: %s (%s) is used up, and %s. "+
		"Raise it now with `sysctl -w %s=%d` and keep it across reboots by adding "+
		"the line `%s=%d` to /etc/sysctl.d/60-mediaftpd.conf; then restart mediaftpd. "+
		"Until then, shares that cannot be watched are rescanned every %v.",
		what, key, cur, need, key, want, key, want, every))
}
