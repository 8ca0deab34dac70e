package probe

import (
	"bytes"
	"slices"
)

// MPEG transport streams (TS, and M2TS with 4-byte timestamps before each
// packet): PAT and PMT near the start name the streams and their codecs
// (stream types, registration and DVB descriptors); the first PES of each
// stream gives its first PTS and, for video, the parameter set with the
// picture size, for audio the frame header with channels and sample
// rate. Near the end the last PTS of each stream gives the duration, as
// ffprobe reckons it: the latest end (the last PES's PTS plus a frame's
// duration) less the earliest start.

const (
	tsHeadScan = 2 << 20   // bytes scanned from the start
	tsTailScan = 256 << 10 // bytes scanned from the end, first try
	tsMaxPES   = 64 << 10  // bytes of a video PES kept to find its SPS
	ptsWrap    = 1 << 33
	maxTailPTS = 512
)

// tsPacketSize tells a transport stream by three sync bytes one packet
// apart at the start: 188 (TS), 192 (M2TS) or 204 (with Reed-Solomon).
func tsPacketSize(head []byte) int {
	for _, n := range []int{188, 192, 204} {
		o := 0
		if n == 192 {
			o = 4
		}
		if len(head) > o+2*n && head[o] == 0x47 && head[o+n] == 0x47 && head[o+2*n] == 0x47 {
			return n
		}
	}
	return 0
}

// tsResync finds a run of five packets within the first 64 KiB, for a
// stream cut at a random point; it returns the packet size and the
// offset of the first sync byte.
func tsResync(s *source) (int, int64) {
	for off := int64(0); off < 64<<10; off++ {
		b := s.at(off, 1024)
		if len(b) < 5*188 {
			return 0, 0
		}
		if b[0] != 0x47 {
			continue
		}
		for _, n := range []int{188, 192, 204} {
			if len(b) > 4*n && b[n] == 0x47 && b[2*n] == 0x47 && b[3*n] == 0x47 && b[4*n] == 0x47 {
				return n, off
			}
		}
	}
	return 0, 0
}

func (p *prober) ts(pktSize int) {
	sync := int64(0)
	if pktSize == 192 {
		sync = 4
	}
	p.tsAt(pktSize, sync)
}

// tsStream is an elementary stream of the program.
type tsStream struct {
	pid       uint16
	codec     string
	video     bool
	first     int64   // earliest PTS seen near the start, -1 if none
	last      int64   // latest PTS seen near the end, -1 if none
	tail      []int64 // PTSs near the end (the last maxTailPTS)
	pes       []byte
	collect   bool // still looking for codec parameters
	width     int
	height    int
	channels  int
	rate      int
	frameDur  int64 // an audio frame's duration in 90 kHz ticks, if known
	layerName string
}

// tsState is a transport stream being read.
type tsState struct {
	p       *prober
	pkt     int
	sync    int64 // offset of the first packet's sync byte
	pmtPID  int
	pmtDone bool
	psi     map[uint16][]byte // sections being assembled
	streams []*tsStream
}

func (p *prober) tsAt(pktSize int, sync int64) {
	p.d.Container = "mpegts"
	t := &tsState{p: p, pkt: pktSize, sync: sync, pmtPID: -1, psi: map[uint16][]byte{}}
	// From the start: tables, first PTS, codec parameters.
	end := min(p.src.size, sync+tsHeadScan)
	for off := sync; off+188 <= end && p.step(); off += int64(pktSize) {
		b := p.src.at(off, 188)
		if len(b) < 188 {
			break
		}
		t.packet(b, true)
		if t.headDone() {
			break
		}
	}
	if !t.pmtDone {
		return
	}
	// From the end: last PTS.
	for _, span := range []int64{tsTailScan, 4 * tsTailScan} {
		n := (p.src.size - sync) / int64(pktSize)
		from := max(0, n-span/int64(pktSize))
		for k := from; k < n && p.step(); k++ {
			b := p.src.at(sync+k*int64(pktSize), 188)
			if len(b) < 188 {
				break
			}
			t.packet(b, false)
		}
		if t.anyLast() || from == 0 {
			break
		}
	}
	t.finish()
}

// headDone reports whether the start told all it can: every stream has a
// first PTS and its codec parameters.
func (t *tsState) headDone() bool {
	if !t.pmtDone {
		return false
	}
	for _, s := range t.streams {
		if s.first < 0 || s.collect {
			return false
		}
	}
	return true
}

func (t *tsState) anyLast() bool {
	for _, s := range t.streams {
		if s.last >= 0 {
			return true
		}
	}
	return false
}

