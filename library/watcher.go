package library

import (
	"sync"
)

// maxPendingChanges bounds the changes a Watcher holds between two calls
// of Take. Past it, a share's changes collapse into one change of its
// folder, and past that into one change of everything.
const maxPendingChanges = 1024

// Watcher receives the folders whose entries change, for front ends that
// must tell their clients what to reload (DLNA's ContainerUpdateIDs). It
// never holds up the index: changes accumulate, deduplicated, until Take.
// Make one with Set.Watch.
type Watcher struct {
	set *Set
	c   chan struct{}
	// allows, when set (Scope.Watch), says which shares the watcher may
	// be told about; Take reports the changes of any other share as one
	// change of everything, nameless.
	allows func(share string) bool

	mu      sync.Mutex // guards the fields below
	pending map[Change]struct{}
	all     bool // everything changed: too many changes piled up
	closed  bool
}

// Watch returns a new Watcher of the set's changes. Close it when done.
func (s *Set) Watch() *Watcher {
	w := &Watcher{set: s, c: make(chan struct{}, 1), pending: make(map[Change]struct{})}
	s.subMu.Lock()
	if s.watchers == nil {
		s.watchers = make(map[*Watcher]struct{})
	}
	s.watchers[w] = struct{}{}
	s.subMu.Unlock()
	return w
}

// C returns a channel that receives a value after changes, coalesced: a
// slow receiver gets one value for many changes.
func (w *Watcher) C() <-chan struct{} { return w.c }

// Take returns the changes since the last call, in no particular order,
// each folder once. A Change whose Dir is "." may stand for many changes
// in its share; a Change whose Share is "" means that anything may have
// changed.
func (w *Watcher) Take() []Change {
	w.mu.Lock()
	if w.all {
		w.all = false
		clear(w.pending)
		w.mu.Unlock()
		return []Change{{}}
	}
	pending := make([]Change, 0, len(w.pending))
	for c := range w.pending {
		pending = append(pending, c)
	}
	clear(w.pending)
	w.mu.Unlock()
	if w.allows == nil {
		return pending
	}
	// Filtered with w.mu released: allows takes the Set's lock, which a
	// change of the shares holds while it tells the watchers (w.mu).
	out := pending[:0]
	seen := make(map[string]bool)
	hidden := false // a hidden share changed as a whole
	for _, c := range pending {
		ok, asked := seen[c.Share]
		if !asked {
			ok = c.Share == "" || w.allows(c.Share)
			seen[c.Share] = ok
		}
		if !ok {
			// Changes inside a hidden share are dropped. One of the
			// share itself may be that it has just become hidden (or
			// was removed, or renamed): the list of shares changed.
			hidden = hidden || c.Dir == "."
			continue
		}
		out = append(out, c)
	}
	if hidden {
		return []Change{{}} // everything, naming no share
	}
	return out
}

// Close stops the watcher; Take returns nothing afterwards.
func (w *Watcher) Close() {
	w.set.subMu.Lock()
	delete(w.set.watchers, w)
	w.set.subMu.Unlock()
	w.mu.Lock()
	w.closed = true
	clear(w.pending)
	w.mu.Unlock()
}

// add records changes and wakes the receiver.
func (w *Watcher) add(changes []Change) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	for _, c := range changes {
		if w.all {
			break
		}
		if _, ok := w.pending[Change{Share: c.Share, Dir: "."}]; ok && c.Dir != "." {
			continue // the share as a whole is pending already
		}
		w.pending[c] = struct{}{}
		if len(w.pending) > maxPendingChanges {
			w.collapse(c.Share)
		}
	}
	w.mu.Unlock()
	select {
	case w.c <- struct{}{}:
	default:
	}
}

// collapse replaces the pending changes of share by one of its folder;
// if that does not make room, everything is marked changed. w.mu is held.
func (w *Watcher) collapse(share string) {
	for c := range w.pending {
		if c.Share == share {
			delete(w.pending, c)
		}
	}
	w.pending[Change{Share: share, Dir: "."}] = struct{}{}
	if len(w.pending) > maxPendingChanges/2 {
		w.all = true
		clear(w.pending)
	}
}

// changed tells every watcher about changes.
func (s *Set) changed(changes ...Change) {
	if len(changes) == 0 {
		return
	}
	s.subMu.Lock()
	defer s.subMu.Unlock()
	for w := range s.watchers {
		w.add(changes)
	}
}
