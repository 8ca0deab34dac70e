package probe

import (
	"bytes"
	"errors"
	"io"
	"math"
	"path"
	"strings"
	"time"
)

// Limits on what one probe reads.
const (
	// MaxRead is the most Probe reads of one file, in bytes, whatever the
	// file declares.
	MaxRead = 4 << 20
	// MaxCover is the largest cover art Cover returns, in bytes; larger
	// pictures are left out (and do not set HasCover).
	MaxCover = 8 << 20
)

const (
	// maxDuration bounds durations: a file claiming more lies.
	maxDuration = 100_000 * time.Hour
	// maxSteps bounds the work of one probe in parser steps (elements,
	// boxes, frames, packets, tags), so that a file of many tiny
	// structures ends in bounded time even when the bytes come from the
	// cache.
	maxSteps = 1 << 16
	// maxDepth bounds the nesting a parser follows.
	maxDepth = 12
	// maxText bounds one tag value read.
	maxText = 1 << 10
)

// Errors of UnmarshalBinary.
var (
	// ErrEncoding is returned for data that is not an encoding of Details.
	ErrEncoding = errors.New("probe: not an encoding of details")
	// ErrNewerEncoding is returned for an encoding made by a newer,
	// incompatible version.
	ErrNewerEncoding = errors.New("probe: details encoded by a newer version")
)

// Probe reads the details of the media file r (size bytes, named name: the
// extension is a hint, the content decides). It reads only what it needs
// and never more than MaxRead bytes; memory is bounded whatever the file
// declares. What cannot be read stays zero; err is only for I/O errors of
// r (a corrupt or hostile file is not an error, it is "unknown"). A read
// that comes up short at the end of r is taken as a truncated file, not an
// error.
func Probe(r io.ReaderAt, size int64, name string) (d Details, err error) {
	defer func() {
		// The parsers are fuzzed; should one still fail on some file, that
		// file's details are unknown rather than the server down.
		if recover() != nil {
			d, err = Details{}, nil
		}
	}()
	p := probe(r, size, name, false)
	return p.d, p.src.err
}

// Cover returns the embedded cover art of an audio file (ID3 APIC, FLAC
// PICTURE, MP4 covr, Vorbis METADATA_BLOCK_PICTURE, a Matroska attachment
// named cover.*) and its MIME type, at most MaxCover bytes; ok is false if
// there is none. Where a file has several pictures it returns the front
// cover, else the first. It reads what Probe reads plus the picture; err
// is only for I/O errors of r.
func Cover(r io.ReaderAt, size int64, name string) (data []byte, mime string, ok bool, err error) {
	defer func() {
		if recover() != nil {
			data, mime, ok, err = nil, "", false, nil
		}
	}()
	p := probe(r, size, name, true)
	if p.cover == nil {
		return nil, "", false, p.src.err
	}
	return p.cover, p.coverMIME, true, p.src.err
}

// probe runs a probe to its end (the tests call it to see panics).
func probe(r io.ReaderAt, size int64, name string, wantCover bool) *prober {
	p := &prober{
		src:       newSource(r, size, MaxRead),
		ext:       strings.ToLower(path.Ext(name)),
		steps:     maxSteps,
		wantCover: wantCover,
	}
	defer p.src.release()
	p.run()
	return p
}

// prober holds the state of one probe: its source, what it found so far,
// and the work it may still do.
type prober struct {
	src   *source
	ext   string // the name's extension, lower case, with the dot
	d     Details
	steps int

	wantCover bool // Cover: load the best picture
	cover     []byte
	coverMIME string
	coverRank int
}

// step counts one unit of parser work; false means stop: the work, the
// read budget or the input is spent.
func (p *prober) step() bool {
	p.steps--
	return p.steps > 0 && !p.src.failed()
}

// Magic numbers.
var (
	magicEBML = []byte{0x1A, 0x45, 0xDF, 0xA3}
	magicPNG  = []byte("\x89PNG\r\n\x1a\n")
)

// run tells the format from the first bytes (the extension breaks ties
// where the content cannot tell), probes it and tidies the result.
func (p *prober) run() {
	h := p.src.at(0, 1024)
	head := make([]byte, len(h))
	copy(head, h)
	switch {
	case len(head) < 4:
	case bytes.HasPrefix(head, magicEBML):
		p.matroska()
	case len(head) >= 8 && isMP4TopBox(head[4:8]):
		p.mp4()
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "AVI ":
		p.avi()
	case len(head) >= 12 && (string(head[:4]) == "RIFF" || string(head[:4]) == "RF64" || string(head[:4]) == "BW64") && string(head[8:12]) == "WAVE":
		p.wav()
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		p.webp()
	case string(head[:4]) == "fLaC":
		p.flac(0)
	case string(head[:4]) == "OggS":
		p.ogg()
	case string(head[:3]) == "ID3":
		p.id3Start()
	case head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF:
		p.jpeg()
	case bytes.HasPrefix(head, magicPNG):
		p.png()
	case string(head[:4]) == "GIF8":
		p.gif()
	case tsPacketSize(head) > 0:
		p.ts(tsPacketSize(head))
	case isMPAHeader(head):
		p.mp3(0, nil)
	default:
		p.byExtension()
	}
	p.finish()
}

