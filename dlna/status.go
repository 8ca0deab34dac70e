package dlna

import (
	"cmp"
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/mediaftpd/mediaftpd/dlna/quirks"
)

// Status is a snapshot of the DLNA server for the status page.
type Status struct {
	// UDN is the server's unique device name.
	UDN string `json:"udn"`
	// Subscriptions is the number of GENA subscriptions, all services.
	Subscriptions int `json:"subscriptions"`
	// SystemUpdateID is ContentDirectory's SystemUpdateID now.
	SystemUpdateID uint32 `json:"system_update_id"`
	// Players are the clients that browsed or streamed within
	// PlayerWindow, the most recently seen first.
	Players []Player `json:"players"`
	// Streams are the files being streamed now, the oldest first.
	Streams []Stream `json:"streams"`
}

// Player is a client that browsed or streamed recently.
type Player struct {
	// Name is what the client is ("Samsung TV", "LG TV", ... as
	// quirks.Detect tells), with its model when it gives one, or else its
	// User-Agent, cleaned and cut to 100 bytes; "" if it sent none.
	Name string `json:"name"`
	// Addr is the client's address.
	Addr netip.Addr `json:"addr"`
	// LastSeen is when it last made a request.
	LastSeen time.Time `json:"last_seen"`
}

// Stream is a file being streamed.
type Stream struct {
	// Share and Path name the file: its share and share-relative path.
	Share string `json:"share"`
	Path  string `json:"path"`
	// Client is the player's address; Player its name as in Player.Name.
	Client netip.Addr `json:"client"`
	Player string     `json:"player"`
	// Started is when the request came.
	Started time.Time `json:"started"`
	// Size is the file's size; Sent the bytes sent so far. The rate is
	// the change of Sent between two snapshots.
	Size int64 `json:"size"`
	Sent int64 `json:"sent"`
}

// Status limits.
const (
	// PlayerWindow is how long a client stays in Status.Players after its
	// last request.
	PlayerWindow = 15 * time.Minute
	// maxPlayers bounds the clients remembered; the one seen longest ago
	// is forgotten first.
	maxPlayers = 64
	// maxPlayerName bounds a player name taken from a User-Agent.
	maxPlayerName = 100
)

// statusTracker keeps the players seen and the streams running.
type statusTracker struct {
	mu      sync.Mutex // guards the fields below
	players map[netip.Addr]*Player
	streams map[*stream]struct{}
}

// stream is a running stream; sent is updated by media.Serve.
type stream struct {
	info Stream
	sent atomic.Int64
}

// playerName returns the name a client is shown by.
func playerName(c quirks.Client, h http.Header) string {
	if c.Name != "" {
		if c.Model != "" {
			return c.Name + " (" + c.Model + ")"
		}
		return c.Name
	}
	ua := cleanText(h.Get("User-Agent"))
	if len(ua) > maxPlayerName {
		ua = ua[:maxPlayerName]
		for !utf8.ValidString(ua) { // do not cut a rune in two
			ua = ua[:len(ua)-1]
		}
	}
	return ua
}

// seen records a request from a player.
func (t *statusTracker) seen(addr netip.Addr, name string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.players == nil {
		t.players = make(map[netip.Addr]*Player)
	}
	if p, ok := t.players[addr]; ok {
		p.LastSeen = now
		if name != "" {
			p.Name = name
		}
		return
	}
	if len(t.players) >= maxPlayers {
		var oldest *Player
		for _, p := range t.players {
			if oldest == nil || p.LastSeen.Before(oldest.LastSeen) {
				oldest = p
			}
		}
		delete(t.players, oldest.Addr)
	}
	t.players[addr] = &Player{Name: name, Addr: addr, LastSeen: now}
}

// start records a stream that starts; call done when it ends.
func (t *statusTracker) start(info Stream) (s *stream, done func()) {
	s = &stream{info: info}
	t.mu.Lock()
	if t.streams == nil {
		t.streams = make(map[*stream]struct{})
	}
	t.streams[s] = struct{}{}
	t.mu.Unlock()
	return s, func() {
		t.mu.Lock()
		delete(t.streams, s)
		t.mu.Unlock()
	}
}

// snapshot returns the players seen since now-PlayerWindow and the
// streams.
func (t *statusTracker) snapshot(now time.Time) (players []Player, streams []Stream) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for addr, p := range t.players {
		if now.Sub(p.LastSeen) > PlayerWindow {
			delete(t.players, addr)
			continue
		}
		players = append(players, *p)
	}
	for s := range t.streams {
		st := s.info
		st.Sent = s.sent.Load()
		streams = append(streams, st)
	}
	slices.SortFunc(players, func(a, b Player) int {
		if c := b.LastSeen.Compare(a.LastSeen); c != 0 {
			return c
		}
		return a.Addr.Compare(b.Addr)
	})
	slices.SortFunc(streams, func(a, b Stream) int {
		if c := a.Started.Compare(b.Started); c != 0 {
			return c
		}
		return cmp.Compare(a.Path, b.Path)
	})
	return players, streams
}

// Status returns a snapshot of the server for the status page.
func (srv *Server) Status() Status {
	srv.init()
	st := Status{UDN: srv.udn, SystemUpdateID: srv.updates.systemID()}
	for _, svc := range srv.services {
		st.Subscriptions += svc.pub.Count()
	}
	st.Players, st.Streams = srv.status.snapshot(srv.clock())
	return st
}

// seenPlayer records that the client of r browsed or streamed.
func (srv *Server) seenPlayer(r *http.Request, c quirks.Client) {
	if addr, ok := remoteAddr(r); ok {
		srv.status.seen(addr, playerName(c, r.Header), srv.clock())
	}
}
