//go:build !unix

package store

import "io/fs"

// inoOf returns 0: there are no inode numbers here.
func inoOf(fs.FileInfo) uint64 { return 0 }
