package probe

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/mediaftpd/mediaftpd/internal/testtool"
)

// The real files of the golden and hostile tests, made with ffmpeg in a
// temporary folder once per test binary.

// mediaCase is one generated file: how to make it and what its tags
// should say (ffprobe is the reference for the rest).
type mediaCase struct {
	name  string
	args  []string // ffmpeg arguments; "{cover}" is replaced by the cover picture's path
	build func(dir string) error
	want  wantTags
	big   bool // a sparse file over 4 GiB: left out of the truncation tests
	long  bool // the two-hour files
}

// wantTags is what a file's tags and pictures should read.
type wantTags struct {
	title, artist, album string
	track, year          int
	cover                bool
	taken                string // RFC 3339
}

var (
	vid = func(d int, size string, rate int) []string {
		return []string{"-f", "lavfi", "-i", fmt.Sprintf("testsrc2=duration=%d:size=%s:rate=%d", d, size, rate)}
	}
	aud = func(d, rate int) []string {
		return []string{"-f", "lavfi", "-i", fmt.Sprintf("sine=frequency=440:duration=%d:sample_rate=%d", d, rate)}
	}
	cover = []string{"-i", "{cover}"}
	x264  = []string{"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"}
	x265  = []string{"-c:v", "libx265", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-x265-params", "log-level=error", "-tag:v", "hvc1"}
	tags  = []string{"-metadata", "title=Süße Grüße", "-metadata", "artist=The Testers", "-metadata", "album=Golden Files",
		"-metadata", "track=7/12", "-metadata", "date=2021"}
	wantAll = wantTags{title: "Süße Grüße", artist: "The Testers", album: "Golden Files", track: 7, year: 2021}
	// ffmpeg's QuickTime muxer writes no track number.
	movTags = wantTags{title: "Süße Grüße", artist: "The Testers", album: "Golden Files", year: 2021}
)

func join(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func opts(s string) []string { return strings.Fields(s) }

var mediaCases = []mediaCase{
	{name: "h264_aac.mp4", args: join(vid(3, "320x240", 25), aud(3, 44100), x264, opts("-c:a aac -ac 2"), tags), want: wantAll},
	{name: "h264_aac_faststart.mp4", args: join(vid(3, "320x240", 25), aud(3, 44100), x264, opts("-c:a aac -ac 2 -movflags +faststart -metadata title=Fast"))},
	{name: "h264_pcm.mov", args: join(vid(2, "320x180", 30), aud(2, 48000), x264, opts("-c:a pcm_s16le -ac 2"), tags), want: movTags},
	{name: "mpeg4_ac3.m4v", args: join(vid(3, "352x288", 25), aud(3, 48000), opts("-c:v mpeg4 -c:a ac3 -ac 6 -f mp4"))},
	{name: "aac_cover.m4a", args: join(aud(4, 48000), cover, opts("-map 0:a -map 1:v -c:a aac -ac 2 -c:v copy -disposition:v attached_pic"), tags), want: withCover(wantAll)},
	{name: "h263_aac.3gp", args: join(vid(3, "176x144", 15), aud(3, 22050), opts("-c:v h263 -c:a aac -ac 1"))},
	{name: "hevc_aac.mp4", args: join(vid(2, "320x240", 25), aud(2, 44100), x265, opts("-c:a aac -ac 2"))},
	{name: "h264_ac3.mkv", args: join(vid(3, "320x240", 25), aud(3, 48000), x264, opts("-c:a ac3 -ac 2"), tags), want: wantAll},
	{name: "mpeg4_mp3.mkv", args: join(vid(2, "320x240", 24), aud(2, 44100), opts("-c:v mpeg4 -c:a libmp3lame -ac 2"))},
	{name: "vp9_opus.webm", args: join(vid(2, "160x120", 10), aud(2, 48000), opts("-c:v libvpx-vp9 -deadline realtime -cpu-used 8 -b:v 100k -c:a libopus -ac 2"))},
	{name: "mpeg4_mp3.avi", args: join(vid(3, "320x240", 25), aud(3, 44100), opts("-c:v mpeg4 -c:a libmp3lame -ac 2"), tags), want: wantAll},
	{name: "h264_pcm.avi", args: join(vid(2, "160x120", 25), aud(2, 22050), x264, opts("-c:a pcm_s16le -ac 1"))},
	{name: "h264_aac.ts", args: join(vid(3, "320x240", 25), aud(3, 48000), x264, opts("-c:a aac -ac 2 -f mpegts"))},
	{name: "mpeg2_mp2.ts", args: join(vid(3, "352x288", 25), aud(3, 48000), opts("-c:v mpeg2video -c:a mp2 -ac 2 -f mpegts"))},
	{name: "h264_ac3.m2ts", args: join(vid(3, "320x240", 25), aud(3, 48000), x264, opts("-c:a ac3 -ac 6 -f mpegts -mpegts_m2ts_mode 1"))},
	{name: "ac3_audio.ts", args: join(aud(3, 44100), opts("-c:a ac3 -b:a 96k -f mpegts -t 3.3"))},
	{name: "hevc_eac3.ts", args: join(vid(2, "320x240", 25), aud(2, 48000), x265, opts("-c:a eac3 -ac 2 -f mpegts"))},
	{name: "cbr.mp3", args: join(aud(5, 44100), cover, opts("-map 0:a -map 1:v -c:a libmp3lame -b:a 128k -ac 2 -c:v copy -id3v2_version 3 -disposition:v attached_pic"), tags), want: withCover(wantAll)},
	{name: "cbr_noxing.mp3", args: join(aud(5, 22050), opts("-c:a libmp3lame -b:a 64k -ac 1 -write_xing 0 -write_id3v1 1"), tags), want: wantAll},
	{name: "vbr.mp3", args: join(aud(6, 48000), opts("-c:a libmp3lame -q:a 2 -ac 2 -id3v2_version 4"), tags), want: wantAll},
	{name: "tags_cover.flac", args: join(aud(4, 44100), cover, opts("-map 0:a -map 1:v -c:a flac -ac 2 -c:v copy -disposition:v attached_pic"), tags), want: withCover(wantAll)},
	{name: "vorbis.ogg", args: join(aud(4, 44100), opts("-c:a libvorbis -ac 2"), tags), want: wantAll},
	{name: "opus.opus", args: join(aud(3, 48000), opts("-c:a libopus -ac 2"), tags), want: wantAll},
	{name: "cover.opus", build: opusCover, want: wantTags{title: "Covered", cover: true}},
	{name: "cover.mka", args: join(aud(2, 44100), opts("-c:a libvorbis -ac 1 -attach {noise} -metadata:s:t mimetype=image/png -metadata:s:t filename=cover.png -metadata title=Attached")), want: wantTags{title: "Attached", cover: true}},
	{name: "pcm.wav", args: join(aud(3, 48000), opts("-c:a pcm_s16le -ac 2"), tags), want: wantTags{title: "Süße Grüße", artist: "The Testers", album: "Golden Files", track: 7, year: 2021}},
	{name: "float.wav", args: join(aud(2, 22050), opts("-c:a pcm_f32le -ac 1"))},
	{name: "photo.jpg", args: join(vid(1, "640x480", 1), opts("-frames:v 1")), build: addEXIF, want: wantTags{taken: "2021-07-04T12:34:56+02:00"}},
	{name: "image.png", args: join(vid(1, "300x200", 1), opts("-frames:v 1"))},
	{name: "image.gif", args: join(vid(1, "120x90", 1), opts("-frames:v 1"))},
	{name: "image.webp", args: join(vid(1, "200x150", 1), opts("-frames:v 1 -c:v libwebp"))},
	{name: "long2h.mp4", args: join(opts("-f lavfi -i color=size=64x64:rate=1"), opts("-t 7200"), x264), long: true},
	{name: "long2h.mkv", args: opts("-i {dir}/long2h.mp4 -c copy"), long: true},
	{name: "long2h.ts", args: opts("-i {dir}/long2h.mp4 -c copy -f mpegts"), long: true},
	{name: "big.mp4", build: bigMP4, big: true, want: wantAll},
	{name: "big.wav", build: bigWAV, big: true},
}

func withCover(w wantTags) wantTags { w.cover = true; return w }

// media holds the generated files: made once, kept until the test binary
// ends.
var media struct {
	once sync.Once
	dir  string
	err  error
}

// TestMain removes the generated files at the end.
func TestMain(m *testing.M) {
	code := m.Run()
	if media.dir != "" {
		os.RemoveAll(media.dir)
	}
	os.Exit(code)
}

// mediaDir makes the files (once) and returns their folder.
func mediaDir(t testing.TB) string {
	t.Helper()
	ffmpeg := testtool.Need(t, "ffmpeg")
	media.once.Do(func() {
		media.dir, media.err = os.MkdirTemp("", "probe-media-")
		if media.err != nil {
			return
		}
		media.err = makeMedia(ffmpeg, media.dir)
	})
	if media.err != nil {
		t.Fatal(media.err)
	}
	return media.dir
}

func makeMedia(ffmpeg, dir string) error {
	coverPath := filepath.Join(dir, "cover.png")
	if err := run(ffmpeg, opts("-f lavfi -i testsrc2=size=64x64 -frames:v 1"), coverPath); err != nil {
		return err
	}
	// A picture of noise, big enough (about 50 KiB) to span Ogg pages.
	noisePath := filepath.Join(dir, "noise.png")
	if err := run(ffmpeg, []string{"-f", "lavfi", "-i", "nullsrc=s=128x128,geq=lum=random(1)*255:cb=128:cr=128", "-frames:v", "1"}, noisePath); err != nil {
		return err
	}
	for _, c := range mediaCases {
		out := filepath.Join(dir, c.name)
		if c.args != nil {
			args := make([]string, len(c.args))
			for i, a := range c.args {
				a = strings.ReplaceAll(a, "{cover}", coverPath)
				a = strings.ReplaceAll(a, "{noise}", noisePath)
				args[i] = strings.ReplaceAll(a, "{dir}", dir)
			}
			if err := run(ffmpeg, args, out); err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
		}
		if c.build != nil {
			if err := c.build(dir); err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
		}
	}
	return nil
}

func run(ffmpeg string, args []string, out string) error {
	full := append([]string{"-hide_banner", "-loglevel", "error", "-y"}, args...)
	full = append(full, out)
	if b, err := exec.Command(ffmpeg, full...).CombinedOutput(); err != nil {
		return fmt.Errorf("ffmpeg %s: %w\n%s", strings.Join(full, " "), err, b)
	}
	return nil
}

// addEXIF puts an APP1 segment with DateTimeOriginal and
// OffsetTimeOriginal after the SOI of photo.jpg (ffmpeg writes no EXIF).
func addEXIF(dir string) error {
	p := filepath.Join(dir, "photo.jpg")
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	out := append([]byte{}, b[:2]...)
	out = append(out, exifSegment("2021:07:04 12:34:56", "+02:00")...)
	out = append(out, b[2:]...)
	return os.WriteFile(p, out, 0o644)
}

// exifSegment builds an APP1 EXIF segment (little-endian TIFF): IFD0 with
// the Exif IFD pointer, the Exif IFD with DateTimeOriginal and
// OffsetTimeOriginal.
func exifSegment(date, offset string) []byte {
	le := binary.LittleEndian
	var t []byte
	t = append(t, "II*\x00"...)
	t = le.AppendUint32(t, 8)
	// IFD0 at 8: one entry.
	t = le.AppendUint16(t, 1)
	t = le.AppendUint16(t, 0x8769)
	t = le.AppendUint16(t, 4)
	t = le.AppendUint32(t, 1)
	t = le.AppendUint32(t, 26)
	t = le.AppendUint32(t, 0)
	// Exif IFD at 26: two entries, values after it at 56 and 76.
	t = le.AppendUint16(t, 2)
	t = le.AppendUint16(t, 0x9003)
	t = le.AppendUint16(t, 2)
	t = le.AppendUint32(t, 20)
	t = le.AppendUint32(t, 56)
	t = le.AppendUint16(t, 0x9011)
	t = le.AppendUint16(t, 2)
	t = le.AppendUint32(t, 7)
	t = le.AppendUint32(t, 76)
	t = le.AppendUint32(t, 0)
	t = append(t, date...)
	t = append(t, 0)
	t = append(t, offset...)
	t = append(t, 0)
	payload := append([]byte("Exif\x00\x00"), t...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	return append(seg, payload...)
}

// opusCover makes cover.opus: Opus with a METADATA_BLOCK_PICTURE comment
// holding noise.png (ffmpeg's Ogg muxer writes no pictures of its own, but
// writes the comment given as metadata, and reads it back as a picture).
func opusCover(dir string) error {
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		return err
	}
	pic, err := os.ReadFile(filepath.Join(dir, "noise.png"))
	if err != nil {
		return err
	}
	meta := ";FFMETADATA1\ntitle=Covered\nMETADATA_BLOCK_PICTURE=" +
		strings.ReplaceAll(base64.StdEncoding.EncodeToString(flacPictureBlock(3, "image/png", pic)), "=", "\\=") + "\n"
	metaPath := filepath.Join(dir, "meta.txt")
	if err := os.WriteFile(metaPath, []byte(meta), 0o644); err != nil {
		return err
	}
	return run(ffmpeg, join(aud(3, 48000), []string{"-i", metaPath, "-map_metadata", "1", "-c:a", "libopus", "-ac", "2"}), filepath.Join(dir, "cover.opus"))
}

// flacPictureBlock builds the body of a FLAC PICTURE block.
func flacPictureBlock(ptype uint32, mime string, pic []byte) []byte {
	be := binary.BigEndian
	var b []byte
	b = be.AppendUint32(b, ptype)
	b = be.AppendUint32(b, uint32(len(mime)))
	b = append(b, mime...)
	b = be.AppendUint32(b, 0) // description
	b = be.AppendUint32(b, 128)
	b = be.AppendUint32(b, 128)
	b = be.AppendUint32(b, 24)
	b = be.AppendUint32(b, 0)
	b = be.AppendUint32(b, uint32(len(pic)))
	return append(b, pic...)
}

// bigGap is the sparse gap that makes the big files exceed 4 GiB.
const bigGap = 5 << 30

// bigMP4 makes big.mp4 from h264_aac.mp4 (moov at the end): everything up
// to the moov, then a free box with a 64-bit size of 5 GiB (a sparse hole),
// then the moov, at an offset over 4 GiB. The sample offsets still point
// into the mdat, which did not move.
func bigMP4(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, "h264_aac.mp4"))
	if err != nil {
		return err
	}
	moov := bytes.Index(b, []byte("moov")) - 4
	for off := 0; off < len(b); {
		size := int(binary.BigEndian.Uint32(b[off:]))
		if size == 1 {
			size = int(binary.BigEndian.Uint64(b[off+8:]))
		}
		if string(b[off+4:off+8]) == "moov" {
			moov = off
			break
		}
		off += size
	}
	f, err := os.Create(filepath.Join(dir, "big.mp4"))
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Write(b[:moov]); err != nil {
		return err
	}
	free := make([]byte, 16)
	binary.BigEndian.PutUint32(free, 1)
	copy(free[4:], "free")
	binary.BigEndian.PutUint64(free[8:], bigGap+16)
	if _, err := f.Write(free); err != nil {
		return err
	}
	if _, err := f.WriteAt(b[moov:], int64(moov)+16+bigGap); err != nil {
		return err
	}
	return f.Close()
}

