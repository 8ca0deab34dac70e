// Package mcast is what mediaftpd's multicast discovery protocols (mDNS
// in discovery, SSDP in dlna/ssdp) share below their own rules: a Loop
// that drives a protocol engine, which has no sockets and no clock, by
// polling the network interfaces, opening the transport once one is
// usable, joining and leaving the group as interfaces come and go,
// reporting problems once, and waking the engine when a packet arrives or
// its next deadline comes; and Conn, the UDP socket both transports are
// made of.
package mcast

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/netif"
)

// Engine is a protocol without sockets or clock, as a Loop drives it: it
// is handed the interfaces, the packets received and the time, and
// returns the packets to send. Its methods are called from the Loop's
// goroutine only.
type Engine[In, Out any] interface {
	// SetInterfaces hands it the interfaces in use (usable and with the
	// group joined), as they are now.
	SetInterfaces(now time.Time, list []netif.Interface)
	// Receive handles a packet received.
	Receive(now time.Time, p In)
	// Advance does what is due by now.
	Advance(now time.Time)
	// TakeOut returns and clears the packets to send.
	TakeOut() []Out
	// NextDeadline is when Advance next has something to do; zero if
	// never.
	NextDeadline() time.Time
	// Goodbye returns the packets that tell the network the protocol
	// stops (mDNS goodbyes, SSDP ssdp:byebye) and forgets what was
	// pending.
	Goodbye() []Out
}

// Transport is a protocol's sockets, as a Loop uses them. Its methods are
// called from the Loop's goroutine only; the packets it receives go to
// the channel it was opened with.
type Transport[Out any] interface {
	// Join makes the group's traffic on the interface arrive and lets
	// Send use the interface. It fails when the group cannot be joined
	// there at all.
	Join(info netif.Interface) error
	// Leave undoes Join; the interface may already be gone.
	Leave(index int)
	// Send sends a packet. A failure (an interface that just went away,
	// which the next poll notices) is the transport's to log.
	Send(p Out)
	// Close closes the sockets and waits for their readers to end.
	Close() error
}

// goodbyeRepeat and goodbyeGap: the goodbyes are sent twice, in case one
// is lost (Wi-Fi), which makes Run return this much after its context is
// done.
const (
	goodbyeRepeat = 2
	goodbyeGap    = 100 * time.Millisecond
)

// inQueue is how many received packets wait for the engine; one that
// finds the queue full is the transport's to drop.
const inQueue = 64

// Loop runs one Engine over one Transport. Set the fields, then call Run
// once.
type Loop[In, Out any] struct {
	// Name names the protocol at the start of every message logged,
	// like "mDNS".
	Name string
	// Engine is the protocol.
	Engine Engine[In, Out]
	// Log receives problems at warn level, their end at info level.
	Log *slog.Logger
	// Interfaces are the names of the interfaces to use, as for
	// [netif.List]: empty means every one that is up, multicast-capable
	// and not loopback.
	Interfaces []string
	// Usable reports whether the protocol can run on an interface (has
	// the addresses it needs).
	Usable func(netif.Interface) bool
	// NoInterface is the problem reported while no interface is usable,
	// followed by "; waiting for one".
	NoInterface error
	// PollInterval is how often the interfaces are listed; it must be
	// positive.
	PollInterval time.Duration
	// List lists the interfaces; nil means [netif.List].
	List func(names []string) ([]netif.Interface, []string, error)
	// Open opens the transport, once the first usable interface
	// appears; it is tried again at every poll until it succeeds.
	// Received packets go to in, which the transport must never block
	// on.
	Open func(in chan<- In, log *slog.Logger) (Transport[Out], error)
	// Publish, if set, is called from Run's goroutine after every step
	// with the problem that keeps the protocol from working fully ("",
	// when none), to show in a status; stopped is true for the last
	// call, after the goodbyes, as Run returns.
	Publish func(problem string, stopped bool)
}

