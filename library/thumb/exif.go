package thumb

import (
	"bufio"
	"encoding/binary"
	"image"
)

// exifScan is how much of a JPEG's start exifOrientation looks at: the
// EXIF segment comes first (after a JFIF one) and is at most 64 KiB.
const exifScan = 66 << 10

// exifOrientation returns the EXIF orientation (1 to 8) of the JPEG br
// reads, without consuming it, or 1 (upright) when it has none or it
// cannot be read.
func exifOrientation(br *bufio.Reader) int {
	b, _ := br.Peek(exifScan) // short at the end of a small file: fine
	return jpegOrientation(b)
}

// jpegOrientation returns the EXIF orientation of the JPEG that starts
// with b, or 1.
func jpegOrientation(b []byte) int {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return 1
	}
	for i := 2; i+4 <= len(b); {
		if b[i] != 0xFF {
			return 1
		}
		marker := b[i+1]
		switch {
		case marker == 0xFF: // fill byte
			i++
			continue
		case marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7):
			i += 2 // no length
			continue
		case marker == 0xDA || marker == 0xD9 || (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC):
			return 1 // the image data or a frame header: no EXIF before it
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if n < 2 {
			return 1
		}
		end := i + 2 + n
		if marker == 0xE1 && end <= len(b) {
			if seg := b[i+4 : end]; len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00" {
				return tiffOrientation(seg[6:])
			}
		}
		i = end
	}
	return 1
}

// tiffOrientation reads the Orientation tag (0x0112) of the first IFD of
// the TIFF structure an EXIF segment holds, or 1.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	if bo.Uint16(t[2:]) != 42 {
		return 1
	}
	off := int64(bo.Uint32(t[4:]))
	if off < 8 || off+2 > int64(len(t)) {
		return 1
	}
	count := int64(bo.Uint16(t[off:]))
	for e := off + 2; count > 0 && e+12 <= int64(len(t)); e, count = e+12, count-1 {
		if bo.Uint16(t[e:]) != 0x0112 {
			continue
		}
		if typ := bo.Uint16(t[e+2:]); typ != 3 { // SHORT
			return 1
		}
		if o := int(bo.Uint16(t[e+8:])); o >= 1 && o <= 8 {
			return o
		}
		return 1
	}
	return 1
}

// orientate returns img turned upright as the EXIF orientation o says:
// 2 mirrored, 3 upside down, 4 flipped, 5 transposed, 6 turned right
// (clockwise), 7 transversed, 8 turned left. It runs on the scaled
// picture, so it is cheap.
func orientate(img *image.RGBA, o int) *image.RGBA {
	if o < 2 || o > 8 {
		return img
	}
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := range dh {
		for x := range dw {
			var sx, sy int
			switch o {
			case 2:
				sx, sy = w-1-x, y
			case 3:
				sx, sy = w-1-x, h-1-y
			case 4:
				sx, sy = x, h-1-y
			case 5:
				sx, sy = y, x
			case 6:
				sx, sy = y, h-1-x
			case 7:
				sx, sy = w-1-y, h-1-x
			case 8:
				sx, sy = w-1-y, x
			}
			si := img.PixOffset(sx+img.Rect.Min.X, sy+img.Rect.Min.Y)
			di := dst.PixOffset(x, y)
			copy(dst.Pix[di:di+4], img.Pix[si:si+4])
		}
	}
	return dst
}
