package web

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Subtitles for the browser's player. Browsers load only WebVTT into a
// <track>, and films come with SubRip (.srt) and Advanced SubStation
// (.ass, .ssa) files, so GET /subtitles converts them on the fly:
// subtitleToVTT. It takes what players meet in the wild: a byte order
// mark, UTF-16, Windows-1252 text (what most old .srt files are), CRLF
// line ends, missing hours and odd separators in timestamps, numbers
// missing between cues. Styling becomes what WebVTT has: italic, bold and
// underline stay (<i>, <b>, <u>, and ASS's {\i1}, {\b1}, {\u1}); fonts,
// colours, positions and effects are dropped, except that a cue placed at
// the top ({\an8}) stays at the top. ASS drawings are left out. A file
// with no cue that can be read is an error; so is a .vtt file that does
// not start with "WEBVTT". WebVTT files pass through, re-encoded as UTF-8
// with LF line ends.

// Errors of converting subtitles.
var (
	// errSubtitleFormat is returned for a format other than srt, ass, ssa
	// and vtt.
	errSubtitleFormat = errors.New("not a subtitle format the player can load")
	// errNoCues is returned for a file in which no cue can be read.
	errNoCues = errors.New("no subtitle cues found")
	// errNotVTT is returned for a .vtt file without the WEBVTT header.
	errNotVTT = errors.New("not a WebVTT file: it does not start with WEBVTT")
)

// maxSubtitleBytes bounds the size of a subtitle file the page converts.
// An .ass file with embedded fonts can be a few MiB; text alone is rarely
// over 500 kB.
const maxSubtitleBytes = 16 << 20

// cue is one subtitle: its timing in milliseconds, its WebVTT cue
// settings ("" or " line:0") and its text, already WebVTT cue text.
type cue struct {
	start, end int64
	settings   string
	text       string
}

// subtitleToVTT converts the subtitle file data, of the given format
// ("srt", "ass", "ssa" or "vtt", as library.Subtitle.Format), to WebVTT.
func subtitleToVTT(data []byte, format string) ([]byte, error) {
	text := decodeSubtitleText(data)
	var cues []cue
	switch format {
	case "vtt":
		if !isVTTHeader(text) {
			return nil, errNotVTT
		}
		if !strings.HasSuffix(text, "\n") {
			text += "\n"
		}
		return []byte(text), nil
	case "srt":
		cues = parseSRT(text)
	case "ass", "ssa":
		cues = parseASS(text)
	default:
		return nil, fmt.Errorf("%w: %q", errSubtitleFormat, format)
	}
	if len(cues) == 0 {
		return nil, errNoCues
	}
	return writeVTT(cues), nil
}

// isVTTHeader reports whether text starts as a WebVTT file must:
// "WEBVTT" alone on its line or followed by a space or a tab.
func isVTTHeader(text string) bool {
	rest, ok := strings.CutPrefix(text, "WEBVTT")
	return ok && (rest == "" || rest[0] == '\n' || rest[0] == ' ' || rest[0] == '\t')
}

// writeVTT writes cues as a WebVTT file.
func writeVTT(cues []cue) []byte {
	var b strings.Builder
	b.WriteString("WEBVTT\n\n")
	for _, c := range cues {
		b.WriteString(vttTime(c.start))
		b.WriteString(" --> ")
		b.WriteString(vttTime(c.end))
		b.WriteString(c.settings)
		b.WriteByte('\n')
		b.WriteString(c.text)
		b.WriteString("\n\n")
	}
	return []byte(b.String())
}

// vttTime writes milliseconds as a WebVTT timestamp, "01:02:03.456".
func vttTime(ms int64) string {
	h, m, s := ms/3_600_000, ms/60_000%60, ms/1000%60
	return fmt.Sprintf("%02d:%02d:%02d.%03d", h, m, s, ms%1000)
}

