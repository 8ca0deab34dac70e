package thumb

import (
	"bytes"
	"context"
	"errors"
	"image/jpeg"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/testtool"
)

// clip makes a video with ffmpeg: 4 seconds of a test pattern, the extra
// arguments applied to its output.
func clip(t *testing.T, name string, size string, extra ...string) *os.File {
	t.Helper()
	ffmpeg := testtool.Need(t, "ffmpeg")
	p := filepath.Join(t.TempDir(), name)
	args := append([]string{"-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=duration=4:rate=10:size=" + size}, extra...)
	args = append(args, "-c:v", "mpeg4", "-g", "10", "-y", p)
	if b, err := exec.Command(ffmpeg, args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, b)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func jpegSize(t *testing.T, p string) (int, int) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Width, cfg.Height
}

// TestFrameGrab grabs frames of generated clips with the real ffmpeg.
func TestFrameGrab(t *testing.T) {
	testtool.Need(t, "ffmpeg")
	c := &Cache{Dir: t.TempDir(), FFmpeg: "ffmpeg"}
	ctx := context.Background()
	for _, tt := range []struct {
		name    string
		file    *os.File
		size    int
		w, h    int
		comment string
	}{
		{"mkv 640x360", clip(t, "a.mkv", "640x360"), SizeTN, 160, 90, ""},
		{"mp4 320x240 at 320", clip(t, "b.mp4", "320x240"), SizeSmall, 320, 240, ""},
		{"anamorphic 720x576 16:9", clip(t, "c.mkv", "720x576", "-vf", "setsar=64/45"), SizeTN, 160, 90, "shown at 1024x576"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := c.FrameGrab(ctx, tt.name, tt.size, tt.file, 2*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if w, h := jpegSize(t, p); w != tt.w || h != tt.h {
				t.Errorf("%dx%d, want %dx%d %s", w, h, tt.w, tt.h, tt.comment)
			}
		})
	}
	if s := c.Stats(); s.Frames != 3 || s.Made != 3 {
		t.Errorf("stats %+v", s)
	}
	// Again: from the cache, ffmpeg does not run.
	f := clip(t, "d.mkv", "640x360")
	p1, err := c.FrameGrab(ctx, "d", SizeTN, f, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := c.FrameGrab(ctx, "d", SizeTN, f, time.Second)
	if err != nil || p2 != p1 || c.Stats().Frames != 4 {
		t.Errorf("again: %q, %v, stats %+v", p2, err, c.Stats())
	}
	// Another time is another thumbnail.
	if p3, err := c.FrameGrab(ctx, "d", SizeTN, f, 3*time.Second); err != nil || p3 == p1 {
		t.Errorf("another time: %q, %v", p3, err)
	}
	// Past the end: no frame, remembered.
	for range 2 {
		if _, err := c.FrameGrab(ctx, "d", SizeTN, f, time.Hour); !errors.Is(err, ErrNoFrame) {
			t.Errorf("past the end: %v", err)
		}
	}
	// Not a video: no frame.
	notVideo, _ := os.Open(os.Args[0])
	defer notVideo.Close()
	if _, err := c.FrameGrab(ctx, "not a video", SizeTN, notVideo, 0); !errors.Is(err, ErrNoFrame) {
		t.Errorf("not a video: %v", err)
	}
	if s := c.Stats(); s.Frames != 5 || s.Failed != 2 {
		t.Errorf("stats %+v", s)
	}
}

// TestFrameGrabOff: no FFmpeg, no frame grabs; a missing ffmpeg is one
// warning.
func TestFrameGrabOff(t *testing.T) {
	f, _ := os.Open(os.Args[0])
	defer f.Close()
	if _, err := (&Cache{Dir: t.TempDir()}).FrameGrab(context.Background(), "k", SizeTN, f, 0); !errors.Is(err, ErrNoFFmpeg) {
		t.Errorf("off: %v", err)
	}
	var log bytes.Buffer
	c := &Cache{Dir: t.TempDir(), FFmpeg: filepath.Join(t.TempDir(), "no-ffmpeg"), Logger: slog.New(slog.NewTextHandler(&log, nil))}
	for range 3 {
		if _, err := c.FrameGrab(context.Background(), "k", SizeTN, f, 0); !errors.Is(err, ErrNoFFmpeg) {
			t.Errorf("missing: %v", err)
		}
	}
	if n := strings.Count(log.String(), "level=WARN"); n != 1 || !strings.Contains(log.String(), "ffmpeg not found") {
		t.Errorf("%d warnings: %s", n, log.String())
	}
}

// fakeFFmpeg writes a shell script standing for ffmpeg.
func fakeFFmpeg(t *testing.T, script string) string {
	t.Helper()
	testtool.Need(t, "sh")
	p := filepath.Join(t.TempDir(), "ffmpeg")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+script), 0o700); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestFrameGrabPriority: ffmpeg starts at nice 19 in the idle I/O class,
