package thumb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"os/exec"
	"runtime"
	"strconv"
	"testing"

	"golang.org/x/image/draw"
)

// testMaker is the maker a Cache with the defaults has.
var testMaker = maker{maxPixels: DefaultMaxPixels, maxSource: DefaultMaxSource, quality: DefaultQuality, filter: draw.CatmullRom}

func TestFit(t *testing.T) {
	for _, tt := range []struct{ w, h, size, ww, wh int }{
		{1920, 1080, 160, 160, 90},
		{1000, 500, 160, 160, 80},
		{500, 1000, 160, 80, 160},
		{1000, 1000, 160, 160, 160},
		{333, 1000, 160, 53, 160},
		{1000, 333, 320, 320, 107},
		{100, 50, 160, 100, 50},   // never enlarged
		{160, 160, 160, 160, 160}, // as is
		{161, 160, 160, 160, 159},
		{10000, 1, 160, 160, 1}, // never 0
		{1, 10000, 640, 1, 640},
	} {
		if w, h := fit(tt.w, tt.h, tt.size); w != tt.ww || h != tt.wh {
			t.Errorf("fit(%d, %d, %d) = %dx%d, want %dx%d", tt.w, tt.h, tt.size, w, h, tt.ww, tt.wh)
		}
	}
}

// TestMakeFormats makes thumbnails of every size from pictures in every
// format, and checks their size, their aspect and their colors.
func TestMakeFormats(t *testing.T) {
	src := quadrants(600, 400)
	formats := []struct {
		name string
		data func(t *testing.T) []byte
		tol  int
	}{
		{"jpeg", func(t *testing.T) []byte { return encodeJPEGTest(t, src) }, 40},
		{"png", func(t *testing.T) []byte { return encodePNGTest(t, src) }, 30},
		{"gif", func(t *testing.T) []byte { return encodeGIFTest(t, src) }, 60},
		{"webp-lossless", func(t *testing.T) []byte { return encodeWebPTest(t, src, true) }, 30},
		{"webp-lossy", func(t *testing.T) []byte { return encodeWebPTest(t, src, false) }, 50},
	}
	for _, f := range formats {
		t.Run(f.name, func(t *testing.T) {
			data := f.data(t)
			for _, s := range []struct{ size, w, h int }{{SizeTN, 160, 107}, {SizeSmall, 320, 213}, {SizeLarge, 600, 400}, {1000, 600, 400}, {48, 48, 32}} {
				out, w, h, err := testMaker.make(bytes.NewReader(data), s.size)
				if err != nil {
					t.Fatalf("size %d: %v", s.size, err)
				}
				if w != s.w || h != s.h {
					t.Fatalf("size %d: %dx%d, want %dx%d", s.size, w, h, s.w, s.h)
				}
				img, err := jpeg.Decode(bytes.NewReader(out))
				if err != nil {
					t.Fatalf("size %d: the thumbnail: %v", s.size, err)
				}
				if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
					t.Fatalf("size %d: the JPEG is %v, make said %dx%d", s.size, b, w, h)
				}
				for _, c := range []struct {
					x, y int
					want color.RGBA
				}{{w / 4, h / 4, red}, {3 * w / 4, h / 4, green}, {w / 4, 3 * h / 4, blue}, {3 * w / 4, 3 * h / 4, white}} {
					if got := img.At(c.x, c.y); !near(got, c.want, f.tol) {
						t.Errorf("size %d: at %d,%d %v, want about %v", s.size, c.x, c.y, got, c.want)
					}
				}
			}
		})
	}
}

