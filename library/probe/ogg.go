package probe

import (
	"bytes"
	"io"
)

// Ogg (Vorbis, Opus, FLAC, Speex audio; Theora video): the first page of
// each logical stream names its codec and parameters; the second packet of
// the audio stream holds its comments (read as a packet spread over pages,
// a picture skipped page header by page header); the duration is the
// granule position of the stream's last page, found near the end.

// oggPage is an Ogg page header.
type oggPage struct {
	off     int64
	flags   byte
	granule uint64
	serial  uint32
	nsegs   int
	segs    [255]byte
	data    int64 // offset of the page's data
	next    int64 // offset of the next page
}

// oggPage reads the page header at off.
func (p *prober) oggPage(off int64, pg *oggPage) bool {
	if !p.step() {
		return false
	}
	h := p.src.peek(off, 27+255)
	if len(h) < 27 || string(h[:4]) != "OggS" || h[4] != 0 {
		return false
	}
	n := int(h[26])
	if len(h) < 27+n {
		return false
	}
	pg.off, pg.flags, pg.granule, pg.serial, pg.nsegs = off, h[5], le64(h[6:]), le32(h[14:]), n
	copy(pg.segs[:], h[27:27+n])
	size := int64(0)
	for _, s := range pg.segs[:n] {
		size += int64(s)
	}
	pg.data = off + 27 + int64(n)
	pg.next = pg.data + size
	return true
}

// oggStream is a logical stream: its codec and its first page.
type oggStream struct {
	serial   uint32
	first    int64 // offset of its first page
	codec    string
	rate     int
	channels int
	preSkip  int
	width    int
	height   int
}

func (p *prober) ogg() {
	p.d.Container = "ogg"
	var streams []oggStream
	var pg oggPage
	for off := int64(0); len(streams) < 16 && p.oggPage(off, &pg) && pg.flags&2 != 0; off = pg.next {
		s := oggStream{serial: pg.serial, first: off}
		n := int64(0)
		if pg.nsegs > 0 {
			n = int64(pg.segs[0]) // the identification packet fits the first segments
			for i := 1; i < pg.nsegs && pg.segs[i-1] == 255; i++ {
				n += int64(pg.segs[i])
			}
		}
		s.identify(p.src.at(pg.data, int(min(n, 128))))
		streams = append(streams, s)
	}
	var audio, video *oggStream
	for i := range streams {
		s := &streams[i]
		switch {
		case s.codec == "theora" && video == nil:
			video = s
		case s.codec != "" && s.codec != "theora" && audio == nil:
			audio = s
		}
	}
	if video != nil {
		p.d.VideoCodec, p.d.Width, p.d.Height = video.codec, video.width, video.height
	}
	main := audio
	if main == nil {
		main = video
	}
	if main == nil {
		return
	}
	if audio != nil {
		p.d.AudioCodec, p.d.Channels, p.d.SampleRate = audio.codec, audio.channels, audio.rate
		var tags tagSet
		p.oggComments(audio, &tags)
		p.fillTags(tags)
	}
	if g, ok := p.oggLastGranule(main.serial); ok && main.rate > 0 && main.codec != "theora" {
		if g > uint64(main.preSkip) {
			p.d.Duration = seconds(g-uint64(main.preSkip), uint64(main.rate))
		}
	}
}

// identify reads a stream's identification packet.
func (s *oggStream) identify(b []byte) {
	switch {
	case len(b) >= 30 && string(b[:7]) == "\x01vorbis":
		s.codec, s.channels, s.rate = "vorbis", int(b[11]), int(le32(b[12:]))
	case len(b) >= 19 && string(b[:8]) == "OpusHead":
		s.codec, s.channels, s.preSkip, s.rate = "opus", int(b[9]), int(le16(b[10:])), 48000
	case len(b) >= 51 && string(b[:5]) == "\x7FFLAC" && string(b[9:13]) == "fLaC":
		si := b[17:]
		s.codec, s.rate, s.channels = "flac", int(be24(si[10:])>>4), int(si[12]>>1&7)+1
	case len(b) >= 52 && string(b[:8]) == "Speex   ":
		s.codec, s.rate, s.channels = "speex", int(le32(b[36:])), int(le32(b[48:]))
	case len(b) >= 20 && string(b[:7]) == "\x80theora":
		s.codec, s.width, s.height = "theora", int(be24(b[14:])), int(be24(b[17:]))
	}
}

