package library

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/config"
)

// Errors returned by the share set and its index. Callers test them with
// errors.Is.
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
	// ErrRunning means Run was called while a call to Run was running.
	ErrRunning = errors.New("the index is running already")

	// Used inside the package only:

	// errReplaced means a share's folder is no longer the one being
	// indexed: it was removed and made again, or a disk was mounted on it.
	errReplaced = errors.New("share folder was replaced")
	// errVisited means a folder to scan is indexed already, reached
	// another way.
	errVisited = errors.New("folder already indexed")
)

// Share describes one exported folder.
type Share struct {
	// Name is the share's name: the first component of its virtual paths.
	Name string
	// Path is the absolute host path of the folder.
	Path string
	// RescanInterval, when positive, has the folder rescanned that often
	// instead of watched: for network mounts, where the kernel does not
	// see changes made by other machines (rescan_interval in the config
	// file). Zero, the default, watches the folder.
	RescanInterval time.Duration
	// Access lists the users who may see the share; empty makes it public
	// (see Share.Allows, the one access rule).
	Access []string
}

// Set is the set of shares and, while Run runs, their live index. It is
// safe for concurrent use. Changes are seen by the next call to Root or
// List, so an FTP command issued after a share is added, removed or renamed
// sees the new set; subscribers are told of every change.
//
// The exported fields configure the index. Set them before Run and do not
// change them afterwards; the zero value of each means its documented
// default, and the zero Set is an empty set ready to use.
type Set struct {
	// Logger receives share state changes at info and warning level and
	// indexing detail at debug level; nil means slog.Default().
	Logger *slog.Logger
	// Settle is how long a changed file must stay untouched before it is
	// indexed, so a file being copied is counted once, with its final
	// size (DefaultSettle).
	Settle time.Duration
	// OfflineCheck is how often each share's folder is checked: an online
	// one for having gone (a USB disk unplugged), an offline one for
	// having come back (DefaultOfflineCheck).
	OfflineCheck time.Duration
	// FallbackRescan is how often a share is rescanned when it cannot be
	// watched, as when the system's inotify watch limit is reached
	// (DefaultFallbackRescan).
	FallbackRescan time.Duration
	// RecentMax is how many recent additions are kept for each share, and
	// so the most that Recent returns from one share (DefaultRecentMax).
	RecentMax int

	// newSource makes event sources; nil means fsnotify. Tests set it.
	newSource sourceFunc

	mu      sync.RWMutex // guards the fields below, and share.Share
	shares  []*share     // in the order they were added
	running *runState    // set while Run runs

	subMu    sync.Mutex // guards subs and watchers
	subs     map[chan struct{}]struct{}
	watchers map[*Watcher]struct{}

	limitMu     sync.Mutex      // guards limitLogged
	limitLogged map[string]bool // inotify limits already explained in the log
}

// The defaults of Set's zero-valued fields.
const (
	DefaultSettle         = 400 * time.Millisecond
	DefaultOfflineCheck   = 5 * time.Second
	DefaultFallbackRescan = time.Minute
	DefaultRecentMax      = 100
)

