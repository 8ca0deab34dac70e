package dlna

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/library/probe"
	"github.com/mediaftpd/mediaftpd/library/thumb"
)

// picture returns an image of w x h pixels encoded as format ("jpeg" or
// "png"), padded with zeros (which decoders leave alone after the image's
// end) to pictureSize bytes, so that golden files do not depend on the
// encoders' output.
func picture(t testing.TB, format string, w, h int) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), 128, 255})
		}
	}
	var b bytes.Buffer
	var err error
	if format == "png" {
		err = png.Encode(&b, img)
	} else {
		err = jpeg.Encode(&b, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	if b.Len() > pictureSize {
		t.Fatalf("a %dx%d %s takes %d bytes", w, h, format, b.Len())
	}
	return b.String() + strings.Repeat("\x00", pictureSize-b.Len())
}

// pictureSize is the size of the files picture makes.
const pictureSize = 32 << 10

// id3WithCover returns an ID3v2.3 tag holding pic as its front cover (an
// APIC frame), which is all probe.Cover needs of an MP3.
func id3WithCover(pic string) string {
	body := "\x00image/jpeg\x00\x03\x00" + pic
	n := len(body)
	frame := "APIC" + string([]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n), 0, 0}) + body
	m := len(frame)
	return "ID3\x03\x00\x00" + string([]byte{byte(m >> 21 & 0x7F), byte(m >> 14 & 0x7F), byte(m >> 7 & 0x7F), byte(m & 0x7F)}) + frame +
		strings.Repeat("\x00", 128)
}

// detailsContent returns a fake share "D" of films, music and photos with
// artwork, and the details of its files.
func detailsContent(t testing.TB) (*fakeContent, *fakeDetails) {
	t.Helper()
	f := newFake(t, true,
		fakeFile{share: "D", path: "Films/Film (2020)/Film (2020).mkv", size: 5000},
		fakeFile{share: "D", path: "Films/Film (2020)/poster.jpg", data: picture(t, "jpeg", 600, 900)},
		fakeFile{share: "D", path: "Films/Show/Ep1.mkv", size: 3000},
		fakeFile{share: "D", path: "Films/Show/Ep1-thumb.jpg", data: picture(t, "jpeg", 320, 180)},
		fakeFile{share: "D", path: "Films/Show/Ep2.mkv", size: 3000},
		fakeFile{share: "D", path: "Films/Show/folder.jpg", data: picture(t, "png", 300, 300)},
		fakeFile{share: "D", path: "Music/Album/01 Intro.mp3", size: 4000},
		fakeFile{share: "D", path: "Music/Album/02 Song.flac", size: 4000},
		fakeFile{share: "D", path: "Music/Album/cover.jpg", data: picture(t, "jpeg", 500, 500)},
		fakeFile{share: "D", path: "Music/Loose/Single.mp3", data: id3WithCover(picture(t, "jpeg", 400, 300))},
		fakeFile{share: "D", path: "Music/Loose/No Art.mp3", size: 2000},
		fakeFile{share: "D", path: "Photos/Beach.jpg", data: picture(t, "jpeg", 320, 240), mod: time.Date(2020, 3, 1, 0, 0, 0, 0, time.UTC)},
		fakeFile{share: "D", path: "Photos/Old.jpg", data: picture(t, "jpeg", 100, 80), mod: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)},
		fakeFile{share: "D", path: "Photos/Huge.png", data: picture(t, "png", 20, 20)},
		fakeFile{share: "D", path: "Photos/Raw.cr2", size: 100},
	)
	album := probe.Details{Container: "mp3", Duration: 3*time.Minute + 5*time.Second, AudioCodec: "mp3", Bitrate: 320_000, Channels: 2,
		SampleRate: 44100, Title: "Intro", Artist: "The Band & Co", Album: "First <Album>", Track: 1, Year: 2001}
	song := album
	song.Container, song.AudioCodec, song.Bitrate, song.Title, song.Track = "flac", "flac", 900_000, "", 2
	d := &fakeDetails{m: map[string]probe.Details{
		"D/Films/Film (2020)/Film (2020).mkv": {Container: "matroska", Duration: 65250 * time.Millisecond, Width: 1920, Height: 1080,
			VideoCodec: "h264", AudioCodec: "ac3", Bitrate: 8_000_000, Channels: 6, SampleRate: 48000, Title: "Not Shown"},
		"D/Films/Show/Ep1.mkv": {Container: "matroska", Duration: time.Hour + 2*time.Minute + 3*time.Second + 4*time.Millisecond,
			Width: 1280, Height: 720, Bitrate: 4_000_000, Channels: 2, SampleRate: 44100},
		"D/Music/Album/01 Intro.mp3":     album,
		"D/Music/Album/02 Song.flac":     song,
		"D/Music/Loose/Single.mp3":       {Container: "mp3", Duration: 2 * time.Minute, Title: "Single", Artist: "Solo", HasCover: true},
		"D/Films/Film (2020)/poster.jpg": {Container: "jpeg", Width: 600, Height: 900},
		"D/Photos/Beach.jpg":             {Container: "jpeg", Width: 320, Height: 240, Taken: time.Date(2019, 7, 14, 15, 30, 0, 0, time.UTC)},
		"D/Photos/Old.jpg":               {Container: "jpeg", Width: 100, Height: 80, Taken: time.Date(2001, 1, 2, 3, 4, 5, 0, time.FixedZone("", 3600))},
		"D/Photos/Huge.png":              {Container: "png", Width: 10000, Height: 10000},
	}}
	return f, d
}

