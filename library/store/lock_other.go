//go:build !unix

package store

import (
	"errors"
	"os"
)

// errWouldBlock is lockFile's error when another holds the lock.
var errWouldBlock = errors.New("locked")

// lockFile does nothing here: bbolt locks the file itself when it opens it.
func lockFile(*os.File) error { return nil }
