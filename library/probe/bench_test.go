package probe

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/testtool"
)

// benchCount is how many files the benchmarks probe: the issue's "1,000
// mixed files".
const benchCount = 1000

// benchKinds are the small files the benchmark set is made of, one second
// each (about 25 MiB for the thousand copies).
var benchKinds = []struct {
	name string
	args []string
}{
	{"clip.mp4", join(vid(1, "160x120", 25), aud(1, 44100), x264, opts("-c:a aac -b:a 32k"), tags)},
	{"fast.mp4", join(vid(1, "160x120", 25), aud(1, 44100), x264, opts("-c:a aac -b:a 32k -movflags +faststart"))},
	{"clip.mov", join(vid(1, "160x120", 25), aud(1, 8000), x264, opts("-c:a pcm_s16le -ac 1"))},
	{"song.m4a", join(aud(1, 44100), cover, opts("-map 0:a -map 1:v -c:a aac -b:a 32k -c:v copy -disposition:v attached_pic"), tags)},
	{"clip.mkv", join(vid(1, "160x120", 25), aud(1, 48000), x264, opts("-c:a ac3 -b:a 64k"), tags)},
	{"clip.webm", join(vid(1, "160x120", 25), aud(1, 48000), opts("-c:v libvpx-vp9 -deadline realtime -cpu-used 8 -b:v 50k -c:a libopus -b:a 16k"))},
	{"clip.avi", join(vid(1, "160x120", 25), aud(1, 22050), opts("-c:v mpeg4 -c:a libmp3lame -b:a 32k"))},
	{"clip.ts", join(vid(1, "160x120", 25), aud(1, 48000), x264, opts("-c:a aac -b:a 32k -f mpegts"))},
	{"clip.m2ts", join(vid(1, "160x120", 25), aud(1, 48000), x264, opts("-c:a ac3 -b:a 64k -f mpegts -mpegts_m2ts_mode 1"))},
	{"song.mp3", join(aud(1, 44100), cover, opts("-map 0:a -map 1:v -c:a libmp3lame -b:a 64k -c:v copy -id3v2_version 3"), tags)},
	{"vbr.mp3", join(aud(1, 44100), opts("-c:a libmp3lame -q:a 6"), tags)},
	{"song.flac", join(aud(1, 8000), cover, opts("-map 0:a -map 1:v -c:a flac -c:v copy -disposition:v attached_pic"), tags)},
	{"song.ogg", join(aud(1, 22050), opts("-c:a libvorbis -q:a 0"), tags)},
	{"song.opus", join(aud(1, 48000), opts("-c:a libopus -b:a 16k"), tags)},
	{"sound.wav", join(aud(1, 8000), opts("-c:a pcm_s16le"), tags)},
	{"photo.jpg", join(vid(1, "320x240", 1), opts("-frames:v 1"))},
	{"image.png", join(vid(1, "160x120", 1), opts("-frames:v 1"))},
	{"image.gif", join(vid(1, "160x120", 1), opts("-frames:v 1"))},
	{"image.webp", join(vid(1, "160x120", 1), opts("-frames:v 1 -c:v libwebp"))},
}

// benchFiles makes the benchmark set in a temporary folder: benchCount
// copies of the kinds, round robin, read once so they are in the page
// cache.
func benchFiles(b *testing.B) []string {
	ffmpeg := testtool.Need(b, "ffmpeg")
	dir := b.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		b.Fatal(err)
	}
	coverPath := filepath.Join(src, "cover.png")
	if err := run(ffmpeg, opts("-f lavfi -i testsrc2=size=64x64 -frames:v 1"), coverPath); err != nil {
		b.Fatal(err)
	}
	var data [][]byte
	for _, k := range benchKinds {
		args := make([]string, len(k.args))
		for i, a := range k.args {
			if a == "{cover}" {
				a = coverPath
			}
			args[i] = a
		}
		p := filepath.Join(src, k.name)
		if err := run(ffmpeg, args, p); err != nil {
			b.Fatal(err)
		}
		d, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		data = append(data, d)
	}
	var paths []string
	var total int64
	for i := range benchCount {
		k := i % len(benchKinds)
		p := filepath.Join(dir, fmt.Sprintf("%04d-%s", i, benchKinds[k].name))
		if err := os.WriteFile(p, data[k], 0o644); err != nil {
			b.Fatal(err)
		}
		paths = append(paths, p)
		total += int64(len(data[k]))
	}
	b.Logf("%d files of %d kinds, %.1f MiB", len(paths), len(benchKinds), float64(total)/(1<<20))
	return paths
}

// probePath opens, probes and closes one file, as the library's
// background work does.
func probePath(b *testing.B, p string) Details {
	f, err := os.Open(p)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	d, err := Probe(f, fi.Size(), filepath.Base(p))
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// BenchmarkProbe probes the thousand mixed files from the page cache, one
// file per iteration (open, stat, probe, close).
func BenchmarkProbe(b *testing.B) {
	paths := benchFiles(b)
	for _, p := range paths { // warm the page cache and the code
		probePath(b, p)
	}
	b.ReportAllocs()
	i := 0
	start := time.Now()
	for b.Loop() {
		probePath(b, paths[i%len(paths)])
		i++
	}
	b.ReportMetric(float64(i)/time.Since(start).Seconds(), "files/s")
}

// BenchmarkProbeVsFFprobe probes the same thousand files with Probe and
// with one ffprobe run per file (as a server shelling out would), and
// reports both rates and their ratio (the target: 20x or more).
func BenchmarkProbeVsFFprobe(b *testing.B) {
	ffprobeBin := testtool.Need(b, "ffprobe")
	paths := benchFiles(b)
	for _, p := range paths {
		probePath(b, p)
	}
	for b.Loop() {
		start := time.Now()
		for _, p := range paths {
			probePath(b, p)
		}
		ours := time.Since(start)
		start = time.Now()
		for _, p := range paths {
			if err := exec.Command(ffprobeBin, "-v", "error", "-show_format", "-show_streams", "-of", "json", p).Run(); err != nil {
				b.Fatalf("ffprobe %s: %v", p, err)
			}
		}
		theirs := time.Since(start)
		n := float64(len(paths))
		b.ReportMetric(n/ours.Seconds(), "probe-files/s")
		b.ReportMetric(n/theirs.Seconds(), "ffprobe-files/s")
		b.ReportMetric(theirs.Seconds()/ours.Seconds(), "x-ffprobe")
		b.Logf("%d files: Probe %v (%.0f files/s), ffprobe %v (%.1f files/s): %.0fx", len(paths),
			ours.Round(time.Millisecond), n/ours.Seconds(), theirs.Round(time.Millisecond), n/theirs.Seconds(), theirs.Seconds()/ours.Seconds())
	}
}
