package dlna

import (
	"bytes"
	"encoding/xml"
	"testing"
	"unicode/utf8"
)

func TestEscapeXML(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{`A&B <c> "d" 'e'`, "A&amp;B &lt;c&gt; &quot;d&quot; &apos;e&apos;"},
		{"tab\tnl\ncr\r", "tab&#x9;nl&#xA;cr&#xD;"},
		{"bell\x07del\x7f", "bell\uFFFDdel\uFFFD"},
		{"caf\xe9", "caf\uFFFD"},
		{"日本語", "日本語"},
		{"\uFFFE\uFFFF", "\uFFFD\uFFFD"},
		{"\u0085", "\uFFFD"},                   // a C1 control
		{"\xed\xa0\x80", "\uFFFD\uFFFD\uFFFD"}, // an encoded surrogate is invalid UTF-8
	}
	for _, tt := range tests {
		if got := xmlString(tt.in); got != tt.want {
			t.Errorf("xmlString(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if n := escapedLen(tt.in); n != len(tt.want) {
			t.Errorf("escapedLen(%q) = %d, want %d", tt.in, n, len(tt.want))
		}
	}
}

// FuzzEscapeXML checks that any string, escaped, is well-formed XML text
// and attribute value, and that valid text comes back as it was.
func FuzzEscapeXML(f *testing.F) {
	for _, s := range []string{"a&b", "caf\xe9", "<\"'>", "\x00\x1f\t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var b bytes.Buffer
		b.WriteString(`<a v="`)
		escapeXML(&b, s)
		b.WriteString(`">`)
		escapeXML(&b, s)
		b.WriteString(`</a>`)
		var v struct {
			V    string `xml:"v,attr"`
			Text string `xml:",chardata"`
		}
		if err := xml.Unmarshal(b.Bytes(), &v); err != nil {
			t.Fatalf("escaped %q is not XML: %v\n%s", s, err, b.Bytes())
		}
		if v.V != v.Text {
			t.Fatalf("attribute %q and text %q differ", v.V, v.Text)
		}
		if n, want := escapedLen(s), len(xmlString(s)); n != want {
			t.Fatalf("escapedLen(%q) = %d, escaped it is %d bytes", s, n, want)
		}
		if twice, want := string(appendEscapedTwice(nil, s)), xmlString(xmlString(s)); twice != want {
			t.Fatalf("appendEscapedTwice(%q) = %q; escaped twice it is %q", s, twice, want)
		}
		if utf8.ValidString(s) && cleanText(s) == s && v.Text != s {
			t.Fatalf("%q came back as %q", s, v.Text)
		}
	})
}
