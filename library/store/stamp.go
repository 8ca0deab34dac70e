package store

import "io/fs"

// Stamp identifies a version of a file: its details are valid while its
// stamp matches. A file replaced by another of the same name has a new
// inode or modification time even when its size is the same.
type Stamp struct {
	// Size is the file's size in bytes.
	Size int64
	// ModTime is the file's modification time in Unix nanoseconds.
	ModTime int64
	// Ino is the file's inode number (0 where there is none).
	Ino uint64
}

// StampOf returns the stamp of the file fi describes.
func StampOf(fi fs.FileInfo) Stamp {
	return Stamp{Size: fi.Size(), ModTime: fi.ModTime().UnixNano(), Ino: inoOf(fi)}
}
