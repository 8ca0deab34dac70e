package probe

import (
	"math"
	"strconv"
)

// ISO base media files (MP4, M4V, M4A, 3GP) and QuickTime MOV: the boxes
// of the moov box, wherever it is (before or after mdat, which is skipped
// by its size, 64-bit sizes included). Read: mvhd (duration), each trak's
// tkhd, mdhd, hdlr and first sample description (codec, picture size,
// channels, sample rate, from esds/dOps/dac3/... where they tell more),
// mvex/mehd (fragmented files), and the tags of udta (iTunes ilst items
// or QuickTime ©xxx strings) with covr pictures.

// isMP4TopBox reports whether t is the type of a box that starts ISO or
// QuickTime files.
func isMP4TopBox(t []byte) bool {
	switch string(t) {
	case "ftyp", "moov", "mdat", "free", "skip", "wide", "pnot", "styp":
		return true
	}
	return false
}

// mp4Box is one box: its type, where it starts, where its payload starts
// and where it ends (clamped to its parent).
type mp4Box struct {
	typ            string
	off, data, end int64
}

// mp4Box reads the header of the box at off within a parent ending at
// limit.
func (p *prober) mp4Box(off, limit int64) (mp4Box, bool) {
	if !p.step() || limit-off < 8 {
		return mp4Box{}, false
	}
	h := p.src.at(off, 16)
	if len(h) < 8 {
		return mp4Box{}, false
	}
	size, data := uint64(be32(h)), off+8
	switch size {
	case 1:
		if len(h) < 16 {
			return mp4Box{}, false
		}
		size, data = be64(h[8:]), off+16
	case 0: // to the end of the parent
		size = uint64(limit - off)
	}
	if size < uint64(data-off) {
		return mp4Box{}, false
	}
	end := limit
	if size < uint64(limit-off) {
		end = off + int64(size)
	}
	if data > end {
		return mp4Box{}, false
	}
	return mp4Box{typ: string(h[4:8]), off: off, data: data, end: end}, true
}

// children calls fn for each child box of the payload range [from, end),
// until fn returns false.
func (p *prober) mp4Children(from, end int64, fn func(c mp4Box) bool) {
	for off := from; off < end; {
		c, ok := p.mp4Box(off, end)
		if !ok || !fn(c) {
			return
		}
		off = c.end
	}
}

// mp4Track is what one trak tells.
type mp4Track struct {
	handler          string
	timescale, ticks uint64
	tkW, tkH         int
	entry            mp4Box // first sample description
	codec            string
	width, height    int
	channels, rate   int
}

func (p *prober) mp4() {
	p.d.Container = "mp4"
	size := p.src.size
	for off, n := int64(0), 0; off < size && n < 1024; n++ {
		b, ok := p.mp4Box(off, size)
		if !ok {
			return
		}
		if b.typ == "moov" {
			p.mp4Moov(b)
			return
		}
		off = b.end
	}
}

func (p *prober) mp4Moov(moov mp4Box) {
	var (
		timescale, ticks, fragTicks uint64
		video, audio                *mp4Track
		longest                     int64 // nanoseconds, from the tracks
		tags                        tagSet
		tracks                      int
	)
	p.mp4Children(moov.data, moov.end, func(c mp4Box) bool {
		switch c.typ {
		case "mvhd":
			timescale, ticks = p.mp4Header(c, 12, 20)
		case "mvex":
			p.mp4Children(c.data, c.end, func(m mp4Box) bool {
				if m.typ == "mehd" {
					if b := p.src.at(m.data, 12); len(b) >= 8 {
						if b[0] == 1 && len(b) >= 12 {
							fragTicks = be64(b[4:])
						} else {
							fragTicks = uint64(be32(b[4:]))
						}
					}
				}
				return true
			})
		case "trak":
			if tracks++; tracks > 64 {
				return true
			}
			t := p.mp4Trak(c)
			if d := seconds(t.ticks, t.timescale); int64(d) > longest {
				longest = int64(d)
			}
			switch {
			case t.handler == "vide" && video == nil && t.codec != "":
				video = &t
			case t.handler == "soun" && audio == nil && t.codec != "":
				audio = &t
			}
		case "udta":
			p.mp4Udta(c, &tags)
		case "meta":
			p.mp4Meta(c, &tags)
		}
		return true
	})
	switch {
	case ticks != 0 && ticks != 1<<32-1 && ticks != 1<<64-1:
		p.d.Duration = seconds(ticks, timescale)
	case fragTicks != 0:
		p.d.Duration = seconds(fragTicks, timescale)
	default:
		p.d.Duration = seconds(uint64(longest), 1e9)
	}
	if video != nil {
		p.d.VideoCodec = video.codec
		p.d.Width, p.d.Height = video.width, video.height
		if p.d.Width == 0 || p.d.Height == 0 {
			p.d.Width, p.d.Height = video.tkW, video.tkH
		}
	}
	if audio != nil {
		p.d.AudioCodec, p.d.Channels, p.d.SampleRate = audio.codec, audio.channels, audio.rate
	}
	p.fillTags(tags)
}

