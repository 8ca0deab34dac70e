package dlna

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/library"
)

const (
	samsungUA  = "DLNADOC/1.50 SEC_HHP_[TV] Samsung Q7 Series (55)/1.0" // a Q series: BookmarkMillis
	samsungOld = "DLNADOC/1.50 SEC_HHP_[TV]UE40D7000/1.0"               // seconds
	lgUA       = "Linux/3.0.13 UPnP/1.0 LGE_DLNA_SDK/1.6.0 [TV][LG]32LB5800-ZM/04.04.06 DLNADOC/1.50"
)

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

// testFiles is the tree most tests browse.
var testFiles = []fakeFile{
	{share: "Movies", path: "Film A.mkv", size: 3000},
	{share: "Movies", path: "Film A.srt", size: 40},
	{share: "Movies", path: "Film A.en.srt", size: 41},
	{share: "Movies", path: "Episode 10.mkv", size: 100},
	{share: "Movies", path: "Episode 2.mkv", size: 100},
	{share: "Movies", path: "A&B <c> \"q\" 'x'.mkv", size: 100},
	{share: "Movies", path: "caf\xe9.avi", size: 100, mod: time.Date(2020, 2, 3, 4, 5, 6, 0, time.UTC)},
	{share: "Movies", path: "Kids/Cartoon.mp4", size: 100},
	{share: "Movies", path: "Kids/Empty/"},
	{share: "Music", path: "Song 1.mp3", size: 10, mod: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)},
	{share: "Music", path: "Song 10.mp3", size: 10, mod: time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)},
	{share: "Music", path: "Song 2.mp3", size: 10, mod: time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)},
	{share: "Music", path: "cover.jpg", size: 10},
	{share: "Gone", path: "x.mkv", size: 1},
	{share: "Busy", path: "y.mkv", size: 1},
}

// newTestContent returns the fake of testFiles with "Gone" offline,
// "Busy" still being indexed and two recent additions.
func newTestContent(t testing.TB) *fakeContent {
	f := newFake(t, true, testFiles...)
	f.shares["Gone"].offline = true
	f.shares["Busy"].notIndexed = true
	f.recent = []library.Addition{
		{Share: "Music", Path: "Song 10.mp3", Size: 10, Kind: library.Audio},
		{Share: "Movies", Path: "Kids/Cartoon.mp4", Size: 100, Kind: library.Video},
		{Share: "Movies", Path: "Deleted.mkv", Size: 1, Kind: library.Video}, // gone from the index
	}
	return f
}