// packet reads one 188-byte packet; head says whether it is near the
// start (tables and parameters) or the end (last PTS).
func (t *tsState) packet(b []byte, head bool) {
	if b[0] != 0x47 {
		return
	}
	pusi := b[1]&0x40 != 0
	pid := uint16(b[1]&0x1F)<<8 | uint16(b[2])
	afc := b[3] >> 4 & 3
	payload := b[4:]
	if afc&2 != 0 {
		n := int(b[4])
		if 5+n > len(b) {
			return
		}
		payload = b[5+n:]
	}
	if afc&1 == 0 || len(payload) == 0 {
		return
	}
	switch {
	case head && pid == 0:
		t.section(pid, pusi, payload)
	case head && int(pid) == t.pmtPID && !t.pmtDone:
		t.section(pid, pusi, payload)
	default:
		for _, s := range t.streams {
			if s.pid == pid {
				t.pes(s, pusi, payload, head)
				return
			}
		}
	}
}

// section assembles a PSI section and reads it when complete.
func (t *tsState) section(pid uint16, pusi bool, payload []byte) {
	buf := t.psi[pid]
	if pusi {
		ptr := int(payload[0])
		if 1+ptr > len(payload) {
			return
		}
		buf = append(buf[:0], payload[1+ptr:]...)
	} else if len(buf) > 0 {
		buf = append(buf, payload...)
	}
	if len(buf) > 4096 {
		buf = buf[:0]
	}
	t.psi[pid] = buf
	if len(buf) < 3 {
		return
	}
	n := 3 + int(be16(buf[1:])&0x0FFF)
	if len(buf) < n {
		return
	}
	sec := buf[:n]
	switch {
	case pid == 0 && sec[0] == 0x00:
		t.pat(sec)
	case int(pid) == t.pmtPID && sec[0] == 0x02:
		t.pmt(sec)
	}
	t.psi[pid] = buf[:0]
}

// pat reads a program association table: the first program's PMT PID.
func (t *tsState) pat(sec []byte) {
	if t.pmtPID >= 0 || len(sec) < 12 {
		return
	}
	for i := 8; i+4 <= len(sec)-4; i += 4 {
		if prog := be16(sec[i:]); prog != 0 {
			t.pmtPID = int(be16(sec[i+2:]) & 0x1FFF)
			return
		}
	}
}

// pmt reads a program map table: the streams and their codecs.
func (t *tsState) pmt(sec []byte) {
	if len(sec) < 16 {
		return
	}
	end := len(sec) - 4
	pil := int(be16(sec[10:]) & 0x0FFF)
	if 12+pil > end {
		return
	}
	hdmv := bytes.Contains(sec[12:12+pil], []byte{0x05, 0x04, 'H', 'D', 'M', 'V'})
	for i := 12 + pil; i+5 <= end && len(t.streams) < 32; {
		stype := sec[i]
		pid := be16(sec[i+1:]) & 0x1FFF
		esil := int(be16(sec[i+3:]) & 0x0FFF)
		if i+5+esil > end {
			break
		}
		codec, video := tsCodec(stype, sec[i+5:i+5+esil], hdmv)
		if codec != "" {
			t.streams = append(t.streams, &tsStream{
				pid: pid, codec: codec, video: video, first: -1, last: -1,
				collect: tsHasParams(codec),
			})
		}
		i += 5 + esil
	}
	t.pmtDone = true
}

// tsCodec names the codec of a PMT stream entry, as ffmpeg's mpegts
// demuxer does: by stream type (HDMV types in Blu-ray streams), then by
// registration descriptor, then by DVB descriptor. Only audio and video
// streams are named.
func tsCodec(stype byte, desc []byte, hdmv bool) (codec string, video bool) {
	switch stype {
	case 0x01, 0x02:
		return "mpeg2video", true
	case 0x03, 0x04:
		return "mp3", false // the first frame header says which layer
	case 0x0F, 0x1C:
		return "aac", false
	case 0x10:
		return "mpeg4", true
	case 0x11:
		return "aac_latm", false
	case 0x1B, 0x20:
		return "h264", true
	case 0x21:
		return "jpeg2000", true
	case 0x24:
		return "hevc", true
	case 0x33:
		return "vvc", true
	case 0x42:
		return "cavs", true
	case 0xD1:
		return "dirac", true
	case 0xEA:
		return "vc1", true
	}
	if hdmv {
		switch stype {
		case 0x80:
			return "pcm_bluray", false
		case 0x81:
			return "ac3", false
		case 0x82, 0x85, 0x86, 0xA2:
			return "dts", false
		case 0x83:
			return "truehd", false
		case 0x84, 0xA1:
			return "eac3", false
		}
	} else {
		switch stype {
		case 0x81:
			return "ac3", false
		case 0x8A:
			return "dts", false
		}
	}
	for i := 0; i+2 <= len(desc); i += 2 + int(desc[i+1]) {
		tag, n := desc[i], int(desc[i+1])
		if i+2+n > len(desc) {
			break
		}
		d := desc[i+2 : i+2+n]
		switch {
		case tag == 0x05 && n >= 4:
			switch string(d[:4]) {
			case "AC-3":
				return "ac3", false
			case "EAC3":
				return "eac3", false
			case "DTS1", "DTS2", "DTS3":
				return "dts", false
			case "Opus":
				return "opus", false
			case "HEVC":
				return "hevc", true
			case "VC-1":
				return "vc1", true
			case "AV01":
				return "av1", true
			case "drac":
				return "dirac", true
			}
		case tag == 0x6A:
			return "ac3", false
		case tag == 0x7A:
			return "eac3", false
		case tag == 0x7B:
			return "dts", false
		}
	}
	return "", false
}

