package dlna

import (
	"slices"

	"github.com/mediaftpd/mediaftpd/library"
)

// What a listing shows of an object besides its index entry: its media
// details (details.go), its subtitles (subtitles.go) and its artwork
// (thumbs.go). They are found for the objects of the page only, from the
// names the index has around each one, so that a page costs what the page
// costs, whatever the folder holds.

// extras says what a listing looks up besides the index and the details.
type extras struct {
	// art: the artwork of items and folders, for upnp:albumArtURI and
	// the thumbnail res.
	art bool
}

// extrasFor returns what a listing for a client whose Filter is f looks
// up.
func (srv *Server) extrasFor(f filter) extras {
	return extras{art: srv.Thumbs != nil && (f.has("upnp:albumArtURI") || f.has("res"))}
}

// siblings reads the names of one folder's entries in the AllFiles view,
// for the sidecars of its files, at most once each: a folder of up to
// wholeFolderMax entries whole; in a bigger one the entries around a file
// (namesAround) and the pictures named after a role (rolePictures).
type siblings struct {
	srv        *Server
	share, dir string

	counted   bool
	ok        bool // the folder could be read
	total     int  // its entries
	allRead   bool
	all       []string // every name, once read
	rolesRead bool
	roles     []string // pictures named after a role, once read

	// A window of the folder's entries read at once for a whole page
	// (readWindow), so that each file's neighbours need no search.
	win      []library.Entry
	winNames []string
	next     int // where in win inWindow looks first
	// winPictures[k] counts the pictures (library.IsArtworkName) among
	// winNames[:k]; allPictures those among all.
	winPictures []int
	allPictures int
}

// pageWindowSlack bounds the window readWindow reads: at most this many
// entries per file of the page, besides the margins. A page in the
// default order spans about its own length; a sorted page may span the
// folder, and then each file looks for its neighbours alone.
const pageWindowSlack = 4

// readWindow reads, in one Children call, the folder's entries from
// subtitleMargin before the first to subtitleMargin after the last of the
// files (folder order), when they lie close together, so that around
// needs no search for them. For a folder read whole it does nothing.
func (s *siblings) readWindow(files []library.Entry) {
	if len(files) < 2 || !s.count() || s.small() {
		return
	}
	first, last := files[0], files[0]
	for _, e := range files[1:] {
		if defaultCompare(e, first) < 0 {
			first = e
		}
		if defaultCompare(e, last) > 0 {
			last = e
		}
	}
	lo, ok1 := s.srv.searchFolder(s.share, s.dir, s.total, first)
	hi, ok2 := s.srv.searchFolder(s.share, s.dir, s.total, last)
	if !ok1 || !ok2 || hi < lo || hi-lo > pageWindowSlack*len(files) {
		return
	}
	from := max(0, lo-subtitleMargin)
	win, _, err := s.srv.Content.Children(s.share, s.dir, library.AllFiles, from, hi-from+1+subtitleMargin)
	if err != nil {
		return
	}
	s.win, s.winNames = win, entryNames(win)
	s.winPictures = picturesCount(s.winNames)
}

// picturesCount returns, for each k up to len(names), how many of
// names[:k] are pictures.
func picturesCount(names []string) []int {
	n := make([]int, len(names)+1)
	for k, name := range names {
		n[k+1] = n[k]
		if library.IsArtworkName(name) {
			n[k+1]++
		}
	}
	return n
}

// count reads how many entries the folder has, once, and reports whether
// it could.
func (s *siblings) count() bool {
	if !s.counted {
		s.counted = true
		_, total, err := s.srv.Content.Children(s.share, s.dir, library.AllFiles, 0, 1)
		s.ok, s.total = err == nil, total
	}
	return s.ok
}

// small reports whether the folder is read whole. count was called.
func (s *siblings) small() bool { return s.total <= wholeFolderMax }

// names returns every name of the folder, read once. Only for a folder of
// at most wholeFolderMax entries.
func (s *siblings) names() []string {
	if !s.allRead {
		s.allRead = true
		if all, _, err := s.srv.Content.Children(s.share, s.dir, library.AllFiles, 0, 0); err == nil {
			s.all = entryNames(all)
			s.allPictures = picturesCount(s.all)[len(s.all)]
		}
	}
	return s.all
}

