package accounts

import (
	"math"
	"net/netip"
	"sync"
	"time"
)

// Throttle counts wrong passwords per client address (per /64 for IPv6,
// where one home has a whole prefix) and slows guessing down: every
// failure is answered after FailureDelay, and after MaxFailures failures
// in a row the address is locked out for a time that doubles with each
// further failure, up to MaxLockout. A success clears the count. Failures
// are forgotten after an hour. The zero Throttle is ready to use.
type Throttle struct {
	// Now is the clock; nil means time.Now. Tests set it.
	Now func() time.Time
	// Delay is how long a failure waits for its answer; zero means
	// FailureDelay. Tests shorten it.
	Delay time.Duration

	mu       sync.Mutex
	failures map[netip.Prefix]*failures
}

// Throttle settings.
const (
	// FailureDelay is how long a wrong password waits for its answer, as
	// vsftpd's delay_failed_login.
	FailureDelay = time.Second
	// MaxFailures is how many wrong passwords in a row are answered before
	// the address is locked out.
	MaxFailures = 5
	// FirstLockout is the first lockout; each further failure doubles it.
	FirstLockout = time.Minute
	// MaxLockout bounds a lockout.
	MaxLockout = 15 * time.Minute
	// failureMemory is how long wrong passwords are remembered.
	failureMemory = time.Hour
	// maxTracked bounds the addresses counted; the oldest are forgotten.
	maxTracked = 4096
)

// failures counts the wrong passwords from one client.
type failures struct {
	n     int
	last  time.Time
	until time.Time // logins are refused until then
}

func (t *Throttle) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// clientPrefix is the unit failures are counted by.
func clientPrefix(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	bits := 32
	if a.Is6() {
		bits = 64
	}
	p, _ := a.Prefix(bits)
	return p
}

// LockedOut reports whether logins from the address are refused now, and
// for how much longer.
func (t *Throttle) LockedOut(from netip.Addr) (retry time.Duration, locked bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.failures[clientPrefix(from)]
	now := t.now()
	if f == nil || !now.Before(f.until) {
		return 0, false
	}
	return f.until.Sub(now), true
}

// Failures returns how many wrong passwords in a row the address has sent
// within the hour: its checks wait behind those of addresses with fewer
// (checkQueue).
func (t *Throttle) Failures(from netip.Addr) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.failures[clientPrefix(from)]
	if f == nil || t.now().Sub(f.last) > failureMemory && !t.now().Before(f.until) {
		return 0
	}
	return f.n
}

// Failed records a wrong password from the address. It returns how long
// to wait before answering, and whether the address is now locked out.
func (t *Throttle) Failed(from netip.Addr) (delay time.Duration, locked bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.failures == nil {
		t.failures = make(map[netip.Prefix]*failures)
	}
	now := t.now()
	t.forget(now)
	key := clientPrefix(from)
	f := t.failures[key]
	if f == nil {
		f = &failures{}
		t.failures[key] = f
	}
	f.n++
	f.last = now
	delay = FailureDelay
	if t.Delay > 0 {
		delay = t.Delay
	}
	if f.n < MaxFailures {
		return delay, false
	}
	shift := min(f.n-MaxFailures, 16)
	lock := time.Duration(math.Min(float64(FirstLockout)*math.Pow(2, float64(shift)), float64(MaxLockout)))
	f.until = now.Add(lock)
	return delay, true
}

// Succeeded clears the address's failures.
func (t *Throttle) Succeeded(from netip.Addr) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.failures, clientPrefix(from))
}

// forget drops failures older than failureMemory, and the oldest when too
// many addresses are counted. t.mu is held.
func (t *Throttle) forget(now time.Time) {
	var oldest netip.Prefix
	var oldestAt time.Time
	for k, f := range t.failures {
		if now.Sub(f.last) > failureMemory && !now.Before(f.until) {
			delete(t.failures, k)
			continue
		}
		if oldestAt.IsZero() || f.last.Before(oldestAt) {
			oldest, oldestAt = k, f.last
		}
	}
	if len(t.failures) >= maxTracked {
		delete(t.failures, oldest)
	}
}
