package library

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

// scanWorkers bounds the folders a scan reads at once. Reading is mostly
// waiting for the disk, so it is more than the Pi's four cores; more does
// not help a USB disk.
const scanWorkers = 8

// readBatch is how many entries of a folder are read at a time, so a
// folder of a hundred thousand files does not need all their stat results
// in memory at once.
const readBatch = 1024

// progress counts what a running scan has read so far.
type progress struct {
	files, dirs atomic.Int64
}

// freshFile is a file a scan found still changing: modified less than the
// settle time ago. It is not indexed until its size and time stay put.
type freshFile struct {
	rel   string
	size  int64
	mtime int64
}

// scanner walks a folder tree of one share through its os.Root, several
// folders at a time, and builds its dirNodes. Only regular files and
// folders with visible names are indexed; a symlink is followed when it
// stays inside the share (the Root refuses the others), and a folder
// reached a second time (by a symlink, or a bind mount) is skipped.
type scanner struct {
	ctx  context.Context
	root *os.Root
	// watch, if not nil, is called for each folder before it is read, so
	// that nothing created in it after the read goes unnoticed.
	watch func(rel string) error
	// freshAfter, if not zero: files modified after this time (Unix
	// nanoseconds) are returned as fresh instead of being indexed.
	freshAfter int64
	// now, if not zero, is the added time of every file found (a folder
	// that appeared while watching); zero means each file's change time.
	now      int64
	progress *progress // may be nil

	sem chan struct{}
	wg  sync.WaitGroup

	mu      sync.Mutex          // guards the fields below
	visited map[fileID]*dirNode // folders indexed, shared with the index
	links   []link              // symlinked folders, walked last
	skipped []link              // folders left out because they were visited
	fresh   []freshFile
	err     error // the first error reading a folder below the top
}

// link is a folder found in parent at rel: a symlink to walk later, or
// a folder skipped because it is indexed already.
type link struct {
	parent *dirNode
	rel    string
	name   string
}

// scanTree reads the folder at rel and everything below it and returns it
// as a dirNode named name. It marks the folders it indexes in s.visited.
// It fails if rel itself cannot be read, or if it was already visited
// (errVisited); problems further down leave the folder concerned out (or
// empty) and are reported by s.err.
func (s *scanner) scanTree(rel, name string) (*dirNode, error) {
	s.sem = make(chan struct{}, scanWorkers-1)
	fi, err := s.root.Stat(rel)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s: %w", rel, syscall.ENOTDIR)
	}
	top := &dirNode{name: name}
	if !s.visit(top, fi) {
		return nil, errVisited
	}
	if err := s.readDir(top, rel); err != nil {
		s.unvisit(top)
		return nil, err
	}
	s.walkChildren(top, rel)
	s.wg.Wait()
	// Symlinked folders come last, so that a folder reached both through
	// a symlink and directly is indexed where it really is. Their
	// subfolders may hold symlinks in turn.
	for {
		s.mu.Lock()
		links := s.links
		s.links = nil
		s.mu.Unlock()
		if len(links) == 0 {
			break
		}
		slices.SortFunc(links, func(a, b link) int { return strings.Compare(a.rel, b.rel) })
		for _, l := range links {
			fi, err := s.root.Stat(l.rel)
			if err != nil || !fi.IsDir() {
				continue
			}
			d := &dirNode{name: l.name, parent: l.parent}
			if !s.visit(d, fi) {
				continue
			}
			s.walk(d, l.rel)
			s.wg.Wait()
			i, _ := l.parent.dirIndex(l.name)
			l.parent.dirs = slices.Insert(l.parent.dirs, i, d)
		}
	}
	if err := s.ctx.Err(); err != nil {
		return nil, err
	}
	return top, nil
}

