package mcast

import "time"

// Earliest keeps the earliest of the times it is given, the zero time
// standing for none, as an engine works out its next deadline. Its zero
// value holds none.
type Earliest struct{ t time.Time }

// Add considers u; a zero u is ignored.
func (e *Earliest) Add(u time.Time) {
	if !u.IsZero() && (e.t.IsZero() || u.Before(e.t)) {
		e.t = u
	}
}

// Time is the earliest time added; zero if none was.
func (e Earliest) Time() time.Time { return e.t }
