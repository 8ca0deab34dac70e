package web

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/mediaftpd/mediaftpd/library"
	"github.com/mediaftpd/mediaftpd/library/probe"
	"github.com/mediaftpd/mediaftpd/library/store"
	"github.com/mediaftpd/mediaftpd/library/thumb"
)

// Media details on the page. The folder view, the player and GET
// /api/items show what is inside each file (running time, picture size,
// tags: Server.Details), its picture (Server.Thumbs), its subtitles, and
// where playing it stopped (Server.Positions). A folder's entries come
// from the index, which carries each file's size, time and inode, the
// version of the file its details belong to; a folder the index cannot
// answer for (its share is being scanned, or the folder was reached by a
// symlink to a folder indexed elsewhere) is read from the disk, and shown
// without details.

// Details gives the media details of the files of the index and the
// progress of reading them. *library.Prober implements it.
type Details interface {
	// Of returns the details of the file rel of the share whose index
	// entry is e, if they are known for that version of the file. It
	// reads no media file.
	Of(share, rel string, e library.Entry) (probe.Details, bool)
	// Progress returns how far reading the details is.
	Progress() library.DetailsProgress
}

var _ Details = (*library.Prober)(nil)

// Thumbs makes thumbnails and keeps them on disk. *thumb.Cache implements
// it; it must be safe for concurrent use.
type Thumbs interface {
	// Thumbnail returns the path of a JPEG of at most size x size pixels
	// made from the picture src returns (closed by Thumbnail), kept under
	// key, which names the picture and its version.
	Thumbnail(key string, size int, src func() (io.ReadCloser, error)) (path string, err error)
	// VideoFrame returns the path of a JPEG of at most size x size pixels
	// made from a frame of the open video whose running time is running
	// (0: unknown), chosen by thumb.FrameTime, kept under key;
	// thumb.ErrNoFFmpeg when frame grabs are off, thumb.ErrNoFrame when
	// the video has no frame to give.
	VideoFrame(ctx context.Context, key string, size int, video *os.File, running time.Duration) (path string, err error)
	// Frames reports whether frame grabs are on (the config's
	// "thumbnails: ffmpeg" and ffmpeg found): only then does a video
	// without artwork get a frame as its picture.
	Frames() bool
}

var _ Thumbs = (*thumb.Cache)(nil)

// Positions keeps where playing each file stopped. *store.Store
// implements it; the DLNA server keeps Samsung TVs' bookmarks in the same
// place, so a film stopped on the TV resumes there in the browser, and
// the other way round.
type Positions interface {
	// Position returns where playing the file rel of the share stopped,
	// and when that was set.
	Position(share, rel string) (pos time.Duration, at time.Time, ok bool)
	// SetPosition keeps pos for the file rel of the share, set at the
	// time at; pos <= 0 removes it.
	SetPosition(share, rel string, pos time.Duration, at time.Time) error
}

var _ Positions = (*store.Store)(nil)

// Thumbnail sizes the page asks for; GET /thumbs makes no other.
var thumbSizes = []int{thumb.SizeTN, thumb.SizeSmall, thumb.SizeLarge}

// folderView is one folder of a share as the page shows it.
type folderView struct {
	sv         shareView // the shares as the viewer sees them
	share, rel string    // rel is "." for the share's own folder
	// entries are the folder's visible entries, folders first, each part
	// in natural order of their names.
	entries []library.Entry
	// indexed says entries came from the index, so details can be looked
	// up for them.
	indexed bool
	// pictures, videos and subtitles say whether the folder holds files
	// of these kinds, so that the pictures and subtitles of its media
	// files are looked for only when there can be any.
	pictures, videos, subtitles bool
	// subs are the entries of its subtitle folder ("Subs/Film.en.srt",
	// "Subs/Film/2_English.srt"), for library.Subtitles.
	subs []string
	// names are the names of entries, for library.Artwork and Subtitles.
	names []string
	// folderPics are the names of the folder's own pictures
	// (library.FolderArtwork), once looked for (see siblings).
	folderPics     []string
	folderPicsDone bool
	byName         map[string]int // positions in entries, once asked for
}