// on one thread, reading the video as descriptor 3, and its PNG goes
// through the scaling.
func TestFrameGrabPriority(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("priorities are set on Linux only")
	}
	testtool.Need(t, "ionice")
	dir := t.TempDir()
	png := filepath.Join(dir, "frame.png")
	os.WriteFile(png, encodePNGTest(t, quadrants(400, 300)), 0o600)
	video := filepath.Join(dir, "video")
	os.WriteFile(video, []byte("VIDEO"), 0o600)
	ff := fakeFFmpeg(t, `
nice=$(cut -d' ' -f19 /proc/$$/stat)
io=$(ionice -p $$)
[ "$nice" = 19 ] || { echo "nice $nice" >&2; exit 1; }
[ "$io" = idle ] || { echo "ionice $io" >&2; exit 1; }
[ "$(head -c 5 /dev/fd/3)" = VIDEO ] || { echo "fd 3" >&2; exit 1; }
case " $* " in *" -threads 1 "*" -i /dev/fd/3 "*) ;; *) echo "args $*" >&2; exit 1;; esac
cat "`+png+`"
`)
	f, err := os.Open(video)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := &Cache{Dir: t.TempDir(), FFmpeg: ff}
	for i := range 10 {
		p, err := c.FrameGrab(context.Background(), "k", SizeTN, f, time.Duration(i)*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if w, h := jpegSize(t, p); w != 160 || h != 120 {
			t.Errorf("%dx%d", w, h)
		}
	}
	// The test process itself (its main thread, which ps and ionice
	// show) kept its priorities.
	b, _ := os.ReadFile("/proc/self/stat")
	if f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:])); f[16] != "0" {
		t.Errorf("this process is at nice %s", f[16])
	}
	if out, err := exec.Command("ionice", "-p", strconv.Itoa(os.Getpid())).Output(); err != nil || strings.Contains(string(out), "idle") {
		t.Errorf("this process is in the I/O class %q, %v", out, err)
	}
}

// TestFrameGrabTimeout stops an ffmpeg that hangs, and a canceled call.
func TestFrameGrabTimeout(t *testing.T) {
	runs := filepath.Join(t.TempDir(), "runs")
	ff := fakeFFmpeg(t, "echo run >> "+runs+"\nexec sleep 600\n")
	f, _ := os.Open(os.Args[0])
	defer f.Close()
	c := &Cache{Dir: t.TempDir(), FFmpeg: ff, FrameTimeout: 100 * time.Millisecond}
	_, err := c.FrameGrab(context.Background(), "k", SizeTN, f, 0)
	if !errors.Is(err, ErrNoFrame) || !strings.Contains(err.Error(), "took more than") {
		t.Fatalf("err %v", err)
	}
	// Remembered: no second run.
	if _, err := c.FrameGrab(context.Background(), "k", SizeTN, f, 0); !errors.Is(err, ErrNoFrame) {
		t.Fatalf("again: %v", err)
	}
	// A canceled call is not remembered.
	c2 := &Cache{Dir: t.TempDir(), FFmpeg: ff}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 2 {
		if _, err := c2.FrameGrab(ctx, "k", SizeTN, f, 0); !errors.Is(err, context.Canceled) {
			t.Fatalf("canceled: %v", err)
		}
	}
	if c2.Stats().Failed != 0 {
		t.Errorf("canceled remembered: %+v", c2.Stats())
	}
	b, _ := os.ReadFile(runs)
	if n := strings.Count(string(b), "run"); n != 1 {
		t.Errorf("ffmpeg ran %d times, want once", n)
	}
}

func TestCapBuffer(t *testing.T) {
	b := &capBuffer{max: 5}
	if n, err := b.Write([]byte("abc")); n != 3 || err != nil {
		t.Fatal(n, err)
	}
	if _, err := b.Write([]byte("def")); err == nil || !b.over || b.String() != "abc" {
		t.Fatalf("over the cap: %v %q", err, b.String())
	}
	d := &capBuffer{max: 5, drop: true}
	for range 3 {
		if n, err := d.Write([]byte("abc")); n != 3 || err != nil {
			t.Fatal(n, err)
		}
	}
	if d.String() != "abcab" || !d.over {
		t.Fatalf("dropping: %q", d.String())
	}
}

func TestFrameTime(t *testing.T) {
	for _, tt := range []struct{ running, want time.Duration }{
		{0, 10 * time.Second},
		{-time.Second, 10 * time.Second},
		{3 * time.Second, 300 * time.Millisecond},
		{1234567 * time.Microsecond, 123 * time.Millisecond},
		{10 * time.Minute, time.Minute},
		{2 * time.Hour, 2 * time.Minute},
	} {
		if got := FrameTime(tt.running); got != tt.want {
			t.Errorf("FrameTime(%v) = %v, want %v", tt.running, got, tt.want)
		}
	}
}

