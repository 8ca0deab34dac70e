package probe

import "time"

// EXIF: when a photo was taken, from the TIFF structure that JPEG, PNG
// and WebP files carry.

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
