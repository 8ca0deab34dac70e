package library

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
)

// Errors returned by the share set. Callers test them with errors.Is.
var (
	// ErrNoShare means no share has the given name.
	ErrNoShare = errors.New("no such share")
	// ErrShareExists means a share with that name (compared without case) exists.
	ErrShareExists = errors.New("a share with that name exists")
	// ErrBadShareName means a name is empty, contains a slash or a control
	// character, or starts with a dot.
	ErrBadShareName = errors.New("bad share name")
	// ErrOffline means the share's folder is missing or cannot be opened, as
	// when a USB disk is not plugged in.
	ErrOffline = errors.New("share is offline")
)

// Share describes one exported folder.
type Share struct {
	// Name is the share's name: the first component of its virtual paths.
	Name string
	// Path is the absolute host path of the folder.
	Path string
}

// Set is the set of shares, safe for concurrent use. Changes are seen by
// the next call to Root or List, so an FTP command issued after a share is
// added or removed sees the new set.
type Set struct {
	mu     sync.RWMutex
	shares []*share // in the order they were added
}

// share is one entry of a Set; root is opened on first use and reopened
// when the folder it refers to has been replaced (a disk replugged).
type share struct {
	Share

	mu   sync.Mutex // guards root
	root *os.Root
}

// NewSet returns a set holding the given shares.
func NewSet(shares ...Share) (*Set, error) {
	s := &Set{}
	for _, sh := range shares {
		if err := s.Add(sh); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// CheckName reports whether name is usable as a share name.
func CheckName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty", ErrBadShareName)
	case strings.HasPrefix(name, "."):
		return fmt.Errorf("%w: %q starts with a dot", ErrBadShareName, name)
	case strings.ContainsAny(name, `/\`):
		return fmt.Errorf("%w: %q contains a slash", ErrBadShareName, name)
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return fmt.Errorf("%w: %q contains a control character", ErrBadShareName, name)
	}
	return nil
}

// Add adds a share. Its folder need not exist yet: until it does, the share
// is offline.
func (s *Set) Add(sh Share) error {
	if err := CheckName(sh.Name); err != nil {
		return err
	}
	if sh.Path == "" {
		return fmt.Errorf("share %q: empty path", sh.Name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.find(sh.Name) >= 0 {
		return fmt.Errorf("%w: %q", ErrShareExists, sh.Name)
	}
	s.shares = append(s.shares, &share{Share: sh})
	return nil
}

// Remove removes the named share. FTP commands that already opened files
// in it finish undisturbed.
func (s *Set) Remove(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.index(name)
	if i < 0 {
		return fmt.Errorf("%w: %q", ErrNoShare, name)
	}
	// The root is not closed: a command may still be using it. Once nothing
	// refers to it, its finalizer closes its one descriptor.
	s.shares = slices.Delete(s.shares, i, i+1)
	return nil
}

// List returns the shares in the order they were added.
func (s *Set) List() []Share {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Share, len(s.shares))
	for i, sh := range s.shares {
		out[i] = sh.Share
	}
	return out
}

// Names returns the share names in the order they were added.
func (s *Set) Names() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, len(s.shares))
	for i, sh := range s.shares {
		out[i] = sh.Name
	}
	return out
}

// Root returns the opened root of the named share. It returns ErrNoShare
// for an unknown name and ErrOffline when the folder is missing.
func (s *Set) Root(name string) (*os.Root, error) {
	s.mu.RLock()
	i := s.index(name)
	var sh *share
	if i >= 0 {
		sh = s.shares[i]
	}
	s.mu.RUnlock()
	if sh == nil {
		return nil, fmt.Errorf("%w: %q", ErrNoShare, name)
	}
	return sh.open()
}

// index returns the position of the share named exactly name, or -1.
func (s *Set) index(name string) int {
	return slices.IndexFunc(s.shares, func(sh *share) bool { return sh.Name == name })
}

// find returns the position of the share whose name equals name without
// regard to case, or -1. Names differing only in case would confuse
// Windows clients, so Add refuses them.
func (s *Set) find(name string) int {
	return slices.IndexFunc(s.shares, func(sh *share) bool { return strings.EqualFold(sh.Name, name) })
}

// open returns the share's root, opening it if needed. A root whose folder
// no longer is the one at Path (the disk was unplugged and plugged in again,
// or the folder was removed and recreated) is replaced.
func (sh *share) open() (*os.Root, error) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	cur, err := os.Stat(sh.Path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrOffline, err)
	}
	if !cur.IsDir() {
		return nil, fmt.Errorf("%w: %s is not a folder", ErrOffline, sh.Path)
	}
	if sh.root != nil {
		if fi, err := sh.root.Stat("."); err == nil && os.SameFile(fi, cur) {
			return sh.root, nil
		}
		// Not closed: a command may still be using it; its finalizer
		// closes it once nothing does.
		sh.root = nil
	}
	r, err := os.OpenRoot(sh.Path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrOffline, err)
	}
	sh.root = r
	return r, nil
}
