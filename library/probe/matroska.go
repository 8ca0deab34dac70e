package probe

import (
	"math"
	"strconv"
	"strings"
)

// Matroska and WebM: the EBML header (DocType), then the Segment's
// level-1 elements up to the first Cluster: SeekHead, Info (duration,
// title), Tracks (codecs, picture size, channels, sample rate), Tags and
// Attachments (cover.* pictures). Those that come after the clusters
// (ffmpeg writes Tags there) are reached through the SeekHead; clusters
// are never walked.

// EBML and Matroska element IDs (with their length markers).
const (
	ebmlHeader  = 0x1A45DFA3
	ebmlDocType = 0x4282

	mkvSegment        = 0x18538067
	mkvSeekHead       = 0x114D9B74
	mkvSeek           = 0x4DBB
	mkvSeekID         = 0x53AB
	mkvSeekPosition   = 0x53AC
	mkvInfo           = 0x1549A966
	mkvTimestampScale = 0x2AD7B1
	mkvDuration       = 0x4489
	mkvTitle          = 0x7BA9
	mkvTracks         = 0x1654AE6B
	mkvTrackEntry     = 0xAE
	mkvTrackType      = 0x83
	mkvCodecID        = 0x86
	mkvCodecPrivate   = 0x63A2
	mkvVideo          = 0xE0
	mkvPixelWidth     = 0xB0
	mkvPixelHeight    = 0xBA
	mkvAudio          = 0xE1
	mkvSamplingFreq   = 0xB5
	mkvChannels       = 0x9F
	mkvBitDepth       = 0x6264
	mkvCluster        = 0x1F43B675
	mkvTags           = 0x1254C367
	mkvTag            = 0x7373
	mkvTargets        = 0x63C0
	mkvTagTrackUID    = 0x63C5
	mkvTagEditionUID  = 0x63C9
	mkvTagChapterUID  = 0x63C4
	mkvTagAttachUID   = 0x63C6
	mkvSimpleTag      = 0x67C8
	mkvTagName        = 0x45A3
	mkvTagString      = 0x4487
	mkvAttachments    = 0x1941A469
	mkvAttachedFile   = 0x61A7
	mkvFileName       = 0x466E
	mkvFileMimeType   = 0x4660
	mkvFileData       = 0x465C
)

// ebmlElem is one element: its ID, where it starts, where its data starts
// and where it ends (clamped to its parent; an element of unknown size
// ends with its parent).
type ebmlElem struct {
	id             uint32
	off, data, end int64
	size           int64 // declared data size, -1 if unknown
}

// ebmlElem reads the element header at off within a parent ending at
// limit.
func (p *prober) ebmlElem(off, limit int64) (ebmlElem, bool) {
	if !p.step() || off >= limit {
		return ebmlElem{}, false
	}
	h := p.src.at(off, 12)
	if len(h) < 2 {
		return ebmlElem{}, false
	}
	idLen := vintLen(h[0])
	if idLen == 0 || idLen > 4 || len(h) < idLen+1 {
		return ebmlElem{}, false
	}
	var id uint32
	for _, c := range h[:idLen] {
		id = id<<8 | uint32(c)
	}
	sizeLen := vintLen(h[idLen])
	if sizeLen == 0 || len(h) < idLen+sizeLen {
		return ebmlElem{}, false
	}
	v := uint64(h[idLen]) & (0xFF >> sizeLen)
	allOnes := v == 0xFF>>sizeLen
	for _, c := range h[idLen+1 : idLen+sizeLen] {
		v = v<<8 | uint64(c)
		allOnes = allOnes && c == 0xFF
	}
	e := ebmlElem{id: id, off: off, data: off + int64(idLen+sizeLen), end: limit, size: -1}
	if e.data > limit {
		return ebmlElem{}, false
	}
	if !allOnes {
		e.size = int64(min(v, 1<<62))
		if e.size < limit-e.data {
			e.end = e.data + e.size
		}
	}
	return e, true
}

