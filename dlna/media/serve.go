package media

import (
	"io"
	"io/fs"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mediaftpd/mediaftpd/dlna/quirks"
)

// Options tune Serve for one request.
type Options struct {
	// Quirks are the requesting client's (quirks.Detect); they choose the
	// Content-Type.
	Quirks quirks.Set
	// CaptionURL is the absolute URL of the video's subtitle, sent as
	// CaptionInfo.sec when the request asks with getCaptionInfo.sec: 1;
	// "" when the video has none (then nothing is sent).
	CaptionURL string
	// Sent, if not nil, has the number of body bytes sent added to it as
	// they go, at least every chunkSize (4 MiB) bytes, so a status page
	// can show a stream's progress and rate.
	Sent *atomic.Int64
	// ChunkTimeout, if positive, is how long each chunk of the body (at
	// most 4 MiB) may take to be written: Serve sets the connection's
	// write deadline before each one (http.ResponseController) and clears
	// it at the end. A client that stops reading for longer (a TV paused
	// for a long time) is cut, and reconnects with a Range when it
	// resumes. Zero leaves the deadlines to the http.Server.
	ChunkTimeout time.Duration
}

// chunkSize is the most Serve sends between updates of Options.Sent and
// deadlines.
const chunkSize = 4 << 20

// DLNA header names, spelt as DLNA writes them (net/http would write
// Transfermode.dlna.org; some clients compare names case-sensitively).
const (
	hdrTransferMode    = "transferMode.dlna.org"
	hdrContentFeatures = "contentFeatures.dlna.org"
	hdrRealTimeInfo    = "realTimeInfo.dlna.org"
	hdrCaptionInfo     = "CaptionInfo.sec"
	hdrExt             = "EXT"

	hdrGetContentFeatures = "getcontentFeatures.dlna.org"
	hdrGetCaptionInfo     = "getCaptionInfo.sec"
	hdrTimeSeekRange      = "TimeSeekRange.dlna.org"
	hdrPlaySpeed          = "PlaySpeed.dlna.org"
)

// The transfer modes (DLNA guidelines 7.4.49).
const (
	modeStreaming   = "Streaming"
	modeInteractive = "Interactive"
	modeBackground  = "Background"
)

// Serve answers a GET or HEAD request r for the open regular file f, whose
// FileInfo is fi: the whole file or one byte range, the DLNA headers, and
// the refusals described in the package documentation. The caller opened
// f through the one safe opener and closes it after Serve returns; Serve
// moves f's offset. The Content-Type is MIMEType(fi.Name(), opts.Quirks).
//
// Serve writes the body with sendfile when w, or a writer it unwraps to
// (an Unwrap() http.ResponseWriter method, as http.ResponseController
// uses), implements io.ReaderFrom as net/http's own does; a wrapper's Write
// is then bypassed for the body, so count bytes with Options.Sent rather
// than in a wrapper.
func Serve(w http.ResponseWriter, r *http.Request, f *os.File, fi fs.FileInfo, opts Options) {
	form, _ := lookup(fi.Name())
	mode := modeInteractive
	if form.kind == kindVideo || form.kind == kindAudio {
		mode = modeStreaming
	}
	serve(w, r, f, fi, opts, item{
		mime:     MIMEType(fi.Name(), opts.Quirks),
		features: ContentFeatures(fi.Name(), opts.Quirks),
		mode:     mode,
	})
}

// ServeSubtitle answers a GET or HEAD request for the open subtitle file
// f as Serve does, with the type from the table (text/srt for .srt,
// text/vtt; charset=utf-8 for .vtt, text/x-ssa for .ass and .ssa) and any
// transfer mode the client asks for: TVs differ in what they ask when
// they fetch a subtitle, and a refusal would only lose the subtitle.
func ServeSubtitle(w http.ResponseWriter, r *http.Request, f *os.File, fi fs.FileInfo) {
	mime := MIMEType(fi.Name(), 0)
	if mime == "text/vtt" {
		mime += "; charset=utf-8" // WebVTT is always UTF-8
	}
	serve(w, r, f, fi, Options{}, item{
		mime:     mime,
		features: interactiveFeatures,
		mode:     modeInteractive,
		anyMode:  true,
	})
}

// item is what serve needs to know of the file besides Options.
type item struct {
	mime     string
	features string // contentFeatures.dlna.org
	mode     string // the transfer mode that fits it, besides Background
	anyMode  bool   // every transfer mode fits
}