// A big folder's files are matched against the names near them. Up to
// wholeFolder entries, a file's pictures and subtitles are looked for
// among all the names of its folder (library.Artwork, Subtitles), which
// costs the folder's size for each file. Beyond, among the nearWindow
// names on either side of it in natural order, where its own pictures,
// parts and subtitles sort ("Film-cd1.avi", "Film-poster.jpg",
// "Film.en.srt"), and the folder's own pictures (library.SubtitlesNear's
// way), so listing a folder of 5,000 episodes costs 5,000 small matches
// and not 25 million.
const (
	wholeFolder = 256
	nearWindow  = 32
)

// maxSubsEntries bounds what is read of a subtitle folder.
const maxSubsEntries = 2000

// readFolder reads the folder rel of a share as sv sees it: from the index
// when it has the folder, else from the disk through root. root is the
// share's open root, from sv; rel has been checked with library.Stat.
func (s *Server) readFolder(sv shareView, root *os.Root, share, rel string) (*folderView, error) {
	f := &folderView{sv: sv, share: share, rel: rel}
	entries, err := s.listFolder(sv, root, share, rel, &f.indexed)
	if err != nil {
		return nil, err
	}
	f.entries = entries
	subsDir := ""
	for _, e := range entries {
		f.names = append(f.names, e.Name)
		switch {
		case e.Dir:
			if strings.EqualFold(e.Name, "subs") && subsDir == "" {
				subsDir = e.Name
			}
		case library.KindOf(e.Name) == library.Video:
			f.videos = true
		case library.KindOf(e.Name) == library.Image:
			f.pictures = true
		case isSubtitle(e.Name):
			f.subtitles = true
		}
	}
	if subsDir != "" && f.videos {
		var indexed bool
		subRel := path.Join(rel, subsDir)
		subEntries, _ := s.listFolder(sv, root, share, subRel, &indexed)
		for _, e := range subEntries {
			if len(f.subs) >= maxSubsEntries {
				break
			}
			if !e.Dir {
				f.subs = append(f.subs, subsDir+"/"+e.Name)
				continue
			}
			deeper, _ := s.listFolder(sv, root, share, path.Join(subRel, e.Name), &indexed)
			for _, d := range deeper {
				if !d.Dir && len(f.subs) < maxSubsEntries {
					f.subs = append(f.subs, subsDir+"/"+e.Name+"/"+d.Name)
				}
			}
		}
		slices.SortStableFunc(f.subs, func(a, b string) int { return library.NaturalCompare(subsName(a), subsName(b)) })
		f.subtitles = f.subtitles || len(f.subs) > 0
	}
	return f, nil
}

// subsName returns an entry of a subtitle folder without the folder:
// "Film.en.srt" for "Subs/Film.en.srt", "Film/2_English.srt" for
// "Subs/Film/2_English.srt".
func subsName(entry string) string {
	_, name, _ := strings.Cut(entry, "/")
	return name
}

// siblings returns the names to look for the pictures and subtitles of
// the file entries[i] among, and whether they are the whole folder: all
// its names in a small folder, else those near the file and the folder's
// own pictures. i < 0 (a file the folder's entries lack) means all.
func (f *folderView) siblings(i int) ([]string, bool) {
	if i < 0 || len(f.entries) <= wholeFolder {
		return f.names, true
	}
	if !f.folderPicsDone {
		f.folderPicsDone = true
		var pics []string
		for _, e := range f.entries {
			if !e.Dir && library.KindOf(e.Name) == library.Image {
				pics = append(pics, e.Name)
			}
		}
		for _, a := range library.FolderArtwork(f.rel, pics) {
			f.folderPics = append(f.folderPics, path.Base(a.Path))
		}
	}
	lo, hi := max(0, i-nearWindow), min(len(f.entries), i+nearWindow+1)
	names := make([]string, 0, hi-lo+len(f.folderPics))
	for _, e := range f.entries[lo:hi] {
		names = append(names, e.Name)
	}
	for _, p := range f.folderPics {
		if !slices.Contains(names, p) {
			names = append(names, p)
		}
	}
	return names, false
}

// subsNear returns the entries of the subtitle folder to look among for
// the subtitles of the video whose name without extension is stem: all of
// them up to wholeFolder, else those around where stem sorts.
func (f *folderView) subsNear(stem string) []string {
	if len(f.subs) <= wholeFolder {
		return f.subs
	}
	i, _ := slices.BinarySearchFunc(f.subs, stem, func(entry, stem string) int {
		return library.NaturalCompare(subsName(entry), stem)
	})
	return f.subs[max(0, i-nearWindow):min(len(f.subs), i+nearWindow+1)]
}

