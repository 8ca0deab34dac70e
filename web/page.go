package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/mediaftpd/mediaftpd/library"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// asset is one embedded static file, served with a long cache lifetime
// under a URL that names its hash.
type asset struct {
	data  []byte
	ctype string
	hash  string // first bytes of its SHA-256, hex
}

// assetTypes are the content types of the embedded assets, by extension.
// They are not asked of mime.TypeByExtension: its first call reads the
// system's MIME database (/usr/share/mime/globs2, /etc/mime.types) into
// tables that stay in the heap for good, about 470 KB, which the server
// would otherwise hold from its start for four files of three kinds.
var assetTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
	".svg": "image/svg+xml",
}

func loadAssets() map[string]*asset {
	m := make(map[string]*asset)
	entries, err := fs.ReadDir(assetFS, "assets")
	if err != nil {
		panic(err) // embedded: cannot fail
	}
	for _, e := range entries {
		data, err := assetFS.ReadFile("assets/" + e.Name())
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(data)
		ctype, ok := assetTypes[path.Ext(e.Name())]
		if !ok {
			panic("web: no content type for asset " + e.Name()) // embedded: caught by the tests
		}
		m[e.Name()] = &asset{data: data, ctype: ctype, hash: hex.EncodeToString(sum[:6])}
	}
	return m
}

// serveAsset is GET /assets/{name}. A URL with the asset's hash (?v=...)
// may be cached for good; others are revalidated by their ETag.
func (s *Server) serveAsset(w http.ResponseWriter, r *http.Request) {
	a := s.assets[r.PathValue("name")]
	if a == nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("ETag", `"`+a.hash+`"`)
	if r.URL.Query().Get("v") == a.hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.data))
}

// assetURL returns the URL of the named asset, with its hash.
func (s *Server) assetURL(name string) string {
	a := s.assets[name]
	if a == nil {
		panic("web: no asset " + name)
	}
	return "/assets/" + name + "?v=" + a.hash
}

// pageData is what the page templates are given.
type pageData struct {
	*Status
	s   *Server
	Now time.Time
	// ConfigPath is the config file, for the hint on turning management on.
	ConfigPath string
}

// Asset returns the URL of an embedded asset.
func (p *pageData) Asset(name string) string { return p.s.assetURL(name) }

// Ago says how long before the page was made t was.
func (p *pageData) Ago(t time.Time) string { return ago(t, p.Now) }

// Since says how long ago t was, as a duration.
func (p *pageData) Since(t time.Time) string { return humanDuration(p.Now.Sub(t)) }

func (s *Server) pageData(now time.Time, v viewer) *pageData {
	return &pageData{Status: s.status(now, v), s: s, Now: now, ConfigPath: s.Manager.ConfigPath}
}

// serveIndex is GET /: the status page, as its viewer may see it.
func (s *Server) serveIndex(w http.ResponseWriter, r *http.Request) {
	s.render(w, http.StatusOK, "index", s.pageData(time.Now(), s.viewer(r)))
}

// PrivateShares returns the names of the private shares shown, for the
// admin's checkboxes of each user's shares.
func (p *pageData) PrivateShares() []string {
	var out []string
	for _, sh := range p.Shares {
		if sh.Private {
			out = append(out, sh.Name)
		}
	}
	return out
}

var templateFuncs = template.FuncMap{
	"bytes":   humanBytes,
	"rate":    humanRate,
	"count":   count,
	"plural":  plural,
	"percent": percent,
	"seconds": func(n int64) string { return humanDuration(time.Duration(n) * time.Second) },
	// pathEscape escapes one path segment for a URL.
	"pathEscape": url.PathEscape,
	// pathEscapeAll escapes each segment of a slash-separated path.
	"pathEscapeAll": func(p string) string {
		parts := strings.Split(p, "/")
		for i, s := range parts {
			parts[i] = url.PathEscape(s)
		}
		return strings.Join(parts, "/")
	},
	"stateLabel": stateLabel,
	"contains":   slices.Contains[[]string],
	"join":       strings.Join,
}

// stateLabel says in a word or two what a share's index is doing.
func stateLabel(sh library.ShareStatus) string {
	switch sh.State {
	case library.StateScanning:
		return "scanning"
	case library.StateWatching:
		return "watching"
	case library.StatePolling:
		if sh.RescanInterval > 0 {
			return "rescanned every " + humanDuration(sh.RescanInterval.Truncate(time.Second))
		}
		return "polling"
	case library.StateOffline:
		return "offline"
	case library.StateIdle:
		return "not indexed"
	}
	return string(sh.State)
}

func parseTemplates() *template.Template {
	return template.Must(template.New("").Funcs(templateFuncs).ParseFS(templateFS, "templates/*.html"))
}
