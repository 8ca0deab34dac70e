package accounts

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/mediaftpd/mediaftpd/internal/testtool"
)

// mustHash hashes at bcrypt's lowest cost, to keep the tests quick under
// the race detector; TestHash checks Hash's own cost.
func mustHash(t *testing.T, password string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func TestHash(t *testing.T) {
	h, err := Hash("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if cost, err := bcrypt.Cost([]byte(h)); err != nil || cost != Cost {
		t.Errorf("cost %d, %v; want %d", cost, err, Cost)
	}
	if !Matches(h, "correct horse") || Matches(h, "correct horsE") || Matches("", "") {
		t.Error("Matches is wrong")
	}
	for _, bad := range []string{"short", strings.Repeat("x", 73)} {
		if _, err := Hash(bad); !errors.Is(err, ErrBadPassword) {
			t.Errorf("Hash(%d bytes) = %v, want ErrBadPassword", len(bad), err)
		}
	}
}

// logBuffer collects log output for checks.
type logBuffer = testtool.LogBuffer

func newUsers(t *testing.T) (*Users, *logBuffer) {
	u := New([]User{{"alice", mustHash(t, "alice's secret")}, {"bob", mustHash(t, "bob's secret")}}, true)
	u.Throttle.Delay = time.Millisecond
	var log logBuffer
	u.Logger = slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return u, &log
}

var (
	home  = netip.MustParseAddr("192.168.1.20")
	other = netip.MustParseAddr("192.168.1.21")
	v6a   = netip.MustParseAddr("2001:db8:1:2::10")
	v6b   = netip.MustParseAddr("2001:db8:1:2:ffff::1")
)

// TestLogin: right and wrong passwords, unknown names after the same
// bcrypt work, and no password in the log.
func TestLogin(t *testing.T) {
	u, log := newUsers(t)
	var calls atomic.Int32
	defer func(c func([]byte, []byte) error) { compare = c }(compare)
	compare = func(h, p []byte) error { calls.Add(1); return bcrypt.CompareHashAndPassword(h, p) }
	ctx := context.Background()

	for _, tc := range []struct {
		name, password string
		want           Result
	}{
		{"alice", "alice's secret", OK},
		{"alice", "bob's secret", Failed},
		{"Alice", "alice's secret", Failed},
		{"bob", "bob's secret", OK},
		// Last: the check that follows a failure waits 9 times as long
		// as it, and the dummy hash's cost is the real one.
		{"mallory", "alice's secret", Failed},
	} {
		before := calls.Load()
		if got := u.Login(ctx, tc.name, tc.password, home); got != tc.want {
			t.Errorf("Login(%q, %q) = %v, want %v", tc.name, tc.password, got, tc.want)
		}
		if n := calls.Load() - before; n != 1 {
			t.Errorf("Login(%q) ran bcrypt %d times, want 1 (unknown names cost the same)", tc.name, n)
		}
	}
	if strings.Contains(log.String(), "secret") {
		t.Errorf("a password is in the log:\n%s", log)
	}
	if !strings.Contains(log.String(), "user mallory") {
		t.Errorf("failed login not logged:\n%s", log)
	}
	if !u.HasUsers() || !u.Anonymous() || !u.Has("alice") || u.Has("Alice") || !slices.Equal(u.Names(), []string{"alice", "bob"}) {
		t.Error("HasUsers, Anonymous, Has or Names wrong")
	}
}

// TestThrottle: five failures lock the address (its /64 for IPv6) out,
// other addresses go on, a success clears the count, lockouts double up
// to MaxLockout and are forgotten when over.
func TestThrottle(t *testing.T) {
	u, _ := newUsers(t)
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	u.Throttle.Now = func() time.Time { return now }
	ctx := context.Background()

	for i := 1; i <= MaxFailures; i++ {
		want := Failed
		if i == MaxFailures {
			want = LockedOut
		}
		if got := u.Login(ctx, "bob", "guess", home); got != want {
			t.Fatalf("failure %d: %v, want %v", i, got, want)
		}
	}
	var calls atomic.Int32
	defer func(c func([]byte, []byte) error) { compare = c }(compare)
	compare = func(h, p []byte) error { calls.Add(1); return bcrypt.CompareHashAndPassword(h, p) }
	if got := u.Login(ctx, "alice", "alice's secret", home); got != LockedOut || calls.Load() != 0 {
		t.Errorf("locked out address with the right password: %v after %d checks, want LockedOut without one", got, calls.Load())
	}
	if got := u.Login(ctx, "alice", "alice's secret", other); got != OK {
		t.Errorf("another address: %v", got)
	}
	if retry, locked := u.Throttle.LockedOut(home); !locked || retry != FirstLockout {
		t.Errorf("lockout %v %v, want %v", retry, locked, FirstLockout)
	}
	now = now.Add(FirstLockout)
	if got := u.Login(ctx, "alice", "guess", home); got != LockedOut {
		t.Errorf("a failure after the lockout: %v, want LockedOut again", got)
	}
	if retry, _ := u.Throttle.LockedOut(home); retry != 2*FirstLockout {
		t.Errorf("second lockout %v, want %v", retry, 2*FirstLockout)
	}
	for range 10 {
		now = now.Add(MaxLockout)
		u.Login(ctx, "alice", "guess", home)
	}
	if retry, _ := u.Throttle.LockedOut(home); retry != MaxLockout {
		t.Errorf("lockout %v, want at most %v", retry, MaxLockout)
	}
	now = now.Add(MaxLockout)
	if got := u.Login(ctx, "alice", "alice's secret", home); got != OK {
		t.Errorf("after the lockout, the right password: %v", got)
	}
	if got := u.Login(ctx, "alice", "guess", home); got != Failed {
		t.Errorf("after a success the count starts again: %v", got)
	}
	if n := u.Throttle.Failures(home); n != 1 {
		t.Errorf("Failures after a success and a failure = %d, want 1", n)
	}
	now = now.Add(failureMemory + time.Second)
	if n := u.Throttle.Failures(home); n != 0 {
		t.Errorf("Failures after an hour = %d, want 0", n)
	}

	// IPv6: counted per /64.
	for range MaxFailures {
		u.Login(ctx, "bob", "guess", v6a)
	}
	if _, locked := u.Throttle.LockedOut(v6b); !locked {
		t.Error("another address of the same /64 is not locked out")
	}
}

// TestLoginParallel: guesses sent at once from one address do not slip
// past the lockout.
func TestLoginParallel(t *testing.T) {
	u, _ := newUsers(t)
	var failed, locked atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			switch u.Login(context.Background(), "alice", "guess", home) {
			case Failed:
				failed.Add(1)
			case LockedOut:
				locked.Add(1)
			}
		})
	}
	wg.Wait()
	if failed.Load() != MaxFailures-1 || locked.Load() != 20-(MaxFailures-1) {
		t.Errorf("%d failed and %d locked out; want %d and %d", failed.Load(), locked.Load(), MaxFailures-1, 20-(MaxFailures-1))
	}
}