// bigWAV makes big.wav: an RF64 file whose ds64 chunk says 5 GiB of 16-bit
// stereo PCM at 48 kHz follow (a sparse hole).
func bigWAV(dir string) error {
	le := binary.LittleEndian
	var h []byte
	h = append(h, "RF64"...)
	h = le.AppendUint32(h, 0xFFFFFFFF)
	h = append(h, "WAVEds64"...)
	h = le.AppendUint32(h, 28)
	total := uint64(bigGap) + 80
	h = le.AppendUint64(h, total-8)
	h = le.AppendUint64(h, bigGap)
	h = le.AppendUint64(h, bigGap/4)
	h = le.AppendUint32(h, 0)
	h = append(h, "fmt "...)
	h = le.AppendUint32(h, 16)
	h = le.AppendUint16(h, 1)
	h = le.AppendUint16(h, 2)
	h = le.AppendUint32(h, 48000)
	h = le.AppendUint32(h, 48000*4)
	h = le.AppendUint16(h, 4)
	h = le.AppendUint16(h, 16)
	h = append(h, "data"...)
	h = le.AppendUint32(h, 0xFFFFFFFF)
	f, err := os.Create(filepath.Join(dir, "big.wav"))
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Write(h); err != nil {
		return err
	}
	if err := f.Truncate(int64(len(h)) + bigGap); err != nil {
		return err
	}
	return f.Close()
}

