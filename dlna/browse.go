package dlna

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"

	"github.com/mediaftpd/mediaftpd/dlna/media"
	"github.com/mediaftpd/mediaftpd/library"
)

// Browsing: what each object ID lists, answered from the index.

const (
	// recentShown is how many files "Recently added" lists.
	recentShown = 50
	// recentTitle is the title of the "Recently added" container.
	recentTitle = "Recently added"
)

// contentError maps an error of Content to the UPnP error a client gets:
// what does not exist (or is hidden, or in a share that is gone or
// offline) is errNoSuchObject, a share still being indexed
// errCannotProcess. Other errors are returned as they are, and so become
// errActionFailed, logged.
func contentError(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, library.ErrNoShare),
		errors.Is(err, library.ErrOffline), errors.Is(err, library.ErrHidden),
		errors.Is(err, library.ErrNotRegular):
		return fmt.Errorf("%w: %w", errNoSuchObject, err)
	case errors.Is(err, library.ErrNotIndexed):
		return fmt.Errorf("%w: %w", errCannotProcess, err)
	}
	return err
}

// listedPath returns the listed form of an entry of the index.
func listedPath(o object, e library.Entry) listed {
	l := listed{obj: o, e: e, date: e.ModTime}
	if e.Dir {
		l.title, l.class = cleanText(e.Name), classFolder
	} else {
		l.title, l.class = fileTitle(e.Name), media.ClassOf(e.Name)
	}
	return l
}

// shareListed returns a share's folder as the root lists it, and false
// when the share is not online. A share still being indexed is listed,
// empty.
func (srv *Server) shareListed(name string) (listed, bool) {
	e, err := srv.Content.Entry(name, ".", library.MediaFiles)
	switch {
	case errors.Is(err, library.ErrNotIndexed):
		e = library.Entry{Name: name, Dir: true}
	case err != nil:
		return listed{}, false
	}
	e.Name = name
	return listedPath(pathObject(name, "."), e), true
}

// rootChildren returns what the root lists: the online shares in display
// order, then "Recently added".
func (srv *Server) rootChildren() []listed {
	var out []listed
	for _, name := range srv.Content.Names() {
		if l, ok := srv.shareListed(name); ok {
			out = append(out, l)
		}
	}
	return append(out, srv.recentListed())
}

// recentItems returns the files "Recently added" lists, newest first:
// those of Content.Recent the index still has.
func (srv *Server) recentItems() []listed {
	var out []listed
	for _, a := range srv.Content.Recent(recentShown) {
		e, err := srv.Content.Entry(a.Share, a.Path, library.MediaFiles)
		if err != nil || e.Dir {
			continue
		}
		out = append(out, listedPath(object{kind: objRecentItem, share: a.Share, rel: a.Path}, e))
	}
	return out
}

func (srv *Server) recentListed() listed {
	return listed{
		obj:   object{kind: objRecent},
		e:     library.Entry{Name: recentTitle, Dir: true, Children: len(srv.recentItems())},
		title: recentTitle,
		class: classFolder,
	}
}

func (srv *Server) rootListed() listed {
	return listed{
		obj:   object{kind: objRoot},
		e:     library.Entry{Name: srv.name(), Dir: true, Children: len(srv.rootChildren())},
		title: cleanText(srv.name()),
		class: classFolder,
	}
}

// lookup returns the object o names.
func (srv *Server) lookup(o object) (listed, error) {
	switch o.kind {
	case objRoot:
		return srv.rootListed(), nil
	case objRecent:
		return srv.recentListed(), nil
	}
	if o.rel == "." {
		if l, ok := srv.shareListed(o.share); ok {
			return l, nil
		}
	}
	e, err := srv.Content.Entry(o.share, o.rel, library.MediaFiles)
	if err != nil {
		return listed{}, contentError(err)
	}
	if o.kind == objRecentItem && e.Dir {
		return listed{}, errNoSuchObject
	}
	if o.rel == "." {
		e.Name = o.share
	}
	return listedPath(o, e), nil
}

// children returns the page [start, start+count) of what the container l
// lists (count 0: all from start), sorted by keys or in the default
// order, and how many it lists in all. Details, subtitles and, as ex
// says, artwork are found for the objects of the page. A folder in the
// default order costs what the page costs.
func (srv *Server) children(l listed, start, count int, keys []sortKey, ex extras) ([]listed, int, error) {
	if !l.e.Dir {
		return nil, 0, nil
	}
	var all []listed
	switch l.obj.kind {
	case objRoot:
		all = srv.rootChildren()
	case objRecent:
		all = srv.recentItems()
	default:
		return srv.folderChildren(l.obj, start, count, keys, ex)
	}
	srv.sortListed(all, keys)
	page := pageOf(all, start, count)
	for i := range page {
		srv.itemExtras(&page[i], ex)
	}
	return page, len(all), nil
}

// sortListed sorts all by keys, if any, looking up first the details
// they compare.
func (srv *Server) sortListed(all []listed, keys []sortKey) {
	if len(keys) == 0 {
		return
	}
	if needsDetails(keys) {
		srv.lookDetailsMany(all, func(l *listed) bool { return sortsByDetails(l, keys) })
	}
	slices.SortStableFunc(all, sortCompare(keys))
}

// pageOf returns the page [start, start+count) of all; count 0 is all
// from start.
func pageOf[T any](all []T, start, count int) []T {
	if start >= len(all) {
		return nil
	}
	end := len(all)
	if count > 0 && count < end-start {
		end = start + count
	}
	return all[start:end]
}

