package accounts

import (
	"context"
	"testing"

	"golang.org/x/sys/unix"
)

// TestCheckAtLowPriority: the password check runs on a thread at nice 19,
// and the caller's thread keeps its priority.
func TestCheckAtLowPriority(t *testing.T) {
	u, _ := newUsers(t)
	// The raw getpriority system call returns 20 - nice: 1 for nice 19.
	before, err := unix.Getpriority(unix.PRIO_PROCESS, 0)
	if err != nil {
		t.Fatal(err)
	}
	var during int
	u.Verify(context.Background(), home, "test", func() bool {
		during, err = unix.Getpriority(unix.PRIO_PROCESS, unix.Gettid())
		return true
	})
	if err != nil || during != 1 {
		t.Errorf("the check ran at getpriority %d (%v), want 1 (nice 19)", during, err)
	}
	if after, _ := unix.Getpriority(unix.PRIO_PROCESS, 0); after != before {
		t.Errorf("the process's priority went from %d to %d", before, after)
	}
}