// listFolder returns the visible entries of the folder rel, from the
// index when it has the folder (and sets *indexed), else from the disk.
func (s *Server) listFolder(sv shareView, root *os.Root, share, rel string, indexed *bool) ([]library.Entry, error) {
	if entries, _, err := sv.Children(share, rel, library.AllFiles, 0, 0); err == nil {
		*indexed = true
		return entries, nil
	}
	*indexed = false
	d, err := library.OpenDir(root, rel)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	var entries []library.Entry
	for _, name := range names {
		if !library.Visible(name) {
			continue
		}
		fi, err := library.Stat(root, path.Join(rel, name))
		if err != nil {
			continue
		}
		entries = append(entries, entryOf(name, fi))
	}
	slices.SortFunc(entries, func(a, b library.Entry) int {
		if a.Dir != b.Dir {
			if a.Dir {
				return -1
			}
			return 1
		}
		return library.NaturalCompare(a.Name, b.Name)
	})
	return entries, nil
}

// entryOf returns the entry of a file or folder read from the disk.
func entryOf(name string, fi os.FileInfo) library.Entry {
	if fi.IsDir() {
		return library.Entry{Name: name, Dir: true}
	}
	st := store.StampOf(fi)
	return library.Entry{Name: name, Size: st.Size, ModTime: time.Unix(0, st.ModTime), Ino: st.Ino, Kind: library.KindOf(name)}
}

// find returns the position of the entry called name in entries, or -1.
func (f *folderView) find(name string) int {
	if f.byName == nil {
		f.byName = make(map[string]int, len(f.entries))
		for i, e := range f.entries {
			f.byName[e.Name] = i
		}
	}
	if i, ok := f.byName[name]; ok {
		return i
	}
	return -1
}

// entry returns the entry called name, if the folder has it.
func (f *folderView) entry(name string) (library.Entry, bool) {
	if i := f.find(name); i >= 0 {
		return f.entries[i], true
	}
	return library.Entry{}, false
}

// isSubtitle reports whether name is a subtitle file the player can load.
func isSubtitle(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".srt", ".ass", ".ssa", ".vtt":
		return true
	}
	return false
}

// thumbable reports whether a picture file is one the thumbnail maker
// decodes.
func thumbable(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".jpg", ".jpeg", ".png", ".gif", ".webp", ".tbn":
		return true
	}
	return false
}

// Item is a file or folder with what the page knows of it: what GET
// /api/items returns (the package documentation lists its JSON keys), and
// what the folder view and the player show.
type Item struct {
	Share string `json:"share"`
	// Path is the path in the share, "/"-separated ("." for the share's
	// own folder).
	Path string `json:"path"`
	Name string `json:"name"`
	// Kind is "video", "audio", "image", "other" or "folder".
	Kind     string    `json:"kind"`
	Size     int64     `json:"size"`
	Modified time.Time `json:"modified,omitzero"`
	// URL is where the file is served (or the folder listed); PlayURL is
	// the player's page, for a video or audio file.
	URL     string `json:"url"`
	PlayURL string `json:"play_url,omitempty"`
	// DetailsKnown says the file's details have been read; the fields
	// from Container to Taken are then set as far as the file tells them.
	DetailsKnown    bool      `json:"details_known"`
	Container       string    `json:"container,omitempty"`
	DurationSeconds float64   `json:"duration_seconds,omitempty"`
	Width           int       `json:"width,omitempty"`
	Height          int       `json:"height,omitempty"`
	VideoCodec      string    `json:"video_codec,omitempty"`
	AudioCodec      string    `json:"audio_codec,omitempty"`
	Bitrate         int64     `json:"bitrate,omitempty"`
	Channels        int       `json:"channels,omitempty"`
	SampleRate      int       `json:"sample_rate,omitempty"`
	Title           string    `json:"title,omitempty"`
	Artist          string    `json:"artist,omitempty"`
	Album           string    `json:"album,omitempty"`
	Track           int       `json:"track,omitempty"`
	Year            int       `json:"year,omitempty"`
	Taken           time.Time `json:"taken,omitzero"`
	// Subtitles are the subtitle files that go with a video, best first.
	Subtitles []SubtitleInfo `json:"subtitles"`
	// Artwork is the URL of the item's picture (320 pixels; other sizes
	// with size=160 or 640), or "" when it has none.
	Artwork string `json:"artwork,omitempty"`
	// PositionSeconds is where playing the file stopped last, 0 for the
	// start.
	PositionSeconds float64 `json:"position_seconds"`
}

