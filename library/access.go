package library

import (
	"fmt"
	"io/fs"
	"os"
	"slices"
)

// Access: who sees which share
//
// This file is the one access rule of every front end. A share is public
// (its Access is empty) or private to the users it lists. FTP asks it for
// the user logged in, the web page for its visitor, and DLNA (which has
// no login) shows what an anonymous client sees. A share a client may not
// see does not exist for it: every lookup answers as for a missing share,
// so its name, state and files never leak.

// Anonymous is the user of clients that did not log in: anonymous FTP,
// DLNA, the status page without a user login.
const Anonymous = ""

// Allows reports whether user may see the share: anyone when it is public,
// else only the users its Access lists (exactly as written in the config
// file's users). Anonymous sees public shares only.
func (sh Share) Allows(user string) bool {
	return len(sh.Access) == 0 || user != Anonymous && slices.Contains(sh.Access, user)
}

// Allows reports whether user may see the share named exactly name; false
// when there is none.
func (s *Set) Allows(name, user string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	i := s.index(name)
	return i >= 0 && s.shares[i].Allows(user)
}

// SetAccess changes the named share's Access: nil makes it public. The
// next lookup of every front end sees the change.
func (s *Set) SetAccess(name string, access []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.index(name)
	if i < 0 {
		return fmt.Errorf("%w: %q", ErrNoShare, name)
	}
	sh := s.shares[i]
	if slices.Equal(sh.Access, access) {
		return nil
	}
	sh.Access = slices.Clone(access)
	s.notify()
	s.changed(Change{Share: sh.Name, Dir: "."})
	return nil
}

// Scope is the part of a Set that one user sees: its methods are the
// Set's, for the shares the user may access only. Any other share is
// reported missing (ErrNoShare), as one that does not exist. The zero
// Scope is not usable; make one with Set.Scope.
type Scope struct {
	set  *Set
	user string
}

// Scope returns what user sees of the set; Anonymous sees the public
// shares.
func (s *Set) Scope(user string) Scope { return Scope{set: s, user: user} }

// User returns the user the scope is for.
func (sc Scope) User() string { return sc.user }

// Allows reports whether the scope's user may see the share named name.
func (sc Scope) Allows(name string) bool { return sc.set.Allows(name, sc.user) }

// check returns ErrNoShare, as for a missing share, when the user may not
// see the share.
func (sc Scope) check(name string) error {
	if !sc.Allows(name) {
		return fmt.Errorf("%w: %q", ErrNoShare, name)
	}
	return nil
}

// List returns the shares the user may see, in the set's order.
func (sc Scope) List() []Share {
	return slices.DeleteFunc(sc.set.List(), func(sh Share) bool { return !sh.Allows(sc.user) })
}

// Names returns the names of the shares the user may see.
func (sc Scope) Names() []string {
	list := sc.List()
	out := make([]string, len(list))
	for i, sh := range list {
		out[i] = sh.Name
	}
	return out
}

// Status returns a snapshot of the shares the user may see.
func (sc Scope) Status() []ShareStatus {
	return sc.set.status(func(sh *share) bool { return sh.Allows(sc.user) })
}

// Recent returns the at most n files added last to the shares the user
// may see, newest first.
func (sc Scope) Recent(n int) []Addition {
	return sc.set.recent(n, func(sh *share) bool { return sh.Allows(sc.user) })
}

// Root is Set.Root for a share the user may see.
func (sc Scope) Root(name string) (*os.Root, error) {
	if err := sc.check(name); err != nil {
		return nil, err
	}
	return sc.set.Root(name)
}

// Open is Set.Open for a share the user may see.
func (sc Scope) Open(share, rel string) (*os.File, fs.FileInfo, error) {
	if err := sc.check(share); err != nil {
		return nil, nil, err
	}
	return sc.set.Open(share, rel)
}

// Entry is Set.Entry for a share the user may see.
func (sc Scope) Entry(share, rel string, v View) (Entry, error) {
	if err := sc.check(share); err != nil {
		return Entry{}, err
	}
	return sc.set.Entry(share, rel, v)
}

// Children is Set.Children for a share the user may see.
func (sc Scope) Children(share, rel string, v View, offset, limit int) ([]Entry, int, error) {
	if err := sc.check(share); err != nil {
		return nil, 0, err
	}
	return sc.set.Children(share, rel, v, offset, limit)
}

// Walk is Set.Walk for a share the user may see.
func (sc Scope) Walk(share, rel string, v View, fn func(rel string, e Entry) bool) error {
	if err := sc.check(share); err != nil {
		return err
	}
	return sc.set.Walk(share, rel, v, fn)
}

// Watch returns a watcher of the changes in the shares the user may see.
// Changes inside other shares are dropped; one of such a share as a whole
// (it was removed, renamed, or has just become hidden to the user) is
// reported as a change of everything, so that clients reload their list
// of shares without learning its name.
func (sc Scope) Watch() *Watcher {
	w := sc.set.Watch()
	w.allows = func(name string) bool { return sc.set.Allows(name, sc.user) }
	return w
}

// Subscribe is Set.Subscribe: notifications say only that something
// changed, not what.
func (sc Scope) Subscribe() (c <-chan struct{}, cancel func()) { return sc.set.Subscribe() }
