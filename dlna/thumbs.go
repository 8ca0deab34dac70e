package dlna

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mediaftpd/mediaftpd/library"
	"github.com/mediaftpd/mediaftpd/library/thumb"
)

// Artwork and thumbnails. An item or a folder that has a picture is
// offered with a JPEG_TN thumbnail (at most 160x160 pixels): as
// upnp:albumArtURI with dlna:profileID="JPEG_TN", and as a res of its own,
// which LG webOS wants. The picture is, best first:
//   - for a video or a song, its artwork beside it (library.Artwork on
//     the names of its folder: "Film-poster.jpg", "Film.jpg", a lone
//     film's or an album's "poster.jpg", "folder.jpg", "cover.jpg"), or
//     else the cover art embedded in it (probe.Details.HasCover), or
//     else, for a video, a frame of it when Thumbs grabs frames
//     (Thumbs.Frames: the config's "thumbnails: ffmpeg", ffmpeg found)
//     and has not found it without one (Thumbs.NoFrame);
//   - for a photo (JPEG, PNG, GIF or WebP within the thumbnail maker's
//     pixel budget), the photo itself;
//   - for a folder, its own picture (library.FolderArtwork: "poster.jpg",
//     "folder.jpg", "cover.jpg").
//
// Only a thumbnail that can be made is offered, and nothing is decoded
// during a Browse: GET /t/<share>/<path>.jpg makes the thumbnail on its
// first request, through Thumbs, which keeps it on disk. A frame is
// grabbed by ffmpeg during that request, at most Thumbs' own time bound
// (thumb.Cache.FrameTimeout per ffmpeg run), stopped when the TV hangs up;
// a video without a frame answers 404, at once on later requests, and
// later listings no longer offer its thumbnail.

// Thumbs makes thumbnails and keeps them. *thumb.Cache implements it. It
// must be safe for concurrent use.
type Thumbs interface {
	// Thumbnail returns the path of a JPEG of at most size x size pixels
	// made from the picture src returns (closed by Thumbnail), kept under
	// key, which names the picture and its version: a key seen before
	// does not call src.
	Thumbnail(key string, size int, src func() (io.ReadCloser, error)) (path string, err error)
	// Frames reports whether VideoFrame grabs frames of videos. It is
	// asked for videos without artwork during a Browse, so it must cost
	// no system call.
	Frames() bool
	// VideoFrame returns the path of a JPEG of at most size x size pixels
	// made from a frame of the open video whose running time is running
	// (0: unknown), kept under key; thumb.ErrNoFrame when the video has
	// none to give. Canceling ctx stops it.
	VideoFrame(ctx context.Context, key string, size int, video *os.File, running time.Duration) (path string, err error)
	// NoFrame reports whether VideoFrame found no frame in the video of
	// key. It is asked during a Browse, so it must read nothing.
	NoFrame(key string) bool
}

var _ Thumbs = (*thumb.Cache)(nil)

const (
	// thumbPrefix is the route of thumbnails: /t/<share>/<path>.jpg for
	// a file or a folder, /t/<share>.jpg for a share's folder.
	thumbPrefix = "/t/"
	// thumbSuffix ends every thumbnail URL, so clients that go by the
	// extension see a JPEG.
	thumbSuffix = ".jpg"
	// thumbFeatures is the fourth field of a thumbnail's protocolInfo
	// and its contentFeatures.dlna.org: the JPEG_TN profile (certain: we
	// make the JPEG), byte seek, converted content, interactive transfer.
	thumbFeatures = "DLNA.ORG_PN=JPEG_TN;DLNA.ORG_OP=01;DLNA.ORG_CI=1;DLNA.ORG_FLAGS=00D00000000000000000000000000000"
	// thumbProtocolInfo is a thumbnail's res@protocolInfo.
	thumbProtocolInfo = "http-get:*:image/jpeg:" + thumbFeatures
	// roleWindow is how many entries rolePictures reads where a role's
	// pictures sort ("cover.jpg", "Cover.png", ...).
	roleWindow = 8
	// folderReadMax is the most entries a folder listed in a page may
	// have to be read whole for its picture; a bigger one is searched
	// (rolePictures).
	folderReadMax = 64
)

// artKind is where a thumbnail comes from.
type artKind uint8

const (
	artNone  artKind = iota
	artFile          // a picture file of the share
	artCover         // the cover art embedded in the media file
	artSelf          // the photo itself
	artFrame         // a frame of the video, grabbed by Thumbs.VideoFrame
)

// artSource is where the thumbnail of an object comes from.
type artSource struct {
	kind artKind
	path string // artFile: the picture's share-relative path
}

// folderRoles are the names rolePictures looks for in a big folder: those
// of library.Artwork's primary roles ("albumart" sorts after "album").
var folderRoles = []string{"album", "cover", "default", "folder", "front", "jacket", "movie", "poster"}

