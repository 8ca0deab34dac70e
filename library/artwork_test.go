package library

import (
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"
	"testing"
)

// art is a short way to write an expected ArtworkFile: "path|kind".
func art(s string) ArtworkFile {
	p, k, _ := strings.Cut(s, "|")
	var kind ArtworkKind
	if err := kind.UnmarshalText([]byte(k)); err != nil || kind.String() != k {
		panic("bad kind in " + s)
	}
	return ArtworkFile{Path: p, Kind: kind}
}

func TestArtwork(t *testing.T) {
	for _, tt := range []struct {
		name     string
		rel      string
		siblings []string
		want     []string
	}{
		{"Kodi: a film in its own folder",
			"Movies/Alien (1979)/Alien (1979).mkv",
			[]string{"Alien (1979).mkv", "Alien (1979).nfo", "Alien (1979)-poster.jpg", "Alien (1979)-fanart.jpg",
				"Alien (1979)-landscape.jpg", "Alien (1979)-clearlogo.png", "Alien (1979)-disc.png", "Alien (1979)-banner.jpg",
				"poster.jpg", "fanart.jpg", "folder.jpg", "extrafanart", "Alien (1979).en.srt"},
			[]string{
				"Movies/Alien (1979)/Alien (1979)-poster.jpg|poster",
				"Movies/Alien (1979)/poster.jpg|poster",
				"Movies/Alien (1979)/folder.jpg|poster",
				"Movies/Alien (1979)/Alien (1979)-landscape.jpg|thumb",
				"Movies/Alien (1979)/Alien (1979)-fanart.jpg|fanart",
				"Movies/Alien (1979)/fanart.jpg|fanart",
			}},
		{"Jellyfin: folder.jpg, landscape and numbered backdrops",
			"Movies/Heat (1995)/Heat (1995) [1080p].mkv",
			[]string{"Heat (1995) [1080p].mkv", "movie.nfo", "folder.jpg", "backdrop.jpg", "backdrop1.jpg", "backdrop2.jpg",
				"logo.png", "landscape.jpg", "backdrop10.jpg"},
			[]string{
				"Movies/Heat (1995)/folder.jpg|poster",
				"Movies/Heat (1995)/landscape.jpg|thumb",
				"Movies/Heat (1995)/backdrop.jpg|fanart",
				"Movies/Heat (1995)/backdrop1.jpg|fanart",
				"Movies/Heat (1995)/backdrop2.jpg|fanart",
				"Movies/Heat (1995)/backdrop10.jpg|fanart",
			}},
		{"Plex: the film's name, then poster, then backgrounds",
			"Film (2000)/Film (2000).mp4",
			[]string{"Film (2000).mp4", "Film (2000).jpg", "Film (2000)-fanart.jpg", "poster.jpg", "art.jpg", "background.jpg", "cover.jpg", "default.png", "movie.tbn"},
			[]string{
				"Film (2000)/Film (2000).jpg|poster",
				"Film (2000)/poster.jpg|poster",
				"Film (2000)/cover.jpg|cover",
				"Film (2000)/default.png|poster",
				"Film (2000)/movie.tbn|poster",
				"Film (2000)/Film (2000)-fanart.jpg|fanart",
				"Film (2000)/background.jpg|fanart",
				"Film (2000)/art.jpg|fanart",
			}},
		{"films side by side: only their own pictures",
			"Movies/Film A.mkv",
			[]string{"Film A.mkv", "Film B.avi", "Film A.jpg", "Film A-fanart.jpg", "Film B-poster.png", "Film B.jpg", "folder.jpg", "poster.jpg", "fanart.jpg"},
			[]string{"Movies/Film A.jpg|poster", "Movies/Film A-fanart.jpg|fanart"}},
		{"a season: an episode's thumb, not the season's poster",
			"TV/Show/Season 01/Show S01E01.mkv",
			[]string{"Show S01E01.mkv", "Show S01E02.mkv", "Show S01E01-thumb.jpg", "Show S01E01.nfo", "Show S01E02-thumb.jpg", "poster.jpg", "Show S01E01 - extra.jpg"},
			[]string{"TV/Show/Season 01/Show S01E01-thumb.jpg|thumb"}},
		{"an episode with a Jellyfin still under its own name",
			"TV/Show/Season 01/Show S01E02.mkv",
			[]string{"Show S01E01.mkv", "Show S01E02.mkv", "Show S01E02.jpg", "Show S01E02-thumb.jpg"},
			[]string{"TV/Show/Season 01/Show S01E02.jpg|poster", "TV/Show/Season 01/Show S01E02-thumb.jpg|thumb"}},
		{"Kodi's old .tbn files",
			"Film.avi",
			[]string{"Film.avi", "Film.tbn", "movie.tbn", "Film.jpg", "folder.tbn"},
			[]string{"Film.jpg|poster", "Film.tbn|poster", "folder.tbn|poster", "movie.tbn|poster"}},
		{"names in other case",
			"Movies/FILM.MKV",
			[]string{"FILM.MKV", "film-POSTER.JPG", "Poster.Png", "FOLDER.JPG", "FanArt.JPEG", "Film-Thumb.WebP"},
			[]string{"Movies/film-POSTER.JPG|poster", "Movies/Poster.Png|poster", "Movies/FOLDER.JPG|poster", "Movies/Film-Thumb.WebP|thumb", "Movies/FanArt.JPEG|fanart"}},
		{"a multi-part film counts as one",
			"Movies/Old Film/Old Film-cd1.avi",
			[]string{"Old Film-cd1.avi", "Old Film-cd2.avi", "Old Film-poster.jpg", "Old Film-fanart.jpg", "Old Film-cd1-poster.jpg", "Old Film-cd2-poster.jpg", "folder.jpg"},
			[]string{
				"Movies/Old Film/Old Film-cd1-poster.jpg|poster",
				"Movies/Old Film/Old Film-poster.jpg|poster",
				"Movies/Old Film/folder.jpg|poster",
				"Movies/Old Film/Old Film-fanart.jpg|fanart",
			}},
		{"multi-part spelled Part 2 beside another film",
			"Movies/Epic - Part 2.mkv",
			[]string{"Epic - Part 1.mkv", "Epic - Part 2.mkv", "Other.mkv", "Epic-poster.jpg", "folder.jpg"},
			[]string{"Movies/Epic-poster.jpg|poster"}},
		{"an album: folder before cover, WMP's files, background last",
			"Music/Artist/Album (1990)/01 - Track.flac",
			[]string{"01 - Track.flac", "02 - Other.flac", "folder.jpg", "cover.jpg", "Front.JPG", "AlbumArtSmall.jpg",
				"AlbumArt_{F1C2D3E4-0000-1111-2222-333344445555}_Large.jpg", "AlbumArt_{F1C2D3E4-0000-1111-2222-333344445555}_Small.jpg",
				"back.jpg", "cd.png", "fanart.jpg", "album.png", "desktop.ini"},
			[]string{
				"Music/Artist/Album (1990)/folder.jpg|cover",
				"Music/Artist/Album (1990)/cover.jpg|cover",
				"Music/Artist/Album (1990)/Front.JPG|cover",
				"Music/Artist/Album (1990)/AlbumArt_{F1C2D3E4-0000-1111-2222-333344445555}_Large.jpg|cover",
				"Music/Artist/Album (1990)/AlbumArt_{F1C2D3E4-0000-1111-2222-333344445555}_Small.jpg|cover",
				"Music/Artist/Album (1990)/AlbumArtSmall.jpg|cover",
				"Music/Artist/Album (1990)/album.png|cover",
				"Music/Artist/Album (1990)/fanart.jpg|fanart",
			}},
		{"Windows Media Player only",
			"Album/Track 1.wma",
			[]string{"Track 1.wma", "AlbumArtSmall.jpg", "AlbumArt.jpg", "AlbumArt_{0A}_Large.jpg"},
			[]string{"Album/AlbumArt_{0A}_Large.jpg|cover", "Album/AlbumArt.jpg|cover", "Album/AlbumArtSmall.jpg|cover"}},
		{"a track's own picture first",
			"Music/Singles/Song.mp3",
			[]string{"Song.mp3", "Other.mp3", "Song.jpg", "Other.jpg", "cover.jpg", "Song-fanart.jpg"},
			[]string{"Music/Singles/Song.jpg|cover", "Music/Singles/cover.jpg|cover", "Music/Singles/Song-fanart.jpg|fanart"}},
		{"a video beside audio is alone among videos",
			"Concert/Concert.mkv",
			[]string{"Concert.mkv", "01 Song.flac", "folder.jpg", "poster.jpg"},
			[]string{"Concert/poster.jpg|poster", "Concert/folder.jpg|poster"}},
		{"numbered backgrounds and extensions",
			"Film.mkv",
			[]string{"Film.mkv", "fanart.jpg", "fanart1.jpg", "fanart-2.png", "fanart10.jpg", "backdrop.webp", "art.gif", "fanart.png", "poster2.jpg", "Film-fanart3.jpg"},
			[]string{"Film-fanart3.jpg|fanart", "fanart.jpg|fanart", "fanart.png|fanart", "fanart1.jpg|fanart", "fanart-2.png|fanart", "fanart10.jpg|fanart", "backdrop.webp|fanart", "art.gif|fanart"}},
		{"not pictures, not roles",
			"Film.mkv",
			[]string{"Film.mkv", "Film.nfo", "poster.txt", "Film-poster", "posters.jpg", "Film.poster.jpg", "Film-banner.jpg", "logo.png", "sub/poster.jpg", ".jpg", "Film-.jpg"},
			nil},
		{"the video missing from siblings",
			"a/b/Film.mp4",
			[]string{"folder.jpg"},
			[]string{"a/b/folder.jpg|poster"}},
		{"not a media file", "notes.txt", []string{"notes.txt", "notes.jpg", "folder.jpg"}, nil},
		{"an image has no artwork", "photo.jpg", []string{"photo.jpg", "folder.jpg"}, nil},
		{"no name", "Films/.mkv", []string{".mkv", "folder.jpg"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := Artwork(tt.rel, tt.siblings)
			var want []ArtworkFile
			for _, w := range tt.want {
				want = append(want, art(w))
			}
			if !slices.Equal(got, want) {
				t.Errorf("Artwork(%q)\n got:\n%s want:\n%s", tt.rel, showArt(got), showArt(want))
			}
		})
	}
}

