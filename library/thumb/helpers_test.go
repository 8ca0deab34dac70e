package thumb

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/mediaftpd/mediaftpd/internal/testtool"
)

// Colors of the quadrants of quadrants' pictures.
var (
	red   = color.RGBA{220, 20, 20, 255}
	green = color.RGBA{20, 200, 20, 255}
	blue  = color.RGBA{20, 20, 220, 255}
	white = color.RGBA{240, 240, 240, 255}
)

// quadrants returns a w x h picture: red top left, green top right, blue
// bottom left, white bottom right.
func quadrants(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := red
			switch {
			case x >= w/2 && y < h/2:
				c = green
			case x < w/2 && y >= h/2:
				c = blue
			case x >= w/2 && y >= h/2:
				c = white
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

// photo returns a w x h picture with detail, like a photo's, so that JPEG
// decoding costs what it costs for real pictures.
func photo(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	seed := uint32(1)
	for y := range h {
		for x := range w {
			seed = seed*1664525 + 1013904223
			n := uint8(seed >> 27)
			i := img.PixOffset(x, y)
			img.Pix[i] = uint8(x*255/w) ^ n
			img.Pix[i+1] = uint8(y*255/h) + n
			img.Pix[i+2] = uint8((x+y)*127/(w+h)) + n
			img.Pix[i+3] = 255
		}
	}
	return img
}

func encodeJPEGTest(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodePNGTest(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeGIFTest(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := gif.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// encodeWebPTest encodes img as WebP with ffmpeg (lossless or lossy).
func encodeWebPTest(t testing.TB, img image.Image, lossless bool) []byte {
	t.Helper()
	ffmpeg := testtool.Need(t, "ffmpeg")
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.png"), filepath.Join(dir, "out.webp")
	if err := os.WriteFile(in, encodePNGTest(t, img), 0o600); err != nil {
		t.Fatal(err)
	}
	l := "0"
	if lossless {
		l = "1"
	}
	cmd := exec.Command(ffmpeg, "-nostdin", "-loglevel", "error", "-i", in, "-c:v", "libwebp", "-lossless", l, "-y", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		if !testtool.InCI() {
			t.Skipf("ffmpeg cannot make WebP: %v: %s", err, b)
		}
		t.Fatalf("ffmpeg: %v: %s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withEXIFOrientation returns the JPEG j with an EXIF segment giving the
// orientation o, in the byte order bo, right after its SOI.
func withEXIFOrientation(j []byte, o uint16, bo binary.AppendByteOrder) []byte {
	var tiff []byte
	if bo == binary.LittleEndian {
		tiff = append(tiff, 'I', 'I')
	} else {
		tiff = append(tiff, 'M', 'M')
	}
	tiff = bo.AppendUint16(tiff, 42)
	tiff = bo.AppendUint32(tiff, 8)
	tiff = bo.AppendUint16(tiff, 2) // two entries
	// XResolution-like noise first (tag 0x011A RATIONAL, offset 0), then Orientation.
	tiff = bo.AppendUint16(tiff, 0x011A)
	tiff = bo.AppendUint16(tiff, 5)
	tiff = bo.AppendUint32(tiff, 1)
	tiff = bo.AppendUint32(tiff, 0)
	tiff = bo.AppendUint16(tiff, 0x0112)
	tiff = bo.AppendUint16(tiff, 3)
	tiff = bo.AppendUint32(tiff, 1)
	tiff = bo.AppendUint16(tiff, o)
	tiff = bo.AppendUint16(tiff, 0)
	tiff = bo.AppendUint32(tiff, 0) // no next IFD
	seg := append([]byte("Exif\x00\x00"), tiff...)
	out := append([]byte{}, j[:2]...)
	out = append(out, 0xFF, 0xE1)
	out = binary.BigEndian.AppendUint16(out, uint16(len(seg)+2))
	out = append(out, seg...)
	return append(out, j[2:]...)
}

// pngChunk appends a PNG chunk with its CRC.
func pngChunk(b []byte, typ string, data []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(append([]byte(typ), data...)))
}

// hostilePNG returns a PNG whose header declares w x h pixels of the bit
// depth and color type given, with a few bytes of image data.
func hostilePNG(w, h uint32, depth, colorType byte) []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, depth, colorType, 0, 0, 0)
	b = pngChunk(b, "IHDR", ihdr)
	b = pngChunk(b, "IDAT", []byte{0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01})
	return pngChunk(b, "IEND", nil)
}

// jpegWithSize returns the JPEG j with its frame header saying w x h.
func jpegWithSize(t testing.TB, j []byte, w, h uint16) []byte {
	t.Helper()
	out := append([]byte{}, j...)
	for i := 2; i+9 < len(out); {
		if out[i] != 0xFF {
			t.Fatalf("no marker at %d", i)
		}
		m := out[i+1]
		n := int(binary.BigEndian.Uint16(out[i+2:]))
		if m == 0xC0 || m == 0xC2 {
			binary.BigEndian.PutUint16(out[i+5:], h)
			binary.BigEndian.PutUint16(out[i+7:], w)
			return out
		}
		i += 2 + n
	}
	t.Fatal("no SOF")
	return nil
}

// jpegMarkers returns the markers of a JPEG up to its SOS.
func jpegMarkers(t testing.TB, j []byte) []byte {
	t.Helper()
	if len(j) < 4 || j[0] != 0xFF || j[1] != 0xD8 {
		t.Fatalf("not a JPEG: % x", j[:min(len(j), 4)])
	}
	var ms []byte
	for i := 2; i+4 <= len(j); {
		if j[i] != 0xFF {
			t.Fatalf("no marker at %d", i)
		}
		m := j[i+1]
		ms = append(ms, m)
		if m == 0xDA {
			break
		}
		i += 2 + int(binary.BigEndian.Uint16(j[i+2:]))
	}
	return ms
}

// near reports whether two colors are within tol in each channel.
func near(a, b color.Color, tol int) bool {
	ar, ag, ab, _ := a.RGBA()
	br, bg, bb, _ := b.RGBA()
	d := func(x, y uint32) bool { return abs(int(x>>8)-int(y>>8)) <= tol }
	return d(ar, br) && d(ag, bg) && d(ab, bb)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
