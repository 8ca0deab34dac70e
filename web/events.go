package web

import (
	"bytes"
	"net/http"
	"sync"
	"time"
)

// Live updates. GET /events is a stream of Server-Sent Events, each named
// "status" and holding the page's status section as HTML, rendered by the
// same template as the page. A page swaps it in, so there is one renderer
// and no client-side templating. An event is sent when the share set or
// its index changes (through library.Set.Subscribe, at most every
// eventGap), and on a tick for what changes by itself: transfer progress
// and rates, and the progress of reading media details, every second
// while a transfer runs or details are read; uptime and "5 min ago"
// every idleTick otherwise. An event identical to the last one is not
// sent again; a comment line keeps idle connections alive.
//
// Each event is made for the stream's viewer, looked at again for every
// event: a stream opened by a user whose session has ended (logged out,
// removed, given a new password) goes on with what a visitor sees, at
// once, since ending sessions wakes the streams; so does a change of the
// users, which the admin's page lists. A page that logs in or
// out opens its stream again, with its new cookie.
//
// Server-Sent Events rather than polling: a change on disk reaches every
// open page at once, and an idle page costs one quiet connection. The
// browser's EventSource reconnects by itself after a restart.
const (
	eventGap      = 250 * time.Millisecond
	busyTick      = time.Second
	idleTick      = 5 * time.Second
	keepAlive     = 25 * time.Second
	eventDeadline = 10 * time.Second // for writing one event to a slow client
	// maxStreams bounds the open streams; more get 503 (and the page,
	// whose EventSource retries, gets one later).
	maxStreams = 64
)

// serveEvents is GET /events.
func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	if s.streams.Add(1) > maxStreams {
		s.streams.Add(-1)
		w.Header().Set("Retry-After", "10")
		http.Error(w, "Too many open pages.", http.StatusServiceUnavailable)
		return
	}
	defer s.streams.Add(-1)
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	// Told of every change, including those in shares the viewer may not
	// see: what is sent is made for the viewer, and an event identical
	// to the last is not sent.
	changed, cancel := s.Shares.Subscribe()
	defer cancel()

	var last []byte
	lastSent := time.Now()
	var woken <-chan struct{} // closed by a change after the viewer was looked at
	send := func(now time.Time) (busy bool, err error) {
		woken = s.wake.wait()
		data := s.pageData(now, s.viewerOf(r, false))
		for _, ss := range data.Sessions {
			busy = busy || ss.Transfer != nil
		}
		busy = busy || len(data.DLNA.Streams) > 0 || data.Details.Running
		var b bytes.Buffer
		if err := s.tmpl.ExecuteTemplate(&b, "status", data); err != nil {
			s.logger().Error("rendering the status failed", "err", err)
			return busy, err
		}
		if bytes.Equal(b.Bytes(), last) {
			if now.Sub(lastSent) < keepAlive {
				return busy, nil
			}
			return busy, write(rc, w, []byte(": keep-alive\n\n"), &lastSent, now)
		}
		last = bytes.Clone(b.Bytes())
		return busy, write(rc, w, eventBytes("status", b.Bytes()), &lastSent, now)
	}

	busy, err := send(time.Now())
	if err != nil {
		return
	}
	tick := time.NewTimer(idleTick)
	defer tick.Stop()
	for {
		if busy {
			tick.Reset(busyTick)
		} else {
			tick.Reset(idleTick)
		}
		select {
		case <-r.Context().Done():
			return
		case <-s.closed:
			return
		case <-woken:
		case <-changed:
			// Let a burst of changes settle into one event.
			select {
			case <-time.After(eventGap):
			case <-r.Context().Done():
				return
			case <-s.closed:
				return
			}
		case <-tick.C:
		}
		if busy, err = send(time.Now()); err != nil {
			return
		}
	}
}

// broadcast wakes every goroutine waiting on it: live update streams are
// woken by what library.Set.Subscribe does not tell, sessions that ended
// and users that changed. The zero broadcast is ready to use.
type broadcast struct {
	mu sync.Mutex
	ch chan struct{} // closed by notify; nil until someone waits
}

// wait returns a channel closed by the next notify.
func (b *broadcast) wait() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ch == nil {
		b.ch = make(chan struct{})
	}
	return b.ch
}

// notify wakes those waiting.
func (b *broadcast) notify() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ch != nil {
		close(b.ch)
		b.ch = nil
	}
}

// write writes one event (or comment) and flushes it, within
// eventDeadline whatever the http.Server's WriteTimeout.
func write(rc *http.ResponseController, w http.ResponseWriter, p []byte, lastSent *time.Time, now time.Time) error {
	rc.SetWriteDeadline(now.Add(eventDeadline))
	if _, err := w.Write(p); err != nil {
		return err
	}
	*lastSent = now
	return rc.Flush()
}

// eventBytes formats one Server-Sent Event: each line of data gets its
// own "data:" field. A carriage return, which would end a line too (file
// names may hold one), is written as an HTML character reference.
func eventBytes(name string, data []byte) []byte {
	data = bytes.ReplaceAll(data, []byte("\r"), []byte("&#13;"))
	var b bytes.Buffer
	b.WriteString("event: " + name + "\n")
	for line := range bytes.Lines(data) {
		line = bytes.TrimSuffix(line, []byte("\n"))
		b.WriteString("data: ")
		b.Write(line)
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	return b.Bytes()
}