// share is one entry of a Set. It holds no file descriptor on its folder:
// a root is opened for each use and closed after it, so that a disk whose
// files are not being read can be unmounted (an open folder would make
// umount fail with EBUSY).
type share struct {
	Share // Name, RescanInterval and Access are guarded by Set.mu

	// Guarded by Set.mu:
	stop context.CancelFunc // stops the indexer
	done chan struct{}      // closed when the indexer has stopped

	// treeMu guards ix: the indexer holds it for writing while it changes
	// the index, readers for reading while they look.
	treeMu sync.RWMutex
	ix     *index // the indexer's index, nil while there is none

	pmu      sync.Mutex // guards the fields below, published by the indexer
	state    State
	reason   string
	progress *progress // of the running scan, or nil
	counts   counts
	recent   []recentFile
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

// CheckName reports whether name is usable as a share name. The rules are
// those of the config file (config.CheckShareName), so that a share made
// on the status page can always be saved and loaded again.
func CheckName(name string) error {
	if err := config.CheckShareName(name); err != nil {
		return fmt.Errorf("%w: %w", ErrBadShareName, err)
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
	if err := s.taken(sh.Name, ""); err != nil {
		return err
	}
	sh.RescanInterval = max(sh.RescanInterval, 0)
	s.shares = append(s.shares, s.newShare(sh))
	s.notify()
	s.changed(Change{Share: sh.Name, Dir: "."})
	return nil
}

// Remove removes the named share and stops indexing it. FTP commands that
// already opened files in it finish undisturbed.
func (s *Set) Remove(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.index(name)
	if i < 0 {
		return fmt.Errorf("%w: %q", ErrNoShare, name)
	}
	// Commands that opened a root of the share close it when they are
	// done; the Set holds none.
	if sh := s.shares[i]; sh.stop != nil {
		sh.stop()
		sh.stop = nil
	}
	s.shares = slices.Delete(s.shares, i, i+1)
	s.notify()
	s.changed(Change{Share: name, Dir: "."})
	return nil
}

// Rename gives the share named old the name new. Its index is kept. The
// new name may differ from the old one in case only.
func (s *Set) Rename(old, new string) error {
	if err := CheckName(new); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.index(old)
	if i < 0 {
		return fmt.Errorf("%w: %q", ErrNoShare, old)
	}
	if err := s.taken(new, old); err != nil {
		return err
	}
	s.changed(Change{Share: old, Dir: "."}, Change{Share: new, Dir: "."})
	s.shares[i].Name = new
	s.notify()
	return nil
}

// SetRescanInterval changes the named share's Share.RescanInterval. A
// running index of the share starts again.
func (s *Set) SetRescanInterval(name string, every time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.index(name)
	if i < 0 {
		return fmt.Errorf("%w: %q", ErrNoShare, name)
	}
	sh := s.shares[i]
	if sh.RescanInterval == max(every, 0) {
		return nil
	}
	sh.RescanInterval = max(every, 0)
	if sh.stop != nil {
		sh.stop()
		s.start(sh) // after the running indexer has stopped
	}
	return nil
}

// List returns the shares in the order they were added.
func (s *Set) List() []Share {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Share, len(s.shares))
	for i, sh := range s.shares {
		out[i] = sh.Share
		out[i].Access = slices.Clone(sh.Access)
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

// Root opens the named share's folder and returns its root, which the
// caller must close as soon as it is done with it: an open root keeps the
// share's file system busy, so a disk could not be unmounted. Files opened
// through the root stay valid after it is closed. Each call opens the folder
// that is at the share's path now, so a replaced folder (a disk plugged in
// again) is seen at once. Root returns ErrNoShare for an unknown name and
// ErrOffline when the folder is missing or is not a folder.
func (s *Set) Root(name string) (*os.Root, error) {
	sh, err := s.entry(name)
	if err != nil {
		return nil, err
	}
	return sh.open()
}

// entry returns the entry of the share named exactly name, or ErrNoShare.
func (s *Set) entry(name string) (*share, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if i := s.index(name); i >= 0 {
		return s.shares[i], nil
	}
	return nil, fmt.Errorf("%w: %q", ErrNoShare, name)
}

// index returns the position of the share named exactly name, or -1.
func (s *Set) index(name string) int {
	return slices.IndexFunc(s.shares, func(sh *share) bool { return sh.Name == name })
}

// find returns the position of the share whose name is the same as name
// by the name rule (config.SameShareName: without regard to case), or -1.
func (s *Set) find(name string) int {
	return slices.IndexFunc(s.shares, func(sh *share) bool { return config.SameShareName(sh.Name, name) })
}

// taken reports, with ErrShareExists, that a share other than the one now
// named old has the name name. s.mu is held.
func (s *Set) taken(name, old string) error {
	if i := s.find(name); i >= 0 && s.shares[i].Name != old {
		return fmt.Errorf("%w: %q (names are compared ignoring case)", ErrShareExists, s.shares[i].Name)
	}
	return nil
}

// open opens a root of the share's folder; the caller closes it.
func (sh *share) open() (*os.Root, error) {
	r, err := os.OpenRoot(sh.Path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrOffline, err)
	}
	return r, nil
}

// identify returns the identity (device and inode) of the folder now at
// the share's path, without opening it.
func (sh *share) identify() (fileID, error) {
	fi, err := os.Stat(sh.Path)
	if err != nil {
		return fileID{}, fmt.Errorf("%w: %w", ErrOffline, err)
	}
	if !fi.IsDir() {
		return fileID{}, fmt.Errorf("%w: %s is not a folder: %w", ErrOffline, sh.Path, syscall.ENOTDIR)
	}
	id, ok := idOf(fi)
	if !ok {
		return fileID{}, fmt.Errorf("%w: %s: no device and inode numbers", ErrOffline, sh.Path)
	}
	return id, nil
}