// newDetailsServer serves detailsContent with details and thumbnails.
func newDetailsServer(t *testing.T) (*testServer, *fakeDetails) {
	f, d := detailsContent(t)
	ts := newTestServer(t, &Server{Content: f, Details: d, Thumbs: &thumb.Cache{Dir: t.TempDir()}})
	return ts, d
}

// didlLines returns a DIDL-Lite result with one object a line and the
// server's address replaced, for readable golden files.
func didlLines(ts *testServer, didl string) string {
	didl = strings.ReplaceAll(didl, ts.host, "HOST")
	return strings.NewReplacer("<container ", "\n<container ", "<item ", "\n<item ", "</DIDL-Lite>", "\n</DIDL-Lite>\n").Replace(didl)
}

// TestDIDLDetailsGolden browses every folder of detailsContent and
// compares the DIDL-Lite with testdata/didl-details.golden: res
// attributes from details, music tracks with their tags, photos with the
// date they were taken, and album art (with its JPEG_TN res) only where a
// picture exists.
func TestDIDLDetailsGolden(t *testing.T) {
	ts, _ := newDetailsServer(t)
	var out strings.Builder
	for _, id := range []string{"0/D", "0/D/Films", "0/D/Films/Film%20%282020%29", "0/D/Films/Show", "0/D/Music",
		"0/D/Music/Album", "0/D/Music/Loose", "0/D/Photos"} {
		r := browse(t, ts.base, id, "BrowseDirectChildren", 0, 0, "")
		if r.status != 200 {
			t.Fatalf("%s: %s", id, r.body)
		}
		fmt.Fprintf(&out, "# %s%s\n", id, didlLines(ts, r.out["Result"]))
	}
	golden(t, "didl-details.golden", []byte(out.String()))
}

