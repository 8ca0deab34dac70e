// Package mcasttest has the fakes that the tests of the multicast
// protocols (discovery, dlna/ssdp) share: an interface list and a
// transport that open no socket, a Run that lasts until the test ends,
// and a log the test can read.
package mcasttest

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/mcast"
	"github.com/mediaftpd/mediaftpd/internal/netif"
)

// Interfaces is a settable interface list, standing in for [netif.List].
// It is safe for concurrent use.
type Interfaces struct {
	mu       sync.Mutex
	list     []netif.Interface
	problems []string
}

// Set sets what List returns.
func (f *Interfaces) Set(list []netif.Interface, problems ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.list, f.problems = list, problems
}

// List returns what was set, whatever the names.
func (f *Interfaces) List([]string) ([]netif.Interface, []string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.list, f.problems, nil
}

// Transport records what a Loop does with its sockets; no socket is
// opened. It is safe for concurrent use.
type Transport[In, Out any] struct {
	mu     sync.Mutex
	in     chan<- In
	joined map[int]bool
	left   []int
	sent   []Out
	closed bool
}

var _ mcast.Transport[int] = (*Transport[int, int])(nil)

// Open is an mcast.Loop's Open: it returns f, keeping in.
func (f *Transport[In, Out]) Open(in chan<- In, _ *slog.Logger) (mcast.Transport[Out], error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.in = in
	return f, nil
}

// Join records the interface as joined.
func (f *Transport[In, Out]) Join(info netif.Interface) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.joined == nil {
		f.joined = map[int]bool{}
	}
	f.joined[info.Index] = true
	return nil
}

// Leave records the interface as left.
func (f *Transport[In, Out]) Leave(index int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.joined, index)
	f.left = append(f.left, index)
}

// Send records the packet as sent.
func (f *Transport[In, Out]) Send(p Out) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, p)
}

// Close records that the transport was closed.
func (f *Transport[In, Out]) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	return nil
}

// In is the channel the transport was opened with, where a test hands
// the Loop received packets; nil before Open.
func (f *Transport[In, Out]) In() chan<- In {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.in
}

// Sent returns the packets sent so far.
func (f *Transport[In, Out]) Sent() []Out {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sent)
}

// Joined returns the indexes of the interfaces joined and not left,
// sorted.
func (f *Transport[In, Out]) Joined() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Sorted(maps.Keys(f.joined))
}

// Left returns the indexes of the interfaces left, in order.
func (f *Transport[In, Out]) Left() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.left)
}

// Closed reports whether the transport was closed.
func (f *Transport[In, Out]) Closed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closed
}

// Start runs run on a goroutine, started by spawn (nil means the go
// statement), until stop is called or the test ends. stop cancels run's
// context and returns what run returned, or an error if it has not
// returned 5 s later; it may be called more than once.
func Start(t testing.TB, spawn func(func()), run func(context.Context) error) (stop func() error) {
	t.Helper()
	if spawn == nil {
		spawn = func(f func()) { go f() }
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	spawn(func() { ran <- run(ctx) })
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-ran:
			case <-time.After(5 * time.Second):
				err = errors.New("Run did not return")
			}
		})
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

// LogBuffer is a log destination safe for concurrent use.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *LogBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written.
func (s *LogBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Logger returns a logger of every level, writing text to a buffer the
// test reads.
func Logger() (*slog.Logger, *LogBuffer) {
	var buf LogBuffer
	return slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), &buf
}