func TestBrowse(t *testing.T) {
	ts := newTestServer(t, &Server{Content: newTestContent(t)})
	// A subtitle is no object of its own: it goes with its video.
	if r := browse(t, ts.base, "0/Movies/Film%20A.srt", "BrowseMetadata", 0, 0, ""); r.code != 701 {
		t.Errorf("BrowseMetadata of a subtitle: status %d, code %d; want 701", r.status, r.code)
	}
	tests := []struct {
		name       string
		id, flag   string
		start, n   int
		sort       string
		wantTitles []string
		wantIDs    []string // if set, the objects' IDs
		wantTotal  int
	}{
		{"root", "0", "BrowseDirectChildren", 0, 0, "",
			[]string{"Movies", "Music", "Busy", "Recently added"}, []string{"0/Movies", "0/Music", "0/Busy", "R"}, 4},
		{"root, empty ObjectID", "", "BrowseDirectChildren", 0, 0, "",
			[]string{"Movies", "Music", "Busy", "Recently added"}, nil, 4},
		{"root metadata", "0", "BrowseMetadata", 0, 0, "", []string{"Test Media"}, []string{"0"}, 1},
		// Subtitles are no items: they go with their video.
		{"share: folders first, natural order, media only", "0/Movies", "BrowseDirectChildren", 0, 0, "",
			[]string{"Kids", "A&B <c> \"q\" 'x'", "caf\uFFFD", "Episode 2", "Episode 10", "Film A"},
			[]string{"0/Movies/Kids", "0/Movies/A%26B%20%3Cc%3E%20%22q%22%20%27x%27.mkv", "0/Movies/caf%E9.avi",
				"0/Movies/Episode%202.mkv", "0/Movies/Episode%2010.mkv", "0/Movies/Film%20A.mkv"}, 6},
		{"page", "0/Movies", "BrowseDirectChildren", 3, 2, "", []string{"Episode 2", "Episode 10"}, nil, 6},
		{"page past the end", "0/Movies", "BrowseDirectChildren", 6, 5, "", nil, nil, 6},
		{"page at the end", "0/Movies", "BrowseDirectChildren", 5, 5, "", []string{"Film A"}, []string{"0/Movies/Film%20A.mkv"}, 6},
		{"sort by title", "0/Music", "BrowseDirectChildren", 0, 0, "+dc:title", []string{"cover", "Song 1", "Song 2", "Song 10"}, nil, 4},
		{"sort by date, descending", "0/Music", "BrowseDirectChildren", 0, 0, "-dc:date", []string{"cover", "Song 10", "Song 2", "Song 1"}, nil, 4},
		{"sort by class then title, page", "0/Music", "BrowseDirectChildren", 1, 2, "+upnp:class,-dc:title", []string{"Song 2", "Song 1"}, nil, 4},
		{"sorted root", "0", "BrowseDirectChildren", 0, 0, "+dc:title", []string{"Busy", "Movies", "Music", "Recently added"}, nil, 4},
		{"subfolder", "0/Movies/Kids", "BrowseDirectChildren", 0, 0, "", []string{"Empty", "Cartoon"}, []string{"0/Movies/Kids/Empty", "0/Movies/Kids/Cartoon.mp4"}, 2},
		{"empty folder", "0/Movies/Kids/Empty", "BrowseDirectChildren", 0, 0, "", nil, nil, 0},
		{"share still indexed: empty", "0/Busy", "BrowseDirectChildren", 0, 0, "", nil, nil, 0},
		{"children of an item", "0/Music/Song%201.mp3", "BrowseDirectChildren", 0, 0, "", nil, nil, 0},
		{"item metadata", "0/Music/Song%202.mp3", "BrowseMetadata", 0, 0, "", []string{"Song 2"}, []string{"0/Music/Song%202.mp3"}, 1},
		{"recently added", "R", "BrowseDirectChildren", 0, 0, "", []string{"Song 10", "Cartoon"}, []string{"R/Music/Song%2010.mp3", "R/Movies/Kids/Cartoon.mp4"}, 2},
		{"recent item metadata", "R/Music/Song%2010.mp3", "BrowseMetadata", 0, 0, "", []string{"Song 10"}, []string{"R/Music/Song%2010.mp3"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := browse(t, ts.base, tt.id, tt.flag, tt.start, tt.n, tt.sort)
			if r.status != 200 {
				t.Fatalf("status %d, code %d\n%s", r.status, r.code, r.body)
			}
			if got := titles(r.objects); !slices.Equal(got, tt.wantTitles) {
				t.Errorf("titles %q, want %q", got, tt.wantTitles)
			}
			if tt.wantIDs != nil {
				var ids []string
				for _, o := range r.objects {
					ids = append(ids, o.ID)
				}
				if !slices.Equal(ids, tt.wantIDs) {
					t.Errorf("IDs %q, want %q", ids, tt.wantIDs)
				}
			}
			if r.total != tt.wantTotal {
				t.Errorf("TotalMatches %d, want %d", r.total, tt.wantTotal)
			}
			for _, o := range r.objects {
				if o.Restricted != "1" {
					t.Errorf("%s: restricted=%q", o.ID, o.Restricted)
				}
				if o.isContainer() && (o.Class != classFolder || o.ChildCount == "" || o.Searchable != "1") {
					t.Errorf("container %+v", o)
				}
				if !o.isContainer() && (len(o.Res) == 0 || o.Res[0].URL == "" || o.Res[0].ProtocolInfo == "") {
					t.Errorf("item without res: %+v", o)
				}
			}
		})
	}
}