// thumbable reports whether the thumbnail maker decodes the picture by its
// extension: JPEG, PNG, GIF or WebP.
func thumbable(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".jpg", ".jpeg", ".png", ".gif", ".webp":
		return true
	}
	return false
}

// maxPixels returns the thumbnail maker's pixel budget: a photo known to
// be bigger is offered without a thumbnail.
func (srv *Server) maxPixels() int64 {
	if c, ok := srv.Thumbs.(*thumb.Cache); ok && c.MaxPixels > 0 {
		return c.MaxPixels
	}
	return thumb.DefaultMaxPixels
}

// itemArt finds the picture of the file l, in the folder sib reads;
// around returns the names around it there, and whether there may be
// pictures among them.
func (srv *Server) itemArt(l *listed, sib *siblings, around func() ([]string, bool)) {
	switch library.KindOf(l.e.Name) {
	case library.Image:
		d := l.details
		if thumbable(l.e.Name) && int64(d.Width)*int64(d.Height) <= srv.maxPixels() {
			l.art = artSource{kind: artSelf}
		}
		return
	case library.Video, library.Audio:
	default:
		return
	}
	names, pictures := around()
	folder := sib.count() && !sib.small() && wantsFolderPictures(l.e.Name, names)
	if !pictures {
		// No picture near the file: only the folder's own may be its
		// artwork, and when they may be, no other video is near it
		// (what Artwork would look for among the names).
		names = nil
	}
	if folder {
		names = append(names[:len(names):len(names)], sib.pictures(wholeFolderMax)...)
	}
	if len(names) > 0 {
		if art := library.Artwork(l.obj.real().rel, names); len(art) > 0 {
			l.art = artSource{kind: artFile, path: art[0].Path}
			return
		}
	}
	if l.details.HasCover {
		l.art = artSource{kind: artCover}
		return
	}
	if srv.offersFrame(l) {
		l.art = artSource{kind: artFrame}
	}
}

// offersFrame reports whether the file l, which has no other artwork, is
// offered a frame of itself: a video, when Thumbs grabs frames and has not
// found it without one. It reads nothing.
func (srv *Server) offersFrame(l *listed) bool {
	if library.KindOf(l.e.Name) != library.Video || !srv.Thumbs.Frames() {
		return false
	}
	real := l.obj.real()
	return !srv.Thumbs.NoFrame(frameKey(real.share, real.rel, l.e))
}

// wantsFolderPictures reports whether the folder's own pictures may be
// the artwork of the file name, whose neighbours are names: a song's are
// (an album's cover), a video's only when no other video is near it
// (library.Artwork decides for sure).
func wantsFolderPictures(name string, names []string) bool {
	if library.KindOf(name) == library.Audio {
		return true
	}
	for _, n := range names {
		if n != name && library.KindOf(n) == library.Video {
			return false
		}
	}
	return true
}

// folderArt finds the picture of the folder l.
func (srv *Server) folderArt(l *listed) {
	if l.obj.kind != objPath {
		return
	}
	sib := &siblings{srv: srv, share: l.obj.share, dir: l.obj.rel}
	if art := library.FolderArtwork(l.obj.rel, sib.pictures(folderReadMax)); len(art) > 0 {
		l.art = artSource{kind: artFile, path: art[0].Path}
	}
}

// rolePictures returns the names of the pictures of the folder dir (of
// total entries) named after one of folderRoles, found by a binary search
// for each role: O(log total) entries read per role.
func (srv *Server) rolePictures(share, dir string, total int) []string {
	var out []string
	for _, role := range folderRoles {
		at, ok := srv.searchFolder(share, dir, total, library.Entry{Name: role})
		if !ok {
			return out
		}
		win, _, err := srv.Content.Children(share, dir, library.AllFiles, at, roleWindow)
		if err != nil {
			return out
		}
		for _, e := range win {
			if !e.Dir && len(e.Name) > len(role) && strings.EqualFold(e.Name[:len(role)], role) && library.KindOf(e.Name) == library.Image {
				out = append(out, e.Name)
			}
		}
	}
	return out
}

// thumbURL returns the URL of the thumbnail of the object rel of the share
// (a file, a folder, or "." for the share's folder) below prefix: the
// route's (thumbPrefix), after the client's base URL if it is to be whole.
func thumbURL(prefix, share, rel string) string {
	if rel == "." {
		var b strings.Builder
		b.WriteString(prefix)
		escapeComponent(&b, share)
		return b.String() + thumbSuffix
	}
	return escapedPath(prefix, share, rel) + thumbSuffix
}

// parseThumbPath returns the share and share-relative path ("." for the
// share's folder) named by the escaped URL path p of a thumbnail.
func parseThumbPath(p string) (share, rel string, ok bool) {
	p, ok = strings.CutSuffix(p, thumbSuffix)
	if !ok {
		return "", "", false
	}
	if share, rel, ok = parseMediaPath(p, thumbPrefix); ok {
		return share, rel, true
	}
	// The share's folder: one component.
	rest, _ := strings.CutPrefix(p, thumbPrefix)
	if strings.Contains(rest, "/") {
		return "", "", false
	}
	share, ok = unescapePath(rest)
	return share, ".", ok
}

