package probe

import (
	"encoding/base64"
	"io"
	"strings"
)

// FLAC: the metadata blocks after "fLaC": STREAMINFO (sample rate,
// channels, total samples), VORBIS_COMMENT (tags) and PICTURE. Blocks are
// skipped by their sizes; pictures are never read unless Cover wants one.
// The Vorbis comment reader here serves Ogg too.

// Metadata block types.
const (
	flacStreamInfo    = 0
	flacVorbisComment = 4
	flacPicture       = 6
)

func (p *prober) flac(start int64) {
	p.d.Container = "flac"
	var tags tagSet
	off := start + 4
	for n := 0; n < 1024 && p.step(); n++ {
		h := p.src.at(off, 4)
		if len(h) < 4 {
			break
		}
		last, typ, size := h[0]&0x80 != 0, h[0]&0x7F, int64(be24(h[1:]))
		data := off + 4
		switch typ {
		case flacStreamInfo:
			if b := p.src.at(data, 18); len(b) == 18 {
				p.flacStreamInfo(b)
			}
		case flacVorbisComment:
			r := &region{s: p.src, off: data, end: min(data+size, p.src.size)}
			p.vorbisComment(r, &tags)
		case flacPicture:
			r := &region{s: p.src, off: data, end: min(data+size, p.src.size)}
			p.flacPicture(r, r)
		}
		off = data + size
		if last || typ == 127 {
			break
		}
	}
	p.fillTags(tags)
}

// flacStreamInfo reads the first 18 bytes of a STREAMINFO block.
func (p *prober) flacStreamInfo(b []byte) {
	rate := int(be24(b[10:]) >> 4)
	channels := int(b[12]>>1&7) + 1
	total := uint64(b[13]&0x0F)<<32 | uint64(be32(b[14:]))
	p.d.AudioCodec, p.d.SampleRate, p.d.Channels = "flac", rate, channels
	if rate > 0 {
		p.d.Duration = seconds(total, uint64(rate))
	}
}

// skipReader is a sequential reader that can also skip without reading:
// a file region, or an Ogg packet spread over pages.
type skipReader interface {
	io.Reader
	skip(n int64) error
}

// readFull reads exactly len(b) bytes.
func readFull(r io.Reader, b []byte) bool {
	_, err := io.ReadFull(r, b)
	return err == nil
}

// readLE32 reads a little-endian 32-bit number.
func readLE32(r io.Reader) (uint32, bool) {
	var b [4]byte
	if !readFull(r, b[:]) {
		return 0, false
	}
	return le32(b[:]), true
}

// vorbisComment reads a Vorbis comment header (vendor string, then
// KEY=value comments) from r: the tags, and pictures in
// METADATA_BLOCK_PICTURE comments (base64 of a FLAC PICTURE block).
// Values longer than maxText are skipped, not read.
func (p *prober) vorbisComment(r skipReader, tags *tagSet) {
	vendor, ok := readLE32(r)
	if !ok || r.skip(int64(vendor)) != nil {
		return
	}
	count, ok := readLE32(r)
	if !ok {
		return
	}
	var buf [maxText]byte
	var albumArtist string
	for i := uint32(0); i < count && i < 4096 && p.step(); i++ {
		n, ok := readLE32(r)
		if !ok {
			return
		}
		const pictureKey = "METADATA_BLOCK_PICTURE="
		if n > maxText {
			head := buf[:len(pictureKey)]
			if !readFull(r, head) {
				return
			}
			rest := int64(n) - int64(len(head))
			if strings.EqualFold(string(head), pictureKey) {
				if !p.wantCover {
					// Presence, and the size: decoded, the block takes
					// 3/4 of its base64, the picture a little less.
					p.picture(-1, "", rest*3/4-32, nil)
				} else {
					lr := &limitedSkipReader{r: r, n: rest}
					dec := base64.NewDecoder(base64.StdEncoding, lr)
					p.flacPicture(dec, lr)
					rest = lr.n
				}
			}
			if r.skip(rest) != nil {
				return
			}
			continue
		}
		c := buf[:n]
		if !readFull(r, c) {
			return
		}
		key, value, ok := strings.Cut(string(c), "=")
		if !ok {
			continue
		}
		switch strings.ToUpper(key) {
		case "TITLE":
			tags.set("title", value)
		case "ARTIST":
			tags.set("artist", value)
		case "ALBUMARTIST", "ALBUM ARTIST", "ALBUM_ARTIST":
			if albumArtist == "" {
				albumArtist = value
			}
		case "ALBUM":
			tags.set("album", value)
		case "TRACKNUMBER", "TRACK":
			tags.set("track", value)
		case "DATE", "YEAR", "ORIGINALDATE":
			tags.set("year", value)
		}
	}
	if tags.artist == "" {
		tags.set("artist", albumArtist)
	}
}

// limitedSkipReader reads at most n bytes of r.
type limitedSkipReader struct {
	r skipReader
	n int64
}

func (l *limitedSkipReader) Read(b []byte) (int, error) {
	if l.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > l.n {
		b = b[:l.n]
	}
	n, err := l.r.Read(b)
	l.n -= int64(n)
	return n, err
}

func (l *limitedSkipReader) skip(n int64) error {
	if n > l.n {
		n = l.n
	}
	l.n -= n
	return l.r.skip(n)
}

// flacPicture reads a PICTURE block from r (raw, or decoded from base64):
// picture type, MIME type, description, size fields, then the picture.
// When r is a file region, the picture is loaded straight from the file
// (src is that region); else read through r, which must then be consumed
// up to the picture's end.
func (p *prober) flacPicture(r io.Reader, src skipReader) {
	ptype, ok := readBE32(r)
	if !ok {
		return
	}
	mimeLen, ok := readBE32(r)
	if !ok || mimeLen > 256 {
		return
	}
	mime := make([]byte, mimeLen)
	if !readFull(r, mime) {
		return
	}
	descLen, ok := readBE32(r)
	if !ok || descLen > 1<<16 {
		return
	}
	if !discard(r, int64(descLen)+16) { // description, width, height, depth, colours
		return
	}
	n, ok := readBE32(r)
	if !ok {
		return
	}
	size := int64(n)
	if reg, isRegion := src.(*region); isRegion && reg == r {
		if size > reg.end-reg.off {
			return
		}
		p.picture(int(ptype), string(mime), size, func() []byte { return reg.rawRest(size) })
		return
	}
	p.picture(int(ptype), string(mime), size, func() []byte {
		if size > MaxCover {
			return nil
		}
		b := make([]byte, size)
		if !readFull(r, b) {
			return nil
		}
		return b
	})
}

// readBE32 reads a big-endian 32-bit number.
func readBE32(r io.Reader) (uint32, bool) {
	var b [4]byte
	if !readFull(r, b[:]) {
		return 0, false
	}
	return be32(b[:]), true
}

// discard reads and drops n bytes of r (which may not skip: a base64
// decoder), with no allocation.
func discard(r io.Reader, n int64) bool {
	var buf [512]byte
	for n > 0 {
		k, err := r.Read(buf[:min(n, int64(len(buf)))])
		n -= int64(k)
		if (err != nil || k == 0) && n > 0 {
			return false
		}
	}
	return true
}