func TestBrowseObjects(t *testing.T) {
	ts := newTestServer(t, &Server{Content: newTestContent(t)})
	r := browse(t, ts.base, "0/Movies", "BrowseDirectChildren", 0, 0, "")
	byID := map[string]didlObj{}
	for _, o := range r.objects {
		byID[o.ID] = o
	}
	kids := byID["0/Movies/Kids"]
	if kids.ParentID != "0/Movies" || kids.ChildCount != "2" {
		t.Errorf("Kids: %+v", kids)
	}
	film := byID["0/Movies/Film%20A.mkv"]
	if film.ParentID != "0/Movies" || film.Class != "object.item.videoItem" || film.Date != "2024-05-01T12:30:00" {
		t.Errorf("Film A: %+v", film)
	}
	if len(film.Res) != 1 {
		t.Fatalf("Film A has %d res for a client without subtitle quirks: %+v", len(film.Res), film.Res)
	}
	res := film.Res[0]
	if want := ts.base + "/m/Movies/Film%20A.mkv"; res.URL != want {
		t.Errorf("res URL %q, want %q", res.URL, want)
	}
	if res.Size != "3000" || !strings.HasPrefix(res.ProtocolInfo, "http-get:*:video/x-matroska:DLNA.ORG_OP=01;") {
		t.Errorf("res %+v", res)
	}
	odd := byID[`0/Movies/A%26B%20%3Cc%3E%20%22q%22%20%27x%27.mkv`]
	if want := ts.base + "/m/Movies/A%26B%20%3Cc%3E%20%22q%22%20%27x%27.mkv"; len(odd.Res) == 0 || odd.Res[0].URL != want {
		t.Errorf("odd name: %+v, want URL %q", odd, want)
	}
	latin := byID["0/Movies/caf%E9.avi"]
	if latin.Title != "caf\uFFFD" || latin.Date != "2020-02-03T04:05:06" || len(latin.Res) == 0 || latin.Res[0].URL != ts.base+"/m/Movies/caf%E9.avi" {
		t.Errorf("Latin-1 name: %+v", latin)
	}
	// Every ID browses back to its object.
	for id, o := range byID {
		m := browse(t, ts.base, id, "BrowseMetadata", 0, 0, "")
		if len(m.objects) != 1 || m.objects[0].ID != id || m.objects[0].Title != o.Title {
			t.Errorf("BrowseMetadata %q: %+v", id, m.objects)
		}
	}
	// A recent item refers to its file.
	rec := browse(t, ts.base, "R/Movies/Kids/Cartoon.mp4", "BrowseMetadata", 0, 0, "")
	if o := rec.objects[0]; o.ParentID != "R" || o.RefID != "0/Movies/Kids/Cartoon.mp4" || o.Res[0].URL != ts.base+"/m/Movies/Kids/Cartoon.mp4" {
		t.Errorf("recent item: %+v", o)
	}
	// The root counts its children.
	root := browse(t, ts.base, "0", "BrowseMetadata", 0, 0, "")
	if o := root.objects[0]; o.ParentID != "-1" || o.ChildCount != "4" {
		t.Errorf("root: %+v", o)
	}
}

func TestBrowseFilter(t *testing.T) {
	ts := newTestServer(t, &Server{Content: newTestContent(t)})
	tests := []struct {
		filter          string
		date, res, size bool
		childCount, cnt bool
	}{
		{"*", true, true, true, true, true},
		{"", true, true, true, true, true},
		{"dc:title", false, false, false, false, false},
		{"dc:title,res", false, true, false, false, false},
		{"res@size", false, true, true, false, false},
		{"dc:date,@childCount", true, false, false, true, true},
		{"container@childCount", false, false, false, true, true},
	}
	for _, tt := range tests {
		for _, id := range []string{"0/Music", "0/Movies/Kids"} {
			r := browseCall(t, ts.base, nil, "ObjectID", id, "BrowseFlag", "BrowseDirectChildren", "Filter", tt.filter,
				"StartingIndex", "0", "RequestedCount", "0", "SortCriteria", "")
			for _, o := range r.objects {
				if o.ID == "" || o.ParentID == "" || o.Title == "" || o.Class == "" || o.Restricted != "1" {
					t.Errorf("filter %q: required property missing: %+v", tt.filter, o)
				}
				if o.isContainer() {
					if (o.ChildCount != "") != tt.childCount {
						t.Errorf("filter %q: childCount %q", tt.filter, o.ChildCount)
					}
					continue
				}
				if (o.Date != "") != tt.date || (len(o.Res) > 0) != tt.res || (len(o.Res) > 0 && (o.Res[0].Size != "") != tt.size) {
					t.Errorf("filter %q: %+v", tt.filter, o)
				}
			}
		}
	}
}

