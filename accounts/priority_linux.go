package accounts

import "golang.org/x/sys/unix"

// lowerThreadPriority gives the calling OS thread the lowest CPU priority
// (nice 19): on Linux, setpriority of a thread ID changes that thread only.
func lowerThreadPriority() {
	unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), 19)
}
