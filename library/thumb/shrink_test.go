package thumb

import (
	"fmt"
	"image"
	"image/color"
	"image/color/palette"
	"testing"
)

// TestShrink checks each fast path against the average of the pictures'
// colors as image.Image gives them (premultiplied), within rounding.
func TestShrink(t *testing.T) {
	const w, h = 97, 61 // not multiples of k: the edges are dropped
	seed := uint32(7)
	rnd := func() uint8 {
		seed = seed*1664525 + 1013904223
		return uint8(seed >> 24)
	}
	r := image.Rect(0, 0, w, h)
	var imgs []image.Image
	for _, ratio := range []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422,
		image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410} {
		// Colors within the RGB gamut, as pictures have them: the
		// conversion clamps the others, so averaging before converting
		// differs for them (for the better, as a decoder's output).
		y := image.NewYCbCr(r, ratio)
		for i := range y.Y {
			y.Y[i] = 64 + rnd()/2
		}
		for i := range y.Cb {
			y.Cb[i], y.Cr[i] = 112+rnd()/8, 112+rnd()/8
		}
		imgs = append(imgs, y)
	}
	rgba, nrgba, gray := image.NewRGBA(r), image.NewNRGBA(r), image.NewGray(r)
	for i := 0; i < len(rgba.Pix); i += 4 {
		a := rnd()
		rgba.Pix[i], rgba.Pix[i+1], rgba.Pix[i+2], rgba.Pix[i+3] = rnd()/2, rnd()/2, min(a, rnd()), a|0x80 // premultiplied: at most a
		rgba.Pix[i] = min(rgba.Pix[i], rgba.Pix[i+3])
		rgba.Pix[i+1] = min(rgba.Pix[i+1], rgba.Pix[i+3])
		nrgba.Pix[i], nrgba.Pix[i+1], nrgba.Pix[i+2], nrgba.Pix[i+3] = rnd(), rnd(), rnd(), rnd()
	}
	for i := range gray.Pix {
		gray.Pix[i] = rnd()
	}
	pal := image.NewPaletted(r, append(color.Palette{color.Transparent}, palette.Plan9[:200]...))
	for i := range pal.Pix {
		pal.Pix[i] = rnd() % uint8(len(pal.Palette)) // decoders leave none past it
	}
	imgs = append(imgs, rgba, nrgba, gray, pal)
	for _, img := range imgs {
		for _, k := range []int{2, 3, 5} {
			name := fmt.Sprintf("%T/k%d", img, k)
			if y, ok := img.(*image.YCbCr); ok {
				name = fmt.Sprintf("YCbCr%v/k%d", y.SubsampleRatio, k)
			}
			t.Run(name, func(t *testing.T) {
				// Ask for a size that makes k the factor.
				got := shrink(img, w/k/2, h/k/2)
				if got == img {
					t.Fatal("not shrunk")
				}
				if b := got.Bounds(); b.Dx() != w/k || b.Dy() != h/k {
					t.Fatalf("bounds %v", b)
				}
				g := got.(*image.RGBA)
				for oy := range h / k {
					for ox := range w / k {
						var sum [4]int
						for y := oy * k; y < oy*k+k; y++ {
							for x := ox * k; x < ox*k+k; x++ {
								r, g, b, a := img.At(x, y).RGBA()
								sum[0] += int(r >> 8)
								sum[1] += int(g >> 8)
								sum[2] += int(b >> 8)
								sum[3] += int(a >> 8)
							}
						}
						i := g.PixOffset(ox, oy)
						for c := range 4 {
							want := (sum[c] + k*k/2) / (k * k)
							if d := int(g.Pix[i+c]) - want; d < -2 || d > 2 {
								t.Fatalf("at %d,%d channel %d: %d, want %d", ox, oy, c, g.Pix[i+c], want)
							}
						}
					}
				}
			})
		}
	}
	// Too small to shrink, or no fast path: the picture itself.
	if got := shrink(gray, w/2, h/2); got != gray {
		t.Error("shrunk by 1")
	}
	cmyk := image.NewCMYK(image.Rect(0, 0, 1000, 1000))
	if got := shrink(cmyk, 100, 100); got != cmyk {
		t.Error("CMYK shrunk")
	}
}
