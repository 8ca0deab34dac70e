package web

import (
	"cmp"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"
	"time"

	"github.com/mediaftpd/mediaftpd/library"
)

// Browsing and streaming. GET /files/<share>/<path> lists a folder or
// serves a file, with Range support (http.ServeContent), so a browser can
// play a video directly. What is seen and how a file is opened are the
// shares' one rule (library.Visible, library.Stat, library.Open), as for
// FTP: read-only, hidden names neither listed nor served, only regular
// files and folders, everything reached through the share's os.Root, so
// ".." and symlinks that leave the share go nowhere. Anything refused
// reads as not found.

// fileCSP is the Content-Security-Policy of files served from shares. A
// share may hold anything, HTML and SVG included: sandboxed, with no
// script, such a file cannot act as this page (and its admin session).
const fileCSP = "sandbox; default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'"

// mediaCSP is the policy of video, audio and (raster) image files, which
// no browser runs scripts from. They are not sandboxed: the browser's
// player loads the file again from the page it makes, and a sandbox would
// make that page's origin opaque, so the file could not be fetched.
const mediaCSP = "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'"

// filePolicy returns the Content-Security-Policy for a file of the given
// content type.
func filePolicy(ctype string) string {
	ctype, _, _ = strings.Cut(ctype, ";")
	ctype = strings.TrimSpace(strings.ToLower(ctype))
	switch {
	case strings.HasPrefix(ctype, "video/"), strings.HasPrefix(ctype, "audio/"),
		strings.HasPrefix(ctype, "image/") && !strings.Contains(ctype, "svg"):
		return mediaCSP
	}
	return fileCSP
}

// errRefused means a path component is not allowed: empty, ".", ".." or
// otherwise hidden.
var errRefused = errors.New("path refused")

// splitFilesPath splits the path after /files/ into the share name and
// the path inside the share ("." for its folder). dir reports whether the
// path ends with a slash.
func splitFilesPath(p string) (share, rel string, dir bool, err error) {
	dir = strings.HasSuffix(p, "/")
	parts := strings.Split(strings.TrimSuffix(p, "/"), "/")
	for _, c := range parts {
		if !library.Visible(c) {
			return "", "", false, errRefused
		}
	}
	rel = "."
	if len(parts) > 1 {
		rel = strings.Join(parts[1:], "/")
	}
	return parts[0], rel, dir, nil
}

// serveFiles is GET /files/{path...}.
func (s *Server) serveFiles(w http.ResponseWriter, r *http.Request) {
	sv := s.sharesFor(r)
	p := r.PathValue("path")
	if p == "" {
		s.serveShareList(w, sv)
		return
	}
	share, rel, wantDir, err := splitFilesPath(p)
	if err != nil {
		s.notFound(w, r, err)
		return
	}
	root, err := sv.Root(share)
	if errors.Is(err, library.ErrOffline) {
		http.Error(w, "This share is offline (is its disk plugged in?).", http.StatusServiceUnavailable)
		return
	}
	if err != nil {
		s.notFound(w, r, err)
		return
	}
	// An open root keeps the share's disk busy: closed when the request
	// is answered, or once the file to send is open.
	defer root.Close()
	fi, err := library.Stat(root, rel)
	if err != nil {
		s.notFound(w, r, err)
		return
	}
	switch {
	case fi.IsDir() && !wantDir:
		http.Redirect(w, r, (&url.URL{Path: r.URL.Path + "/"}).String(), http.StatusMovedPermanently)
	case fi.IsDir():
		s.serveFolder(w, r, sv, root, share, rel)
	case fi.Mode().IsRegular() && !wantDir:
		f, fi, err := library.Open(root, rel)
		root.Close() // closing twice is harmless
		if err != nil {
			s.notFound(w, r, err)
			return
		}
		defer f.Close()
		ctype := mime.TypeByExtension(path.Ext(fi.Name()))
		if ctype == "" {
			ctype = "application/octet-stream" // no sniffing: nosniff is set
		}
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Content-Security-Policy", filePolicy(ctype))
		if s.private(share) {
			w.Header().Set("Cache-Control", "private")
		}
		s.sending.Add(1)
		defer s.sending.Add(-1)
		http.ServeContent(w, r, fi.Name(), fi.ModTime(), f)
	default:
		s.notFound(w, r, errRefused)
	}
}