// TestDetailsInDIDL checks the details as a client reads them.
func TestDetailsInDIDL(t *testing.T) {
	ts, _ := newDetailsServer(t)
	get := func(id string) didlObj {
		t.Helper()
		r := browse(t, ts.base, id, "BrowseMetadata", 0, 0, "")
		if len(r.objects) != 1 {
			t.Fatalf("%s: %s", id, r.body)
		}
		return r.objects[0]
	}
	film := get("0/D/Films/Film%20%282020%29/Film%20%282020%29.mkv")
	if res := film.Res[0]; film.Title != "Film (2020)" || res.Duration != "0:01:05.250" || res.Resolution != "1920x1080" ||
		res.Bitrate != "1000000" || res.NrAudioChannels != "6" || res.SampleFrequency != "48000" {
		t.Errorf("film %+v", film)
	}
	if ep := get("0/D/Films/Show/Ep1.mkv"); ep.Res[0].Duration != "1:02:03.004" || ep.Res[0].Resolution != "1280x720" {
		t.Errorf("episode %+v", ep)
	}
	if ep := get("0/D/Films/Show/Ep2.mkv"); len(ep.Res) != 1 || ep.Res[0].Duration != "" || len(ep.AlbumArt) != 0 {
		t.Errorf("episode without details or artwork %+v", ep)
	}
	intro := get("0/D/Music/Album/01%20Intro.mp3")
	if intro.Class != "object.item.audioItem.musicTrack" || intro.Title != "Intro" || intro.Artist != "The Band & Co" ||
		intro.Creator != "The Band & Co" || intro.Album != "First <Album>" || intro.Track != "1" ||
		intro.Res[0].Duration != "0:03:05.000" || intro.Res[0].Bitrate != "40000" || intro.Res[0].Resolution != "" {
		t.Errorf("track %+v", intro)
	}
	if song := get("0/D/Music/Album/02%20Song.flac"); song.Title != "02 Song" || song.Track != "2" {
		t.Errorf("a track without a title tag: %+v", song)
	}
	beach := get("0/D/Photos/Beach.jpg")
	if beach.Class != "object.item.imageItem.photo" || beach.Date != "2019-07-14T15:30:00" || beach.Res[0].Resolution != "320x240" ||
		beach.Res[0].Duration != "" || beach.Res[0].Bitrate != "" {
		t.Errorf("photo %+v", beach)
	}
	// EXIF's wall clock is shown as written, whatever its zone.
	if old := get("0/D/Photos/Old.jpg"); old.Date != "2001-01-02T03:04:05" {
		t.Errorf("photo with an offset: date %q", old.Date)
	}
	// Album art: only where a picture exists, with its JPEG_TN res.
	for id, want := range map[string]bool{
		"0/D/Films/Film%20%282020%29/Film%20%282020%29.mkv": true,
		"0/D/Films/Film%20%282020%29":                       true,
		"0/D/Films/Show":                                    true,
		"0/D/Films/Show/Ep1.mkv":                            true,
		"0/D/Films/Show/Ep2.mkv":                            false,
		"0/D/Films":                                         false,
		"0/D/Music/Album":                                   true,
		"0/D/Music/Album/02%20Song.flac":                    true,
		"0/D/Music/Loose/Single.mp3":                        true,
		"0/D/Music/Loose/No%20Art.mp3":                      false,
		"0/D/Photos/Beach.jpg":                              true,
		"0/D/Photos/Huge.png":                               false,
		"0/D/Photos/Raw.cr2":                                false,
		"0/D":                                               false,
		"0":                                                 false,
	} {
		o := get(id)
		var thumbs []string
		for _, r := range o.Res {
			if strings.Contains(r.ProtocolInfo, "JPEG_TN") {
				thumbs = append(thumbs, r.URL)
				if r.ProtocolInfo != thumbProtocolInfo {
					t.Errorf("%s: thumbnail protocolInfo %q", id, r.ProtocolInfo)
				}
			}
		}
		switch {
		case !want && (len(o.AlbumArt) != 0 || len(thumbs) != 0):
			t.Errorf("%s: album art %+v, thumbnails %q for an object without a picture", id, o.AlbumArt, thumbs)
		case want && (len(o.AlbumArt) != 1 || o.AlbumArt[0].ProfileID != "JPEG_TN"):
			t.Errorf("%s: album art %+v", id, o.AlbumArt)
		case want && !o.isContainer() && (len(thumbs) != 1 || thumbs[0] != o.AlbumArt[0].URL):
			t.Errorf("%s: thumbnail res %q, album art %+v", id, thumbs, o.AlbumArt)
		}
	}
}

