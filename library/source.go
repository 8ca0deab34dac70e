package library

import (
	"path/filepath"
	"strings"
	"sync"

	"github.com/fsnotify/fsnotify"
)

// eventSource reports changes in the folders of one share. Paths in both
// directions are relative to the share's folder, slash-separated, with "."
// for the folder itself. The indexer reads it; tests feed their own.
type eventSource interface {
	// Add starts watching the folder at rel (not its subfolders). Adding a
	// folder that is watched already is not an error. An error matching
	// syscall.ENOSPC means the system's watch limit is reached.
	Add(rel string) error
	// Remove stops watching the folder at rel.
	Remove(rel string) error
	// Events delivers changes: Create, Write, Remove, Rename and Chmod of
	// entries in watched folders, and Remove or Rename of a watched folder
	// itself.
	Events() <-chan fsnotify.Event
	// Errors delivers problems; fsnotify.ErrEventOverflow means events
	// were lost.
	Errors() <-chan error
	// Close stops watching everything and ends both channels.
	Close() error
}

// sourceFunc makes the eventSource of the share folder at a host path.
type sourceFunc func(dir string) (eventSource, error)

// fsnotifySource is the eventSource of the operating system, through
// fsnotify: inotify on Linux. It is the one place where share folders are
// named by host paths, because watches are set by path; files are only
// ever opened through the share's os.Root.
type fsnotifySource struct {
	w      *fsnotify.Watcher
	dir    string // the share folder, cleaned
	events chan fsnotify.Event
	errors chan error
	done   chan struct{}
	wg     sync.WaitGroup
	once   sync.Once
}

var _ eventSource = (*fsnotifySource)(nil)

// sourceBuffer is how many events wait between fsnotify and the indexer.
const sourceBuffer = 1024

// newFSNotifySource watches nothing yet: Add sets the watches.
func newFSNotifySource(dir string) (eventSource, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	s := &fsnotifySource{
		w:      w,
		dir:    filepath.Clean(dir),
		events: make(chan fsnotify.Event, sourceBuffer),
		errors: make(chan error, 16),
		done:   make(chan struct{}),
	}
	s.wg.Go(s.forward)
	return s, nil
}

func (s *fsnotifySource) Add(rel string) error    { return s.w.Add(s.host(rel)) }
func (s *fsnotifySource) Remove(rel string) error { return s.w.Remove(s.host(rel)) }

func (s *fsnotifySource) Events() <-chan fsnotify.Event { return s.events }
func (s *fsnotifySource) Errors() <-chan error          { return s.errors }

func (s *fsnotifySource) Close() error {
	var err error
	s.once.Do(func() {
		close(s.done)
		err = s.w.Close()
		s.wg.Wait()
	})
	return err
}

// host returns the host path of the share-relative path rel.
func (s *fsnotifySource) host(rel string) string {
	if rel == "." {
		return s.dir
	}
	return s.dir + "/" + rel
}

// rel returns the share-relative path of a host path from an event.
func (s *fsnotifySource) rel(name string) (string, bool) {
	if name == s.dir {
		return ".", true
	}
	return strings.CutPrefix(name, s.dir+"/")
}

// forward passes events on with share-relative paths until Close.
func (s *fsnotifySource) forward() {
	defer close(s.events)
	defer close(s.errors)
	events, errs := s.w.Events, s.w.Errors
	for events != nil || errs != nil {
		select {
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			rel, ok := s.rel(ev.Name)
			if !ok {
				continue
			}
			ev.Name = rel
			select {
			case s.events <- ev:
			case <-s.done:
				return
			}
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			select {
			case s.errors <- err:
			case <-s.done:
				return
			}
		case <-s.done:
			return
		}
	}
}
