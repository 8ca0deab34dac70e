package library

import (
	"os"
	"slices"
	"strings"
	"testing"
)

func TestKindOf(t *testing.T) {
	for _, tt := range []struct {
		name string
		want Kind
	}{
		{"Film.mkv", Video},
		{"FILM.MKV", Video},
		{"Recording.m2ts", Video},
		{"News.ts", Video},
		{"clip.webm", Video},
		{"old.wmv", Video},
		{"song.flac", Audio},
		{"song.Mp3", Audio},
		{"book.m4b", Audio},
		{"voice.opus", Audio},
		{"IMG_0001.HEIC", Image},
		{"photo.jpeg", Image},
		{"raw.CR3", Image},
		{"Film.srt", Other},
		{"Film.nfo", Other},
		{"disc.iso", Other},
		{"README", Other},
		{"mkv", Other},
		{".mkv", Video},
		{"archive.tar.gz", Other},
		{"name.", Other},
		{"weird.mkv.part", Other},
	} {
		if got := KindOf(tt.name); got != tt.want {
			t.Errorf("KindOf(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
	if b, _ := Video.MarshalText(); string(b) != "video" {
		t.Errorf("Video.MarshalText = %q", b)
	}
}

// TestKindTableDocumented checks that the table of extensions in doc.go
// lists exactly the extensions KindOf knows.
func TestKindTableDocumented(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string][]string{}
	kind := ""
	for line := range strings.Lines(string(src)) {
		cells := strings.Split(strings.TrimSpace(strings.TrimPrefix(line, "//")), "|")
		if len(cells) != 4 || strings.HasPrefix(strings.TrimSpace(cells[1]), "-") {
			continue
		}
		if k := strings.TrimSpace(cells[1]); k != "" {
			kind = k
		}
		if kind == "kind" || kind == "other" {
			continue
		}
		documented[kind] = append(documented[kind], strings.Fields(cells[2])...)
	}
	known := map[string][]string{}
	for ext, k := range extensions {
		known[k.String()] = append(known[k.String()], ext)
	}
	for _, k := range []Kind{Video, Audio, Image} {
		want, got := known[k.String()], documented[k.String()]
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("doc.go lists for %s:\n%q\nKindOf knows:\n%q", k, got, want)
		}
	}
	if len(documented) != 3 {
		t.Errorf("doc.go's table has kinds %v", documented)
	}
}
