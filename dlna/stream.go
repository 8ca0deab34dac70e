package dlna

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/mediaftpd/mediaftpd/dlna/media"
	"github.com/mediaftpd/mediaftpd/dlna/quirks"
	"github.com/mediaftpd/mediaftpd/library"
)

// The media routes: GET and HEAD of /m/<share>/<path> stream a file and
// /s/<share>/<path> a subtitle, each path component escaped as escapedPath
// writes it. Files are opened through Content.Open, the one safe opener.

const (
	mediaPrefix    = "/m/"
	subtitlePrefix = "/s/"
	// streamChunkTimeout cuts a stream whose client takes no data for
	// this long (media.Options.ChunkTimeout), as FTP's stall timeout
	// does: a TV paused for longer reconnects with a Range.
	streamChunkTimeout = 10 * time.Minute
)

// parseMediaPath returns the share and share-relative path named by the
// escaped URL path p below prefix.
func parseMediaPath(p, prefix string) (share, rel string, ok bool) {
	rest, ok := strings.CutPrefix(p, prefix)
	if !ok {
		return "", "", false
	}
	var comps []string
	for c := range strings.SplitSeq(rest, "/") {
		name, ok := unescapePath(c)
		if !ok {
			return "", "", false
		}
		comps = append(comps, name)
	}
	if len(comps) < 2 {
		return "", "", false
	}
	return comps[0], strings.Join(comps[1:], "/"), true
}

// unescapePath returns the name an escaped URL path component c stands
// for, if it is one: not empty, ".", ".." or holding a "/".
func unescapePath(c string) (string, bool) {
	name, err := url.PathUnescape(c)
	if err != nil || name == "" || name == "." || name == ".." || strings.ContainsRune(name, '/') {
		return "", false
	}
	return name, true
}

// openError answers a request whose file could not be opened: 503 when
// the share's disk is unplugged, 500 when the disk fails to read, and
// otherwise 404, whatever the reason (missing, hidden, not a regular file,
// no permission, or a symlink out of the share, which the share's os.Root
// refuses with an error of its own), as FTP and /files answer.
func (srv *Server) openError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, library.ErrOffline):
		srv.logger().Debug("DLNA file not served: share offline", "path", r.URL.Path, "remote", r.RemoteAddr, "err", err)
		http.Error(w, "This share is offline (is its disk plugged in?).", http.StatusServiceUnavailable)
	case errors.Is(err, syscall.EIO):
		srv.logger().Warn("DLNA file cannot be read", "path", r.URL.Path, "remote", r.RemoteAddr, "err", err)
		http.Error(w, "The disk reports a read error.", http.StatusInternalServerError)
	default:
		srv.logger().Debug("DLNA file not served", "path", r.URL.Path, "remote", r.RemoteAddr, "err", err)
		http.NotFound(w, r)
	}
}

// serveMedia streams a file with media.Serve, for the client's quirks,
// with the subtitle's URL when a Samsung asks for it, and counted for the
// status page.
func (srv *Server) serveMedia(w http.ResponseWriter, r *http.Request) {
	share, rel, ok := parseMediaPath(r.URL.EscapedPath(), mediaPrefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	f, fi, err := srv.Content.Open(share, rel)
	if err != nil {
		srv.openError(w, r, err)
		return
	}
	defer f.Close()
	client := quirks.Detect(r.Header)
	srv.seenPlayer(r, client)
	opts := media.Options{Quirks: client.Quirks, ChunkTimeout: streamChunkTimeout}
	if r.Header.Get("getCaptionInfo.sec") == "1" {
		l := listed{obj: pathObject(share, rel), e: library.Entry{Name: baseName(rel)}}
		srv.findSubtitles(&l)
		if len(l.subs) > 0 {
			opts.CaptionURL = baseURL(r) + escapedPath(subtitlePrefix, share, l.subs[0].Path)
		}
	}
	if r.Method == http.MethodGet {
		addr, _ := remoteAddr(r)
		st, done := srv.status.start(Stream{
			Share:   share,
			Path:    rel,
			Client:  addr,
			Player:  playerName(client, r.Header),
			Started: srv.clock(),
			Size:    fi.Size(),
		})
		defer done()
		opts.Sent = &st.sent
		srv.logger().Debug("DLNA stream", "share", share, "path", rel, "remote", r.RemoteAddr, "range", r.Header.Get("Range"))
	}
	media.Serve(w, r, f, fi, opts)
}

// serveSubtitle serves a subtitle file with media.ServeSubtitle.
func (srv *Server) serveSubtitle(w http.ResponseWriter, r *http.Request) {
	share, rel, ok := parseMediaPath(r.URL.EscapedPath(), subtitlePrefix)
	if !ok || !isSubtitle(rel) {
		http.NotFound(w, r)
		return
	}
	f, fi, err := srv.Content.Open(share, rel)
	if err != nil {
		srv.openError(w, r, err)
		return
	}
	defer f.Close()
	media.ServeSubtitle(w, r, f, fi)
}