// TestDetailsFilter checks that a client gets the properties its Filter
// names and no others.
func TestDetailsFilter(t *testing.T) {
	ts, _ := newDetailsServer(t)
	const intro = "0/D/Music/Album/01%20Intro.mp3"
	tests := []struct {
		filter string
		check  func(o didlObj) bool
	}{
		{"dc:title", func(o didlObj) bool {
			return o.Title == "Intro" && len(o.Res) == 0 && o.Artist == "" && len(o.AlbumArt) == 0
		}},
		{"res@duration", func(o didlObj) bool {
			return len(o.Res) == 2 && o.Res[0].Duration == "0:03:05.000" && o.Res[0].Bitrate == "" && o.Res[0].Size == "" &&
				o.Res[0].SampleFrequency == "" && len(o.AlbumArt) == 0
		}},
		{"upnp:albumArtURI,upnp:artist", func(o didlObj) bool {
			return len(o.Res) == 0 && len(o.AlbumArt) == 1 && o.Artist != "" && o.Creator == "" && o.Album == ""
		}},
		{"res,res@bitrate,res@nrAudioChannels,res@sampleFrequency,dc:creator,upnp:album,upnp:originalTrackNumber", func(o didlObj) bool {
			r := o.Res[0]
			return r.Bitrate == "40000" && r.NrAudioChannels == "2" && r.SampleFrequency == "44100" && r.Duration == "" &&
				o.Creator == "The Band & Co" && o.Artist == "" && o.Album == "First <Album>" && o.Track == "1"
		}},
		{"*", func(o didlObj) bool {
			return o.Res[0].Duration != "" && o.Artist != "" && o.Track == "1" && len(o.AlbumArt) == 1
		}},
	}
	for _, tt := range tests {
		r := browseCall(t, ts.base, nil, "ObjectID", intro, "BrowseFlag", "BrowseMetadata", "Filter", tt.filter)
		if len(r.objects) != 1 || !tt.check(r.objects[0]) {
			t.Errorf("Filter %q:\n%s", tt.filter, r.out["Result"])
		}
	}
}

// TestSortByTaken checks that dc:date of photos is when they were taken,
// for sorting as for showing.
func TestSortByTaken(t *testing.T) {
	ts, _ := newDetailsServer(t)
	r := browse(t, ts.base, "0/D/Photos", "BrowseDirectChildren", 0, 0, "+dc:date")
	if got, want := titles(r.objects), []string{"Old", "Beach", "Huge", "Raw"}; !slices.Equal(got, want) {
		t.Errorf("by date: %q, want %q", got, want)
	}
	r = browse(t, ts.base, "0/D/Music/Album", "BrowseDirectChildren", 0, 0, "-dc:title")
	if got, want := titles(r.objects), []string{"Intro", "cover", "02 Song"}; !slices.Equal(got, want) {
		t.Errorf("by title, descending: %q, want %q", got, want)
	}
}

// TestSearchDetails checks that a search sees the tags.
func TestSearchDetails(t *testing.T) {
	ts, _ := newDetailsServer(t)
	for _, tt := range []struct {
		crit string
		want []string
	}{
		{`upnp:artist = "The Band & Co"`, []string{"Intro", "02 Song"}},
		{`dc:creator contains "solo"`, []string{"Single"}},
		{`upnp:album exists true and dc:title contains "intro"`, []string{"Intro"}},
		{`dc:date < "2010"`, []string{"Old"}},
	} {
		r := decodeBrowse(t, soap(t, ts.base, "ContentDirectory", "Search", nil, "ContainerID", "0/D", "SearchCriteria", tt.crit, "Filter", "*"))
		if got := titles(r.objects); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.crit, got, tt.want)
		}
	}
}