// visit marks d, described by fi, as indexed. It reports false if it was
// already.
func (s *scanner) visit(d *dirNode, fi fs.FileInfo) bool {
	id, ok := idOf(fi)
	if !ok {
		return true
	}
	d.id = id
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, seen := s.visited[id]; seen {
		return false
	}
	s.visited[id] = d
	return true
}

func (s *scanner) unvisit(d *dirNode) {
	s.mu.Lock()
	delete(s.visited, d.id)
	s.mu.Unlock()
}

// walk reads d, at rel, and then its subfolders: in other goroutines while
// fewer than scanWorkers run, else in this one.
func (s *scanner) walk(d *dirNode, rel string) {
	if err := s.readDir(d, rel); err != nil {
		s.mu.Lock()
		if s.err == nil {
			s.err = err
		}
		s.mu.Unlock()
		return
	}
	s.walkChildren(d, rel)
}

// walkChildren walks d's subfolders; d is at rel.
func (s *scanner) walkChildren(d *dirNode, rel string) {
	for _, c := range d.dirs {
		crel := joinRel(rel, c.name)
		select {
		case s.sem <- struct{}{}:
			s.wg.Go(func() {
				defer func() { <-s.sem }()
				s.walk(c, crel)
			})
		default:
			s.walk(c, crel)
		}
	}
}

// readDir fills in d's files and subfolders (not their contents) from the
// folder at rel.
func (s *scanner) readDir(d *dirNode, rel string) error {
	if err := s.ctx.Err(); err != nil {
		return err
	}
	if s.watch != nil {
		if err := s.watch(rel); errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	f, err := OpenDir(s.root, rel)
	if err != nil {
		return fmt.Errorf("open folder: %w", err)
	}
	defer f.Close()
	var files []fileRec
	for {
		// In a folder opened through a Root, Readdir stats each entry
		// relative to the folder (fstatat), with no path lookups.
		fis, err := f.Readdir(readBatch)
		for _, fi := range fis {
			s.entry(d, rel, fi, &files)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read folder %s: %w", rel, err)
		}
	}
	slices.SortFunc(files, func(a, b fileRec) int { return strings.Compare(a.name, b.name) })
	d.files = packFiles(files)
	slices.SortFunc(d.dirs, func(a, b *dirNode) int { return strings.Compare(a.name, b.name) })
	if s.progress != nil {
		s.progress.dirs.Add(1)
		s.progress.files.Add(int64(len(files)))
	}
	return nil
}

// entry adds one folder entry to d (at rel): a file to files, a folder to
// d.dirs.
func (s *scanner) entry(d *dirNode, rel string, fi fs.FileInfo, files *[]fileRec) {
	name := fi.Name()
	if !Visible(name) {
		return
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		crel := joinRel(rel, name)
		t, err := Stat(s.root, crel)
		if err != nil {
			return // dangling, looping, leading out of the share, or not a file or folder
		}
		if t.IsDir() {
			s.mu.Lock()
			s.links = append(s.links, link{parent: d, rel: crel, name: name})
			s.mu.Unlock()
			return
		}
		fi = t
	}
	switch {
	case fi.Mode().IsRegular():
		if mt := fi.ModTime().UnixNano(); s.freshAfter != 0 && mt > s.freshAfter {
			s.mu.Lock()
			s.fresh = append(s.fresh, freshFile{rel: joinRel(rel, name), size: fi.Size(), mtime: mt})
			s.mu.Unlock()
			return
		}
		added := s.now
		if added == 0 {
			added = changeTime(fi)
		}
		id, _ := idOf(fi)
		*files = append(*files, fileRec{name: name, size: fi.Size(), mtime: fi.ModTime().UnixNano(), ino: id.ino, added: added})
	case fi.IsDir():
		c := &dirNode{name: name, parent: d}
		if s.visit(c, fi) {
			d.dirs = append(d.dirs, c)
		} else {
			s.mu.Lock()
			s.skipped = append(s.skipped, link{parent: d, rel: joinRel(rel, name), name: name})
			s.mu.Unlock()
		}
	}
}
