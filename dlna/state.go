package dlna

import (
	"path"
	"sync"
	"time"

	"github.com/mediaftpd/mediaftpd/library/store"
)

// State is where the server keeps what must outlive it: its UDN, the
// high-water mark of SystemUpdateID and the resume positions Samsung TVs
// set with X_SetBookmark. Positions are those of the web player too: one
// position per file, whoever set it last. *store.Store implements it. It
// must be safe for concurrent use.
type State interface {
	// Value returns the small value called name, if one is kept.
	Value(name string) ([]byte, bool)
	// SetValue keeps v under name before it returns; nil removes it.
	SetValue(name string, v []byte) error
	// Position returns where the file rel of the share stopped playing,
	// and when that was set.
	Position(share, rel string) (pos time.Duration, at time.Time, ok bool)
	// SetPosition keeps pos for the file rel of the share, set at the
	// time at; pos <= 0 removes it.
	SetPosition(share, rel string, pos time.Duration, at time.Time) error
	// PositionsIn calls fn with the name and position of each file
	// directly in the folder dir of the share ("." for its top) that has
	// one, in one read.
	PositionsIn(share, dir string, fn func(name string, pos time.Duration))
}

var _ State = (*store.Store)(nil)

// The names of the server's values in State.
const (
	// valueUDN holds the UDN, "uuid:...".
	valueUDN = "dlna.udn"
	// valueUpdateID holds a SystemUpdateID not yet used, in decimal.
	valueUpdateID = "dlna.updateid"
	// valueBookmarksMigrated is set once the bookmarks of an earlier
	// version's file (StateDir) were moved into State.
	valueBookmarksMigrated = "dlna.bookmarks-migrated"
)

// memState is the State of a server without one: held in memory, lost at
// exit.
type memState struct {
	mu        sync.Mutex
	values    map[string][]byte
	positions map[[2]string]memPosition
}

type memPosition struct {
	pos time.Duration
	at  time.Time
}

func newMemState() *memState {
	return &memState{values: make(map[string][]byte), positions: make(map[[2]string]memPosition)}
}

func (m *memState) Value(name string) ([]byte, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.values[name]
	return append([]byte(nil), v...), ok
}

func (m *memState) SetValue(name string, v []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if v == nil {
		delete(m.values, name)
	} else {
		m.values[name] = append([]byte(nil), v...)
	}
	return nil
}

func (m *memState) Position(share, rel string) (time.Duration, time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.positions[[2]string{share, rel}]
	return p.pos, p.at, ok
}

func (m *memState) SetPosition(share, rel string, pos time.Duration, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if pos <= 0 {
		delete(m.positions, [2]string{share, rel})
	} else {
		m.positions[[2]string{share, rel}] = memPosition{pos, at}
	}
	return nil
}

func (m *memState) PositionsIn(share, dir string, fn func(name string, pos time.Duration)) {
	m.mu.Lock()
	var names []string
	var poss []time.Duration
	for k, p := range m.positions {
		if k[0] == share && path.Dir(k[1]) == dir {
			names, poss = append(names, path.Base(k[1])), append(poss, p.pos)
		}
	}
	m.mu.Unlock()
	for i, name := range names {
		fn(name, poss[i])
	}
}
