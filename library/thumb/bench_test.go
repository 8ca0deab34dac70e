package thumb

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"math"
	"syscall"
	"testing"

	"golang.org/x/image/draw"
)

// filters are the scalers compared: Catmull-Rom is the one used.
var filters = []struct {
	name string
	f    draw.Interpolator
}{
	{"CatmullRom", draw.CatmullRom},
	{"BiLinear", draw.BiLinear},
	{"ApproxBiLinear", draw.ApproxBiLinear},
	{"NearestNeighbor", draw.NearestNeighbor},
}

// BenchmarkThumbnail makes a thumbnail from a 1920x1080 JPEG (a frame of
// a film with grain, at quality 90), with each filter, and the decoding
// alone for comparison. Run it on one CPU (-cpu 1) for a Pi's budget: a
// thumbnail is made on one goroutine. cpu-ns/op is the process's CPU
// time per thumbnail.
func BenchmarkThumbnail(b *testing.B) {
	data := encodeJPEGTest(b, photo(1920, 1080))
	b.Run("decode-only", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		cpu := cpuTime()
		for b.Loop() {
			if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
	})
	for _, size := range []int{SizeTN, SizeSmall, SizeLarge} {
		for _, f := range filters {
			for _, direct := range []bool{false, true} {
				if size != SizeTN && f.name != "CatmullRom" {
					continue
				}
				name := fmt.Sprintf("%d/%s", size, f.name)
				if direct {
					name += "-direct" // without the box filter first
				}
				b.Run(name, func(b *testing.B) {
					m := testMaker
					m.filter, m.direct = f.f, direct
					b.SetBytes(int64(len(data)))
					b.ReportAllocs()
					cpu := cpuTime()
					for b.Loop() {
						if _, _, _, err := m.make(bytes.NewReader(data), size); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
				})
			}
		}
	}
}

// cpuTime returns the CPU time the process has used, in nanoseconds: on a
// machine shared with other work it measures the cost better than the
// time on the clock.
func cpuTime() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkCacheHit finds a thumbnail on disk.
func BenchmarkCacheHit(b *testing.B) {
	c := &Cache{Dir: b.TempDir()}
	data := encodeJPEGTest(b, quadrants(100, 100))
	src := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	if _, err := c.Thumbnail("k", SizeTN, src); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Thumbnail("k", SizeTN, src); err != nil {
			b.Fatal(err)
		}
	}
}

// TestFilterQuality compares each filter's 160x90 picture of a detailed
// 1920x1080 one, with and without the box filter first, with the exact
// average of each 12x12 block (what a downscale without aliasing gives),
// as PSNR: what the maker does must not alias more than Catmull-Rom
// alone.
func TestFilterQuality(t *testing.T) {
	src := photo(1920, 1080)
	// Add fine stripes, the worst case for aliasing.
	for y := range 1080 {
		for x := 0; x < 1920; x += 3 {
			i := src.PixOffset(x, y)
			src.Pix[i], src.Pix[i+1], src.Pix[i+2] = 255, 255, 255
		}
	}
	ref := image.NewRGBA(image.Rect(0, 0, 160, 90))
	for y := range 90 {
		for x := range 160 {
			var sum [3]int
			for dy := range 12 {
				for dx := range 12 {
					i := src.PixOffset(x*12+dx, y*12+dy)
					for c := range 3 {
						sum[c] += int(src.Pix[i+c])
					}
				}
			}
			i := ref.PixOffset(x, y)
			for c := range 3 {
				ref.Pix[i+c] = uint8((sum[c] + 72) / 144)
			}
			ref.Pix[i+3] = 255
		}
	}
	psnr := map[string]float64{}
	for _, f := range filters {
		for _, direct := range []bool{false, true} {
			m := testMaker
			m.filter, m.direct = f.f, direct
			dst := m.scale(src, 160)
			var se float64
			for i := range dst.Pix {
				if i%4 != 3 {
					d := float64(dst.Pix[i]) - float64(ref.Pix[i])
					se += d * d
				}
			}
			name := f.name
			if direct {
				name += "-direct"
			}
			psnr[name] = 10 * math.Log10(255*255/(se/float64(160*90*3)))
			t.Logf("%-24s PSNR %.1f dB against the 12x12 block average", name, psnr[name])
		}
	}
	if psnr["CatmullRom"] < psnr["CatmullRom-direct"]-1 || psnr["CatmullRom"] < psnr["ApproxBiLinear-direct"]+6 {
		t.Errorf("the box filter and Catmull-Rom are not as good as Catmull-Rom alone and much better than ApproxBiLinear alone: %v", psnr)
	}
}
