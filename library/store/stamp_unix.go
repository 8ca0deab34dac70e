//go:build unix

package store

import (
	"io/fs"
	"syscall"
)

// inoOf returns fi's inode number.
func inoOf(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino)
	}
	return 0
}