// SubtitleInfo is a subtitle file of a video.
type SubtitleInfo struct {
	// Path is the subtitle file's path in the share.
	Path string `json:"path"`
	// Lang is its language from its name ("en", "pt-BR"), "" if unknown.
	Lang string `json:"lang"`
	// Format is "srt", "ass", "ssa" or "vtt".
	Format string `json:"format"`
	Forced bool   `json:"forced"`
	SDH    bool   `json:"sdh"`
	// URL serves it as WebVTT, for a <track>.
	URL string `json:"url"`
}

// item returns the item of the entry e of the folder f, entries[i] (or
// -1 when the folder's entries lack it), with its details, picture and
// subtitles; position adds where playing it stopped.
func (s *Server) item(f *folderView, i int, e library.Entry, position bool) *Item {
	rel := path.Join(f.rel, e.Name)
	it := &Item{Share: f.share, Path: rel, Name: e.Name, Size: e.Size, Modified: e.ModTime, Subtitles: []SubtitleInfo{}}
	it.URL = filesURL(f.share, rel)
	if e.Dir {
		it.Kind, it.Size, it.URL = "folder", 0, it.URL+"/"
		if art, ae, ok := s.folderArt(f, e); ok {
			it.Artwork = s.thumbURL(f.share, art, ae)
		}
		return it
	}
	kind := library.KindOf(e.Name)
	it.Kind = kind.String()
	if kind == library.Video || kind == library.Audio {
		it.PlayURL = "/play/" + escapePath(f.share+"/"+rel)
	}
	var d probe.Details
	if f.indexed && s.Details != nil {
		d, it.DetailsKnown = s.Details.Of(f.share, rel, e)
	}
	if it.DetailsKnown {
		it.setDetails(d)
	}
	var names []string
	whole := true
	if kind == library.Video && f.subtitles || (kind == library.Video || kind == library.Audio) && f.pictures {
		names, whole = f.siblings(i)
	}
	if kind == library.Video && f.subtitles {
		var subs []library.Subtitle
		if whole {
			subs = library.Subtitles(rel, names, f.subs)
		} else {
			subs = library.SubtitlesNear(rel, names, f.subsNear(strings.TrimSuffix(e.Name, path.Ext(e.Name))))
		}
		for _, sub := range subs {
			it.Subtitles = append(it.Subtitles, SubtitleInfo{
				Path: sub.Path, Lang: sub.Lang, Format: sub.Format, Forced: sub.Forced, SDH: sub.SDH,
				URL: "/subtitles/" + escapePath(f.share+"/"+sub.Path),
			})
		}
	}
	if s.Thumbs != nil {
		switch {
		case kind == library.Image && thumbable(e.Name):
			it.Artwork = s.thumbURL(f.share, rel, e)
		case kind == library.Video || kind == library.Audio:
			if art, ok := f.artwork(rel, names); ok {
				if ae, ok := f.entry(path.Base(art)); ok {
					it.Artwork = s.thumbURL(f.share, art, ae)
				}
			}
			if it.Artwork == "" && (kind == library.Audio && d.HasCover || kind == library.Video && s.videoFrames()) {
				it.Artwork = s.thumbURL(f.share, rel, e)
			}
		}
	}
	if position && s.Positions != nil && it.PlayURL != "" {
		if pos, _, ok := s.Positions.Position(f.share, rel); ok {
			it.PositionSeconds = pos.Seconds()
		}
	}
	return it
}

// setDetails copies the details d into the item.
func (it *Item) setDetails(d probe.Details) {
	it.Container = d.Container
	it.DurationSeconds = d.Duration.Seconds()
	it.Width, it.Height = d.Width, d.Height
	it.VideoCodec, it.AudioCodec = d.VideoCodec, d.AudioCodec
	it.Bitrate, it.Channels, it.SampleRate = d.Bitrate, d.Channels, d.SampleRate
	it.Title, it.Artist, it.Album = d.Title, d.Artist, d.Album
	it.Track, it.Year, it.Taken = d.Track, d.Year, d.Taken
}

// artwork returns the path of the picture file that goes with the video
// or audio file rel of the folder, looked for among names (see siblings),
// if there is one it can make a thumbnail of.
func (f *folderView) artwork(rel string, names []string) (string, bool) {
	if !f.pictures {
		return "", false
	}
	for _, a := range library.Artwork(rel, names) {
		if thumbable(a.Path) {
			return a.Path, true
		}
	}
	return "", false
}