// byExtension tries the formats whose start may be junk, as the name
// says: an MP3 or a transport stream cut out of a longer one.
func (p *prober) byExtension() {
	switch p.ext {
	case ".mp3", ".mp2", ".mpga":
		p.mp3(0, nil)
	case ".ts", ".m2ts", ".mts", ".m2t", ".tsv", ".tsa":
		if n, off := tsResync(p.src); n > 0 {
			p.tsAt(n, off)
		}
	}
}

// id3Start handles a file that starts with an ID3v2 tag: MP3 mostly, but
// FLAC files sometimes carry one too.
func (p *prober) id3Start() {
	tags := p.id3v2(0)
	if b := p.src.at(tags.end, 4); len(b) == 4 && string(b) == "fLaC" {
		p.flac(tags.end)
		p.fillTags(tags.tags)
		return
	}
	p.mp3(tags.end, &tags)
}

// fillTags copies the tags found where the details have none.
func (p *prober) fillTags(t tagSet) {
	if p.d.Title == "" {
		p.d.Title = t.title
	}
	if p.d.Artist == "" {
		p.d.Artist = t.artist
	}
	if p.d.Album == "" {
		p.d.Album = t.album
	}
	if p.d.Track == 0 {
		p.d.Track = t.track
	}
	if p.d.Year == 0 {
		p.d.Year = t.year
	}
}

// finish tidies the details: durations rounded and bounded, the overall
// bit rate, strings cleaned, numbers that cannot be true dropped.
func (p *prober) finish() {
	d := &p.d
	if d.Duration < 0 || d.Duration > maxDuration {
		d.Duration = 0
	}
	d.Duration = d.Duration.Round(time.Microsecond)
	if d.Duration >= time.Millisecond && p.src.size > 0 && isTimed(d.Container) {
		d.Bitrate = int64(math.Round(float64(p.src.size) * 8 / d.Duration.Seconds()))
	} else {
		d.Bitrate = 0
	}
	d.Title, d.Artist, d.Album = cleanText(d.Title), cleanText(d.Artist), cleanText(d.Album)
	if d.Width <= 0 || d.Height <= 0 || d.Width > 1<<16 || d.Height > 1<<16 {
		d.Width, d.Height = 0, 0
	}
	if d.Channels <= 0 || d.Channels > 255 {
		d.Channels = 0
	}
	if d.SampleRate <= 0 || d.SampleRate > 10_000_000 {
		d.SampleRate = 0
	}
	if d.Track <= 0 || d.Track > 99_999 {
		d.Track = 0
	}
	if d.Year <= 0 || d.Year > 9999 {
		d.Year = 0
	}
	if d.AudioCodec == "" {
		d.Channels, d.SampleRate = 0, 0
	}
}

// isTimed reports whether a container holds time (not a still picture).
func isTimed(container string) bool {
	switch container {
	case "", "jpeg", "png", "gif", "webp":
		return false
	}
	return true
}

// seconds converts a count of ticks of a clock with rate ticks per second
// to a duration, 0 when it cannot be true.
func seconds(ticks, rate uint64) time.Duration {
	if rate == 0 || ticks == 0 {
		return 0
	}
	return floatSeconds(float64(ticks) / float64(rate))
}

// floatSeconds converts seconds to a duration, 0 when it cannot be true
// (NaN, negative, longer than maxDuration).
func floatSeconds(s float64) time.Duration {
	if !(s > 0) || s > maxDuration.Seconds() {
		return 0
	}
	return time.Duration(math.Round(s * 1e9))
}

// picture records embedded cover art: ptype is the ID3/FLAC picture type
// (3 is the front cover, -1 unknown), mime what the file says, n the
// picture's size in bytes as declared (0 if not known before loading), and
// load reads it. Cover keeps the front cover or else the first picture.
func (p *prober) picture(ptype int, mime string, n int64, load func() []byte) {
	if n < 0 || n > MaxCover || strings.TrimSpace(mime) == "-->" {
		return
	}
	rank := 1
	if ptype == 3 {
		rank = 2
	}
	if !p.wantCover {
		p.d.HasCover = true
		return
	}
	if rank <= p.coverRank || load == nil {
		return
	}
	data := load()
	if len(data) == 0 || len(data) > MaxCover {
		return
	}
	p.d.HasCover = true
	p.cover, p.coverMIME, p.coverRank = data, imageMIME(mime, data), rank
}

// imageMIME returns the MIME type of a picture: from its first bytes when
// they tell, else what the file said (ID3v2.2 says "JPG" or "PNG").
func imageMIME(declared string, data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF}):
		return "image/jpeg"
	case bytes.HasPrefix(data, magicPNG):
		return "image/png"
	case bytes.HasPrefix(data, []byte("GIF8")):
		return "image/gif"
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return "image/webp"
	case bytes.HasPrefix(data, []byte("BM")):
		return "image/bmp"
	}
	m := strings.ToLower(cleanText(declared))
	switch m {
	case "jpg", "image/jpg":
		return "image/jpeg"
	case "png":
		return "image/png"
	}
	if strings.HasPrefix(m, "image/") {
		return m
	}
	return "application/octet-stream"
}