// folderChildren is children for a share's folder or a folder in it.
func (srv *Server) folderChildren(o object, start, count int, keys []sortKey, ex extras) ([]listed, int, error) {
	share, dir := o.share, o.rel
	from, n := start, count
	if len(keys) > 0 {
		from, n = 0, 0 // the whole folder, to sort
	}
	entries, total, err := srv.Content.Children(share, dir, library.MediaFiles, from, n)
	if errors.Is(err, library.ErrNotIndexed) && dir == "." {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, contentError(err)
	}
	page := make([]listed, len(entries))
	for i, e := range entries {
		page[i] = listedPath(pathObject(share, joinRel(dir, e.Name)), e)
	}
	if len(keys) > 0 {
		srv.sortListed(page, keys)
		page = pageOf(page, start, count)
	}
	srv.pageExtras(share, dir, page, total, ex)
	return page, total, nil
}

func entryNames(entries []library.Entry) []string {
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name
	}
	return names
}

// writeListed writes l to d.
func (srv *Server) writeListed(d *didlWriter, l *listed) {
	o := &didlObject{
		id:         l.obj.id(),
		parentID:   d.parentIDOf(l.obj),
		title:      l.title,
		class:      l.class,
		date:       l.date,
		dir:        l.e.Dir,
		childCount: l.e.Children,
	}
	if l.art.kind != artNone {
		real := l.obj.real()
		o.artURL = thumbURL(d.urls.thumbs, real.share, real.rel)
	}
	if !l.e.Dir {
		real := l.obj.real()
		if l.obj.kind == objRecentItem {
			o.refID = real.id()
		}
		o.url = escapedPath(d.urls.media, l.obj.share, l.obj.rel)
		o.name = l.e.Name
		o.size = l.e.Size
		o.subtitles = l.subs
		for _, s := range l.subs {
			o.subURLs = append(o.subURLs, escapedPath(d.urls.subtitles, l.obj.share, s.Path))
		}
		if l.hasDetails {
			o.details = &l.details
		}
		o.bookmark = l.bookmark
		if o.bookmark > 0 {
			if dir := parentRel(l.obj.rel); dir == "." {
				o.folder = cleanText(l.obj.share)
			} else {
				o.folder = cleanText(baseName(dir))
			}
		}
	}
	d.object(o)
}

// newDIDL returns a DIDL-Lite writer for the client of c.
func (srv *Server) newDIDL(c *call) *didlWriter {
	d := &didlWriter{
		filter: parseFilter(c.str("Filter")),
		quirks: c.client.Quirks,
		loc:    srv.location,
		urls:   newURLBases(baseURL(c.r)),
	}
	d.begin()
	return d
}

// listArgs returns the arguments Browse and Search share: StartingIndex,
// RequestedCount and the sort keys of SortCriteria.
func (c *call) listArgs() (start, count int64, keys []sortKey, err error) {
	if start, err = c.uint("StartingIndex"); err != nil {
		return 0, 0, nil, err
	}
	if count, err = c.uint("RequestedCount"); err != nil {
		return 0, 0, nil, err
	}
	if keys, err = parseSort(c.str("SortCriteria")); err != nil {
		return 0, 0, nil, err
	}
	return start, count, keys, nil
}

// browse answers ContentDirectory's Browse.
func (srv *Server) browse(c *call) ([]string, error) {
	o, err := parseObjectID(c.str("ObjectID"))
	if err != nil {
		return nil, err
	}
	start, count, keys, err := c.listArgs()
	if err != nil {
		return nil, err
	}
	switch flag := c.str("BrowseFlag"); flag {
	case "BrowseMetadata":
		l, err := srv.lookup(o)
		if err != nil {
			return nil, err
		}
		d := srv.newDIDL(c)
		srv.itemExtras(&l, srv.extrasFor(d.filter))
		page := []listed{l}
		srv.pageBookmarks(page)
		srv.writeListed(d, &page[0])
		return []string{d.escaped(), "1", "1", srv.updateIDOf(l)}, nil
	case "BrowseDirectChildren":
		l, err := srv.lookup(o)
		if err != nil {
			return nil, err
		}
		d := srv.newDIDL(c)
		page, total, err := srv.children(l, int(start), int(count), keys, srv.extrasFor(d.filter))
		if err != nil {
			return nil, err
		}
		srv.pageBookmarks(page)
		srv.writeObjects(d, page)
		return []string{d.escaped(), strconv.Itoa(len(page)), strconv.Itoa(total), srv.updateIDOf(l)}, nil
	default:
		return nil, fmt.Errorf("%w: BrowseFlag %q", errInvalidArgs, flag)
	}
}

// writeObjects writes the objects of page to d, one after the other.
func (srv *Server) writeObjects(d *didlWriter, page []listed) {
	d.grow(min(len(page), sizingObjects) * didlObjectSize)
	for i := range page {
		if i == sizingObjects {
			// The rest sized from what the first took: one buffer for
			// a whole folder, neither doubled nor copied.
			d.grow((d.written()/i + 1) * (len(page) - i) * 17 / 16)
		}
		srv.writeListed(d, &page[i])
	}
}

// updateIDOf returns the UpdateID a Browse of l answers with: the
// container's update ID, or SystemUpdateID for an item.
func (srv *Server) updateIDOf(l listed) string {
	v := srv.updates.systemID()
	if l.e.Dir {
		v = srv.updates.containerID(l.obj.id())
	}
	return strconv.FormatUint(uint64(v), 10)
}
