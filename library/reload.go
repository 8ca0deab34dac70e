package library

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/mediaftpd/mediaftpd/internal/config"
)

// Changes says what a call to Sync changed, by share name.
type Changes struct {
	// Added are the shares that were not in the set.
	Added []string
	// Removed are the shares that were in the set and are no longer.
	Removed []string
	// Changed are the shares kept under their name (compared ignoring
	// case) whose folder, rescan interval, access or name's case changed. A share
	// whose folder changed is replaced: its index starts afresh.
	Changed []string
}

// IsZero reports whether Sync changed no share.
func (c Changes) IsZero() bool {
	return len(c.Added) == 0 && len(c.Removed) == 0 && len(c.Changed) == 0
}

// Sync makes the set hold exactly the given shares, in their order, as
// when the config file that lists them is read again. Shares are matched
// by name without regard to case: a share whose folder is unchanged keeps
// its index (and takes the new name's case, access and rescan interval, its
// indexer restarting if the interval changed, as with SetRescanInterval);
// a share whose folder changed is replaced, as by Remove and Add; shares
// not listed are removed, new ones added.
//
// The shares are checked first: an invalid name, an empty path or two
// names equal ignoring case make Sync return an error and change nothing.
// Otherwise the whole change is made at once, under the set's lock, so a
// concurrent Root, Names or List sees either the old set or the new one.
// As with Remove, FTP commands that already opened files in a removed or
// replaced share finish undisturbed. Subscribers are told once.
func (s *Set) Sync(shares []Share) (Changes, error) {
	var errs []error
	for i, sh := range shares {
		if err := CheckName(sh.Name); err != nil {
			errs = append(errs, err)
		}
		if sh.Path == "" {
			errs = append(errs, fmt.Errorf("share %q: empty path", sh.Name))
		}
		for _, prev := range shares[:i] {
			if config.SameShareName(prev.Name, sh.Name) {
				errs = append(errs, fmt.Errorf("%w: %q and %q", ErrShareExists, prev.Name, sh.Name))
				break
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Changes{}, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	var ch Changes
	next := make([]*share, 0, len(shares))
	kept := make(map[*share]bool, len(s.shares))
	for _, want := range shares {
		want.RescanInterval = max(want.RescanInterval, 0)
		i := s.find(want.Name)
		if i < 0 {
			next = append(next, s.newShare(want))
			ch.Added = append(ch.Added, want.Name)
			continue
		}
		cur := s.shares[i]
		if filepath.Clean(cur.Path) != filepath.Clean(want.Path) {
			next = append(next, s.newShare(want))
			ch.Changed = append(ch.Changed, want.Name)
			continue // cur is stopped below, with the removed shares
		}
		kept[cur] = true
		next = append(next, cur)
		if cur.Name == want.Name && cur.RescanInterval == want.RescanInterval && slices.Equal(cur.Access, want.Access) {
			continue
		}
		ch.Changed = append(ch.Changed, want.Name)
		cur.Name = want.Name
		cur.Access = slices.Clone(want.Access)
		if cur.RescanInterval != want.RescanInterval {
			cur.RescanInterval = want.RescanInterval
			if cur.stop != nil {
				cur.stop()
				s.start(cur) // after the running indexer has stopped
			}
		}
	}
	for _, sh := range s.shares {
		if kept[sh] {
			continue
		}
		if sh.stop != nil {
			sh.stop()
			sh.stop = nil
		}
		if !containsFold(shares, sh.Name) {
			ch.Removed = append(ch.Removed, sh.Name)
		}
	}
	s.shares = next
	s.notify()
	var changes []Change
	for _, names := range [][]string{ch.Added, ch.Removed, ch.Changed} {
		for _, name := range names {
			changes = append(changes, Change{Share: name, Dir: "."})
		}
	}
	s.changed(changes...)
	return ch, nil
}

// newShare returns a new entry for sh, indexed at once if Run is running.
// s.mu is held.
func (s *Set) newShare(sh Share) *share {
	n := &share{Share: sh, state: StateIdle}
	if s.running != nil {
		s.start(n)
	}
	return n
}

// containsFold reports whether a share in shares is named name, ignoring
// case.
func containsFold(shares []Share, name string) bool {
	for _, sh := range shares {
		if config.SameShareName(sh.Name, name) {
			return true
		}
	}
	return false
}
