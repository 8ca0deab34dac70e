package dlna

import (
	"strconv"
	"time"

	"github.com/mediaftpd/mediaftpd/library"
	"github.com/mediaftpd/mediaftpd/library/probe"
)

// Media details (duration, picture size, audio format, tags, when a photo
// was taken) come from Details, which reads them from the store: nothing
// is probed during a Browse. They are looked up for the objects of the
// page only, one store lookup each, and for every object a sort or a
// search compares by a property they change (dc:title of a song, dc:date
// of a photo).

// Details returns the media details of the files of the index, as
// library.Prober keeps them. It must be safe for concurrent use.
type Details interface {
	// Of returns the details of the file rel of the share whose index
	// entry is e, if they are known for that version of the file. It
	// reads no media file.
	Of(share, rel string, e library.Entry) (probe.Details, bool)
	// OfMany is Of for many files of one share at once: rels[i] is the
	// path of the file whose entry is es[i]. It calls fn with the index
	// of each file whose details are known, once each, in any order.
	OfMany(share string, rels []string, es []library.Entry, fn func(i int, d probe.Details))
}

var _ Details = (*library.Prober)(nil)

// lookDetails looks up the details of the file l, once, and applies them
// to its title (a song's tag title) and date (when a photo was taken).
func (srv *Server) lookDetails(l *listed) {
	if l.looked || l.e.Dir || srv.Details == nil {
		return
	}
	l.looked = true
	real := l.obj.real()
	if d, ok := srv.Details.Of(real.share, real.rel, l.e); ok {
		srv.applyDetails(l, d)
	}
}

// lookDetailsMany is lookDetails for the objects of ls that want says,
// in one Details.OfMany per share: a page of a listing reads the store
// once.
func (srv *Server) lookDetailsMany(ls []listed, want func(*listed) bool) {
	if srv.Details == nil {
		return
	}
	type batch struct {
		rels []string
		es   []library.Entry
		at   []*listed
	}
	var batches map[string]*batch
	for i := range ls {
		l := &ls[i]
		if l.looked || l.e.Dir || !want(l) {
			continue
		}
		l.looked = true
		real := l.obj.real()
		if batches == nil {
			batches = make(map[string]*batch, 1)
		}
		b := batches[real.share]
		if b == nil {
			n := len(ls) - i // all the rest, most often
			b = &batch{make([]string, 0, n), make([]library.Entry, 0, n), make([]*listed, 0, n)}
			batches[real.share] = b
		}
		b.rels, b.es, b.at = append(b.rels, real.rel), append(b.es, l.e), append(b.at, l)
	}
	for share, b := range batches {
		srv.Details.OfMany(share, b.rels, b.es, func(i int, d probe.Details) { srv.applyDetails(b.at[i], d) })
	}
}

// applyDetails records the details d of the file l and applies them to
// its title (a song's tag title) and date (when a photo was taken).
func (srv *Server) applyDetails(l *listed, d probe.Details) {
	l.details, l.hasDetails = d, true
	switch library.KindOf(l.e.Name) {
	case library.Audio:
		if d.Title != "" {
			l.title = cleanText(d.Title)
		}
	case library.Image:
		if !d.Taken.IsZero() {
			l.date = wallClock(d.Taken, srv.loc())
		}
	}
}

// needsDetails reports whether sorting by keys compares what details
// change: dc:title (songs) or dc:date (photos).
func needsDetails(keys []sortKey) bool {
	return containsKey(keys, "dc:title") || containsKey(keys, "dc:date")
}

// propFromDetails reports whether the property prop of the file named
// name comes from its details: a song's dc:title and tags, a photo's
// dc:date. Only then do sorts and searches look its details up.
func propFromDetails(prop, name string) bool {
	switch prop {
	case "dc:title", "upnp:artist", "dc:creator", "upnp:album":
		return library.KindOf(name) == library.Audio
	case "dc:date":
		return library.KindOf(name) == library.Image
	}
	return false
}

// lookDetailsFor looks up the details of l if one of the properties keys
// sort by comes from them.
func (srv *Server) lookDetailsFor(l *listed, keys []sortKey) {
	if sortsByDetails(l, keys) {
		srv.lookDetails(l)
	}
}

// sortsByDetails reports whether one of the properties keys sort by comes
// from the details of l.
func sortsByDetails(l *listed, keys []sortKey) bool {
	for _, k := range keys {
		if propFromDetails(k.prop, l.e.Name) {
			return true
		}
	}
	return false
}

// wallClock returns the time in loc that shows the wall clock of t: EXIF
// dates are the camera's clock as written, without a zone, and are shown
// as they are.
func wallClock(t time.Time, loc *time.Location) time.Time {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	return time.Date(y, mo, d, h, mi, s, t.Nanosecond(), loc)
}

// loc returns the location of dc:date.
func (srv *Server) loc() *time.Location {
	if srv.location != nil {
		return srv.location
	}
	return time.Local
}

// formatDuration returns d as res@duration: "H:MM:SS.mmm" (hours not
// padded, milliseconds rounded), as DLNA wants and Bravias insist on.
func formatDuration(d time.Duration) string {
	return string(appendDuration(nil, d))
}

// appendDuration appends formatDuration(d) to b.
func appendDuration(b []byte, d time.Duration) []byte {
	ms := int64(d.Round(time.Millisecond) / time.Millisecond)
	b = strconv.AppendInt(b, ms/3_600_000, 10)
	b = appendPadded(append(b, ':'), ms/60_000%60, 2)
	b = appendPadded(append(b, ':'), ms/1000%60, 2)
	return appendPadded(append(b, '.'), ms%1000, 3)
}

// appendPadded appends v, 0 <= v, in at least width digits.
func appendPadded(b []byte, v int64, width int) []byte {
	for p := int64(10); width > 1; width-- {
		if v < p {
			b = append(b, '0')
		}
		p *= 10
	}
	return strconv.AppendInt(b, v, 10)
}
