package library

import (
	"cmp"
	"path"
	"slices"
	"strings"
)

// ArtworkKind is the role of an artwork file, as its name tells.
type ArtworkKind uint8

// The artwork kinds, in the order Artwork ranks them: the primary
// picture (a poster or a cover) first, then a landscape still, then a
// background.
const (
	// ArtPoster is the primary picture of a film, a show or an episode,
	// usually portrait: "poster.jpg", "Film-poster.jpg", "Film.jpg",
	// "folder.jpg" beside a video.
	ArtPoster ArtworkKind = iota
	// ArtCover is the cover of an album or of a disc: "cover.jpg",
	// "front.jpg", and every primary picture beside an audio file
	// ("folder.jpg", "AlbumArt_{...}_Large.jpg", "Song.jpg").
	ArtCover
	// ArtThumb is a landscape still: "Episode-thumb.jpg", "landscape.jpg".
	ArtThumb
	// ArtFanart is a background: "fanart.jpg", "Film-fanart.jpg",
	// "backdrop.jpg", "background.jpg", "art.jpg" (numbered ones too).
	ArtFanart
	numArtworkKinds
)

var artworkKindNames = [numArtworkKinds]string{ArtPoster: "poster", ArtCover: "cover", ArtThumb: "thumb", ArtFanart: "fanart"}

// String returns "poster", "cover", "thumb" or "fanart".
func (k ArtworkKind) String() string {
	if k < numArtworkKinds {
		return artworkKindNames[k]
	}
	return "poster"
}

