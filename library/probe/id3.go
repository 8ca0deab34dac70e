package probe

import "bytes"

// ID3v2 (versions 2.2, 2.3 and 2.4) and ID3v1 tags: title, artist, album,
// track, year, and attached pictures (APIC/PIC). Frames are read one at a
// time; a picture is skipped by its size, never read, unless Cover wants
// it. A tag unsynchronised as a whole (2.2 and 2.3) is read into memory
// when it is small enough (maxUnsyncTag), else its frames are not read.

// maxUnsyncTag bounds an ID3v2 tag read whole to undo unsynchronisation.
const maxUnsyncTag = 1 << 20

// id3Result is what an ID3v2 tag said and where the data after it starts.
type id3Result struct {
	ok   bool
	end  int64 // offset after the tag
	tags tagSet
}

// id3Frames is where a tag's frames are: in the file from base, or in mem
// (an unsynchronised tag, undone).
type id3Frames struct {
	p    *prober
	mem  []byte
	base int64
	size int64
}

func (r *id3Frames) at(off int64, n int) []byte {
	if off < 0 || off >= r.size {
		return nil
	}
	n = int(min(int64(n), r.size-off))
	if r.mem != nil {
		return r.mem[off : off+int64(n)]
	}
	return r.p.src.at(r.base+off, n)
}

// load returns n bytes at off for a picture (see source.raw).
func (r *id3Frames) load(off, n int64) []byte {
	if off < 0 || n <= 0 || off+n > r.size || n > MaxCover {
		return nil
	}
	if r.mem != nil {
		return bytes.Clone(r.mem[off : off+n])
	}
	return r.p.src.raw(r.base+off, n)
}

// id3v2 reads the ID3v2 tag at off; ok is false if there is none.
func (p *prober) id3v2(off int64) id3Result {
	h := p.src.at(off, 10)
	if len(h) < 10 || string(h[:3]) != "ID3" || h[3] < 2 || h[3] > 4 || h[3] == 0xFF {
		return id3Result{end: off}
	}
	ver, flags := h[3], h[5]
	size := int64(syncsafe(h[6:10]))
	res := id3Result{ok: true, end: off + 10 + size}
	if flags&0x10 != 0 && ver == 4 { // footer
		res.end += 10
	}
	res.end = min(res.end, p.src.size)
	fr := &id3Frames{p: p, base: off + 10, size: min(size, p.src.size-off-10)}
	if flags&0x80 != 0 && ver < 4 { // the whole tag is unsynchronised
		if fr.size > maxUnsyncTag {
			return res
		}
		raw := make([]byte, 0, fr.size)
		for o := int64(0); o < fr.size; {
			b := p.src.at(fr.base+o, int(min(fr.size-o, maxAt)))
			if len(b) == 0 {
				break
			}
			raw = append(raw, b...)
			o += int64(len(b))
		}
		fr.mem = unsync(raw)
		fr.size = int64(len(fr.mem))
	}
	start := int64(0)
	if flags&0x40 != 0 && ver >= 3 { // extended header
		b := fr.at(0, 4)
		if len(b) < 4 {
			return res
		}
		if ver == 3 {
			start = 4 + int64(be32(b))
		} else {
			start = int64(syncsafe(b))
		}
	}
	p.id3Walk(fr, ver, start, &res.tags)
	return res
}

// id3Walk reads the frames of a tag from start.
func (p *prober) id3Walk(fr *id3Frames, ver byte, start int64, t *tagSet) {
	hdrLen, idLen := int64(10), 4
	if ver == 2 {
		hdrLen, idLen = 6, 3
	}
	var albumArtist string
	for pos := start; pos+hdrLen <= fr.size && p.step(); {
		h := fr.at(pos, int(hdrLen))
		if len(h) < int(hdrLen) || !validFrameID(h[:idLen]) {
			break
		}
		var id string
		var size int64
		var flags uint16
		switch ver {
		case 2:
			id, size = string(h[:3]), int64(be24(h[3:]))
		case 3:
			id, size, flags = string(h[:4]), int64(be32(h[4:])), be16(h[8:])
		case 4:
			id, flags = string(h[:4]), be16(h[8:])
			if (h[4]|h[5]|h[6]|h[7])&0x80 != 0 {
				size = int64(be32(h[4:])) // not syncsafe: an old iTunes bug
			} else {
				size = int64(syncsafe(h[4:]))
			}
		}
		data := pos + hdrLen
		next := data + size
		if size <= 0 || next > fr.size {
			size = fr.size - data
			next = fr.size
		}
		pos = next
		skip, unsynced := false, false
		switch ver {
		case 3:
			skip = flags&0x00C0 != 0 // compressed or encrypted
			if flags&0x0020 != 0 {
				data, size = data+1, size-1
			}
		case 4:
			skip = flags&0x000C != 0
			if flags&0x0040 != 0 {
				data, size = data+1, size-1
			}
			unsynced = flags&0x0002 != 0
			if flags&0x0001 != 0 {
				data, size = data+4, size-4
			}
		}
		if skip || size <= 0 {
			continue
		}
		switch id {
		case "APIC", "PIC":
			p.id3Picture(fr, id == "PIC", data, size, unsynced)
			continue
		}
		key := id3Keys[id]
		if key == "" {
			continue
		}
		b := fr.at(data, int(min(size, maxText)))
		if unsynced {
			b = unsync(bytes.Clone(b))
		}
		if key == "artist2" {
			albumArtist = id3Text(b)
			continue
		}
		t.set(key, id3Text(b))
	}
	if t.artist == "" {
		t.set("artist", albumArtist)
	}
}

