package library

import (
	"cmp"
	"path"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Subtitle is a subtitle file that goes with a video, as Subtitles finds
// it.
type Subtitle struct {
	// Path is the subtitle's share-relative path, with "/" separators.
	Path string
	// Lang is the subtitle's language, from its name: an ISO 639-1 code
	// ("en") where the language has one, else an ISO 639-2 code ("fil"),
	// with a region or script when the name gives one ("pt-BR",
	// "zh-Hant"); "" when the name tells none.
	Lang string
	// Format is the file's format, from its extension: "srt", "ass",
	// "ssa" or "vtt".
	Format string
	// Forced is set for forced subtitles (a "forced" or "foreign" tag),
	// which translate only the foreign parts of a film.
	Forced bool
	// SDH is set for subtitles for the deaf and hard of hearing (an "sdh",
	// "cc", "hi" or "hoh" tag).
	SDH bool
}

// Subtitles returns the subtitle files that go with the video at the
// share-relative path rel, best first. It does no I/O: siblings are the
// names in the video's folder (the video's own included) and subs the
// entries of that folder's subtitle folder, either may be nil. Both must
// be the visible names only (the one visibility rule is the caller's).
//
// An entry of subs is a path relative to the video's folder that starts
// with the subtitle folder's own name, "Subs/Film.en.srt" or
// "subs/2_English.srt" (any case of "subs"), or goes one folder deeper
// into a folder named after the video, "Subs/Film/2_English.srt" (as
// episode packs have them); a bare name is taken to be in "Subs".
//
// Subtitle files are .srt, .ass, .ssa and .vtt (any case); others, like
// VobSub .sub/.idx pairs, are not offered, as TVs cannot load them as
// sidecar files. A file goes with the video when:
//   - its name without the extension is the video's ("Film.srt" for
//     "Film.mkv"), or is the video's followed by a dot and tags
//     ("Film.en.srt", "Film.forced.en.srt", "Film.eng.ass",
//     "Film.de.sdh.srt"), compared without regard to case; and no other
//     video of the folder matches it with a longer name ("Film.Extended.srt"
//     goes with "Film.Extended.mkv" when that is there, else with
//     "Film.mkv");
//   - or the folder holds that single video (a film in its own folder, as
//     Kodi and Jellyfin expect): then every subtitle file of the folder
//     and of its subtitle folder goes with it, whatever its name
//     ("2_English.srt", "English.srt");
//   - or it is in the subtitle folder's folder named after the video.
//
// Tags are separated by dots, underscores or spaces. A tag is a language
// when it is an ISO 639-1 or 639-2 code ("en", "eng", "ger", "deu"), one
// with a region or script after a hyphen ("pt-BR", "zh-Hant"; "en_US"
// is "en", as underscores separate tags), or an English
// language name ("English", "Brazilian" for pt-BR); the first one wins.
// "forced"/"foreign" set Forced and "sdh"/"cc"/"hi"/"hoh" set SDH (so
// "hi" is never Hindi: that is "hin" or "Hindi"). In a name that does not
// start with the video's, a few codes that are also common words ("it",
// "no", "he", "dan", "may", ...) are not taken as languages.
//
// Best first means: the exact name ("Film.srt") first; then full
// subtitles before forced ones, and those not for the hard of hearing
// before SDH ones; then by language, known languages in alphabetical
// order of Lang before unknown; then by format (srt, vtt, ass, ssa, the
// order TVs support them in); then the video's folder before the
// subtitle folder; then by natural order of Path.
func Subtitles(rel string, siblings, subs []string) []Subtitle {
	return subtitles(rel, siblings, subs, true)
}

// SubtitlesNear is Subtitles for a caller that has only some of the names
// of the video's folder in near, such as the entries around the video in
// the folder's default order (where a video's subtitles sort beside it),
// because the folder is too big to read for each video. As it cannot tell
// whether the video is alone in its folder, the single-video rule is not
// applied: only names that start with the video's, and the subtitle
// folder's folder named after the video, count. Use Subtitles when near
// holds the whole folder.
func SubtitlesNear(rel string, near, subs []string) []Subtitle {
	return subtitles(rel, near, subs, false)
}

// subtitles is Subtitles; whole says siblings are the whole folder.
func subtitles(rel string, siblings, subs []string, whole bool) []Subtitle {
	dir, base := path.Dir(rel), path.Base(rel)
	stem := strings.TrimSuffix(base, path.Ext(base))
	if stem == "" || base == "." || base == ".." {
		return nil
	}
	var others []string // stems of the other videos of the folder
	videos, self := 0, false
	for _, n := range siblings {
		if KindOf(n) != Video {
			continue
		}
		videos++
		if n == base {
			self = true
		} else {
			others = append(others, strings.TrimSuffix(n, path.Ext(n)))
		}
	}
	if !self {
		videos++
	}
	single := whole && videos == 1

	var found []sidecarFound
	for _, n := range siblings {
		if strings.Contains(n, "/") {
			continue // not a name
		}
		if s, ok := sidecarMatch(n, stem, others, single); ok {
			s.Path = path.Join(dir, n)
			found = append(found, s)
		}
	}
	for _, e := range subs {
		parts := strings.Split(e, "/")
		if len(parts) == 1 {
			parts = []string{"Subs", parts[0]}
		}
		if !strings.EqualFold(parts[0], "subs") || slices.ContainsFunc(parts, sidecarBadPart) {
			continue
		}
		var s sidecarFound
		var ok bool
		switch len(parts) {
		case 2:
			s, ok = sidecarMatch(parts[1], stem, others, single)
			s.where = 1
		case 3:
			if sidecarEqualFold(parts[1], stem) {
				s, ok = sidecarMatch(parts[2], stem, nil, true)
				s.where = 2
			}
		}
		if ok {
			s.Path = path.Join(append([]string{dir}, parts...)...)
			found = append(found, s)
		}
	}
	slices.SortFunc(found, sidecarBetter)
	var out []Subtitle
	for _, f := range found {
		if len(out) > 0 && out[len(out)-1].Path == f.Path {
			continue
		}
		out = append(out, f.Subtitle)
	}
	return out
}

// sidecarBadPart reports whether a part of a subs entry is no name.
func sidecarBadPart(p string) bool { return p == "" || p == "." || p == ".." }

// sidecarFound is a subtitle with what ranks it.
type sidecarFound struct {
	Subtitle
	exact bool // its name is the video's
	where int  // 0 the video's folder, 1 the subtitle folder, 2 its folder for the video
}

// sidecarFormats ranks the subtitle formats, best first.
var sidecarFormats = []string{"srt", "vtt", "ass", "ssa"}

// sidecarBetter orders subtitles best first.
func sidecarBetter(a, b sidecarFound) int {
	if a.exact != b.exact {
		return sidecarFirst(a.exact)
	}
	if a.Forced != b.Forced {
		return sidecarFirst(!a.Forced)
	}
	if a.SDH != b.SDH {
		return sidecarFirst(!a.SDH)
	}
	if (a.Lang == "") != (b.Lang == "") {
		return sidecarFirst(a.Lang != "")
	}
	if c := strings.Compare(a.Lang, b.Lang); c != 0 {
		return c
	}
	if c := cmp.Compare(slices.Index(sidecarFormats, a.Format), slices.Index(sidecarFormats, b.Format)); c != 0 {
		return c
	}
	if c := cmp.Compare(a.where, b.where); c != 0 {
		return c
	}
	return NaturalCompare(a.Path, b.Path)
}

// sidecarFirst returns -1 if a comes first, else 1.
func sidecarFirst(a bool) int {
	if a {
		return -1
	}
	return 1
}

// sidecarMatch decides whether the file name goes with the video whose
// name without extension is stem, and reads its tags. others are the
// stems of the folder's other videos (nil in the video's own subtitle
// folder); any says every subtitle file goes with the video (it is alone
// in its folder, or name is in its own subtitle folder).
func sidecarMatch(name, stem string, others []string, any bool) (sidecarFound, bool) {
	ext := path.Ext(name)
	format := strings.ToLower(strings.TrimPrefix(ext, "."))
	if !slices.Contains(sidecarFormats, format) {
		return sidecarFound{}, false
	}
	sstem := strings.TrimSuffix(name, ext)
	s := sidecarFound{Subtitle: Subtitle{Format: format}}
	rest, ok := sidecarTrimPrefixFold(sstem, stem)
	if ok && (rest == "" || rest[0] == '.') {
		for _, o := range others {
			if len(o) > len(stem) {
				if r, ok := sidecarTrimPrefixFold(sstem, o); ok && (r == "" || r[0] == '.') {
					return sidecarFound{}, false // it goes with the longer-named video
				}
			}
		}
		s.exact = rest == ""
		s.Lang, s.Forced, s.SDH = sidecarTags(rest, false)
		return s, true
	}
	if !any {
		return sidecarFound{}, false
	}
	s.Lang, s.Forced, s.SDH = sidecarTags(sstem, true)
	return s, true
}

// sidecarTags reads the tags of a subtitle's name: the first language,
// forced and SDH. loose says the name is not the video's name and tags,
// so codes that are also common words are not languages.
func sidecarTags(s string, loose bool) (lang string, forced, sdh bool) {
	for _, t := range strings.FieldsFunc(s, func(r rune) bool { return r == '.' || r == '_' || unicode.IsSpace(r) }) {
		switch strings.ToLower(t) {
		case "forced", "foreign":
			forced = true
			continue
		case "sdh", "cc", "hi", "hoh":
			sdh = true
			continue
		}
		if lang == "" {
			lang = sidecarLang(t, loose)
		}
	}
	return lang, forced, sdh
}

// sidecarLang returns the language tag t names ("en", "pt-BR"), or "".
func sidecarLang(t string, loose bool) string {
	primary, sub, _ := strings.Cut(t, "-")
	p := strings.ToLower(primary)
	if loose && slices.Contains(sidecarWords, p) {
		return ""
	}
	code := ""
	switch len(p) {
	case 2, 3:
		code = sidecarCodes[p]
	default:
		code = sidecarNames[p]
	}
	if code == "" || sub == "" || strings.Contains(code, "-") {
		return code
	}
	switch {
	case len(sub) == 2 && sidecarLetters(sub):
		return code + "-" + strings.ToUpper(sub)
	case len(sub) == 4 && sidecarLetters(sub):
		return code + "-" + strings.ToUpper(sub[:1]) + strings.ToLower(sub[1:])
	}
	return code
}

func sidecarLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// sidecarTrimPrefixFold returns s without prefix, compared rune by rune
// without regard to case, and whether s started with it.
func sidecarTrimPrefixFold(s, prefix string) (string, bool) {
	for prefix != "" {
		if s == "" {
			return "", false
		}
		a, na := utf8.DecodeRuneInString(s)
		b, nb := utf8.DecodeRuneInString(prefix)
		if a != b && !strings.EqualFold(s[:na], prefix[:nb]) {
			return "", false
		}
		s, prefix = s[na:], prefix[nb:]
	}
	return s, true
}

func sidecarEqualFold(a, b string) bool {
	rest, ok := sidecarTrimPrefixFold(a, b)
	return ok && rest == ""
}

// sidecarWords are language codes that are also common words or names in
// file names; they count as languages only right after the video's name.
var sidecarWords = []string{"an", "as", "at", "be", "by", "he", "is", "it", "me", "my", "no", "or", "so", "to",
	"ben", "dan", "fin", "mac", "may", "mon", "pan", "per", "sin"}

// sidecarCodes maps ISO 639-1 codes and ISO 639-2 codes (bibliographic
// and terminology) to the language's ISO 639-1 code, or its 639-2 code
// when it has none. sidecarNames maps English language names to the same.
var sidecarCodes, sidecarNames = func() (map[string]string, map[string]string) {
	codes, names := map[string]string{}, map[string]string{}
	for _, l := range strings.Split(sidecarLanguages, "\n") {
		f := strings.Split(l, ":")
		if len(f) != 3 {
			continue
		}
		code := f[0]
		for c := range strings.FieldsSeq(code + " " + f[1]) {
			codes[c] = code
		}
		for n := range strings.SplitSeq(f[2], ",") {
			names[n] = code
		}
	}
	return codes, names
}()

// sidecarLanguages lists code:other codes:English names, one language a
// line.
const sidecarLanguages = `
af:afr:afrikaans
ar:ara:arabic
az:aze:azerbaijani
be:bel:belarusian
bg:bul:bulgarian
bn:ben:bengali,bangla
bs:bos:bosnian
ca:cat:catalan
cs:cze ces:czech
cy:wel cym:welsh
da:dan:danish
de:ger deu:german
el:gre ell:greek
en:eng:english
eo:epo:esperanto
es:spa:spanish,castilian
et:est:estonian
eu:baq eus:basque
fa:per fas:persian,farsi
fi:fin:finnish
fil::filipino
fr:fre fra:french
ga:gle:irish
gl:glg:galician
gu:guj:gujarati
he:heb:hebrew
hi:hin:hindi
hr:hrv:croatian
hu:hun:hungarian
hy:arm hye:armenian
id:ind:indonesian
is:ice isl:icelandic
it:ita:italian
ja:jpn:japanese
ka:geo kat:georgian
kk:kaz:kazakh
km:khm:khmer
kn:kan:kannada
ko:kor:korean
la:lat:latin
lb:ltz:luxembourgish
lo:lao:lao
lt:lit:lithuanian
lv:lav:latvian
mk:mac mkd:macedonian
ml:mal:malayalam
mn:mon:mongolian
mr:mar:marathi
ms:may msa:malay
my:bur mya:burmese
nb:nob:bokmal,bokmål
ne:nep:nepali
nl:dut nld:dutch,flemish
nn:nno:nynorsk
no:nor:norwegian
pa:pan:punjabi
pl:pol:polish
pt:por:portuguese
pt-BR::brazilian
ro:rum ron:romanian
ru:rus:russian
si:sin:sinhala,sinhalese
sk:slo slk:slovak
sl:slv:slovenian,slovene
sq:alb sqi:albanian
sr:srp:serbian
sv:swe:swedish
sw:swa:swahili
ta:tam:tamil
te:tel:telugu
th:tha:thai
tl:tgl:tagalog
tr:tur:turkish
uk:ukr:ukrainian
ur:urd:urdu
uz:uzb:uzbek
vi:vie:vietnamese
zh:chi zho:chinese,mandarin,cantonese
`
