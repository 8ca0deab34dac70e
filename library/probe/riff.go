package probe

import (
	"unicode/utf8"
)

// RIFF chunks, shared by AVI, WAV and WebP.

// riffChunk is one chunk: its ID, where it starts, where its data starts
// and ends (clamped to its parent), and where the next chunk starts
// (after a pad byte when the size is odd).
type riffChunk struct {
	id             string
	off, data, end int64
	size           uint32 // as declared
	next           int64
}

// riffChunk reads the chunk header at off within a parent ending at limit.
func (p *prober) riffChunk(off, limit int64) (riffChunk, bool) {
	if !p.step() || limit-off < 8 {
		return riffChunk{}, false
	}
	h := p.src.at(off, 8)
	if len(h) < 8 {
		return riffChunk{}, false
	}
	size := le32(h[4:])
	c := riffChunk{id: string(h[:4]), off: off, data: off + 8, size: size}
	c.end = min(c.data+int64(size), limit)
	c.next = min(c.data+int64(size)+int64(size&1), limit)
	return c, true
}

// riffChildren calls fn for each chunk of [from, end) until it returns
// false, at most n chunks.
func (p *prober) riffChildren(from, end int64, n int, fn func(c riffChunk) bool) {
	for off := from; off < end && n > 0; n-- {
		c, ok := p.riffChunk(off, end)
		if !ok || !fn(c) {
			return
		}
		off = c.next
	}
}

// riffList returns the list type of a LIST chunk ("" if c is none).
func (p *prober) riffList(c riffChunk) string {
	if c.id != "LIST" {
		return ""
	}
	if b := p.src.at(c.data, 4); len(b) == 4 {
		return string(b)
	}
	return ""
}

// riffInfo reads the tags of a LIST INFO chunk.
func (p *prober) riffInfo(c riffChunk, tags *tagSet) {
	p.riffChildren(c.data+4, c.end, 64, func(t riffChunk) bool {
		key := map[string]string{
			"INAM": "title", "IART": "artist", "IPRD": "album", "ICRD": "year",
			"ITRK": "track", "IPRT": "track", "TRCK": "track",
		}[t.id]
		if key != "" {
			b := p.src.at(t.data, int(min(t.end-t.data, maxText)))
			s := string(b)
			if !utf8.Valid(b) {
				s = latin1(b)
			}
			tags.set(key, s)
		}
		return true
	})
}

// waveFormat is what a WAVEFORMATEX (or WAVEFORMATEXTENSIBLE) says.
type waveFormat struct {
	tag                   uint16
	channels, rate        int
	byteRate, align, bits int
	codec                 string
}

// parseWaveFormat reads a WAVEFORMATEX; the tag of an extensible one is
// that of its sub-format.
func parseWaveFormat(b []byte) (waveFormat, bool) {
	if len(b) < 16 {
		return waveFormat{}, false
	}
	f := waveFormat{
		tag:      le16(b),
		channels: int(le16(b[2:])),
		rate:     int(le32(b[4:])),
		byteRate: int(le32(b[8:])),
		align:    int(le16(b[12:])),
		bits:     int(le16(b[14:])),
	}
	if f.tag == 0xFFFE && len(b) >= 26 {
		f.tag = le16(b[24:])
	}
	f.codec = waveCodec(f.tag, f.bits)
	return f, true
}