// ffInfo is what ffprobe says of a file, reduced to the fields Details
// has.
type ffInfo struct {
	duration             float64 // seconds, -1 if none
	bitrate              int64
	width, height        int
	video, audio         string
	channels, sampleRate int
	tags                 map[string]string // lower-case keys, format and audio stream tags
}

// ffprobe runs ffprobe on path.
func ffprobe(t testing.TB, path string) ffInfo {
	t.Helper()
	bin := testtool.Need(t, "ffprobe")
	out, err := exec.Command(bin, "-v", "error", "-show_format", "-show_streams", "-of", "json", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var r struct {
		Format struct {
			Duration string            `json:"duration"`
			BitRate  string            `json:"bit_rate"`
			Tags     map[string]string `json:"tags"`
		} `json:"format"`
		Streams []struct {
			CodecType   string            `json:"codec_type"`
			CodecName   string            `json:"codec_name"`
			Width       int               `json:"width"`
			Height      int               `json:"height"`
			Channels    int               `json:"channels"`
			SampleRate  string            `json:"sample_rate"`
			Disposition map[string]int    `json:"disposition"`
			Tags        map[string]string `json:"tags"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	info := ffInfo{duration: -1, tags: map[string]string{}}
	if d, err := strconv.ParseFloat(r.Format.Duration, 64); err == nil {
		info.duration = d
	}
	info.bitrate, _ = strconv.ParseInt(r.Format.BitRate, 10, 64)
	for k, v := range r.Format.Tags {
		info.tags[strings.ToLower(k)] = v
	}
	for _, s := range r.Streams {
		switch {
		case s.CodecType == "video" && s.Disposition["attached_pic"] == 0 && info.video == "":
			info.video, info.width, info.height = s.CodecName, s.Width, s.Height
		case s.CodecType == "audio" && info.audio == "":
			info.audio, info.channels = s.CodecName, s.Channels
			info.sampleRate, _ = strconv.Atoi(s.SampleRate)
			for k, v := range s.Tags {
				if _, ok := info.tags[strings.ToLower(k)]; !ok {
					info.tags[strings.ToLower(k)] = v
				}
			}
		}
	}
	return info
}

// probeFile probes the file at path.
func probeFile(t testing.TB, path string) Details {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	d, err := Probe(f, fi.Size(), filepath.Base(path))
	if err != nil {
		t.Fatalf("Probe(%s): %v", path, err)
	}
	return d
}
