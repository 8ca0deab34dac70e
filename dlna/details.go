package dlna

import (
	"fmt"
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
	d, ok := srv.Details.Of(real.share, real.rel, l.e)
	if !ok {
		return
	}
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
	for _, k := range keys {
		if propFromDetails(k.prop, l.e.Name) {
			srv.lookDetails(l)
			return
		}
	}
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
	d = d.Round(time.Millisecond)
	ms := int64(d / time.Millisecond)
	return fmt.Sprintf("%d:%02d:%02d.%03d", ms/3_600_000, ms/60_000%60, ms/1000%60, ms%1000)
}
