package main

// Side by side with MiniDLNA: one generated tree served at once by
// mediaftpd and by Debian's MiniDLNA in the server namespace, a TV-shaped
// GUPnP control point (testdata/tv.py) for each in the client namespace.
// Both must offer the same media items; how their trees differ otherwise
// is logged.

import (
	"context"
	"crypto/sha256"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/netlab"
	"github.com/mediaftpd/mediaftpd/internal/testtool"
)

// The two servers of the side-by-side test.
const (
	refOursName = "Side Ours"
	refMiniName = "Side MiniDLNA"
	refMiniPort = 8300
	// miniFolders is MiniDLNA's "Browse Folders" container: its view of
	// the media folders as they are on disk (0 also holds its Music,
	// Pictures and Video views of the same files).
	miniFolders = "64"
)

// refVideos, refAudio and refImages are the media files of the
// side-by-side tree, relative to the share, with what makes each.
var (
	refVideos = []string{
		"Films/Episode 2.mkv",
		"Films/Episode 10.mkv",
		"Films/Tom & Jerry <1>.mp4",
		"Films/Season 1/Épisode 1 (été).mp4",
		"Films/Season 1/Extras/Making \"of\" 'it'.mkv",
	}
	refAudio = []string{
		"Music/Café \"quoted\".flac",
		"Music/Rock & Roll/Song <live>.mp3",
		"Music/Ünïcödé 音楽.mp3",
		"Music/Episode 2.mp3",
	}
	refImages = []string{
		"Photos/poster.jpg",
		"Photos/Holiday 2024/beach & sun.jpg",
		"Photos/diagram.png",
	}
	// refOther are files that are not media, and a folder with nothing.
	refOther = map[string]string{
		"Films/notes.txt":               "not media\n",
		"Films/Episode 2.srt":           "1\n00:00:00,500 --> 00:00:01,500\nHello\n",
		"Films/.hidden.mkv":             "a dotfile",
		"Empty/":                        "",
		"Music/Rock & Roll/cover.nfo":   "<nfo/>",
		"Photos/Holiday 2024/Thumbs.db": "junk",
	}
)

// makeRefTree generates the side-by-side tree under dir: short videos,
// tones and pictures made by ffmpeg, each different in size.
func makeRefTree(t *testing.T, dir string) {
	t.Helper()
	testtool.Need(t, "ffmpeg")
	run := func(out string, args ...string) {
		p := filepath.Join(dir, filepath.FromSlash(out))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mustRun(t, "ffmpeg", append(append([]string{"-loglevel", "error", "-y"}, args...), p)...)
	}
	for i, v := range refVideos {
		// Durations 1-5 s and two sizes, so no two files are alike.
		size := []string{"160x120", "176x144"}[i%2]
		run(v, "-f", "lavfi", "-i", fmt.Sprintf("testsrc2=duration=%d:size=%s:rate=10", i+1, size),
			"-c:v", "libx264", "-pix_fmt", "yuv420p")
	}
	for i, a := range refAudio {
		run(a, "-f", "lavfi", "-i", fmt.Sprintf("sine=frequency=%d:duration=%d", 440+110*i, i+1))
	}
	for i, img := range refImages {
		run(img, "-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=%dx%d", 160+16*i, 120+16*i), "-frames:v", "1")
	}
	for rel, content := range refOther {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if strings.HasSuffix(rel, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		writeFile(t, p, content)
	}
	setTimes(t, dir)
}

// refTV starts a TV-shaped GUPnP control point in the client namespace
// and waits until it has found the server named name.
func (r *refLab) refTV(t *testing.T, name string) *netlab.Proc {
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
	p := r.Start("tv "+name, r.cli, nil, "/usr/bin/python3", script, refCliIf, name)
	var found tvFound
	p.Await(t, "found", 30*time.Second, nil).Decode(t, &found)
	t.Logf("the TV found %q at %s (%s)", found.Name, found.Location, found.Model)
	return p
}

// tvWalk is the tree under a container as the TV's "walk" found it.
type tvWalk struct {
	ID         string       `json:"id"`
	Items      []walkedItem `json:"items"`
	Containers []struct {
		Path       string `json:"path"`
		ID         string `json:"id"`
		ChildCount int    `json:"child_count"`
	} `json:"containers"`
	Errors  []map[string]any `json:"errors"`
	Browses int              `json:"browses"`
}

// walkedItem is an item found by walking a server's tree, with the titles
// of the containers above it.
type walkedItem struct {
	didlObject
	Path string `json:"path"` // "Films/Season 1"
}

