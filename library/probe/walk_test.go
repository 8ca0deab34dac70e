package probe

import (
	"bytes"
	"encoding/binary"
	"path"
)

// Test-side walkers of the structures of real files, independent of the
// parsers: where each box, element, chunk, page, block, frame, segment or
// packet starts and ends, and where its size field is, so the hostile
// tests can cut files there and make sizes lie.

// sizeField is a size (or length or count) field of a file.
type sizeField struct {
	off   int
	width int // bytes
	kind  fieldKind
}

type fieldKind int

const (
	fieldBE fieldKind = iota
	fieldLE
	fieldVint     // an EBML variable-size integer of width bytes
	fieldSyncsafe // an ID3v2 syncsafe integer (4 bytes)
)

// layout is what a walker found.
type layout struct {
	cuts   []int // structure boundaries
	fields []sizeField
}

func (l *layout) cut(offs ...int) { l.cuts = append(l.cuts, offs...) }

func (l *layout) field(off, width int, kind fieldKind) {
	l.fields = append(l.fields, sizeField{off, width, kind})
}

// walk finds the layout of a file by its extension.
func walk(name string, b []byte) layout {
	var l layout
	switch path.Ext(name) {
	case ".mp4", ".mov", ".m4v", ".m4a", ".3gp":
		walkISO(&l, b, 0, len(b), 0)
	case ".mkv", ".webm", ".mka":
		walkEBML(&l, b, 0, len(b), 0)
	case ".avi", ".wav", ".webp":
		l.cut(0, 12)
		l.field(4, 4, fieldLE)
		walkRIFF(&l, b, 12, len(b), 0)
	case ".ogg", ".opus":
		walkOgg(&l, b)
	case ".flac":
		walkFLAC(&l, b)
	case ".mp3":
		walkMP3(&l, b)
	case ".ts", ".m2ts":
		walkTS(&l, b)
	case ".jpg":
		walkJPEG(&l, b)
	case ".png":
		walkPNG(&l, b)
	}
	return l
}

var isoContainers = map[string]int{ // payload bytes before the children
	"moov": 0, "trak": 0, "mdia": 0, "minf": 0, "stbl": 0, "udta": 0, "edts": 0, "dinf": 0,
	"mvex": 0, "ilst": 0, "meta": 4, "stsd": 8, "wave": 0, "sinf": 0,
	"\xa9nam": 0, "\xa9ART": 0, "\xa9alb": 0, "\xa9day": 0, "trkn": 0, "covr": 0,
	"avc1": 78, "hvc1": 78, "mp4v": 78, "s263": 78, "mp4a": 28, "ac-3": 28,
}

func walkISO(l *layout, b []byte, from, to, depth int) {
	for off := from; off+8 <= to && depth < 10; {
		size := int(binary.BigEndian.Uint32(b[off:]))
		hdr := 8
		l.field(off, 4, fieldBE)
		if size == 1 && off+16 <= to {
			size, hdr = int(binary.BigEndian.Uint64(b[off+8:])), 16
			l.field(off+8, 8, fieldBE)
		}
		if size == 0 {
			size = to - off
		}
		if size < hdr || off+size > to {
			return
		}
		typ := string(b[off+4 : off+8])
		l.cut(off, off+4, off+hdr, off+size)
		if skip, ok := isoContainers[typ]; ok {
			if typ == "stsd" && off+16 <= to {
				l.field(off+12, 4, fieldBE) // entry count
			}
			walkISO(l, b, off+hdr+skip, off+size, depth+1)
		}
		if typ == "data" || typ == "mvhd" || typ == "mdhd" || typ == "tkhd" || typ == "esds" {
			l.cut(off + hdr + 4)
		}
		off += size
	}
}

var ebmlMasters = map[uint32]bool{
	ebmlHeader: true, mkvSegment: true, mkvSeekHead: true, mkvSeek: true, mkvInfo: true,
	mkvTracks: true, mkvTrackEntry: true, mkvVideo: true, mkvAudio: true, mkvTags: true,
	mkvTag: true, mkvTargets: true, mkvSimpleTag: true, mkvAttachments: true, mkvAttachedFile: true,
	0x1C53BB6B: true, 0xBB: true, // Cues, CuePoint
	0x1F43B675: true, // Cluster
}