// around returns the names of the folder that matter to the file e: all of
// them in a small folder, else those within subtitleMargin of e (nil when
// e is not there any more); and whether there may be pictures among them
// (false only when it is known there are none).
func (s *siblings) around(e library.Entry) (names []string, pictures bool) {
	if !s.count() {
		return nil, false
	}
	if s.small() {
		names := s.names()
		return names, s.allPictures > 0
	}
	// A file of the page lies at least subtitleMargin inside the window,
	// or as near to the folder's start or end as the window does: the
	// slice around it is what namesAround would read.
	if k, ok := s.inWindow(e); ok {
		lo, hi := max(0, k-subtitleMargin), min(len(s.win), k+subtitleMargin+1)
		return s.winNames[lo:hi:hi], s.winPictures[hi] > s.winPictures[lo]
	}
	return s.srv.namesAround(s.share, s.dir, s.total, e), true
}

// cursorReach is how far past the last file found inWindow looks for the
// next one before it searches: the files of a page in the default order
// come one after the other, a sidecar or two between them.
const cursorReach = 8

// inWindow returns where e is in the window, if it is there.
func (s *siblings) inWindow(e library.Entry) (int, bool) {
	for k := s.next; k < min(len(s.win), s.next+cursorReach); k++ {
		if s.win[k].Name == e.Name && s.win[k].Dir == e.Dir {
			s.next = k + 1
			return k, true
		}
	}
	k, found := slices.BinarySearchFunc(s.win, e, defaultCompare)
	if !found || s.win[k].Name != e.Name {
		return 0, false
	}
	s.next = k + 1
	return k, true
}

// pictures returns the names among which the folder's own pictures are
// ("poster.jpg", "folder.jpg"): every name of a folder of at most whole
// entries (whole <= wholeFolderMax), else the pictures rolePictures finds.
func (s *siblings) pictures(whole int) []string {
	if !s.count() {
		return nil
	}
	if s.total <= whole {
		return s.names()
	}
	if !s.rolesRead {
		s.rolesRead = true
		s.roles = s.srv.rolePictures(s.share, s.dir, s.total)
	}
	return s.roles
}

// pageExtras finds what the objects of page, all in the folder dir of the
// share, show besides their index entries: details, subtitles and, as ex
// says, artwork. media is how many entries the folder shows in the
// MediaFiles view. Nothing is read when the page holds no file but
// details, one lookup per file.
func (srv *Server) pageExtras(share, dir string, page []listed, media int, ex extras) {
	sib := &siblings{srv: srv, share: share, dir: dir}
	files := make([]library.Entry, 0, len(page))
	for i := range page {
		if !page[i].e.Dir {
			files = append(files, page[i].e)
		}
	}
	sib.readWindow(files)
	srv.lookDetailsMany(page, func(*listed) bool { return true })
	var sf *subsFolder
	for i := range page {
		l := &page[i]
		if l.e.Dir {
			if ex.art {
				srv.folderArt(l)
			}
			continue
		}
		around := aroundOnce(sib, l.e)
		if needsSubtitles(l) {
			if sf == nil {
				s := srv.subsOf(share, dir)
				sf = &s
			}
			srv.subtitlesOf(l, sib, *sf, media, around)
		}
		if ex.art {
			srv.itemArt(l, sib, around)
		}
	}
}

// itemExtras is pageExtras for a single object, of any kind: an object of
// BrowseMetadata, "Recently added" or Search.
func (srv *Server) itemExtras(l *listed, ex extras) {
	if l.obj.kind != objPath && l.obj.kind != objRecentItem {
		return
	}
	if l.e.Dir {
		if ex.art {
			srv.folderArt(l)
		}
		return
	}
	srv.lookDetails(l)
	real := l.obj.real()
	sib := &siblings{srv: srv, share: real.share, dir: parentRel(real.rel)}
	around := aroundOnce(sib, l.e)
	if needsSubtitles(l) {
		srv.subtitlesOf(l, sib, srv.subsOf(sib.share, sib.dir), -1, around)
	}
	if ex.art {
		srv.itemArt(l, sib, around)
	}
}

// aroundOnce returns a function returning sib.around(e), read on the
// first call only: subtitles and artwork share it.
func aroundOnce(sib *siblings, e library.Entry) func() ([]string, bool) {
	var (
		done     bool
		names    []string
		pictures bool
	)
	return func() ([]string, bool) {
		if !done {
			done = true
			names, pictures = sib.around(e)
		}
		return names, pictures
	}
}