// mp4Header reads the timescale and duration of a full box laid out as
// mvhd or mdhd: for version 0 the timescale is at v0 (bytes from the
// payload's start) and the 32-bit duration follows; version 1 has 64-bit
// times, its timescale at v1 and a 64-bit duration.
func (p *prober) mp4Header(b mp4Box, v0, v1 int) (timescale, ticks uint64) {
	h := p.src.at(b.data, 32)
	if len(h) < 4 {
		return 0, 0
	}
	switch h[0] {
	case 0:
		if len(h) >= v0+8 {
			timescale, ticks = uint64(be32(h[v0:])), uint64(be32(h[v0+4:]))
			if ticks == 1<<32-1 {
				ticks = 0
			}
		}
	case 1:
		if len(h) >= v1+12 {
			timescale, ticks = uint64(be32(h[v1:])), be64(h[v1+4:])
		}
	}
	return timescale, ticks
}

// mp4Trak reads a track: its kind, duration and first sample description.
func (p *prober) mp4Trak(trak mp4Box) mp4Track {
	var t mp4Track
	var walk func(b mp4Box, depth int)
	walk = func(b mp4Box, depth int) {
		p.mp4Children(b.data, b.end, func(c mp4Box) bool {
			switch c.typ {
			case "tkhd":
				h := p.src.at(c.data, 92)
				at := 76
				if len(h) > 0 && h[0] == 1 {
					at = 88
				}
				if len(h) >= at+8 {
					t.tkW, t.tkH = int(be32(h[at:])>>16), int(be32(h[at+4:])>>16)
				}
			case "mdhd":
				t.timescale, t.ticks = p.mp4Header(c, 12, 20)
			case "hdlr": // mdia's; QuickTime has another in minf
				if h := p.src.at(c.data, 12); len(h) >= 12 && depth == 1 {
					t.handler = string(h[8:12])
				}
			case "mdia", "minf", "stbl":
				if depth < 4 {
					walk(c, depth+1)
				}
			case "stsd":
				if e, ok := p.mp4Box(c.data+8, c.end); ok {
					t.entry = e
				}
			}
			return true
		})
	}
	walk(trak, 0)
	if t.entry.typ != "" {
		p.mp4Entry(&t)
	}
	return t
}