func walkEBML(l *layout, b []byte, from, to, depth int) {
	for off := from; off+2 <= to && depth < 10; {
		idLen := vintLen(b[off])
		if idLen == 0 || idLen > 4 || off+idLen >= to {
			return
		}
		var id uint32
		for _, c := range b[off : off+idLen] {
			id = id<<8 | uint32(c)
		}
		sizeLen := vintLen(b[off+idLen])
		if sizeLen == 0 || off+idLen+sizeLen > to {
			return
		}
		v := uint64(b[off+idLen]) & (0xFF >> sizeLen)
		for _, c := range b[off+idLen+1 : off+idLen+sizeLen] {
			v = v<<8 | uint64(c)
		}
		l.field(off+idLen, sizeLen, fieldVint)
		data := off + idLen + sizeLen
		end := to
		if v != 1<<(7*sizeLen)-1 && data+int(v) <= to {
			end = data + int(v)
		}
		l.cut(off, off+idLen, data, end)
		if ebmlMasters[id] {
			walkEBML(l, b, data, end, depth+1)
		}
		off = end
	}
}

func walkRIFF(l *layout, b []byte, from, to, depth int) {
	for off := from; off+8 <= to && depth < 4; {
		size := int(binary.LittleEndian.Uint32(b[off+4:]))
		l.field(off+4, 4, fieldLE)
		end := min(off+8+size, to)
		l.cut(off, off+4, off+8, end)
		if string(b[off:off+4]) == "LIST" {
			walkRIFF(l, b, off+12, end, depth+1)
		}
		off = end + size&1
	}
}

func walkOgg(l *layout, b []byte) {
	for off := 0; off+27 <= len(b); {
		if string(b[off:off+4]) != "OggS" {
			return
		}
		n := int(b[off+26])
		if off+27+n > len(b) {
			return
		}
		size := 0
		for _, s := range b[off+27 : off+27+n] {
			size += int(s)
		}
		l.cut(off, off+27, off+27+n)
		l.field(off+26, 1, fieldBE)
		l.field(off+27, 1, fieldBE)
		off += 27 + n + size
	}
	// The comment header's lengths.
	for _, magic := range []string{"\x03vorbis", "OpusTags"} {
		if i := bytes.Index(b, []byte(magic)); i >= 0 {
			at := i + len(magic)
			l.field(at, 4, fieldLE) // vendor length
			if at+4 <= len(b) {
				vendor := int(binary.LittleEndian.Uint32(b[at:]))
				l.field(at+4+vendor, 4, fieldLE)   // comment count
				l.field(at+4+vendor+4, 4, fieldLE) // first comment's length
			}
		}
	}
}

func walkFLAC(l *layout, b []byte) {
	for off := 4; off+4 <= len(b); {
		size := int(b[off+1])<<16 | int(b[off+2])<<8 | int(b[off+3])
		l.cut(off, off+4, off+4+size)
		l.field(off+1, 3, fieldBE)
		if b[off]&0x7F == flacPicture && off+12 <= len(b) {
			l.field(off+8, 4, fieldBE) // MIME length
		}
		if b[off]&0x7F == flacVorbisComment && off+8 <= len(b) {
			l.field(off+4, 4, fieldLE) // vendor length
		}
		if b[off]&0x80 != 0 {
			return
		}
		off += 4 + size
	}
}

func walkMP3(l *layout, b []byte) {
	off := 0
	if len(b) >= 10 && string(b[:3]) == "ID3" {
		l.field(6, 4, fieldSyncsafe)
		size := int(syncsafe(b[6:10]))
		ver := b[3]
		for f := 10; f+10 <= 10+size && f+10 <= len(b) && b[f] != 0; {
			var n int
			if ver == 4 {
				n = int(syncsafe(b[f+4:]))
				l.field(f+4, 4, fieldSyncsafe)
			} else {
				n = int(binary.BigEndian.Uint32(b[f+4:]))
				l.field(f+4, 4, fieldBE)
			}
			l.cut(f, f+4, f+10, f+10+n)
			f += 10 + n
		}
		off = 10 + size
	}
	for n := 0; n < 64 && off+4 <= len(b); n++ {
		h, ok := parseMPAHeader(b[off:])
		if !ok {
			return
		}
		l.cut(off, off+4, off+h.frameLen)
		off += h.frameLen
	}
}