func TestBrowseErrors(t *testing.T) {
	ts := newTestServer(t, &Server{Content: newTestContent(t)})
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"no such share", []string{"ObjectID", "0/Nope", "BrowseFlag", "BrowseDirectChildren"}, 701},
		{"offline share", []string{"ObjectID", "0/Gone", "BrowseFlag", "BrowseDirectChildren"}, 701},
		{"no such file", []string{"ObjectID", "0/Movies/Nope.mkv", "BrowseFlag", "BrowseMetadata"}, 701},
		{"garbage ID", []string{"ObjectID", "64$0$1", "BrowseFlag", "BrowseMetadata"}, 701},
		{"non-canonical ID", []string{"ObjectID", "0/Movies/Film A.mkv", "BrowseFlag", "BrowseMetadata"}, 701},
		{"folder as recent item", []string{"ObjectID", "R/Movies/Kids", "BrowseFlag", "BrowseMetadata"}, 701},
		{"inside a share still indexed", []string{"ObjectID", "0/Busy/y.mkv", "BrowseFlag", "BrowseMetadata"}, 720},
		{"bad flag", []string{"ObjectID", "0", "BrowseFlag", "BrowseEverything"}, 402},
		{"no flag", []string{"ObjectID", "0"}, 402},
		{"no ObjectID", []string{"BrowseFlag", "BrowseMetadata"}, 402},
		{"bad index", []string{"ObjectID", "0", "BrowseFlag", "BrowseDirectChildren", "StartingIndex", "-1"}, 402},
		{"bad count", []string{"ObjectID", "0", "BrowseFlag", "BrowseDirectChildren", "RequestedCount", "ten"}, 402},
		{"count over ui4", []string{"ObjectID", "0", "BrowseFlag", "BrowseDirectChildren", "RequestedCount", "4294967296"}, 402},
		{"bad sort", []string{"ObjectID", "0/Music", "BrowseFlag", "BrowseDirectChildren", "SortCriteria", "+dc:title;"}, 709},
	}
	for _, tt := range tests {
		r := soap(t, ts.base, "ContentDirectory", "Browse", nil, tt.args...)
		if r.status != 500 || r.code != tt.code {
			t.Errorf("%s: status %d, code %d; want 500, %d\n%s", tt.name, r.status, r.code, tt.code, r.body)
		}
	}
}

func TestSearch(t *testing.T) {
	ts := newTestServer(t, &Server{Content: newTestContent(t)})
	tests := []struct {
		container, criteria string
		start, n            int
		sort                string
		want                []string
		total               int
	}{
		{"0", `upnp:class derivedfrom "object.item.videoItem"`, 0, 0, "",
			[]string{"Cartoon", "A&B <c> \"q\" 'x'", "caf\uFFFD", "Episode 2", "Episode 10", "Film A"}, 6},
		{"0", `upnp:class derivedfrom "object.item.videoItem"`, 2, 2, "", []string{"caf\uFFFD", "Episode 2"}, 6},
		{"0", `upnp:class derivedfrom "object.item.videoItem"`, 0, 2, "-dc:title", []string{"Film A", "Episode 10"}, 6},
		{"0", `upnp:class derivedfrom "object.item.videoItem"`, 1, 3, "+dc:title", []string{"caf\uFFFD", "Cartoon", "Episode 2"}, 6},
		{"0/Movies/Kids", "*", 0, 0, "", []string{"Empty", "Cartoon"}, 2},
		{"0", `dc:title contains "song" and upnp:class = "object.item.audioItem.musicTrack"`, 0, 0, "+dc:title", []string{"Song 1", "Song 2", "Song 10"}, 3},
		{"0", `upnp:class derivedfrom "object.container"`, 0, 0, "", []string{"Movies", "Kids", "Empty", "Music", "Busy"}, 5},
		{"0/Music", `dc:date >= "2022-01-01"`, 0, 0, "", []string{"cover", "Song 2", "Song 10"}, 3},
		{"R", `upnp:class derivedfrom "object.item.audioItem"`, 0, 0, "", []string{"Song 10"}, 1},
		{"0/Busy", "*", 0, 0, "", nil, 0},
	}
	for _, tt := range tests {
		r := decodeBrowse(t, soap(t, ts.base, "ContentDirectory", "Search", nil, "ContainerID", tt.container, "SearchCriteria", tt.criteria,
			"Filter", "*", "StartingIndex", strconv.Itoa(tt.start), "RequestedCount", strconv.Itoa(tt.n), "SortCriteria", tt.sort))
		if r.status != 200 {
			t.Errorf("%s in %s: status %d code %d", tt.criteria, tt.container, r.status, r.code)
			continue
		}
		if got := titles(r.objects); !slices.Equal(got, tt.want) || r.total != tt.total {
			t.Errorf("%s in %s [%d+%d %s]: %q (of %d), want %q (of %d)", tt.criteria, tt.container, tt.start, tt.n, tt.sort, got, r.total, tt.want, tt.total)
		}
	}
	errs := []struct {
		args []string
		code int
	}{
		{[]string{"ContainerID", "0", "SearchCriteria", `dc:title contains`}, 708},
		{[]string{"ContainerID", "0", "SearchCriteria", `dc:title = "x"`, "SortCriteria", "+"}, 709},
		{[]string{"ContainerID", "0/Music/Song%201.mp3", "SearchCriteria", "*"}, 710},
		{[]string{"ContainerID", "0/Nope", "SearchCriteria", "*"}, 701},
		{[]string{"ContainerID", "0"}, 402},
		{[]string{"ContainerID", "0", "SearchCriteria", "*", "StartingIndex", "6000", "RequestedCount", "10", "SortCriteria", "+dc:title"}, 720},
	}
	for _, tt := range errs {
		r := soap(t, ts.base, "ContentDirectory", "Search", nil, tt.args...)
		if r.status != 500 || r.code != tt.code {
			t.Errorf("Search %q: status %d, code %d; want 500, %d", tt.args, r.status, r.code, tt.code)
		}
	}
}