// id3Keys maps frame IDs to tag names.
var id3Keys = map[string]string{
	"TIT2": "title", "TPE1": "artist", "TPE2": "artist2", "TALB": "album",
	"TRCK": "track", "TYER": "year", "TDRC": "year", "TDRL": "year", "TORY": "year",
	"TT2": "title", "TP1": "artist", "TP2": "artist2", "TAL": "album",
	"TRK": "track", "TYE": "year", "TOR": "year",
}

// id3Picture reads an attached picture frame: encoding, MIME type (2.2: a
// three-letter format), picture type, description, then the picture.
func (p *prober) id3Picture(fr *id3Frames, v22 bool, data, size int64, unsynced bool) {
	head := fr.at(data, int(min(size, 2048)))
	if unsynced {
		if !p.wantCover {
			// Where the picture starts depends on the undone bytes; its
			// presence does not.
			p.picture(-1, "", size, nil)
			return
		}
		all := fr.load(data, size)
		if all == nil {
			return
		}
		all = unsync(all)
		ptype, mime, at, ok := parsePictureHeader(all, v22)
		if ok {
			p.picture(ptype, mime, int64(len(all)-at), func() []byte { return all[at:] })
		}
		return
	}
	ptype, mime, at, ok := parsePictureHeader(head, v22)
	if !ok {
		return
	}
	off, n := data+int64(at), size-int64(at)
	p.picture(ptype, mime, n, func() []byte { return fr.load(off, n) })
}

// parsePictureHeader reads the fields of an APIC or PIC frame before the
// picture: its type, MIME type, and where the picture starts.
func parsePictureHeader(b []byte, v22 bool) (ptype int, mime string, at int, ok bool) {
	if len(b) < 4 {
		return 0, "", 0, false
	}
	enc := b[0]
	i := 1
	if v22 {
		mime, i = string(b[1:4]), 4
	} else {
		end := bytes.IndexByte(b[i:], 0)
		if end < 0 {
			return 0, "", 0, false
		}
		mime, i = string(b[i:i+end]), i+end+1
	}
	if i >= len(b) {
		return 0, "", 0, false
	}
	ptype = int(b[i])
	i++
	// The description ends with a NUL of its encoding's width.
	if enc == 1 || enc == 2 {
		for ; i+1 < len(b); i += 2 {
			if b[i] == 0 && b[i+1] == 0 {
				return ptype, mime, i + 2, true
			}
		}
		return 0, "", 0, false
	}
	end := bytes.IndexByte(b[i:], 0)
	if end < 0 {
		return 0, "", 0, false
	}
	return ptype, mime, i + end + 1, true
}

// validFrameID reports whether id is made of upper-case letters and
// digits, as frame IDs are.
func validFrameID(id []byte) bool {
	for _, c := range id {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return len(id) > 0
}

// id3Text decodes a text frame: an encoding byte, then the text (its
// first value, where several are separated by NULs).
func id3Text(b []byte) string {
	if len(b) < 1 {
		return ""
	}
	enc, b := b[0], b[1:]
	switch enc {
	case 0:
		if i := bytes.IndexByte(b, 0); i >= 0 {
			b = b[:i]
		}
		return latin1(b)
	case 1:
		return decodeUTF16(b, false)
	case 2:
		return decodeUTF16(b, true)
	case 3:
		if i := bytes.IndexByte(b, 0); i >= 0 {
			b = b[:i]
		}
		return string(b)
	}
	return ""
}

// syncsafe decodes a 28-bit syncsafe integer.
func syncsafe(b []byte) uint32 {
	return uint32(b[0]&0x7F)<<21 | uint32(b[1]&0x7F)<<14 | uint32(b[2]&0x7F)<<7 | uint32(b[3]&0x7F)
}

// unsync undoes ID3 unsynchronisation (FF 00 -> FF) in place.
func unsync(b []byte) []byte {
	out := b[:0]
	for i := 0; i < len(b); i++ {
		out = append(out, b[i])
		if b[i] == 0xFF && i+1 < len(b) && b[i+1] == 0 {
			i++
		}
	}
	return out
}

// id3v1 reads an ID3v1 tag at the end of the file, if there is one.
func (p *prober) id3v1() (tagSet, bool) {
	var t tagSet
	if p.src.size < 128 {
		return t, false
	}
	b := p.src.at(p.src.size-128, 128)
	if len(b) < 128 || string(b[:3]) != "TAG" {
		return t, false
	}
	field := func(f []byte) string {
		if i := bytes.IndexByte(f, 0); i >= 0 {
			f = f[:i]
		}
		return latin1(f)
	}
	t.set("title", field(b[3:33]))
	t.set("artist", field(b[33:63]))
	t.set("album", field(b[63:93]))
	t.set("year", field(b[93:97]))
	if b[125] == 0 && b[126] != 0 { // ID3v1.1
		t.track = int(b[126])
	}
	return t, true
}
