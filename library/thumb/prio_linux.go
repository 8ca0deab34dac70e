package thumb

import (
	"os/exec"
	"runtime"

	"golang.org/x/sys/unix"
)

// Linux I/O priorities (ioprio_set(2), include/uapi/linux/ioprio.h).
const (
	ioprioWhoProcess = 1  // the "process" is a thread ID
	ioprioClassIdle  = 3  // served only when no other I/O waits
	ioprioClassShift = 13 // the class is the top bits of the priority
)

// startLowPriority starts cmd at nice 19 in the idle I/O class, with no
// moment at normal priority: it forks from a thread of its own that it
// gives those priorities first (a child inherits its thread's), and that
// thread ends with it, so no other goroutine ever runs there.
func startLowPriority(cmd *exec.Cmd) error {
	errc := make(chan error, 1)
	go startOnOwnThread(cmd, errc)
	return <-errc
}

// startOnOwnThread is startLowPriority's goroutine. On the process's main
// thread, whose priorities are the process's as ps and top show them (and
// which Go keeps rather than ends), it stays locked there while another
// goroutine, which must then run on another thread, does the work.
func startOnOwnThread(cmd *exec.Cmd, errc chan<- error) {
	runtime.LockOSThread()
	if unix.Gettid() == unix.Getpid() {
		done := make(chan struct{})
		go func() {
			defer close(done)
			startOnOwnThread(cmd, errc)
		}()
		<-done
		runtime.UnlockOSThread()
		return
	}
	// Never unlocked: the thread ends with the goroutine.
	unix.Setpriority(unix.PRIO_PROCESS, 0, 19) // the calling thread, on Linux
	unix.Syscall(unix.SYS_IOPRIO_SET, ioprioWhoProcess, uintptr(unix.Gettid()), ioprioClassIdle<<ioprioClassShift)
	errc <- cmd.Start()
}