func TestFolderArtwork(t *testing.T) {
	for _, tt := range []struct {
		name  string
		dir   string
		names []string
		want  []string
	}{
		{"a season", "TV/Show/Season 01",
			[]string{"Show S01E01.mkv", "Show S01E02.mkv", "Show S01E01-thumb.jpg", "folder.jpg", "poster.jpg", "fanart.jpg"},
			[]string{"TV/Show/Season 01/poster.jpg|poster", "TV/Show/Season 01/folder.jpg|poster", "TV/Show/Season 01/fanart.jpg|fanart"}},
		{"a show's folder of seasons", "TV/Show",
			[]string{"Season 01", "Season 02", "tvshow.nfo", "poster.jpg", "fanart.jpg", "banner.jpg", "season01-poster.jpg", "landscape.jpg"},
			[]string{"TV/Show/poster.jpg|poster", "TV/Show/landscape.jpg|thumb", "TV/Show/fanart.jpg|fanart"}},
		{"an album", "Music/Album",
			[]string{"01.mp3", "02.mp3", "poster.jpg", "cover.png", "Folder.jpg", "AlbumArtSmall.jpg"},
			[]string{"Music/Album/Folder.jpg|cover", "Music/Album/cover.png|cover", "Music/Album/AlbumArtSmall.jpg|cover", "Music/Album/poster.jpg|cover"}},
		{"a share's top folder", "",
			[]string{"folder.jpg", "Film.mkv", "song.mp3"},
			[]string{"folder.jpg|poster"}},
		{"nothing", ".", []string{"a.mkv", "b.jpg"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := FolderArtwork(tt.dir, tt.names)
			var want []ArtworkFile
			for _, w := range tt.want {
				want = append(want, art(w))
			}
			if !slices.Equal(got, want) {
				t.Errorf("FolderArtwork(%q)\n got:\n%s want:\n%s", tt.dir, showArt(got), showArt(want))
			}
		})
	}
}

