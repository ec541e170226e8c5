package transcode

import (
	"image"
	"math"
)

// Where a copy differs from its archived original, for the /verify page's
// side-by-side view: a coarse grid of cells whose content differs, after
// lining the copy up with the part of the original it shows. It is a
// pointer for a human eye, not a forensic tool: a cell flags a pasted
// face or a removed sign, not a change of a few pixels.

const (
	diffSide = 96 // both pictures are compared at this size (long edge)
	// DiffGrid is how many cells each side of the original is cut into.
	DiffGrid = 8
	// diffThreshold is the mean absolute difference, in standard
	// deviations of the original's luma, above which a cell differs.
	// Re-encoding and resizing leave 0.05–0.2; a pasted patch 0.8 and more.
	diffThreshold = 0.45
)

// DiffRegions returns the cells of original (DiffGrid×DiffGrid) where
// query, a near-duplicate of it, shows something else, as rectangles in a
// w×h frame (the official preview's size). The alignment tried is a crop
// of the original by up to 12 % on each axis at three positions, against
// the query whole or with its flat borders trimmed, as it is or mirrored;
// the best is kept.
func DiffRegions(original, query image.Image, w, h int) []image.Rectangle {
	og := grayShrink(original, diffSide*2).areaResizeFit(diffSide)
	plain := grayShrink(query, diffSide*2).areaResizeFit(diffSide)
	const probe = 24
	best, bestO, bestQ, qg := math.Inf(1), og.bounds(), plain.bounds(), plain
	crops := cropCandidates(og.W, og.H)
	probes := make([]*grayImage, len(crops))
	for i, r := range crops {
		probes[i] = normalise(og.areaResize(r, probe, probe))
	}
	// The copy as it is and mirrored (QueryHashes finds mirrored copies).
	for _, g := range []*grayImage{plain, plain.mirror()} {
		qrects := []image.Rectangle{g.bounds(), trimBorders(g, bandBottom, 0), trimBorders(g, bandTop|bandBottom, 1), trimBorders(g, 0, trimMaxLayers)}
		for _, qr := range qrects {
			if qr.Dx() < 8 || qr.Dy() < 8 {
				continue
			}
			qs := normalise(g.areaResize(qr, probe, probe))
			for i, op := range probes {
				if d := meanAbsDiff(op, qs); d < best {
					best, bestO, bestQ, qg = d, crops[i], qr, g
				}
			}
		}
	}
	// Compare cell by cell at the chosen alignment, in the original's
	// crop; cells outside the crop (cut off in the copy) are not flagged:
	// a crop removes, it does not alter.
	cw, ch := bestO.Dx(), bestO.Dy()
	o := normalise(og.areaResize(bestO, cw, ch))
	q := normalise(qg.areaResize(bestQ, cw, ch))
	var out []image.Rectangle
	for gy := 0; gy < DiffGrid; gy++ {
		for gx := 0; gx < DiffGrid; gx++ {
			x0, x1 := gx*og.W/DiffGrid, (gx+1)*og.W/DiffGrid
			y0, y1 := gy*og.H/DiffGrid, (gy+1)*og.H/DiffGrid
			var sum float64
			n := 0
			for y := max(y0, bestO.Min.Y); y < min(y1, bestO.Max.Y); y++ {
				for x := max(x0, bestO.Min.X); x < min(x1, bestO.Max.X); x++ {
					i := (y-bestO.Min.Y)*cw + (x - bestO.Min.X)
					sum += math.Abs(float64(o.Pix[i] - q.Pix[i]))
					n++
				}
			}
			if n > 0 && sum/float64(n) > diffThreshold {
				out = append(out, image.Rect(x0*w/og.W, y0*h/og.H, x1*w/og.W, y1*h/og.H))
			}
		}
	}
	return out
}

// mirror returns g flipped left to right.
func (g *grayImage) mirror() *grayImage {
	out := &grayImage{W: g.W, H: g.H, Pix: make([]float32, len(g.Pix))}
	for y := 0; y < g.H; y++ {
		for x := 0; x < g.W; x++ {
			out.Pix[y*g.W+x] = g.Pix[y*g.W+g.W-1-x]
		}
	}
	return out
}

// areaResizeFit resizes g so its long edge is long.
func (g *grayImage) areaResizeFit(long int) *grayImage {
	w, h := fitLongEdge(g.W, g.H, long)
	return g.areaResize(g.bounds(), max(w, 1), max(h, 1))
}

// cropCandidates are the windows of a w×h picture a copy may show: each
// axis kept at 100, 96, 92 or 88 %, at its start, middle or end.
func cropCandidates(w, h int) []image.Rectangle {
	var out []image.Rectangle
	for _, sx := range []float64{1, 0.96, 0.92, 0.88} {
		for _, sy := range []float64{1, 0.96, 0.92, 0.88} {
			cw, ch := int(sx*float64(w)+0.5), int(sy*float64(h)+0.5)
			for _, px := range []int{0, (w - cw) / 2, w - cw} {
				for _, py := range []int{0, (h - ch) / 2, h - ch} {
					out = append(out, image.Rect(px, py, px+cw, py+ch))
				}
			}
		}
	}
	return out
}

// normalise scales g's values to zero mean and unit deviation, so a
// brightness or contrast change is no difference.
func normalise(g *grayImage) *grayImage {
	var sum, sq float64
	for _, v := range g.Pix {
		sum += float64(v)
	}
	mean := sum / float64(len(g.Pix))
	for _, v := range g.Pix {
		sq += (float64(v) - mean) * (float64(v) - mean)
	}
	sd := math.Sqrt(sq/float64(len(g.Pix))) + 1
	out := &grayImage{W: g.W, H: g.H, Pix: make([]float32, len(g.Pix))}
	for i, v := range g.Pix {
		out.Pix[i] = float32((float64(v) - mean) / sd)
	}
	return out
}

func meanAbsDiff(a, b *grayImage) float64 {
	var s float64
	for i := range a.Pix {
		s += math.Abs(float64(a.Pix[i] - b.Pix[i]))
	}
	return s / float64(len(a.Pix))
}
