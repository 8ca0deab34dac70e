package library

import "golang.org/x/sys/unix"

// Linux I/O priorities (ioprio_set(2), include/uapi/linux/ioprio.h).
const (
	ioprioWhoProcess = 1  // the "process" is a thread ID
	ioprioClassIdle  = 3  // served only when no other I/O waits
	ioprioClassShift = 13 // the class is the top bits of the priority
)

// isMainThread reports whether the calling thread is the process's main
// thread.
func isMainThread() bool { return unix.Gettid() == unix.Getpid() }

// idleIOPriority gives the calling thread the idle I/O class, so that its
// reads wait for everyone else's: a film being streamed from the same disk
// is never held up by them. The caller has locked its goroutine to the
// thread and must not unlock it (the thread then ends with the goroutine,
// and no other goroutine ever runs at idle priority). It reports whether
// the kernel took it; schedulers without priorities (none, mq-deadline)
// accept and ignore it.
func idleIOPriority() bool {
	_, _, errno := unix.Syscall(unix.SYS_IOPRIO_SET, ioprioWhoProcess, uintptr(unix.Gettid()), ioprioClassIdle<<ioprioClassShift)
	return errno == 0
}
