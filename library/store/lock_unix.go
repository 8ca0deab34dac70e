//go:build unix

package store

import (
	"os"
	"syscall"
)

// errWouldBlock is lockFile's error when another holds the lock.
var errWouldBlock = syscall.EWOULDBLOCK

// lockFile takes the exclusive flock of f (as bbolt does) without waiting;
// closing f lets go of it.
func lockFile(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}