func serve(w http.ResponseWriter, r *http.Request, f *os.File, fi fs.FileInfo, opts Options, it item) {
	h := w.Header()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "only GET and HEAD", http.StatusMethodNotAllowed)
		return
	}
	mode := it.mode
	if asked := strings.TrimSpace(r.Header.Get(hdrTransferMode)); asked != "" {
		switch {
		case strings.EqualFold(asked, modeStreaming):
			asked = modeStreaming
		case strings.EqualFold(asked, modeInteractive):
			asked = modeInteractive
		case strings.EqualFold(asked, modeBackground):
			asked = modeBackground
		default:
			http.Error(w, "unknown transfer mode", http.StatusBadRequest)
			return
		}
		if asked != mode && asked != modeBackground && !it.anyMode {
			http.Error(w, "transfer mode "+asked+" does not fit this item", http.StatusNotAcceptable)
			return
		}
		mode = asked
	}
	if ps := r.Header.Get(hdrPlaySpeed); ps != "" && strings.TrimSpace(ps) != "speed=1" {
		http.Error(w, "only speed=1", http.StatusNotAcceptable)
		return
	}
	rangeHeader := r.Header.Get("Range")
	if r.Header.Get(hdrTimeSeekRange) != "" && rangeHeader == "" {
		http.Error(w, "time seek is not offered; use a byte range", http.StatusNotAcceptable)
		return
	}

	size := fi.Size()
	modTime := fi.ModTime()
	h.Set("Content-Type", it.mime)
	h.Set("Accept-Ranges", "bytes")
	if modTime.Unix() > 0 {
		h.Set("Last-Modified", modTime.UTC().Format(http.TimeFormat))
	}
	h[hdrExt] = []string{""}
	h[hdrTransferMode] = []string{mode}
	h[hdrRealTimeInfo] = []string{"DLNA.ORG_TLAG=*"}
	if strings.TrimSpace(r.Header.Get(hdrGetContentFeatures)) == "1" {
		h[hdrContentFeatures] = []string{it.features}
	}
	if opts.CaptionURL != "" && strings.TrimSpace(r.Header.Get(hdrGetCaptionInfo)) == "1" {
		h[hdrCaptionInfo] = []string{opts.CaptionURL}
	}

	start, length := int64(0), size
	status := http.StatusOK
	if rangeHeader != "" && ifRangeHolds(r.Header.Get("If-Range"), modTime) {
		switch s, n, res := parseRange(rangeHeader, size); res {
		case rangeOK:
			start, length, status = s, n, http.StatusPartialContent
			h.Set("Content-Range", "bytes "+strconv.FormatInt(s, 10)+"-"+strconv.FormatInt(s+n-1, 10)+"/"+strconv.FormatInt(size, 10))
		case rangeUnsatisfiable:
			h.Set("Content-Range", "bytes */"+strconv.FormatInt(size, 10))
			http.Error(w, "range not satisfiable", http.StatusRequestedRangeNotSatisfiable)
			return
		}
	}
	h.Set("Content-Length", strconv.FormatInt(length, 10))
	w.WriteHeader(status)
	if r.Method == http.MethodHead || length == 0 {
		return
	}
	sendBody(w, f, start, length, opts)
}

// ifRangeHolds reports whether a Range may be used given the request's
// If-Range value v: always without one, else only when v is the file's
// modification time (the Last-Modified sent). An entity tag never
// matches: none is sent.
func ifRangeHolds(v string, modTime time.Time) bool {
	if v == "" {
		return true
	}
	t, err := http.ParseTime(v)
	return err == nil && modTime.Unix() > 0 && t.Unix() == modTime.Unix()
}

// sendBody copies length bytes of f from start to w, chunkSize at a time,
// by sendfile where w allows it.
func sendBody(w http.ResponseWriter, f *os.File, start, length int64, opts Options) {
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		return // the client sees a short body and the connection closed
	}
	dst := bodyWriter(w)
	rc := http.NewResponseController(w)
	if opts.ChunkTimeout > 0 {
		defer rc.SetWriteDeadline(time.Time{})
	}
	for length > 0 {
		n := min(length, chunkSize)
		if opts.ChunkTimeout > 0 {
			_ = rc.SetWriteDeadline(time.Now().Add(opts.ChunkTimeout))
		}
		m, err := io.Copy(dst, &io.LimitedReader{R: f, N: n})
		if opts.Sent != nil {
			opts.Sent.Add(m)
		}
		if err != nil || m < n { // the client went, or the file shrank
			return
		}
		length -= n
	}
}

// bodyWriter returns w, or the first writer that w unwraps to which has
// ReadFrom (net/http's, which uses sendfile), or w when none has.
func bodyWriter(w http.ResponseWriter) io.Writer {
	for x := w; x != nil; {
		if _, ok := x.(io.ReaderFrom); ok {
			return x
		}
		u, ok := x.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			break
		}
		x = u.Unwrap()
	}
	return w
}