// tsHasParams reports whether the codec's parameters are read from its
// first PES.
func tsHasParams(codec string) bool {
	switch codec {
	case "h264", "hevc", "mpeg2video", "aac", "mp3", "ac3", "eac3":
		return true
	}
	return false
}

// pes reads a PES packet's piece: its PTS where it starts a PES, and its
// payload while the codec parameters are sought.
func (t *tsState) pes(s *tsStream, start bool, b []byte, head bool) {
	if start {
		pts, payload, ok := pesHeader(b)
		if !ok {
			return
		}
		if pts >= 0 {
			if head {
				if s.first < 0 || ptsBefore(pts, s.first) {
					s.first = pts
				}
			} else {
				if len(s.tail) == maxTailPTS {
					s.tail = s.tail[1:]
				}
				s.tail = append(s.tail, pts)
				if s.last < 0 || ptsBefore(s.last, pts) {
					s.last = pts
				}
			}
		}
		if head && s.collect {
			s.pes = append(s.pes[:0], payload...)
			t.params(s)
		}
		return
	}
	if head && s.collect && len(s.pes) > 0 && len(s.pes) < tsMaxPES {
		s.pes = append(s.pes, b...)
		t.params(s)
	}
}

// ptsBefore reports whether PTS a comes before b, allowing for the 33-bit
// wrap.
func ptsBefore(a, b int64) bool {
	d := (b - a + ptsWrap) % ptsWrap
	return d > 0 && d < ptsWrap/2
}

// pesHeader reads the header of a PES packet: its PTS (-1 if none) and
// its payload.
func pesHeader(b []byte) (pts int64, payload []byte, ok bool) {
	if len(b) < 9 || b[0] != 0 || b[1] != 0 || b[2] != 1 {
		return -1, nil, false
	}
	switch id := b[3]; {
	case id == 0xBC, id == 0xBE, id == 0xBF, id == 0xF0, id == 0xF1, id == 0xFF, id == 0xF2, id == 0xF8:
		return -1, b[6:], true
	}
	hl := int(b[8])
	if 9+hl > len(b) {
		return -1, nil, false
	}
	pts = -1
	if b[7]&0x80 != 0 && hl >= 5 {
		c := b[9:14]
		pts = int64(c[0]>>1&7)<<30 | int64(c[1])<<22 | int64(c[2]>>1)<<15 | int64(c[3])<<7 | int64(c[4]>>1)
	}
	return pts, b[9+hl:], true
}

// params looks for a stream's codec parameters in the PES data gathered.
func (t *tsState) params(s *tsStream) {
	b := s.pes
	switch s.codec {
	case "h264", "hevc":
		for i := 0; i+4 < len(b); {
			j := bytes.Index(b[i:], []byte{0, 0, 1})
			if j < 0 || i+j+3 >= len(b) {
				return
			}
			nal := b[i+j+3:]
			if k := bytes.Index(nal, []byte{0, 0, 1}); k >= 0 {
				nal = nal[:k]
				if len(nal) == 0 {
					i += j + 3
					continue
				}
			} else if len(s.pes) < tsMaxPES {
				// The NAL unit may go on in the next packet.
				if s.codec == "h264" && nal[0]&0x1F == 7 || s.codec == "hevc" && nal[0]>>1&0x3F == 33 {
					return
				}
			}
			var w, h int
			var ok bool
			if s.codec == "h264" && nal[0]&0x1F == 7 {
				w, h, ok = h264Size(nal[1:])
			} else if s.codec == "hevc" && nal[0]>>1&0x3F == 33 && len(nal) > 2 {
				w, h, ok = hevcSize(nal[2:])
			}
			if ok {
				s.width, s.height, s.collect = w, h, false
				return
			}
			i += j + 3
		}
	case "mpeg2video":
		if i := bytes.Index(b, []byte{0, 0, 1, 0xB3}); i >= 0 && i+7 <= len(b) {
			c := b[i+4:]
			s.width, s.height = int(c[0])<<4|int(c[1]>>4), int(c[1]&0x0F)<<8|int(c[2])
			s.collect = false
		}
	default:
		if t.audioParams(s, b) || len(b) > 2048 {
			s.collect = false
		}
	}
	if len(s.pes) >= tsMaxPES {
		s.collect = false
	}
}