// MarshalText encodes k as its String, so JSON shows "poster" and not 0.
func (k ArtworkKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText decodes what MarshalText encodes; an unknown name is
// ArtPoster.
func (k *ArtworkKind) UnmarshalText(b []byte) error {
	*k = ArtPoster
	for i, name := range artworkKindNames {
		if name == string(b) {
			*k = ArtworkKind(i)
		}
	}
	return nil
}

// ArtworkFile is a picture that goes with a media file or a folder, as
// Artwork and FolderArtwork find it.
type ArtworkFile struct {
	// Path is the picture's share-relative path, with "/" separators.
	Path string
	// Kind is the picture's role, from its name.
	Kind ArtworkKind
}

// Artwork returns the pictures that go with the video or audio file at the
// share-relative path rel, best first, following the names Kodi, Jellyfin
// and Plex look for. It does no I/O: siblings are the names in the file's
// folder (the file's own included), the visible names only, as for
// Subtitles. It returns nil for a file that is neither video nor audio.
//
// Pictures are .jpg, .jpeg, .png, .webp, .tbn (Kodi's old name for a
// JPEG) and .gif files, any case. Names are compared without regard to
// case. With "Film" for the name of "Film.mkv" without its extension, a
// picture goes with the file when it is named:
//   - "Film" or "Film-<role>" ("Film-poster.jpg", "Film-thumb.jpg",
//     "Film-fanart.jpg", "Film-fanart2.jpg"), always;
//   - the same with the name of a multi-part file without its part
//     ("Film-poster.jpg" for "Film-cd1.avi", as Kodi stacks "cd", "dvd",
//     "part", "pt", "disc" and "disk" followed by a number);
//   - "<role>" ("poster.jpg", "folder.jpg", "fanart.jpg"), the folder's
//     own pictures, for an audio file (an album's tracks share its cover)
//     and for a video alone in its folder (parts of one multi-part film
//     count as one), a film in its own folder as Kodi and Jellyfin expect.
//     In a folder of several videos (a season, a folder of films) the
//     folder's pictures are not any one video's; FolderArtwork returns
//     them.
//
// The roles, best first, are for a video poster, folder, cover, default,
// movie and front (the primary picture), landscape and thumb (a still),
// then fanart, backdrop, background and art (a background, numbered ones
// after the plain one: "fanart1", "fanart-2"). For an audio file they are
// folder, cover, front, jacket, AlbumArt* (Windows Media Player's
// "AlbumArt_{GUID}_Large.jpg" before "AlbumArt.jpg" before
// "AlbumArtSmall.jpg"), album, poster and default, then thumb and
// landscape, then the backgrounds.
//
// Best first means: primary pictures (ArtPoster, ArtCover) before stills
// (ArtThumb) before backgrounds (ArtFanart, always last); then the file's
// own pictures before the folder's ("Film-poster.jpg" and "Film.jpg"
// first, in that order, "Film-cd1-poster.jpg" before "Film-poster.jpg"
// for "Film-cd1.avi"); then by role as listed; then by extension in the
// order listed; then by natural order of Path.
//
// The cost is a few comparisons per name of siblings (BenchmarkArtwork:
// about 0.2 ms for a folder of 6,000 names); a caller asking for every file
// of a very big folder may pass the folder's pictures and videos only, as
// other names change nothing.
func Artwork(rel string, siblings []string) []ArtworkFile {
	dir, base := path.Dir(rel), path.Base(rel)
	media := KindOf(base)
	if media != Video && media != Audio {
		return nil
	}
	stem := strings.TrimSuffix(base, path.Ext(base))
	if stem == "" {
		return nil
	}
	stems := []string{stem}
	if s := artStackStem(stem); s != "" && s != stem {
		stems = append(stems, s)
	}
	folder := media == Audio
	if media == Video {
		folder = true
		for _, n := range siblings {
			if n == base || KindOf(n) != Video {
				continue
			}
			o := strings.TrimSuffix(n, path.Ext(n))
			if s := artStackStem(o); len(stems) < 2 || s == "" || !strings.EqualFold(s, stems[1]) {
				folder = false // another video in the folder
				break
			}
		}
	}
	return artFind(dir, siblings, media, stems, folder)
}

// FolderArtwork returns the pictures of the folder at the share-relative
// path dir (".", or "" for a share's top folder), given the names in it,
// best first: those named after a role only ("poster.jpg", "folder.jpg",
// "fanart.jpg"), in the order Artwork gives them for a video, or for an
// audio file when the folder holds audio files and no video (an album).
// They are what a TV shows for the folder, and may stand in for a video
// of the folder that has none of its own (a season's poster for an
// episode).
func FolderArtwork(dir string, names []string) []ArtworkFile {
	media, audio := Video, false
	for _, n := range names {
		switch KindOf(n) {
		case Video:
			audio = false
		case Audio:
			audio = true
			continue
		default:
			continue
		}
		break // a video: the folder's pictures are a video's
	}
	if audio {
		media = Audio
	}
	if dir == "" {
		dir = "."
	}
	return artFind(dir, names, media, nil, true)
}

// artFound is a picture with what ranks it.
type artFound struct {
	ArtworkFile
	tier  int // 0 primary, 1 still, 2 background
	owner int // index in stems of the name it starts with; len(stems) for the folder's
	role  int // twice the rank of the role (odd for the bare name)
	num   int // number of a numbered background
	ext   int // rank of the extension
}

// artFind finds the pictures among names for a file of the kind media
// whose names without extension are stems (best first), with the
// folder's own pictures when folder is set.
func artFind(dir string, names []string, media Kind, stems []string, folder bool) []ArtworkFile {
	var found []artFound
	for _, n := range names {
		ext := artExtRank(n)
		if ext < 0 || strings.Contains(n, "/") {
			continue // not a picture, or not a name
		}
		name := n[:len(n)-len(path.Ext(n))]
		best, ok := artFound{}, false
		for i, s := range stems {
			rest, match := sidecarTrimPrefixFold(name, s)
			if !match {
				continue
			}
			var f artFound
			switch {
			case rest == "":
				// The bare name: after "Film-poster" beside a video, first
				// beside an audio file (a track's own picture).
				f, match = artFound{ArtworkFile: ArtworkFile{Kind: ArtPoster}, role: 1}, true
				if media == Audio {
					f.Kind, f.role = ArtCover, -1
				}
			case rest[0] == '-':
				f, match = artRole(rest[1:], media, false)
			default:
				match = false
			}
			if match {
				f.owner = i
				best, ok = f, true
				break
			}
		}
		if !ok && folder {
			best, ok = artRole(name, media, true)
			best.owner = len(stems)
		}
		if !ok {
			continue
		}
		best.Path = path.Join(dir, n)
		best.ext = ext
		best.tier = artTier(best.Kind)
		found = append(found, best)
	}
	slices.SortFunc(found, artBetter)
	var out []ArtworkFile
	for i, f := range found {
		if slices.ContainsFunc(found[:i], func(g artFound) bool { return g.Path == f.Path }) {
			continue // a name given twice
		}
		out = append(out, f.ArtworkFile)
	}
	return out
}

// artBetter orders pictures best first.
func artBetter(a, b artFound) int {
	if c := cmp.Compare(a.tier, b.tier); c != 0 {
		return c
	}
	if c := cmp.Compare(a.owner, b.owner); c != 0 {
		return c
	}
	if c := cmp.Compare(a.role, b.role); c != 0 {
		return c
	}
	if c := cmp.Compare(a.num, b.num); c != 0 {
		return c
	}
	if c := cmp.Compare(a.ext, b.ext); c != 0 {
		return c
	}
	return NaturalCompare(a.Path, b.Path)
}

// artTier ranks the kinds: primary pictures, stills, backgrounds.
func artTier(k ArtworkKind) int {
	switch k {
	case ArtThumb:
		return 1
	case ArtFanart:
		return 2
	}
	return 0
}

// IsArtworkName reports whether name has the extension of a picture that
// Artwork and FolderArtwork can choose: a folder with no such name has no
// artwork but what files carry inside.
func IsArtworkName(name string) bool { return artExtRank(name) >= 0 }

// artExtRank returns the rank of name's extension among the picture
// extensions, best first: .jpg, .jpeg, .png, .webp, .tbn, .gif; or -1. It
// is called for every name of a folder, so it is quick.
func artExtRank(name string) int {
	i := strings.LastIndexByte(name, '.')
	if i < 0 || len(name)-i > 5 || len(name)-i < 4 {
		return -1
	}
	var buf [5]byte
	n := copy(buf[:], name[i:])
	for j := range n {
		if c := buf[j]; 'A' <= c && c <= 'Z' {
			buf[j] = c + 'a' - 'A'
		}
	}
	switch string(buf[:n]) { // compiled to comparisons, no allocation
	case ".jpg":
		return 0
	case ".jpeg":
		return 1
	case ".png":
		return 2
	case ".webp":
		return 3
	case ".tbn":
		return 4
	case ".gif":
		return 5
	}
	return -1
}

// artRoleName is a role a picture's name can tell, with its kind and its
// rank beside a video and beside an audio file (-1: not that medium's).
type artRoleName struct {
	name         string
	kind         ArtworkKind
	video, audio int
}

// artRoles are the roles Artwork knows; the ranks order them within
// their tier. Beside an audio file a primary picture is an ArtCover.
var artRoles = []artRoleName{
	{"poster", ArtPoster, 0, 7},
	{"folder", ArtPoster, 1, 0},
	{"cover", ArtCover, 2, 1},
	{"default", ArtPoster, 3, 8},
	{"movie", ArtPoster, 4, -1},
	{"front", ArtCover, 5, 2},
	{"jacket", ArtCover, -1, 3},
	// 4: AlbumArt*, see artRole
	{"album", ArtCover, -1, 6},
	{"landscape", ArtThumb, 0, 1},
	{"thumb", ArtThumb, 1, 0},
	{"fanart", ArtFanart, 0, 0},
	{"backdrop", ArtFanart, 1, 1},
	{"background", ArtFanart, 2, 2},
	{"art", ArtFanart, 3, 3},
}

// artAlbumArt is the audio rank of the AlbumArt* family of names.
const artAlbumArt = 4

// artRole reads the role name s tells (the part after "Film-", or a
// whole name when folder is set) for a file of the kind media.
func artRole(s string, media Kind, folder bool) (artFound, bool) {
	l := strings.ToLower(s)
	if media == Audio && folder && strings.HasPrefix(l, "albumart") {
		// Windows Media Player: AlbumArt_{GUID}_Large.jpg,
		// AlbumArt_{GUID}_Small.jpg, AlbumArtSmall.jpg; also AlbumArt.jpg.
		f := artFound{ArtworkFile: ArtworkFile{Kind: ArtCover}, role: 2 * artAlbumArt, num: 2}
		switch {
		case strings.HasSuffix(l, "large"):
			f.num = 0
		case l == "albumart":
			f.num = 1
		case strings.HasSuffix(l, "small"):
			f.num = 3
		}
		return f, true
	}
	name, num := l, 0
	if i := len(strings.TrimRight(l, "0123456789")); i < len(l) && len(l)-i <= 4 {
		name = strings.TrimSuffix(l[:i], "-")
		for _, c := range l[i:] {
			num = num*10 + int(c-'0')
		}
		num++ // after the plain name
	}
	for _, r := range artRoles {
		if r.name != name {
			continue
		}
		rank := r.video
		if media == Audio {
			rank = r.audio
		}
		if rank < 0 || (num > 0 && r.kind != ArtFanart) {
			return artFound{}, false
		}
		f := artFound{ArtworkFile: ArtworkFile{Kind: r.kind}, role: 2 * rank, num: num}
		if media == Audio && f.Kind == ArtPoster {
			f.Kind = ArtCover
		}
		return f, true
	}
	return artFound{}, false
}

// artStackWords are the words Kodi stacks multi-part files by.
var artStackWords = []string{"cd", "dvd", "part", "pt", "disc", "disk"}

// artStackStem returns the name of a multi-part file without its part
// ("Film" for "Film-cd1", "Film - Part 2", "Film.disc01"), or "" when
// stem names no part.
func artStackStem(stem string) string {
	i := len(strings.TrimRight(stem, "0123456789"))
	if i == len(stem) || len(stem)-i > 3 {
		return ""
	}
	s := strings.TrimRight(stem[:i], " _.-")
	l := strings.ToLower(s)
	for _, w := range artStackWords {
		if !strings.HasSuffix(l, w) {
			continue
		}
		head := s[:len(s)-len(w)]
		if head == "" {
			return ""
		}
		switch head[len(head)-1] {
		case ' ', '_', '.', '-':
			return strings.TrimRight(head, " _.-")
		}
		return ""
	}
	return ""
}