// runner holds Run's state besides the engine.
type runner[In, Out any] struct {
	*Loop[In, Out]
	list func(names []string) ([]netif.Interface, []string, error)

	in      chan In
	tr      Transport[Out] // nil until an interface is usable
	joined  map[int]bool   // interface index -> tr.Join succeeded
	problem string         // the problem last logged; "" when none
}

// Run drives the engine until ctx is done. Then it sends the engine's
// goodbyes twice, goodbyeGap apart, publishes the last status, closes the
// transport and returns whether there were goodbyes to send.
func (l *Loop[In, Out]) Run(ctx context.Context) (saidGoodbye bool) {
	r := &runner[In, Out]{Loop: l, list: l.List, in: make(chan In, inQueue), joined: map[int]bool{}}
	if r.list == nil {
		r.list = netif.List
	}
	defer r.close()

	poll := time.NewTicker(l.PollInterval)
	defer poll.Stop()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	r.refresh(time.Now())
	for {
		l.Engine.Advance(time.Now())
		r.send(l.Engine.TakeOut())
		r.publish(false)
		if d := l.Engine.NextDeadline(); d.IsZero() {
			timer.Stop()
		} else {
			timer.Reset(time.Until(d))
		}
		select {
		case <-ctx.Done():
			if bye := l.Engine.Goodbye(); len(bye) > 0 && r.tr != nil {
				for i := range goodbyeRepeat {
					if i > 0 {
						time.Sleep(goodbyeGap)
					}
					r.send(bye)
				}
				saidGoodbye = true
			}
			r.publish(true)
			return saidGoodbye
		case <-poll.C:
			r.refresh(time.Now())
		case p := <-r.in:
			l.Engine.Receive(time.Now(), p)
		case <-timer.C:
		}
	}
}

// refresh lists the interfaces, opens the transport once there is one to
// use, joins and leaves the group, and hands the joined interfaces to the
// engine.
func (r *runner[In, Out]) refresh(now time.Time) {
	infos, problems, err := r.list(r.Interfaces)
	if err != nil {
		r.report(err.Error())
		return // keep the current state; try again next time
	}
	var usable []netif.Interface
	for _, info := range infos {
		if r.Usable(info) {
			usable = append(usable, info)
		}
	}
	if len(usable) == 0 {
		problems = append([]string{r.NoInterface.Error() + "; waiting for one"}, problems...)
	}
	if len(usable) > 0 && r.tr == nil {
		tr, err := r.Open(r.in, r.Log)
		if err != nil {
			problems = append(problems, err.Error())
			usable = nil
		} else {
			r.tr = tr
		}
	}
	var joined []netif.Interface
	inUse := map[int]bool{}
	for _, info := range usable {
		if !r.joined[info.Index] {
			if err := r.tr.Join(info); err != nil {
				problems = append(problems, err.Error())
				continue
			}
			r.joined[info.Index] = true
		}
		inUse[info.Index] = true
		joined = append(joined, info)
	}
	for idx := range r.joined {
		if !inUse[idx] {
			r.tr.Leave(idx)
			delete(r.joined, idx)
		}
	}
	r.Engine.SetInterfaces(now, joined)
	r.report(strings.Join(problems, "; "))
}

// report logs a problem when it differs from the last one.
func (r *runner[In, Out]) report(problem string) {
	if problem == r.problem {
		return
	}
	switch {
	case problem != "":
		r.Log.Warn(r.Name + ": " + problem)
	case r.problem != "":
		r.Log.Info(r.Name+": problem solved", "was", r.problem)
	}
	r.problem = problem
}

func (r *runner[In, Out]) publish(stopped bool) {
	if r.Publish != nil {
		r.Publish(r.problem, stopped)
	}
}

func (r *runner[In, Out]) send(pkts []Out) {
	if r.tr == nil {
		return
	}
	for _, p := range pkts {
		r.tr.Send(p)
	}
}

func (r *runner[In, Out]) close() {
	if r.tr != nil {
		r.tr.Close()
	}
}
