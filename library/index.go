package library

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// fileID identifies a file by its device and inode numbers.
type fileID struct{ dev, ino uint64 }

// dirNode is one indexed folder. Its children are sorted by name, so a
// path is found by one binary search per component; there is no map keyed
// by path.
type dirNode struct {
	name   string
	id     fileID     // device and inode, to spot a folder replaced or reached twice
	parent *dirNode   // nil for the share's folder
	dirs   []*dirNode // sorted by name
	files  fileList   // sorted by name

	// order is the entries in the order browsing shows them, in each
	// View (see naturalOrder), made when first asked for and dropped by
	// every change of the entries. Readers make it under the tree's read
	// lock.
	order atomic.Pointer[browseOrder]
}

// path returns d's share-relative path.
func (d *dirNode) path() string {
	if d.parent == nil {
		return "."
	}
	return joinRel(d.parent.path(), d.name)
}

func (d *dirNode) dirIndex(name string) (int, bool) {
	return slices.BinarySearchFunc(d.dirs, name, func(c *dirNode, n string) int { return strings.Compare(c.name, n) })
}

func (d *dirNode) fileIndex(name string) (int, bool) { return d.files.index(name) }

// counts are the totals of an index.
type counts struct {
	files, dirs, bytes int64
	kinds              [numKinds]int64
}

// addFile adds (sign 1) or takes away (sign -1) one file.
func (c *counts) addFile(name string, size, sign int64) {
	c.files += sign
	c.bytes += sign * size
	c.kinds[KindOf(name)] += sign
}

// addTree adds (sign 1) or takes away (sign -1) everything below d: its
// files and folders and theirs, but not d itself.
func (c *counts) addTree(d *dirNode, sign int64) {
	for f := range d.files.all() {
		c.addFile(f.name, f.size, sign)
	}
	for _, s := range d.dirs {
		c.dirs += sign
		c.addTree(s, sign)
	}
}

// joinRel joins a share-relative folder path and a name.
func joinRel(dir, name string) string {
	if dir == "." || dir == "" {
		return name
	}
	return dir + "/" + name
}

// index is one share's tree of folders with its totals and its most recent
// additions. It belongs to the share's indexer goroutine, which alone
// changes it, holding mu for writing while it does; others read the tree
// (Set.Entry, Set.Children, Set.Walk) holding mu for reading.
type index struct {
	mu      *sync.RWMutex // the share's treeMu
	root    *dirNode
	counts  counts
	visited map[fileID]*dirNode // the folders in the tree
	recent  recentList
	// changed are the folders whose entries changed since the indexer
	// last published, by share-relative path.
	changed map[string]struct{}
}

// newIndex returns the index of a scanned tree, guarded by mu.
func newIndex(mu *sync.RWMutex, root *dirNode, visited map[fileID]*dirNode, recentMax int) *index {
	ix := &index{mu: mu, root: root, visited: visited, recent: recentList{max: recentMax}, changed: map[string]struct{}{}}
	ix.counts.addTree(root, 1)
	ix.recent.rebuild(root)
	return ix
}

// touched records that the entries of d changed: its browsing order is
// dropped and its path noted for the watchers. ix.mu is held.
func (ix *index) touched(d *dirNode) {
	d.order.Store(nil)
	ix.changed[d.path()] = struct{}{}
}

// parentOf finds where rel belongs. It returns the folder that holds rel
// and rel's last component, with at equal to rel. When a folder on the way
// is not in the index, it returns that folder's parent and name instead,
// with at set to the missing folder's path: what changed is then that
// folder as a whole.
func (ix *index) parentOf(rel string) (parent *dirNode, name, at string) {
	d := ix.root
	start := 0
	for {
		i := strings.IndexByte(rel[start:], '/')
		if i < 0 {
			return d, rel[start:], rel
		}
		comp := rel[start : start+i]
		j, ok := d.dirIndex(comp)
		if !ok {
			return d, comp, rel[:start+i]
		}
		d = d.dirs[j]
		start += i + 1
	}
}

// putFile records that the file name in d, at rel, has the given size and
// modification time. A new file is recorded as added at the given time. It
// reports whether the index changed.
func (ix *index) putFile(d *dirNode, rel, name string, size, mtime int64, ino uint64, added int64) bool {
	i, ok := d.fileIndex(name)
	var f fileRec
	if ok {
		f = d.files.get(i)
		if f.size == size && f.mtime == mtime && f.ino == ino {
			return false
		}
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.changed[d.path()] = struct{}{}
	if ok {
		ix.counts.bytes += size - f.size
		f.size, f.mtime, f.ino = size, mtime, ino
		d.files.set(i, f)
		ix.recent.resize(rel, size)
		return true
	}
	d.files.insert(i, fileRec{name: name, size: size, mtime: mtime, ino: ino, added: added})
	d.order.Store(nil)
	ix.counts.addFile(name, size, 1)
	ix.recent.offer(rel, size, added)
	return true
}

// removeFile removes d's i'th file, which is at rel.
func (ix *index) removeFile(d *dirNode, i int, rel string) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.touched(d)
	f := d.files.get(i)
	ix.counts.addFile(f.name, f.size, -1)
	d.files.delete(i)
	ix.recent.drop(rel)
}

// addDir adds the scanned folder sub to d; sub is at rel. Its files are
// offered to the recent additions.
func (ix *index) addDir(d *dirNode, sub *dirNode, rel string) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.touched(d)
	i, _ := d.dirIndex(sub.name)
	d.dirs = slices.Insert(d.dirs, i, sub)
	sub.parent = d
	ix.counts.dirs++
	ix.counts.addTree(sub, 1)
	ix.recent.offerTree(sub, rel)
}

