package mcast_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/mcast"
	"github.com/mediaftpd/mediaftpd/internal/mcast/mcasttest"
	"github.com/mediaftpd/mediaftpd/internal/netif"
	"github.com/mediaftpd/mediaftpd/internal/testtool"
)

var errNoInterface = errors.New("no interface with an IPv4 address")

var (
	eth0  = netif.Interface{Index: 2, Name: "eth0", Addrs: netif.Addrs{V4: []netip.Addr{netip.MustParseAddr("192.168.1.20")}}}
	wlan0 = netif.Interface{Index: 3, Name: "wlan0", Addrs: netif.Addrs{V4: []netip.Addr{netip.MustParseAddr("10.0.0.7")}}}
	usb0  = netif.Interface{Index: 4, Name: "usb0"} // no address: not usable
)

// engine is a fake protocol: it records what the loop hands it, echoes
// every packet received as one to send, sends "tick" at its deadline,
// and says "bye" on every interface it has.
type engine struct {
	mu       sync.Mutex
	ifaces   []string // names, as last set
	received []string
	ticks    int
	deadline time.Time
	out      []string
}

func (e *engine) SetInterfaces(_ time.Time, list []netif.Interface) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ifaces = nil
	for _, i := range list {
		e.ifaces = append(e.ifaces, i.Name)
	}
}

func (e *engine) Receive(_ time.Time, p string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.received = append(e.received, p)
	e.out = append(e.out, "re: "+p)
}

func (e *engine) Advance(now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.deadline.IsZero() && !now.Before(e.deadline) {
		e.ticks++
		e.deadline = time.Time{}
		e.out = append(e.out, "tick")
	}
}

func (e *engine) TakeOut() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := e.out
	e.out = nil
	return out
}

func (e *engine) NextDeadline() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.deadline
}

func (e *engine) Goodbye() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, name := range e.ifaces {
		out = append(out, "bye "+name)
	}
	return out
}

func (e *engine) state() (ifaces, received []string, ticks int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.ifaces), slices.Clone(e.received), e.ticks
}

// published is what a Loop published.
type published struct {
	mu   sync.Mutex
	all  []string // "problem" or "stopped: problem"
	last string
}

func (p *published) publish(problem string, stopped bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if stopped {
		problem = "stopped: " + problem
	}
	p.all = append(p.all, problem)
	p.last = problem
}

func (p *published) get() (all []string, last string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.all), p.last
}

type fixture struct {
	e      *engine
	ifs    *mcasttest.Interfaces
	tr     *mcasttest.Transport[string, string]
	pub    *published
	log    *mcasttest.LogBuffer
	opened func() int // how often Open was called
	stop   func() error
	said   chan bool // what Run returned
}

// start runs a Loop over a fake engine and transport with the
// interfaces set in ifs; openErr, if set, makes Open fail while it
// returns an error.
func start(t *testing.T, ifs *mcasttest.Interfaces, openErr func() error) *fixture {
	t.Helper()
	log, buf := mcasttest.Logger()
	f := &fixture{e: &engine{}, ifs: ifs, tr: &mcasttest.Transport[string, string]{}, pub: &published{}, log: buf, said: make(chan bool, 1)}
	var mu sync.Mutex
	opens := 0
	f.opened = func() int { mu.Lock(); defer mu.Unlock(); return opens }
	loop := &mcast.Loop[string, string]{
		Name:         "Test",
		Engine:       f.e,
		Log:          log,
		Interfaces:   []string{"eth0", "wlan0", "usb0"},
		Usable:       func(i netif.Interface) bool { return len(i.V4) > 0 },
		NoInterface:  errNoInterface,
		PollInterval: 5 * time.Millisecond,
		List:         ifs.List,
		Open: func(in chan<- string, log *slog.Logger) (mcast.Transport[string], error) {
			mu.Lock()
			opens++
			mu.Unlock()
			if openErr != nil {
				if err := openErr(); err != nil {
					return nil, err
				}
			}
			return f.tr.Open(in, log)
		},
		Publish: f.pub.publish,
	}
	f.stop = mcasttest.Start(t, nil, func(ctx context.Context) error {
		f.said <- loop.Run(ctx)
		return nil
	})
	return f
}

// TestLoopWaitsForInterface: with no usable interface the loop opens
// nothing, reports the problem once (with what List said) and publishes
// it; once an interface is usable it opens the transport, joins, hands
// the engine the interface, and reports the problem solved.
func TestLoopWaitsForInterface(t *testing.T) {
	ifs := &mcasttest.Interfaces{}
	ifs.Set([]netif.Interface{usb0}, "interface wlan0 does not exist")
	f := start(t, ifs, nil)
	want := errNoInterface.Error() + "; waiting for one; interface wlan0 does not exist"
	testtool.WaitFor(t, "the problem published", func() bool { _, last := f.pub.get(); return last == want })
	all, _ := f.pub.get()
	testtool.WaitFor(t, "ten more polls", func() bool { more, _ := f.pub.get(); return len(more) >= len(all)+10 })
	if f.opened() != 0 || len(f.tr.Joined()) != 0 {
		t.Errorf("opened %d times, joined %v without a usable interface", f.opened(), f.tr.Joined())
	}

	ifs.Set([]netif.Interface{eth0, usb0})
	testtool.WaitFor(t, "eth0 in use", func() bool { ifaces, _, _ := f.e.state(); return slices.Equal(ifaces, []string{"eth0"}) })
	testtool.WaitFor(t, "no problem published", func() bool { _, last := f.pub.get(); return last == "" })
	if !slices.Equal(f.tr.Joined(), []int{eth0.Index}) || f.opened() != 1 {
		t.Errorf("joined %v, opened %d times", f.tr.Joined(), f.opened())
	}
	if err := f.stop(); err != nil {
		t.Fatal(err)
	}
	log := f.log.String()
	if n := strings.Count(log, `level=WARN msg="Test: `+want+`"`); n != 1 {
		t.Errorf("problem logged %d times, want once:\n%s", n, log)
	}
	if !strings.Contains(log, `level=INFO msg="Test: problem solved" was="`+want+`"`) {
		t.Errorf("no end of the problem in the log:\n%s", log)
	}
}

