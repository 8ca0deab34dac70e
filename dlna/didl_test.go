package dlna

import (
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/dlna/quirks"
	"github.com/mediaftpd/mediaftpd/library"
	"github.com/mediaftpd/mediaftpd/library/probe"
)

// TestDIDLWritten checks a written item as the Result carries it: XML
// text that decodes to DIDL-Lite, with quotes left unescaped in the
// markup, IDs and URLs written as they are after a base URL with
// characters XML escapes, and values with them escaped twice.
func TestDIDLWritten(t *testing.T) {
	name := `Tom & Jerry's "Best".mkv`
	l := listedPath(pathObject("TV", "Kids/"+name), library.Entry{Name: name, Size: 42, ModTime: time.Date(2024, 5, 1, 12, 30, 0, 0, time.UTC)})
	l.art = artSource{kind: artSelf}
	l.subs = []library.Subtitle{{Path: "Kids/Tom & Jerry's \"Best\".en.srt", Lang: "en", Format: "srt"}}
	l.details, l.hasDetails = probe.Details{Duration: 90 * time.Second, Width: 640, Height: 480}, true
	d := &didlWriter{filter: parseFilter("*"), quirks: quirks.SubtitleRes | quirks.CaptionInfoEx, loc: time.UTC,
		urls: newURLBases("http://a&b'c:8200")}
	d.begin()
	(&Server{}).writeObjects(d, []listed{l})
	result := d.escaped()
	if !strings.Contains(result, `&lt;item id="0/TV/Kids/`) {
		t.Errorf("markup quotes escaped:\n%s", result)
	}

	var text struct {
		V string `xml:",chardata"`
	}
	if err := xml.Unmarshal([]byte("<r>"+result+"</r>"), &text); err != nil {
		t.Fatalf("Result is not XML text: %v\n%s", err, result)
	}
	objs := parseDIDL(t, text.V)
	if len(objs) != 1 {
		t.Fatalf("%d objects:\n%s", len(objs), text.V)
	}
	o := objs[0]
	const path = "TV/Kids/Tom%20%26%20Jerry%27s%20%22Best%22"
	if o.ID != "0/"+path+".mkv" || o.ParentID != "0/TV/Kids" || o.Title != `Tom & Jerry's "Best"` {
		t.Errorf("id %q, parentID %q, title %q", o.ID, o.ParentID, o.Title)
	}
	wantRes := []string{
		"http://a&b'c:8200/m/" + path + ".mkv",
		"http://a&b'c:8200/t/" + path + ".mkv.jpg",
		"http://a&b'c:8200/s/" + path + ".en.srt",
	}
	if len(o.Res) != len(wantRes) {
		t.Fatalf("res %+v", o.Res)
	}
	for i, r := range o.Res {
		if r.URL != wantRes[i] {
			t.Errorf("res %d: %q, want %q", i, r.URL, wantRes[i])
		}
	}
	if o.Res[0].Duration != "0:01:30.000" || o.Res[0].Resolution != "640x480" {
		t.Errorf("res details %+v", o.Res[0])
	}
	if len(o.AlbumArt) != 1 || o.AlbumArt[0].URL != wantRes[1] || o.AlbumArt[0].ProfileID != "JPEG_TN" {
		t.Errorf("album art %+v", o.AlbumArt)
	}
	if len(o.CaptionInfo) != 1 || o.CaptionInfo[0].URL != wantRes[2] {
		t.Errorf("caption %+v", o.CaptionInfo)
	}
}

// TestAppendDate checks dc:date against the layout it stands for.
func TestAppendDate(t *testing.T) {
	d := &didlWriter{loc: time.FixedZone("X", 3600)}
	for _, tm := range []time.Time{
		time.Date(2024, 5, 1, 2, 3, 4, 5, time.UTC),
		time.Date(99, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC),
		{},
	} {
		if got, want := string(d.appendDate(nil, tm)), tm.In(d.loc).Format(didlDate); got != want {
			t.Errorf("%v: %q, want %q", tm, got, want)
		}
	}
}
