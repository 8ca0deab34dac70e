package accounts

import (
	"context"
	"log/slog"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"time"
)

// User is one named account: its login name and the bcrypt hash of its
// password.
type User struct {
	Name         string
	PasswordHash string
}

// Result is the outcome of a login.
type Result int

// Results of Users.Login.
const (
	// OK: the password is the user's.
	OK Result = iota
	// Failed: a wrong password, or a name without an account.
	Failed
	// LockedOut: the client's address failed too often and is refused for
	// a while; nothing was checked.
	LockedOut
)

func (r Result) String() string {
	switch r {
	case OK:
		return "ok"
	case Failed:
		return "failed"
	case LockedOut:
		return "locked out"
	}
	return "unknown"
}

// Users is the running list of named accounts and whether anonymous
// logins are allowed, checked by every front end with a login. It is safe
// for concurrent use. Make one with New; Set replaces the list on reload.
type Users struct {
	// Throttle counts wrong passwords per address. Front ends with other
	// passwords (the status page's admin) count theirs here too, so a
	// guesser gains nothing by switching.
	Throttle Throttle
	// Logger receives failed and locked-out logins at info and warning
	// level, without the password; nil means slog.Default().
	Logger *slog.Logger

	checks checkQueue // one check at a time, guessers' last

	mu        sync.RWMutex // guards the fields below
	hashes    map[string]string
	anonymous bool
}

// New returns the users, with anonymous logins allowed or not.
func New(users []User, anonymous bool) *Users {
	u := &Users{}
	u.checks.failures = u.Throttle.Failures
	u.Set(users, anonymous)
	return u
}

// Set replaces the users and the anonymous setting, as on reload. It
// returns the names of the users who were removed or whose password
// changed: their sessions should end.
func (u *Users) Set(users []User, anonymous bool) (ended []string) {
	hashes := make(map[string]string, len(users))
	for _, us := range users {
		hashes[us.Name] = us.PasswordHash
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	for name, old := range u.hashes {
		if hashes[name] != old {
			ended = append(ended, name)
		}
	}
	slices.Sort(ended)
	u.hashes, u.anonymous = hashes, anonymous
	return ended
}

// Anonymous reports whether anonymous logins are allowed.
func (u *Users) Anonymous() bool {
	u.mu.RLock()
	defer u.mu.RUnlock()
	return u.anonymous
}

// HasUsers reports whether any named account exists.
func (u *Users) HasUsers() bool {
	u.mu.RLock()
	defer u.mu.RUnlock()
	return len(u.hashes) > 0
}

// Has reports whether name (exactly) is an account.
func (u *Users) Has(name string) bool {
	u.mu.RLock()
	defer u.mu.RUnlock()
	_, ok := u.hashes[name]
	return ok
}

// Names returns the account names, sorted.
func (u *Users) Names() []string {
	u.mu.RLock()
	defer u.mu.RUnlock()
	return slices.Sorted(func(yield func(string) bool) {
		for name := range u.hashes {
			if !yield(name) {
				return
			}
		}
	})
}

// Login checks name's password for a client at from. A name without an
// account takes the same time as a wrong password. Checks run one at a
// time, bcrypt being slow on purpose. A failure is answered after the
// throttle's delay; an address locked out gets LockedOut without a check.
// ctx bounds the waits; when it ends first, the result is Failed.
func (u *Users) Login(ctx context.Context, name, password string, from netip.Addr) Result {
	return u.Verify(ctx, from, "user "+name, func() bool {
		u.mu.RLock()
		hash := u.hashes[name]
		u.mu.RUnlock()
		return matches(hash, password)
	})
}

// Verify runs check, a password comparison, under the throttle of from's
// address: one check at a time, at nice 19, none while the address is
// locked out, a delay after a failure. An address with recent failures
// waits behind those with fewer, and such addresses share a tenth of a
// CPU (checkQueue). Who names what was checked, for the log. The status
// page's admin login goes through it too. When ctx ends before the
// check's turn (the client hung up), nothing is checked and the result is
// Failed.
func (u *Users) Verify(ctx context.Context, from netip.Addr, who string, check func() bool) Result {
	if _, locked := u.Throttle.LockedOut(from); locked {
		return LockedOut
	}
	failures, turn := u.checks.acquire(ctx, from)
	if !turn {
		return Failed
	}
	// Checked again after the wait for one's turn, so that guesses sent
	// in parallel do not slip past a lockout.
	if _, locked := u.Throttle.LockedOut(from); locked {
		u.checks.release(failures, 0)
		return LockedOut
	}
	start := time.Now()
	ok := atLowPriority(check)
	took := time.Since(start)
	// The outcome is counted before the next check gets its turn, which
	// is ranked by it.
	var delay time.Duration
	var locked bool
	if ok {
		u.Throttle.Succeeded(from)
	} else {
		delay, locked = u.Throttle.Failed(from)
	}
	u.checks.release(failures, took)
	if ok {
		return OK
	}
	log := u.logger()
	if locked {
		retry, _ := u.Throttle.LockedOut(from)
		log.Warn("login failed; too many failures from this address, refusing it for a while",
			"who", who, "remote", from.String(), "for", retry.Round(time.Second))
	} else {
		log.Info("login failed", "who", who, "remote", from.String())
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	if locked {
		return LockedOut
	}
	return Failed
}

// atLowPriority runs check on an OS thread of its own at the lowest CPU
// priority (nice 19), and returns its result. bcrypt costs 60 ms of CPU
// per check on purpose; a login then takes the CPU that streams leave
// over first. Not SCHED_IDLE, which would leave a check nothing at all
// while every CPU is busy: a family member whose typo made their address
// suspect would wait as long as the box is busy (in CI, a check of a
// suspect address so placed outwaited curl's 10 s timeout). The thread is
// never given back (LockOSThread without Unlock), so it ends with the
// goroutine, priority and all.
func atLowPriority(check func() bool) bool {
	done := make(chan bool, 1)
	go func() {
		runtime.LockOSThread()
		lowerThreadPriority()
		done <- check()
	}()
	return <-done
}

func (u *Users) logger() *slog.Logger {
	if u.Logger != nil {
		return u.Logger
	}
	return slog.Default()
}

// Matches reports whether password is the one of a bcrypt hash; an empty
// hash matches nothing, after as much work as a real one. For passwords
// kept outside Users (the admin's); run it through Verify.
func Matches(hash, password string) bool { return matches(hash, password) }