// TestJPEGTN checks what DLNA's JPEG_TN asks: at most 160x160, baseline
// (SOF0), 8 bits, JFIF, three components.
func TestJPEGTN(t *testing.T) {
	for _, img := range []image.Image{quadrants(1000, 700), quadrants(90, 400), image.NewGray(image.Rect(0, 0, 500, 500))} {
		var b bytes.Buffer
		// A progressive source must not make a progressive thumbnail: Go
		// writes baseline only, which this test keeps true.
		if err := jpeg.Encode(&b, img, nil); err != nil {
			t.Fatal(err)
		}
		out, w, h, err := testMaker.make(&b, SizeTN)
		if err != nil {
			t.Fatal(err)
		}
		if w > 160 || h > 160 || max(w, h) != min(160, max(img.Bounds().Dx(), img.Bounds().Dy())) {
			t.Errorf("%v: %dx%d", img.Bounds(), w, h)
		}
		ms := jpegMarkers(t, out)
		if ms[0] != 0xE0 || !bytes.Equal(out[6:11], []byte("JFIF\x00")) {
			t.Errorf("no JFIF APP0 first: markers % x", ms)
		}
		for _, m := range ms {
			if m >= 0xC1 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC {
				t.Errorf("not baseline: markers % x", ms)
			}
		}
		if !bytes.Contains(ms, []byte{0xC0}) {
			t.Errorf("no SOF0: markers % x", ms)
		}
		i := bytes.Index(out, []byte{0xFF, 0xC0})
		if p, n := out[i+4], out[i+9]; p != 8 || n != 3 {
			t.Errorf("precision %d, components %d", p, n)
		}
		if cfg, err := jpeg.DecodeConfig(bytes.NewReader(out)); err != nil || cfg.Width != w || cfg.Height != h || cfg.ColorModel != color.YCbCrModel {
			t.Errorf("DecodeConfig: %+v, %v", cfg, err)
		}
	}
}

// TestOrientation turns pictures upright as their EXIF orientation says.
func TestOrientation(t *testing.T) {
	// The picture as stored: red top left, green top right, blue bottom
	// left, white bottom right, 400x200. Each row is what the upright
	// thumbnail shows in its top left, top right, bottom left, bottom
	// right corners.
	stored := encodeJPEGTest(t, quadrants(400, 200))
	for _, tt := range []struct {
		o      uint16
		w, h   int
		corner [4]color.RGBA
	}{
		{0, 160, 80, [4]color.RGBA{red, green, blue, white}}, // no tag value: as is
		{1, 160, 80, [4]color.RGBA{red, green, blue, white}},
		{2, 160, 80, [4]color.RGBA{green, red, white, blue}},
		{3, 160, 80, [4]color.RGBA{white, blue, green, red}},
		{4, 160, 80, [4]color.RGBA{blue, white, red, green}},
		{5, 80, 160, [4]color.RGBA{red, blue, green, white}},
		{6, 80, 160, [4]color.RGBA{blue, red, white, green}},
		{7, 80, 160, [4]color.RGBA{white, green, blue, red}},
		{8, 80, 160, [4]color.RGBA{green, white, red, blue}},
		{9, 160, 80, [4]color.RGBA{red, green, blue, white}}, // out of range: as is
	} {
		for _, bo := range []binary.AppendByteOrder{binary.LittleEndian, binary.BigEndian} {
			t.Run(fmt.Sprintf("%d-%v", tt.o, bo), func(t *testing.T) {
				out, w, h, err := testMaker.make(bytes.NewReader(withEXIFOrientation(stored, tt.o, bo)), SizeTN)
				if err != nil {
					t.Fatal(err)
				}
				if w != tt.w || h != tt.h {
					t.Fatalf("%dx%d, want %dx%d", w, h, tt.w, tt.h)
				}
				img, err := jpeg.Decode(bytes.NewReader(out))
				if err != nil {
					t.Fatal(err)
				}
				at := [4]image.Point{{w / 4, h / 4}, {3 * w / 4, h / 4}, {w / 4, 3 * h / 4}, {3 * w / 4, 3 * h / 4}}
				for i, p := range at {
					if got := img.At(p.X, p.Y); !near(got, tt.corner[i], 40) {
						t.Errorf("corner %d at %v: %v, want about %v", i, p, got, tt.corner[i])
					}
				}
			})
		}
	}
}

