package probe

// GIF: the logical screen's size.

func (p *prober) gif() {
	p.d.Container, p.d.VideoCodec = "gif", "gif"
	if b := p.src.at(6, 4); len(b) == 4 {
		p.d.Width, p.d.Height = int(le16(b)), int(le16(b[2:]))
	}
}
