package dlna

import (
	"context"
	"encoding/xml"
	"log/slog"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestFeatureList(t *testing.T) {
	ts := newTestServer(t, &Server{Content: newTestContent(t)})
	r := soap(t, ts.base, "ContentDirectory", "X_GetFeatureList", hdr("User-Agent", samsungUA))
	if r.status != 200 {
		t.Fatalf("status %d\n%s", r.status, r.body)
	}
	var f struct {
		XMLName  xml.Name
		Features []struct {
			Name       string `xml:"name,attr"`
			Containers []struct {
				ID   string `xml:"id,attr"`
				Type string `xml:"type,attr"`
			} `xml:"container"`
		} `xml:"Feature"`
	}
	if err := xml.Unmarshal([]byte(r.out["FeatureList"]), &f); err != nil {
		t.Fatalf("FeatureList is not XML: %v\n%s", err, r.out["FeatureList"])
	}
	if f.XMLName.Local != "Features" || len(f.Features) != 1 || f.Features[0].Name != "samsung.com_BASICVIEW" || len(f.Features[0].Containers) != 3 {
		t.Fatalf("FeatureList %+v", f)
	}
	for _, c := range f.Features[0].Containers {
		if b := browse(t, ts.base, c.ID, "BrowseMetadata", 0, 0, ""); b.status != 200 {
			t.Errorf("container %q of %s cannot be browsed", c.ID, c.Type)
		}
	}
}

// dcmInfo returns the sec:dcmInfo of the object id as the client with
// User-Agent ua sees it.
func dcmInfo(t *testing.T, base, id, ua string) string {
	t.Helper()
	r := browseCall(t, base, hdr("User-Agent", ua), "ObjectID", id, "BrowseFlag", "BrowseMetadata", "Filter", "*")
	if len(r.objects) != 1 {
		t.Fatalf("BrowseMetadata %s: %d %s", id, r.status, r.body)
	}
	return r.objects[0].DcmInfo
}

func TestBookmarks(t *testing.T) {
	state := openStore(t, t.TempDir())
	content := newTestContent(t)
	ts := newTestServer(t, &Server{Content: content, State: state})
	film := "0/Movies/Film%20A.mkv"
	set := func(ua, id, pos string) soapResult {
		return soap(t, ts.base, "ContentDirectory", "X_SetBookmark", hdr("User-Agent", ua),
			"CategoryType", "1", "RID", "0", "ObjectID", id, "PosSecond", pos)
	}
	if got := dcmInfo(t, ts.base, film, samsungOld); got != "" {
		t.Errorf("dcmInfo before any bookmark: %q", got)
	}
	steps := []struct {
		setUA, id, pos string
		old, q         string // dcmInfo as an older Samsung and a Q series see it
	}{
		{samsungOld, film, "754", "CREATIONDATE=0,FOLDER=Movies,BM=754", "CREATIONDATE=0,FOLDER=Movies,BM=754000"},
		{samsungUA, film, "125000", "CREATIONDATE=0,FOLDER=Movies,BM=125", "CREATIONDATE=0,FOLDER=Movies,BM=125000"},
		{samsungOld, film, "12", "", ""}, // under 30 s: starts over
		{samsungOld, "R/Movies/Kids/Cartoon.mp4", "300", "", ""},
	}
	for _, s := range steps {
		if r := set(s.setUA, s.id, s.pos); r.status != 200 {
			t.Fatalf("X_SetBookmark %s %s: %d %d", s.id, s.pos, r.status, r.code)
		}
		if got := dcmInfo(t, ts.base, film, samsungOld); got != s.old {
			t.Errorf("after %s=%s: dcmInfo %q, want %q", s.id, s.pos, got, s.old)
		}
		if got := dcmInfo(t, ts.base, film, samsungUA); got != s.q {
			t.Errorf("after %s=%s, for the Q series: dcmInfo %q, want %q", s.id, s.pos, got, s.q)
		}
	}
	// A bookmark set through "Recently added" is the file's.
	const cartoon = "CREATIONDATE=0,FOLDER=Kids,BM=300"
	for _, id := range []string{"0/Movies/Kids/Cartoon.mp4", "R/Movies/Kids/Cartoon.mp4"} {
		if got := dcmInfo(t, ts.base, id, samsungOld); got != cartoon {
			t.Errorf("%s: dcmInfo %q, want %q", id, got, cartoon)
		}
	}
	for _, tt := range []struct {
		id, pos string
		code    int
	}{
		{film, "soon", 402},
		{film, "-5", 402},
		{"0/Movies/Nope.mkv", "100", 701},
		{"0/Movies/Kids", "100", 402},
		{"", "100", 402},
	} {
		if r := set(samsungOld, tt.id, tt.pos); r.status != 500 || r.code != tt.code {
			t.Errorf("X_SetBookmark(%q, %q): %d %d, want 500 %d", tt.id, tt.pos, r.status, r.code, tt.code)
		}
	}

	// Kept across a restart.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ts.Shutdown(ctx)
	srv2 := &Server{Content: content, State: state, Logger: slog.New(slog.DiscardHandler), Name: "Test Media"}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv2.Serve(l)
	defer srv2.Close()
	if got := dcmInfo(t, "http://"+l.Addr().String(), "0/Movies/Kids/Cartoon.mp4", samsungOld); got != cartoon {
		t.Errorf("after a restart: dcmInfo %q, want %q", got, cartoon)
	}
	if srv2.UDN() != ts.UDN() {
		t.Errorf("UDN changed across a restart: %s, %s", ts.UDN(), srv2.UDN())
	}
}

func TestSubtitlesInDIDL(t *testing.T) {
	ts := newTestServer(t, &Server{Content: newTestContent(t)})
	subURLs := []string{ts.base + "/s/Movies/Film%20A.en.srt", ts.base + "/s/Movies/Film%20A.srt"}
	isSub := func(u string) bool { return u == subURLs[0] || u == subURLs[1] }
	tests := []struct {
		name, ua   string
		title      string
		res        int  // res elements of Film A.mkv
		caption    bool // a sec:CaptionInfoEx
		plainTitle string
		mkv        string
	}{
		{"no quirks", "", "Film A", 1, false, "Episode 2", "video/x-matroska"},
		{"Samsung", samsungUA, "Film A", 3, true, "Episode 2", "video/x-mkv"},
		{"LG", lgUA, "Film A.", 3, false, "Episode 2", "video/x-matroska"},
	}
	for _, tt := range tests {
		for _, how := range []string{"BrowseDirectChildren", "BrowseMetadata", "Search"} {
			var r browseResult
			switch how {
			case "BrowseDirectChildren":
				r = browseCall(t, ts.base, hdr("User-Agent", tt.ua), "ObjectID", "0/Movies", "BrowseFlag", how, "Filter", "*")
			case "BrowseMetadata":
				r = browseCall(t, ts.base, hdr("User-Agent", tt.ua), "ObjectID", "0/Movies/Film%20A.mkv", "BrowseFlag", how, "Filter", "*")
				r2 := browseCall(t, ts.base, hdr("User-Agent", tt.ua), "ObjectID", "0/Movies/Episode%202.mkv", "BrowseFlag", how, "Filter", "*")
				r.objects = append(r.objects, r2.objects...)
			case "Search":
				r = decodeBrowse(t, soap(t, ts.base, "ContentDirectory", "Search", hdr("User-Agent", tt.ua),
					"ContainerID", "0", "SearchCriteria", `upnp:class derivedfrom "object.item.videoItem"`, "Filter", "*"))
			}
			seen := 0
			for _, o := range r.objects {
				switch o.ID {
				case "0/Movies/Film%20A.mkv":
					seen++
					if o.Title != tt.title || len(o.Res) != tt.res || (len(o.CaptionInfo) == 1) != tt.caption {
						t.Errorf("%s, %s: Film A %+v", tt.name, how, o)
					}
					if !strings.Contains(o.Res[0].ProtocolInfo, ":"+tt.mkv+":") {
						t.Errorf("%s, %s: protocolInfo %q", tt.name, how, o.Res[0].ProtocolInfo)
					}
					for _, res := range o.Res[1:] {
						if !isSub(res.URL) || res.ProtocolInfo != "http-get:*:text/srt:*" {
							t.Errorf("%s, %s: subtitle res %+v", tt.name, how, res)
						}
					}
					if tt.caption && (o.CaptionInfo[0].Type != "srt" || !isSub(o.CaptionInfo[0].URL)) {
						t.Errorf("%s, %s: CaptionInfoEx %+v", tt.name, how, o.CaptionInfo)
					}
				case "0/Movies/Episode%202.mkv":
					seen++
					if o.Title != tt.plainTitle || len(o.Res) != 1 || len(o.CaptionInfo) != 0 {
						t.Errorf("%s, %s: a video without subtitles: %+v", tt.name, how, o)
					}
				}
			}
			if seen != 2 {
				t.Errorf("%s, %s: saw %d of the two videos", tt.name, how, seen)
			}
		}
	}
}

// TestSubtitleSources checks where subtitles are found (beside the video,
// in a Subs folder, in its folder named after the video, any name in a
// folder holding one video) and that every subtitle offered exists.
func TestSubtitleSources(t *testing.T) {
	f := newFake(t, true,
		fakeFile{share: "F", path: "Solo/Movie (2020).mkv", size: 10},
		fakeFile{share: "F", path: "Solo/English.srt", size: 10},
		fakeFile{share: "F", path: "Pack/Ep1.mkv", size: 10},
		fakeFile{share: "F", path: "Pack/Ep2.mkv", size: 10},
		fakeFile{share: "F", path: "Pack/Ep3.mkv", size: 10},
		fakeFile{share: "F", path: "Pack/Ep3.sub", size: 10},
		fakeFile{share: "F", path: "Pack/Ep3.idx", size: 10},
		fakeFile{share: "F", path: "Pack/Subs/Ep1.en.srt", size: 10},
		fakeFile{share: "F", path: "Pack/Subs/Ep2/2_English.srt", size: 10},
		fakeFile{share: "F", path: "Pack/Subs/Ep2/3_French.ass", size: 10},
	)
	ts := newTestServer(t, &Server{Content: f})
	want := map[string][]string{
		"0/F/Solo/Movie%20%282020%29.mkv": {"/s/F/Solo/English.srt"},
		"0/F/Pack/Ep1.mkv":                {"/s/F/Pack/Subs/Ep1.en.srt"},
		"0/F/Pack/Ep2.mkv":                {"/s/F/Pack/Subs/Ep2/2_English.srt", "/s/F/Pack/Subs/Ep2/3_French.ass"},
		"0/F/Pack/Ep3.mkv":                nil,
	}
	for id, subs := range want {
		for _, how := range []string{"BrowseMetadata", "BrowseDirectChildren"} {
			oid := id
			if how == "BrowseDirectChildren" {
				oid = pathObject("F", parentRel(mustParse(t, id).rel)).id()
			}
			r := browseCall(t, ts.base, hdr("User-Agent", samsungOld), "ObjectID", oid, "BrowseFlag", how, "Filter", "*")
			i := slices.IndexFunc(r.objects, func(o didlObj) bool { return o.ID == id })
			if i < 0 {
				t.Fatalf("%s of %s: no %s", how, oid, id)
			}
			o := r.objects[i]
			var got []string
			for _, res := range o.Res[1:] {
				got = append(got, strings.TrimPrefix(res.URL, ts.base))
				if resp, _ := get(t, "GET", res.URL, nil); resp.StatusCode != 200 {
					t.Errorf("%s: offered subtitle %s answers %d", id, res.URL, resp.StatusCode)
				}
			}
			if !slices.Equal(got, subs) {
				t.Errorf("%s, %s: subtitles %q, want %q", id, how, got, subs)
			}
			if len(subs) > 0 && (len(o.CaptionInfo) != 1 || o.CaptionInfo[0].URL != ts.base+subs[0]) {
				t.Errorf("%s, %s: CaptionInfoEx %+v", id, how, o.CaptionInfo)
			}
		}
	}
}

func mustParse(t *testing.T, id string) object {
	o, err := parseObjectID(id)
	if err != nil {
		t.Fatal(err)
	}
	return o
}
