package web

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/mediaftpd/mediaftpd/library"
)

// The player. GET /play/<share>/<path> is a page with the browser's own
// player for a video or audio file, its subtitles as <track> elements
// (GET /subtitles converts them to WebVTT), and a small script
// (assets/player.js) that resumes where playing stopped and keeps the
// position: every 10 seconds while playing, on pause, on a seek while
// paused, and when the page is left, it sends PUT /api/positions/<share>/
// <path> {"seconds": N} (0 once the end is near, or on "Start over").
// On load it seeks to the kept position and offers to start over.
//
// Positions are not admin actions: whoever may play a file may say where
// they stopped, as on a TV, so no login or CSRF token is asked. What keeps
// another web site from writing them through a visitor's browser is what
// guards every change: a PUT from another origin (by Sec-Fetch-Site or
// Origin) is refused with 403 before any handler runs, the Host check
// defeats DNS rebinding, and the body must be JSON (Content-Type:
// application/json, which a cross-site form cannot send, and which a
// cross-site fetch can send only after a CORS preflight this server never
// grants).

// playerCSP is the policy of the player's page: the page's own, and media
// from this server.
const playerCSP = pageCSP + "; media-src 'self'"

// maxPosition bounds a position: a week of playing.
const maxPosition = 7 * 24 * time.Hour

// playerPage is what the player template is given.
type playerPage struct {
	*pageData
	Item   *Item
	Crumbs []crumb
	// FolderURL is the folder's listing.
	FolderURL string
	// PositionURL is where the script sends positions; "" when they are
	// not kept.
	PositionURL string
	// Poster is a larger picture of the item, shown before it plays.
	Poster string
	// Video says it is a video (else audio).
	Video bool
}

// servePlayer is GET /play/{path...}.
func (s *Server) servePlayer(w http.ResponseWriter, r *http.Request) {
	res := s.resolve(w, r, r.PathValue("path"), false)
	if res == nil {
		return
	}
	it := s.itemOf(res)
	if it.PlayURL == "" {
		http.Redirect(w, r, it.URL, http.StatusFound)
		return
	}
	pg := &playerPage{pageData: s.basePage(), Item: it, Video: it.Kind == "video"}
	pg.Crumbs = crumbsOf(res.share, path.Dir(res.rel))
	pg.FolderURL = pg.Crumbs[len(pg.Crumbs)-1].Href
	pg.Crumbs = append(pg.Crumbs, crumb{Name: it.Name})
	if s.Positions != nil {
		pg.PositionURL = "/api/positions/" + escapePath(res.share+"/"+res.rel)
	}
	if it.Artwork != "" {
		pg.Poster = strings.Replace(it.Artwork, "size=320", "size=640", 1)
	}
	w.Header().Set("Content-Security-Policy", playerCSP)
	s.render(w, http.StatusOK, "player", pg)
}

// crumbsOf returns the links to a share's folder rel and those above it,
// from the share's own.
func crumbsOf(share, rel string) []crumb {
	href := "/files/" + escapePath(share) + "/"
	crumbs := []crumb{{share, href}}
	if rel != "." {
		for c := range strings.SplitSeq(rel, "/") {
			href += escapePath(c) + "/"
			crumbs = append(crumbs, crumb{c, href})
		}
	}
	return crumbs
}

// Label returns the name of a subtitle track in the player's menu:
// "EN", "FR forced", "EN SDH", or "Subtitles" when its language is
// unknown.
func (st SubtitleInfo) Label() string {
	l := strings.ToUpper(st.Lang)
	if l == "" {
		l = "Subtitles"
	}
	if st.Forced {
		l += " forced"
	}
	if st.SDH {
		l += " SDH"
	}
	return l
}

// positionBody is the body of PUT /api/positions.
type positionBody struct {
	// Seconds is where playing stopped; 0 removes the position.
	Seconds float64 `json:"seconds"`
}

// putPosition is PUT /api/positions/{path...}.
func (s *Server) putPosition(w http.ResponseWriter, r *http.Request) {
	if s.Positions == nil {
		writeError(w, http.StatusNotFound, "positions are not kept: mediaftpd runs without a state folder")
		return
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "the body must be JSON (Content-Type: application/json)")
		return
	}
	var body positionBody
	if !readJSON(w, r, &body) {
		return
	}
	if math.IsNaN(body.Seconds) || body.Seconds < 0 || body.Seconds > maxPosition.Seconds() {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("seconds must be from 0 to %d", int64(maxPosition.Seconds())))
		return
	}
	share, rel, _, err := splitFilesPath(r.PathValue("path"))
	if err == nil && rel == "." {
		err = errNotFile
	}
	if err != nil {
		writeError(w, http.StatusNotFound, "not found")
		return
	}
	root, err := s.sharesFor(r).Root(share)
	if err != nil {
		writeError(w, http.StatusNotFound, "not found")
		return
	}
	fi, err := library.Stat(root, rel)
	root.Close()
	if err == nil && (!fi.Mode().IsRegular() || !playable(rel)) {
		err = errNotFile
	}
	if err != nil {
		s.logger().Debug("position not kept", "path", r.URL.Path, "err", err, "remote", r.RemoteAddr)
		writeError(w, http.StatusNotFound, "not found")
		return
	}
	pos := time.Duration(body.Seconds * float64(time.Second)).Truncate(time.Millisecond)
	if err := s.Positions.SetPosition(share, rel, pos, time.Now()); err != nil {
		s.logger().Error("keeping a position failed", "share", share, "path", rel, "err", err)
		writeError(w, http.StatusInternalServerError, "the position could not be kept")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// playable reports whether the player plays the file rel.
func playable(rel string) bool {
	k := library.KindOf(rel)
	return k == library.Video || k == library.Audio
}

// serveSubtitles is GET /subtitles/{path...}: a subtitle file (.srt,
// .ass, .ssa, .vtt) as WebVTT.
func (s *Server) serveSubtitles(w http.ResponseWriter, r *http.Request) {
	share, rel, _, err := splitFilesPath(r.PathValue("path"))
	if err == nil && (rel == "." || !isSubtitle(rel)) {
		err = errNotFile
	}
	if err != nil {
		s.notFound(w, r, err)
		return
	}
	f, fi, err := s.sharesFor(r).Open(share, rel)
	if err != nil {
		s.notFound(w, r, err)
		return
	}
	defer f.Close()
	etag := `"` + thumbVersion(entryOf(fi.Name(), fi)) + `-vtt"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "no-cache")
	if etagMatches(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if fi.Size() > maxSubtitleBytes {
		http.Error(w, "This subtitle file is too big.", http.StatusRequestEntityTooLarge)
		return
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSubtitleBytes))
	if err != nil {
		s.logger().Warn("reading a subtitle file failed", "path", r.URL.Path, "err", err)
		http.Error(w, "The subtitle file cannot be read.", http.StatusInternalServerError)
		return
	}
	vtt, err := subtitleToVTT(data, strings.ToLower(strings.TrimPrefix(path.Ext(rel), ".")))
	if err != nil {
		s.logger().Debug("subtitles not converted", "path", r.URL.Path, "err", err)
		http.Error(w, "These subtitles cannot be read: "+err.Error()+".", http.StatusUnprocessableEntity)
		return
	}
	w.Header().Set("Content-Type", "text/vtt; charset=utf-8")
	http.ServeContent(w, r, "", fi.ModTime(), bytes.NewReader(vtt))
}