func walkTS(l *layout, b []byte) {
	pkt, sync := 188, 0
	if len(b)%192 == 0 && len(b) > 4 && b[4] == 0x47 {
		pkt, sync = 192, 4
	}
	n := (len(b) - sync) / pkt
	for k := 0; k < n; k++ {
		if k > 64 && k < n-64 {
			continue
		}
		off := sync + k*pkt
		l.cut(off, off+4, off+pkt)
		if b[off+3]&0x20 != 0 {
			l.field(off+4, 1, fieldBE) // adaptation field length
		}
		if b[off+1]&0x40 != 0 && off+12 <= len(b) {
			l.field(off+5, 1, fieldBE) // pointer field, or start of a PES
			l.field(off+6, 2, fieldBE) // section length, or PES start code
			l.field(off+12, 1, fieldBE)
		}
	}
}

func walkJPEG(l *layout, b []byte) {
	for off := 2; off+4 <= len(b); {
		if b[off] != 0xFF {
			return
		}
		m := b[off+1]
		if m == 0xDA || m == 0xD9 {
			l.cut(off)
			return
		}
		n := int(binary.BigEndian.Uint16(b[off+2:]))
		l.cut(off, off+2, off+4, off+2+n)
		l.field(off+2, 2, fieldBE)
		if m == 0xE1 && off+22 <= len(b) {
			l.field(off+18, 4, fieldLE) // IFD0 offset
			l.field(off+22, 2, fieldLE) // IFD0 entry count
		}
		off += 2 + n
	}
}

func walkPNG(l *layout, b []byte) {
	for off := 8; off+8 <= len(b); {
		n := int(binary.BigEndian.Uint32(b[off:]))
		l.cut(off, off+4, off+8, off+12+n)
		l.field(off, 4, fieldBE)
		if string(b[off+4:off+8]) == "IEND" {
			return
		}
		off += 12 + n
	}
}

// lies returns the values a size field is set to: none, tiny, one more
// than it says, twice, the largest the field holds, and one less.
func lies(b []byte, f sizeField) [][]byte {
	var out [][]byte
	cur := readField(b, f)
	maxV := uint64(1)<<(8*f.width) - 1
	switch f.kind {
	case fieldVint:
		maxV = uint64(1)<<(7*f.width) - 1 // all ones: unknown size
	case fieldSyncsafe:
		maxV = 1<<28 - 1
	}
	if f.width == 8 {
		maxV = 1<<63 - 1
	}
	for _, v := range []uint64{0, 1, 7, cur + 1, cur * 2, maxV, maxV - 1, maxV / 2} {
		if v == cur || v > maxV {
			continue
		}
		out = append(out, writeField(b, f, v))
	}
	return out
}

func readField(b []byte, f sizeField) uint64 {
	if f.off < 0 || f.off+f.width > len(b) {
		return 0
	}
	var v uint64
	switch f.kind {
	case fieldBE:
		for _, c := range b[f.off : f.off+f.width] {
			v = v<<8 | uint64(c)
		}
	case fieldLE:
		for i := f.width - 1; i >= 0; i-- {
			v = v<<8 | uint64(b[f.off+i])
		}
	case fieldVint:
		v = uint64(b[f.off]) & (0xFF >> f.width)
		for _, c := range b[f.off+1 : f.off+f.width] {
			v = v<<8 | uint64(c)
		}
	case fieldSyncsafe:
		v = uint64(syncsafe(b[f.off:]))
	}
	return v
}

// writeField returns a copy of b with the field set to v (nil if the
// field is not inside b).
func writeField(b []byte, f sizeField, v uint64) []byte {
	if f.off < 0 || f.off+f.width > len(b) {
		return nil
	}
	out := bytes.Clone(b)
	switch f.kind {
	case fieldBE:
		for i := f.width - 1; i >= 0; i-- {
			out[f.off+i] = byte(v)
			v >>= 8
		}
	case fieldLE:
		for i := 0; i < f.width; i++ {
			out[f.off+i] = byte(v)
			v >>= 8
		}
	case fieldVint:
		for i := f.width - 1; i >= 0; i-- {
			out[f.off+i] = byte(v)
			v >>= 8
		}
		out[f.off] = out[f.off]&(0xFF>>f.width) | 0x80>>(f.width-1)
	case fieldSyncsafe:
		for i := 3; i >= 0; i-- {
			out[f.off+i] = byte(v & 0x7F)
			v >>= 7
		}
	}
	return out
}
