package dlna

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Samsung TVs keep a video's resume position on the server: X_SetBookmark
// stores it, and sec:dcmInfo's BM= returns it so the TV offers "resume".
// Positions are kept in State, keyed by share and path: they are the web
// player's resume positions too, so a film stopped on the TV resumes there
// in a browser, and the other way round.
//
// Versions before State kept them in StateDir's dlna-bookmarks.json, keyed
// by object ID; migrateBookmarks moves them into State once.

const (
	// oldBookmarksFile is the file in StateDir where earlier versions kept
	// the bookmarks.
	oldBookmarksFile = "dlna-bookmarks.json"
	// minBookmark is the least position offered, in seconds: a video
	// stopped in its first half minute starts over, as MiniDLNA does.
	minBookmark = 30
	// maxBookmark is the largest PosSecond taken (about 31 years): more is
	// no position of a file.
	maxBookmark = 1 << 30
)

// bookmarkOf returns the bookmark of a file whose position is pos, in
// whole seconds: 0 when it is under minBookmark.
func bookmarkOf(pos time.Duration) int64 {
	if s := int64(pos / time.Second); s >= minBookmark {
		return s
	}
	return 0
}

// pageBookmarks reads the bookmarks of the files of page, one read per
// folder they are in: every listing's objects get theirs from it before
// they are written.
func (srv *Server) pageBookmarks(page []listed) {
	type folder struct{ share, dir string }
	byFolder := map[folder][]*listed{}
	for i := range page {
		l := &page[i]
		if l.e.Dir {
			continue
		}
		real := l.obj.real()
		f := folder{real.share, parentRel(real.rel)}
		byFolder[f] = append(byFolder[f], l)
	}
	for f, ls := range byFolder {
		var found map[string]time.Duration
		srv.st.PositionsIn(f.share, f.dir, func(name string, pos time.Duration) {
			if found == nil {
				found = make(map[string]time.Duration)
			}
			found[name] = pos
		})
		for _, l := range ls {
			if pos, ok := found[l.e.Name]; ok {
				l.bookmark = bookmarkOf(pos)
			}
		}
	}
}

// keepBookmark keeps pos seconds as the position of the file rel of the
// share; a position under minBookmark removes the one kept (the TV
// started over).
func (srv *Server) keepBookmark(share, rel string, pos int64) error {
	d := time.Duration(pos) * time.Second
	if pos < minBookmark {
		d = 0
	}
	return srv.st.SetPosition(share, rel, d, srv.clock())
}

// oldBookmark is one position in oldBookmarksFile.
type oldBookmark struct {
	Pos int64     `json:"pos"` // seconds
	Set time.Time `json:"set"`
}

// oldBookmarks is the layout of oldBookmarksFile.
type oldBookmarks struct {
	Version   int                    `json:"version"`
	Bookmarks map[string]oldBookmark `json:"bookmarks"`
}

// migrateBookmarks moves the bookmarks of StateDir's oldBookmarksFile
// into State, once: a file that has a position in State already keeps it.
// The old file is left as it is, for a downgrade. A file that cannot be
// read now is tried again at the next start; one that is not a bookmarks
// file is logged and left out.
func (srv *Server) migrateBookmarks() {
	if srv.StateDir == "" {
		return
	}
	if _, done := srv.st.Value(valueBookmarksMigrated); done {
		return
	}
	log := srv.logger()
	path := filepath.Join(srv.StateDir, oldBookmarksFile)
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		data = nil
	case err != nil:
		log.Warn("cannot read the DLNA bookmarks of an earlier version; trying again at the next start", "err", err)
		return
	}
	moved := 0
	if data != nil {
		var f oldBookmarks
		if err := json.Unmarshal(data, &f); err != nil || f.Version != 1 {
			log.Warn("the DLNA bookmarks file of an earlier version is not readable; leaving it out", "file", path, "err", err)
			f.Bookmarks = nil
		}
		for id, bm := range f.Bookmarks {
			o, err := parseObjectID(id)
			if err != nil || o.kind != objPath || o.rel == "." || bm.Pos < minBookmark || bm.Pos > maxBookmark {
				continue
			}
			if _, _, ok := srv.st.Position(o.share, o.rel); ok {
				continue
			}
			if err := srv.st.SetPosition(o.share, o.rel, time.Duration(bm.Pos)*time.Second, bm.Set); err != nil {
				log.Warn("cannot keep a DLNA bookmark of an earlier version", "object", id, "err", err)
				return
			}
			moved++
		}
	}
	if err := srv.st.SetValue(valueBookmarksMigrated, []byte("1")); err != nil {
		log.Warn("cannot note that the DLNA bookmarks were moved", "err", err)
		return
	}
	if moved > 0 {
		log.Info("moved the DLNA bookmarks of an earlier version into the store", "file", path, "bookmarks", moved)
	}
}
