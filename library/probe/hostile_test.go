package probe

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// maxAlloc bounds what one probe may allocate, whatever the file says.
const maxAlloc = 16 << 20

// countingReader counts the bytes asked of r.
type countingReader struct {
	r     io.ReaderAt
	bytes int64
	calls int
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	c.calls++
	c.bytes += int64(len(p))
	return c.r.ReadAt(p, off)
}

// hostile probes data (claiming size bytes) for details and for the cover,
// failing on a panic (with label, so the failure says which file and which
// change), on reads over the budget, on insane details, and, when measure
// is set, on allocations over maxAlloc. It returns the details.
func hostile(t *testing.T, label, name string, data []byte, size int64, measure bool) Details {
	t.Helper()
	var d Details
	for _, wantCover := range []bool{false, true} {
		r := &countingReader{r: bytes.NewReader(data)}
		var before, after runtime.MemStats
		if measure {
			runtime.ReadMemStats(&before)
		}
		var p *prober
		func() {
			defer func() {
				if e := recover(); e != nil {
					t.Fatalf("%s: panic: %v\n%s", label, e, debug.Stack())
				}
			}()
			p = probe(r, size, name, wantCover)
		}()
		if measure {
			runtime.ReadMemStats(&after)
			if n := after.TotalAlloc - before.TotalAlloc; n > maxAlloc {
				t.Fatalf("%s: a probe allocated %d bytes", label, n)
			}
		}
		limit := int64(MaxRead)
		if wantCover {
			limit += MaxCover
		}
		if r.bytes > limit {
			t.Fatalf("%s: read %d bytes (cover %v), over %d", label, r.bytes, wantCover, limit)
		}
		if !wantCover {
			d = p.d
			checkSane(t, label, d)
		} else if p.cover != nil && !p.d.HasCover {
			t.Fatalf("%s: a cover without HasCover", label)
		}
	}
	return d
}

// checkSane fails on details no file can honestly give.
func checkSane(t *testing.T, label string, d Details) {
	t.Helper()
	if d.Duration < 0 || d.Duration > maxDuration || d.Duration%time.Microsecond != 0 {
		t.Fatalf("%s: duration %v", label, d.Duration)
	}
	for _, v := range []int{d.Width, d.Height, d.Channels, d.SampleRate, d.Track, d.Year} {
		if v < 0 {
			t.Fatalf("%s: negative field in %+v", label, d)
		}
	}
	if d.Bitrate < 0 || d.Width > 1<<16 || d.Height > 1<<16 || d.Year > 9999 || d.Channels > 255 {
		t.Fatalf("%s: insane %+v", label, d)
	}
	for _, s := range []string{d.Container, d.VideoCodec, d.AudioCodec, d.Title, d.Artist, d.Album} {
		if !utf8.ValidString(s) || len(s) > maxTagString || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7F }) {
			t.Fatalf("%s: bad string %q", label, s)
		}
	}
	b, err := d.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var back Details
	if err := back.UnmarshalBinary(b); err != nil || !sameDetails(back, d) {
		t.Fatalf("%s: %+v does not survive encoding: %+v, %v", label, d, back, err)
	}
}

// realFiles returns the generated files to mangle: all but the sparse
// ones over 4 GiB.
func realFiles(t *testing.T) map[string][]byte {
	dir := mediaDir(t)
	out := map[string][]byte{}
	for _, c := range mediaCases {
		if c.big {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, c.name))
		if err != nil {
			t.Fatal(err)
		}
		out[c.name] = b
	}
	return out
}

// TestHostileTruncated cuts each real file at every structure boundary
// the walkers find, at every byte of its first 256, at 200 random points
// and in its last 64 bytes; every 8th cut is also probed with the full
// size claimed (a file shorter than it says).
func TestHostileTruncated(t *testing.T) {
	files := realFiles(t)
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range files {
			if !yield(n) {
				return
			}
		}
	})
	total, slowest := 0, time.Duration(0)
	for _, name := range names {
		b := files[name]
		l := walk(name, b)
		rng := rand.New(rand.NewPCG(uint64(len(b)), 14))
		cuts := append([]int{}, l.cuts...)
		for i := range 256 {
			cuts = append(cuts, i, len(b)-i/4)
		}
		for range 200 {
			cuts = append(cuts, rng.IntN(len(b)+1))
		}
		slices.Sort(cuts)
		cuts = slices.Compact(cuts)
		n := 0
		for _, c := range cuts {
			if c < 0 || c > len(b) {
				continue
			}
			start := time.Now()
			hostile(t, fmt.Sprintf("%s cut at %d", name, c), name, b[:c], int64(c), n%64 == 0)
			if n%8 == 0 {
				hostile(t, fmt.Sprintf("%s cut at %d claiming %d", name, c, len(b)), name, b[:c], int64(len(b)), false)
			}
			slowest = max(slowest, time.Since(start))
			n++
		}
		total += n
	}
	t.Logf("%d cuts of %d files; slowest probe pair %v", total, len(files), slowest)
}

