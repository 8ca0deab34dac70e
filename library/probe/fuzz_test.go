package probe

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/mediaftpd/mediaftpd/internal/testtool"
)

// One fuzz target per parser. Each runs its parser directly (not through
// the sniffing in run, so the fuzzer's inputs stay with that parser) for
// details and for the cover, and checks what any probe must hold: no
// panic, sane details that survive the binary encoding. The seeds in
// testdata/fuzz are small real files (TestWriteFuzzSeeds made them).

// fuzzParse runs parse on data as a probe would.
func fuzzParse(t *testing.T, data []byte, name string, parse func(p *prober)) {
	for _, cover := range []bool{false, true} {
		p := &prober{src: newSource(bytes.NewReader(data), int64(len(data)), MaxRead), steps: maxSteps, wantCover: cover, ext: filepath.Ext(name)}
		parse(p)
		p.finish()
		p.src.release()
		if !cover {
			checkSane(t, "fuzz", p.d)
		}
	}
}

func FuzzMP4(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParse(t, data, "x.mp4", (*prober).mp4) })
}

func FuzzMatroska(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParse(t, data, "x.mkv", (*prober).matroska) })
}

func FuzzAVI(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParse(t, data, "x.avi", (*prober).avi) })
}

func FuzzWAV(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParse(t, data, "x.wav", (*prober).wav) })
}

func FuzzTS(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzParse(t, data, "x.ts", func(p *prober) {
			if n := tsPacketSize(data); n > 0 {
				p.ts(n)
			} else {
				p.byExtension()
			}
		})
	})
}

func FuzzMP3(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzParse(t, data, "x.mp3", func(p *prober) {
			if bytes.HasPrefix(data, []byte("ID3")) {
				p.id3Start()
			} else {
				p.mp3(0, nil)
			}
		})
	})
}

func FuzzFLAC(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParse(t, data, "x.flac", func(p *prober) { p.flac(0) }) })
}

func FuzzOgg(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParse(t, data, "x.ogg", (*prober).ogg) })
}

func FuzzImage(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, parse := range []func(*prober){(*prober).jpeg, (*prober).png, (*prober).gif, (*prober).webp} {
			fuzzParse(t, data, "x.img", parse)
		}
		exifTaken(data)
	})
}

func FuzzDetailsBinary(f *testing.F) {
	for _, d := range []Details{
		{},
		{Container: "matroska", Duration: 5400e9, Width: 1920, Height: 1080, VideoCodec: "hevc", AudioCodec: "eac3", Bitrate: 6e6, Channels: 6, SampleRate: 48000},
		{Container: "mp3", Title: "t", Artist: "a", Album: "b", Track: 3, Year: 1999, HasCover: true},
	} {
		b, _ := d.MarshalBinary()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var d Details
		if d.UnmarshalBinary(data) != nil {
			return
		}
		b, err := d.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var back Details
		if err := back.UnmarshalBinary(b); err != nil || !sameDetails(back, d) {
			t.Fatalf("%+v does not survive: %+v, %v", d, back, err)
		}
	})
}

// maxSeed bounds a seed's size.
const maxSeed = 512

// TestWriteFuzzSeeds writes the seed corpus from small files made with
// ffmpeg. It runs only when PROBE_WRITE_SEEDS=1 (the seeds are committed).
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("PROBE_WRITE_SEEDS") != "1" {
		t.Skip("set PROBE_WRITE_SEEDS=1 to rewrite testdata/fuzz")
	}
	ffmpeg := testtool.Need(t, "ffmpeg")
	dir := t.TempDir()
	v := opts("-f lavfi -i testsrc2=duration=0.2:size=32x32:rate=10")
	a := opts("-f lavfi -i sine=duration=0.2:sample_rate=8000")
	a48 := opts("-f lavfi -i sine=duration=0.2:sample_rate=48000")
	small := opts("-metadata title=T -metadata artist=A -metadata album=B -metadata track=1 -metadata date=2020")
	cov := []string{"-i", filepath.Join(dir, "c.png")}
	if err := run(ffmpeg, opts("-f lavfi -i color=size=8x8 -frames:v 1"), filepath.Join(dir, "c.png")); err != nil {
		t.Fatal(err)
	}
	seeds := map[string][][]string{
		"FuzzMP4": {
			join(v, a, x264, opts("-c:a aac -b:a 8k -movflags +faststart"), small, []string{"s1.mp4"}),
			join(a, cov, opts("-map 0:a -map 1:v -c:a aac -b:a 8k -c:v copy -disposition:v attached_pic"), small, []string{"s2.m4a"}),
			join(v, a, x264, opts("-c:a pcm_s16le -movflags +faststart"), []string{"s3.mov"}),
		},
		"FuzzMatroska": {
			join(v, a, x264, opts("-c:a ac3 -b:a 32k"), small, []string{"s1.mkv"}),
			join(v, a48, opts("-c:v libvpx-vp9 -deadline realtime -b:v 20k -c:a libopus -b:a 8k"), []string{"s2.webm"}),
		},
		"FuzzAVI": {join(v, a, opts("-c:v mpeg4 -c:a libmp3lame -b:a 8k"), small, []string{"s1.avi"})},
		"FuzzWAV": {join(a, opts("-c:a pcm_s16le -t 0.05"), small, []string{"s1.wav"})},
		"FuzzTS": {
			join(v, a, x264, opts("-c:a aac -b:a 8k -f mpegts"), []string{"s1.ts"}),
			join(v, a48, opts("-c:v mpeg2video -c:a ac3 -b:a 32k -f mpegts -mpegts_m2ts_mode 1"), []string{"s2.m2ts"}),
		},
		"FuzzMP3": {
			join(a, cov, opts("-map 0:a -map 1:v -c:a libmp3lame -b:a 8k -c:v copy -id3v2_version 3"), small, []string{"s1.mp3"}),
			join(a, opts("-c:a libmp3lame -q:a 9 -id3v2_version 4 -write_id3v1 1"), small, []string{"s2.mp3"}),
		},
		"FuzzFLAC": {join(a, cov, opts("-map 0:a -map 1:v -c:a flac -c:v copy -t 0.05"), small, []string{"s1.flac"})},
		"FuzzOgg": {
			join(a, opts("-c:a libvorbis"), small, []string{"s1.ogg"}),
			join(a48, opts("-c:a libopus -b:a 8k"), small, []string{"s2.opus"}),
		},
		"FuzzImage": {
			join(v, opts("-frames:v 1"), []string{"s1.jpg"}),
			join(v, opts("-frames:v 1"), []string{"s2.png"}),
			join(v, opts("-frames:v 1"), []string{"s3.gif"}),
			join(v, opts("-frames:v 1 -c:v libwebp"), []string{"s4.webp"}),
		},
	}
	for target, cmds := range seeds {
		out := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(out, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, c := range cmds {
			name := c[len(c)-1]
			p := filepath.Join(dir, name)
			if err := run(ffmpeg, c[:len(c)-1], p); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if name == "s1.jpg" {
				b = append(append(append([]byte{}, b[:2]...), exifSegment("2020:01:02 03:04:05", "-05:00")...), b[2:]...)
			}
			// Small seeds: the fuzzer minimizes every input that finds
			// new code, for up to a minute, and the time it takes grows
			// with the input; the headers are what the parsers read.
			if len(b) > maxSeed {
				b = b[:maxSeed]
			}
			seed := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
			if err := os.WriteFile(filepath.Join(out, "seed-"+name), []byte(seed), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s/%s: %d bytes", target, name, len(b))
		}
	}
}
