package probe

// JPEG: the segments up to the frame header (SOFn: the picture size), and
// EXIF in APP1.

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