// decodeSubtitleText returns data as UTF-8 text with LF line ends: a
// byte order mark says UTF-8 or UTF-16 (and is dropped), text without one
// is UTF-8 when it is valid UTF-8 and Windows-1252 otherwise. NUL
// characters, which WebVTT forbids, become U+FFFD.
func decodeSubtitleText(data []byte) string {
	var s string
	switch {
	case len(data) >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF:
		s = strings.ToValidUTF8(string(data[3:]), "\uFFFD")
	case len(data) >= 2 && (data[0] == 0xFF && data[1] == 0xFE || data[0] == 0xFE && data[1] == 0xFF):
		le := data[0] == 0xFF
		u := make([]uint16, 0, len(data)/2)
		for i := 2; i+1 < len(data); i += 2 {
			if le {
				u = append(u, uint16(data[i])|uint16(data[i+1])<<8)
			} else {
				u = append(u, uint16(data[i])<<8|uint16(data[i+1]))
			}
		}
		s = string(utf16.Decode(u))
	case utf8.Valid(data):
		s = string(data)
	default:
		var b strings.Builder
		b.Grow(len(data) + len(data)/8)
		for _, c := range data {
			switch {
			case c < 0x80:
				b.WriteByte(c)
			case c < 0xA0:
				b.WriteRune(cp1252[c-0x80])
			default:
				b.WriteRune(rune(c)) // Latin-1
			}
		}
		s = b.String()
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.ReplaceAll(s, "\x00", "\uFFFD")
}

// cp1252 maps the bytes 0x80 to 0x9F of Windows-1252 to their characters;
// the five bytes it leaves undefined map to the C1 controls of Latin-1.
var cp1252 = [32]rune{
	'€', '\u0081', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u008D', 'Ž', '\u008F',
	'\u0090', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u009D', 'ž', 'Ÿ',
}

// parseSRT reads the cues of a SubRip file. A cue is an optional number
// line, a timing line ("00:01:02,345 --> 00:01:04,000", maybe followed by
// coordinates) and text lines up to a blank line, or up to the next cue's
// number and timing when the blank line is missing. What is not a cue is
// skipped. The cues are returned in the order of their start times.
func parseSRT(text string) []cue {
	lines := strings.Split(text, "\n")
	var cues []cue
	for i := 0; i < len(lines); i++ {
		start, end, ok := srtTiming(lines[i])
		if !ok {
			continue
		}
		var body []string
		var settings string
		for i+1 < len(lines) && strings.TrimSpace(lines[i+1]) != "" {
			if _, _, next := srtTiming(lines[i+1]); next {
				break
			}
			if i+2 < len(lines) && isNumber(lines[i+1]) {
				if _, _, next := srtTiming(lines[i+2]); next {
					break
				}
			}
			i++
			line, set := srtText(lines[i])
			if set != "" {
				settings = set
			}
			if line = strings.TrimSpace(line); line != "" && !onlyTags(line) {
				body = append(body, line)
			}
		}
		if len(body) > 0 && end > start {
			cues = append(cues, cue{start: start, end: end, settings: settings, text: strings.Join(body, "\n")})
		}
	}
	slices.SortStableFunc(cues, func(a, b cue) int { return cmp.Compare(a.start, b.start) })
	return cues
}

func isNumber(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// srtTiming reads a SubRip timing line: two timestamps around "-->".
func srtTiming(line string) (start, end int64, ok bool) {
	a, b, found := strings.Cut(line, "-->")
	if !found {
		return 0, 0, false
	}
	fields := strings.Fields(b)
	if len(fields) == 0 {
		return 0, 0, false
	}
	start, ok1 := parseClock(strings.TrimSpace(a))
	end, ok2 := parseClock(fields[0])
	return start, end, ok1 && ok2
}

// parseClock reads a timestamp into milliseconds: "[H:]MM:SS" with a
// fraction after a comma, a dot or (rarely) a colon: "00:01:02,345",
// "1:02.5", "0:00:01.20" (ASS's centiseconds), "00:00:01:500". Hours may
// have up to six digits; minutes and seconds one or two.
func parseClock(s string) (int64, bool) {
	frac, hasFrac := "", false
	if i := strings.LastIndexAny(s, ",."); i >= 0 {
		s, frac, hasFrac = s[:i], s[i+1:], true
	}
	parts := strings.Split(s, ":")
	if !hasFrac && len(parts) == 4 {
		parts, frac, hasFrac = parts[:3], parts[3], true
	}
	if len(parts) < 2 || len(parts) > 3 {
		return 0, false
	}
	var ms int64
	for i, p := range parts {
		limit := 2
		if i == 0 && len(parts) == 3 {
			limit = 6
		}
		n, ok := digits(p, limit)
		if !ok {
			return 0, false
		}
		ms = ms*60 + n
	}
	ms *= 1000
	if hasFrac {
		f, ok := digits(frac, 9)
		if !ok {
			return 0, false
		}
		for range len(frac) - 3 {
			f /= 10
		}
		for range 3 - len(frac) {
			f *= 10
		}
		ms += f
	}
	return ms, true
}

// digits reads 1 to max decimal digits.
func digits(s string, max int) (int64, bool) {
	if s == "" || len(s) > max {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int64(s[i]-'0')
	}
	return n, true
}

// srtText turns one line of SubRip text into WebVTT cue text: <i>, <b>
// and <u> stay, other tags (<font ...>) go, ASS override blocks ("{\an8}")
// go but a placement at the top becomes the cue setting returned, and
// "&", "<" and ">" are escaped.
func srtText(line string) (text, settings string) {
	var b strings.Builder
	gt, brace := nextByte{s: line, c: '>', at: -1}, nextByte{s: line, c: '}', at: -1}
	for i := 0; i < len(line); {
		switch line[i] {
		case '<':
			end := gt.from(i)
			if end < 0 || !isTagStart(line[i+1:]) {
				b.WriteString("&lt;")
				i++
				continue
			}
			if tag := styleTag(line[i+1 : end]); tag != "" {
				b.WriteString(tag)
			}
			i = end + 1
		case '{':
			end := brace.from(i)
			if end < 0 || !strings.HasPrefix(line[i:], `{\`) {
				b.WriteByte('{')
				i++
				continue
			}
			for o := range strings.SplitSeq(line[i+2:end], `\`) {
				if set := alignSetting(o); set != "" {
					settings = set
				}
			}
			i = end + 1
		default:
			end := strings.IndexAny(line[i:], "<{")
			if end < 0 {
				end = len(line) - i
			}
			writeEscaped(&b, line[i:i+end])
			i += end
		}
	}
	return b.String(), settings
}

// nextByte finds the next c in s at or after a position, remembering
// where it is, so that a line of many "<" and no ">" costs its length and
// not its length squared.
type nextByte struct {
	s  string
	c  byte
	at int // the position found last; len(s) for none; -1 before the first search
}

// from returns the position of the first c at or after i, or -1.
func (n *nextByte) from(i int) int {
	if n.at < i {
		if j := strings.IndexByte(n.s[i:], n.c); j >= 0 {
			n.at = i + j
		} else {
			n.at = len(n.s)
		}
	}
	if n.at >= len(n.s) {
		return -1
	}
	return n.at
}

// isTagStart reports whether what follows a "<" starts a tag: a letter or
// a slash, as in HTML.
func isTagStart(s string) bool {
	return s != "" && (s[0] == '/' || s[0]|0x20 >= 'a' && s[0]|0x20 <= 'z')
}

// styleTag returns the WebVTT tag for the inside of an HTML-like tag of a
// SubRip file ("i", "/B", "u "), or "" for one WebVTT has not.
func styleTag(inner string) string {
	inner = strings.ToLower(strings.TrimSpace(inner))
	closing := strings.HasPrefix(inner, "/")
	name := strings.TrimSpace(strings.TrimPrefix(inner, "/"))
	switch name {
	case "i", "b", "u":
		if closing {
			return "</" + name + ">"
		}
		return "<" + name + ">"
	}
	return ""
}

// alignSetting returns the cue setting for an ASS alignment override
// ("an8", or SSA's "a6"): " line:0" for the top, " line:50%" for the
// middle, "" for the bottom or anything else.
func alignSetting(o string) string {
	var n int64
	var ok bool
	switch {
	case strings.HasPrefix(o, "an"):
		n, ok = digits(o[2:], 1)
		if !ok {
			return ""
		}
	case strings.HasPrefix(o, "a"):
		// SSA: 1-3 bottom, 5-7 top, 9-11 middle.
		if n, ok = digits(o[1:], 2); !ok {
			return ""
		}
		switch {
		case n >= 5 && n <= 7:
			n = 8
		case n >= 9 && n <= 11:
			n = 5
		default:
			n = 2
		}
	default:
		return ""
	}
	switch {
	case n >= 7 && n <= 9:
		return " line:0"
	case n >= 4 && n <= 6:
		return " line:50%"
	}
	return ""
}

// writeEscaped writes s escaped for WebVTT cue text: a character
// reference that WebVTT knows ("&amp;", "&#233;") is kept, any other "&"
// is escaped, and so are "<" and ">" (so "-->" cannot end a cue early).
func writeEscaped(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			if n := charRef(s[i:]); n > 0 {
				b.WriteString(s[i : i+n])
				i += n - 1
				continue
			}
			b.WriteString("&amp;")
		default:
			b.WriteByte(c)
		}
	}
}

// charRef returns the length of the character reference s starts with,
// or 0: the named ones WebVTT parsers know, and numeric ones of a
// character WebVTT allows.
func charRef(s string) int {
	end := strings.IndexByte(s[:min(len(s), 12)], ';')
	if end < 2 || end > 10 {
		return 0
	}
	ref := s[1:end]
	switch ref {
	case "amp", "lt", "gt", "nbsp", "lrm", "rlm", "quot", "apos":
		return end + 1
	}
	if !strings.HasPrefix(ref, "#") {
		return 0
	}
	base, num := 10, ref[1:]
	if strings.HasPrefix(num, "x") || strings.HasPrefix(num, "X") {
		base, num = 16, num[1:]
	}
	n, err := strconv.ParseUint(num, base, 32)
	if err != nil || n == 0 || n > utf8.MaxRune || n >= 0xD800 && n <= 0xDFFF {
		return 0
	}
	return end + 1
}

// assFields is the Format of an [Events] section that has none (both ASS's
// and SSA's have ten fields, the text last).
var assFields = []string{"layer", "start", "end", "style", "name", "marginl", "marginr", "marginv", "effect", "text"}

// parseASS reads the Dialogue lines of the [Events] section of an ASS or
// SSA file, in the order of their start times; the same text at the same
// times on several layers (a shadow effect) is one cue.
func parseASS(text string) []cue {
	var cues []cue
	seen := make(map[cue]bool)
	section := ""
	fields := assFields
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = strings.ToLower(line)
			continue
		}
		if section != "[events]" {
			continue
		}
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(key)) {
		case "format":
			var f []string
			for name := range strings.SplitSeq(value, ",") {
				f = append(f, strings.ToLower(strings.TrimSpace(name)))
			}
			if slices.Contains(f, "start") && slices.Contains(f, "end") && f[len(f)-1] == "text" {
				fields = f
			}
		case "dialogue":
			vals := strings.SplitN(value, ",", len(fields))
			if len(vals) != len(fields) {
				continue
			}
			start, ok1 := parseClock(strings.TrimSpace(vals[slices.Index(fields, "start")]))
			end, ok2 := parseClock(strings.TrimSpace(vals[slices.Index(fields, "end")]))
			if !ok1 || !ok2 || end <= start {
				continue
			}
			body, settings := assText(vals[len(vals)-1])
			c := cue{start: start, end: end, settings: settings, text: body}
			if body == "" || seen[c] {
				continue
			}
			seen[c] = true
			cues = append(cues, c)
		}
	}
	slices.SortStableFunc(cues, func(a, b cue) int { return cmp.Compare(a.start, b.start) })
	return cues
}

// assText turns the text of an ASS Dialogue line into WebVTT cue text:
// "\N" is a line break, "\n" a space (as ASS wraps by default), "\h" a
// no-break space; override blocks set italic, bold and underline ({\i1},
// {\b1}, {\b700}, {\u1}, and {\r} to reset) and a placement at the top,
// and hide drawings ({\p1} to {\p0}); everything else in them is dropped.
func assText(s string) (text, settings string) {
	var b strings.Builder
	open := map[string]bool{}
	drawing := false
	set := func(tag string, on bool) {
		if open[tag] == on {
			return
		}
		open[tag] = on
		if on {
			b.WriteString("<" + tag + ">")
		} else {
			b.WriteString("</" + tag + ">")
		}
	}
	brace := nextByte{s: s, c: '}', at: -1}
	for i := 0; i < len(s); {
		rest := s[i:]
		switch {
		case rest[0] == '{':
			end := brace.from(i)
			if end < 0 {
				if !drawing {
					b.WriteString("{")
				}
				i++
				continue
			}
			for o := range strings.SplitSeq(s[i+1:end], `\`) {
				o = strings.TrimSpace(o)
				if len(o) == 0 {
					continue
				}
				if a := alignSetting(o); a != "" || strings.HasPrefix(o, "an") {
					settings = a
				}
				name, arg := o[:1], o[1:]
				n, isNum := digits(arg, 4)
				switch {
				case name == "r":
					set("u", false)
					set("b", false)
					set("i", false)
				case name == "p" && isNum:
					drawing = n > 0
				case (name == "i" || name == "u") && (isNum || arg == ""):
					set(name, isNum && n == 1)
				case name == "b" && (isNum || arg == ""):
					set("b", isNum && (n == 1 || n >= 500))
				}
			}
			i = end + 1
		case strings.HasPrefix(rest, `\N`):
			if !drawing {
				b.WriteByte('\n')
			}
			i += 2
		case strings.HasPrefix(rest, `\n`):
			if !drawing {
				b.WriteByte(' ')
			}
			i += 2
		case strings.HasPrefix(rest, `\h`):
			if !drawing {
				b.WriteString("\u00A0")
			}
			i += 2
		case drawing:
			i++
		default:
			end := strings.IndexAny(rest[1:], `{\`) + 1 // a lone backslash is text
			if end == 0 {
				end = len(rest)
			}
			writeEscaped(&b, rest[:end])
			i += end
		}
	}
	set("u", false)
	set("b", false)
	set("i", false)
	var lines []string
	for line := range strings.SplitSeq(b.String(), "\n") {
		if line = strings.TrimSpace(line); line != "" && !onlyTags(line) {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines, "\n"), settings
}

// onlyTags reports whether a line of cue text holds nothing but tags.
func onlyTags(line string) bool {
	for len(line) > 0 {
		if line[0] != '<' {
			return strings.TrimSpace(line) == ""
		}
		end := strings.IndexByte(line, '>')
		if end < 0 {
			return false
		}
		line = strings.TrimSpace(line[end+1:])
	}
	return true
}
