package dlna

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"strconv"
	"sync"
)

// icon is one of the device's icons, as listed in its description.
type icon struct {
	file string // name below /icons/
	mime string
	size int // width and height in pixels
	data []byte
}

// iconSizes are the icon sizes TVs look for: 48 for lists, 120 for large
// views (DLNA guidelines 7.2.10), each as PNG and JPEG.
var iconSizes = []int{48, 120}

// makeIcons returns the icons, drawn once per process.
var makeIcons = sync.OnceValue(func() []icon {
	var out []icon
	for _, size := range iconSizes {
		img := drawIcon(size)
		var p, j bytes.Buffer
		if err := png.Encode(&p, img); err != nil {
			panic(err) // cannot fail writing to memory
		}
		if err := jpeg.Encode(&j, img, &jpeg.Options{Quality: 90}); err != nil {
			panic(err)
		}
		s := strconv.Itoa(size)
		out = append(out,
			icon{file: s + ".png", mime: "image/png", size: size, data: p.Bytes()},
			icon{file: s + ".jpg", mime: "image/jpeg", size: size, data: j.Bytes()})
	}
	return out
})

// drawIcon draws the icon at the given size: a white "play" triangle on a
// dark blue rounded square, on white (JPEG has no transparency). Each
// pixel is sampled 4x4 times for smooth edges.
func drawIcon(size int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	bg := [3]float64{0x1f, 0x3a, 0x5f}
	fg := [3]float64{0xff, 0xff, 0xff}
	page := [3]float64{0xff, 0xff, 0xff}
	s := float64(size)
	radius := s * 0.18
	// The triangle, pointing right, centred by its area.
	ax, ay := s*0.36, s*0.26
	bx, by := s*0.36, s*0.74
	cx, cy := s*0.76, s*0.50
	const n = 4
	for y := range size {
		for x := range size {
			var acc [3]float64
			for sy := range n {
				for sx := range n {
					px := float64(x) + (float64(sx)+0.5)/n
					py := float64(y) + (float64(sy)+0.5)/n
					c := page
					if inRoundedSquare(px, py, s, radius) {
						c = bg
						if inTriangle(px, py, ax, ay, bx, by, cx, cy) {
							c = fg
						}
					}
					for i := range acc {
						acc[i] += c[i]
					}
				}
			}
			img.SetRGBA(x, y, color.RGBA{uint8(acc[0] / (n * n)), uint8(acc[1] / (n * n)), uint8(acc[2] / (n * n)), 0xff})
		}
	}
	return img
}

func inRoundedSquare(x, y, s, r float64) bool {
	if x < 0 || y < 0 || x > s || y > s {
		return false
	}
	// Distance to the nearest corner's centre, in the corners only.
	cx := min(max(x, r), s-r)
	cy := min(max(y, r), s-r)
	dx, dy := x-cx, y-cy
	return dx*dx+dy*dy <= r*r
}

func inTriangle(px, py, ax, ay, bx, by, cx, cy float64) bool {
	d1 := (px-bx)*(ay-by) - (ax-bx)*(py-by)
	d2 := (px-cx)*(by-cy) - (bx-cx)*(py-cy)
	d3 := (px-ax)*(cy-ay) - (cx-ax)*(py-ay)
	neg := d1 < 0 || d2 < 0 || d3 < 0
	pos := d1 > 0 || d2 > 0 || d3 > 0
	return !(neg && pos)
}

func (srv *Server) serveIcon(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	for _, ic := range srv.icons {
		if ic.file == name {
			h := w.Header()
			h.Set("Content-Type", ic.mime)
			h.Set("Content-Length", strconv.Itoa(len(ic.data)))
			h.Set("Cache-Control", "max-age=86400")
			if r.Method != http.MethodHead {
				w.Write(ic.data)
			}
			return
		}
	}
	http.NotFound(w, r)
}