// folderArt returns the picture of the subfolder e of f (its poster or
// cover: library.FolderArtwork), when the index has the subfolder.
func (s *Server) folderArt(f *folderView, e library.Entry) (string, library.Entry, bool) {
	if !f.indexed || s.Thumbs == nil {
		return "", library.Entry{}, false
	}
	rel := path.Join(f.rel, e.Name)
	children, _, err := f.sv.Children(f.share, rel, library.AllFiles, 0, 0)
	if err != nil {
		return "", library.Entry{}, false
	}
	return s.pickFolderArt(rel, children)
}

// pickFolderArt returns the picture of the folder rel whose entries are
// children, and its entry.
func (s *Server) pickFolderArt(rel string, children []library.Entry) (string, library.Entry, bool) {
	if s.Thumbs == nil {
		return "", library.Entry{}, false
	}
	names := make([]string, 0, len(children))
	for _, c := range children {
		if !c.Dir {
			names = append(names, c.Name)
		}
	}
	for _, a := range library.FolderArtwork(rel, names) {
		if !thumbable(a.Path) {
			continue
		}
		base := path.Base(a.Path)
		for _, c := range children {
			if c.Name == base && !c.Dir {
				return a.Path, c, true
			}
		}
	}
	return "", library.Entry{}, false
}

// thumbURL returns the URL of the thumbnail of the file rel (entry e),
// with its version, so the browser may keep it for good.
func (s *Server) thumbURL(share, rel string, e library.Entry) string {
	return "/thumbs/" + escapePath(share+"/"+rel) + "?size=320&v=" + thumbVersion(e)
}

// thumbVersion names the version of a file: its size, time and inode.
func thumbVersion(e library.Entry) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%d\x00%d\x00%d", e.Size, e.ModTime.UnixNano(), e.Ino))
	return hex.EncodeToString(sum[:6])
}

// filesURL returns the /files URL of the file rel of a share ("." for its
// folder, without the final slash).
func filesURL(share, rel string) string {
	if rel == "." {
		return "/files/" + url.PathEscape(share)
	}
	return "/files/" + escapePath(share+"/"+rel)
}

// escapePath escapes each segment of a "/"-separated path for a URL.
func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

// Running returns the running time as a clock: "1:32:05", "4:05"; "" if
// unknown.
func (it *Item) Running() string {
	return clock(time.Duration(it.DurationSeconds * float64(time.Second)))
}

// clock writes a duration as "1:32:05" or "4:05", "" for none.
func clock(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	secs := int64(d.Round(time.Second) / time.Second)
	if secs >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", secs/3600, secs/60%60, secs%60)
	}
	return fmt.Sprintf("%d:%02d", secs/60, secs%60)
}

// PictureSize returns "1920×1080", or "" if unknown.
func (it *Item) PictureSize() string {
	if it.Width <= 0 || it.Height <= 0 {
		return ""
	}
	return fmt.Sprintf("%d×%d", it.Width, it.Height)
}

// SubtitleLangs returns the languages of the subtitles, upper case and
// once each, "?" for one whose language is unknown: "EN, FR".
func (it *Item) SubtitleLangs() string {
	var langs []string
	for _, s := range it.Subtitles {
		l := cmp.Or(strings.ToUpper(s.Lang), "?")
		if !slices.Contains(langs, l) {
			langs = append(langs, l)
		}
	}
	return strings.Join(langs, ", ")
}

// Music returns "Artist · Album · 3" for a song's tags, "" without tags.
func (it *Item) Music() string {
	var parts []string
	for _, p := range []string{it.Artist, it.Album} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if it.Track > 0 {
		parts = append(parts, fmt.Sprintf("track %d", it.Track))
	}
	return strings.Join(parts, " · ")
}

// DisplayTitle returns the title tag, or else the file name.
func (it *Item) DisplayTitle() string { return cmp.Or(it.Title, it.Name) }

// TakenDate returns when a photo was taken, as a date, or "".
func (it *Item) TakenDate() string {
	if it.Taken.IsZero() {
		return ""
	}
	return it.Taken.Format("2 Jan 2006 15:04")
}

// ModifiedShort returns the file's time as "2006-01-02 15:04".
func (it *Item) ModifiedShort() string {
	if it.Modified.IsZero() {
		return ""
	}
	return it.Modified.Local().Format(time.DateTime[:16])
}