// audioParams reads the first audio frame header of a PES payload.
func (t *tsState) audioParams(s *tsStream, b []byte) bool {
	samples := 0
	for i := 0; i+8 <= len(b) && samples == 0; i++ {
		c := b[i:]
		switch s.codec {
		case "aac":
			if c[0] == 0xFF && c[1]&0xF6 == 0xF0 {
				sfi, cc := c[2]>>2&0x0F, (c[2]&1)<<2|c[3]>>6
				s.rate, s.channels, samples = aacRates[sfi], aacChannels[cc], 1024
			}
		case "mp3":
			if h, ok := parseMPAHeader(c); ok {
				s.layerName, s.rate, s.channels, samples = h.codec(), h.rate, h.channels, h.spf
			}
		case "ac3", "eac3":
			if c[0] == 0x0B && c[1] == 0x77 {
				s.rate, s.channels, samples = ac3Params(c)
			}
		}
	}
	if samples == 0 || s.rate <= 0 {
		return false
	}
	s.frameDur = int64(samples) * 90000 / int64(s.rate)
	return true
}

// ac3Params reads an AC-3 or E-AC-3 sync frame header: sample rate,
// channels (with LFE) and samples per frame.
func ac3Params(c []byte) (rate, channels, samples int) {
	if len(c) < 8 {
		return 0, 0, 0
	}
	bsid := c[5] >> 3
	if bsid <= 10 {
		fscod := c[4] >> 6
		if fscod == 3 {
			return 0, 0, 0
		}
		r := bitReader{b: c[6:]}
		acmod := r.bits(3)
		if acmod&1 != 0 && acmod != 1 {
			r.skip(2)
		}
		if acmod&4 != 0 {
			r.skip(2)
		}
		if acmod == 2 {
			r.skip(2)
		}
		lfe := r.bits(1)
		return [3]int{48000, 44100, 32000}[fscod], ac3Channels(byte(acmod), byte(lfe)), 1536
	}
	r := bitReader{b: c[2:]}
	r.skip(2 + 3 + 11)
	fscod := r.bits(2)
	blocks := 6
	if fscod == 3 {
		rate = [4]int{24000, 22050, 16000, 0}[r.bits(2)]
	} else {
		rate = [3]int{48000, 44100, 32000}[fscod]
		blocks = [4]int{1, 2, 3, 6}[r.bits(2)]
	}
	acmod, lfe := r.bits(3), r.bits(1)
	return rate, ac3Channels(byte(acmod), byte(lfe)), blocks * 256
}

// finish sets the details from the streams.
func (t *tsState) finish() {
	p := t.p
	var start, end int64 = -1, -1
	for _, s := range t.streams {
		if s.video && p.d.VideoCodec == "" {
			p.d.VideoCodec, p.d.Width, p.d.Height = s.codec, s.width, s.height
		}
		if !s.video && p.d.AudioCodec == "" {
			p.d.AudioCodec, p.d.Channels, p.d.SampleRate = s.codec, s.channels, s.rate
			if s.layerName != "" {
				p.d.AudioCodec = s.layerName
			}
		}
		if s.first < 0 || s.last < 0 {
			continue
		}
		if start < 0 || ptsBefore(s.first, start) {
			start = s.first
		}
		// Like ffprobe, the end is the last PES's start plus one frame:
		// for audio the codec's frame, for video the frame interval.
		step := s.frameStep()
		if s.frameDur > 0 {
			step = s.frameDur
		}
		e := (s.last + step) % ptsWrap
		if end < 0 || ptsBefore(end, e) {
			end = e
		}
	}
	if start >= 0 && end >= 0 {
		p.d.Duration = seconds(uint64((end-start+ptsWrap)%ptsWrap), 90000)
	}
}

// frameStep is the smallest positive step between the PTSs seen near the
// end, in order of time (B-frames come out of order): a frame's (or a
// PES's) duration; 0 if unknown. PTSs that wrapped are left as they are:
// at worst the step is unknown.
func (s *tsStream) frameStep() int64 {
	p := slices.Clone(s.tail)
	slices.Sort(p)
	var step int64
	for i := 1; i < len(p); i++ {
		if d := p[i] - p[i-1]; d > 0 && d < 10*90000 && (step == 0 || d < step) {
			step = d
		}
	}
	return step
}