// serveThumb answers GET and HEAD of a thumbnail: the JPEG_TN thumbnail of
// the object, made on the first request; 404 for an object without a
// picture (or one that cannot be made into a thumbnail).
func (srv *Server) serveThumb(w http.ResponseWriter, r *http.Request) {
	share, rel, ok := parseThumbPath(r.URL.EscapedPath())
	if !ok || srv.Thumbs == nil {
		http.NotFound(w, r)
		return
	}
	l, err := srv.lookup(pathObject(share, rel))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	srv.itemExtras(&l, extras{art: true})
	var p string
	if l.art.kind == artFrame {
		p, err = srv.frameThumb(r.Context(), &l)
	} else {
		key, src, ok := srv.thumbSource(&l)
		if !ok {
			http.NotFound(w, r)
			return
		}
		p, err = srv.Thumbs.Thumbnail(key, thumb.SizeTN, src)
	}
	if err != nil {
		if errors.Is(err, library.ErrOffline) || errors.Is(err, syscall.EIO) {
			srv.openError(w, r, err)
			return
		}
		srv.logger().Debug("DLNA thumbnail not made", "share", share, "path", rel, "err", err)
		http.NotFound(w, r)
		return
	}
	f, err := os.Open(p)
	if err != nil {
		srv.logger().Warn("DLNA thumbnail cannot be read", "err", err)
		http.Error(w, "The thumbnail cannot be read.", http.StatusInternalServerError)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		http.Error(w, "The thumbnail cannot be read.", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "image/jpeg")
	if r.Header.Get("getcontentFeatures.dlna.org") == "1" {
		h.Set("contentFeatures.dlna.org", thumbFeatures)
	}
	if r.Header.Get("transferMode.dlna.org") != "" {
		h.Set("transferMode.dlna.org", "Interactive")
	}
	http.ServeContent(w, r, "", fi.ModTime(), f)
}

// thumbSource returns the cache key and the source of the thumbnail of l,
// whose art was found, and false when it has none.
func (srv *Server) thumbSource(l *listed) (key string, src func() (io.ReadCloser, error), ok bool) {
	real := l.obj.real()
	share := real.share
	openFile := func(rel string) func() (io.ReadCloser, error) {
		return func() (io.ReadCloser, error) {
			f, _, err := srv.Content.Open(share, rel)
			if err != nil {
				return nil, err
			}
			return f, nil
		}
	}
	switch l.art.kind {
	case artFile:
		e, err := srv.Content.Entry(share, l.art.path, library.AllFiles)
		if err != nil || e.Dir {
			return "", nil, false
		}
		return thumbKey("file", share, l.art.path, e), openFile(l.art.path), true
	case artSelf:
		return thumbKey("file", share, real.rel, l.e), openFile(real.rel), true
	case artCover:
		return thumbKey("cover", share, real.rel, l.e), func() (io.ReadCloser, error) {
			f, fi, err := srv.Content.Open(share, real.rel)
			if err != nil {
				return nil, err
			}
			defer f.Close()
			return thumb.EmbeddedCover(f, fi.Size(), fi.Name())()
		}, true
	}
	return "", nil, false
}

// frameThumb grabs the frame of the video l, whose art is artFrame, as
// its thumbnail, or finds it in Thumbs' cache.
func (srv *Server) frameThumb(ctx context.Context, l *listed) (string, error) {
	real := l.obj.real()
	f, _, err := srv.Content.Open(real.share, real.rel)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return srv.Thumbs.VideoFrame(ctx, frameKey(real.share, real.rel, l.e), thumb.SizeTN, f, l.details.Duration)
}

// frameKey returns the cache key of the frame of the video rel of the
// share, whose entry is e: the key of VideoFrame and NoFrame.
func frameKey(share, rel string, e library.Entry) string {
	return thumbKey("frame", share, rel, e)
}

// thumbKey returns the cache key of a picture: what it is (a file, a
// media file's cover), where, and its version.
// A listing makes one for each video it offers a frame of (frameKey), so
// it is built in one allocation.
func thumbKey(what, share, rel string, e library.Entry) string {
	var b strings.Builder
	b.Grow(len("dlna") + len(what) + len(share) + len(rel) + 3*20 + 6)
	for _, s := range [...]string{"dlna", what, share, rel} {
		b.WriteString(s)
		b.WriteByte(0)
	}
	var num [20]byte
	b.Write(strconv.AppendInt(num[:0], e.Size, 10))
	b.WriteByte(0)
	b.Write(strconv.AppendInt(num[:0], e.ModTime.UnixNano(), 10))
	b.WriteByte(0)
	b.Write(strconv.AppendUint(num[:0], e.Ino, 10))
	return b.String()
}
