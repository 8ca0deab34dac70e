package accounts

import (
	"context"
	"testing"

	"golang.org/x/sys/unix"
)

// TestCheckPriority: the check of an address without failures runs on a
// thread at nice 19; once the address has failed, its checks run on a
// thread in SCHED_IDLE at nice 19; no other thread is changed.
func TestCheckPriority(t *testing.T) {
	u, _ := newUsers(t)
	// The raw getpriority system call returns 20 - nice: 1 for nice 19.
	before, err := unix.Getpriority(unix.PRIO_PROCESS, 0)
	if err != nil {
		t.Fatal(err)
	}
	type seen struct {
		prio   int
		policy uint32
		err    error
	}
	look := func(ok bool) (s seen) {
		u.Verify(context.Background(), home, "test", func() bool {
			if s.prio, s.err = unix.Getpriority(unix.PRIO_PROCESS, unix.Gettid()); s.err != nil {
				return ok
			}
			var attr *unix.SchedAttr
			if attr, s.err = unix.SchedGetAttr(0, 0); s.err == nil {
				s.policy = attr.Policy
			}
			return ok
		})
		return s
	}
	if s := look(false); s.err != nil || s.prio != 1 || s.policy != unix.SCHED_NORMAL {
		t.Errorf("a clean address's check ran at getpriority %d in policy %d (%v), want 1 (nice 19) in SCHED_NORMAL", s.prio, s.policy, s.err)
	}
	if s := look(true); s.err != nil || s.prio != 1 || s.policy != unix.SCHED_IDLE {
		t.Errorf("after a failure the check ran at getpriority %d in policy %d (%v), want 1 (nice 19) in SCHED_IDLE (%d)", s.prio, s.policy, s.err, unix.SCHED_IDLE)
	}
	if after, _ := unix.Getpriority(unix.PRIO_PROCESS, 0); after != before {
		t.Errorf("the process's priority went from %d to %d", before, after)
	}
	if attr, err := unix.SchedGetAttr(0, 0); err != nil || attr.Policy != unix.SCHED_NORMAL {
		t.Errorf("the caller's thread is in policy %v (%v), want SCHED_NORMAL", attr, err)
	}
	if s := look(true); s.prio != 1 || s.policy != unix.SCHED_NORMAL {
		t.Errorf("after a success the check ran at getpriority %d in policy %d, want nice 19 in SCHED_NORMAL again", s.prio, s.policy)
	}
}
