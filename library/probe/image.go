package probe

import (
	"time"
)

// Still pictures: JPEG (segments up to the frame header, EXIF in APP1),
// PNG (IHDR, eXIf), GIF (logical screen) and WebP (VP8, VP8L, VP8X and
// its EXIF chunk). The codec names are ffprobe's.

func (p *prober) jpeg() {
	p.d.Container, p.d.VideoCodec = "jpeg", "mjpeg"
	off := int64(2)
	for n := 0; n < 1024 && p.step(); n++ {
		b := p.src.at(off, 4)
		if len(b) < 2 || b[0] != 0xFF {
			return
		}
		m := b[1]
		switch {
		case m == 0xFF: // fill byte
			off++
			continue
		case m == 0x01 || m >= 0xD0 && m <= 0xD8: // no length
			off += 2
			continue
		case m == 0xD9 || m == 0xDA: // end of image, start of scan
			return
		}
		if len(b) < 4 {
			return
		}
		length := int64(be16(b[2:]))
		if length < 2 {
			return
		}
		data := off + 4
		switch {
		case m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC:
			if f := p.src.at(data, 5); len(f) == 5 {
				p.d.Height, p.d.Width = int(be16(f[1:])), int(be16(f[3:]))
			}
			return // the frame header comes after the EXIF segment
		case m == 0xE1 && p.d.Taken.IsZero():
			seg := p.src.at(data, int(length-2))
			if len(seg) > 6 && string(seg[:6]) == "Exif\x00\x00" {
				p.d.Taken = exifTaken(seg[6:])
			}
		}
		off = data + length - 2
	}
}

func (p *prober) png() {
	p.d.Container, p.d.VideoCodec = "png", "png"
	b := p.src.at(8, 16)
	if len(b) < 16 || string(b[4:8]) != "IHDR" {
		return
	}
	p.d.Width, p.d.Height = int(be32(b[8:])), int(be32(b[12:]))
	// An eXIf chunk, if any, comes before the image data.
	off := int64(8)
	for n := 0; n < 64 && p.step(); n++ {
		h := p.src.at(off, 8)
		if len(h) < 8 {
			return
		}
		size := int64(be32(h))
		switch string(h[4:8]) {
		case "eXIf":
			if size <= 1<<16 {
				p.d.Taken = exifTaken(p.src.at(off+8, int(size)))
			}
			return
		case "IDAT", "IEND":
			return
		}
		off += 12 + size
	}
}

func (p *prober) gif() {
	p.d.Container, p.d.VideoCodec = "gif", "gif"
	if b := p.src.at(6, 4); len(b) == 4 {
		p.d.Width, p.d.Height = int(le16(b)), int(le16(b[2:]))
	}
}

func (p *prober) webp() {
	p.d.Container, p.d.VideoCodec = "webp", "webp"
	end := p.src.size
	if b := p.src.at(4, 4); len(b) == 4 {
		end = min(end, 8+int64(le32(b)))
	}
	p.riffChildren(12, end, 64, func(c riffChunk) bool {
		b := p.src.at(c.data, int(min(c.end-c.data, 16)))
		switch c.id {
		case "VP8 ":
			if len(b) >= 10 && b[3] == 0x9D && b[4] == 0x01 && b[5] == 0x2A && p.d.Width == 0 {
				p.d.Width, p.d.Height = int(le16(b[6:])&0x3FFF), int(le16(b[8:])&0x3FFF)
			}
			return false
		case "VP8L":
			if len(b) >= 5 && b[0] == 0x2F && p.d.Width == 0 {
				v := le32(b[1:])
				p.d.Width, p.d.Height = int(v&0x3FFF)+1, int(v>>14&0x3FFF)+1
			}
			return false
		case "VP8X":
			if len(b) >= 10 {
				p.d.Width, p.d.Height = int(le24(b[4:]))+1, int(le24(b[7:]))+1
			}
		case "EXIF":
			if c.end-c.data <= 1<<16 {
				e := p.src.at(c.data, int(c.end-c.data))
				if len(e) > 6 && string(e[:6]) == "Exif\x00\x00" {
					e = e[6:]
				}
				p.d.Taken = exifTaken(e)
			}
		}
		return true
	})
}

// exifTaken reads when a photo was taken from EXIF (a TIFF structure):
// DateTimeOriginal, else DateTimeDigitized, in the Exif IFD that IFD0
// points to; OffsetTimeOriginal, if there, gives the zone. Zero if none.
func exifTaken(b []byte) time.Time {
	if len(b) < 8 {
		return time.Time{}
	}
	var u16 func([]byte) uint16
	var u32 func([]byte) uint32
	switch string(b[:4]) {
	case "II*\x00":
		u16, u32 = le16, le32
	case "MM\x00*":
		u16, u32 = be16, be32
	default:
		return time.Time{}
	}
	// entry returns the entries of the IFD at off.
	ifd := func(off uint32) []byte {
		if off < 8 || int64(off)+2 > int64(len(b)) {
			return nil
		}
		n := int(u16(b[off:]))
		start := int(off) + 2
		if start+12*n > len(b) {
			n = (len(b) - start) / 12
		}
		return b[start : start+12*n]
	}
	// ascii returns an ASCII value of an entry.
	ascii := func(e []byte) string {
		if u16(e[2:]) != 2 {
			return ""
		}
		n := u32(e[4:])
		if n <= 4 {
			return string(e[8 : 8+n])
		}
		off := u32(e[8:])
		if n > 64 || int64(off)+int64(n) > int64(len(b)) {
			return ""
		}
		return string(b[off : off+n])
	}
	var exifIFD uint32
	for e := ifd(u32(b[4:])); len(e) >= 12; e = e[12:] {
		if u16(e) == 0x8769 {
			exifIFD = u32(e[8:])
		}
	}
	var original, digitized, offset string
	for e := ifd(exifIFD); len(e) >= 12; e = e[12:] {
		switch u16(e) {
		case 0x9003:
			original = ascii(e)
		case 0x9004:
			digitized = ascii(e)
		case 0x9011:
			offset = ascii(e)
		}
	}
	t := parseExifTime(original, offset)
	if t.IsZero() {
		t = parseExifTime(digitized, "")
	}
	return t
}

// parseExifTime parses an EXIF date ("2006:01:02 15:04:05") with an
// optional offset ("+02:00"); zero if it is not one.
func parseExifTime(s, offset string) time.Time {
	s = cleanText(s)
	if len(s) < 19 {
		return time.Time{}
	}
	t, err := time.Parse("2006:01:02 15:04:05", s[:19])
	if err != nil || t.Year() < 1 {
		return time.Time{}
	}
	offset = cleanText(offset)
	if len(offset) == 6 && (offset[0] == '+' || offset[0] == '-') && offset[3] == ':' {
		h, m := parseLeadingInt(offset[1:3]), parseLeadingInt(offset[4:6])
		if h <= 14 && m < 60 {
			secs := (h*60 + m) * 60
			if offset[0] == '-' {
				secs = -secs
			}
			zone := time.FixedZone("", secs)
			return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, zone)
		}
	}
	return t
}