func TestCapabilitiesAndUpdateID(t *testing.T) {
	ts := newTestServer(t, &Server{Content: newTestContent(t)})
	tests := []struct {
		action, arg, want string
	}{
		{"GetSearchCapabilities", "SearchCaps", "dc:title,upnp:class,dc:date,upnp:artist,dc:creator,upnp:album"},
		{"GetSortCapabilities", "SortCaps", "dc:title,dc:date,upnp:class"},
		{"GetSystemUpdateID", "Id", "1"},
	}
	for _, tt := range tests {
		r := soap(t, ts.base, "ContentDirectory", tt.action, nil)
		if r.status != 200 || r.out[tt.arg] != tt.want {
			t.Errorf("%s: status %d, %s = %q; want %q", tt.action, r.status, tt.arg, r.out[tt.arg], tt.want)
		}
	}
}

func TestControlErrors(t *testing.T) {
	ts := newTestServer(t, &Server{Content: newTestContent(t)})
	for _, a := range writeActions {
		r := soap(t, ts.base, "ContentDirectory", a, nil, "ContainerID", "0", "Elements", "<item/>", "ObjectID", "0/Music/Song%201.mp3")
		if r.status != 500 || r.code != 401 {
			t.Errorf("%s: status %d, code %d; want 500, 401", a, r.status, r.code)
		}
	}
	tests := []struct {
		name, svc, body string
		status, code    int
	}{
		{"unknown action", "ContentDirectory", envStart + `<u:Frobnicate xmlns:u="` + cdsType + `"/>` + envEnd, 500, 401},
		{"action of another service", "ContentDirectory", envStart + `<u:GetProtocolInfo xmlns:u="` + cmType + `"/>` + envEnd, 500, 401},
		{"other version of the service", "ContentDirectory", envStart + `<u:GetSystemUpdateID xmlns:u="urn:schemas-upnp-org:service:ContentDirectory:2"/>` + envEnd, 500, 401},
		{"no namespace", "ContentDirectory", envStart + `<GetSystemUpdateID/>` + envEnd, 200, 0},
		{"malformed XML", "ContentDirectory", envStart + `<u:Browse xmlns:u="` + cdsType + `"><ObjectID>0</Browse>`, 500, 402},
		{"not SOAP", "ConnectionManager", "GET / HTTP/1.0", 500, 401},
		{"empty body", "X_MS_MediaReceiverRegistrar", "", 500, 401},
		{"entity bomb", "ContentDirectory", `<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>` + envStart + `<u:Browse xmlns:u="` + cdsType + `"><ObjectID>&b;</ObjectID></u:Browse>` + envEnd, 500, 401},
	}
	for _, tt := range tests {
		r := soapRaw(t, ts.base, tt.svc, "", nil, tt.body)
		if r.status != tt.status || r.code != tt.code {
			t.Errorf("%s: status %d, code %d; want %d, %d\n%s", tt.name, r.status, r.code, tt.status, tt.code, r.body)
		}
	}
	// GET on a control URL.
	resp, err := http.Get(ts.base + "/control/ContentDirectory")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /control: %d", resp.StatusCode)
	}
}

