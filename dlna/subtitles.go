package dlna

import (
	"path"
	"slices"
	"strings"

	"github.com/mediaftpd/mediaftpd/library"
)

// Subtitles beside a video ("Movie.srt", "Movie.en.srt", ...) or in its
// folder's Subs folder are offered with the video. library.Subtitles picks
// them from the names the index has, so a subtitle that does not exist is
// never offered.
//
// A folder of up to wholeFolderMax entries is read whole (see siblings),
// so library.Subtitles sees every name (and its rule for a folder holding
// a single video applies). In a bigger folder only the entries within
// subtitleMargin of each video are looked at (library.SubtitlesNear): a
// video's subtitles share its name up to the extension, so in the default
// (natural) order they sort right beside it, and a page costs what the
// page costs.

const (
	// wholeFolderMax is the most entries a folder may have to be read
	// whole for its videos' subtitles.
	wholeFolderMax = 256
	// subtitleMargin is how many entries on either side of a video of a
	// bigger folder are looked at for its subtitles.
	subtitleMargin = 32
	// maxSubsNames bounds the entries read from a subtitle folder.
	maxSubsNames = 2000
)

// subsFolders are the names of the folder beside videos that holds their
// subtitles, in the order looked for.
var subsFolders = []string{"Subs", "subs", "SUBS"}

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

// subsFolder is the subtitle folder of one folder, as library.Subtitles
// takes it.
type subsFolder struct {
	name    string   // "Subs", or "" when the folder has none
	entries []string // its files, as "Subs/<name>"
}

// subsOf returns the subtitle folder of the folder dir.
func (srv *Server) subsOf(share, dir string) subsFolder {
	for _, name := range subsFolders {
		rel := joinRel(dir, name)
		if e, err := srv.Content.Entry(share, rel, library.AllFiles); err != nil || !e.Dir {
			continue
		}
		sf := subsFolder{name: name}
		entries, _, _ := srv.Content.Children(share, rel, library.AllFiles, 0, maxSubsNames)
		for _, e := range entries {
			if !e.Dir {
				sf.entries = append(sf.entries, name+"/"+e.Name)
			}
		}
		return sf
	}
	return subsFolder{}
}

// forVideo returns the subtitle folder's entries for the video rel: its
// files, and those of its folder named after the video
// ("Subs/<video>/2_English.srt", as episode packs have them).
func (srv *Server) forVideo(share, dir string, sf subsFolder, rel string) []string {
	if sf.name == "" {
		return nil
	}
	stem := stemOf(baseName(rel))
	own := joinRel(dir, sf.name+"/"+stem)
	if e, err := srv.Content.Entry(share, own, library.AllFiles); err != nil || !e.Dir {
		return sf.entries
	}
	out := slices.Clip(sf.entries)
	entries, _, _ := srv.Content.Children(share, own, library.AllFiles, 0, maxSubsNames)
	for _, e := range entries {
		if !e.Dir {
			out = append(out, sf.name+"/"+stem+"/"+e.Name)
		}
	}
	return out
}

// subtitlesOf finds the subtitles of the video l, in the folder sib
// reads, whose subtitle folder is sf. media is how many entries the folder
// shows in the MediaFiles view, or -1 if not known. Subtitles are files
// the TV does not list, so they are looked for among all the folder's
// files: none when the folder holds nothing but media (its two views are
// as long); every name of a small folder; in a bigger one the names
// around the video (around). A Subs folder is looked at in any case.
func (srv *Server) subtitlesOf(l *listed, sib *siblings, sf subsFolder, media int, around func() ([]string, bool)) {
	if !sib.count() {
		return
	}
	share, dir := l.obj.share, parentRel(l.obj.rel)
	subs := srv.forVideo(share, dir, sf, l.obj.rel)
	var names []string
	switch {
	case sib.total == media:
		// Only media: no subtitle beside any video.
	case sib.small():
		names = sib.names()
	default:
		near, _ := around()
		if anySubtitle(near, stemOf(l.e.Name)) || len(subs) > 0 {
			l.subs = library.SubtitlesNear(l.obj.rel, near, subs)
		}
		return
	}
	if anySubtitle(names, "") || len(subs) > 0 {
		l.subs = library.Subtitles(l.obj.rel, names, subs)
	}
}

// anySubtitle reports whether names has a subtitle file whose name starts
// with prefix (without regard to case): when none does, library.Subtitles
// has nothing to find there, and is not asked.
func anySubtitle(names []string, prefix string) bool {
	for _, n := range names {
		if len(n) >= len(prefix) && strings.EqualFold(n[:len(prefix)], prefix) && isSubtitle(n) {
			return true
		}
	}
	return false
}

// stemOf returns name without its extension.
func stemOf(name string) string { return strings.TrimSuffix(name, path.Ext(name)) }

// findSubtitles finds the subtitles of the single video l (a file being
// streamed). In a big folder it finds the video's place with a binary
// search over Content.Children (the folder is in the default order) and
// looks at the entries around it.
func (srv *Server) findSubtitles(l *listed) {
	if !needsSubtitles(l) || l.obj.kind != objPath && l.obj.kind != objRecentItem {
		return
	}
	sib := &siblings{srv: srv, share: l.obj.share, dir: parentRel(l.obj.rel)}
	srv.subtitlesOf(l, sib, srv.subsOf(sib.share, sib.dir), -1, aroundOnce(sib, l.e))
}

// searchFolder returns the place of e in the folder dir of total entries
// in the AllFiles view: the index of the first entry not before e in the
// default order. It reads O(log total) entries.
func (srv *Server) searchFolder(share, dir string, total int, e library.Entry) (int, bool) {
	lo, hi := 0, total
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		at, _, err := srv.Content.Children(share, dir, library.AllFiles, mid, 1)
		if err != nil || len(at) == 0 {
			return 0, false
		}
		if defaultCompare(at[0], e) < 0 {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo, true
}

// namesAround returns the names of the entries of the folder dir (of total
// entries) within subtitleMargin of e, nil when e is not there (any
// more).
func (srv *Server) namesAround(share, dir string, total int, e library.Entry) []string {
	lo, ok := srv.searchFolder(share, dir, total, e)
	if !ok {
		return nil
	}
	from := max(0, lo-subtitleMargin)
	win, _, err := srv.Content.Children(share, dir, library.AllFiles, from, lo-from+1+subtitleMargin)
	if err != nil || lo-from >= len(win) || win[lo-from].Name != e.Name {
		return nil
	}
	return entryNames(win)
}
