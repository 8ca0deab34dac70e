//go:build unix

package library

import (
	"io/fs"
	"syscall"
)

// idOf returns the device and inode of the file fi describes.
func idOf(fi fs.FileInfo) (fileID, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	return fileID{dev: uint64(st.Dev), ino: uint64(st.Ino)}, true
}

// changeTime returns fi's change time (ctime) in Unix nanoseconds: when the
// file last got new contents, a new name or new permissions. For a file
// found by a scan it is the best guess at when it was added.
func changeTime(fi fs.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		ts := ctimespec(st)
		return ts.Nano()
	}
	return fi.ModTime().UnixNano()
}
