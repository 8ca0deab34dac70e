package dlna

import (
	"path"
	"slices"
	"strings"

	"github.com/mediaftpd/mediaftpd/library"
)

// Subtitles beside a video ("Movie.srt", "Movie.en.srt", ...) or in its
// folder's Subs folder are offered with the video: library.Subtitles
// picks them from the names the index has, so only subtitles that exist
// are offered.

const (
	// subtitleMargin is how many entries beyond each end of a page are
	// read for its videos' subtitles. A video's subtitles share its name
	// up to the extension, so in the default (natural) order they sort
	// right beside it; a video at the edge of a page with more than this
	// many subtitle files on the far side loses the farthest.
	subtitleMargin = 32
	// maxSubsNames bounds the names read from a Subs folder.
	maxSubsNames = 2000
)

// subsFolders are the names of the folder beside videos that holds their
// subtitles, in the order looked for.
var subsFolders = []string{"Subs", "subs"}

// subtitleFormats are the subtitle formats served, by extension.
var subtitleFormats = map[string]bool{"srt": true, "ass": true, "ssa": true, "vtt": true}

// isSubtitle reports whether name is a subtitle file by its extension.
func isSubtitle(name string) bool {
	return subtitleFormats[strings.ToLower(strings.TrimPrefix(path.Ext(name), "."))]
}

// needsSubtitles reports whether l is a video, which may have subtitles.
func needsSubtitles(l *listed) bool {
	return !l.e.Dir && library.KindOf(l.e.Name) == library.Video
}

// subsNames returns the names in the Subs folder of the folder dir, nil
// if it has none.
func (srv *Server) subsNames(share, dir string) []string {
	for _, name := range subsFolders {
		e, err := srv.Content.Entry(share, joinRel(dir, name))
		if err != nil || !e.Dir {
			continue
		}
		entries, _, err := srv.Content.Children(share, joinRel(dir, name), 0, maxSubsNames)
		if err != nil {
			return nil
		}
		return entryNames(entries)
	}
	return nil
}

// folderSubtitles finds the subtitles of the videos of page, all in the
// folder dir; window returns entries of the folder in the default order,
// starting at the folder's entry at index from, covering the page. Each
// video is looked up in the window by a binary search, and only the
// entries within subtitleMargin of it are handed to library.Subtitles, so
// a whole folder costs O(n log n), not O(n²). window is not called when
// the page has no video.
func (srv *Server) folderSubtitles(share, dir string, page []listed, window func() (win []library.Entry, from int)) {
	var win []library.Entry
	var names, subs []string
	looked := false
	for i := range page {
		l := &page[i]
		if !needsSubtitles(l) {
			continue
		}
		if !looked {
			win, _ = window()
			names, subs, looked = entryNames(win), srv.subsNames(share, dir), true
		}
		k, found := slices.BinarySearchFunc(win, l.e, defaultCompare)
		if !found {
			continue
		}
		l.subs = library.Subtitles(l.obj.rel, names[max(0, k-subtitleMargin):min(len(names), k+subtitleMargin+1)], subs)
	}
}

// findSubtitles finds the subtitles of the single video l (an item of
// BrowseMetadata, "Recently added" or Search): it finds the video's place
// in its folder with a binary search over Content.Children (the folder is
// in the default order) and looks at the entries around it.
func (srv *Server) findSubtitles(l *listed) {
	if !needsSubtitles(l) || l.obj.kind != objPath && l.obj.kind != objRecentItem {
		return
	}
	share, dir := l.obj.share, parentRel(l.obj.rel)
	names := srv.namesAround(share, dir, l.e)
	if names == nil {
		return
	}
	l.subs = library.Subtitles(l.obj.rel, names, srv.subsNames(share, dir))
}

// namesAround returns the names of the entries of the folder dir within
// subtitleMargin of e, nil when e is not there (any more).
func (srv *Server) namesAround(share, dir string, e library.Entry) []string {
	_, total, err := srv.Content.Children(share, dir, 0, 1)
	if err != nil {
		return nil
	}
	lo, hi := 0, total
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		at, _, err := srv.Content.Children(share, dir, mid, 1)
		if err != nil || len(at) == 0 {
			return nil
		}
		if defaultCompare(at[0], e) < 0 {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	from := max(0, lo-subtitleMargin)
	win, _, err := srv.Content.Children(share, dir, from, lo-from+1+subtitleMargin)
	if err != nil || lo-from >= len(win) || win[lo-from].Name != e.Name {
		return nil
	}
	return entryNames(win)
}