// Sending reports whether a file of a share is being sent to a browser
// now (GET /files: a film playing in the page, a download), for
// library.Prober.Busy: reading media details backs off meanwhile, as it
// does for FTP transfers and DLNA streams.
func (s *Server) Sending() bool { return s.sending.Load() > 0 }

func (s *Server) notFound(w http.ResponseWriter, r *http.Request, err error) {
	s.logger().Debug("file not served", "path", r.URL.Path, "err", err, "remote", r.RemoteAddr)
	http.Error(w, "Not found.", http.StatusNotFound)
}

// folderPage is what the folder template is given.
type folderPage struct {
	*pageData
	Title   string
	Root    bool // the list of shares
	Crumbs  []crumb
	Entries []listed
}

type crumb struct{ Name, Href string }

// listed is an entry of a folder's listing: its Item, its link relative
// to the folder's page (the file itself, or a folder), and what the row
// shows, put into words once (a template's method calls are slow, and a
// folder may have thousands of rows).
type listed struct {
	*Item
	Href string
	// Link is where the entry's name leads: the player for a video or
	// audio file, the file or folder otherwise.
	Link string
	// Details are the words of the row's details line, for its kind.
	Details []detail
	// Meta is the size and time of a file.
	Meta string
}

// detail is one part of a row's details line, with its class.
type detail struct{ Class, Text string }

// listedOf returns the row of an item whose link from its folder is href.
func listedOf(it *Item, href string) listed {
	l := listed{Item: it, Href: href, Link: cmp.Or(it.PlayURL, href)}
	add := func(class, text string) {
		if text != "" {
			l.Details = append(l.Details, detail{class, text})
		}
	}
	switch it.Kind {
	case "video":
		add("duration", it.Running())
		add("resolution", it.PictureSize())
		if langs := it.SubtitleLangs(); langs != "" {
			add("subs", "Subtitles "+langs)
		}
	case "audio":
		add("title", it.Title)
		add("music", it.Music())
		add("duration", it.Running())
	case "image":
		add("resolution", it.PictureSize())
		if d := it.TakenDate(); d != "" {
			add("taken", "taken "+d)
		}
	}
	if it.Kind != "folder" {
		l.Meta = humanBytes(it.Size) + " · " + it.ModifiedShort()
	}
	return l
}

// serveShareList is GET /files/: the shares.
func (s *Server) serveShareList(w http.ResponseWriter, sv shareView) {
	pg := &folderPage{pageData: s.basePage(), Title: "Files", Root: true}
	for _, name := range sv.Names() {
		it := &Item{Share: name, Path: ".", Name: name, Kind: "folder"}
		pg.Entries = append(pg.Entries, listedOf(it, "./"+url.PathEscape(name)+"/"))
	}
	s.render(w, http.StatusOK, "folder", pg)
}

// serveFolder lists the folder rel of a share: from the index, with each
// file's details, picture and subtitles, when the index has the folder;
// from the disk otherwise.
func (s *Server) serveFolder(w http.ResponseWriter, r *http.Request, sv shareView, root *os.Root, share, rel string) {
	f, err := s.readFolder(sv, root, share, rel)
	if err != nil {
		s.notFound(w, r, err)
		return
	}
	pg := &folderPage{pageData: s.basePage(), Title: share, Crumbs: crumbsOf(share, rel)}
	if rel != "." {
		pg.Title = path.Base(rel)
	}
	pg.Crumbs[len(pg.Crumbs)-1].Href = ""
	pg.Entries = make([]listed, 0, len(f.entries))
	for i, e := range f.entries {
		href := "./" + url.PathEscape(e.Name)
		if e.Dir {
			href += "/"
		}
		pg.Entries = append(pg.Entries, listedOf(s.item(f, i, e, false), href))
	}
	s.render(w, http.StatusOK, "folder", pg)
}

// basePage is the page data of pages that show no status.
func (s *Server) basePage() *pageData {
	return &pageData{Status: &Status{Name: s.name(), Version: s.Version}, s: s, Now: time.Now()}
}