func TestSOAPBodyLimit(t *testing.T) {
	ts := newTestServer(t, &Server{Content: newTestContent(t)})
	big := envStart + `<u:Browse xmlns:u="` + cdsType + `"><ObjectID>0</ObjectID><BrowseFlag>BrowseMetadata</BrowseFlag><Filter>` +
		strings.Repeat("dc:title,", maxSOAPBody/9) + `</Filter></u:Browse>` + envEnd
	if r := soapRaw(t, ts.base, "ContentDirectory", "", nil, big); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("body of %d bytes: status %d", len(big), r.status)
	}
	// Without a Content-Length (chunked), cut while reading.
	req, _ := http.NewRequest("POST", ts.base+"/control/ContentDirectory", io.MultiReader(strings.NewReader(big)))
	req.ContentLength = -1
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked body of %d bytes: status %d", len(big), resp.StatusCode)
	}
	// Just under the limit is served.
	ok := envStart + `<u:Browse xmlns:u="` + cdsType + `"><ObjectID>0</ObjectID><BrowseFlag>BrowseMetadata</BrowseFlag><Filter>` +
		strings.Repeat(" ", maxSOAPBody-400) + `</Filter></u:Browse>` + envEnd
	if r := soapRaw(t, ts.base, "ContentDirectory", "", nil, ok); r.status != 200 {
		t.Errorf("body of %d bytes: status %d", len(ok), r.status)
	}
}

func TestAccess(t *testing.T) {
	var asked []netip.Addr
	ts := newTestServer(t, &Server{Content: newTestContent(t), Allow: func(a netip.Addr) bool {
		asked = append(asked, a)
		return false
	}})
	for _, p := range []string{DescriptionPath, "/icons/48.png", "/scpd/ContentDirectory.xml", "/control/ContentDirectory",
		"/event/ContentDirectory", "/m/Music/Song%201.mp3", "/s/Movies/Film%20A.srt", "/nope"} {
		for _, method := range []string{"GET", "POST", "HEAD", "SUBSCRIBE"} {
			req, _ := http.NewRequest(method, ts.base+p, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s: %d, want 403", method, p, resp.StatusCode)
			}
		}
	}
	if len(asked) == 0 || asked[0] != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("Allow asked about %v", asked)
	}
	// The default lets loopback in.
	ts2 := newTestServer(t, &Server{Content: newTestContent(t)})
	resp, err := http.Get(ts2.base + DescriptionPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("default access: %d", resp.StatusCode)
	}
}

func TestSlowClientsCut(t *testing.T) {
	ts := newTestServer(t, &Server{Content: newTestContent(t), headerTimeout: 200 * time.Millisecond, bodyTimeout: 200 * time.Millisecond})
	// closed waits until the server closes c, reading what it sends.
	closed := func(c net.Conn) string {
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		data, err := io.ReadAll(c)
		if err != nil {
			t.Errorf("the server did not close the connection: %v", err)
		}
		return string(data)
	}
	// Headers that never end.
	c, err := net.Dial("tcp", ts.host)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n", DescriptionPath)
	closed(c)
	c.Close()
	// A SOAP body that never comes.
	c, err = net.Dial("tcp", ts.host)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "POST /control/ContentDirectory HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n<s:Envelope>")
	// The server answers 400 if it can still write by then.
	if got := closed(c); got != "" && !strings.HasPrefix(got, "HTTP/1.1 400") {
		t.Errorf("slow body answered %q", got)
	}
	c.Close()
	// Meanwhile others are served.
	resp, err := http.Get(ts.base + DescriptionPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

func TestHTTPLimitsSet(t *testing.T) {
	ts := newTestServer(t, &Server{Content: newTestContent(t)})
	if resp, err := http.Get(ts.base + DescriptionPath); err == nil { // Serve has begun
		resp.Body.Close()
	}
	ts.mu.Lock()
	hs := ts.hs
	ts.mu.Unlock()
	if hs.ReadHeaderTimeout != readHeaderTimeout || hs.IdleTimeout != idleTimeout || hs.MaxHeaderBytes != maxHeaderBytes ||
		hs.ReadTimeout != 0 || hs.WriteTimeout != 0 {
		t.Errorf("http.Server limits: ReadHeaderTimeout %v, IdleTimeout %v, MaxHeaderBytes %d, ReadTimeout %v, WriteTimeout %v",
			hs.ReadHeaderTimeout, hs.IdleTimeout, hs.MaxHeaderBytes, hs.ReadTimeout, hs.WriteTimeout)
	}
}