// removeDir removes d's i'th folder, at rel, with everything in it. It
// calls gone with the path of that folder and of every folder below it,
// so their watches can be dropped.
func (ix *index) removeDir(d *dirNode, i int, rel string, gone func(rel string)) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.touched(d)
	sub := d.dirs[i]
	ix.counts.dirs--
	ix.counts.addTree(sub, -1)
	d.dirs = slices.Delete(d.dirs, i, i+1)
	ix.recent.dropPrefix(rel + "/")
	var forget func(n *dirNode, rel string)
	forget = func(n *dirNode, rel string) {
		if ix.visited[n.id] == n {
			delete(ix.visited, n.id)
		}
		if gone != nil {
			gone(rel)
		}
		for _, c := range n.dirs {
			forget(c, rel+"/"+c.name)
		}
	}
	forget(sub, rel)
}

// carryOver copies into the files of a rescanned tree the times at which
// the previous tree saw them added; files it did not have are stamped now.
func carryOver(prev, next *dirNode, now int64) {
	if next.files.len() > 0 {
		files := slices.Collect(next.files.all())
		for i := range files {
			f := &files[i]
			if prev == nil {
				f.added = now
			} else if j, ok := prev.fileIndex(f.name); ok {
				f.added = prev.files.get(j).added
			} else {
				f.added = now
			}
		}
		next.files = packFiles(files)
	}
	for _, d := range next.dirs {
		var p *dirNode
		if prev != nil {
			if j, ok := prev.dirIndex(d.name); ok && prev.dirs[j].id == d.id {
				p = prev.dirs[j]
			}
		}
		carryOver(p, d, now)
	}
}

// recentFile is one entry of a recentList.
type recentFile struct {
	path  string // share-relative
	size  int64
	added int64 // Unix nanoseconds
}

// recentList holds the max most recently added files of one share, newest
// first.
type recentList struct {
	max   int
	items []recentFile
	// short is set when items were dropped: the list may then hold fewer
	// than max files while the tree has more, and rebuild refills it.
	short bool
}

// admits reports whether a file added at the given time would be listed.
func (r *recentList) admits(added int64) bool {
	return len(r.items) < r.max || (len(r.items) > 0 && added > r.items[len(r.items)-1].added)
}

// offer lists the file at path if it is among the max newest.
func (r *recentList) offer(path string, size, added int64) {
	if !r.admits(added) {
		return
	}
	// After every file added at the same time or later.
	i, _ := slices.BinarySearchFunc(r.items, added, func(f recentFile, t int64) int {
		if f.added >= t {
			return -1
		}
		return 1
	})
	r.items = slices.Insert(r.items, i, recentFile{path: path, size: size, added: added})
	if len(r.items) > r.max {
		r.items = r.items[:r.max]
	}
}

// offerTree offers every file below d, which is at rel.
func (r *recentList) offerTree(d *dirNode, rel string) {
	for f := range d.files.all() {
		if r.admits(f.added) {
			r.offer(joinRel(rel, f.name), f.size, f.added)
		}
	}
	for _, c := range d.dirs {
		r.offerTree(c, joinRel(rel, c.name))
	}
}

// resize updates the size of the listed file at path, if it is listed.
func (r *recentList) resize(path string, size int64) {
	for i := range r.items {
		if r.items[i].path == path {
			r.items[i].size = size
			return
		}
	}
}

// drop unlists the file at path.
func (r *recentList) drop(path string) {
	n := len(r.items)
	r.items = slices.DeleteFunc(r.items, func(f recentFile) bool { return f.path == path })
	r.short = r.short || len(r.items) < n
}

// dropPrefix unlists every file whose path starts with prefix.
func (r *recentList) dropPrefix(prefix string) {
	n := len(r.items)
	r.items = slices.DeleteFunc(r.items, func(f recentFile) bool { return strings.HasPrefix(f.path, prefix) })
	r.short = r.short || len(r.items) < n
}

// rebuild lists the max newest files of the tree at root afresh.
func (r *recentList) rebuild(root *dirNode) {
	r.items = r.items[:0]
	r.short = false
	if r.max > 0 {
		r.offerTree(root, ".")
	}
}

// diffTree notes in changed the path of every folder of next, at rel,
// whose entries differ from those of the folder in the same place in
// prev, which a rescan replaces: what a client showing that folder must
// reload. A folder new in next counts as a change of its parent.
func diffTree(prev, next *dirNode, rel string, changed map[string]struct{}) {
	if prev == nil || !sameEntries(prev, next) {
		changed[rel] = struct{}{}
	}
	if prev == nil {
		return
	}
	for _, d := range next.dirs {
		if j, ok := prev.dirIndex(d.name); ok {
			diffTree(prev.dirs[j], d, joinRel(rel, d.name), changed)
		}
	}
}

// sameEntries reports whether a and b hold the same names, with the same
// sizes and times for files.
func sameEntries(a, b *dirNode) bool {
	if a.files.len() != b.files.len() || len(a.dirs) != len(b.dirs) {
		return false
	}
	for i := range a.files.len() {
		x, y := a.files.get(i), b.files.get(i)
		if x.name != y.name || x.size != y.size || x.mtime != y.mtime || x.ino != y.ino {
			return false
		}
	}
	for i := range a.dirs {
		if a.dirs[i].name != b.dirs[i].name {
			return false
		}
	}
	return true
}
