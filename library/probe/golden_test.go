package probe

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestGolden probes every generated file and compares the details with
// ffprobe's: durations within 0.1 s, picture size, channels and sample
// rate exact, codec names equal, bit rate within 2 %; tags, cover art and
// the EXIF date as the case says. It logs the comparison as a table.
func TestGolden(t *testing.T) {
	dir := mediaDir(t)
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-24s %-9s %-21s %-19s %-23s %-21s %-6s %-13s\n", "file", "container", "duration ours/ffprobe", "size ours/ffprobe", "video ours/ffprobe", "audio ours/ffprobe", "ch", "rate")
	for _, c := range mediaCases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, c.name)
			d := probeFile(t, path)
			ff := ffprobe(t, path)
			still := !isTimed(d.Container)
			fmt.Fprintf(&table, "%-24s %-9s %-21s %-19s %-23s %-21s %-6s %-13s\n", c.name, d.Container,
				fmt.Sprintf("%.3f/%.3f", d.Duration.Seconds(), ff.duration),
				fmt.Sprintf("%dx%d/%dx%d", d.Width, d.Height, ff.width, ff.height),
				d.VideoCodec+"/"+ff.video, d.AudioCodec+"/"+ff.audio,
				fmt.Sprintf("%d/%d", d.Channels, ff.channels), fmt.Sprintf("%d/%d", d.SampleRate, ff.sampleRate))
			if d.Container == "" {
				t.Fatalf("no container: %+v", d)
			}
			if !still {
				if diff := math.Abs(d.Duration.Seconds() - ff.duration); ff.duration < 0 || diff > 0.1 {
					t.Errorf("duration %v, ffprobe %.6f s", d.Duration, ff.duration)
				}
				if ff.bitrate > 0 && math.Abs(float64(d.Bitrate-ff.bitrate)) > 0.02*float64(ff.bitrate) {
					t.Errorf("bit rate %d, ffprobe %d", d.Bitrate, ff.bitrate)
				}
			} else if d.Duration != 0 || d.Bitrate != 0 {
				t.Errorf("a still picture has duration %v, bit rate %d", d.Duration, d.Bitrate)
			}
			if d.Width != ff.width || d.Height != ff.height {
				t.Errorf("size %dx%d, ffprobe %dx%d", d.Width, d.Height, ff.width, ff.height)
			}
			if d.VideoCodec != ff.video || d.AudioCodec != ff.audio {
				t.Errorf("codecs %q/%q, ffprobe %q/%q", d.VideoCodec, d.AudioCodec, ff.video, ff.audio)
			}
			if d.Channels != ff.channels || d.SampleRate != ff.sampleRate {
				t.Errorf("audio %d ch %d Hz, ffprobe %d ch %d Hz", d.Channels, d.SampleRate, ff.channels, ff.sampleRate)
			}
			w := c.want
			if d.Title != w.title && !(w.title == "" && d.Title == ff.tags["title"]) {
				t.Errorf("title %q, want %q (ffprobe %q)", d.Title, w.title, ff.tags["title"])
			}
			if w.title != "" && ff.tags["title"] != w.title {
				t.Errorf("ffprobe's title %q, want %q", ff.tags["title"], w.title)
			}
			if d.Artist != w.artist || d.Album != w.album || d.Track != w.track || d.Year != w.year {
				t.Errorf("tags %q/%q/%d/%d, want %q/%q/%d/%d", d.Artist, d.Album, d.Track, d.Year, w.artist, w.album, w.track, w.year)
			}
			if d.HasCover != w.cover {
				t.Errorf("HasCover %v, want %v", d.HasCover, w.cover)
			}
			var taken string
			if !d.Taken.IsZero() {
				taken = d.Taken.Format(time.RFC3339)
			}
			if taken != w.taken {
				t.Errorf("Taken %q, want %q", taken, w.taken)
			}
		})
	}
	t.Log(table.String())
}
