package probe

// WAV (and RF64/BW64, whose ds64 chunk holds 64-bit sizes): fmt, fact,
// data (its size, not its samples), LIST INFO and id3 chunks.

func (p *prober) wav() {
	p.d.Container = "wav"
	var (
		f                 waveFormat
		haveFormat        bool
		dataOff, dataSize int64 = -1, 0
		ds64Data          uint64
		factSamples       uint64
		tags              tagSet
		size              = p.src.size
	)
	for off, n := int64(12), 0; off < size && n < 64; n++ {
		c, ok := p.riffChunk(off, size)
		if !ok {
			break
		}
		off = c.next
		switch c.id {
		case "ds64":
			if b := p.src.at(c.data, 24); len(b) == 24 {
				ds64Data = le64(b[8:])
				factSamples = le64(b[16:])
			}
		case "fmt ":
			b := p.src.at(c.data, int(min(c.end-c.data, 40)))
			f, haveFormat = parseWaveFormat(b)
		case "fact":
			if b := p.src.at(c.data, 4); len(b) == 4 && factSamples == 0 {
				factSamples = uint64(le32(b))
			}
		case "data":
			dataOff, dataSize = c.data, int64(c.size)
			if c.size == 0xFFFFFFFF && ds64Data > 0 {
				dataSize = int64(min(ds64Data, 1<<62))
			}
			if dataSize == 0 || dataSize > size-dataOff {
				dataSize = size - dataOff
			}
			off = min(dataOff+dataSize+dataSize&1, size)
		case "LIST":
			if p.riffList(c) == "INFO" {
				p.riffInfo(c, &tags)
			}
		case "id3 ", "ID3 ":
			if t := p.id3v2(c.data); t.ok {
				tags = mergeTags(tags, t.tags)
			}
		}
	}
	if !haveFormat {
		return
	}
	p.d.AudioCodec, p.d.Channels, p.d.SampleRate = f.codec, f.channels, f.rate
	switch {
	case dataOff < 0:
	case isPCMTag(f.tag) && f.align > 0 && f.rate > 0:
		p.d.Duration = seconds(uint64(dataSize/int64(f.align)), uint64(f.rate))
	case factSamples > 0 && f.rate > 0:
		p.d.Duration = seconds(factSamples, uint64(f.rate))
	case f.byteRate > 0:
		p.d.Duration = seconds(uint64(dataSize), uint64(f.byteRate))
	}
	p.fillTags(tags)
}

// isPCMTag reports whether a WAVE format tag is plain PCM (integer, float,
// A-law, mu-law), whose duration follows from the data size.
func isPCMTag(tag uint16) bool {
	switch tag {
	case 1, 3, 6, 7:
		return true
	}
	return false
}

// mergeTags fills the empty fields of a from b.
func mergeTags(a, b tagSet) tagSet {
	if a.title == "" {
		a.title = b.title
	}
	if a.artist == "" {
		a.artist = b.artist
	}
	if a.album == "" {
		a.album = b.album
	}
	if a.track == 0 {
		a.track = b.track
	}
	if a.year == 0 {
		a.year = b.year
	}
	return a
}
