package main

// DLNA end to end: the mediaftpd binary in one network namespace, a
// TV-shaped control point (GUPnP through python3-gi, testdata/tv.py) and
// the players of a TV's world (ffprobe, ffmpeg, VLC, curl) in another,
// joined by a veth pair. SSDP's multicast stays inside the two namespaces.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/netlab"
	"github.com/mediaftpd/mediaftpd/internal/testtool"
)

// The lab's addresses.
const (
	dlnaSrvIf   = "dv0"
	dlnaCliIf   = "dv1"
	dlnaSrvAddr = "10.99.21.1"
	dlnaCliAddr = "10.99.21.2"
	tvName      = "Living Room Test"
)

// didlObject is an object of a DIDL-Lite result as GUPnP parsed it.
type didlObject struct {
	ID         string    `json:"id"`
	Parent     string    `json:"parent"`
	Title      string    `json:"title"`
	Class      string    `json:"class"`
	Container  bool      `json:"container"`
	ChildCount int       `json:"child_count"`
	Res        []didlRes `json:"res"`
	AlbumArt   string    `json:"album_art"`
	Artist     string    `json:"artist"`
	Album      string    `json:"album"`
}

// didlRes is a resource of a DIDL-Lite object.
type didlRes struct {
	URI          string `json:"uri"`
	ProtocolInfo string `json:"protocol_info"`
	MIME         string `json:"mime"`
	Size         int64  `json:"size"`
	Duration     int64  `json:"duration"`      // seconds, as GUPnPAV reads it
	DurationText string `json:"duration_text"` // "H:MM:SS.mmm", as sent
	Resolution   string `json:"resolution"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
	Bitrate      string `json:"bitrate"`
	Channels     string `json:"channels"`
}

// browseResult is the answer to Browse or Search as the TV saw it.
type browseResult struct {
	ID       string       `json:"id"`
	Returned int          `json:"returned"`
	Total    int          `json:"total"`
	UpdateID string       `json:"update_id"`
	Objects  []didlObject `json:"objects"`
}

// tvFound is what the TV learnt of a server from SSDP and its description.
type tvFound struct {
	Name         string   `json:"name"`
	UDN          string   `json:"udn"`
	Location     string   `json:"location"`
	Model        string   `json:"model"`
	Services     []string `json:"services"`
	Presentation string   `json:"presentation"`
}

// dlnaLab is a server namespace and a client namespace.
type dlnaLab struct {
	*netlab.Lab
	srv, cli string
}

func newDLNALab(t *testing.T) *dlnaLab {
	t.Helper()
	l := netlab.New(t, "dlna")
	srv, cli := l.Pair(dlnaSrvIf, dlnaSrvAddr+"/24", dlnaCliIf, dlnaCliAddr+"/24")
	return &dlnaLab{Lab: l, srv: srv, cli: cli}
}

// startMediaftpd runs the binary in the server namespace with DLNA on
// and waits until it has indexed its shares.
func (d *dlnaLab) startMediaftpd(t *testing.T, args ...string) *netlab.Proc {
	t.Helper()
	all := append([]string{mediaftpdBin, "-listen", dlnaSrvAddr + ":2121", "-web", ":8021", "-mdns=false",
		"-dlna", ":8200", "-name", tvName, "-state-dir", t.TempDir()}, args...)
	p := d.Start("mediaftpd", d.srv, serverEnv(), all...)
	p.Await(t, "line", startTimeout, func(ev netlab.Event) bool { return strings.Contains(ev.Line, `msg="share indexed"`) })
	return p
}

// tv starts the TV-shaped control point in the client namespace and waits
// until it has found the server named name.
func (d *dlnaLab) tv(t *testing.T, name string) (*netlab.Proc, tvFound) {
	t.Helper()
	testtool.Need(t, "/usr/bin/python3")
	if out, err := exec.Command("/usr/bin/python3", "-c",
		`import gi; gi.require_version("GUPnP", "1.6"); gi.require_version("GUPnPAV", "1.0")`).CombinedOutput(); err != nil {
		if testtool.InCI() {
			t.Fatalf("GUPnP for Python is missing (python3-gi, gir1.2-gupnp-1.6, gir1.2-gupnp-av-1.0): %v\n%s", err, out)
		}
		t.Skipf("skipping: GUPnP for Python is missing (python3-gi, gir1.2-gupnp-1.6, gir1.2-gupnp-av-1.0): %s", out)
	}
	script, err := filepath.Abs("testdata/tv.py")
	if err != nil {
		t.Fatal(err)
	}
	p := d.Start("tv "+name, d.cli, nil, "/usr/bin/python3", script, dlnaCliIf, name)
	var found tvFound
	p.Await(t, "found", 30*time.Second, nil).Decode(t, &found)
	return p, found
}

// browse asks the TV to run a command and returns its result.
func browse(t *testing.T, tv *netlab.Proc, kind, cmd string) browseResult {
	t.Helper()
	tv.Send(t, cmd)
	var r browseResult
	ev := tv.Await(t, kind, 20*time.Second, nil)
	ev.Decode(t, &r)
	return r
}

func titles(objs []didlObject) []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = o.Title
	}
	return out
}

func objectTitled(t *testing.T, r browseResult, title string) didlObject {
	t.Helper()
	for _, o := range r.Objects {
		if o.Title == title {
			return o
		}
	}
	t.Fatalf("no object titled %q in %s: %q", title, r.ID, titles(r.Objects))
	return didlObject{}
}

// makeClip makes a 10 s H.264 video.
func makeClip(t *testing.T, path string) {
	t.Helper()
	testtool.Need(t, "ffmpeg")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=duration=10:size=320x240:rate=25",
		"-c:v", "libx264", "-g", "25", "-pix_fmt", "yuv420p", path)
}

// TestDLNATV is the DLNA issue's "done when": a TV-shaped client finds
// the server, browses root -> share -> folder, streams and seeks a file,
// and sees a new file after its copy finishes; ffprobe, ffmpeg, VLC and
// curl read the same URL.
func TestDLNATV(t *testing.T) {
	d := newDLNALab(t)
	media := t.TempDir()
	films := filepath.Join(media, "Films")
	clip := filepath.Join(films, "Episode 2.mkv")
	makeClip(t, clip)
	data, err := os.ReadFile(clip)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Episode 10.mkv", "Tom & Jerry <1>.mkv"} {
		writeFile(t, filepath.Join(films, name), string(data))
	}
	writeFile(t, filepath.Join(films, "Episode 2.srt"), "1\n00:00:01,000 --> 00:00:02,000\nHello\n")
	// A film alone in its folder with a poster, and a song with its cover
	// embedded.
	poster := jpegPicture(t, 400, 600)
	if err := os.Mkdir(filepath.Join(films, "Feature"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(films, "Feature", "Feature.mkv"), string(data))
	writeFile(t, filepath.Join(films, "Feature", "poster.jpg"), poster)
	if err := os.Mkdir(filepath.Join(media, "Music"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(media, "Music", "notes.txt"), "not media")
	song := makeSongWithCover(t, filepath.Join(media, "Music", "Song.mp3"), poster)
	old := time.Now().Add(-time.Hour)
	filepath.Walk(media, func(p string, _ os.FileInfo, _ error) error { return os.Chtimes(p, old, old) })

	srv := d.startMediaftpd(t, "Media="+media)
	srv.Await(t, "line", 60*time.Second, func(ev netlab.Event) bool { return strings.Contains(ev.Line, `msg="media details ready"`) })
	tv, found := d.tv(t, tvName)
	if want := "http://" + dlnaSrvAddr + ":8200/description.xml"; found.Location != want {
		t.Errorf("LOCATION %q, want %q", found.Location, want)
	}
	for _, svc := range []string{"urn:schemas-upnp-org:service:ContentDirectory:1", "urn:schemas-upnp-org:service:ConnectionManager:1",
		"urn:microsoft.com:service:X_MS_MediaReceiverRegistrar:1"} {
		if !slices.Contains(found.Services, svc) {
			t.Errorf("services %q lack %s", found.Services, svc)
		}
	}
	if !strings.HasPrefix(found.UDN, "uuid:") || !strings.Contains(found.Presentation, dlnaSrvAddr+":8021") {
		t.Errorf("found %+v", found)
	}

	// Root -> share -> folder.
	root := browse(t, tv, "browse", "browse 0")
	if got := titles(root.Objects); !slices.Equal(got, []string{"Media", "Recently added"}) {
		t.Errorf("root %q", got)
	}
	share := browse(t, tv, "browse", "browse "+objectTitled(t, root, "Media").ID)
	if got := titles(share.Objects); !slices.Equal(got, []string{"Films", "Music"}) {
		t.Errorf("share %q", got)
	}
	filmsObj := objectTitled(t, share, "Films")
	folder := browse(t, tv, "browse", "browse "+filmsObj.ID)
	var videos []string
	for _, o := range folder.Objects {
		if o.Class == "object.item.videoItem" {
			videos = append(videos, o.Title)
		}
	}
	if len(videos) != 3 || !strings.HasPrefix(videos[0], "Episode 2") || !strings.HasPrefix(videos[1], "Episode 10") ||
		!strings.HasPrefix(videos[2], "Tom & Jerry <1>") {
		t.Errorf("videos in natural order: %q", videos)
	}
	ep2 := folder.Objects[slices.IndexFunc(folder.Objects, func(o didlObject) bool { return strings.HasPrefix(o.Title, "Episode 2") })]
	if len(ep2.Res) == 0 || ep2.Res[0].Size != int64(len(data)) || !strings.HasPrefix(ep2.Res[0].ProtocolInfo, "http-get:*:video/") {
		t.Fatalf("Episode 2's resources %+v", ep2.Res)
	}
	url := ep2.Res[0].URI
	t.Logf("res %s (%s)", url, ep2.Res[0].ProtocolInfo)
	if slices.ContainsFunc(ep2.Res, func(r didlRes) bool { return strings.Contains(r.MIME, "srt") }) {
		t.Errorf("Episode 2's subtitle is offered as a res to a client that may take it for the video: %+v", ep2.Res)
	}
	// A page of one, from the second.
	page := browse(t, tv, "browse", "browse "+filmsObj.ID+" 1 1")
	if page.Returned != 1 || page.Total != len(folder.Objects) || len(page.Objects) != 1 || page.Objects[0].ID != folder.Objects[1].ID {
		t.Errorf("page of one at 1: %+v", page)
	}

	// Streaming: a byte range, the DLNA headers, and real players.
	testtool.Need(t, "curl")
	got := d.Run(d.cli, "curl", "-sS", "--max-time", "20", "-r", "1000-1999", url)
	if got != string(data[1000:2000]) {
		t.Errorf("bytes 1000-1999 differ (%d bytes)", len(got))
	}
	head := d.Run(d.cli, "curl", "-sS", "--max-time", "20", "-D", "-", "-o", "/dev/null", "-r", "0-0",
		"-H", "getcontentFeatures.dlna.org: 1", "-H", "transferMode.dlna.org: Streaming", url)
	for _, want := range []string{"206", "Content-Range: bytes 0-0/", "contentFeatures.dlna.org: DLNA.ORG_OP=01", "transferMode.dlna.org: Streaming"} {
		if !strings.Contains(head, want) {
			t.Errorf("response headers lack %q:\n%s", want, head)
		}
	}
	dur := strings.TrimSpace(d.Run(d.cli, "ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", url))
	if !strings.HasPrefix(dur, "10.") && !strings.HasPrefix(dur, "9.9") {
		t.Errorf("ffprobe duration %q, want 10 s", dur)
	}
	frame := filepath.Join(t.TempDir(), "frame.png")
	d.Run(d.cli, "ffmpeg", "-v", "error", "-y", "-ss", "6", "-i", url, "-frames:v", "1", frame)
	if fi, err := os.Stat(frame); err != nil || fi.Size() == 0 {
		t.Errorf("ffmpeg seeking to 6 s made no frame: %v", err)
	}
	playWithVLC(t, d, url)
	samsungSeesSubtitles(t, d, filmsObj.ID, url)

	// Media details: the duration (within 0.1 s of ffprobe's), the
	// picture size and the rates; artwork the TV can download.
	checkDetails(t, d, tv, ep2, dur, filmsObj, objectTitled(t, share, "Music"), song)

	// A file copied in is seen: the folder's ContainerUpdateIDs event,
	// then the folder lists it.
	browse(t, tv, "subscribed", "subscribe")
	tv.Await(t, "notify", 20*time.Second, nil) // the initial event
	tmp := filepath.Join(t.TempDir(), "copy.mkv")
	writeFile(t, tmp, string(data))
	done := time.Now()
	if err := os.Rename(tmp, filepath.Join(films, "Episode 11.mkv")); err != nil {
		// Another file system: copy.
		writeFile(t, filepath.Join(films, "Episode 11.mkv"), string(data))
		done = time.Now()
	}
	ev := tv.Await(t, "notify", 20*time.Second, func(ev netlab.Event) bool {
		var n struct{ Variable, Value string }
		ev.Decode(t, &n)
		return n.Variable == "ContainerUpdateIDs" && slices.Contains(strings.Split(n.Value, ","), filmsObj.ID)
	})
	t.Logf("ContainerUpdateIDs event for %s %v after the copy finished", filmsObj.ID, ev.At.Sub(done).Round(time.Millisecond))
	folder = browse(t, tv, "browse", "browse "+filmsObj.ID)
	if !slices.ContainsFunc(folder.Objects, func(o didlObject) bool { return strings.HasPrefix(o.Title, "Episode 11") }) {
		t.Errorf("the new file is not listed: %q", titles(folder.Objects))
	}

	// On SIGTERM the server says goodbye: the TV drops it at once.
	if !srv.Stop(syscall.SIGTERM) {
		t.Error("mediaftpd did not exit within 5 s of SIGTERM")
	}
	tv.Await(t, "gone", 10*time.Second, nil)
}

// checkDetails checks what media details show a TV: Episode 2's duration
// (ffprobe said dur seconds), picture size and rates, the album art of
// the film with a poster and of its folder, and the song's tags and
// embedded cover, each downloaded as a JPEG of at most 160x160.
func checkDetails(t *testing.T, d *dlnaLab, tv *netlab.Proc, ep2 didlObject, dur string, films, music didlObject, song songFacts) {
	t.Helper()
	res := ep2.Res[0]
	want, err := strconv.ParseFloat(dur, 64)
	if err != nil {
		t.Fatalf("ffprobe duration %q: %v", dur, err)
	}
	got, err := parseDIDLDuration(res.DurationText)
	if err != nil || math.Abs(got-want) > 0.1 {
		t.Errorf("Episode 2: res duration %q (%v), ffprobe says %s s", res.DurationText, err, dur)
	}
	if res.Resolution != "320x240" || res.Width != 320 || res.Height != 240 || res.Bitrate == "" {
		t.Errorf("Episode 2: res %+v, want a resolution of 320x240 and a bitrate", res)
	}
	t.Logf("Episode 2: duration %s (ffprobe %s s), resolution %s, bitrate %s B/s", res.DurationText, dur, res.Resolution, res.Bitrate)
	if ep2.AlbumArt != "" {
		t.Errorf("Episode 2 has no picture, but album art %q", ep2.AlbumArt)
	}

	folder := browse(t, tv, "browse", "browse "+films.ID)
	feature := objectTitled(t, folder, "Feature")
	if !feature.Container || feature.AlbumArt == "" {
		t.Errorf("the Feature folder (poster.jpg) has no album art: %+v", feature)
	}
	downloadThumb(t, d, "the Feature folder's art", feature.AlbumArt, 107, 160)
	inside := browse(t, tv, "browse", "browse "+feature.ID)
	film := objectTitled(t, inside, "Feature")
	if film.AlbumArt == "" || len(film.Res) < 2 || !strings.Contains(film.Res[1].ProtocolInfo, "DLNA.ORG_PN=JPEG_TN") ||
		film.Res[1].URI != film.AlbumArt || film.Res[0].DurationText == "" {
		t.Fatalf("the film with a poster: %+v", film)
	}
	downloadThumb(t, d, "the film's poster", film.AlbumArt, 107, 160)

	songs := browse(t, tv, "browse", "browse "+music.ID)
	sg := objectTitled(t, songs, song.title)
	if sg.Class != "object.item.audioItem.musicTrack" || sg.Artist != song.artist || sg.AlbumArt == "" || len(sg.Res) == 0 {
		t.Fatalf("the song: %+v", sg)
	}
	if got, err := parseDIDLDuration(sg.Res[0].DurationText); err != nil || math.Abs(got-song.duration) > 0.1 || sg.Res[0].Channels == "" {
		t.Errorf("the song: res %+v; ffprobe says %.3f s", sg.Res[0], song.duration)
	}
	downloadThumb(t, d, "the song's embedded cover", sg.AlbumArt, 107, 160)
}

// parseDIDLDuration parses a res@duration, "H:MM:SS.mmm", into seconds.
func parseDIDLDuration(s string) (float64, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return 0, fmt.Errorf("duration %q is not H:MM:SS.mmm", s)
	}
	h, err1 := strconv.Atoi(parts[0])
	m, err2 := strconv.Atoi(parts[1])
	sec, err3 := strconv.ParseFloat(parts[2], 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return 0, err
	}
	return float64(h*3600+m*60) + sec, nil
}

// downloadThumb downloads url from the TV's namespace and checks that it
// is a JPEG of w x h pixels.
func downloadThumb(t *testing.T, d *dlnaLab, what, url string, w, h int) {
	t.Helper()
	if url == "" {
		return
	}
	out := filepath.Join(t.TempDir(), "thumb.jpg")
	d.Run(d.cli, "curl", "-sS", "--fail", "--max-time", "20", "-o", out, url)
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil || img.Bounds().Dx() != w || img.Bounds().Dy() != h {
		t.Errorf("%s at %s: %d bytes, %v, %v; want a %dx%d JPEG", what, url, len(data), err, img.Bounds(), w, h)
		return
	}
	t.Logf("%s: %dx%d JPEG of %d bytes from %s", what, w, h, len(data), url)
}

// jpegPicture returns a w x h JPEG.
func jpegPicture(t *testing.T, w, h int) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 200, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// songFacts is what a test song holds.
type songFacts struct {
	title, artist string
	duration      float64 // seconds, as ffprobe reads it
}

// makeSongWithCover makes an MP3 of a 5 s tone with title and artist tags
// and cover (JPEG bytes) embedded as its front cover.
func makeSongWithCover(t *testing.T, path, cover string) songFacts {
	t.Helper()
	testtool.Need(t, "ffmpeg")
	pic := filepath.Join(t.TempDir(), "cover.jpg")
	writeFile(t, pic, cover)
	f := songFacts{title: "Sine Song", artist: "Test Band"}
	mustRun(t, "ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "sine=duration=5", "-i", pic,
		"-map", "0", "-map", "1", "-c:a", "libmp3lame", "-c:v", "mjpeg", "-id3v2_version", "3",
		"-metadata", "title="+f.title, "-metadata", "artist="+f.artist,
		"-metadata:s:v", "title=Album cover", "-disposition:v", "attached_pic", path)
	out := strings.TrimSpace(string(mustRun(t, "ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path)))
	var err error
	if f.duration, err = strconv.ParseFloat(out, 64); err != nil {
		t.Fatalf("ffprobe duration of the song %q: %v", out, err)
	}
	return f
}

// playWithVLC plays 3 s of url with VLC as an unprivileged user, writing
// what it demuxes to a file, and checks that something was written.
func playWithVLC(t *testing.T, d *dlnaLab, url string) {
	t.Helper()
	if _, err := exec.LookPath("cvlc"); err != nil {
		if testtool.InCI() {
			t.Fatal("cvlc is missing (vlc-bin, vlc-plugin-base)")
		}
		t.Log("skipping VLC: cvlc is missing (vlc-bin, vlc-plugin-base)")
		return
	}
	// A folder of its own that nobody may write: the test's temporary
	// folders are private to root.
	dir, err := os.MkdirTemp("", "vlc-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "vlc.ts")
	cmd := exec.Command("ip", "netns", "exec", d.cli, "runuser", "-u", "nobody", "--", "cvlc", "-I", "dummy", "-V", "dummy",
		"-A", "dummy", "--play-and-exit", "--start-time", "2", "--stop-time", "5", url,
		"--sout", "#std{access=file,mux=ts,dst="+out+"}")
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.Env = append(os.Environ(), "HOME="+dir)
	if err := runWithTimeout(cmd, toolTimeout); err != nil {
		t.Errorf("VLC: %v\n%s", err, log.String())
		return
	}
	if fi, err := os.Stat(out); err != nil || fi.Size() < 10_000 {
		t.Errorf("VLC wrote %v bytes (%v)\n%s", fi, err, log.String())
		return
	}
	t.Logf("VLC played seconds 2-5 of the stream")
}

// runWithTimeout runs cmd and kills it after timeout.
func runWithTimeout(cmd *exec.Cmd, timeout time.Duration) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(timeout):
		cmd.Process.Kill()
		<-done
		return fmt.Errorf("still running after %v", timeout)
	}
}

// soapEnvelope wraps an action of ContentDirectory in a SOAP envelope.
func soapEnvelope(action, args string) string {
	return `<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" ` +
		`s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body><u:` + action +
		` xmlns:u="urn:schemas-upnp-org:service:ContentDirectory:1">` + args + `</u:` + action + `></s:Body></s:Envelope>`
}