// key is what the comparison matches items by: the title (a file name
// without its extension) and the size of the first resource.
func (w walkedItem) key() string {
	var size int64 = -1
	if len(w.Res) > 0 {
		size = w.Res[0].Size
	}
	return fmt.Sprintf("%s|%d", w.Title, size)
}

// walkTree has the TV walk the tree under id, leaving out the containers
// skip names, and fails the test on any error of the walk.
func walkTree(t *testing.T, tv *netlab.Proc, id string, skip ...string) tvWalk {
	t.Helper()
	tv.Send(t, strings.Join(append([]string{"walk", id}, skip...), " "))
	var w tvWalk
	tv.Await(t, "walk", time.Minute, nil).Decode(t, &w)
	for _, e := range w.Errors {
		t.Errorf("%s: walking %s: %v", tv.Name, id, e)
	}
	return w
}

// isMedia reports whether a class is one of the media classes.
func isMedia(class string) bool {
	for _, c := range []string{"object.item.videoItem", "object.item.audioItem", "object.item.imageItem"} {
		if class == c || strings.HasPrefix(class, c+".") {
			return true
		}
	}
	return false
}

// miniDLNASkips says why MiniDLNA 1.3 leaves out a media file that
// mediaftpd offers, by MIME type; "" when it should not.
func miniDLNASkips(mime string) string {
	switch mime {
	case "image/png":
		return "MiniDLNA 1.3 indexes JPEG pictures only (is_image: .jpg, .jpeg)"
	}
	return ""
}

