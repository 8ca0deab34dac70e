package dlna

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"github.com/mediaftpd/mediaftpd/library"
	"github.com/mediaftpd/mediaftpd/library/probe"
)

// sortCapabilities is GetSortCapabilities' answer: the properties
// SortCriteria may name.
const sortCapabilities = "dc:title,dc:date,upnp:class"

// maxSortCriteria bounds a SortCriteria string.
const maxSortCriteria = 1024

// sortKey is one element of a SortCriteria.
type sortKey struct {
	prop string // "dc:title", "dc:date" or "upnp:class"
	desc bool
}

// parseSort parses a SortCriteria (ContentDirectory:1, 2.5.7): a comma
// separated list of properties, each with "+" (ascending) or "-"
// (descending) in front; a missing sign means "+". An empty string, or one
// naming only properties we cannot sort by, returns no keys: the default
// order. Properties we cannot sort by are left out rather than refused,
// because some clients send a fixed list (an old Panasonic sends
// "+upnp:class,+dc:title,+upnp:originalTrackNumber"). What does not look
// like a list of properties is errBadSort.
func parseSort(s string) ([]sortKey, error) {
	if len(s) > maxSortCriteria {
		return nil, fmt.Errorf("%w: longer than %d bytes", errBadSort, maxSortCriteria)
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var keys []sortKey
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		k := sortKey{}
		switch {
		case strings.HasPrefix(f, "+"):
			f = f[1:]
		case strings.HasPrefix(f, "-"):
			f, k.desc = f[1:], true
		}
		if !validProperty(f) || strings.ContainsFunc(f, func(r rune) bool { return r >= 0x80 || !isWordByte(byte(r)) }) {
			return nil, fmt.Errorf("%w: bad property %q", errBadSort, f)
		}
		switch f {
		case "dc:title", "dc:date", "upnp:class":
			k.prop = f
			if !containsKey(keys, f) {
				keys = append(keys, k)
			}
		}
	}
	return keys, nil
}

func containsKey(keys []sortKey, prop string) bool {
	for _, k := range keys {
		if k.prop == prop {
			return true
		}
	}
	return false
}

// listed is an object as a Browse or Search lists it: its ID and what the
// index says of it.
type listed struct {
	obj   object
	e     library.Entry
	title string    // the title shown, before any client quirk: a song's tag title, else from the name
	class string    // upnp:class
	date  time.Time // dc:date: when a photo was taken (the wall clock shown), else e.ModTime

	// Found for the page only (and for what a sort or a search compares):
	details    probe.Details      // from Server.Details
	hasDetails bool               // details are known
	looked     bool               // Server.Details was asked
	subs       []library.Subtitle // of a video, best first
	art        artSource          // where its thumbnail comes from
	bookmark   int64              // seconds, 0 for none (Server.pageBookmarks)
}

// defaultCompare is the default order of a folder: folders first, then
// names in natural order (library.NaturalCompare). It is the order
// Content.Children returns.
func defaultCompare(a, b library.Entry) int {
	if a.Dir != b.Dir {
		if a.Dir {
			return -1
		}
		return 1
	}
	return library.NaturalCompare(a.Name, b.Name)
}

// sortCompare returns the comparison the keys ask for, with ties in the
// order given (the caller sorts stably from the default order).
func sortCompare(keys []sortKey) func(a, b listed) int {
	return func(a, b listed) int {
		for _, k := range keys {
			var c int
			switch k.prop {
			case "dc:title":
				c = library.NaturalCompare(a.title, b.title)
			case "dc:date":
				c = a.date.Compare(b.date)
			case "upnp:class":
				c = cmp.Compare(a.class, b.class)
			}
			if k.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	}
}
