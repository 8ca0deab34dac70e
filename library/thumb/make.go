package thumb

import (
	"bufio"
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/draw"
	"golang.org/x/image/webp"
)

// format is an image format the maker decodes.
type format uint8

const (
	formatUnknown format = iota
	formatJPEG
	formatPNG
	formatGIF
	formatWebP
)

var formatNames = [...]string{"unknown", "jpeg", "png", "gif", "webp"}

func (f format) String() string { return formatNames[f] }

// sniff tells an image's format by its first bytes (at least 12 of them).
func sniff(b []byte) format {
	switch {
	case len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		return formatJPEG
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return formatPNG
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return formatGIF
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return formatWebP
	}
	return formatUnknown
}

// maker makes thumbnails: it decodes an image, bounded, scales it to fit
// a square and encodes it as a baseline JFIF JPEG.
type maker struct {
	maxPixels int64             // refuse images with more pixels than this
	maxSource int64             // refuse sources longer than this
	quality   int               // JPEG quality, 1 to 100
	filter    draw.Interpolator // the scaler
	direct    bool              // scale with filter alone, without shrink first (to compare)
}

// reopener gives the source's bytes from the start, again and again: the
// maker reads the header first and decodes after checking it.
type reopener func() (io.Reader, error)

// sourceOf returns a reopener for r: a seeker is read again from where it
// was, anything else is read once into memory. Either way at most max
// bytes are read; a longer source is ErrTooBig.
func sourceOf(r io.Reader, max int64) (reopener, error) {
	if s, ok := r.(io.ReadSeeker); ok {
		start, err := s.Seek(0, io.SeekCurrent)
		if err == nil {
			if end, err := s.Seek(0, io.SeekEnd); err == nil && end-start > max {
				return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrTooBig, end-start, max)
			}
			return func() (io.Reader, error) {
				if _, err := s.Seek(start, io.SeekStart); err != nil {
					return nil, fmt.Errorf("thumb: reading the image: %w", err)
				}
				return io.LimitReader(s, max), nil
			}, nil
		}
	}
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("thumb: reading the image: %w", err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooBig, max)
	}
	return func() (io.Reader, error) { return bytes.NewReader(b), nil }, nil
}

// make makes a JPEG of at most size x size pixels from the image src
// gives, keeping its aspect ratio (the longer side is size, or the
// image's own when it is smaller: it is never enlarged) and turning it
// upright as its EXIF orientation says. It reads the image's header
// first and refuses one of more than maxPixels pixels before decoding
// it. It returns the JPEG and its width and height.
func (m maker) make(src io.Reader, size int) (out []byte, w, h int, err error) {
	open, err := sourceOf(src, m.maxSource)
	if err != nil {
		return nil, 0, 0, err
	}
	r, err := open()
	if err != nil {
		return nil, 0, 0, err
	}
	br := bufio.NewReaderSize(r, exifScan)
	head, _ := br.Peek(12)
	f := sniff(head)
	if f == formatUnknown {
		return nil, 0, 0, ErrFormat
	}
	orient := 1
	if f == formatJPEG {
		orient = exifOrientation(br)
	}
	cfg, err := decodeConfig(f, br)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("%w: reading the %s header: %w", ErrCorrupt, f, err)
	}
	if err := m.check(f, cfg); err != nil {
		return nil, 0, 0, err
	}
	if r, err = open(); err != nil {
		return nil, 0, 0, err
	}
	img, err := decode(f, bufio.NewReaderSize(r, 32<<10))
	if err != nil {
		return nil, 0, 0, fmt.Errorf("%w: decoding the %s image: %w", ErrCorrupt, f, err)
	}
	if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return nil, 0, 0, fmt.Errorf("%w: the %s image is %dx%d, its header said %dx%d", ErrCorrupt, f, b.Dx(), b.Dy(), cfg.Width, cfg.Height)
	}
	dst := m.scale(img, size)
	dst = orientate(dst, orient)
	out, err = encodeJPEG(dst, m.quality)
	if err != nil {
		return nil, 0, 0, err
	}
	return out, dst.Bounds().Dx(), dst.Bounds().Dy(), nil
}

