package probe

// WebP: the RIFF chunks VP8 (lossy), VP8L (lossless), VP8X (extended:
// the canvas size) and EXIF.

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
