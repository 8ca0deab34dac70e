package library

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"
)

// Browsing the index
//
// Front ends that show a library rather than a file system (DLNA's
// ContentDirectory) read the index, not the disk: Entry, Children and
// Walk answer from memory, and Children costs what the page costs, not
// what the folder holds, because each folder keeps its browsing order
// once asked for it (until its entries change).

// ErrNotIndexed means a share is online but its first scan has not
// finished, so the index cannot answer yet.
var ErrNotIndexed = errors.New("share is being indexed")

// Entry returns the index entry of rel ("." for the share's own folder) in
// the named share. It fails with ErrNoShare, ErrOffline, ErrNotIndexed,
// or an error matching fs.ErrNotExist when the index has no such entry.
func (s *Set) Entry(share, rel string) (Entry, error) {
	var out Entry
	err := s.readTree(share, func(ix *index) error {
		d, i, err := ix.lookup(rel)
		if err != nil {
			return err
		}
		if i < 0 {
			out = dirEntry(d)
			if d.parent == nil {
				out.Name = share
			}
			return nil
		}
		out = fileEntry(&d.files[i])
		return nil
	})
	return out, err
}

// Children returns the entries of the folder rel of the named share from
// offset on, at most limit of them (all when limit <= 0), and how many the
// folder holds. The order is the one browsing shows: folders first, then
// files, each by NaturalCompare of their names. It fails as Entry does,
// and when rel is a file.
func (s *Set) Children(share, rel string, offset, limit int) ([]Entry, int, error) {
	var page []Entry
	total := 0
	err := s.readTree(share, func(ix *index) error {
		d, i, err := ix.lookup(rel)
		if err != nil {
			return err
		}
		if i >= 0 {
			return fmt.Errorf("%s: %w", rel, errNotFolder)
		}
		order := d.naturalOrder()
		total = len(order)
		if offset < 0 {
			offset = 0
		}
		end := total
		if limit > 0 && offset < total && limit < total-offset {
			end = offset + limit
		}
		for _, k := range order[min(offset, total):end] {
			page = append(page, d.entryAt(k))
		}
		return nil
	})
	return page, total, err
}

// Walk calls fn for every entry below the folder rel of the named share,
// depth first, each folder's entries in browsing order (a folder before
// what it holds), with the entry's share-relative path. It stops early
// when fn returns false. The index cannot change while Walk runs, so fn
// must not wait for anything.
func (s *Set) Walk(share, rel string, fn func(rel string, e Entry) bool) error {
	return s.readTree(share, func(ix *index) error {
		d, i, err := ix.lookup(rel)
		if err != nil {
			return err
		}
		if i >= 0 {
			return fmt.Errorf("%s: %w", rel, errNotFolder)
		}
		walkTree(d, rel, fn)
		return nil
	})
}

// walkTree is Walk below d, which is at rel. It reports false once fn has.
func walkTree(d *dirNode, rel string, fn func(rel string, e Entry) bool) bool {
	for _, k := range d.naturalOrder() {
		e := d.entryAt(k)
		crel := joinRel(rel, e.Name)
		if !fn(crel, e) {
			return false
		}
		if k < 0 && !walkTree(d.dirs[^k], crel, fn) {
			return false
		}
	}
	return true
}

// errNotFolder: Children or Walk of a file.
var errNotFolder = errors.New("not a folder")

// readTree runs fn on the named share's index, holding it for reading.
func (s *Set) readTree(name string, fn func(ix *index) error) error {
	sh, err := s.entry(name)
	if err != nil {
		return err
	}
	sh.treeMu.RLock()
	defer sh.treeMu.RUnlock()
	if sh.ix == nil {
		sh.pmu.Lock()
		state := sh.state
		sh.pmu.Unlock()
		if state == StateOffline {
			return fmt.Errorf("%w: %q", ErrOffline, name)
		}
		return fmt.Errorf("%w: %q", ErrNotIndexed, name)
	}
	return fn(sh.ix)
}

// lookup finds rel in the index: its folder d and, for a file, the file's
// position in d.files (-1 for a folder).
func (ix *index) lookup(rel string) (d *dirNode, file int, err error) {
	d = ix.root
	if rel == "." || rel == "" {
		return d, -1, nil
	}
	for {
		comp, rest, more := strings.Cut(rel, "/")
		if j, ok := d.dirIndex(comp); ok {
			d = d.dirs[j]
			if !more {
				return d, -1, nil
			}
			rel = rest
			continue
		}
		if j, ok := d.fileIndex(comp); ok && !more {
			return d, j, nil
		}
		return nil, 0, fmt.Errorf("%s: %w", comp, fs.ErrNotExist)
	}
}

// naturalOrder returns d's entries in browsing order: k >= 0 is
// d.files[k], k < 0 is d.dirs[^k]. It is made once and kept until the
// entries change. The tree's lock is held, for reading at least.
func (d *dirNode) naturalOrder() []int32 {
	if p := d.order.Load(); p != nil {
		return *p
	}
	order := make([]int32, 0, len(d.dirs)+len(d.files))
	for i := range d.dirs {
		order = append(order, ^int32(i))
	}
	slices.SortFunc(order, func(a, b int32) int { return NaturalCompare(d.dirs[^a].name, d.dirs[^b].name) })
	n := len(order)
	for i := range d.files {
		order = append(order, int32(i))
	}
	files := order[n:]
	slices.SortFunc(files, func(a, b int32) int { return NaturalCompare(d.files[a].name, d.files[b].name) })
	d.order.Store(&order)
	return order
}

// entryAt returns the entry k of d's naturalOrder.
func (d *dirNode) entryAt(k int32) Entry {
	if k < 0 {
		return dirEntry(d.dirs[^k])
	}
	return fileEntry(&d.files[k])
}

func dirEntry(d *dirNode) Entry {
	return Entry{Name: d.name, Dir: true, Children: len(d.dirs) + len(d.files)}
}

func fileEntry(f *fileRec) Entry {
	return Entry{
		Name:    f.name,
		Size:    f.size,
		ModTime: time.Unix(0, f.mtime),
		Added:   time.Unix(0, f.added),
		Kind:    KindOf(f.name),
	}
}