// mp4Entry reads a track's sample description: the codec and its
// parameters.
func (p *prober) mp4Entry(t *mp4Track) {
	e := t.entry
	typ := e.typ
	codec := mp4Codecs[typ]
	isVideo := t.handler == "vide" || (t.handler == "" && isVideoCodec(codec))
	if t.handler == "" {
		if isVideo {
			t.handler = "vide"
		} else if codec != "" {
			t.handler = "soun"
		}
	}
	var children int64
	if isVideo {
		h := p.src.at(e.data, 28)
		if len(h) < 28 {
			return
		}
		t.width, t.height = int(be16(h[24:])), int(be16(h[26:]))
		children = e.data + 78
	} else {
		h := p.src.at(e.data, 48)
		if len(h) < 28 {
			return
		}
		t.channels, t.rate = int(be16(h[16:])), int(be32(h[24:])>>16)
		children = e.data + 28
		switch be16(h[8:]) {
		case 1:
			children += 16
		case 2:
			children += 36
			if len(h) >= 48 {
				t.rate = int(math.Float64frombits(be64(h[32:])))
				t.channels = int(be32(h[40:]))
			}
		}
	}
	var fromESDS string
	var scan func(from, end int64, depth int)
	scan = func(from, end int64, depth int) {
		p.mp4Children(from, end, func(c mp4Box) bool {
			switch c.typ {
			case "esds":
				b := p.src.at(c.data+4, int(min(c.end-c.data-4, 256)))
				oti, asc := parseESDS(b)
				if name := mp4ObjectTypes[oti]; name != "" {
					fromESDS = name
				}
				if fromESDS == "aac" {
					if ch, rate := parseASC(asc); rate > 0 {
						t.rate = rate
						if ch > 0 {
							t.channels = ch
						}
					}
				}
			case "dOps":
				if b := p.src.at(c.data, 2); len(b) == 2 {
					t.channels = int(b[1])
				}
				t.rate = 48000
			case "dac3":
				if b := p.src.at(c.data, 3); len(b) == 3 {
					acmod, lfe := (b[1]>>3)&7, (b[1]>>2)&1
					t.channels = ac3Channels(acmod, lfe)
				}
			case "dec3":
				if b := p.src.at(c.data, 5); len(b) == 5 {
					acmod, lfe := (b[3]>>1)&7, b[3]&1
					t.channels = ac3Channels(acmod, lfe)
				}
			case "dfLa":
				if b := p.src.at(c.data+4+4, 18); len(b) == 18 {
					t.rate, t.channels = int(be24(b[10:])>>4), int((b[12]>>1)&7)+1
				}
			case "frma":
				if b := p.src.at(c.data, 4); len(b) == 4 {
					if name := mp4Codecs[string(b)]; name != "" && (codec == "" || typ == "enca" || typ == "encv") {
						codec = name
					}
				}
			case "wave", "sinf":
				if depth < 3 {
					scan(c.data, c.end, depth+1)
				}
			case "mp4a": // inside wave: itself holds esds
				if depth < 3 && c.end-c.data > 28 {
					scan(c.data+28, c.end, depth+1)
				}
			}
			return true
		})
	}
	scan(children, e.end, 0)
	if typ == "mp4a" || typ == "mp4v" || typ == "enca" || typ == "encv" {
		if fromESDS != "" {
			codec = fromESDS
		}
	}
	switch {
	case typ == "lpcm" || typ == "ipcm":
		codec = "pcm_s16le" // ffmpeg decides by flags it reads; the common case
	case typ == "raw " && !isVideo:
		codec = "pcm_u8"
	case typ == "png " && !isVideo, typ == "raw " && isVideo:
		codec = mp4Codecs[typ]
	}
	t.codec = codec
}

// ac3Channels counts the channels of an AC-3 audio coding mode and LFE
// flag.
func ac3Channels(acmod, lfe byte) int {
	return [8]int{2, 1, 2, 3, 3, 4, 4, 5}[acmod&7] + int(lfe&1)
}

// parseESDS reads an ES descriptor (the payload of esds after its version
// and flags): the decoder config's objectTypeIndication and decoder
// specific info.
func parseESDS(b []byte) (oti byte, dsi []byte) {
	i := 0
	desc := func() (tag byte, n int, ok bool) {
		if i >= len(b) {
			return 0, 0, false
		}
		tag = b[i]
		i++
		for k := 0; k < 4; k++ {
			if i >= len(b) {
				return 0, 0, false
			}
			c := b[i]
			i++
			n = n<<7 | int(c&0x7F)
			if c&0x80 == 0 {
				break
			}
		}
		return tag, n, true
	}
	tag, _, ok := desc()
	if !ok {
		return 0, nil
	}
	if tag == 0x03 {
		if i+3 > len(b) {
			return 0, nil
		}
		flags := b[i+2]
		i += 3
		if flags&0x80 != 0 {
			i += 2
		}
		if flags&0x40 != 0 {
			if i >= len(b) {
				return 0, nil
			}
			i += 1 + int(b[i])
		}
		if flags&0x20 != 0 {
			i += 2
		}
		if tag, _, ok = desc(); !ok {
			return 0, nil
		}
	}
	if tag != 0x04 || i+13 > len(b) {
		return 0, nil
	}
	oti = b[i]
	i += 13
	if tag, n, ok := desc(); ok && tag == 0x05 && i+n <= len(b) {
		dsi = b[i : i+n]
	}
	return oti, dsi
}

// aacRates are the sampling frequencies of MPEG-4 audio by index.
var aacRates = [16]int{96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350}

// aacChannels are the channel counts of MPEG-4 channel configurations.
var aacChannels = [16]int{0, 1, 2, 3, 4, 5, 6, 8, 0, 0, 0, 7, 8, 24, 8, 0}