// TestLoopOpenFails: a transport that cannot be opened is a problem, and
// is tried again at the next poll.
func TestLoopOpenFails(t *testing.T) {
	ifs := &mcasttest.Interfaces{}
	ifs.Set([]netif.Interface{eth0})
	var mu sync.Mutex
	fail := true
	f := start(t, ifs, func() error {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			return errors.New("opening UDP port 9: address in use")
		}
		return nil
	})
	testtool.WaitFor(t, "the problem", func() bool { _, last := f.pub.get(); return last == "opening UDP port 9: address in use" })
	if ifaces, _, _ := f.e.state(); len(ifaces) != 0 {
		t.Errorf("engine has %v without a transport", ifaces)
	}
	testtool.WaitFor(t, "tried again", func() bool { return f.opened() >= 3 })
	mu.Lock()
	fail = false
	mu.Unlock()
	testtool.WaitFor(t, "eth0 in use", func() bool { ifaces, _, _ := f.e.state(); return slices.Equal(ifaces, []string{"eth0"}) })
	if _, last := f.pub.get(); last != "" {
		t.Errorf("problem %q once open", last)
	}
}

// TestLoopDrivesEngine: interfaces that come and go are joined and left
// (one without an address never is), received packets reach the engine,
// what it returns is sent, its deadline wakes it, and when the context
// ends the goodbyes go out twice on the interfaces in use, the last
// status is published, the transport is closed and Run says there were
// goodbyes.
func TestLoopDrivesEngine(t *testing.T) {
	ifs := &mcasttest.Interfaces{}
	ifs.Set([]netif.Interface{eth0, wlan0, usb0})
	f := start(t, ifs, nil)
	testtool.WaitFor(t, "both in use", func() bool { ifaces, _, _ := f.e.state(); return len(ifaces) == 2 })
	if got := f.tr.Joined(); !slices.Equal(got, []int{eth0.Index, wlan0.Index}) {
		t.Errorf("joined %v", got)
	}

	f.tr.In() <- "hello"
	testtool.WaitFor(t, "the echo sent", func() bool { return slices.Contains(f.tr.Sent(), "re: hello") })

	f.e.mu.Lock()
	f.e.deadline = time.Now().Add(20 * time.Millisecond)
	f.e.mu.Unlock()
	f.tr.In() <- "wake up" // so the loop sees the new deadline
	testtool.WaitFor(t, "the tick", func() bool { return slices.Contains(f.tr.Sent(), "tick") })

	ifs.Set([]netif.Interface{wlan0})
	testtool.WaitFor(t, "eth0 left", func() bool { return slices.Equal(f.tr.Left(), []int{eth0.Index}) })
	if ifaces, _, _ := f.e.state(); !slices.Equal(ifaces, []string{"wlan0"}) {
		t.Errorf("engine has %v", ifaces)
	}

	if err := f.stop(); err != nil {
		t.Fatal(err)
	}
	if !<-f.said {
		t.Error("Run says no goodbyes were sent")
	}
	sent := f.tr.Sent()
	if got := sent[len(sent)-2:]; fmt.Sprint(got) != "[bye wlan0 bye wlan0]" {
		t.Errorf("last sent %q, want the goodbye twice", got)
	}
	all, last := f.pub.get()
	if last != "stopped: " || slices.Contains(all[:len(all)-1], "stopped: ") {
		t.Errorf("published %q", all)
	}
	if !f.tr.Closed() {
		t.Error("transport not closed")
	}
}

// TestLoopNoGoodbyeWithoutTransport: a loop that never had an interface
// sends nothing when it ends, and says so.
func TestLoopNoGoodbyeWithoutTransport(t *testing.T) {
	f := start(t, &mcasttest.Interfaces{}, nil)
	testtool.WaitFor(t, "the problem", func() bool { _, last := f.pub.get(); return last != "" })
	if err := f.stop(); err != nil {
		t.Fatal(err)
	}
	if <-f.said || len(f.tr.Sent()) != 0 || f.tr.Closed() {
		t.Errorf("sent %q, closed %v", f.tr.Sent(), f.tr.Closed())
	}
	if _, last := f.pub.get(); !strings.HasPrefix(last, "stopped: "+errNoInterface.Error()) {
		t.Errorf("last published %q", last)
	}
}