func TestJPEGOrientationParser(t *testing.T) {
	j := encodeJPEGTest(t, quadrants(16, 16))
	exif := withEXIFOrientation(j, 6, binary.BigEndian)
	withJFIF := append(append(append([]byte{}, j[:2]...), jfifAPP0...), exif[2:]...)
	for _, tt := range []struct {
		name string
		b    []byte
		want int
	}{
		{"none", j, 1},
		{"exif", exif, 6},
		{"after JFIF", withJFIF, 6},
		{"fill bytes", append([]byte{0xFF, 0xD8, 0xFF, 0xFF}, exif[2:]...), 6},
		{"truncated segment", exif[:20], 1},
		{"truncated TIFF", exif[:14], 1},
		{"empty", nil, 1},
		{"not a JPEG", []byte("GIF89a......"), 1},
		{"zero length", []byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x00, 0xFF, 0xD9}, 1},
		{"EXIF after the frame", append(append(append([]byte{}, j...), 0xFF), exif[2:]...), 1},
	} {
		if got := jpegOrientation(tt.b); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
	// A big-endian EXIF, an IFD offset out of range, a wrong type.
	bad := withEXIFOrientation(j, 6, binary.LittleEndian)
	i := bytes.Index(bad, []byte("II*\x00")) + 4
	binary.LittleEndian.PutUint32(bad[i:], 1<<30)
	if got := jpegOrientation(bad); got != 1 {
		t.Errorf("IFD out of range: %d", got)
	}
	bad = withEXIFOrientation(j, 6, binary.LittleEndian)
	i = bytes.Index(bad, []byte{0x12, 0x01, 0x03, 0x00})
	bad[i+2] = 4 // LONG
	if got := jpegOrientation(bad); got != 1 {
		t.Errorf("LONG orientation: %d", got)
	}
}

// TestPixelBudget refuses pictures whose header declares too many pixels,
// before decoding them: the memory taken stays small.
func TestPixelBudget(t *testing.T) {
	small := encodeJPEGTest(t, quadrants(16, 16))
	gifHuge := []byte("GIF89a\xff\xff\xff\xff\x00\x00\x00;")
	webpHuge := []byte("RIFF\x16\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x00\x00\x00\x00\x3f\x9c\x00\x3f\x9c\x00") // 40000x40000
	for _, tt := range []struct {
		name string
		b    []byte
	}{
		{"png 30000x30000 RGBA", hostilePNG(30000, 30000, 8, 6)},
		{"png 4000x4000 16-bit (over half the budget)", hostilePNG(4000, 4000, 16, 6)},
		{"jpeg 65000x65000", jpegWithSize(t, small, 65000, 65000)},
		{"gif 65535x65535", gifHuge},
		{"webp 40000x40000", webpHuge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, _, _, err := testMaker.make(bytes.NewReader(tt.b), SizeTN)
			runtime.ReadMemStats(&after)
			// On 32-bit machines image/png refuses the biggest itself.
			if !errors.Is(err, ErrTooBig) && (strconv.IntSize == 64 || !errors.Is(err, ErrCorrupt)) {
				t.Fatalf("err = %v, want ErrTooBig", err)
			}
			alloc := after.TotalAlloc - before.TotalAlloc
			if alloc > 1<<20 {
				t.Errorf("%d bytes allocated to refuse it", alloc)
			}
			t.Logf("%d bytes allocated: %v", alloc, err)
		})
	}
	// The budget is the product: exactly at it is fine, one more is not.
	m := testMaker
	m.maxPixels = 100 * 50
	if _, _, _, err := m.make(bytes.NewReader(encodePNGTest(t, quadrants(100, 50))), SizeTN); err != nil {
		t.Errorf("at the budget: %v", err)
	}
	if _, _, _, err := m.make(bytes.NewReader(encodePNGTest(t, quadrants(101, 50))), SizeTN); !errors.Is(err, ErrTooBig) {
		t.Errorf("over the budget: %v", err)
	}
	m.maxSource = 100
	if _, _, _, err := m.make(bytes.NewReader(encodePNGTest(t, quadrants(100, 50))), SizeTN); !errors.Is(err, ErrTooBig) {
		t.Errorf("source over MaxSource: %v", err)
	}
	if _, _, _, err := m.make(io.MultiReader(bytes.NewReader(encodePNGTest(t, quadrants(100, 50)))), SizeTN); !errors.Is(err, ErrTooBig) {
		t.Errorf("unseekable source over MaxSource: %v", err)
	}
}