// TestThumbnails follows every album art URL of the tree: each answers a
// JPEG of at most 160x160 pixels; an object without a picture has none.
func TestThumbnails(t *testing.T) {
	ts, _ := newDetailsServer(t)
	arts := map[string]string{} // URL -> object
	var walk func(id string)
	walk = func(id string) {
		r := browse(t, ts.base, id, "BrowseDirectChildren", 0, 0, "")
		for _, o := range r.objects {
			for _, a := range o.AlbumArt {
				arts[a.URL] = o.ID
			}
			if o.isContainer() {
				walk(o.ID)
			}
		}
	}
	walk("0")
	want := map[string]image.Point{ // the thumbnail's size
		"/t/D/Films/Film%20%282020%29.jpg":                       {107, 160},
		"/t/D/Films/Film%20%282020%29/Film%20%282020%29.mkv.jpg": {107, 160},
		"/t/D/Films/Film%20%282020%29/poster.jpg.jpg":            {107, 160},
		"/t/D/Films/Show.jpg":                                    {160, 160},
		"/t/D/Films/Show/Ep1.mkv.jpg":                            {160, 90},
		"/t/D/Films/Show/Ep1-thumb.jpg.jpg":                      {160, 90},
		"/t/D/Films/Show/folder.jpg.jpg":                         {160, 160},
		"/t/D/Music/Album.jpg":                                   {160, 160},
		"/t/D/Music/Album/01%20Intro.mp3.jpg":                    {160, 160},
		"/t/D/Music/Album/02%20Song.flac.jpg":                    {160, 160},
		"/t/D/Music/Album/cover.jpg.jpg":                         {160, 160},
		"/t/D/Music/Loose/Single.mp3.jpg":                        {160, 120},
		"/t/D/Photos/Beach.jpg.jpg":                              {160, 120},
		"/t/D/Photos/Old.jpg.jpg":                                {100, 80},
	}
	var got []string
	for u := range arts {
		got = append(got, strings.TrimPrefix(u, ts.base))
	}
	slices.Sort(got)
	if wantURLs := slices.Sorted(func(yield func(string) bool) {
		for u := range want {
			if !yield(u) {
				return
			}
		}
	}); !slices.Equal(got, wantURLs) {
		t.Errorf("album art URLs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantURLs, "\n"))
	}
	for u, size := range want {
		for range 2 { // made, then from the cache
			resp, body := get(t, "GET", ts.base+u, hdr("getcontentFeatures.dlna.org", "1"))
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/jpeg" ||
				resp.Header.Get("contentFeatures.dlna.org") != thumbFeatures {
				t.Errorf("%s: %d %q %q", u, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("contentFeatures.dlna.org"))
				break
			}
			img, format, err := image.Decode(bytes.NewReader(body))
			if err != nil || format != "jpeg" || img.Bounds().Size() != size {
				t.Errorf("%s: %s %v, %v; want a %v JPEG", u, format, img.Bounds().Size(), err, size)
			}
		}
	}
	// HEAD answers the same headers.
	if resp, body := get(t, "HEAD", ts.base+"/t/D/Photos/Beach.jpg.jpg", nil); resp.StatusCode != 200 || len(body) != 0 ||
		resp.ContentLength <= 0 {
		t.Errorf("HEAD: %d, %d bytes, Content-Length %d", resp.StatusCode, len(body), resp.ContentLength)
	}
	// No picture, or nothing there: 404.
	for _, u := range []string{
		"/t/D/Films/Show/Ep2.mkv.jpg",
		"/t/D/Music/Loose/No%20Art.mp3.jpg",
		"/t/D/Photos/Huge.png.jpg",
		"/t/D/Photos/Raw.cr2.jpg",
		"/t/D/Films.jpg",
		"/t/D.jpg",
		"/t/D/Nope.mkv.jpg",
		"/t/Nope.jpg",
		"/t/D/Photos/Beach.jpg",
		"/t/D/%2e%2e/x.jpg",
		"/t/",
	} {
		if resp, _ := get(t, "GET", ts.base+u, nil); resp.StatusCode != 404 {
			t.Errorf("%s: %d, want 404", u, resp.StatusCode)
		}
	}

	// Without Thumbs, no album art and no route.
	f, d := detailsContent(t)
	plain := newTestServer(t, &Server{Content: f, Details: d})
	r := browse(t, plain.base, "0/D/Music/Album", "BrowseDirectChildren", 0, 0, "")
	for _, o := range r.objects {
		if len(o.AlbumArt) > 0 || len(o.Res) > 1 {
			t.Errorf("without Thumbs: %+v", o)
		}
	}
	if resp, _ := get(t, "GET", plain.base+"/t/D/Music/Album/cover.jpg.jpg", nil); resp.StatusCode != 404 {
		t.Errorf("without Thumbs: thumbnail %d", resp.StatusCode)
	}
}

// TestDetailsPageCost checks that details and artwork keep a page of a
// big folder at what the page costs: one details lookup per item, and
// the entries around each file.
func TestDetailsPageCost(t *testing.T) {
	var files []fakeFile
	details := &fakeDetails{m: map[string]probe.Details{}}
	for i := range 3000 {
		p := fmt.Sprintf("Songs/Track %04d.mp3", i)
		files = append(files, fakeFile{share: "M", path: p, size: 100})
		details.m["M/"+p] = probe.Details{Duration: time.Minute, Title: fmt.Sprintf("Song %d", i), Artist: "A"}
	}
	files = append(files, fakeFile{share: "M", path: "Songs/Folder.jpg", size: 100}, fakeFile{share: "M", path: "Songs/Track 0007.jpg", size: 100})
	f := newFake(t, false, files...)
	ts := newTestServer(t, &Server{Content: f, Details: details, Thumbs: &thumb.Cache{Dir: t.TempDir()}})
	f.fetched.Store(0)
	r := browseCall(t, ts.base, nil, "ObjectID", "0/M/Songs", "BrowseFlag", "BrowseDirectChildren",
		"Filter", "*", "StartingIndex", "1000", "RequestedCount", "50", "SortCriteria", "")
	if r.returned != 50 || r.total != 3002 {
		t.Fatalf("returned %d of %d", r.returned, r.total)
	}
	if n := details.calls.Load(); n != 50 {
		t.Errorf("%d details lookups for a page of 50", n)
	}
	// The page, then for each song a binary search (12 entries) and the
	// entries around it, and once the folder's pictures (a binary search
	// and a window per role).
	if n, max := f.fetched.Load(), int64(50+1+50*(12+2*subtitleMargin+1)+len(folderRoles)*(12+roleWindow)); n > max {
		t.Errorf("a page of 50 read %d entries, more than %d", n, max)
	}
	for _, o := range r.objects {
		if len(o.AlbumArt) != 1 {
			t.Errorf("%s: album art %+v", o.Title, o.AlbumArt)
			break
		}
	}
	// Track 0007 has its own picture; the others the folder's.
	meta := func(id string) didlObj {
		r := browse(t, ts.base, id, "BrowseMetadata", 0, 0, "")
		return r.objects[0]
	}
	for id, want := range map[string]string{"0/M/Songs/Track%200007.mp3": "Songs/Track 0007.jpg", "0/M/Songs/Track%202000.mp3": "Songs/Folder.jpg"} {
		o := meta(id)
		l, _ := ts.lookup(mustParse(t, id))
		ts.itemExtras(&l, extras{art: true})
		if len(o.AlbumArt) != 1 || l.art.path != want {
			t.Errorf("%s: art %+v from %q, want %q", id, o.AlbumArt, l.art.path, want)
		}
	}
}
