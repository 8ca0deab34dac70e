package probe

// PNG: IHDR (the picture size) and an eXIf chunk before the image data.

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
