package dlna

import (
	"bytes"
	"encoding/xml"
	"flag"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/library/probe"
	"github.com/mediaftpd/mediaftpd/library/thumb"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to make it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestDescriptionGolden(t *testing.T) {
	var hosts []string
	ts := newTestServer(t, &Server{
		Content: newTestContent(t),
		Name:    "Living Room <Media> & \"More\"",
		PresentationURL: func(host string) string {
			hosts = append(hosts, host)
			return "http://status.example:8021/"
		},
	})
	resp, body := get(t, "GET", ts.base+DescriptionPath, nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != `text/xml; charset="utf-8"` {
		t.Fatalf("%d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	golden(t, "description.golden", body)
	if !slices.Equal(hosts, []string{ts.host}) {
		t.Errorf("PresentationURL asked for %q, want %q", hosts, ts.host)
	}
	var d struct {
		Device struct {
			FriendlyName string `xml:"friendlyName"`
			UDN          string
			Presentation string `xml:"presentationURL"`
			Icons        []struct {
				Mime  string `xml:"mimetype"`
				Width int    `xml:"width"`
				URL   string `xml:"url"`
			} `xml:"iconList>icon"`
			Services []struct {
				Type, ID, SCPD, Control, Event string
			} `xml:"serviceList>service"`
		} `xml:"device"`
	}
	if err := xml.Unmarshal(body, &d); err != nil {
		t.Fatal(err)
	}
	if d.Device.FriendlyName != "Living Room <Media> & \"More\"" || d.Device.UDN != ts.UDN() {
		t.Errorf("device %+v", d.Device)
	}
	// Every icon is what it says.
	for _, ic := range d.Device.Icons {
		resp, data := get(t, "GET", ts.base+ic.URL, nil)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != ic.Mime {
			t.Errorf("icon %s: %d %q", ic.URL, resp.StatusCode, resp.Header.Get("Content-Type"))
			continue
		}
		var img image.Image
		var err error
		switch ic.Mime {
		case "image/png":
			img, err = png.Decode(bytes.NewReader(data))
		case "image/jpeg":
			img, err = jpeg.Decode(bytes.NewReader(data))
		}
		if err != nil || img.Bounds().Dx() != ic.Width || img.Bounds().Dy() != ic.Width {
			t.Errorf("icon %s: %v, %v", ic.URL, err, img)
		}
	}
	if len(d.Device.Icons) != 4 {
		t.Errorf("%d icons", len(d.Device.Icons))
	}
	// Without a status page, no presentationURL.
	ts2 := newTestServer(t, &Server{Content: newTestContent(t)})
	if _, body := get(t, "GET", ts2.base+DescriptionPath, nil); bytes.Contains(body, []byte("presentationURL")) {
		t.Error("presentationURL without a status page")
	}
}

func TestSCPDGolden(t *testing.T) {
	ts := newTestServer(t, &Server{Content: newTestContent(t)})
	for _, svc := range ts.services {
		resp, body := get(t, "GET", ts.base+"/scpd/"+svc.name+".xml", nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", svc.name, resp.StatusCode)
		}
		golden(t, svc.name+".scpd.golden", body)
	}
	if resp, _ := get(t, "GET", ts.base+"/scpd/Nope.xml", nil); resp.StatusCode != 404 {
		t.Errorf("unknown SCPD: %d", resp.StatusCode)
	}
}

// TestSCPDsMatchActions holds each SCPD to its service's action table and
// evented state: the same actions with the same arguments in the same
// order, every related state variable declared, and the evented variables
// those the initial event carries.
func TestSCPDsMatchActions(t *testing.T) {
	srv := &Server{Content: newFake(t, false), machineIDFile: "/nonexistent"}
	srv.init()
	for _, svc := range srv.services {
		data, err := scpdFiles.ReadFile("static/" + svc.name + ".xml")
		if err != nil {
			t.Fatal(err)
		}
		var s struct {
			Actions []struct {
				Name string `xml:"name"`
				Args []struct {
					Name      string `xml:"name"`
					Direction string `xml:"direction"`
					Var       string `xml:"relatedStateVariable"`
				} `xml:"argumentList>argument"`
			} `xml:"actionList>action"`
			Vars []struct {
				Events string `xml:"sendEvents,attr"`
				Name   string `xml:"name"`
			} `xml:"serviceStateTable>stateVariable"`
		}
		if err := xml.Unmarshal(data, &s); err != nil {
			t.Fatalf("%s: %v", svc.name, err)
		}
		vars := map[string]bool{}
		var evented []string
		for _, v := range s.Vars {
			vars[v.Name] = true
			if v.Events == "yes" {
				evented = append(evented, v.Name)
			}
		}
		inSCPD := map[string]bool{}
		for _, a := range s.Actions {
			inSCPD[a.Name] = true
			act, ok := svc.actions[a.Name]
			if !ok || act.refused {
				t.Errorf("%s: %s is in the SCPD, not in the table", svc.name, a.Name)
				continue
			}
			var in, out []string
			for _, arg := range a.Args {
				if !vars[arg.Var] {
					t.Errorf("%s.%s: %s relates to undeclared %s", svc.name, a.Name, arg.Name, arg.Var)
				}
				if arg.Direction == "in" {
					in = append(in, arg.Name)
				} else {
					out = append(out, arg.Name)
				}
			}
			if !slices.Equal(in, act.in) || !slices.Equal(out, act.out) {
				t.Errorf("%s.%s: SCPD %v -> %v, table %v -> %v", svc.name, a.Name, in, out, act.in, act.out)
			}
		}
		for name, act := range svc.actions {
			if !act.refused && !inSCPD[name] {
				t.Errorf("%s: %s is in the table, not in the SCPD", svc.name, name)
			}
			if act.refused && inSCPD[name] {
				t.Errorf("%s: refused %s is offered by the SCPD", svc.name, name)
			}
		}
		var state []string
		for _, p := range svc.pub.State() {
			state = append(state, p.Name)
		}
		slices.Sort(state)
		slices.Sort(evented)
		if !slices.Equal(state, evented) {
			t.Errorf("%s: initial event has %v, SCPD evented %v", svc.name, state, evented)
		}
	}
}

// TestDIDLGolden compares the DIDL-Lite of a folder of videos, as
// clients with and without quirks see it, with the golden files: details
// where they are known, no album art (the folder has no pictures).
func TestDIDLGolden(t *testing.T) {
	details := &fakeDetails{m: map[string]probe.Details{
		"Movies/Film A.mkv": {Container: "matroska", Duration: 2*time.Hour + 5*time.Minute + 250*time.Millisecond, Width: 1920, Height: 800,
			VideoCodec: "hevc", AudioCodec: "eac3", Bitrate: 12_345_678, Channels: 6, SampleRate: 48000},
		"Movies/Episode 10.mkv": {Container: "matroska", Duration: 42*time.Minute + 999600*time.Microsecond},
	}}
	ts := newTestServer(t, &Server{Content: newTestContent(t), Details: details, Thumbs: &thumb.Cache{Dir: t.TempDir()}})
	soap(t, ts.base, "ContentDirectory", "X_SetBookmark", hdr("User-Agent", samsungOld), "ObjectID", "0/Movies/Episode%202.mkv", "PosSecond", "1234")
	for _, tt := range []struct {
		file, ua string
	}{
		{"didl-movies.golden", ""},
		{"didl-movies-samsung.golden", samsungUA},
		{"didl-movies-lg.golden", lgUA},
	} {
		r := browseCall(t, ts.base, hdr("User-Agent", tt.ua), "ObjectID", "0/Movies", "BrowseFlag", "BrowseDirectChildren",
			"Filter", "*", "StartingIndex", "0", "RequestedCount", "0", "SortCriteria", "")
		if r.status != 200 {
			t.Fatal(r.body)
		}
		didl := strings.ReplaceAll(r.out["Result"], ts.host, "HOST")
		// One object a line, for readable diffs.
		didl = strings.NewReplacer("<container ", "\n<container ", "<item ", "\n<item ", "</DIDL-Lite>", "\n</DIDL-Lite>\n").Replace(didl)
		golden(t, tt.file, []byte(didl))
	}
}