// TestHostileLyingSizes sets each size field the walkers find (up to 80 a
// file, 16 in files over 1 MiB) to lies: 0, 1, 7, one more, twice, the largest it holds.
func TestHostileLyingSizes(t *testing.T) {
	files := realFiles(t)
	total := 0
	for name, b := range files {
		l := walk(name, b)
		fields, limit := l.fields, 80
		if len(b) > 1<<20 { // each lie costs a scan of up to MaxRead
			limit = 16
		}
		if len(fields) > limit {
			step := float64(len(fields)) / float64(limit)
			var some []sizeField
			for i := range limit {
				some = append(some, fields[int(float64(i)*step)])
			}
			fields = some
		}
		for _, f := range fields {
			for i, mut := range lies(b, f) {
				if mut == nil {
					continue
				}
				hostile(t, fmt.Sprintf("%s field at %d set to lie %d", name, f.off, i), name, mut, int64(len(mut)), total%16 == 0)
				total++
			}
		}
	}
	t.Logf("%d lying files", total)
}

// Builders of hostile files.

func isoBox(typ string, payload ...[]byte) []byte {
	body := bytes.Join(payload, nil)
	b := binary.BigEndian.AppendUint32(nil, uint32(8+len(body)))
	return append(append(b, typ...), body...)
}

// ebmlID encodes an element ID (its length markers included).
func ebmlID(id uint32) []byte {
	var b []byte
	for s := 24; s >= 0; s -= 8 {
		if c := byte(id >> s); c != 0 || len(b) > 0 {
			b = append(b, c)
		}
	}
	return b
}

