package transcode

// Pictures drawn in Go for the pHash benchmark: five families (shapes,
// gradients, text pages, noise textures, photo-like scenes), each picture
// from its own seed, so the set is the same on every run.

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
)

// benchPicture draws picture i of the benchmark set.
func benchPicture(i int) *image.RGBA {
	rng := rand.New(rand.NewPCG(uint64(i)+1, 0x5eed))
	w := 320 + rng.IntN(5)*40
	h := 240 + rng.IntN(4)*40
	if rng.IntN(4) == 0 { // some portraits
		w, h = h, w
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	switch i % 5 {
	case 0:
		drawShapes(img, rng)
	case 1:
		drawGradients(img, rng)
	case 2:
		drawTextPage(img, rng)
	case 3:
		drawNoiseTexture(img, rng)
	case 4:
		drawScene(img, rng)
	}
	return img
}

func randColor(rng *rand.Rand) color.RGBA {
	return color.RGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), 255}
}

func fillRect(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, c)
		}
	}
}

func fillEllipse(img *image.RGBA, cx, cy, rx, ry float64, c color.RGBA) {
	r := image.Rect(int(cx-rx), int(cy-ry), int(cx+rx)+1, int(cy+ry)+1).Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			dx, dy := (float64(x)-cx)/rx, (float64(y)-cy)/ry
			if dx*dx+dy*dy <= 1 {
				img.SetRGBA(x, y, c)
			}
		}
	}
}

// addNoise adds uniform noise of ±amp to every channel, so flat areas
// compress and scale like a photo's.
func addNoise(img *image.RGBA, rng *rand.Rand, amp int) {
	for i := 0; i < len(img.Pix); i += 4 {
		n := rng.IntN(2*amp+1) - amp
		for c := 0; c < 3; c++ {
			img.Pix[i+c] = sat8(int(img.Pix[i+c]) + n)
		}
	}
}

func sat8(v int) uint8 { return uint8(min(max(v, 0), 255)) }

func drawShapes(img *image.RGBA, rng *rand.Rand) {
	b := img.Bounds()
	fillRect(img, b, randColor(rng))
	for n := 4 + rng.IntN(8); n > 0; n-- {
		c := randColor(rng)
		x, y := rng.Float64()*float64(b.Dx()), rng.Float64()*float64(b.Dy())
		sx, sy := 10+rng.Float64()*float64(b.Dx())/3, 10+rng.Float64()*float64(b.Dy())/3
		if rng.IntN(2) == 0 {
			fillRect(img, image.Rect(int(x), int(y), int(x+sx), int(y+sy)), c)
		} else {
			fillEllipse(img, x, y, sx/2, sy/2, c)
		}
	}
	addNoise(img, rng, 4)
}

func drawGradients(img *image.RGBA, rng *rand.Rand) {
	b := img.Bounds()
	c0, c1 := randColor(rng), randColor(rng)
	angle := rng.Float64() * 2 * math.Pi
	dx, dy := math.Cos(angle), math.Sin(angle)
	radial := rng.IntN(3) == 0
	cx, cy := rng.Float64()*float64(b.Dx()), rng.Float64()*float64(b.Dy())
	diag := math.Hypot(float64(b.Dx()), float64(b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			var t float64
			if radial {
				t = math.Hypot(float64(x)-cx, float64(y)-cy) / diag * 1.5
			} else {
				t = ((float64(x)-float64(b.Dx())/2)*dx+(float64(y)-float64(b.Dy())/2)*dy)/diag + 0.5
			}
			t = math.Min(math.Max(t, 0), 1)
			img.SetRGBA(x, y, color.RGBA{lerp8(c0.R, c1.R, t), lerp8(c0.G, c1.G, t), lerp8(c0.B, c1.B, t), 255})
		}
	}
	for n := 1 + rng.IntN(3); n > 0; n-- {
		fillEllipse(img, rng.Float64()*float64(b.Dx()), rng.Float64()*float64(b.Dy()),
			15+rng.Float64()*60, 15+rng.Float64()*60, randColor(rng))
	}
	addNoise(img, rng, 3)
}

func lerp8(a, b uint8, t float64) uint8 { return uint8(float64(a)*(1-t) + float64(b)*t + 0.5) }

// drawTextPage draws a document or web page: a header band, lines of
// word-like strokes in one or two columns, sometimes a picture block.
func drawTextPage(img *image.RGBA, rng *rand.Rand) {
	b := img.Bounds()
	paper := color.RGBA{uint8(220 + rng.IntN(36)), uint8(220 + rng.IntN(36)), uint8(210 + rng.IntN(46)), 255}
	fillRect(img, b, paper)
	header := 20 + rng.IntN(b.Dy()/4)
	fillRect(img, image.Rect(0, 0, b.Dx(), header), randColor(rng))
	ink := color.RGBA{uint8(rng.IntN(80)), uint8(rng.IntN(80)), uint8(rng.IntN(80)), 255}
	cols := 1 + rng.IntN(2)
	colW := (b.Dx() - 30) / cols
	block := image.Rectangle{}
	if rng.IntN(3) > 0 {
		bw, bh := b.Dx()/4+rng.IntN(b.Dx()/3), b.Dy()/5+rng.IntN(b.Dy()/3)
		bx, by := rng.IntN(b.Dx()-bw), header+rng.IntN(max(1, b.Dy()-header-bh))
		block = image.Rect(bx, by, bx+bw, by+bh)
		fillRect(img, block, randColor(rng))
		fillEllipse(img, float64(bx+bw/2), float64(by+bh/2), float64(bw)/4, float64(bh)/3, randColor(rng))
	}
	lineH := 8 + rng.IntN(8)
	for c := 0; c < cols; c++ {
		x0 := 15 + c*colW
		for y := header + 10; y+lineH < b.Dy()-10; y += lineH + 4 + rng.IntN(3) {
			if rng.IntN(9) == 0 { // paragraph break
				continue
			}
			end := x0 + colW - 10 - rng.IntN(colW/2)
			for x := x0; x < end; {
				word := 6 + rng.IntN(30)
				r := image.Rect(x, y+rng.IntN(3), min(x+word, end), y+lineH)
				if !r.Overlaps(block) {
					strokes(img, r, ink, rng)
				}
				x += word + 5
			}
		}
	}
	addNoise(img, rng, 3)
}

