package probe

// MPEG audio (MP3, MP2): ID3v2 tags at the start (several, as some
// taggers leave them), the first frame found by its header (confirmed by
// the next one), a Xing/Info or VBRI header in that frame for the frame
// count, else the constant bit rate of that frame over the audio's size;
// ID3v1 and APEv2 tags at the end are not audio.

// mpaHeader is an MPEG audio frame header.
type mpaHeader struct {
	mpeg1    bool
	lsf      int // 0 for MPEG-1, 1 for MPEG-2 and 2.5
	layer    int
	bitrate  int // bits per second
	rate     int // Hz
	channels int
	frameLen int // bytes
	spf      int // samples per frame
}

var mpaBitrates = [2][3][16]int{
	{ // MPEG-1, layers I, II, III (kbit/s)
		{0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448},
		{0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384},
		{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320},
	},
	{ // MPEG-2 and 2.5
		{0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256},
		{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160},
		{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160},
	},
}

var mpaRates = [4][3]int{ // by version bits: 2.5, reserved, 2, 1
	{11025, 12000, 8000}, {}, {22050, 24000, 16000}, {44100, 48000, 32000},
}

// parseMPAHeader decodes the 4-byte frame header at b[0]; free-format
// frames (bit rate index 0) are not taken.
func parseMPAHeader(b []byte) (mpaHeader, bool) {
	if len(b) < 4 || b[0] != 0xFF || b[1]&0xE0 != 0xE0 {
		return mpaHeader{}, false
	}
	ver := (b[1] >> 3) & 3
	layerBits := (b[1] >> 1) & 3
	brIdx := b[2] >> 4
	srIdx := (b[2] >> 2) & 3
	if ver == 1 || layerBits == 0 || brIdx == 0 || brIdx == 15 || srIdx == 3 {
		return mpaHeader{}, false
	}
	h := mpaHeader{mpeg1: ver == 3, layer: 4 - int(layerBits), rate: mpaRates[ver][srIdx]}
	if !h.mpeg1 {
		h.lsf = 1
	}
	h.bitrate = mpaBitrates[h.lsf][h.layer-1][brIdx] * 1000
	pad := int(b[2]>>1) & 1
	h.channels = 2
	if b[3]>>6 == 3 {
		h.channels = 1
	}
	switch h.layer {
	case 1:
		h.frameLen = (12*h.bitrate/h.rate + pad) * 4
		h.spf = 384
	case 2:
		h.frameLen = 144*h.bitrate/h.rate + pad
		h.spf = 1152
	case 3:
		if h.mpeg1 {
			h.frameLen = 144*h.bitrate/h.rate + pad
			h.spf = 1152
		} else {
			h.frameLen = 72*h.bitrate/h.rate + pad
			h.spf = 576
		}
	}
	return h, h.frameLen >= 4
}

// codec names the layer as ffprobe does.
func (h mpaHeader) codec() string {
	return [4]string{"", "mp1", "mp2", "mp3"}[h.layer]
}

// sameStream reports whether two headers can belong to one stream.
func (h mpaHeader) sameStream(o mpaHeader) bool {
	return h.layer == o.layer && h.rate == o.rate && h.lsf == o.lsf
}

// isMPAHeader reports whether b starts with an MPEG audio frame whose
// successor, where b holds it, is one too.
func isMPAHeader(b []byte) bool {
	h, ok := parseMPAHeader(b)
	if !ok {
		return false
	}
	if len(b) < h.frameLen+4 {
		return true
	}
	n, ok := parseMPAHeader(b[h.frameLen:])
	return ok && h.sameStream(n)
}

// mpaSync finds the first frame at or after off (within span bytes) that
// the next frame confirms, or that ends where the audio does.
func (p *prober) mpaSync(off, span, end int64) (int64, mpaHeader, bool) {
	for limit := min(off+span, end); off+4 <= limit && p.step(); {
		b := p.src.at(off, 4096)
		if len(b) < 4 {
			break
		}
		i := 0
		for ; i+4 <= len(b); i++ {
			if b[i] != 0xFF {
				continue
			}
			h, ok := parseMPAHeader(b[i:])
			if !ok {
				continue
			}
			at := off + int64(i)
			next := at + int64(h.frameLen)
			if next == end || next+4 > end {
				return at, h, true
			}
			nb := p.src.at(next, 4)
			if n, ok := parseMPAHeader(nb); ok && h.sameStream(n) {
				return at, h, true
			}
			b = p.src.at(off, 4096) // the read of the next header may have moved the cache
		}
		off += int64(max(i, 1))
	}
	return 0, mpaHeader{}, false
}

// mp3 probes MPEG audio starting at start (after an ID3v2 tag, whose
// result first says, or nil).
func (p *prober) mp3(start int64, first *id3Result) {
	var tags tagSet
	if first != nil {
		tags = first.tags
	}
	for n := 0; n < 4; n++ { // further ID3v2 tags
		t := p.id3v2(start)
		if !t.ok || t.end <= start {
			break
		}
		tags = mergeTags(tags, t.tags)
		start = t.end
	}
	end := p.src.size
	v1, hasV1 := p.id3v1()
	if hasV1 {
		end -= 128
	}
	if b := p.src.at(end-32, 32); len(b) == 32 && string(b[:8]) == "APETAGEX" {
		apeSize := int64(le32(b[12:]))
		if le32(b[20:])&0x80000000 != 0 { // has a header too
			apeSize += 32
		}
		if apeSize <= end-start {
			end -= apeSize
		}
	}
	span := int64(64 << 10)
	if first != nil || p.ext == ".mp3" {
		span = 1 << 20
	}
	off, h, ok := p.mpaSync(start, span, end)
	if !ok {
		if first != nil {
			p.d.Container = "mp3"
			p.fillTags(tags)
		}
		return
	}
	p.d.Container = "mp3"
	p.d.AudioCodec, p.d.Channels, p.d.SampleRate = h.codec(), h.channels, h.rate
	frames := p.mpaFrameCount(off, h)
	switch {
	case frames > 0:
		p.d.Duration = seconds(frames*uint64(h.spf), uint64(h.rate))
	case h.bitrate > 0:
		p.d.Duration = seconds(uint64(end-off)*8, uint64(h.bitrate))
	}
	p.fillTags(tags)
	if hasV1 {
		p.fillTags(v1)
	}
}

// mpaFrameCount reads the frame count of a Xing/Info or VBRI header in the
// frame at off; 0 if there is none.
func (p *prober) mpaFrameCount(off int64, h mpaHeader) uint64 {
	side := 32
	switch {
	case h.mpeg1 && h.channels == 1:
		side = 17
	case !h.mpeg1 && h.channels == 2:
		side = 17
	case !h.mpeg1:
		side = 9
	}
	b := p.src.at(off, min(h.frameLen, 256))
	if x := 4 + side; len(b) >= x+12 && (string(b[x:x+4]) == "Xing" || string(b[x:x+4]) == "Info") {
		if be32(b[x+4:])&1 != 0 {
			return uint64(be32(b[x+8:]))
		}
		return 0
	}
	if len(b) >= 36+18 && string(b[36:40]) == "VBRI" {
		return uint64(be32(b[36+14:]))
	}
	return 0
}
