package thumb

import (
	"image"
	"image/color"
)

// maxShrink bounds the block size, so that a block's sums (k*k*255) fit
// in 32 bits whatever the pixel budget.
const maxShrink = 256

// shrink returns img averaged over blocks of k x k pixels, k as large as
// keeps the result at least twice w x h, so that the filter then scales
// by 2 or less: a box filter is the cheapest that does not alias, and
// Catmull-Rom over a large factor costs more than decoding the picture
// (BenchmarkThumbnail). The right and bottom edges lose the pixels that
// do not fill a block, less than half a pixel of the thumbnail. It
// returns img itself when k would be 1, or when img's type has no fast
// path here (16-bit and CMYK pictures: rare, the filter does it all).
func shrink(img image.Image, w, h int) image.Image {
	sb := img.Bounds()
	k := min(sb.Dx()/(2*w), sb.Dy()/(2*h), maxShrink)
	if k < 2 {
		return img
	}
	switch s := img.(type) {
	case *image.YCbCr:
		return shrinkYCbCr(s, k)
	case *image.RGBA:
		return shrinkRGBA(s.Pix, s.Stride, sb, k, false)
	case *image.NRGBA:
		return shrinkRGBA(s.Pix, s.Stride, sb, k, true)
	case *image.Gray:
		return shrinkGray(s, k)
	case *image.Paletted:
		return shrinkPaletted(s, k)
	}
	return img
}

// shrinkYCbCr averages the luma and chroma of each block, then converts
// (the conversion is affine, so this is the average of the colors).
func shrinkYCbCr(s *image.YCbCr, k int) *image.RGBA {
	sb := s.Rect
	w, h := sb.Dx()/k, sb.Dy()/k
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	var hs, vs int // chroma subsampling shifts
	switch s.SubsampleRatio {
	case image.YCbCrSubsampleRatio422:
		hs = 1
	case image.YCbCrSubsampleRatio420:
		hs, vs = 1, 1
	case image.YCbCrSubsampleRatio440:
		vs = 1
	case image.YCbCrSubsampleRatio411:
		hs = 2
	case image.YCbCrSubsampleRatio410:
		hs, vs = 2, 1
	}
	ys, cbs, crs := make([]uint32, w), make([]uint32, w), make([]uint32, w)
	n := uint32(k * k)
	for oy := range h {
		clear(ys)
		clear(cbs)
		clear(crs)
		for y := sb.Min.Y + oy*k; y < sb.Min.Y+oy*k+k; y++ {
			yrow := s.Y[(y-sb.Min.Y)*s.YStride:]
			crow := (y>>vs - sb.Min.Y>>vs) * s.CStride
			cb, cr := s.Cb[crow:], s.Cr[crow:]
			x := sb.Min.X
			for ox := range w {
				var sy, scb, scr uint32
				for end := x + k; x < end; x++ {
					sy += uint32(yrow[x-sb.Min.X])
					c := x>>hs - sb.Min.X>>hs
					scb += uint32(cb[c])
					scr += uint32(cr[c])
				}
				ys[ox] += sy
				cbs[ox] += scb
				crs[ox] += scr
			}
		}
		row := dst.Pix[oy*dst.Stride:]
		for ox := range w {
			r, g, b := color.YCbCrToRGB(uint8((ys[ox]+n/2)/n), uint8((cbs[ox]+n/2)/n), uint8((crs[ox]+n/2)/n))
			row[4*ox], row[4*ox+1], row[4*ox+2], row[4*ox+3] = r, g, b, 0xFF
		}
	}
	return dst
}

// shrinkRGBA averages RGBA pixels (premultiplying them first when nonPre
// says they are not: an NRGBA).
func shrinkRGBA(pix []byte, stride int, sb image.Rectangle, k int, nonPre bool) *image.RGBA {
	w, h := sb.Dx()/k, sb.Dy()/k
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	sums := make([]uint32, 4*w)
	n := uint32(k * k)
	for oy := range h {
		clear(sums)
		for y := oy * k; y < oy*k+k; y++ {
			row := pix[y*stride : y*stride+4*w*k]
			for ox := range w {
				var r, g, b, a uint32
				for i := 4 * ox * k; i < 4*(ox+1)*k; i += 4 {
					pa := uint32(row[i+3])
					if nonPre {
						r += uint32(row[i]) * pa / 0xFF
						g += uint32(row[i+1]) * pa / 0xFF
						b += uint32(row[i+2]) * pa / 0xFF
					} else {
						r += uint32(row[i])
						g += uint32(row[i+1])
						b += uint32(row[i+2])
					}
					a += pa
				}
				sums[4*ox] += r
				sums[4*ox+1] += g
				sums[4*ox+2] += b
				sums[4*ox+3] += a
			}
		}
		out := dst.Pix[oy*dst.Stride:]
		for i := range 4 * w {
			out[i] = uint8((sums[i] + n/2) / n)
		}
	}
	return dst
}

// shrinkGray averages gray pixels.
func shrinkGray(s *image.Gray, k int) *image.RGBA {
	sb := s.Rect
	w, h := sb.Dx()/k, sb.Dy()/k
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	sums := make([]uint32, w)
	n := uint32(k * k)
	for oy := range h {
		clear(sums)
		for y := oy * k; y < oy*k+k; y++ {
			row := s.Pix[y*s.Stride:]
			for ox := range w {
				for _, v := range row[ox*k : (ox+1)*k] {
					sums[ox] += uint32(v)
				}
			}
		}
		out := dst.Pix[oy*dst.Stride:]
		for ox := range w {
			v := uint8((sums[ox] + n/2) / n)
			out[4*ox], out[4*ox+1], out[4*ox+2], out[4*ox+3] = v, v, v, 0xFF
		}
	}
	return dst
}

// shrinkPaletted averages the colors of paletted pixels (an index past
// the palette is transparent black, as Go's image/draw takes it).
func shrinkPaletted(s *image.Paletted, k int) *image.RGBA {
	var pal [256][4]uint32
	for i, c := range s.Palette {
		if i == 256 {
			break
		}
		r, g, b, a := c.RGBA()
		pal[i] = [4]uint32{r >> 8, g >> 8, b >> 8, a >> 8}
	}
	sb := s.Rect
	w, h := sb.Dx()/k, sb.Dy()/k
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	sums := make([]uint32, 4*w)
	n := uint32(k * k)
	for oy := range h {
		clear(sums)
		for y := oy * k; y < oy*k+k; y++ {
			row := s.Pix[y*s.Stride:]
			for ox := range w {
				for _, v := range row[ox*k : (ox+1)*k] {
					p := &pal[v]
					sums[4*ox] += p[0]
					sums[4*ox+1] += p[1]
					sums[4*ox+2] += p[2]
					sums[4*ox+3] += p[3]
				}
			}
		}
		out := dst.Pix[oy*dst.Stride:]
		for i := range 4 * w {
			out[i] = uint8((sums[i] + n/2) / n)
		}
	}
	return dst
}