func TestArtworkStackStem(t *testing.T) {
	for stem, want := range map[string]string{
		"Film-cd1":            "Film",
		"Film CD2":            "Film",
		"Film.dvd01":          "Film",
		"Film - Part 2":       "Film",
		"Film_pt3":            "Film",
		"Film.disc1":          "Film",
		"Film-disk 2":         "Film",
		"Film":                "",
		"Apollo 13":           "",
		"Blade Runner 2049":   "",
		"cd1":                 "",
		"-cd1":                "",
		"Film cd":             "",
		"Filmcd1":             "",
		"Film-part1234":       "",
		"Episode 1":           "",
		"Show S01E01 part 1":  "Show S01E01",
		"Quadrophenia disc 2": "Quadrophenia",
	} {
		if got := artStackStem(stem); got != want {
			t.Errorf("artStackStem(%q) = %q, want %q", stem, got, want)
		}
	}
}

func TestArtworkKindText(t *testing.T) {
	b, err := json.Marshal([]ArtworkKind{ArtPoster, ArtCover, ArtThumb, ArtFanart})
	if err != nil || string(b) != `["poster","cover","thumb","fanart"]` {
		t.Fatalf("json: %s, %v", b, err)
	}
	var k ArtworkKind
	if err := k.UnmarshalText([]byte("fanart")); err != nil || k != ArtFanart {
		t.Fatalf("UnmarshalText(fanart) = %v, %v", k, err)
	}
	if err := k.UnmarshalText([]byte("banner")); err != nil || k != ArtPoster {
		t.Fatalf("UnmarshalText(banner) = %v, %v", k, err)
	}
	if s := ArtworkKind(99).String(); s != "poster" {
		t.Fatalf("String(99) = %q", s)
	}
}

