package web

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSubtitleToVTT(t *testing.T) {
	tests := []struct {
		name, format, in, want string
		err                    error
	}{
		{
			name:   "srt",
			format: "srt",
			in:     "1\n00:00:01,000 --> 00:00:04,500\nHello, world.\nSecond line\n\n2\n00:01:02,345 --> 00:01:05,000\nBye.\n",
			want:   "WEBVTT\n\n00:00:01.000 --> 00:00:04.500\nHello, world.\nSecond line\n\n00:01:02.345 --> 00:01:05.000\nBye.\n\n",
		},
		{
			name:   "srt with BOM and CRLF",
			format: "srt",
			in:     "\uFEFF1\r\n00:00:01,000 --> 00:00:02,000\r\nCafé\r\n\r\n",
			want:   "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nCafé\n\n",
		},
		{
			name:   "srt with CR only",
			format: "srt",
			in:     "1\r00:00:01,000 --> 00:00:02,000\rOld Mac\r\r",
			want:   "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nOld Mac\n\n",
		},
		{
			name:   "srt in Windows-1252",
			format: "srt",
			in:     "1\n00:00:01,000 --> 00:00:02,000\n\x93Caf\xe9\x94 \x96 50\x80\n",
			want:   "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n“Café” – 50€\n\n",
		},
		{
			name:   "srt in UTF-16LE",
			format: "srt",
			in:     utf16le("\uFEFF1\r\n00:00:01,000 --> 00:00:02,000\r\nÜber\r\n"),
			want:   "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nÜber\n\n",
		},
		{
			name:   "srt in UTF-16BE",
			format: "srt",
			in:     utf16be("\uFEFF1\n00:00:01,000 --> 00:00:02,000\nÜber\n"),
			want:   "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nÜber\n\n",
		},
		{
			name:   "srt styling",
			format: "srt",
			in:     "1\n00:00:01,000 --> 00:00:02,000\n<i>Italic</i> <B>bold</B> <u>u</u> <font color=\"#ff0000\">red</font>\n<b >x</b > <span>y</span>\n",
			want:   "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<i>Italic</i> <b>bold</b> <u>u</u> red\n<b>x</b> y\n\n",
		},
		{
			name:   "srt escapes",
			format: "srt",
			in:     "1\n00:00:01,000 --> 00:00:02,000\nTom & Jerry &amp; co &#233; &bogus; a < b > c --> d\n",
			want:   "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nTom &amp; Jerry &amp; co &#233; &amp;bogus; a &lt; b &gt; c --&gt; d\n\n",
		},
		{
			name:   "srt with ASS overrides",
			format: "srt",
			in:     "1\n00:00:01,000 --> 00:00:02,000\n{\\an8}On top {braces}\n",
			want:   "WEBVTT\n\n00:00:01.000 --> 00:00:02.000 line:0\nOn top {braces}\n\n",
		},
		{
			name:   "srt timestamps: dots, no hours, short fractions, coordinates, no spaces",
			format: "srt",
			in: "1\n00:00:01.5 --> 00:00:02.25 X1:100 X2:200 Y1:1 Y2:2\na\n\n" +
				"2\n01:02,000-->01:03,000\nb\n\n" +
				"3\n00:00:10:500 --> 00:00:11:000\nc\n\n" +
				"4\n100:00:00,000 --> 100:00:01,000\nd\n",
			want: "WEBVTT\n\n00:00:01.500 --> 00:00:02.250\na\n\n" +
				"00:00:10.500 --> 00:00:11.000\nc\n\n" +
				"00:01:02.000 --> 00:01:03.000\nb\n\n" +
				"100:00:00.000 --> 100:00:01.000\nd\n\n",
		},
		{
			name:   "srt without blank lines between cues",
			format: "srt",
			in:     "1\n00:00:01,000 --> 00:00:02,000\nfirst\n2\n00:00:03,000 --> 00:00:04,000\nsecond\n00:00:05,000 --> 00:00:06,000\nthird\n",
			want:   "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nfirst\n\n00:00:03.000 --> 00:00:04.000\nsecond\n\n00:00:05.000 --> 00:00:06.000\nthird\n\n",
		},
		{
			name:   "srt: empty, reversed and broken cues skipped",
			format: "srt",
			in:     "1\n00:00:01,000 --> 00:00:02,000\n\n2\n00:00:05,000 --> 00:00:04,000\nbackwards\n\n3\n00:0x:01,000 --> 00:00:02,000\nbroken\n\n4\n00:00:07,000 --> 00:00:08,000\n<i></i>\n\n5\n00:00:09,000 --> 00:00:10,000\nok\n",
			want:   "WEBVTT\n\n00:00:09.000 --> 00:00:10.000\nok\n\n",
		},
		{
			name:   "srt NUL",
			format: "srt",
			in:     "1\n00:00:01,000 --> 00:00:02,000\na\x00b\n",
			want:   "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\na\uFFFDb\n\n",
		},
		{name: "srt without cues", format: "srt", in: "just some text\n\nand more", err: errNoCues},
		{name: "empty srt", format: "srt", in: "", err: errNoCues},
		{name: "binary", format: "srt", in: "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", err: errNoCues},
		{
			name:   "ass",
			format: "ass",
			in: "[Script Info]\nTitle: x\nScriptType: v4.00+\n\n[V4+ Styles]\nFormat: Name, Fontname\nStyle: Default,Arial\n\n" +
				"[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n" +
				"Dialogue: 0,0:00:05.00,0:00:07.50,Default,,0,0,0,,Later, with a comma\n" +
				"Comment: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,not shown\n" +
				"Dialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,{\\i1}Hello{\\i0}\\Nworld\\nagain\\hx\n" +
				"Dialogue: 1,0:00:01.00,0:00:02.00,Default,,0,0,0,,{\\i1}Hello{\\i0}\\Nworld\\nagain\\hx\n" +
				"Dialogue: 0,0:00:03.00,0:00:04.00,Sign,,0,0,0,,{\\an8\\b1\\fs20\\c&H00FF00&}Top{\\b0} & <tag>\n" +
				"Dialogue: 0,0:00:04.00,0:00:05.00,Sign,,0,0,0,,{\\p1}m 0 0 l 100 0 100 100 0 100{\\p0}\n" +
				"Dialogue: 0,0:00:06.00,0:00:06.50,Default,,0,0,0,,{\\b700}Bold{\\r} plain {\\bord2\\blur1\\iclip(1,2,3,4)}x {comment} \\q\n",
			want: "WEBVTT\n\n" +
				"00:00:01.000 --> 00:00:02.000\n<i>Hello</i>\nworld again\u00A0x\n\n" +
				"00:00:03.000 --> 00:00:04.000 line:0\n<b>Top</b> &amp; &lt;tag&gt;\n\n" +
				"00:00:05.000 --> 00:00:07.500\nLater, with a comma\n\n" +
				"00:00:06.000 --> 00:00:06.500\n<b>Bold</b> plain x  \\q\n\n",
		},
		{
			name:   "ssa without a Format line, SSA alignment",
			format: "ssa",
			in:     "[Script Info]\nScriptType: v4.00\n[Events]\nDialogue: Marked=0,0:00:01.00,0:00:02.00,Default,,0000,0000,0000,,{\\a6}Top\n",
			want:   "WEBVTT\n\n00:00:01.000 --> 00:00:02.000 line:0\nTop\n\n",
		},
		{
			name:   "ass with another field order",
			format: "ass",
			in:     "[Events]\nFormat: Start, End, Text\nDialogue: 0:00:01.00,0:00:02.00,one, two\n",
			want:   "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\none, two\n\n",
		},
		{name: "ass without events", format: "ass", in: "[Script Info]\nTitle: nothing\n", err: errNoCues},
		{name: "ass with only drawings", format: "ass", in: "[Events]\nDialogue: 0,0:00:01.00,0:00:02.00,D,,0,0,0,,{\\p1}m 0 0 l 1 1\n", err: errNoCues},
		{
			name:   "vtt passes through",
			format: "vtt",
			in:     "\uFEFFWEBVTT - a title\r\n\r\n00:01.000 --> 00:02.000 align:start\r\n<v Joe>Hi\r\n",
			want:   "WEBVTT - a title\n\n00:01.000 --> 00:02.000 align:start\n<v Joe>Hi\n",
		},
		{name: "vtt header alone", format: "vtt", in: "WEBVTT", want: "WEBVTT\n"},
		{name: "vtt without header", format: "vtt", in: "1\n00:00:01,000 --> 00:00:02,000\nx\n", err: errNotVTT},
		{name: "vtt with a wrong header", format: "vtt", in: "WEBVTTX\n", err: errNotVTT},
		{name: "unknown format", format: "sub", in: "{1}{25}Hello", err: errSubtitleFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := subtitleToVTT([]byte(tt.in), tt.format)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("error %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
			if tt.format != "vtt" {
				if err := checkVTT(got); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func TestParseClock(t *testing.T) {
	tests := []struct {
		in string
		ms int64
		ok bool
	}{
		{"00:00:01,000", 1000, true},
		{"00:00:01.000", 1000, true},
		{"1:02:03.04", 3723040, true},
		{"02:03,5", 123500, true},
		{"00:00:00,123456", 123, true},
		{"00:00:01:250", 1250, true},
		{"00:00:01", 1000, true},
		{"999999:00:00,000", 999999 * 3600000, true},
		{"1000000:00:00,000", 0, false},
		{"00:000:01,000", 0, false},
		{"00:00:01,", 0, false},
		{"00:00:01,1234567890", 0, false},
		{"-1:00:00,000", 0, false},
		{"1", 0, false},
		{"", 0, false},
		{"1:2:3:4:5", 0, false},
		{"a:b:c", 0, false},
	}
	for _, tt := range tests {
		ms, ok := parseClock(tt.in)
		if ms != tt.ms || ok != tt.ok {
			t.Errorf("parseClock(%q) = %d, %v; want %d, %v", tt.in, ms, ok, tt.ms, tt.ok)
		}
	}
}

// FuzzSubtitleToVTT feeds arbitrary files to the converter: it must not
// panic, and what it returns without an error must be WebVTT that a
// browser reads as the cues it holds.
func FuzzSubtitleToVTT(f *testing.F) {
	f.Add([]byte("1\n00:00:01,000 --> 00:00:02,000\n<i>x</i>\n"), uint8(0))
	f.Add([]byte("[Events]\nDialogue: 0,0:00:01.00,0:00:02.00,D,,0,0,0,,{\\i1}x\\Ny\n"), uint8(1))
	f.Add([]byte("WEBVTT\n\n00:01.000 --> 00:02.000\nx\n"), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		format := []string{"srt", "ass", "ssa", "vtt", "sub"}[int(which)%5]
		out, err := subtitleToVTT(data, format)
		if err != nil {
			if out != nil {
				t.Fatalf("output with an error: %v", err)
			}
			return
		}
		if !utf8.Valid(out) || strings.ContainsAny(string(out), "\r\x00") {
			t.Fatalf("output is not UTF-8 with LF line ends and no NUL: %q", out)
		}
		if format == "vtt" {
			if !isVTTHeader(string(out)) {
				t.Fatalf("vtt output without its header: %q", out)
			}
			return
		}
		if err := checkVTT(out); err != nil {
			t.Fatal(err)
		}
	})
}

// vttTiming is a cue timing line as writeVTT makes them.
var vttTiming = regexp.MustCompile(`^(\d{2,}):([0-5]\d):([0-5]\d)\.(\d{3}) --> (\d{2,}):([0-5]\d):([0-5]\d)\.(\d{3})( line:(0|50%))?$`)

// checkVTT checks that out is a WebVTT file of cues as writeVTT writes
// them: a header, then blocks of a timing line and non-empty text lines
// without "-->", each cue ending after it starts, in order of start.
func checkVTT(out []byte) error {
	s, ok := strings.CutPrefix(string(out), "WEBVTT\n\n")
	if !ok {
		return errors.New("no WEBVTT header: " + string(out))
	}
	if s == "" {
		return errors.New("no cues")
	}
	if !strings.HasSuffix(s, "\n\n") {
		return errors.New("the last cue is not ended by a blank line")
	}
	last := ""
	for block := range strings.SplitSeq(strings.TrimSuffix(s, "\n\n"), "\n\n") {
		lines := strings.Split(block, "\n")
		m := vttTiming.FindStringSubmatch(lines[0])
		if m == nil {
			return errors.New("bad timing line: " + lines[0])
		}
		start, end := strings.Join(m[1:5], ":"), strings.Join(m[5:9], ":")
		if len(m[1]) == len(m[5]) && start >= end || len(m[1]) > len(m[5]) {
			return errors.New("a cue ends before it starts: " + lines[0])
		}
		if last != "" && len(start) == len(last) && start < last {
			return errors.New("cues out of order: " + lines[0])
		}
		last = start
		if len(lines) < 2 {
			return errors.New("a cue without text: " + block)
		}
		for _, l := range lines[1:] {
			if strings.TrimSpace(l) == "" || strings.Contains(l, "-->") {
				return errors.New("bad cue text line: " + l)
			}
		}
	}
	return nil
}

func utf16le(s string) string {
	var b []byte
	for _, r := range s {
		if r > 0xFFFF {
			panic("test text in the BMP only")
		}
		b = append(b, byte(r), byte(r>>8))
	}
	return string(b)
}

func utf16be(s string) string {
	var b []byte
	for _, r := range s {
		b = append(b, byte(r>>8), byte(r))
	}
	return string(b)
}