// TestDLNAHostile sends what a hostile or broken client on the LAN sends
// (every write action, malformed and oversized SOAP, escaping paths, a
// CallStranger SUBSCRIBE, floods of SUBSCRIBE and M-SEARCH) and checks
// that each gets its refusal, that the tree is unchanged to the byte, and
// that the server still serves and its goroutines come back.
func TestDLNAHostile(t *testing.T) {
	d := newDLNALab(t)
	base := t.TempDir()
	media := filepath.Join(base, "media")
	writeFile(t, filepath.Join(base, "secret.txt"), "TOP SECRET")
	if err := os.MkdirAll(filepath.Join(media, "Films"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(media, "Films", "film.mkv"), strings.Repeat("f", 4096))
	writeFile(t, filepath.Join(media, "Films", ".hidden.mkv"), "hidden")
	if err := os.Symlink(filepath.Join(base, "secret.txt"), filepath.Join(media, "Films", "out.mkv")); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	filepath.Walk(base, func(p string, _ os.FileInfo, _ error) error { return os.Chtimes(p, old, old) })
	before, _ := testtool.TreeDigest(t, base)
	srv := d.startMediaftpd(t, "-web", ":8021", "Media="+media)
	srvURL := "http://" + dlnaSrvAddr + ":8200"
	ctl := srvURL + "/control/ContentDirectory"

	type probe struct {
		what, method, path, body string
		headers                  map[string]string
		want                     int    // HTTP status
		contains                 string // in the body, if set
	}
	soap := map[string]string{"Content-Type": `text/xml; charset="utf-8"`}
	action := func(a string) map[string]string {
		return map[string]string{"Content-Type": `text/xml; charset="utf-8"`,
			"SOAPACTION": `"urn:schemas-upnp-org:service:ContentDirectory:1#` + a + `"`}
	}
	film := "0/Media/Films/film.mkv"
	var probes []probe
	for _, a := range []string{"CreateObject", "DestroyObject", "UpdateObject", "MoveObject", "ImportResource",
		"ExportResource", "DeleteResource", "StopTransferResource", "CreateReference"} {
		probes = append(probes, probe{"write action " + a, "POST", ctl,
			soapEnvelope(a, "<ObjectID>"+film+"</ObjectID><ContainerID>0/Media</ContainerID>"), action(a), 500, "<errorCode>401</errorCode>"})
	}
	probes = append(probes,
		probe{"malformed XML", "POST", ctl, "<s:Envelope><s:Body><u:Browse>", action("Browse"), 500, "errorCode"},
		probe{"unknown object", "POST", ctl, soapEnvelope("Browse", "<ObjectID>0/Nope</ObjectID><BrowseFlag>BrowseMetadata</BrowseFlag>"+
			"<Filter>*</Filter><StartingIndex>0</StartingIndex><RequestedCount>0</RequestedCount><SortCriteria></SortCriteria>"),
			action("Browse"), 500, "<errorCode>701</errorCode>"},
		probe{"bad sort", "POST", ctl, soapEnvelope("Browse", "<ObjectID>0</ObjectID><BrowseFlag>BrowseDirectChildren</BrowseFlag>"+
			"<Filter>*</Filter><StartingIndex>0</StartingIndex><RequestedCount>0</RequestedCount><SortCriteria>+nonsense</SortCriteria>"),
			action("Browse"), 500, "<errorCode>709</errorCode>"},
		probe{"bad search", "POST", ctl, soapEnvelope("Search", "<ContainerID>0</ContainerID><SearchCriteria>dc:title contains</SearchCriteria>"+
			"<Filter>*</Filter><StartingIndex>0</StartingIndex><RequestedCount>0</RequestedCount><SortCriteria></SortCriteria>"),
			action("Search"), 500, "<errorCode>708</errorCode>"},
		probe{"oversized SOAP", "POST", ctl, soapEnvelope("Browse", strings.Repeat("<x>aaaaaaaa</x>", 6000)), action("Browse"), 413, ""},
		probe{"no SOAPACTION", "POST", ctl, soapEnvelope("Browse", ""), soap, 500, "errorCode"},
		probe{"climbing out", "GET", "/m/Media/../../secret.txt", "", nil, 404, ""},
		probe{"climbing out escaped", "GET", "/m/Media/%2e%2e/%2e%2e/secret.txt", "", nil, 404, ""},
		probe{"symlink out", "GET", "/m/Media/Films/out.mkv", "", nil, 404, ""},
		probe{"dotfile", "GET", "/m/Media/Films/.hidden.mkv", "", nil, 404, ""},
		probe{"missing share", "GET", "/m/Nope/film.mkv", "", nil, 404, ""},
		probe{"range past the end", "GET", "/m/Media/Films/film.mkv", "", map[string]string{"Range": "bytes=5000-"}, 416, ""},
		probe{"time seek", "GET", "/m/Media/Films/film.mkv", "", map[string]string{"TimeSeekRange.dlna.org": "npt=10-"}, 406, ""},
		probe{"wrong transfer mode", "GET", "/m/Media/Films/film.mkv", "", map[string]string{"transferMode.dlna.org": "Interactive"}, 406, ""},
		probe{"CallStranger", "SUBSCRIBE", "/event/ContentDirectory", "", map[string]string{"CALLBACK": "<http://10.99.21.77:80/steal>",
			"NT": "upnp:event", "TIMEOUT": "Second-1800"}, 412, ""},
		probe{"write over HTTP", "PUT", "/m/Media/Films/film.mkv", "overwritten", nil, 405, ""},
		probe{"delete over HTTP", "DELETE", "/m/Media/Films/film.mkv", "", nil, 405, ""},
	)

	client := d.HTTPClient(t, d.cli, 20*time.Second)
	goroutines := func() int {
		resp, err := client.Get("http://" + dlnaSrvAddr + ":8021/api/status")
		if err != nil {
			return -1
		}
		defer resp.Body.Close()
		var st struct {
			Process struct{ Goroutines int } `json:"process"`
		}
		if json.NewDecoder(resp.Body).Decode(&st) != nil {
			return -1
		}
		return st.Process.Goroutines
	}
	baseline := goroutines()
	if baseline <= 0 {
		t.Fatal("no goroutine count in /api/status")
	}
	do := func(method, u, body string, headers map[string]string) (int, string, error) {
		req, err := http.NewRequest(method, u, strings.NewReader(body))
		if err != nil {
			return 0, "", err
		}
		for k, v := range headers {
			req.Header[k] = []string{v}
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return resp.StatusCode, string(b), err
	}
	for _, p := range probes {
		u := p.path
		if strings.HasPrefix(u, "/") {
			u = srvURL + u
		}
		code, body, err := do(p.method, u, p.body, p.headers)
		if err != nil || code != p.want || !strings.Contains(body, p.contains) {
			t.Errorf("%s: %d %v, want %d with %q; body %.300q", p.what, code, err, p.want, p.contains, body)
		}
	}

	// A flood of SUBSCRIBE from one address: a few are taken, the rest
	// refused, nothing piles up.
	var taken int
	for range 200 {
		code, _, err := do("SUBSCRIBE", srvURL+"/event/ContentDirectory", "", map[string]string{
			"CALLBACK": "<http://" + dlnaCliAddr + ":9/>", "NT": "upnp:event", "TIMEOUT": "Second-60"})
		if err == nil && code == 200 {
			taken++
		}
	}
	if taken == 0 || taken > 16 {
		t.Errorf("%d of 200 SUBSCRIBEs from one address taken", taken)
	}

	// A flood of M-SEARCH at the multicast group: the server keeps
	// answering others and stays up.
	var c net.PacketConn
	var err error
	d.In(t, d.cli, func() { c, err = net.ListenPacket("udp4", dlnaCliAddr+":0") })
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	group := &net.UDPAddr{IP: net.IPv4(239, 255, 255, 250), Port: 1900}
	msg := []byte("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n")
	for i := range 3000 {
		if i%7 == 0 {
			c.WriteTo([]byte("garbage \x00\xff"), group)
		}
		c.WriteTo(msg, group)
	}
	replies := 0
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 2048)
	for {
		if _, _, err := c.ReadFrom(buf); err != nil {
			break
		}
		replies++
	}
	t.Logf("3000 M-SEARCH (and 429 garbage packets) from one socket got %d replies", replies)
	if replies == 0 || replies > 600 {
		t.Errorf("%d replies to a flood of 3000 M-SEARCH", replies)
	}

	// Still serving, and back to where it was.
	code, body, err := do("GET", srvURL+"/m/Media/Films/film.mkv", "", nil)
	if err != nil || code != 200 || body != strings.Repeat("f", 4096) {
		t.Errorf("after the floods: %d %v", code, err)
	}
	// Its goroutines come back to where they were before the floods
	// (the SUBSCRIBEs taken wait for their timeout, 60 s, but hold no
	// goroutine).
	last := -1
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if last = goroutines(); last > 0 && last <= baseline+5 {
			break
		}
		if time.Now().After(deadline) {
			// The goroutines go to the log with the server's output.
			srv.Stop(syscall.SIGQUIT)
			t.Fatalf("%d goroutines 20 s after the floods, %d before them", last, baseline)
		}
	}
	if after, lines := testtool.TreeDigest(t, base); after != before {
		t.Errorf("the tree changed:\n%s", strings.Join(lines, "\n"))
	}
}

