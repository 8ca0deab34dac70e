package dlna

import (
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/mediaftpd/mediaftpd/library"
)

// searchCapabilities is GetSearchCapabilities' answer: the properties
// SearchCriteria compares. "exists" takes any property.
const searchCapabilities = "dc:title,upnp:class,dc:date,upnp:artist,dc:creator,upnp:album"

// maxSearchResults bounds the objects a Search keeps in memory: the page
// asked for must end within it (a larger StartingIndex + RequestedCount is
// errCannotProcess), and RequestedCount 0 returns at most this many.
// TotalMatches counts every match all the same, so a client can tell.
const maxSearchResults = 5000

// cdsActions is ContentDirectory:1's action table, with Samsung's
// extensions and the refused write actions.
func cdsActions() map[string]*action {
	listIn := []string{"Filter", "StartingIndex", "RequestedCount", "SortCriteria"}
	listOut := []string{"Result", "NumberReturned", "TotalMatches", "UpdateID"}
	m := map[string]*action{
		"GetSearchCapabilities": {out: []string{"SearchCaps"}, run: func(*Server, *call) ([]string, error) {
			return []string{searchCapabilities}, nil
		}},
		"GetSortCapabilities": {out: []string{"SortCaps"}, run: func(*Server, *call) ([]string, error) {
			return []string{sortCapabilities}, nil
		}},
		"GetSystemUpdateID": {out: []string{"Id"}, run: func(srv *Server, _ *call) ([]string, error) {
			return []string{strconv.FormatUint(uint64(srv.updates.systemID()), 10)}, nil
		}},
		"Browse": {
			in:       append([]string{"ObjectID", "BrowseFlag"}, listIn...),
			out:      listOut,
			optional: listIn,
			run:      (*Server).browse,
			escaped:  []string{"Result"},
		},
		"Search": {
			in:       append([]string{"ContainerID", "SearchCriteria"}, listIn...),
			out:      listOut,
			optional: listIn,
			run:      (*Server).search,
			escaped:  []string{"Result"},
		},
		"X_GetFeatureList": {out: []string{"FeatureList"}, run: (*Server).getFeatureList},
		"X_SetBookmark": {
			in:       []string{"CategoryType", "RID", "ObjectID", "PosSecond"},
			optional: []string{"CategoryType", "RID"},
			run:      (*Server).setBookmark,
		},
	}
	for _, name := range writeActions {
		m[name] = &action{refused: true}
	}
	return m
}

// search answers ContentDirectory's Search: every object below the
// container that matches the criteria, depth first in the default order
// or sorted. It walks the container's whole subtree in the index.
func (srv *Server) search(c *call) ([]string, error) {
	o, err := parseObjectID(c.str("ContainerID"))
	if err != nil {
		return nil, err
	}
	crit, err := parseSearch(c.str("SearchCriteria"))
	if err != nil {
		return nil, err
	}
	start, count, keys, err := c.listArgs()
	if err != nil {
		return nil, err
	}
	if count == 0 || count > maxSearchResults {
		count = maxSearchResults
	}
	if start+count > maxSearchResults && len(keys) > 0 {
		return nil, fmt.Errorf("%w: a sorted search returns its first %d matches only", errCannotProcess, maxSearchResults)
	}
	l, err := srv.lookup(o)
	if err != nil {
		return nil, err
	}
	if !l.e.Dir {
		return nil, errNoSuchContainer
	}
	sel := newSelection(int(start), int(count), keys)
	sortDetails := needsDetails(keys)
	match := func(x listed) {
		if sortDetails {
			srv.lookDetailsFor(&x, keys)
		}
		if crit.match(srv.searchProps(&x)) {
			sel.add(x)
		}
	}
	walkShare := func(share, rel string) error {
		err := srv.Content.Walk(share, rel, library.MediaFiles, func(rel string, e library.Entry) bool {
			match(listedPath(pathObject(share, rel), e))
			return true
		})
		if errors.Is(err, library.ErrNotIndexed) || errors.Is(err, library.ErrOffline) || errors.Is(err, library.ErrNoShare) {
			return nil // nothing to find there now
		}
		return err
	}
	switch l.obj.kind {
	case objRoot:
		// The shares and what they hold; "Recently added" holds nothing
		// more.
		for _, name := range srv.Content.Names() {
			if sl, ok := srv.shareListed(name); ok {
				match(sl)
			}
			if err := walkShare(name, "."); err != nil {
				return nil, contentError(err)
			}
		}
	case objRecent:
		for _, x := range srv.recentItems() {
			match(x)
		}
	default:
		if err := walkShare(l.obj.share, l.obj.rel); err != nil {
			return nil, contentError(err)
		}
	}
	page := sel.page()
	d := srv.newDIDL(c)
	ex := srv.extrasFor(d.filter)
	srv.pageBookmarks(page)
	for i := range page {
		srv.itemExtras(&page[i], ex)
		srv.writeListed(d, &page[i])
	}
	return []string{d.escaped(), strconv.Itoa(len(page)), strconv.Itoa(sel.total), srv.updateIDOf(l)}, nil
}

