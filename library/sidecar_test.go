package library

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"testing"
)

// sub is a short way to write an expected Subtitle: "path|lang|format"
// and optionally "|forced", "|sdh".
func sub(s string) Subtitle {
	f := strings.Split(s, "|")
	st := Subtitle{Path: f[0], Lang: f[1], Format: f[2]}
	st.Forced = slices.Contains(f[3:], "forced")
	st.SDH = slices.Contains(f[3:], "sdh")
	return st
}

func TestSubtitles(t *testing.T) {
	for _, tt := range []struct {
		name     string
		rel      string
		siblings []string
		subs     []string
		want     []string
	}{
		{"the brief's folder",
			"Movies/Film.mkv",
			[]string{"Film.mkv", "Film.srt", "Film.en.srt", "Film.forced.en.srt", "Film.eng.ass", "Film.vtt", "Film.de.sdh.srt", "Film.nfo", "poster.jpg"},
			[]string{"Subs/Film.en.srt", "Subs/2_English.srt"},
			[]string{
				"Movies/Film.srt||srt",
				"Movies/Film.vtt||vtt",
				"Movies/Film.en.srt|en|srt",
				"Movies/Subs/2_English.srt|en|srt",
				"Movies/Subs/Film.en.srt|en|srt",
				"Movies/Film.eng.ass|en|ass",
				"Movies/Film.de.sdh.srt|de|srt|sdh",
				"Movies/Film.forced.en.srt|en|srt|forced",
			}},
		{"names in other case",
			"Film.MKV",
			[]string{"Film.MKV", "FILM.SRT", "film.EN.srt", "Film.ger.Forced.SRT"},
			nil,
			[]string{"FILM.SRT||srt", "film.EN.srt|en|srt", "Film.ger.Forced.SRT|de|srt|forced"}},
		{"several videos: only matching names",
			"TV/Show S01E01.mkv",
			[]string{"Show S01E01.mkv", "Show S01E02.mkv", "Show S01E01.en.srt", "Show S01E02.en.srt", "English.srt", "Show S01E01 extra.srt"},
			[]string{"Subs/2_English.srt", "Subs/Show S01E01.de.srt", "Subs/Show S01E02.de.srt"},
			[]string{"TV/Subs/Show S01E01.de.srt|de|srt", "TV/Show S01E01.en.srt|en|srt"}},
		{"several videos: the video's own folder in Subs",
			"TV/Show S01E02.mkv",
			[]string{"Show S01E01.mkv", "Show S01E02.mkv"},
			[]string{"Subs/Show S01E01/2_English.srt", "Subs/Show S01E02/2_English.srt", "Subs/Show S01E02/3_French.srt", "Subs/show s01e02/4_Spanish.ssa", "Subs/Show S01E02/notes.txt"},
			[]string{"TV/Subs/Show S01E02/2_English.srt|en|srt", "TV/Subs/show s01e02/4_Spanish.ssa|es|ssa", "TV/Subs/Show S01E02/3_French.srt|fr|srt"}},
		{"a longer video name takes its own",
			"Film.mkv",
			[]string{"Film.mkv", "Film.Extended.mkv", "Film.Extended.srt", "Film.Extended.en.srt", "Film.en.srt"},
			nil,
			[]string{"Film.en.srt|en|srt"}},
		{"the longer video's subtitles",
			"Film.Extended.mkv",
			[]string{"Film.mkv", "Film.Extended.mkv", "Film.Extended.srt", "Film.Extended.en.srt", "Film.en.srt"},
			nil,
			[]string{"Film.Extended.srt||srt", "Film.Extended.en.srt|en|srt"}},
		{"single video: any subtitle, languages by name and code",
			"Films/Heat (1995)/Heat.1995.1080p.mkv",
			[]string{"Heat.1995.1080p.mkv", "English.srt", "heat-fr.srt", "Portuguese (Brazil).srt", "pt-BR.vtt", "commentary.srt"},
			[]string{"subs/3_German_SDH.srt", "SUBS/4_Chinese.zh-Hant.ass", "Subs/5_dan.srt", "Subs/6_Danish.srt", "Subs/7.zh-hant.srt"},
			[]string{
				"Films/Heat (1995)/Subs/6_Danish.srt|da|srt",
				"Films/Heat (1995)/English.srt|en|srt",
				"Films/Heat (1995)/Portuguese (Brazil).srt|pt|srt",
				"Films/Heat (1995)/pt-BR.vtt|pt-BR|vtt",
				"Films/Heat (1995)/SUBS/4_Chinese.zh-Hant.ass|zh|ass",
				"Films/Heat (1995)/Subs/7.zh-hant.srt|zh-Hant|srt",
				"Films/Heat (1995)/commentary.srt||srt",
				"Films/Heat (1995)/heat-fr.srt||srt",
				"Films/Heat (1995)/Subs/5_dan.srt||srt",
				"Films/Heat (1995)/subs/3_German_SDH.srt|de|srt|sdh",
			}},
		{"tags after the name: codes, regions, flags",
			"Film.mp4",
			[]string{"Film.mp4", "Film.it.srt", "Film.no.srt", "Film.pt-br.srt", "Film.en_US.srt", "Film.hi.srt", "Film.hin.srt", "Film.foreign.srt", "Film.cc.eng.srt", "Film.default.fre.srt", "Film.xx.srt", "Film.Director's Cut.srt", "Film.English.Forced.SDH.srt", "Film.sr-Latn.srt", "Film.pt-BRA.srt"},
			nil,
			[]string{
				"Film.en_US.srt|en|srt",
				"Film.default.fre.srt|fr|srt",
				"Film.hin.srt|hi|srt",
				"Film.it.srt|it|srt",
				"Film.no.srt|no|srt",
				"Film.pt-BRA.srt|pt|srt",
				"Film.pt-br.srt|pt-BR|srt",
				"Film.sr-Latn.srt|sr-Latn|srt",
				"Film.Director's Cut.srt||srt",
				"Film.xx.srt||srt",
				"Film.cc.eng.srt|en|srt|sdh",
				"Film.hi.srt||srt|sdh",
				"Film.foreign.srt||srt|forced",
				"Film.English.Forced.SDH.srt|en|srt|forced|sdh",
			}},
		{"common words are not languages in other names",
			"Dir/Only.mkv",
			[]string{"Only.mkv", "Watch it.srt", "Ben-Hur.srt", "May 2020.srt", "he.srt"},
			nil,
			[]string{"Dir/Ben-Hur.srt||srt", "Dir/he.srt||srt", "Dir/May 2020.srt||srt", "Dir/Watch it.srt||srt"}},
		{"not subtitles", "Film.mkv", []string{"Film.mkv", "Film.sub", "Film.idx", "Film.smi", "Film.txt", "Film.srt.bak", "Film"}, []string{"Subs/Film.sub"}, nil},
		{"other folders in subs", "A/Film.mkv", []string{"Film.mkv"}, []string{"Extras/Film.srt", "Subs/Other/Film.srt", "Subs/a/b/Film.srt"}, nil},
		{"a bare name in subs", "A/Film.mkv", []string{"Film.mkv"}, []string{"Film.en.srt"}, []string{"A/Subs/Film.en.srt|en|srt"}},
		{"video missing from siblings counts", "A/Film.mkv", []string{"Other.mkv", "x.srt"}, nil, nil},
		{"video alone, siblings nil", "A/Film.mkv", nil, []string{"Subs/English.srt"}, []string{"A/Subs/English.srt|en|srt"}},
		{"prefix without dot is another name", "Film.mkv", []string{"Film.mkv", "Film 2.mkv", "Film 2.srt", "Films.srt", "Film2.srt"}, nil, nil},
		{"unicode folding", "Ärger.mkv", []string{"Ärger.mkv", "Other.mkv", "äRGER.de.srt"}, nil, []string{"äRGER.de.srt|de|srt"}},
		{"empty", "", []string{"a.srt"}, nil, nil},
		{"no folder", "Film.mkv", []string{"Film.mkv", "Film.srt"}, nil, []string{"Film.srt||srt"}},
		{"no climbing out", "A/Film.mkv", []string{"Film.mkv", "../Film.srt", "x/Film.srt"}, []string{"Subs/../Film.srt", "Subs/./Film.srt", "Subs//Film.srt", "../Film.srt"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := Subtitles(tt.rel, tt.siblings, tt.subs)
			var want []Subtitle
			for _, w := range tt.want {
				want = append(want, sub(w))
			}
			if !slices.Equal(got, want) {
				t.Errorf("Subtitles(%q) =\n%s\nwant\n%s", tt.rel, show(got), show(want))
			}
		})
	}
}