// vintLen returns the length of a variable-size integer from its first
// byte (its leading zeros plus one), 0 for the invalid 0x00.
func vintLen(b byte) int {
	for n := 1; n <= 8; n++ {
		if b&(0x80>>(n-1)) != 0 {
			return n
		}
	}
	return 0
}

// ebmlChildren calls fn for each child of e until it returns false.
func (p *prober) ebmlChildren(e ebmlElem, fn func(c ebmlElem) bool) {
	for off := e.data; off < e.end; {
		c, ok := p.ebmlElem(off, e.end)
		if !ok || !fn(c) {
			return
		}
		off = c.end
	}
}

// ebmlUint, ebmlFloat and ebmlString read an element's value.
func (p *prober) ebmlUint(e ebmlElem) uint64 {
	n := e.end - e.data
	if n <= 0 || n > 8 {
		return 0
	}
	var v uint64
	for _, c := range p.src.at(e.data, int(n)) {
		v = v<<8 | uint64(c)
	}
	return v
}

func (p *prober) ebmlFloat(e ebmlElem) float64 {
	b := p.src.at(e.data, int(min(e.end-e.data, 8)))
	switch len(b) {
	case 4:
		return float64(math.Float32frombits(be32(b)))
	case 8:
		return math.Float64frombits(be64(b))
	}
	return 0
}

func (p *prober) ebmlString(e ebmlElem) string {
	return string(p.src.at(e.data, int(min(e.end-e.data, maxText))))
}

// mkvTrack is what a TrackEntry tells.
type mkvTrack struct {
	kind           uint64
	codecID        string
	private        ebmlElem
	width, height  int
	rate           float64
	channels, bits int
}

func (p *prober) matroska() {
	p.d.Container = "matroska"
	size := p.src.size
	head, ok := p.ebmlElem(0, size)
	if !ok || head.id != ebmlHeader {
		return
	}
	p.ebmlChildren(head, func(c ebmlElem) bool {
		if c.id == ebmlDocType && p.ebmlString(c) == "webm" {
			p.d.Container = "webm"
		}
		return true
	})
	var seg ebmlElem
	for off, n := head.end, 0; ; n++ {
		e, ok := p.ebmlElem(off, size)
		if !ok || n > 16 {
			return
		}
		if e.id == mkvSegment {
			seg = e
			break
		}
		off = e.end
	}
	m := mkvState{p: p, seg: seg, seen: map[int64]bool{}}
	n := 0
	p.ebmlChildren(seg, func(c ebmlElem) bool {
		if c.id == mkvCluster || n > 256 {
			return false
		}
		n++
		m.level1(c)
		return true
	})
	// Follow the SeekHead to what came after the clusters (or was
	// skipped): Info, Tracks, Tags, Attachments and further SeekHeads.
	for i := 0; i < len(m.seeks) && i < 64; i++ {
		s := m.seeks[i]
		if m.done[s.id] && s.id != mkvSeekHead {
			continue
		}
		off := seg.data + s.pos
		if s.pos < 0 || off >= seg.end || m.seen[off] {
			continue
		}
		if e, ok := p.ebmlElem(off, seg.end); ok && e.id == s.id {
			m.level1(e)
		}
	}
	m.finish()
}

// mkvState collects a Matroska segment's details while walking it.
type mkvState struct {
	p        *prober
	seg      ebmlElem
	seen     map[int64]bool // level-1 elements read, by offset
	done     map[uint32]bool
	seeks    []mkvSeekEntry
	scale    uint64
	duration float64
	title    string
	video    *mkvTrack
	audio    *mkvTrack
	tags     tagSet
}

type mkvSeekEntry struct {
	id  uint32
	pos int64
}