// searchProps returns the properties of x that SearchCriteria can test.
func (srv *Server) searchProps(x *listed) searchProps {
	return func(prop string) (string, bool) {
		switch prop {
		case "dc:title":
			if propFromDetails(prop, x.e.Name) {
				srv.lookDetails(x)
			}
			return x.title, true
		case "upnp:class":
			return x.class, true
		case "dc:date":
			if propFromDetails(prop, x.e.Name) {
				srv.lookDetails(x)
			}
			if x.date.IsZero() {
				return "", false
			}
			d := didlWriter{loc: srv.location}
			return d.date(x.date), true
		case "upnp:artist", "dc:creator", "upnp:album":
			if !propFromDetails(prop, x.e.Name) {
				break
			}
			srv.lookDetails(x)
			v := x.details.Artist
			if prop == "upnp:album" {
				v = x.details.Album
			}
			if v != "" {
				return cleanText(v), true
			}
		case "@id":
			return x.obj.id(), true
		case "@parentID":
			return x.obj.parentID(), true
		case "@refID":
			if x.obj.kind == objRecentItem {
				return x.obj.real().id(), true
			}
		case "@restricted":
			return "1", true
		case "@searchable", "@childCount":
			if x.e.Dir {
				if prop == "@searchable" {
					return "1", true
				}
				return strconv.Itoa(x.e.Children), true
			}
		case "res", "res@protocolInfo":
			if !x.e.Dir {
				return "", true
			}
		case "res@size":
			if !x.e.Dir {
				return strconv.FormatInt(x.e.Size, 10), true
			}
		}
		return "", false
	}
}

// selection keeps the matches of a search that fall in the page asked
// for, counting all of them, in memory bounded by the page's end.
type selection struct {
	start, count int
	keys         []sortKey
	cmp          func(a, b listed) int
	total        int
	kept         []listed
}

func newSelection(start, count int, keys []sortKey) *selection {
	s := &selection{start: start, count: count, keys: keys}
	if len(keys) > 0 {
		s.cmp = sortCompare(keys)
	}
	return s
}

func (s *selection) add(x listed) {
	i := s.total
	s.total++
	if s.cmp == nil {
		// The walk's order: keep the page's slice of it.
		if i >= s.start && i < s.start+s.count {
			s.kept = append(s.kept, x)
		}
		return
	}
	// Sorted: keep the best start+count, trimming now and then so the
	// work stays O(n log k).
	s.kept = append(s.kept, x)
	if k := s.start + s.count; len(s.kept) >= 2*k {
		s.trim(k)
	}
}

func (s *selection) trim(k int) {
	slices.SortStableFunc(s.kept, s.cmp)
	if len(s.kept) > k {
		clear(s.kept[k:])
		s.kept = s.kept[:k]
	}
}

// page returns the page's matches in order.
func (s *selection) page() []listed {
	if s.cmp == nil {
		return s.kept
	}
	s.trim(s.start + s.count)
	return pageOf(s.kept, s.start, s.count)
}