// TestSubtitlesNear checks that with only part of the folder the
// single-video rule is not applied.
func TestSubtitlesNear(t *testing.T) {
	near := []string{"IMG_0100.jpg", "Clip.mp4", "Clip.en.srt", "English.srt", "IMG_0101.jpg"}
	subs := []string{"Subs/Clip.de.srt", "Subs/3_French.srt", "Subs/Clip/2_Spanish.srt"}
	want := []Subtitle{
		{Path: "Cam/Subs/Clip.de.srt", Lang: "de", Format: "srt"},
		{Path: "Cam/Clip.en.srt", Lang: "en", Format: "srt"},
		{Path: "Cam/Subs/Clip/2_Spanish.srt", Lang: "es", Format: "srt"},
	}
	if got := SubtitlesNear("Cam/Clip.mp4", near, subs); !slices.Equal(got, want) {
		t.Errorf("SubtitlesNear =\n%s\nwant\n%s", show(got), show(want))
	}
	if got := Subtitles("Cam/Clip.mp4", near, subs); len(got) != 5 {
		t.Errorf("Subtitles with the whole folder found %d, want 5:\n%s", len(got), show(got))
	}
}

func show(s []Subtitle) string {
	var b strings.Builder
	for _, x := range s {
		fmt.Fprintf(&b, "  %+v\n", x)
	}
	return b.String()
}

// FuzzSubtitles checks that no names panic Subtitles and that what it
// returns is a subtitle below the video's folder.
func FuzzSubtitles(f *testing.F) {
	f.Add("Movies/Film.mkv", "Film.en.srt", "Subs/2_English.srt")
	f.Add("Film.mkv", "Film..srt", "Subs/Film/x.ass")
	f.Add("a/\xff.mkv", "\xff.es-\xffx.srt", "subs/\xff/\xff.vtt")
	f.Fuzz(func(t *testing.T, rel, sibling, subEntry string) {
		got := Subtitles(rel, []string{sibling, "Film.mkv"}, []string{subEntry})
		dir := path.Dir(rel)
		prefix := strings.TrimSuffix(dir, "/") + "/"
		if dir == "." {
			prefix = ""
		}
		for _, s := range got {
			if rel, ok := strings.CutPrefix(s.Path, prefix); !ok || path.Clean(rel) != rel || strings.HasPrefix(rel, "../") || rel == ".." {
				t.Fatalf("path %q outside %q", s.Path, dir)
			}
			if !slices.Contains(sidecarFormats, s.Format) {
				t.Fatalf("format %q", s.Format)
			}
			if s.Path != sibling && !strings.HasSuffix(s.Path, "/"+sibling) && !strings.HasSuffix(s.Path, strings.TrimPrefix(subEntry, "/")) {
				t.Fatalf("path %q from neither %q nor %q", s.Path, sibling, subEntry)
			}
		}
	})
}
