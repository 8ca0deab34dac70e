package store

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// dontNeed tells the kernel that the n bytes of a mapping at addr (page
// aligned) are not needed now: madvise(MADV_DONTNEED). For a read-only
// shared mapping of a file, as bbolt's, this drops the process's page
// table entries only: the pages stay in the page cache, no longer count
// in this process's RSS and PSS, and an access later faults them in again
// from the cache, with the file's current contents. It must not be used
// on private or anonymous memory, whose contents it would discard.
//
// addr is passed to the system as it is (never turned into a Go
// pointer): the memory is the kernel's mapping, not Go's.
func dontNeed(addr, n uintptr) error {
	if n == 0 {
		return nil
	}
	if _, _, errno := unix.Syscall(unix.SYS_MADVISE, addr, n, unix.MADV_DONTNEED); errno != 0 {
		return fmt.Errorf("madvise(MADV_DONTNEED) of %d bytes: %w", n, errno)
	}
	return nil
}