func showArt(a []ArtworkFile) string {
	var b strings.Builder
	for _, x := range a {
		fmt.Fprintf(&b, "  %s|%s\n", x.Path, x.Kind)
	}
	return b.String()
}

// FuzzArtwork checks that no names panic Artwork or FolderArtwork and that
// what they return is a picture of the folder, from the names given, once,
// backgrounds last.
func FuzzArtwork(f *testing.F) {
	f.Add("Movies/Film.mkv", "Film-poster.jpg")
	f.Add("Film-cd1.avi", "Film-fanart-2.PNG")
	f.Add("Music/a.flac", "AlbumArt_{x}_Large.jpg")
	f.Add("a/\xff.mkv", "\xff-thumb.jpg")
	f.Fuzz(func(t *testing.T, rel, sibling string) {
		siblings := []string{sibling, "Film.mkv", "poster.jpg", "fanart1.jpg", path.Base(rel) + ".jpg"}
		dir := path.Dir(rel)
		check := func(got []ArtworkFile) {
			seen := map[string]bool{}
			tier := 0
			for _, a := range got {
				if seen[a.Path] {
					t.Fatalf("%q twice", a.Path)
				}
				seen[a.Path] = true
				if a.Kind >= numArtworkKinds {
					t.Fatalf("kind %d", a.Kind)
				}
				if tr := artTier(a.Kind); tr < tier {
					t.Fatalf("%q (%s) after a later kind", a.Path, a.Kind)
				} else {
					tier = tr
				}
				if !slices.ContainsFunc(siblings, func(s string) bool { return path.Join(dir, s) == a.Path && !strings.Contains(s, "/") }) {
					t.Fatalf("path %q from none of %q in %q", a.Path, siblings, dir)
				}
				if artExtRank(a.Path) < 0 {
					t.Fatalf("path %q is no picture", a.Path)
				}
			}
		}
		check(Artwork(rel, siblings))
		check(FolderArtwork(dir, siblings))
	})
}

// BenchmarkArtwork finds the pictures of one episode in a folder of 2,000
// episodes, each with a thumb and an .nfo (6,000 names).
func BenchmarkArtwork(b *testing.B) {
	var names []string
	for i := range 2000 {
		s := fmt.Sprintf("Show S%02dE%03d - Episode Title", i/100, i%100)
		names = append(names, s+".mkv", s+"-thumb.jpg", s+".nfo")
	}
	names = append(names, "poster.jpg", "fanart.jpg")
	rel := "TV/Show/" + names[3000]
	b.ReportAllocs()
	for b.Loop() {
		if len(Artwork(rel, names)) != 1 {
			b.Fatal("want the thumb")
		}
	}
}
