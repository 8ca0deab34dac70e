package ftpd

import (
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSetLimitsSessions checks that limits lowered while the server runs
// refuse new connections with 421 and leave the sessions there are alone,
// a running transfer included, and that raised limits admit them again.
func TestSetLimitsSessions(t *testing.T) {
	ts, dir := newTestServer(t, func(s *Server) { s.MaxPerIP = 4 })
	bigSparse(t, dir, "big.mkv", 64<<20)
	xfer, data := startBigRetr(t, ts.Addr, "/Media/big.mkv")
	a := login(t, ts.Addr)
	b := login(t, ts.Addr)

	ts.SetLimits(Limits{MaxPerIP: 2})
	if got := ts.Limits().MaxPerIP; got != 2 {
		t.Fatalf("Limits().MaxPerIP = %d after SetLimits, want 2", got)
	}
	expectRefused(t, ts.Addr, "127.0.0.1") // 3 sessions, the new limit 2
	loginFrom(t, ts.Addr, "127.0.0.2").cmd("NOOP", 200)
	a.cmd("NOOP", 200)
	b.cmd("NOOP", 200)
	data.SetReadDeadline(time.Now().Add(time.Minute))
	if n, err := io.Copy(io.Discard, data); err != nil || n != 64<<20-64<<10 {
		t.Fatalf("the running transfer after SetLimits: %d bytes, %v; want the rest of the file", n, err)
	}
	xfer.expect(226)

	ts.SetLimits(Limits{MaxClients: 3})
	expectRefused(t, ts.Addr, "127.0.0.3") // 4 sessions, the new limit 3
	ts.SetLimits(Limits{})                 // defaults again
	loginFrom(t, ts.Addr, "127.0.0.3").cmd("NOOP", 200)
	login(t, ts.Addr).cmd("NOOP", 200)
}

// TestSetLimitsIdleTimeout checks that a new idle timeout applies to a
// session already waiting for its next command.
func TestSetLimitsIdleTimeout(t *testing.T) {
	ts, _ := newTestServer(t, func(s *Server) { s.IdleTimeout = time.Hour })
	c := login(t, ts.Addr)
	ts.SetLimits(Limits{IdleTimeout: 200 * time.Millisecond})
	c.expect(421)
	expectEOF(t, c)
}

// TestSetLimitsPassivePorts checks that PASV uses a new passive port range.
func TestSetLimitsPassivePorts(t *testing.T) {
	lo := freePortRange(t, 2)
	ts, _ := newTestServer(t, nil)
	c := login(t, ts.Addr)
	ts.SetLimits(Limits{PasvMin: lo, PasvMax: lo + 1})
	for range 3 {
		if port, raw := epsvPort(t, c); port < lo || port > lo+1 {
			t.Fatalf("EPSV after SetLimits: %q, want a port in %d-%d", raw, lo, lo+1)
		}
	}
}

// TestSetLimitsConcurrent changes limits while sessions come and go, for
// the race detector.
func TestSetLimitsConcurrent(t *testing.T) {
	ts, _ := newTestServer(t, nil)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			ts.SetLimits(Limits{MaxClients: 50 + i%2, MaxPerIP: 20 + i%2, IdleTimeout: time.Minute + time.Duration(i%2)})
		}
	})
	for range 20 {
		c := login(t, ts.Addr)
		if got := c.list("NLST /"); !strings.Contains(got, "Media") {
			t.Errorf("NLST / = %q", got)
		}
		c.cmd("QUIT", 221)
	}
	close(stop)
	wg.Wait()
}
