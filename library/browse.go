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

// View is what browsing shows of a folder.
type View uint8

// The views.
const (
	// AllFiles shows every visible file and folder.
	AllFiles View = iota
	// MediaFiles shows the folders and the files a player can play:
	// video, audio and images (Kind other than Other). A TV lists no
	// .nfo, .txt or subtitle files as items.
	MediaFiles
)

// shows reports whether a file with this name is shown in the view.
func (v View) shows(name string) bool { return v == AllFiles || KindOf(name) != Other }

// Entry returns the index entry of rel ("." for the share's own folder) in
// the named share, with a folder's Children counted in the view. It fails
// with ErrNoShare, ErrOffline, ErrNotIndexed, or an error matching
// fs.ErrNotExist when the index has no such entry (or the view does not
// show it).
func (s *Set) Entry(share, rel string, v View) (Entry, error) {
	var out Entry
	err := s.readTree(share, func(ix *index) error {
		d, i, err := ix.lookup(rel)
		if err != nil {
			return err
		}
		if i < 0 {
			out = dirEntry(d, v)
			if d.parent == nil {
				out.Name = share
			}
			return nil
		}
		f := d.files.get(i)
		if !v.shows(f.name) {
			return fmt.Errorf("%s: %w", rel, fs.ErrNotExist)
		}
		out = fileEntry(f)
		return nil
	})
	return out, err
}

// Children returns the entries of the folder rel of the named share that
// the view shows, from offset on, at most limit of them (all when limit <=
// 0), and how many there are. The order is the one browsing shows: folders
// first, then files, each by NaturalCompare of their names. It fails as
// Entry does, and when rel is a file.
func (s *Set) Children(share, rel string, v View, offset, limit int) ([]Entry, int, error) {
	return s.children(share, rel, v, offset, limit, true)
}

// children is Children; keep says whether a browsing order made for it is
// kept for the next call. A reader of every folder once (the prober)
// does not keep them: they would take 4 bytes per file for good.
func (s *Set) children(share, rel string, v View, offset, limit int, keep bool) ([]Entry, int, error) {
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
		order := d.orderOf(v, keep)
		total = len(order)
		if offset < 0 {
			offset = 0
		}
		end := total
		if limit > 0 && offset < total && limit < total-offset {
			end = offset + limit
		}
		if keys := order[min(offset, total):end]; len(keys) > 0 {
			page = make([]Entry, len(keys))
			for j, k := range keys {
				page[j] = d.entryAt(k, v)
			}
		}
		return nil
	})
	return page, total, err
}

// Walk calls fn for every entry below the folder rel of the named share
// that the view shows, depth first, each folder's entries in browsing
// order (a folder before what it holds), with the entry's share-relative
// path. It stops early when fn returns false. The index cannot change
// while Walk runs, so fn must not wait for anything.
func (s *Set) Walk(share, rel string, v View, fn func(rel string, e Entry) bool) error {
	return s.readTree(share, func(ix *index) error {
		d, i, err := ix.lookup(rel)
		if err != nil {
			return err
		}
		if i >= 0 {
			return fmt.Errorf("%s: %w", rel, errNotFolder)
		}
		walkTree(d, rel, v, fn)
		return nil
	})
}

// walkTree is Walk below d, which is at rel. It reports false once fn has.
func walkTree(d *dirNode, rel string, v View, fn func(rel string, e Entry) bool) bool {
	for _, k := range d.naturalOrder(v) {
		e := d.entryAt(k, v)
		crel := joinRel(rel, e.Name)
		if !fn(crel, e) {
			return false
		}
		if k < 0 && !walkTree(d.dirs[^k], crel, v, fn) {
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
// position among d.files (-1 for a folder).
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

// browseOrder is a folder's entries in browsing order, in each view: k >=
// 0 is d.files.get(k), k < 0 is d.dirs[^k].
type browseOrder struct {
	all, media []int32
}

// naturalOrder returns d's entries that the view shows, in browsing
// order. Both views are made at once and kept until the entries change.
// The tree's lock is held, for reading at least.
func (d *dirNode) naturalOrder(v View) []int32 { return d.orderOf(v, true) }

// orderOf is naturalOrder; keep says whether an order it makes is kept.
func (d *dirNode) orderOf(v View, keep bool) []int32 {
	o := d.order.Load()
	if o == nil {
		o = d.makeOrder()
		if keep {
			d.order.Store(o)
		}
	}
	if v == MediaFiles {
		return o.media
	}
	return o.all
}

// makeOrder sorts d's entries for naturalOrder.
func (d *dirNode) makeOrder() *browseOrder {
	all := make([]int32, 0, len(d.dirs)+d.files.len())
	for i := range d.dirs {
		all = append(all, ^int32(i))
	}
	slices.SortFunc(all, func(a, b int32) int { return NaturalCompare(d.dirs[^a].name, d.dirs[^b].name) })
	n := len(all)
	for i := range d.files.len() {
		all = append(all, int32(i))
	}
	files := all[n:]
	slices.SortFunc(files, func(a, b int32) int { return NaturalCompare(d.files.name(int(a)), d.files.name(int(b))) })
	media := slices.Clip(all[:n:n])
	for _, k := range files {
		if MediaFiles.shows(d.files.name(int(k))) {
			media = append(media, k)
		}
	}
	if len(media) == len(all) {
		media = all // no copy when every file is media
	}
	return &browseOrder{all: all, media: media}
}

// entryAt returns the entry k of d's naturalOrder, a folder's Children
// counted in the view.
func (d *dirNode) entryAt(k int32, v View) Entry {
	if k < 0 {
		return dirEntry(d.dirs[^k], v)
	}
	return fileEntry(d.files.get(int(k)))
}

// dirEntry returns the entry of the folder d, its Children counted in the
// view.
func dirEntry(d *dirNode, v View) Entry {
	n := len(d.dirs) + d.files.len()
	if v != AllFiles {
		n = d.count(v)
	}
	return Entry{Name: d.name, Dir: true, Children: n}
}

// count returns how many of d's entries the view shows: from the browsing
// order when d has one, else counted, as a listing of d's parent should
// not make and keep an order for each of its folders.
func (d *dirNode) count(v View) int {
	if o := d.order.Load(); o != nil {
		if v == MediaFiles {
			return len(o.media)
		}
		return len(o.all)
	}
	n := len(d.dirs)
	for i := range d.files.len() {
		if v.shows(d.files.name(i)) {
			n++
		}
	}
	return n
}

func fileEntry(f fileRec) Entry {
	return Entry{
		Name:    f.name,
		Size:    f.size,
		ModTime: time.Unix(0, f.mtime),
		Ino:     f.ino,
		Added:   time.Unix(0, f.added),
		Kind:    KindOf(f.name),
	}
}