// TestSet: a reload reports the users removed and those whose password
// changed.
func TestSet(t *testing.T) {
	u, _ := newUsers(t)
	carol := mustHash(t, "carol's secret")
	ended := u.Set([]User{{"alice", mustHash(t, "a new secret")}, {"carol", carol}}, false)
	if !slices.Equal(ended, []string{"alice", "bob"}) {
		t.Errorf("ended %q, want alice (new password) and bob (removed)", ended)
	}
	if u.Anonymous() || u.Has("bob") || !u.Has("carol") {
		t.Error("Set not applied")
	}
	if ended := u.Set([]User{{"alice", u.hashes["alice"]}, {"carol", carol}}, false); len(ended) != 0 {
		t.Errorf("the same users again ended %q", ended)
	}
	if ended := u.Set(nil, true); len(ended) != 2 || u.HasUsers() {
		t.Errorf("no users: ended %q, HasUsers %v", ended, u.HasUsers())
	}
}

// TestLoginContext: a cancelled context ends the wait for one's turn.
func TestLoginContext(t *testing.T) {
	u, _ := newUsers(t)
	u.checks.acquire(context.Background(), other) // someone else's check runs
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got := u.Login(ctx, "alice", "alice's secret", home); got != Failed {
		t.Errorf("Login with a cancelled context = %v", got)
	}
	u.checks.release(0, 0)
	if got := u.Login(context.Background(), "alice", "alice's secret", home); got != OK {
		t.Errorf("Login after the cancelled one = %v", got)
	}
}