// strokes fills r with thin vertical and horizontal marks, like letters.
func strokes(img *image.RGBA, r image.Rectangle, c color.RGBA, rng *rand.Rand) {
	for x := r.Min.X; x < r.Max.X; x += 2 + rng.IntN(3) {
		top := r.Min.Y + rng.IntN(max(1, r.Dy()/2))
		fillRect(img, image.Rect(x, top, x+1, r.Max.Y), c)
		if rng.IntN(3) == 0 {
			fillRect(img, image.Rect(x, top+rng.IntN(max(1, r.Dy()-1)), x+3, top+r.Dy()/2), c)
		}
	}
}

// drawNoiseTexture draws smooth value noise of several octaves through a
// random two- or three-colour palette.
func drawNoiseTexture(img *image.RGBA, rng *rand.Rand) {
	b := img.Bounds()
	grid := 3 + rng.IntN(5)
	octaves := 2 + rng.IntN(3)
	lattices := make([][]float64, octaves)
	for o := range lattices {
		n := (grid << o) + 2
		lattices[o] = make([]float64, n*n)
		for i := range lattices[o] {
			lattices[o][i] = rng.Float64()
		}
	}
	c0, c1, c2 := randColor(rng), randColor(rng), randColor(rng)
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			var v, amp, total float64 = 0, 1, 0
			for o, lat := range lattices {
				g := grid << o
				n := g + 2
				fx, fy := float64(x)/float64(b.Dx())*float64(g), float64(y)/float64(b.Dy())*float64(g)
				ix, iy := int(fx), int(fy)
				tx, ty := smooth(fx-float64(ix)), smooth(fy-float64(iy))
				a := lat[iy*n+ix]*(1-tx) + lat[iy*n+ix+1]*tx
				c := lat[(iy+1)*n+ix]*(1-tx) + lat[(iy+1)*n+ix+1]*tx
				v += amp * (a*(1-ty) + c*ty)
				total += amp
				amp *= 0.5
			}
			v /= total
			var col color.RGBA
			if v < 0.5 {
				t := v * 2
				col = color.RGBA{lerp8(c0.R, c1.R, t), lerp8(c0.G, c1.G, t), lerp8(c0.B, c1.B, t), 255}
			} else {
				t := (v - 0.5) * 2
				col = color.RGBA{lerp8(c1.R, c2.R, t), lerp8(c1.G, c2.G, t), lerp8(c1.B, c2.B, t), 255}
			}
			img.SetRGBA(x, y, col)
		}
	}
	addNoise(img, rng, 5)
}

func smooth(t float64) float64 { return t * t * (3 - 2*t) }

// drawScene draws an outdoor event: sky gradient, ground, a sun or lamp,
// buildings, and people as heads on bodies.
func drawScene(img *image.RGBA, rng *rand.Rand) {
	b := img.Bounds()
	horizon := b.Dy()/3 + rng.IntN(b.Dy()/3)
	skyTop, skyLow := randColor(rng), randColor(rng)
	ground := randColor(rng)
	for y := 0; y < b.Dy(); y++ {
		c := ground
		if y < horizon {
			t := float64(y) / float64(horizon)
			c = color.RGBA{lerp8(skyTop.R, skyLow.R, t), lerp8(skyTop.G, skyLow.G, t), lerp8(skyTop.B, skyLow.B, t), 255}
		}
		fillRect(img, image.Rect(0, y, b.Dx(), y+1), c)
	}
	fillEllipse(img, rng.Float64()*float64(b.Dx()), rng.Float64()*float64(horizon)*0.6, 12+rng.Float64()*20, 12+rng.Float64()*20, randColor(rng))
	for n := 2 + rng.IntN(5); n > 0; n-- {
		bw := 20 + rng.IntN(b.Dx()/4)
		bh := 20 + rng.IntN(horizon)
		x := rng.IntN(b.Dx())
		fillRect(img, image.Rect(x, horizon-bh, x+bw, horizon+5), randColor(rng))
	}
	for n := 1 + rng.IntN(6); n > 0; n-- {
		x := float64(rng.IntN(b.Dx()))
		s := 0.6 + rng.Float64()
		base := float64(horizon) + float64(b.Dy()-horizon)*rng.Float64()
		fillEllipse(img, x, base-35*s, 18*s, 35*s, randColor(rng))
		fillEllipse(img, x, base-80*s, 10*s, 12*s, color.RGBA{uint8(150 + rng.IntN(90)), uint8(100 + rng.IntN(80)), uint8(70 + rng.IntN(60)), 255})
	}
	addNoise(img, rng, 6)
}