// check refuses an image whose header says it is empty or over the pixel
// budget. 16-bit PNGs take twice the memory, so half the pixels.
func (m maker) check(f format, cfg image.Config) error {
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return fmt.Errorf("%w: the %s image is %dx%d", ErrCorrupt, f, cfg.Width, cfg.Height)
	}
	budget := m.maxPixels
	switch cfg.ColorModel {
	case color.RGBA64Model, color.NRGBA64Model, color.Gray16Model:
		budget /= 2
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > budget {
		return fmt.Errorf("%w: the %s image is %dx%d, %d pixels, more than %d", ErrTooBig, f, cfg.Width, cfg.Height, px, budget)
	}
	return nil
}

// fit returns the size of a w x h image scaled to fit a size x size
// square, keeping its aspect ratio, never enlarged, never 0.
func fit(w, h, size int) (int, int) {
	if w <= size && h <= size {
		return w, h
	}
	if w >= h {
		return size, max(1, int((int64(h)*int64(size)+int64(w)/2)/int64(w)))
	}
	return max(1, int((int64(w)*int64(size)+int64(h)/2)/int64(h))), size
}

// scale draws img, fitted into a size x size square, on a new RGBA
// image: shrunk by a box filter to at most twice that, then scaled by the
// filter. Transparent parts come out black in the JPEG.
func (m maker) scale(img image.Image, size int) *image.RGBA {
	sb := img.Bounds()
	w, h := fit(sb.Dx(), sb.Dy(), size)
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	if w == sb.Dx() && h == sb.Dy() {
		draw.Draw(dst, dst.Bounds(), img, sb.Min, draw.Src)
		return dst
	}
	if !m.direct {
		img = shrink(img, w, h)
	}
	m.filter.Scale(dst, dst.Bounds(), img, img.Bounds(), draw.Src, nil)
	return dst
}

// decodeConfig reads the header of an image of the format f.
func decodeConfig(f format, r io.Reader) (cfg image.Config, err error) {
	defer recoverDecoder(&err)
	switch f {
	case formatJPEG:
		return jpeg.DecodeConfig(r)
	case formatPNG:
		return png.DecodeConfig(r)
	case formatGIF:
		return gif.DecodeConfig(r)
	case formatWebP:
		return webp.DecodeConfig(r)
	}
	return image.Config{}, ErrFormat
}

// decode decodes an image of the format f (a GIF's first frame).
func decode(f format, r io.Reader) (img image.Image, err error) {
	defer recoverDecoder(&err)
	switch f {
	case formatJPEG:
		return jpeg.Decode(r)
	case formatPNG:
		return png.Decode(r)
	case formatGIF:
		return gif.Decode(r)
	case formatWebP:
		return webp.Decode(r)
	}
	return nil, ErrFormat
}

// recoverDecoder turns a decoder's panic into an error: the decoders are
// not ours, and a hostile image must not take the server down.
func recoverDecoder(err *error) {
	if v := recover(); v != nil {
		*err = fmt.Errorf("%w: the decoder failed: %v", ErrCorrupt, v)
	}
}

// jfifAPP0 is a JFIF APP0 segment (version 1.01, no density, no
// thumbnail): Go's encoder writes none, and DLNA's JPEG profiles are JFIF.
var jfifAPP0 = []byte{0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00}

// encodeJPEG encodes img as a baseline JFIF JPEG (Go's encoder writes
// baseline, 4:2:0, 8 bits).
func encodeJPEG(img image.Image, quality int) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(img.Bounds().Dx()*img.Bounds().Dy()/4 + 1024)
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		return nil, fmt.Errorf("thumb: encoding the JPEG: %w", err)
	}
	b := buf.Bytes()
	out := make([]byte, 0, len(b)+len(jfifAPP0))
	out = append(out, b[:2]...) // SOI
	out = append(out, jfifAPP0...)
	return append(out, b[2:]...), nil
}
