package library

import (
	"time"
)

// Entry is one file or folder of the index, as front ends that browse the
// index (DLNA's ContentDirectory) see it.
type Entry struct {
	// Name is the entry's name in its folder; for a share's own folder it
	// is the share's name.
	Name string
	// Dir is set for a folder.
	Dir bool
	// Size is a file's size in bytes; 0 for a folder.
	Size int64
	// ModTime is a file's modification time. For a folder it is zero.
	ModTime time.Time
	// Ino is a file's inode number: with Size and ModTime it tells one
	// version of a file from another (a file replaced by another of the
	// same size and time). 0 for a folder.
	Ino uint64
	// Added is when the index saw a file appear; see Addition.Added.
	Added time.Time
	// Kind is a file's kind, from its name; Other for a folder.
	Kind Kind
	// Children is the number of entries in a folder; 0 for a file.
	Children int
}

// Change says that the entries of one folder changed: a file or folder in
// it was added, removed or changed size, or the folder itself appeared or
// went. Removing a share, or a share going offline, is a change of its
// folder ("."). Set.Watch delivers them.
type Change struct {
	Share string
	// Dir is the share-relative path of the folder whose entries changed,
	// "." for the share's own folder.
	Dir string
}