// level1 reads one level-1 element of the segment.
func (m *mkvState) level1(e ebmlElem) {
	p := m.p
	if m.seen[e.off] {
		return
	}
	m.seen[e.off] = true
	if m.done == nil {
		m.done = map[uint32]bool{}
	}
	switch e.id {
	case mkvSeekHead:
		p.ebmlChildren(e, func(s ebmlElem) bool {
			if s.id != mkvSeek || len(m.seeks) >= 64 {
				return len(m.seeks) < 64
			}
			var entry mkvSeekEntry
			p.ebmlChildren(s, func(c ebmlElem) bool {
				switch c.id {
				case mkvSeekID:
					entry.id = uint32(p.ebmlUint(c))
				case mkvSeekPosition:
					entry.pos = int64(min(p.ebmlUint(c), 1<<62))
				}
				return true
			})
			switch entry.id {
			case mkvInfo, mkvTracks, mkvTags, mkvAttachments, mkvSeekHead:
				m.seeks = append(m.seeks, entry)
			}
			return true
		})
	case mkvInfo:
		if m.done[mkvInfo] {
			return
		}
		p.ebmlChildren(e, func(c ebmlElem) bool {
			switch c.id {
			case mkvTimestampScale:
				m.scale = p.ebmlUint(c)
			case mkvDuration:
				m.duration = p.ebmlFloat(c)
			case mkvTitle:
				m.title = p.ebmlString(c)
			}
			return true
		})
	case mkvTracks:
		if m.done[mkvTracks] {
			return
		}
		p.ebmlChildren(e, func(c ebmlElem) bool {
			if c.id == mkvTrackEntry {
				m.track(c)
			}
			return m.video == nil || m.audio == nil
		})
	case mkvTags:
		p.ebmlChildren(e, func(c ebmlElem) bool {
			if c.id == mkvTag {
				m.tag(c)
			}
			return true
		})
	case mkvAttachments:
		p.ebmlChildren(e, func(c ebmlElem) bool {
			if c.id == mkvAttachedFile {
				m.attachment(c)
			}
			return true
		})
	}
	m.done[e.id] = true
}

// track reads a TrackEntry, keeping the first video and audio tracks.
func (m *mkvState) track(e ebmlElem) {
	p := m.p
	t := mkvTrack{channels: 1}
	p.ebmlChildren(e, func(c ebmlElem) bool {
		switch c.id {
		case mkvTrackType:
			t.kind = p.ebmlUint(c)
		case mkvCodecID:
			t.codecID = cleanText(p.ebmlString(c))
		case mkvCodecPrivate:
			t.private = c
		case mkvVideo:
			p.ebmlChildren(c, func(v ebmlElem) bool {
				switch v.id {
				case mkvPixelWidth:
					t.width = int(min(p.ebmlUint(v), 1<<20))
				case mkvPixelHeight:
					t.height = int(min(p.ebmlUint(v), 1<<20))
				}
				return true
			})
		case mkvAudio:
			p.ebmlChildren(c, func(a ebmlElem) bool {
				switch a.id {
				case mkvSamplingFreq:
					t.rate = p.ebmlFloat(a)
				case mkvChannels:
					t.channels = int(min(p.ebmlUint(a), 1<<10))
				case mkvBitDepth:
					t.bits = int(min(p.ebmlUint(a), 1<<10))
				}
				return true
			})
		}
		return true
	})
	switch {
	case t.kind == 1 && m.video == nil:
		m.video = &t
	case t.kind == 2 && m.audio == nil:
		m.audio = &t
	}
}

// tag reads a Tag that applies to the whole file (no track, edition,
// chapter or attachment named in its Targets).
func (m *mkvState) tag(e ebmlElem) {
	p := m.p
	global := true
	var simple func(s ebmlElem, depth int)
	simple = func(s ebmlElem, depth int) {
		var name, value string
		p.ebmlChildren(s, func(c ebmlElem) bool {
			switch c.id {
			case mkvTagName:
				name = strings.ToUpper(p.ebmlString(c))
			case mkvTagString:
				value = p.ebmlString(c)
			case mkvSimpleTag:
				if depth < 4 {
					simple(c, depth+1)
				}
			}
			return true
		})
		switch name {
		case "TITLE":
			m.tags.set("title", value)
		case "ARTIST":
			m.tags.set("artist", value)
		case "ALBUM":
			m.tags.set("album", value)
		case "PART_NUMBER", "TRACKNUMBER", "TRACK":
			m.tags.set("track", value)
		case "DATE", "DATE_RELEASED", "DATE_RECORDED", "YEAR":
			m.tags.set("year", value)
		}
	}
	p.ebmlChildren(e, func(c ebmlElem) bool {
		switch c.id {
		case mkvTargets:
			p.ebmlChildren(c, func(t ebmlElem) bool {
				switch t.id {
				case mkvTagTrackUID, mkvTagEditionUID, mkvTagChapterUID, mkvTagAttachUID:
					if p.ebmlUint(t) != 0 {
						global = false
					}
				}
				return true
			})
		case mkvSimpleTag:
			if global {
				simple(c, 0)
			}
		}
		return true
	})
}

