package web

import (
	"errors"
	"io/fs"
	"net/http"
	"path"

	"github.com/mediaftpd/mediaftpd/library"
)

// errNotFile means a route for files was asked for a folder, or for a
// file it does not serve.
var errNotFile = errors.New("not a file this route serves")

// resolved is a path of a share that the one visibility rule allows, and
// the folder it is in.
type resolved struct {
	share, rel string
	fi         fs.FileInfo
	// folder is the folder holding rel; for a share's own folder ("."),
	// that folder itself.
	folder *folderView
	// entry is rel's entry: the index's when it has it, else the disk's;
	// it is folder.entries[index], or index is -1.
	entry library.Entry
	index int
}

// resolve finds what the path p (after a route's prefix: "<share>/<path>")
// names, through the one visibility rule (library.Stat), and reads the
// folder it is in. On failure it answers the request, with JSON when
// api is set, and returns nil: 404 for anything not visible, 503 for a
// share that is offline.
func (s *Server) resolve(w http.ResponseWriter, r *http.Request, p string, api bool) *resolved {
	fail := func(code int, msg string, err error) *resolved {
		s.logger().Debug("not served", "path", r.URL.Path, "err", err, "remote", r.RemoteAddr)
		if api {
			writeError(w, code, msg)
		} else {
			http.Error(w, msg, code)
		}
		return nil
	}
	share, rel, _, err := splitFilesPath(p)
	if err != nil {
		return fail(http.StatusNotFound, "Not found.", err)
	}
	sv := s.sharesFor(r)
	root, err := sv.Root(share)
	if errors.Is(err, library.ErrOffline) {
		return fail(http.StatusServiceUnavailable, "This share is offline (is its disk plugged in?).", err)
	}
	if err != nil {
		return fail(http.StatusNotFound, "Not found.", err)
	}
	defer root.Close()
	fi, err := library.Stat(root, rel)
	if err != nil {
		return fail(http.StatusNotFound, "Not found.", err)
	}
	res := &resolved{share: share, rel: rel, fi: fi}
	dir := path.Dir(rel)
	if rel == "." {
		dir = "."
	}
	if res.folder, err = s.readFolder(sv, root, share, dir); err != nil {
		return fail(http.StatusNotFound, "Not found.", err)
	}
	if rel == "." {
		res.entry = library.Entry{Name: share, Dir: true}
		return res
	}
	res.index = res.folder.find(path.Base(rel))
	if res.index < 0 || res.folder.entries[res.index].Dir != fi.IsDir() {
		// Not in the index (yet): the disk's entry, and no details.
		res.entry, res.index = entryOf(path.Base(rel), fi), -1
		res.folder.indexed = false
		return res
	}
	res.entry = res.folder.entries[res.index]
	return res
}

// itemOf returns the Item of what res names.
func (s *Server) itemOf(res *resolved) *Item {
	if res.rel == "." {
		it := &Item{Share: res.share, Path: ".", Name: res.share, Kind: "folder", URL: filesURL(res.share, ".") + "/", Subtitles: []SubtitleInfo{}}
		if art, ae, ok := s.pickFolderArt(".", res.folder.entries); ok {
			it.Artwork = s.thumbURL(res.share, art, ae)
		}
		return it
	}
	return s.item(res.folder, res.index, res.entry, true)
}

// serveItem is GET /api/items/{path...}: the Item of a file or folder.
func (s *Server) serveItem(w http.ResponseWriter, r *http.Request) {
	res := s.resolve(w, r, r.PathValue("path"), true)
	if res == nil {
		return
	}
	writeJSON(w, http.StatusOK, s.itemOf(res))
}
