package probe

// AVI: the RIFF header's hdrl list (avih, each stream's strh and strf,
// OpenDML's dmlh) and the INFO list; the movi list is never walked.
// Each stream lasts its length times its scale over its rate; the file,
// its longest stream (as ffprobe reckons it).

func (p *prober) avi() {
	p.d.Container = "avi"
	var (
		end        = p.src.size
		video      bool
		audio      bool
		totalFrame uint64
		longest    float64 // seconds
		videoSecs  float64
		vidScale   float64 // seconds per frame of the video stream
		tags       tagSet
	)
	if b := p.src.at(4, 4); len(b) == 4 {
		end = min(end, 8+int64(le32(b)))
	}
	p.riffChildren(12, end, 64, func(c riffChunk) bool {
		switch p.riffList(c) {
		case "hdrl":
			p.riffChildren(c.data+4, c.end, 256, func(h riffChunk) bool {
				switch {
				case h.id == "avih":
					if b := p.src.at(h.data, 40); len(b) == 40 && !video {
						p.d.Width, p.d.Height = int(le32(b[32:])), int(le32(b[36:]))
					}
				case p.riffList(h) == "odml":
					p.riffChildren(h.data+4, h.end, 16, func(o riffChunk) bool {
						if o.id == "dmlh" {
							if b := p.src.at(o.data, 4); len(b) == 4 {
								totalFrame = uint64(le32(b))
							}
						}
						return true
					})
				case p.riffList(h) == "strl":
					var kind string
					var secs float64
					var scale, rate float64
					p.riffChildren(h.data+4, h.end, 16, func(s riffChunk) bool {
						switch s.id {
						case "strh":
							b := p.src.at(s.data, 36)
							if len(b) < 36 {
								return false
							}
							kind = string(b[:4])
							scale, rate = float64(le32(b[20:])), float64(le32(b[24:]))
							if rate > 0 {
								secs = float64(le32(b[32:])) * scale / rate
							}
						case "strf":
							b := p.src.at(s.data, int(min(s.end-s.data, 40)))
							switch {
							case kind == "vids" && !video && len(b) >= 20:
								video = true
								p.d.VideoCodec = videoFourCC(b[16:20])
								w, h := int32(le32(b[4:])), int32(le32(b[8:]))
								p.d.Width, p.d.Height = int(w), int(max(h, -h))
								videoSecs = secs
								if rate > 0 {
									vidScale = scale / rate
								}
							case kind == "auds" && !audio:
								if f, ok := parseWaveFormat(b); ok {
									audio = true
									p.d.AudioCodec, p.d.Channels, p.d.SampleRate = f.codec, f.channels, f.rate
								}
							}
						}
						return true
					})
					longest = max(longest, secs)
				}
				return true
			})
		case "INFO":
			p.riffInfo(c, &tags)
		case "movi":
			return false
		}
		return true
	})
	// OpenDML files count all their frames in dmlh; strh counts those of
	// the first RIFF.
	if t := float64(totalFrame) * vidScale; t > videoSecs {
		longest = max(longest, t)
	}
	p.d.Duration = floatSeconds(longest)
	p.fillTags(tags)
}
