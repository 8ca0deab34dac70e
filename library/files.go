package library

import (
	"bytes"
	"encoding/binary"
	"iter"
	"slices"
	"strings"
	"unsafe"
)

// fileRec is one indexed file, as a fileList hands it out. The kind is not
// stored; KindOf finds it again from the name.
type fileRec struct {
	name  string
	size  int64
	mtime int64  // Unix nanoseconds
	ino   uint64 // inode number: with size and mtime, the file's version
	added int64  // Unix nanoseconds; see Addition.Added
}

// fileList is the files of one folder, sorted by name. The index holds one
// record per file of the library (a hundred thousand and more on a Pi), so
// they are packed: a few bytes beyond the name, and no pointer per file for
// the garbage collector to follow.
//
// data holds the records one after another, each
//
//	name NUL uvarint(size) varint(mtime-base.mtime) varint(ino-base.ino) varint(added-base.added)
//
// A name never holds a NUL (nor a '/'), so the NUL ends it and no length
// is stored. The files of a folder have times and inode numbers close to
// each other, so the numbers are stored as differences from base, the
// first file's when the list was packed, which take a few bytes each.
// at[i] is where the i'th file's record starts, in name order.
//
// data is only ever appended to: a file that changes gets a new record and
// its old one is left dead. The names handed out point into data, without
// a copy, so they must never change: bytes once written stay as they are,
// and when the dead bytes outweigh the live ones the live records are
// copied to a new array (compact), the old one living on while names point
// into it. So data holds at most about twice the live records, and a
// uint32 offset reaches them in any folder of fewer than tens of millions
// of files. Writers hold the tree's lock for writing, readers for reading.
type fileList struct {
	data []byte
	at   []uint32
	base fileBase
	dead int // bytes of data in records no longer in at
}

// fileBase is what the numbers of a fileList's records are stored as
// differences from.
type fileBase struct {
	mtime, added int64
	ino          uint64
}

// packFiles returns the list of files, which are sorted by name.
func packFiles(files []fileRec) fileList {
	var l fileList
	if len(files) == 0 {
		return l
	}
	l.base = fileBase{mtime: files[0].mtime, added: files[0].added, ino: files[0].ino}
	l.at = make([]uint32, len(files))
	size := 0
	for _, f := range files {
		size += l.recordLen(f)
	}
	l.data = make([]byte, 0, size) // no spare capacity: the index keeps it
	for i, f := range files {
		l.at[i] = uint32(len(l.data))
		l.data = l.appendRecord(l.data, f)
	}
	return l
}

// appendRecord appends the record of f to buf.
func (l *fileList) appendRecord(buf []byte, f fileRec) []byte {
	buf = append(buf, f.name...)
	buf = append(buf, 0)
	return l.appendNumbers(buf, f)
}

// appendNumbers appends the numbers of f's record to buf.
func (l *fileList) appendNumbers(buf []byte, f fileRec) []byte {
	buf = binary.AppendUvarint(buf, uint64(f.size))
	buf = binary.AppendVarint(buf, f.mtime-l.base.mtime)
	buf = binary.AppendVarint(buf, int64(f.ino-l.base.ino))
	return binary.AppendVarint(buf, f.added-l.base.added)
}

// recordLen returns the length of f's record.
func (l *fileList) recordLen(f fileRec) int {
	var b [4 * binary.MaxVarintLen64]byte
	return len(f.name) + 1 + len(l.appendNumbers(b[:0], f))
}

// record decodes the record at off in data, and returns it with its
// length in bytes.
func (l *fileList) record(off uint32) (fileRec, int) {
	rec := l.data[off:]
	f := fileRec{name: l.nameAt(off)}
	p := len(f.name) + 1
	size, n := binary.Uvarint(rec[p:])
	p += n
	mtime, n := binary.Varint(rec[p:])
	p += n
	ino, n := binary.Varint(rec[p:])
	p += n
	added, n := binary.Varint(rec[p:])
	p += n
	f.size = int64(size)
	f.mtime = l.base.mtime + mtime
	f.ino = l.base.ino + uint64(ino)
	f.added = l.base.added + added
	return f, p
}

// nameAt returns the name of the record at off, pointing into data.
func (l *fileList) nameAt(off uint32) string {
	rec := l.data[off:]
	return unsafe.String(unsafe.SliceData(rec), bytes.IndexByte(rec, 0))
}

// len returns the number of files.
func (l *fileList) len() int { return len(l.at) }

// name returns the i'th file's name.
func (l *fileList) name(i int) string { return l.nameAt(l.at[i]) }

// get returns the i'th file.
func (l *fileList) get(i int) fileRec {
	f, _ := l.record(l.at[i])
	return f
}

// all yields every file, in name order.
func (l *fileList) all() iter.Seq[fileRec] {
	return func(yield func(fileRec) bool) {
		for _, off := range l.at {
			if f, _ := l.record(off); !yield(f) {
				return
			}
		}
	}
}

// index finds the file called name: its position, or where it would go.
func (l *fileList) index(name string) (int, bool) {
	return slices.BinarySearchFunc(l.at, name, func(off uint32, n string) int { return strings.Compare(l.nameAt(off), n) })
}

// insert adds f as the i'th file; the caller keeps the list sorted.
func (l *fileList) insert(i int, f fileRec) {
	if len(l.at) == 0 {
		*l = packFiles([]fileRec{f})
		return
	}
	l.at = slices.Insert(l.at, i, uint32(len(l.data)))
	l.data = l.appendRecord(l.data, f)
}

// set replaces the i'th file by f, which has the same name.
func (l *fileList) set(i int, f fileRec) {
	l.drop(l.at[i])
	l.at[i] = uint32(len(l.data))
	l.data = l.appendRecord(l.data, f)
	l.compactIfSparse()
}

// delete removes the i'th file.
func (l *fileList) delete(i int) {
	l.drop(l.at[i])
	l.at = slices.Delete(l.at, i, i+1)
	l.compactIfSparse()
}

// drop counts the record at off as dead.
func (l *fileList) drop(off uint32) {
	_, n := l.record(off)
	l.dead += n
}

// compactIfSparse copies the live records to a new array once the dead
// ones take more than half of data; names handed out keep the old one.
func (l *fileList) compactIfSparse() {
	if l.dead > len(l.data)/2 {
		*l = packFiles(slices.Collect(l.all()))
	}
}
