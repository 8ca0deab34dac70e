package main

import "testing"

// TestReclaimer: memory is given back once no session is open and enough
// was allocated since the last time, not while sessions run, and not again
// while nothing happens.
func TestReclaimer(t *testing.T) {
	var sessions int
	var allocs uint64
	frees := 0
	r := &reclaimer{
		sessions: func() int { return sessions },
		allocs:   func() uint64 { return allocs },
		free:     func() { frees++ },
	}
	last := r.check(0)
	if frees != 0 {
		t.Fatalf("freed at start with nothing allocated")
	}
	sessions, allocs = 3, 100<<20 // a busy evening
	last = r.check(last)
	if frees != 0 {
		t.Fatalf("freed while 3 sessions were open")
	}
	sessions = 0 // everyone went to bed
	last = r.check(last)
	if frees != 1 {
		t.Fatalf("not freed once idle after 100 MiB of allocations (frees %d)", frees)
	}
	for range 5 { // a quiet night
		last = r.check(last)
	}
	if frees != 1 {
		t.Fatalf("freed %d times while idle and allocating nothing", frees)
	}
	allocs += 1 << 20 // the status page polled now and then
	last = r.check(last)
	if frees != 1 {
		t.Fatalf("freed after only 1 MiB")
	}
	allocs += reclaimAfter // a short session came and went between looks
	r.check(last)
	if frees != 2 {
		t.Fatalf("not freed after a session that came and went (frees %d)", frees)
	}
}

// TestReclaimerStart: the first look frees what the start left, though it
// allocated less than reclaimAfter, once no session is open; and only once.
func TestReclaimerStart(t *testing.T) {
	sessions, allocs := 1, uint64(3<<20) // a small share's start
	frees := 0
	r := &reclaimer{
		sessions: func() int { return sessions },
		allocs:   func() uint64 { return allocs },
		free:     func() { frees++ },
	}
	last := r.check(r.atStart())
	if frees != 0 {
		t.Fatalf("freed at the first look with a session open")
	}
	sessions = 0
	allocs += 1 << 20
	last = r.check(last)
	if frees != 1 {
		t.Fatalf("the start's memory not freed at the first idle look (frees %d)", frees)
	}
	for range 5 {
		last = r.check(last)
	}
	if frees != 1 {
		t.Fatalf("freed %d times while idle and allocating nothing", frees)
	}
}