// attachment reads an AttachedFile: a picture named cover.* (or
// small_cover.*, cover_land.*: the Matroska convention) is cover art.
func (m *mkvState) attachment(e ebmlElem) {
	p := m.p
	var name, mime string
	var data ebmlElem
	p.ebmlChildren(e, func(c ebmlElem) bool {
		switch c.id {
		case mkvFileName:
			name = strings.ToLower(p.ebmlString(c))
		case mkvFileMimeType:
			mime = strings.ToLower(p.ebmlString(c))
		case mkvFileData:
			data = c
		}
		return true
	})
	if data.id == 0 || !strings.HasPrefix(mime, "image/") || !strings.Contains(name, "cover") {
		return
	}
	ptype := 0
	if strings.HasPrefix(name, "cover.") {
		ptype = 3
	}
	n := data.end - data.data
	if data.size != n { // cut short: the picture is not all there
		return
	}
	p.picture(ptype, mime, n, func() []byte { return p.src.raw(data.data, n) })
}

// finish turns what the segment said into details.
func (m *mkvState) finish() {
	p := m.p
	scale := m.scale
	if scale == 0 {
		scale = 1_000_000
	}
	p.d.Duration = floatSeconds(m.duration * float64(scale) / 1e9)
	if t := m.video; t != nil {
		p.d.VideoCodec = m.codec(t)
		p.d.Width, p.d.Height = t.width, t.height
	}
	if t := m.audio; t != nil {
		p.d.AudioCodec = m.codec(t)
		p.d.Channels = t.channels
		if t.rate > 0 && t.rate < 1e7 {
			p.d.SampleRate = int(math.Round(t.rate))
		}
	}
	m.tags.set("title", m.title)
	p.fillTags(m.tags)
	if p.d.Title == "" {
		p.d.Title = m.title
	}
}

// codec names a track's codec, reading its CodecPrivate for the VfW and
// ACM wrappers.
func (m *mkvState) codec(t *mkvTrack) string {
	id := t.codecID
	if c, ok := matroskaCodecs[id]; ok {
		return c
	}
	switch {
	case strings.HasPrefix(id, "A_AAC"):
		return "aac"
	case id == "A_PCM/INT/LIT":
		if t.bits == 8 {
			return "pcm_u8"
		}
		return pcmName("s", t.bits, "le")
	case id == "A_PCM/INT/BIG":
		if t.bits == 8 {
			return "pcm_s8"
		}
		return pcmName("s", t.bits, "be")
	case id == "A_PCM/FLOAT/IEEE":
		if t.bits == 64 {
			return "pcm_f64le"
		}
		return "pcm_f32le"
	case id == "V_MS/VFW/FOURCC":
		if b := m.p.src.at(t.private.data, int(min(t.private.end-t.private.data, 40))); len(b) >= 20 {
			return videoFourCC(b[16:20])
		}
	case id == "A_MS/ACM":
		if b := m.p.src.at(t.private.data, int(min(t.private.end-t.private.data, 16))); len(b) >= 16 {
			return waveCodec(le16(b), int(le16(b[14:])))
		}
	}
	return ""
}

// pcmName names a PCM codec: pcm_s16le, pcm_s24be, ...
func pcmName(sign string, bits int, order string) string {
	switch bits {
	case 16, 24, 32, 64:
		return "pcm_" + sign + strconv.Itoa(bits) + order
	}
	return ""
}