// TestCorrupt feeds truncated and damaged pictures of every format: an
// error or a good thumbnail, never a panic.
func TestCorrupt(t *testing.T) {
	src := photo(200, 150)
	data := map[string][]byte{
		"jpeg": encodeJPEGTest(t, src),
		"png":  encodePNGTest(t, src),
		"gif":  encodeGIFTest(t, src),
	}
	if _, err := exec.LookPath("ffmpeg"); err == nil {
		data["webp"] = encodeWebPTest(t, src, false)
		data["webp-lossless"] = encodeWebPTest(t, src, true)
	}
	// A damaged header may declare a picture within the budget but much
	// bigger than the data: a small budget keeps the test quick.
	m := testMaker
	m.maxPixels = 1 << 20
	for name, b := range data {
		t.Run(name, func(t *testing.T) {
			step := max(1, len(b)/60)
			errs := 0
			for n := 0; n < len(b); n += step {
				out, _, _, err := m.make(bytes.NewReader(b[:n]), 64)
				if err == nil {
					if _, err := jpeg.Decode(bytes.NewReader(out)); err != nil {
						t.Fatalf("truncated at %d: a bad thumbnail: %v", n, err)
					}
					continue
				}
				errs++
				if n >= 12 && !errors.Is(err, ErrCorrupt) {
					t.Errorf("truncated at %d: %v is not ErrCorrupt", n, err)
				}
			}
			if errs == 0 {
				t.Errorf("no truncation failed")
			}
			for i := 12; i < len(b); i += 2 * step {
				d := append([]byte{}, b...)
				d[i] ^= 0xA5
				d[len(d)-1-i/2] ^= 0x5A
				m.make(bytes.NewReader(d), 64) // must not panic
			}
		})
	}
	if _, _, _, err := testMaker.make(bytes.NewReader([]byte("<html>not a picture</html>")), SizeTN); !errors.Is(err, ErrFormat) {
		t.Errorf("HTML: %v", err)
	}
	if _, _, _, err := testMaker.make(bytes.NewReader(nil), SizeTN); !errors.Is(err, ErrFormat) {
		t.Errorf("empty: %v", err)
	}
}

// FuzzThumbnail checks that no bytes panic the maker or make more than
// the pixel budget allows, and that what it makes is a JPEG of the size
// it says, within the square.
func FuzzThumbnail(f *testing.F) {
	f.Add(encodeJPEGTest(f, quadrants(40, 20)))
	f.Add(withEXIFOrientation(encodeJPEGTest(f, quadrants(20, 40)), 6, binary.BigEndian))
	f.Add(encodePNGTest(f, quadrants(30, 30)))
	f.Add(encodeGIFTest(f, quadrants(33, 17)))
	f.Add(hostilePNG(3000, 3000, 8, 6))
	deep := image.NewNRGBA64(image.Rect(0, 0, 20, 10))
	deep.Set(3, 3, color.NRGBA64{65535, 0, 0, 30000})
	f.Add(encodePNGTest(f, deep))
	f.Add(encodePNGTest(f, image.NewPaletted(image.Rect(0, 0, 40, 3), color.Palette{color.White, color.Black})))
	f.Add(encodeJPEGTest(f, image.NewGray(image.Rect(0, 0, 50, 70))))
	// WebP seeds (made by ffmpeg) are in testdata/fuzz/FuzzThumbnail.
	m := testMaker
	m.maxPixels = 1 << 16 // small pictures only: the fuzzer is quick
	m.maxSource = 64 << 10
	f.Fuzz(func(t *testing.T, b []byte) {
		out, w, h, err := m.make(bytes.NewReader(b), 32)
		if err != nil {
			return
		}
		if w < 1 || h < 1 || w > 32 || h > 32 {
			t.Fatalf("%dx%d", w, h)
		}
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(out))
		if err != nil || cfg.Width != w || cfg.Height != h {
			t.Fatalf("the thumbnail: %+v, %v; said %dx%d", cfg, err, w, h)
		}
	})
}

// FuzzJPEGOrientation checks that no bytes panic the EXIF reader and that
// it returns an orientation.
func FuzzJPEGOrientation(f *testing.F) {
	j := []byte{0xFF, 0xD8, 0xFF, 0xD9}
	f.Add(withEXIFOrientation(j, 6, binary.BigEndian))
	f.Add(withEXIFOrientation(j, 8, binary.LittleEndian))
	f.Add(j)
	f.Fuzz(func(t *testing.T, b []byte) {
		if o := jpegOrientation(b); o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
	})
}
