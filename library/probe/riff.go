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

func (p *prober) avi() {
	p.d.Container = "avi"
	var (
		end        = p.src.size
		video      bool
		audio      bool
		totalFrame uint64
		longest    float64 // seconds
		videoSecs  float64
		vidScale   float64 // seconds per frame of the video stream
		tags       tagSet
	)
	if b := p.src.at(4, 4); len(b) == 4 {
		end = min(end, 8+int64(le32(b)))
	}
	p.riffChildren(12, end, 64, func(c riffChunk) bool {
		switch p.riffList(c) {
		case "hdrl":
			p.riffChildren(c.data+4, c.end, 256, func(h riffChunk) bool {
				switch {
				case h.id == "avih":
					if b := p.src.at(h.data, 40); len(b) == 40 && !video {
						p.d.Width, p.d.Height = int(le32(b[32:])), int(le32(b[36:]))
					}
				case p.riffList(h) == "odml":
					p.riffChildren(h.data+4, h.end, 16, func(o riffChunk) bool {
						if o.id == "dmlh" {
							if b := p.src.at(o.data, 4); len(b) == 4 {
								totalFrame = uint64(le32(b))
							}
						}
						return true
					})
				case p.riffList(h) == "strl":
					var kind string
					var secs float64
					var scale, rate float64
					p.riffChildren(h.data+4, h.end, 16, func(s riffChunk) bool {
						switch s.id {
						case "strh":
							b := p.src.at(s.data, 36)
							if len(b) < 36 {
								return false
							}
							kind = string(b[:4])
							scale, rate = float64(le32(b[20:])), float64(le32(b[24:]))
							if rate > 0 {
								secs = float64(le32(b[32:])) * scale / rate
							}
						case "strf":
							b := p.src.at(s.data, int(min(s.end-s.data, 40)))
							switch {
							case kind == "vids" && !video && len(b) >= 20:
								video = true
								p.d.VideoCodec = videoFourCC(b[16:20])
								w, h := int32(le32(b[4:])), int32(le32(b[8:]))
								p.d.Width, p.d.Height = int(w), int(max(h, -h))
								videoSecs = secs
								if rate > 0 {
									vidScale = scale / rate
								}
							case kind == "auds" && !audio:
								if f, ok := parseWaveFormat(b); ok {
									audio = true
									p.d.AudioCodec, p.d.Channels, p.d.SampleRate = f.codec, f.channels, f.rate
								}
							}
						}
						return true
					})
					longest = max(longest, secs)
				}
				return true
			})
		case "INFO":
			p.riffInfo(c, &tags)
		case "movi":
			return false
		}
		return true
	})
	// OpenDML files count all their frames in dmlh; strh counts those of
	// the first RIFF.
	if t := float64(totalFrame) * vidScale; t > videoSecs {
		longest = max(longest, t)
	}
	p.d.Duration = floatSeconds(longest)
	p.fillTags(tags)
}

func (p *prober) wav() {
	p.d.Container = "wav"
	var (
		f                 waveFormat
		haveFormat        bool
		dataOff, dataSize int64 = -1, 0
		ds64Data          uint64
		factSamples       uint64
		tags              tagSet
		size              = p.src.size
	)
	for off, n := int64(12), 0; off < size && n < 64; n++ {
		c, ok := p.riffChunk(off, size)
		if !ok {
			break
		}
		off = c.next
		switch c.id {
		case "ds64":
			if b := p.src.at(c.data, 24); len(b) == 24 {
				ds64Data = le64(b[8:])
				factSamples = le64(b[16:])
			}
		case "fmt ":
			b := p.src.at(c.data, int(min(c.end-c.data, 40)))
			f, haveFormat = parseWaveFormat(b)
		case "fact":
			if b := p.src.at(c.data, 4); len(b) == 4 && factSamples == 0 {
				factSamples = uint64(le32(b))
			}
		case "data":
			dataOff, dataSize = c.data, int64(c.size)
			if c.size == 0xFFFFFFFF && ds64Data > 0 {
				dataSize = int64(min(ds64Data, 1<<62))
			}
			if dataSize == 0 || dataSize > size-dataOff {
				dataSize = size - dataOff
			}
			off = min(dataOff+dataSize+dataSize&1, size)
		case "LIST":
			if p.riffList(c) == "INFO" {
				p.riffInfo(c, &tags)
			}
		case "id3 ", "ID3 ":
			if t := p.id3v2(c.data); t.ok {
				tags = mergeTags(tags, t.tags)
			}
		}
	}
	if !haveFormat {
		return
	}
	p.d.AudioCodec, p.d.Channels, p.d.SampleRate = f.codec, f.channels, f.rate
	switch {
	case dataOff < 0:
	case isPCMTag(f.tag) && f.align > 0 && f.rate > 0:
		p.d.Duration = seconds(uint64(dataSize/int64(f.align)), uint64(f.rate))
	case factSamples > 0 && f.rate > 0:
		p.d.Duration = seconds(factSamples, uint64(f.rate))
	case f.byteRate > 0:
		p.d.Duration = seconds(uint64(dataSize), uint64(f.byteRate))
	}
	p.fillTags(tags)
}

// isPCMTag reports whether a WAVE format tag is plain PCM (integer, float,
// A-law, mu-law), whose duration follows from the data size.
func isPCMTag(tag uint16) bool {
	switch tag {
	case 1, 3, 6, 7:
		return true
	}
	return false
}

// mergeTags fills the empty fields of a from b.
func mergeTags(a, b tagSet) tagSet {
	if a.title == "" {
		a.title = b.title
	}
	if a.artist == "" {
		a.artist = b.artist
	}
	if a.album == "" {
		a.album = b.album
	}
	if a.track == 0 {
		a.track = b.track
	}
	if a.year == 0 {
		a.year = b.year
	}
	return a
}
