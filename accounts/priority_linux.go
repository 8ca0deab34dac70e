package accounts

import "golang.org/x/sys/unix"

// lowerThreadPriority gives the calling OS thread nice 19, and with idle
// puts it in SCHED_IDLE too: on Linux both change that thread only. A
// SCHED_IDLE thread runs on CPU time no other thread wants, and any other
// thread that wakes takes its CPU at once, where a nice-19 thread of the
// normal policy still gets a small share (about 1.5% against one busy
// thread) and keeps its CPU until its slice ends. Should SCHED_IDLE be
// refused, nice 19 remains.
func lowerThreadPriority(idle bool) {
	unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), 19)
	if idle {
		unix.SchedSetAttr(0, &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_IDLE, Nice: 19}, 0)
	}
}
