package accounts

import (
	"context"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// SuspectShare is the most of one CPU's time that the password checks of
// addresses with recent failures may take together: after such a check
// took d, the next one starts no sooner than d*(1/SuspectShare-1) after
// it. A flood from however many addresses then gets a tenth of one core
// for bcrypt whatever the hardware (cost 10 is about 60 ms of CPU on a PC,
// several times that on a small ARM board), while a login from an address
// without failures never waits for that spacing.
const SuspectShare = 0.1

// checkQueue lets password checks run one at a time. Checks from addresses
// without recent failures go first, and never wait for anything but the
// check running; then those of addresses with failures, fewest failures
// first (a typo before a guesser's fourth guess), spaced so that they take
// at most SuspectShare of one CPU. Among equals the first to come goes
// first. The failures are counted when the turn is given, so a guess
// sent in parallel with others from its address waits for theirs to be
// counted. A family's logins thus go ahead of a guesser's, and guessing
// from many addresses cannot fill a core.
type checkQueue struct {
	// failures returns an address's recent failures (Throttle.Failures).
	failures func(netip.Addr) int

	mu        sync.Mutex
	busy      bool      // a check runs
	waiting   []*waiter // in order of arrival
	notBefore time.Time // no check of an address with failures starts before then
	timer     *time.Timer
}

// waiter is a check waiting for its turn.
type waiter struct {
	from     netip.Addr
	turn     chan struct{} // closed to give it the turn
	failures int           // its address's failures when given the turn
}

// acquire waits for the turn of a check for a client at from, and reports
// whether it got it, and the failures its address had then; it does not
// get it when ctx ends first. A check that got its turn must call release
// with those failures.
func (q *checkQueue) acquire(ctx context.Context, from netip.Addr) (failures int, ok bool) {
	w := &waiter{from: from, turn: make(chan struct{})}
	q.mu.Lock()
	q.waiting = append(q.waiting, w)
	q.grantLocked()
	q.mu.Unlock()

	select {
	case <-w.turn:
		return w.failures, true
	case <-ctx.Done():
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	select {
	case <-w.turn: // given the turn meanwhile: pass it on
		q.busy = false
		q.grantLocked()
	default:
		q.waiting = slices.DeleteFunc(q.waiting, func(o *waiter) bool { return o == w })
	}
	return 0, false
}

// release ends a check that acquire let run, after its failure, if any,
// is counted; took is how long it ran.
func (q *checkQueue) release(failures int, took time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.busy = false
	if next := time.Now().Add(time.Duration(float64(took) * (1/SuspectShare - 1))); failures > 0 && next.After(q.notBefore) {
		q.notBefore = next
	}
	q.grantLocked()
}

// grantLocked gives the free turn to the waiter that goes next, if its
// time has come, or arms the timer for that time. q.mu is held.
func (q *checkQueue) grantLocked() {
	if q.busy || len(q.waiting) == 0 {
		return
	}
	i := 0
	for j, w := range q.waiting {
		w.failures = q.failures(w.from)
		if w.failures < q.waiting[i].failures {
			i = j
		}
	}
	w := q.waiting[i]
	if wait := q.notBefore.Sub(time.Now()); w.failures > 0 && wait > 0 {
		if q.timer == nil {
			q.timer = time.AfterFunc(wait, q.onTimer)
		} else {
			q.timer.Reset(wait)
		}
		return
	}
	q.waiting = slices.Delete(q.waiting, i, i+1)
	q.busy = true
	close(w.turn)
}

func (q *checkQueue) onTimer() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.grantLocked()
}