// TestDLNARestart checks what a TV relies on across a restart of the
// server (an upgrade, a reboot): the same UDN, the same object IDs, and a
// Samsung's resume position, also after an upgrade from the version that
// kept them in files of the state folder.
func TestDLNARestart(t *testing.T) {
	d := newDLNALab(t)
	media, state := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(media, "Film.mkv"), strings.Repeat("x", 1000))
	old := time.Now().Add(-time.Hour)
	os.Chtimes(filepath.Join(media, "Film.mkv"), old, old)
	client := d.HTTPClient(t, d.cli, 20*time.Second)
	srvURL := "http://" + dlnaSrvAddr + ":8200"
	post := func(action, args string) string {
		t.Helper()
		req, _ := http.NewRequest("POST", srvURL+"/control/ContentDirectory", strings.NewReader(soapEnvelope(action, args)))
		req.Header.Set("Content-Type", `text/xml; charset="utf-8"`)
		req.Header.Set("SOAPACTION", `"urn:schemas-upnp-org:service:ContentDirectory:1#`+action+`"`)
		req.Header.Set("User-Agent", "DLNADOC/1.50 SEC_HHP_[TV] Samsung Q7 Series (55)/1.0")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %s\n%s", action, resp.Status, b)
		}
		return string(b)
	}
	udn := func() string {
		t.Helper()
		resp, err := client.Get(srvURL + "/description.xml")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		i, j := bytes.Index(b, []byte("<UDN>")), bytes.Index(b, []byte("</UDN>"))
		if i < 0 || j < i {
			t.Fatalf("no UDN in the description:\n%s", b)
		}
		return string(b[i+5 : j])
	}
	const film = "0/Media/Film.mkv"
	metadata := "<ObjectID>" + film + "</ObjectID><BrowseFlag>BrowseMetadata</BrowseFlag><Filter>*</Filter>" +
		"<StartingIndex>0</StartingIndex><RequestedCount>0</RequestedCount><SortCriteria></SortCriteria>"

	srv := d.startMediaftpd(t, "-state-dir", state, "Media="+media)
	first := udn()
	// A Q-series Samsung stops the film at 25 min 42 s: milliseconds.
	post("X_SetBookmark", "<CategoryType>1</CategoryType><RID>0</RID><ObjectID>"+film+"</ObjectID><PosSecond>1542000</PosSecond>")
	if !srv.Stop(syscall.SIGTERM) {
		t.Fatal("mediaftpd did not stop")
	}

	d.startMediaftpd(t, "-state-dir", state, "Media="+media)
	if again := udn(); again != first {
		t.Errorf("UDN %s after a restart, %s before", again, first)
	}
	if got := post("Browse", metadata); !strings.Contains(got, "BM=1542000") || !strings.Contains(got, `id="`+film+`"`) {
		t.Errorf("after a restart the film's metadata lacks its bookmark or ID:\n%s", got)
	}
	// The state folder lost (deleted, or a new SD card with the same
	// machine): the UDN is derived from the machine ID again, the same.
	d.startMediaftpd(t, "-state-dir", t.TempDir(), "-dlna", ":8201", "-listen", dlnaSrvAddr+":2122", "-web", "off", "Media="+media)
	srvURL = "http://" + dlnaSrvAddr + ":8201"
	if fresh := udn(); fresh != first {
		t.Errorf("UDN %s from a new state folder, %s before", fresh, first)
	}
	// An upgrade from a version that kept its state in files: their UDN
	// and bookmarks are taken over by the store.
	earlier := t.TempDir()
	const oldUDN = "uuid:0badc0de-1234-4567-89ab-cdef01234567"
	writeFile(t, filepath.Join(earlier, "dlna-udn"), oldUDN+"\n")
	writeFile(t, filepath.Join(earlier, "dlna-bookmarks.json"),
		`{"version":1,"bookmarks":{"`+film+`":{"pos":600,"set":"2024-01-02T03:04:05Z"}}}`)
	d.startMediaftpd(t, "-state-dir", earlier, "-dlna", ":8202", "-listen", dlnaSrvAddr+":2123", "-web", "off", "Media="+media)
	srvURL = "http://" + dlnaSrvAddr + ":8202"
	if got := udn(); got != oldUDN {
		t.Errorf("UDN %s after an upgrade, %s before", got, oldUDN)
	}
	if got := post("Browse", metadata); !strings.Contains(got, "BM=600000") {
		t.Errorf("after an upgrade the film's metadata lacks its old bookmark:\n%s", got)
	}
}

