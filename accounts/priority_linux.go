package accounts

import "golang.org/x/sys/unix"

// lowerThreadPriority puts the calling OS thread in SCHED_IDLE, at nice
// 19: on Linux both change that thread only. Such a thread runs on CPU
// time no other thread wants, and any other thread that wakes takes its
// CPU at once, where a nice-19 thread of the normal policy would keep it
// until its slice ends. Should SCHED_IDLE be refused, nice 19 remains.
func lowerThreadPriority() {
	unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), 19)
	unix.SchedSetAttr(0, &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_IDLE, Nice: 19}, 0)
}
