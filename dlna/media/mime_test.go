package media

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/mediaftpd/mediaftpd/dlna/quirks"
	"github.com/mediaftpd/mediaftpd/library"
)

// TestTypesMatchLibrary checks that every extension library.KindOf calls
// video, audio or image has a type here, of the same kind, and that the
// table has no such extension the library does not know. The library's
// extensions are read from its doc.go table (which its own test keeps
// equal to KindOf's) and also found by trying every extension of up to
// four letters and digits.
func TestTypesMatchLibrary(t *testing.T) {
	want := map[library.Kind]kind{library.Video: kindVideo, library.Audio: kindAudio, library.Image: kindImage}
	check := func(ext string) {
		lk := library.KindOf("x." + ext)
		f, ok := types[ext]
		switch {
		case lk == library.Other && ok && f.kind != kindSubtitle:
			t.Errorf("%s: the library calls it other, the table %v", ext, f.kind)
		case lk != library.Other && !ok:
			t.Errorf("%s: the library calls it %v, the table has no type", ext, lk)
		case lk != library.Other && f.kind != want[lk]:
			t.Errorf("%s: the library calls it %v, the table kind %d", ext, lk, f.kind)
		}
	}
	src, err := os.ReadFile("../../library/doc.go")
	if err != nil {
		t.Fatal(err)
	}
	documented := 0
	kindCell := ""
	for line := range strings.Lines(string(src)) {
		cells := strings.Split(strings.TrimSpace(strings.TrimPrefix(line, "//")), "|")
		if len(cells) != 4 || strings.HasPrefix(strings.TrimSpace(cells[1]), "-") {
			continue
		}
		if k := strings.TrimSpace(cells[1]); k != "" {
			kindCell = k
		}
		if kindCell == "video" || kindCell == "audio" || kindCell == "image" {
			for _, ext := range strings.Fields(cells[2]) {
				check(ext)
				documented++
			}
		}
	}
	if documented < 60 {
		t.Fatalf("found only %d extensions in library/doc.go's table; has its layout changed?", documented)
	}
	const chars = "abcdefghijklmnopqrstuvwxyz0123456789"
	var try func(prefix string)
	try = func(prefix string) {
		if prefix != "" {
			check(prefix)
		}
		if len(prefix) == 4 {
			return
		}
		for i := range len(chars) {
			try(prefix + chars[i:i+1])
		}
	}
	try("")
	for ext := range types {
		check(ext)
		if ext != strings.ToLower(ext) {
			t.Errorf("%s: table keys must be lower case", ext)
		}
	}
}

func TestMIMEType(t *testing.T) {
	samsung := quirks.Detect(header("User-Agent", "DLNADOC/1.50 SEC_HHP_[TV] Samsung Q7 Series (49)/1.0")).Quirks
	lg := quirks.Detect(header("User-Agent", "Linux/3.0.13 UPnP/1.0 LGE_DLNA_SDK/1.6.0 [TV][LG]32LB5800-ZM/04.04.06 DLNADOC/1.50")).Quirks
	xbox := quirks.Detect(header("User-Agent", "Xbox/2.0.8955.0 UPnP/1.0 Xbox/2.0.8955.0")).Quirks
	for _, tt := range []struct {
		name string
		q    quirks.Set
		want string
	}{
		{"Film.mkv", 0, "video/x-matroska"},
		{"Film.MKV", 0, "video/x-matroska"},
		{"Film.mkv", samsung, "video/x-mkv"},
		{"Film.mk3d", samsung, "video/x-mkv"},
		{"Film.mkv", lg, "video/x-matroska"},
		{"Film.mkv", quirks.MKVAsXMKV, "video/x-mkv"},
		{"Old.avi", 0, "video/x-msvideo"},
		{"Old.avi", xbox, "video/avi"},
		{"Old.avi", samsung, "video/x-msvideo"},
		{"Clip.mp4", samsung, "video/mp4"},
		{"Rec.ts", 0, "video/mp2t"},
		{"Rec.m2ts", 0, "video/mp2t"},
		{"Song.flac", 0, "audio/flac"},
		{"Song.mp3", 0, "audio/mpeg"},
		{"Book.m4b", 0, "audio/mp4"},
		{"Photo.JPG", 0, "image/jpeg"},
		{"Photo.heic", 0, "image/heic"},
		{"Film.srt", 0, "text/srt"},
		{"Film.en.srt", lg, "text/srt"}, // LG needs text/srt (every client gets it)
		{"Film.srt", samsung, "text/srt"},
		{"Film.vtt", 0, "text/vtt"},
		{"Film.ass", 0, "text/x-ssa"},
		{"Film.nfo", 0, "application/octet-stream"},
		{"README", 0, "application/octet-stream"},
		{".mkv", 0, "video/x-matroska"},
		{"x.mkvvvvv", 0, "application/octet-stream"},
		{"", 0, "application/octet-stream"},
	} {
		if got := MIMEType(tt.name, tt.q); got != tt.want {
			t.Errorf("MIMEType(%q, %v) = %q, want %q", tt.name, tt.q, got, tt.want)
		}
	}
}

func TestClassOf(t *testing.T) {
	for name, want := range map[string]string{
		"Film.mkv":  "object.item.videoItem",
		"rec.TS":    "object.item.videoItem",
		"song.opus": "object.item.audioItem.musicTrack",
		"a.jpeg":    "object.item.imageItem.photo",
		"raw.CR3":   "object.item.imageItem.photo",
		"Film.srt":  "object.item",
		"notes.txt": "object.item",
		"noext":     "object.item",
	} {
		if got := ClassOf(name); got != want {
			t.Errorf("ClassOf(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestProtocolInfo(t *testing.T) {
	const (
		streaming   = "DLNA.ORG_OP=01;DLNA.ORG_CI=0;DLNA.ORG_FLAGS=01700000000000000000000000000000"
		interactive = "DLNA.ORG_OP=01;DLNA.ORG_CI=0;DLNA.ORG_FLAGS=00D00000000000000000000000000000"
	)
	for _, tt := range []struct {
		name         string
		q            quirks.Set
		info, fourth string
	}{
		{"Film.mkv", 0, "http-get:*:video/x-matroska:" + streaming, streaming},
		{"Film.mkv", quirks.MKVAsXMKV, "http-get:*:video/x-mkv:" + streaming, streaming},
		{"Song.mp3", 0, "http-get:*:audio/mpeg:" + streaming, streaming},
		{"Photo.jpg", 0, "http-get:*:image/jpeg:" + interactive, interactive},
		{"Film.srt", 0, "http-get:*:text/srt:*", interactive},
		{"notes.txt", 0, "http-get:*:application/octet-stream:" + interactive, interactive},
	} {
		if got := ProtocolInfo(tt.name, tt.q); got != tt.info {
			t.Errorf("ProtocolInfo(%q) = %q, want %q", tt.name, got, tt.info)
		}
		if got := ContentFeatures(tt.name, tt.q); got != tt.fourth {
			t.Errorf("ContentFeatures(%q) = %q, want %q", tt.name, got, tt.fourth)
		}
		if strings.Contains(ProtocolInfo(tt.name, tt.q), "DLNA.ORG_PN") {
			t.Errorf("%s: DLNA.ORG_PN sent", tt.name)
		}
	}
	if got, want := fmt.Sprintf("%08X", streamingFlags), "01700000"; got != want {
		t.Errorf("streaming flags %s, want %s", got, want)
	}
}