// TestDLNASameItemsAsMiniDLNA serves one tree with mediaftpd and with
// MiniDLNA side by side and has a TV walk each: both must offer the same
// media items (matched by title and size, and by the bytes their res
// URLs serve); where they differ in structure is logged.
func TestDLNASameItemsAsMiniDLNA(t *testing.T) {
	r := newRefLab(t)
	needMiniDLNA(t)
	media := filepath.Join(t.TempDir(), "Media")
	makeRefTree(t, media)

	r.startMiniDLNA(t, refMiniPort, refMiniName, true, media)
	r.startMediaftpd(t, refOursName, ":8200", "Media="+media)

	// The TVs: one for each server, each finding its own by name.
	tvOurs := r.refTV(t, refOursName)
	tvMini := r.refTV(t, refMiniName)

	// mediaftpd's "Recently added" ("R") lists files of the shares again.
	ourWalk := walkTree(t, tvOurs, "0", "R")
	root := browse(t, tvMini, "browse", "browse 0")
	t.Logf("MiniDLNA's root: %q; walking only %s, its folders as on disk", titles(root.Objects), miniFolders)
	miniWalk := walkTree(t, tvMini, miniFolders)
	t.Logf("the walks took %d Browse calls on mediaftpd, %d on MiniDLNA", ourWalk.Browses, miniWalk.Browses)

	// mediaftpd's tree has the share as its first level.
	inShare := func(p string) string { return strings.TrimPrefix(strings.TrimPrefix(p, "Media"), "/") }
	ourItems, miniItems := ourWalk.Items, miniWalk.Items
	for i := range ourItems {
		ourItems[i].Path = inShare(ourItems[i].Path)
	}
	var ourContainers, miniContainers []string
	for _, c := range ourWalk.Containers {
		if p := inShare(c.Path); p != "" {
			ourContainers = append(ourContainers, p)
		}
	}
	for _, c := range miniWalk.Containers {
		miniContainers = append(miniContainers, c.Path)
	}

	byKey := func(items []walkedItem) map[string][]walkedItem {
		m := map[string][]walkedItem{}
		for _, it := range items {
			m[it.key()] = append(m[it.key()], it)
		}
		return m
	}
	var ourMedia, ourOther []walkedItem
	for _, it := range ourItems {
		if isMedia(it.Class) {
			ourMedia = append(ourMedia, it)
		} else {
			ourOther = append(ourOther, it)
		}
	}
	ours, theirs := byKey(ourMedia), byKey(miniItems)
	t.Logf("mediaftpd: %d items (%d media), %d folders; MiniDLNA: %d items, %d folders",
		len(ourItems), len(ourMedia), len(ourContainers), len(miniItems), len(miniContainers))

	// The same media items.
	for _, k := range slices.Sorted(maps.Keys(theirs)) {
		if len(ours[k]) != len(theirs[k]) {
			t.Errorf("MiniDLNA offers %d of %q (in %q), mediaftpd %d", len(theirs[k]), k, theirs[k][0].Path, len(ours[k]))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(ours)) {
		if len(theirs[k]) > 0 {
			continue
		}
		it := ours[k][0]
		mime := ""
		if len(it.Res) > 0 {
			mime = it.Res[0].MIME
		}
		if why := miniDLNASkips(mime); why != "" {
			t.Logf("difference (expected): mediaftpd offers %q in %q (%s, %s); %s", it.Title, it.Path, it.Class, mime, why)
			continue
		}
		t.Errorf("mediaftpd offers %q in %q (%s, %s), MiniDLNA does not", it.Title, it.Path, it.Class, mime)
	}

	// Matched items serve the same bytes, those of the file.
	hc := r.labClient(t, r.cli)
	ctx := context.Background()
	sum := func(u string) string {
		b, err := httpGet(ctx, hc, u)
		if err != nil {
			t.Errorf("%v", err)
			return ""
		}
		return fmt.Sprintf("%x", sha256.Sum256(b))
	}
	matched := 0
	for k, ts := range theirs {
		us := ours[k]
		if len(us) == 0 || len(us[0].Res) == 0 || len(ts[0].Res) == 0 {
			continue
		}
		a, b := sum(us[0].Res[0].URI), sum(ts[0].Res[0].URI)
		if a != b || a == "" {
			t.Errorf("%q: mediaftpd's %s and MiniDLNA's %s serve different bytes", k, us[0].Res[0].URI, ts[0].Res[0].URI)
		}
		matched++
	}
	t.Logf("%d media items matched by title and size, each serving the same bytes from both", matched)
	for _, k := range slices.Sorted(maps.Keys(theirs)) {
		us, ts := ours[k], theirs[k]
		if len(us) == 0 || len(us[0].Res) == 0 || len(ts[0].Res) == 0 {
			continue
		}
		if us[0].Class != ts[0].Class || us[0].Res[0].MIME != ts[0].Res[0].MIME {
			t.Logf("difference: %q is %s %s on mediaftpd, %s %s on MiniDLNA", us[0].Title,
				us[0].Class, us[0].Res[0].MIME, ts[0].Class, ts[0].Res[0].MIME)
		}
	}
	if want := len(refVideos) + len(refAudio) + len(refImages); len(ourMedia) != want {
		t.Errorf("mediaftpd offers %d media items, the tree has %d media files", len(ourMedia), want)
	}

	// What else differs, for the record.
	for _, it := range ourOther {
		mime := ""
		if len(it.Res) > 0 {
			mime = it.Res[0].MIME
		}
		t.Logf("difference: mediaftpd lists %q in %q as %s (%s, not media); MiniDLNA leaves it out", it.Title, it.Path, it.Class, mime)
	}
	if slices.Equal(slices.Sorted(slices.Values(ourContainers)), slices.Sorted(slices.Values(miniContainers))) {
		t.Logf("both list the same %d folders: %q", len(ourContainers), ourContainers)
	}
	for _, c := range ourContainers {
		if !slices.Contains(miniContainers, c) {
			t.Logf("difference: mediaftpd lists the folder %q, MiniDLNA does not", c)
		}
	}
	for _, c := range miniContainers {
		if !slices.Contains(ourContainers, c) {
			t.Logf("difference: MiniDLNA lists the folder %q, mediaftpd does not", c)
		}
	}
	order := func(items []walkedItem, path string) []string {
		var out []string
		for _, it := range items {
			if it.Path == path {
				out = append(out, it.Title)
			}
		}
		return out
	}
	for _, p := range []string{"Films", "Music"} {
		if a, b := order(ourMedia, p), order(miniItems, p); !slices.Equal(a, b) {
			t.Logf("difference: order of the media in %q: mediaftpd %q, MiniDLNA %q", p, a, b)
		}
	}

	// Search for every item, as TVs with a search box do.
	for _, s := range []struct {
		name string
		tv   *netlab.Proc
	}{{"mediaftpd", tvOurs}, {"MiniDLNA", tvMini}} {
		s.tv.Send(t, `search 0 upnp:class derivedfrom "object.item"`)
		ev, _ := s.tv.AwaitAll(t, "search", 20*time.Second, nil)
		var res browseResult
		ev.Decode(t, &res)
		media := 0
		for _, o := range res.Objects {
			if isMedia(o.Class) {
				media++
			}
		}
		t.Logf("%s: Search(0, upnp:class derivedfrom \"object.item\") found %d items, %d of them media", s.name, res.Total, media)
	}
}
