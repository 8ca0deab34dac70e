package web

import (
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mediaftpd/mediaftpd/library"
	"github.com/mediaftpd/mediaftpd/library/thumb"
)

// Thumbnails. GET /thumbs/<share>/<path>?size=320 returns a JPEG of at
// most size x size pixels (160, 320 or 640) of the file at path: a
// picture file itself (a poster beside a film, a photo), the cover art
// embedded in an audio file, or a frame of a video (only with
// Thumbs.Frames). The folder view and /api/items name the file that
// is an item's picture; which file that is (library.Artwork) is theirs to
// decide, so this route reads no folder. Thumbnails are made once and kept
// on disk by Server.Thumbs.
//
// The ETag is the file's version (size, time, inode) and the size; a URL
// whose v parameter is that version may be kept by the browser for good
// (a changed file gets another URL from the page), others are revalidated.

// serveThumb is GET /thumbs/{path...}.
func (s *Server) serveThumb(w http.ResponseWriter, r *http.Request) {
	if s.Thumbs == nil {
		http.Error(w, "No pictures here.", http.StatusNotFound)
		return
	}
	size := thumb.SizeSmall
	if v := r.URL.Query().Get("size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || !slices.Contains(thumbSizes, n) {
			http.Error(w, "size must be 160, 320 or 640.", http.StatusBadRequest)
			return
		}
		size = n
	}
	share, rel, _, err := splitFilesPath(r.PathValue("path"))
	if err != nil || rel == "." {
		s.notFound(w, r, errRefused)
		return
	}
	sv := s.sharesFor(r)
	f, fi, err := sv.Open(share, rel)
	if err != nil {
		s.notFound(w, r, err)
		return
	}
	defer f.Close()
	e := entryOf(path.Base(rel), fi)
	version := thumbVersion(e)
	etag := `"` + version + "-" + strconv.Itoa(size) + `"`
	h := w.Header()
	h.Set("ETag", etag)
	cache := ""
	if s.private(share) {
		cache = "private, " // not for shared caches
	}
	if r.URL.Query().Get("v") == version {
		h.Set("Cache-Control", cache+"max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", cache+"no-cache")
	}
	if etagMatches(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	key := "web\x00" + share + "\x00" + rel + "\x00" + version
	var p string
	switch library.KindOf(rel) {
	case library.Image:
		if !thumbable(rel) {
			err = thumb.ErrFormat
			break
		}
		p, err = s.Thumbs.Thumbnail(key, size, func() (io.ReadCloser, error) {
			return sectionCloser{io.NewSectionReader(f, 0, fi.Size())}, nil
		})
	case library.Audio:
		p, err = s.Thumbs.Thumbnail(key+"\x00cover", size, thumb.EmbeddedCover(f, fi.Size(), fi.Name()))
	case library.Video:
		if !s.videoFrames() {
			err = thumb.ErrNoFFmpeg
			break
		}
		p, err = s.Thumbs.VideoFrame(r.Context(), key, size, f, s.runningTime(sv, share, rel, e))
	default:
		err = thumb.ErrFormat
	}
	if err != nil {
		s.thumbFailed(w, r, err)
		return
	}
	jpg, err := os.Open(p)
	if err != nil {
		s.thumbFailed(w, r, err)
		return
	}
	defer jpg.Close()
	h.Set("Content-Type", "image/jpeg")
	http.ServeContent(w, r, "", time.Time{}, jpg)
}

// runningTime returns the running time of the video rel, whose open file
// is e, for Thumbs.VideoFrame (which decides when to grab its frame): 0
// when its details are not known for that version of the file.
func (s *Server) runningTime(sv shareView, share, rel string, e library.Entry) time.Duration {
	if s.Details == nil {
		return 0
	}
	ie, err := sv.Entry(share, rel, library.AllFiles)
	if err != nil || ie.Size != e.Size || !ie.ModTime.Equal(e.ModTime) {
		return 0
	}
	d, ok := s.Details.Of(share, rel, ie)
	if !ok {
		return 0
	}
	return d.Duration
}

// thumbFailed answers a thumbnail that cannot be made: 404 for a file
// that has no picture to make one of, 500 for a failure to read or write.
func (s *Server) thumbFailed(w http.ResponseWriter, r *http.Request, err error) {
	w.Header().Del("ETag")
	w.Header().Set("Cache-Control", "no-store")
	for _, no := range []error{thumb.ErrFormat, thumb.ErrCorrupt, thumb.ErrTooBig, thumb.ErrNoFFmpeg, thumb.ErrNoFrame, thumb.ErrNoCover, fs.ErrNotExist} {
		if errors.Is(err, no) {
			s.logger().Debug("no thumbnail", "path", r.URL.Path, "err", err)
			http.Error(w, "No picture.", http.StatusNotFound)
			return
		}
	}
	if r.Context().Err() != nil {
		return // the browser went away (scrolled past)
	}
	s.logger().Warn("making a thumbnail failed", "path", r.URL.Path, "err", err)
	http.Error(w, "The picture cannot be made.", http.StatusInternalServerError)
}

// etagMatches reports whether an If-None-Match header matches etag.
func etagMatches(header, etag string) bool {
	for t := range strings.SplitSeq(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// sectionCloser is a part of an open file that Close leaves open: a
// seekable source, which the thumbnail maker reads twice rather than
// holding it in memory.
type sectionCloser struct{ *io.SectionReader }

func (sectionCloser) Close() error { return nil }

// videoFrames reports whether a video without artwork gets a frame of
// itself as its picture.
func (s *Server) videoFrames() bool { return s.Thumbs != nil && s.Thumbs.Frames() }