// oggComments reads the comment packet (the second) of an audio stream.
func (p *prober) oggComments(s *oggStream, tags *tagSet) {
	r := &oggReader{p: p, serial: s.serial}
	if !r.start(s.first) || !r.nextPacket() {
		return
	}
	var prefix []byte
	switch s.codec {
	case "vorbis":
		prefix = []byte("\x03vorbis")
	case "opus":
		prefix = []byte("OpusTags")
	case "flac":
		var h [4]byte // a metadata block header
		if !readFull(r, h[:]) || h[0]&0x7F != flacVorbisComment {
			return
		}
	}
	if prefix != nil {
		got := make([]byte, len(prefix))
		if !readFull(r, got) || !bytes.Equal(got, prefix) {
			return
		}
	}
	p.vorbisComment(r, tags)
}

// oggReader reads the packets of one logical stream, page by page.
type oggReader struct {
	p      *prober
	serial uint32
	pg     oggPage
	seg    int   // the current segment of pg
	pos    int64 // file offset of the current segment's next byte
	left   int   // bytes of the current segment still unread
	final  bool  // the current segment ends its packet
}

// start positions r at the first packet of the page at off.
func (r *oggReader) start(off int64) bool {
	if !r.p.oggPage(off, &r.pg) || r.pg.serial != r.serial {
		return false
	}
	r.seg = -1
	r.pos = r.pg.data
	return r.advance()
}

// advance moves to the next segment, on this page or the stream's next.
func (r *oggReader) advance() bool {
	if r.seg+1 < r.pg.nsegs {
		r.seg++
		r.left = int(r.pg.segs[r.seg])
		r.final = r.left < 255
		return true
	}
	for off := r.pg.next; ; off = r.pg.next {
		if !r.p.oggPage(off, &r.pg) {
			return false
		}
		if r.pg.serial == r.serial && r.pg.nsegs > 0 {
			r.seg, r.pos = 0, r.pg.data
			r.left = int(r.pg.segs[0])
			r.final = r.left < 255
			return true
		}
	}
}

// Read implements io.Reader within the current packet.
func (r *oggReader) Read(b []byte) (int, error) {
	for r.left == 0 {
		if r.final {
			return 0, io.EOF
		}
		if !r.advance() {
			return 0, io.ErrUnexpectedEOF
		}
	}
	d := r.p.src.at(r.pos, min(len(b), r.left, blockSize))
	if len(d) == 0 {
		return 0, io.ErrUnexpectedEOF
	}
	n := copy(b, d)
	r.pos += int64(n)
	r.left -= n
	return n, nil
}

// skip moves n bytes on within the current packet, reading only page
// headers.
func (r *oggReader) skip(n int64) error {
	for n > 0 {
		for r.left == 0 {
			if r.final {
				return io.EOF
			}
			if !r.advance() {
				return io.ErrUnexpectedEOF
			}
		}
		k := min(n, int64(r.left))
		r.pos += k
		r.left -= int(k)
		n -= k
	}
	return nil
}

// nextPacket moves to the start of the next packet.
func (r *oggReader) nextPacket() bool {
	for {
		r.pos += int64(r.left)
		r.left = 0
		if r.final {
			return r.advance()
		}
		if !r.advance() {
			return false
		}
	}
}

// oggLastGranule finds the granule position of the last page of the
// stream serial that has one, looking at the last 64 KiB, then the last
// MiB.
func (p *prober) oggLastGranule(serial uint32) (uint64, bool) {
	size := p.src.size
	for _, span := range []int64{64 << 10, 1 << 20} {
		var last uint64
		found := false
		start := max(0, size-span)
		for off := start; off < size && p.step(); {
			b := p.src.at(off, maxAt)
			if len(b) < 4 {
				break
			}
			i := bytes.Index(b, []byte("OggS"))
			if i < 0 {
				off += int64(len(b) - 3)
				continue
			}
			at := off + int64(i)
			if h := p.src.at(at, 27); len(h) == 27 && h[4] == 0 && le32(h[14:]) == serial {
				if g := le64(h[6:]); g != 1<<64-1 {
					last, found = g, true
				}
			}
			off = at + 4
		}
		if found {
			return last, true
		}
		if start == 0 || p.src.failed() {
			break
		}
	}
	return 0, false
}
