package accounts

import (
	"context"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/testtool"
)

// testQueue returns a checkQueue whose addresses 192.0.2.N have N
// failures, and that function for the addresses.
func testQueue() (*checkQueue, func(failures int) netip.Addr) {
	addr := func(n int) netip.Addr { return netip.AddrFrom4([4]byte{192, 0, 2, byte(n)}) }
	return &checkQueue{failures: func(a netip.Addr) int { return int(a.As4()[3]) }}, addr
}

// waiters reports how many checks wait in q.
func (q *checkQueue) waiters() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.waiting)
}

// TestCheckQueueOrder: while a check runs, checks queue; those of
// addresses without failures get the turn first, then the others by their
// number of failures, each in order of arrival.
func TestCheckQueueOrder(t *testing.T) {
	q, addr := testQueue()
	ctx := context.Background()
	if _, ok := q.acquire(ctx, addr(0)); !ok {
		t.Fatal("no turn for the first check")
	}
	var mu sync.Mutex
	var order []string
	var wg sync.WaitGroup
	for i, c := range []struct {
		name     string
		failures int
	}{{"guess 3", 3}, {"clean 1", 0}, {"typo 1", 1}, {"guess 3b", 3}, {"clean 2", 0}, {"typo 2", 1}} {
		wg.Go(func() {
			failures, ok := q.acquire(ctx, addr(c.failures))
			if !ok || failures != c.failures {
				t.Errorf("%s: turn %v with %d failures", c.name, ok, failures)
				return
			}
			mu.Lock()
			order = append(order, c.name)
			mu.Unlock()
			q.release(c.failures, 0)
		})
		testtool.WaitFor(t, "the check to queue", func() bool { return q.waiters() == i+1 })
	}
	q.release(0, 0)
	wg.Wait()
	if want := []string{"clean 1", "clean 2", "typo 1", "typo 2", "guess 3", "guess 3b"}; !slices.Equal(order, want) {
		t.Errorf("turns in the order %q, want %q", order, want)
	}
}

// TestCheckQueueSpacing: after a check for an address with failures that
// took d, the next such check waits 9d (a tenth of a CPU), while one from
// an address without failures goes at once, ahead of it.
func TestCheckQueueSpacing(t *testing.T) {
	q, addr := testQueue()
	ctx := context.Background()
	q.acquire(ctx, addr(1))
	const took = 50 * time.Millisecond
	released := time.Now()
	q.release(1, took)

	suspectDone := make(chan time.Time, 1)
	go func() {
		q.acquire(ctx, addr(2))
		suspectDone <- time.Now()
		q.release(2, 0)
	}()
	testtool.WaitFor(t, "the suspect check to queue", func() bool { return q.waiters() == 1 })
	if _, ok := q.acquire(ctx, addr(0)); !ok {
		t.Fatal("no turn for the clean check")
	}
	select {
	case <-suspectDone:
		t.Fatal("the suspect check ran during the clean one")
	default:
	}
	q.release(0, time.Second) // clean checks add no spacing
	if got := (<-suspectDone).Sub(released); got < 9*took {
		t.Errorf("the next suspect check started %v after the last, want at least %v", got, 9*took)
	}
}

// TestCheckQueueCancel: a check whose context ends leaves the queue, also
// when the turn came to it at the same moment, and the next gets the turn.
func TestCheckQueueCancel(t *testing.T) {
	q, addr := testQueue()
	q.acquire(context.Background(), addr(0))
	ctx, cancel := context.WithCancel(context.Background())
	gone := make(chan bool)
	go func() { _, ok := q.acquire(ctx, addr(0)); gone <- ok }()
	testtool.WaitFor(t, "the check to queue", func() bool { return q.waiters() == 1 })
	cancel()
	if <-gone {
		t.Fatal("a cancelled check got its turn")
	}
	if q.waiters() != 0 {
		t.Fatal("the cancelled check is still queued")
	}
	q.release(0, 0)
	if _, ok := q.acquire(context.Background(), addr(1)); !ok {
		t.Fatal("no turn after the cancelled check")
	}
	q.release(1, 0)

	// Granted and cancelled at once: the turn is passed on, not lost.
	for range 200 {
		q.acquire(context.Background(), addr(0))
		ctx, cancel := context.WithCancel(context.Background())
		got := make(chan bool)
		go func() { _, ok := q.acquire(ctx, addr(0)); got <- ok }()
		testtool.WaitFor(t, "the check to queue", func() bool { return q.waiters() == 1 })
		go cancel()
		q.release(0, 0)
		if <-got {
			q.release(0, 0)
		}
		done := make(chan bool)
		go func() { _, ok := q.acquire(context.Background(), addr(0)); done <- ok }()
		select {
		case <-done:
			q.release(0, 0)
		case <-time.After(10 * time.Second):
			t.Fatal("the turn was lost")
		}
	}
}

// queueBehind holds the turn, queues three wrong guesses from guesser and
// then alice's right password from home, lets them go and returns the
// order in which they were checked.
func queueBehind(t *testing.T, u *Users, guesser netip.Addr) []string {
	t.Helper()
	u.checks.acquire(context.Background(), netip.MustParseAddr("198.51.100.1"))
	var mu sync.Mutex
	var order []string
	checked := func(who string, ok bool) func() bool {
		return func() bool {
			mu.Lock()
			order = append(order, who)
			mu.Unlock()
			return ok
		}
	}
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() { u.Verify(context.Background(), guesser, "guess", checked("guess", false)) })
		testtool.WaitFor(t, "the guess to queue", func() bool { return u.checks.waiters() == i+1 })
	}
	wg.Go(func() {
		if got := u.Verify(context.Background(), home, "alice", checked("alice", true)); got != OK {
			t.Errorf("alice's login: %v", got)
		}
	})
	testtool.WaitFor(t, "alice's login to queue", func() bool { return u.checks.waiters() == 4 })
	u.checks.release(0, 0)
	wg.Wait()
	return order
}

// TestLoginAheadOfGuesser: a family member's login from an address
// without failures is checked before the queued guesses of an address
// that failed.
func TestLoginAheadOfGuesser(t *testing.T) {
	u, _ := newUsers(t)
	guesser := netip.MustParseAddr("192.0.2.66")
	if got := u.Login(context.Background(), "alice", "guess", guesser); got != Failed {
		t.Fatalf("first guess: %v", got)
	}
	if u.Throttle.Failures(guesser) != 1 || u.Throttle.Failures(home) != 0 {
		t.Fatal("Failures is wrong")
	}
	order := queueBehind(t, u, guesser)
	if want := []string{"alice", "guess", "guess", "guess"}; !slices.Equal(order, want) {
		t.Errorf("checked in the order %q, want %q", order, want)
	}
	if u.Throttle.Failures(guesser) != 4 || u.Throttle.Failures(home) != 0 {
		t.Errorf("Failures after the logins: %d and %d, want 4 and 0", u.Throttle.Failures(guesser), u.Throttle.Failures(home))
	}
}

// TestParallelGuessesRanked: guesses sent at once from a new address are
// ranked when their turn comes, so only the first goes as a clean login;
// a family member's login that came after them goes second.
func TestParallelGuessesRanked(t *testing.T) {
	u, _ := newUsers(t)
	order := queueBehind(t, u, netip.MustParseAddr("192.0.2.77"))
	if want := []string{"guess", "alice", "guess", "guess"}; !slices.Equal(order, want) {
		t.Errorf("checked in the order %q, want %q", order, want)
	}
}