// TestDLNAAllowReload checks dlna.allow: a client outside the list gets
// 403 (and no SSDP answer), and a reload that lets it in is in force at
// once, without a restart.
func TestDLNAAllowReload(t *testing.T) {
	d := newDLNALab(t)
	media := t.TempDir()
	writeFile(t, filepath.Join(media, "Film.mkv"), "film")
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	writeFile(t, cfg, "shares:\n  - name: Media\n    path: "+media+"\ndlna:\n  allow: [192.168.7.0/24]\n")
	srv := d.startMediaftpd(t, "-config", cfg)
	client := d.HTTPClient(t, d.cli, 20*time.Second)
	status := func() int {
		resp, err := client.Get("http://" + dlnaSrvAddr + ":8200/description.xml")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := status(); got != http.StatusForbidden {
		t.Errorf("a client outside dlna.allow: %d, want 403", got)
	}
	writeFile(t, cfg, "shares:\n  - name: Media\n    path: "+media+"\ndlna:\n  allow: [192.168.7.0/24, "+dlnaCliAddr+"]\n")
	srv.Cmd.Process.Signal(syscall.SIGHUP)
	srv.Await(t, "line", 10*time.Second, func(ev netlab.Event) bool { return strings.Contains(ev.Line, "dlna_allow=") })
	if got := status(); got != http.StatusOK {
		t.Errorf("after the reload let it in: %d, want 200", got)
	}
}

// samsungUA is what a Samsung Q-series TV sends.
const samsungUA = "DLNADOC/1.50 SEC_HHP_[TV] Samsung Q7 Series (55)/1.0"

// samsungSeesSubtitles browses the folder as a Samsung TV does and checks
// that Episode 2's subtitle is offered the ways Samsung looks for it: a
// text/srt res, sec:CaptionInfoEx, and the CaptionInfo.sec header on the
// video's URL; and that the subtitle itself can be fetched.
func samsungSeesSubtitles(t *testing.T, d *dlnaLab, folder, video string) {
	t.Helper()
	client := d.HTTPClient(t, d.cli, 20*time.Second)
	req, _ := http.NewRequest("POST", "http://"+dlnaSrvAddr+":8200/control/ContentDirectory", strings.NewReader(soapEnvelope("Browse",
		"<ObjectID>"+folder+"</ObjectID><BrowseFlag>BrowseDirectChildren</BrowseFlag><Filter>*</Filter>"+
			"<StartingIndex>0</StartingIndex><RequestedCount>0</RequestedCount><SortCriteria></SortCriteria>")))
	req.Header.Set("Content-Type", `text/xml; charset="utf-8"`)
	req.Header.Set("SOAPACTION", `"urn:schemas-upnp-org:service:ContentDirectory:1#Browse"`)
	req.Header.Set("User-Agent", samsungUA)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	didl := strings.NewReplacer("&lt;", "<", "&gt;", ">", "&quot;", `"`, "&amp;", "&").Replace(string(b))
	for _, want := range []string{`protocolInfo="http-get:*:text/srt:*"`, `<sec:CaptionInfoEx sec:type="srt">`, "Episode%202.srt"} {
		if !strings.Contains(didl, want) {
			t.Errorf("a Samsung's Browse lacks %s:\n%s", want, didl)
		}
	}
	req, _ = http.NewRequest("HEAD", video, nil)
	req.Header.Set("User-Agent", samsungUA)
	req.Header.Set("getCaptionInfo.sec", "1")
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	sub := resp.Header.Get("CaptionInfo.sec")
	if !strings.HasSuffix(sub, "Episode%202.srt") {
		t.Fatalf("CaptionInfo.sec %q", sub)
	}
	resp, err = client.Get(sub)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "Hello") || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/srt") {
		t.Errorf("the subtitle: %s %q %q", resp.Status, resp.Header.Get("Content-Type"), b)
	}
	t.Logf("a Samsung is offered %s", sub)
}