// parseASC reads an AudioSpecificConfig: channels (0 when the config
// leaves it to a program config element) and the sampling rate (that of
// SBR where signalled explicitly, as ffprobe reports it).
func parseASC(b []byte) (channels, rate int) {
	r := bitReader{b: b}
	aot := func() uint32 {
		t := r.bits(5)
		if t == 31 {
			t = 32 + r.bits(6)
		}
		return t
	}
	freq := func() int {
		i := r.bits(4)
		if i == 15 {
			return int(r.bits(24))
		}
		return aacRates[i]
	}
	t := aot()
	rate = freq()
	channels = aacChannels[r.bits(4)]
	if t == 5 || t == 29 {
		rate = freq()
	}
	if r.bad {
		return 0, 0
	}
	return channels, rate
}

// mp4Udta reads the tags of a udta box: an iTunes meta box, or QuickTime
// ©xxx strings.
func (p *prober) mp4Udta(udta mp4Box, tags *tagSet) {
	p.mp4Children(udta.data, udta.end, func(c mp4Box) bool {
		if c.typ == "meta" {
			p.mp4Meta(c, tags)
			return true
		}
		key := mp4TagKeys[c.typ]
		if key == "" {
			return true
		}
		b := p.src.at(c.data, int(min(c.end-c.data, maxText)))
		if len(b) >= 8 && string(b[4:8]) == "data" { // an iTunes-style item
			p.mp4Item(c, key, tags)
			return true
		}
		if len(b) >= 4 {
			n := min(int(be16(b)), len(b)-4)
			tags.set(key, string(b[4:4+n]))
		}
		return true
	})
}

// mp4TagKeys maps item and QuickTime string types to tag names.
var mp4TagKeys = map[string]string{
	"\xa9nam": "title", "\xa9ART": "artist", "aART": "artist2", "\xa9alb": "album",
	"\xa9day": "year", "trkn": "track", "covr": "cover",
}

// mp4Meta reads a meta box's ilst. ISO meta boxes are full boxes (4 bytes
// of version and flags); QuickTime's are not.
func (p *prober) mp4Meta(meta mp4Box, tags *tagSet) {
	from := meta.data + 4
	if b := p.src.at(meta.data+4, 4); len(b) == 4 && string(b) == "hdlr" {
		from = meta.data
	}
	var albumArtist string
	p.mp4Children(from, meta.end, func(c mp4Box) bool {
		if c.typ != "ilst" {
			return true
		}
		n := 0
		p.mp4Children(c.data, c.end, func(item mp4Box) bool {
			if n++; n > 512 {
				return false
			}
			key := mp4TagKeys[item.typ]
			if key == "artist2" {
				var t tagSet
				p.mp4Item(item, "artist", &t)
				albumArtist = t.artist
				return true
			}
			if key != "" {
				p.mp4Item(item, key, tags)
			}
			return true
		})
		return true
	})
	if tags.artist == "" {
		tags.artist = albumArtist
	}
}

// mp4Item reads the data boxes of an ilst item.
func (p *prober) mp4Item(item mp4Box, key string, tags *tagSet) {
	p.mp4Children(item.data, item.end, func(c mp4Box) bool {
		if c.typ != "data" || c.end-c.data < 8 {
			return true
		}
		h := p.src.at(c.data, 8)
		if len(h) < 8 {
			return false
		}
		kind := be32(h) & 0xFFFFFF
		val, n := c.data+8, c.end-c.data-8
		switch key {
		case "cover":
			mime := map[uint32]string{13: "image/jpeg", 14: "image/png", 27: "image/bmp"}[kind]
			p.picture(3, mime, n, func() []byte { return p.src.raw(val, n) })
		case "track":
			if b := p.src.at(val, 4); len(b) == 4 && kind == 0 {
				tags.set(key, strconv.Itoa(int(be16(b[2:]))))
			} else if kind == 1 {
				tags.set(key, string(p.src.at(val, int(min(n, 32)))))
			}
		default:
			if kind == 1 || kind == 0 {
				tags.set(key, string(p.src.at(val, int(min(n, maxText)))))
			} else if kind == 2 {
				tags.set(key, decodeUTF16(p.src.at(val, int(min(n, maxText))), true))
			}
		}
		return false // the first data box is the value
	})
}