// ebml encodes an element with an 8-byte size.
func ebml(id uint32, payload ...[]byte) []byte {
	body := bytes.Join(payload, nil)
	n := uint64(len(body))
	b := append(ebmlID(id), 0x01, byte(n>>48), byte(n>>40), byte(n>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	return append(b, body...)
}

// ebmlUnknown is an element of unknown size.
func ebmlUnknown(id uint32, payload ...[]byte) []byte {
	return append(append(ebmlID(id), 0xFF), bytes.Join(payload, nil)...)
}

var mkvHead = ebml(ebmlHeader, ebml(ebmlDocType, []byte("matroska")))

func oggPageBytes(serial uint32, flags byte, granule uint64, segs []byte, data []byte) []byte {
	b := []byte("OggS\x00")
	b = append(b, flags)
	b = binary.LittleEndian.AppendUint64(b, granule)
	b = binary.LittleEndian.AppendUint32(b, serial)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = append(b, byte(len(segs)))
	b = append(b, segs...)
	return append(b, data...)
}

var vorbisID = append([]byte("\x01vorbis\x00\x00\x00\x00\x02\x44\xac\x00\x00"), make([]byte, 16)...)

// TestHostileBombs probes crafted files that nest deeply, loop, repeat
// tiny structures millions of times, or declare sizes of gigabytes.
func TestHostileBombs(t *testing.T) {
	le, be := binary.LittleEndian, binary.BigEndian
	ftyp := isoBox("ftyp", []byte("isom\x00\x00\x02\x00isom"))
	deep := func(n int, typ string, leaf []byte) []byte { // n boxes, each in the one before
		b := make([]byte, 0, 8*n+len(leaf))
		for i := range n {
			b = be.AppendUint32(b, uint32(8*(n-i)+len(leaf)))
			b = append(b, typ...)
		}
		return append(b, leaf...)
	}
	tiny := func(n int, unit []byte) []byte { return bytes.Repeat(unit, n) }
	huge := func(typ string, size uint64, rest []byte) []byte {
		b := be.AppendUint32(nil, 1)
		b = append(b, typ...)
		b = be.AppendUint64(b, size)
		return append(b, rest...)
	}
	covr := isoBox("moov", isoBox("udta", isoBox("meta", make([]byte, 4), isoBox("ilst",
		isoBox("covr", huge("data", 1<<62, []byte{0, 0, 0, 13, 0, 0, 0, 0, 0xFF, 0xD8}))))))
	id3 := func(ver, flags byte, size uint32, body []byte) []byte {
		h := []byte{'I', 'D', '3', ver, 0, flags, byte(size >> 21 & 0x7F), byte(size >> 14 & 0x7F), byte(size >> 7 & 0x7F), byte(size & 0x7F)}
		return append(h, body...)
	}
	flacBlock := func(typ byte, last bool, body []byte) []byte {
		if last {
			typ |= 0x80
		}
		n := len(body)
		return append([]byte{typ, byte(n >> 16), byte(n >> 8), byte(n)}, body...)
	}
	streamInfo := flacBlock(0, false, append([]byte{0x10, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0x0A, 0xC4, 0x42, 0xF0}, make([]byte, 20)...))
	vorbisComment := func(vendor, count uint32, comments ...[]byte) []byte {
		b := le.AppendUint32(nil, vendor)
		b = le.AppendUint32(b, count)
		return append(b, bytes.Join(comments, nil)...)
	}
	tsPacket := func(pid uint16, pusi bool, payload []byte) []byte {
		b := []byte{0x47, byte(pid >> 8 & 0x1F), byte(pid), 0x10}
		if pusi {
			b[1] |= 0x40
		}
		b = append(b, payload...)
		for len(b) < 188 {
			b = append(b, 0xFF)
		}
		return b[:188]
	}
	jpegSeg := func(m byte, body []byte) []byte {
		return append([]byte{0xFF, m, byte((len(body) + 2) >> 8), byte(len(body) + 2)}, body...)
	}
	selfIFD := func() []byte { // IFD0 points to itself as the Exif IFD, with 0xFFFF entries claimed
		b := []byte("Exif\x00\x00II*\x00")
		b = le.AppendUint32(b, 8)
		b = le.AppendUint16(b, 0xFFFF)
		for range 100 {
			b = le.AppendUint16(b, 0x8769)
			b = le.AppendUint16(b, 4)
			b = le.AppendUint32(b, 1)
			b = le.AppendUint32(b, 8)
		}
		return b
	}
	riff := func(form string, chunks ...[]byte) []byte {
		body := append([]byte(form), bytes.Join(chunks, nil)...)
		return append(le.AppendUint32([]byte("RIFF"), uint32(len(body))), body...)
	}
	chunk := func(id string, size uint32, body []byte) []byte {
		return append(le.AppendUint32([]byte(id), size), body...)
	}
	// A SeekHead that points to itself and to a second one that points
	// back, and Tags whose SeekHead entry points at the SeekHead.
	seekLoop := func() []byte {
		seek := func(id uint32, pos uint64) []byte {
			return ebml(mkvSeek, ebml(mkvSeekID, be.AppendUint32(nil, id)), ebml(mkvSeekPosition, be.AppendUint64(nil, pos)))
		}
		a := ebml(mkvSeekHead, seek(mkvSeekHead, 0), seek(mkvSeekHead, 0), seek(mkvTags, 0))
		b := ebml(mkvSeekHead, seek(mkvSeekHead, 0), seek(mkvInfo, uint64(len(a))))
		a = ebml(mkvSeekHead, seek(mkvSeekHead, uint64(len(a))), seek(mkvTags, 0))
		return append(mkvHead, ebml(mkvSegment, a, b, ebml(mkvCluster))...)
	}
	deepEBML := func(n int) []byte { // n SimpleTags of unknown size, each in the one before
		return append(mkvHead, ebmlUnknown(mkvSegment, ebmlUnknown(mkvTags, ebmlUnknown(mkvTag, tiny(n, ebmlUnknown(mkvSimpleTag)))))...)
	}
	var emptyPages []byte
	for i := range 200_000 {
		flags := byte(0)
		if i == 0 {
			flags = 2
		}
		emptyPages = append(emptyPages, oggPageBytes(1, flags, 0, nil, nil)...)
	}
	oggWith := func(comment []byte) []byte {
		id := oggPageBytes(7, 2, 0, []byte{byte(len(vorbisID))}, vorbisID)
		body := append([]byte("\x03vorbis"), comment...)
		var segs []byte
		for n := len(body); ; n -= 255 {
			if n < 255 {
				segs = append(segs, byte(n))
				break
			}
			segs = append(segs, 255)
		}
		return append(id, oggPageBytes(7, 0, 0, segs[:min(len(segs), 255)], body)...)
	}
	var tsPSI []byte
	for range 20_000 {
		tsPSI = append(tsPSI, tsPacket(0, true, []byte{0, 0, 0xBF, 0xFF})...)
	}
	pmtMany := func() []byte {
		pat := tsPacket(0, true, []byte{0, 0x00, 0xB0, 13, 0, 1, 0xC1, 0, 0, 0, 1, 0xE1, 0x00, 0, 0, 0, 0})
		sec := []byte{0x02, 0xB0, 0, 0, 1, 0xC1, 0, 0, 0xE1, 0x00, 0xF0, 0}
		for i := range 34 {
			sec = append(sec, 0x1B, 0xE0|byte(i>>8), byte(i), 0xF0, 0)
		}
		sec = append(sec, 0, 0, 0, 0)
		sec[2] = byte(len(sec) - 3)
		pmt := tsPacket(0x100, true, append([]byte{0}, sec...))
		var b []byte
		b = append(b, pat...)
		b = append(b, pmt...)
		for i := range 20_000 {
			b = append(b, tsPacket(uint16(i%34), true, []byte{0, 0, 1, 0xE0, 0, 0, 0x80, 0x80, 5, 0x21, 0, 1, 0, 1, 0, 0, 0, 1, 0x67})...)
		}
		return b
	}
	for _, tc := range []struct {
		name string
		file []byte
	}{
		{"deep.mp4", append(ftyp, isoBox("moov", isoBox("trak", deep(20_000, "mdia", nil)))...)},
		{"deep-entry.mp4", append(ftyp, isoBox("moov", isoBox("trak", isoBox("mdia", isoBox("hdlr", make([]byte, 8), []byte("soun")),
			isoBox("minf", isoBox("stbl", isoBox("stsd", make([]byte, 8), isoBox("mp4a", make([]byte, 28), deep(20_000, "wave", nil))))))))...)},
		{"tiny-boxes.mp4", append(ftyp, isoBox("moov", tiny(1_000_000, isoBox("free")))...)},
		{"zero-size.mp4", append(ftyp, isoBox("moov", tiny(1000, []byte{0, 0, 0, 0, 'f', 'r', 'e', 'e'}))...)},
		{"huge-mdat.mp4", append(ftyp, huge("mdat", 1<<63-1, make([]byte, 100))...)},
		{"huge-covr.m4a", append(ftyp, covr...)},
		{"many-tracks.mp4", append(ftyp, isoBox("moov", tiny(10_000, isoBox("trak", isoBox("mdia", isoBox("hdlr", make([]byte, 8), []byte("vide"))))))...)},
		{"deep.mkv", deepEBML(20_000)},
		{"seek-loop.mkv", seekLoop()},
		{"voids.mkv", append(mkvHead, ebmlUnknown(mkvSegment, tiny(2_000_000, []byte{0xEC, 0x80}))...)},
		{"huge-tracks.mkv", append(mkvHead, ebml(mkvSegment, append([]byte{0x16, 0x54, 0xAE, 0x6B, 0x01, 0xFF, 0, 0, 0, 0, 0, 0}, tiny(1000, ebml(mkvTrackEntry))...))...)},
		{"huge-tag.mp3", id3(3, 0x80, 0x0FFFFFFF, bytes.Repeat([]byte{0xFF, 0x00}, 1000))},
		{"tiny-frames.mp3", id3(3, 0, 0x0FFFFFFF, tiny(200_000, []byte("TXXX\x00\x00\x00\x00\x00\x00")))},
		{"huge-apic.mp3", id3(4, 0, 0x0FFFFFFF, append([]byte("APIC\x7F\x7F\x7F\x7F\x00\x00\x00image/jpeg\x00\x03\x00"), 0xFF, 0xD8))},
		{"sync-bytes.mp3", bytes.Repeat([]byte{0xFF}, 4<<20)},
		{"blocks.flac", append([]byte("fLaC"), append(streamInfo, tiny(500_000, flacBlock(1, false, nil))...)...)},
		{"huge-picture.flac", append([]byte("fLaC"), append(streamInfo, flacBlock(6, true, be.AppendUint32(be.AppendUint32(nil, 3), 0xFFFFFFFF))...)...)},
		{"huge-desc.flac", append([]byte("fLaC"), append(streamInfo, flacBlock(6, true, append(be.AppendUint32(append(be.AppendUint32(be.AppendUint32(nil, 3), 3), "a/b"...), 0xFFFFFFFF), 1))...)...)},
		{"comments.flac", append([]byte("fLaC"), append(streamInfo, flacBlock(4, true, vorbisComment(0, 0xFFFFFFFF, tiny(100_000, make([]byte, 4))))...)...)},
		{"huge-comment.flac", append([]byte("fLaC"), append(streamInfo, flacBlock(4, true, vorbisComment(0, 3, le.AppendUint32(nil, 0xFFFFFFFF), []byte("METADATA_BLOCK_PICTURE=AAAA")))...)...)},
		{"huge-vendor.ogg", oggWith(vorbisComment(0xFFFFFFFF, 1))},
		{"huge-picture.ogg", oggWith(vorbisComment(0, 1, le.AppendUint32(nil, 0x7FFFFFFF), []byte("METADATA_BLOCK_PICTURE=AAAAAwAAAAlpbWFnZS9wbmf/////")))},
		{"empty-pages.ogg", emptyPages},
		{"sections.ts", tsPSI},
		{"many-streams.ts", pmtMany()},
		{"fill.jpg", append([]byte{0xFF, 0xD8}, tiny(1_000_000, []byte{0xFF, 0x01})...)},
		{"exif-loop.jpg", append([]byte{0xFF, 0xD8}, append(jpegSeg(0xE1, selfIFD()), jpegSeg(0xC0, []byte{8, 0, 16, 0, 16, 3})...)...)},
		{"huge-data.wav", riff("WAVE", chunk("fmt ", 16, []byte{1, 0, 2, 0, 0x80, 0xBB, 0, 0, 0, 0xEE, 2, 0, 4, 0, 16, 0}), chunk("data", 0xFFFFFFFF, nil))},
		{"huge-ds64.wav", append(le.AppendUint32([]byte("RF64"), 0xFFFFFFFF), append([]byte("WAVE"),
			append(chunk("ds64", 28, append(le.AppendUint64(le.AppendUint64(nil, 1<<62), 1<<62), make([]byte, 12)...)),
				append(chunk("fmt ", 16, []byte{1, 0, 2, 0, 0x80, 0xBB, 0, 0, 0, 0xEE, 2, 0, 4, 0, 16, 0}), chunk("data", 0xFFFFFFFF, nil)...)...)...)...)},
		{"lists.avi", riff("AVI ", tiny(100_000, chunk("LIST", 4, []byte("hdrl"))))},
		{"chunks.wav", riff("WAVE", tiny(500_000, chunk("junk", 0, nil)))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &countingReader{r: bytes.NewReader(tc.file)}
			start := time.Now()
			d := hostile(t, tc.name, tc.name, tc.file, int64(len(tc.file)), true)
			_ = probe(r, int64(len(tc.file)), tc.name, false)
			t.Logf("%d bytes: read %d bytes in %d calls, %v for the pair: %+v", len(tc.file), r.bytes, r.calls, time.Since(start), d)
		})
	}
}

// TestHostileReaderErrors: an I/O error of r is the only error, and it
// is returned; a short read at the end is a truncated file, not an error.
func TestHostileReaderErrors(t *testing.T) {
	dir := mediaDir(t)
	b, err := os.ReadFile(filepath.Join(dir, "h264_aac.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	broken := errorAfter{r: bytes.NewReader(b), at: int64(len(b)) - 100}
	if _, err := Probe(broken, int64(len(b)), "x.mp4"); err == nil {
		t.Fatal("an I/O error was not returned")
	}
	if _, _, _, err := Cover(broken, int64(len(b)), "x.mp4"); err == nil {
		t.Fatal("Cover: an I/O error was not returned")
	}
	if _, err := Probe(bytes.NewReader(b[:len(b)/2]), int64(len(b)), "x.mp4"); err != nil {
		t.Fatalf("a file shorter than said: %v", err)
	}
}

// errorAfter fails reads that reach past at.
type errorAfter struct {
	r  io.ReaderAt
	at int64
}

func (e errorAfter) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > e.at {
		return 0, fmt.Errorf("disk on fire")
	}
	return e.r.ReadAt(p, off)
}