// TestFrames: frame grabs are on only with FFmpeg set and found.
func TestFrames(t *testing.T) {
	ff := fakeFFmpeg(t, "exit 1\n")
	for _, tt := range []struct {
		ffmpeg string
		want   bool
	}{
		{"", false},
		{filepath.Join(t.TempDir(), "no-ffmpeg"), false},
		{ff, true},
	} {
		c := &Cache{Dir: t.TempDir(), FFmpeg: tt.ffmpeg}
		for range 2 {
			if got := c.Frames(); got != tt.want {
				t.Errorf("FFmpeg %q: Frames() = %v", tt.ffmpeg, got)
			}
		}
	}
	if (&Cache{FFmpeg: ff}).Frames() {
		t.Error("Frames() without a Dir")
	}
}

// TestVideoFrame: the frame at FrameTime, else the first one; a video
// with neither is remembered (NoFrame) and ffmpeg is not run for it
// again; a run stopped by FrameTimeout is not tried again at 0.
func TestVideoFrame(t *testing.T) {
	dir := t.TempDir()
	png := filepath.Join(dir, "frame.png")
	os.WriteFile(png, encodePNGTest(t, quadrants(400, 300)), 0o600)
	runs := filepath.Join(dir, "runs")
	f, _ := os.Open(os.Args[0])
	defer f.Close()
	ctx := context.Background()
	// ffmpeg logs its -ss; it gives a frame only at the times given.
	script := func(at ...string) string {
		return `ss=$(echo " $* " | sed 's/.* -ss \([^ ]*\) .*/\1/')
echo "$ss" >> ` + runs + `
case "$ss" in ` + strings.Join(at, "|") + `) cat "` + png + `";; *) exit 1;; esac
`
	}
	ranAt := func() string {
		b, _ := os.ReadFile(runs)
		os.Remove(runs)
		return strings.Join(strings.Fields(string(b)), " ")
	}

	c := &Cache{Dir: t.TempDir(), FFmpeg: fakeFFmpeg(t, script("60.000"))}
	if _, err := c.VideoFrame(ctx, "film", SizeTN, f, 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	if got := ranAt(); got != "60.000" {
		t.Errorf("film: ffmpeg ran at %q", got)
	}

	c = &Cache{Dir: t.TempDir(), FFmpeg: fakeFFmpeg(t, script("0.000"))}
	p, err := c.VideoFrame(ctx, "short", SizeTN, f, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if w, h := jpegSize(t, p); w != 160 || h != 120 {
		t.Errorf("first frame %dx%d", w, h)
	}
	if got := ranAt(); got != "60.000 0.000" {
		t.Errorf("short: ffmpeg ran at %q", got)
	}
	if c.NoFrame("short") {
		t.Error("NoFrame of a video that has a first frame")
	}

	c = &Cache{Dir: t.TempDir(), FFmpeg: fakeFFmpeg(t, script("none"))}
	if c.NoFrame("broken") {
		t.Error("NoFrame before any grab")
	}
	for range 2 {
		if _, err := c.VideoFrame(ctx, "broken", SizeTN, f, 0); !errors.Is(err, ErrNoFrame) {
			t.Fatalf("broken: %v", err)
		}
	}
	if got := ranAt(); got != "10.000 0.000" {
		t.Errorf("broken: ffmpeg ran at %q, want once at 10 s and once at 0", got)
	}
	if !c.NoFrame("broken") || c.NoFrame("other") {
		t.Errorf("NoFrame: broken %v, other %v", c.NoFrame("broken"), c.NoFrame("other"))
	}

	// Canceled: not remembered.
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.VideoFrame(canceled, "canceled", SizeTN, f, 0); err == nil || c.NoFrame("canceled") {
		t.Errorf("canceled: %v, NoFrame %v", err, c.NoFrame("canceled"))
	}

	slow := fakeFFmpeg(t, "echo run >> "+runs+"\nexec sleep 600\n")
	c = &Cache{Dir: t.TempDir(), FFmpeg: slow, FrameTimeout: 100 * time.Millisecond}
	if _, err := c.VideoFrame(ctx, "slow", SizeTN, f, time.Minute); !errors.Is(err, ErrNoFrame) || !c.NoFrame("slow") {
		t.Errorf("slow: %v, NoFrame %v", err, c.NoFrame("slow"))
	}
	if got := ranAt(); got != "run" {
		t.Errorf("slow: ffmpeg ran %q, want once", got)
	}
}
