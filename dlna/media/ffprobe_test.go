package media

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mediaftpd/mediaftpd/internal/testtool"
)

// TestFFprobeReadsAndSeeks has ffprobe and ffmpeg read an MKV made by
// ffmpeg through Serve, and seek in it: the seek must come as a Range
// request that Serve answers with 206.
func TestFFprobeReadsAndSeeks(t *testing.T) {
	ffmpeg := testtool.Need(t, "ffmpeg")
	ffprobe := testtool.Need(t, "ffprobe")
	ts := newTestServer(t)
	clip := filepath.Join(ts.dir, "clip.mkv")
	out, err := exec.Command(ffmpeg, "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=duration=10:size=320x240:rate=25",
		"-c:v", "libx264", "-g", "25", clip).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	url := ts.URL + "/v/clip.mkv"

	out, err = exec.Command(ffprobe, "-v", "error", "-show_entries", "format=duration:stream=codec_name,width,height",
		"-of", "default=noprint_wrappers=1", url).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe: %v\n%s", err, out)
	}
	got := string(out)
	for _, want := range []string{"codec_name=h264", "width=320", "height=240", "duration=10.0"} {
		if !strings.Contains(got, want) {
			t.Errorf("ffprobe says\n%s\nwant %s", got, want)
		}
	}

	// ffprobe reading the frames from 5 s on: it seeks.
	ts.takeRanges()
	out, err = exec.Command(ffprobe, "-v", "error", "-select_streams", "v", "-read_intervals", "5%+#3",
		"-show_entries", "frame=pts_time", "-of", "csv=p=0", url).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe -read_intervals: %v\n%s", err, out)
	}
	first := strings.Fields(string(out))
	if len(first) == 0 {
		t.Fatalf("no frames after the seek:\n%s", out)
	}
	if pts, err := strconv.ParseFloat(strings.TrimSuffix(first[0], ","), 64); err != nil || pts < 4.9 || pts > 5.1 {
		t.Errorf("first frame after seeking to 5 s at %q", first[0])
	}
	checkSeeked(t, ts.takeRanges())

	// ffmpeg decoding one second from -ss 5.
	ts.takeRanges()
	out, err = exec.Command(ffmpeg, "-nostdin", "-v", "error", "-ss", "5", "-i", url, "-t", "1", "-f", "null", "-").CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg -ss 5: %v\n%s", err, out)
	}
	checkSeeked(t, ts.takeRanges())
}

// checkSeeked fails unless a request asked for a range that does not
// start at 0.
func checkSeeked(t *testing.T, ranges []string) {
	t.Helper()
	for _, r := range ranges {
		if r != "" && r != "bytes=0-" {
			return
		}
	}
	t.Errorf("no seek among the requests' ranges %q", ranges)
}
