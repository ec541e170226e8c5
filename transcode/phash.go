package transcode

// Perceptual hashing of pictures, for issue #7: a /verify page that tells a
// viral picture derived from an archived one ("similar"), and the assets
// similar to a given one. The hash is the 64-bit DCT pHash (grayscale, 32×32
// by area averaging, 2-D DCT, the 8×8 lowest frequencies without row and
// column 0, each bit set when its coefficient is above their median).
//
// One pHash of the whole picture survives JPEG, scaling and brightness, but
// not an 8 % crop, a caption bar or a screenshot's canvas. So the two sides
// differ: the archive stores the whole picture's hash and nine 92 % crop
// windows (Fingerprint); a query hashes itself whole and with borders
// trimmed (phash_trim.go), each also mirrored (QueryHashes). The mirror's
// hash comes from the same coefficients (mirroring only flips the sign of
// the odd horizontal frequencies). A match is any pair within
// SimilarDistance (Distance), which is what an index of 64-bit hashes
// (catalog/simindex) answers.
//
// Quality figures, measured on 200 generated pictures and 8 transformations,
// are in phash_recall_test.go; SimilarDistance comes from them.

import (
	"image"
	"math"
	"math/bits"
	"slices"
)

// SimilarDistance is the largest Hamming distance between a query hash and
// a stored hash that still counts as the same picture. Chosen on the
// generated benchmark of phash_recall_test.go: at 10 every transformation
// keeps recall ≥ 98.5 % while 0.02 % of pairs of unrelated pictures match;
// at 8 the 8 % crop drops to 95.5 %, at 12 unrelated matches grow fivefold.
// (Distances between median-split hashes are always even.)
const SimilarDistance = 10

// Hamming returns the number of bits in which a and b differ.
func Hamming(a, b uint64) int { return bits.OnesCount64(a ^ b) }

// Hashing geometry.
const (
	trimLongEdge = 1024 // trimming works on a gray copy at most this large
	hashSide     = 32   // the DCT input is hashSide×hashSide
	hashFreqs    = 8    // bits come from frequencies 1..hashFreqs each way
)

// The windows of a stored picture hashed besides the whole: cropSize of
// each side at offsets 0, cropStep and 2·cropStep, nine in all. A copy
// cropped by up to 8 % of each side is then at most 2 % off one of them,
// where the whole picture's hash is up to 8 % off and fails half the time.
const (
	cropSize    = 0.92
	cropStep    = 0.04
	cropWindows = 9
)

// Fingerprint returns the hashes an archive stores for a picture: the
// pHash of the whole picture, then of each crop window. Any image.Image
// works; *image.YCbCr (decoded JPEG), *image.RGBA, *image.NRGBA and
// *image.Gray are read without per-pixel interface calls. The cost is one
// pass over the pixels and ten small resizes, whatever img's size: about
// 40 ms for a 2048×1536 preview.
func Fingerprint(img image.Image) []uint64 {
	return fingerprintGray(grayShrink(img, trimLongEdge))
}

// fingerprintGray is Fingerprint of the gray copy grayShrink made.
func fingerprintGray(g *grayImage) []uint64 {
	hs := make([]uint64, 0, 1+cropWindows)
	hs = append(hs, g.hashRect(g.bounds()).plain)
	w, h := int(cropSize*float64(g.W)+0.5), int(cropSize*float64(g.H)+0.5)
	for oy := 0; oy < 3; oy++ {
		for ox := 0; ox < 3; ox++ {
			x0 := int(float64(ox)*cropStep*float64(g.W) + 0.5)
			y0 := int(float64(oy)*cropStep*float64(g.H) + 0.5)
			r := image.Rect(x0, y0, min(x0+w, g.W), min(y0+h, g.H))
			hs = append(hs, g.hashRect(r).plain)
		}
	}
	return hs
}

// QueryHashes returns the hashes to look up for a picture that may be a
// copy of a stored one: the pHash of the whole picture and of the picture
// with its borders trimmed three ways (a caption bar below; a screenshot's
// toolbar, status bar and canvas; every flat border), each also of the
// mirror image, without duplicates. So a mirrored copy is found too; the
// stored side keeps no mirror hashes.
func QueryHashes(img image.Image) []uint64 {
	return queryHashesGray(grayShrink(img, trimLongEdge))
}

// queryHashesGray is QueryHashes of the gray copy grayShrink made.
func queryHashesGray(g *grayImage) []uint64 {
	rects := []image.Rectangle{
		g.bounds(),
		trimBorders(g, bandBottom, 0),
		trimBorders(g, bandTop|bandBottom, 1),
		trimBorders(g, 0, trimMaxLayers),
	}
	var hs []uint64
	seen := make(map[image.Rectangle]bool, len(rects))
	for _, r := range rects {
		if seen[r] {
			continue
		}
		seen[r] = true
		p := g.hashRect(r)
		for _, h := range []uint64{p.plain, p.mirror} {
			if !slices.Contains(hs, h) {
				hs = append(hs, h)
			}
		}
	}
	return hs
}

// Distance returns the smallest Hamming distance between any of query
// (from QueryHashes) and any of stored (from Fingerprint): the picture is
// similar when it is at most SimilarDistance.
func Distance(query, stored []uint64) int {
	best := 64
	for _, q := range query {
		for _, s := range stored {
			best = min(best, Hamming(q, s))
		}
	}
	return best
}

// pHashPair is the pHash of a picture and of its mirror image.
type pHashPair struct{ plain, mirror uint64 }

// hashRect returns the pHash of the part r of g and of its mirror image.
func (g *grayImage) hashRect(r image.Rectangle) pHashPair {
	return hashFromCoeffs(dctLow(g.areaResize(r, hashSide, hashSide)))
}

// grayImage is luma as float32, row-major, no padding.
type grayImage struct {
	W, H int
	Pix  []float32
}

func (g *grayImage) at(x, y int) float32 { return g.Pix[y*g.W+x] }

func (g *grayImage) bounds() image.Rectangle { return image.Rect(0, 0, g.W, g.H) }

// grayShrink converts img to luma (BT.601, the weights JPEG uses) while
// averaging f×f blocks, f the smallest factor that brings the long edge to
// at most long. Blocks at the right and bottom edges may be partial and are
// averaged over the pixels they have.
func grayShrink(img image.Image, long int) *grayImage {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= 0 || h <= 0 {
		return &grayImage{W: 1, H: 1, Pix: []float32{0}}
	}
	f := (max(w, h) + long - 1) / long
	gw, gh := (w+f-1)/f, (h+f-1)/f
	sum := make([]float32, gw*gh)
	cnt := make([]float32, gw*gh)
	row := make([]float32, w)
	for y := 0; y < h; y++ {
		lumaRow(img, b.Min.Y+y, row)
		o := (y / f) * gw
		for x, v := range row {
			sum[o+x/f] += v
			cnt[o+x/f]++
		}
	}
	for i := range sum {
		sum[i] /= cnt[i]
	}
	return &grayImage{W: gw, H: gh, Pix: sum}
}

// lumaRow writes the luma of row y of img (in img's coordinates) to out,
// len(out) == img.Bounds().Dx().
func lumaRow(img image.Image, y int, out []float32) {
	b := img.Bounds()
	switch m := img.(type) {
	case *image.YCbCr:
		off := m.YOffset(b.Min.X, y)
		for i := range out {
			out[i] = float32(m.Y[off+i])
		}
	case *image.Gray:
		off := m.PixOffset(b.Min.X, y)
		for i := range out {
			out[i] = float32(m.Pix[off+i])
		}
	case *image.RGBA:
		p := m.Pix[m.PixOffset(b.Min.X, y):]
		for i := range out {
			out[i] = luma(p[4*i], p[4*i+1], p[4*i+2])
		}
	case *image.NRGBA:
		// Alpha is ignored: a transparent picture's colours still say what
		// it shows, and previews are flattened JPEGs anyway.
		p := m.Pix[m.PixOffset(b.Min.X, y):]
		for i := range out {
			out[i] = luma(p[4*i], p[4*i+1], p[4*i+2])
		}
	default:
		for i := range out {
			r, g, bl, _ := img.At(b.Min.X+i, y).RGBA()
			out[i] = luma(uint8(r>>8), uint8(g>>8), uint8(bl>>8))
		}
	}
}

func luma(r, g, b uint8) float32 {
	return 0.299*float32(r) + 0.587*float32(g) + 0.114*float32(b)
}

// areaResize averages the rectangle r of g down (or up) to w×h, each output
// pixel the exact area-weighted mean of the input it covers: a box filter
// with fractional edges, which is what a 32×32 hash input wants (no
// aliasing from a 16× reduction, no ringing).
func (g *grayImage) areaResize(r image.Rectangle, w, h int) *grayImage {
	xw := areaWeights(r.Min.X, r.Dx(), w)
	yw := areaWeights(r.Min.Y, r.Dy(), h)
	tmp := make([]float32, r.Dy()*w) // rows of r, columns resized
	for y := 0; y < r.Dy(); y++ {
		src := g.Pix[(r.Min.Y+y)*g.W:]
		for x, ws := range xw {
			var s float32
			for _, t := range ws {
				s += src[t.i] * t.w
			}
			tmp[y*w+x] = s
		}
	}
	out := &grayImage{W: w, H: h, Pix: make([]float32, w*h)}
	for y, ws := range yw {
		for _, t := range ws {
			src := tmp[(t.i-r.Min.Y)*w:]
			for x := 0; x < w; x++ {
				out.Pix[y*w+x] += src[x] * t.w
			}
		}
	}
	return out
}

type tap struct {
	i int // input index
	w float32
}

// areaWeights maps n inputs starting at start onto out outputs: output o
// covers input interval [o·n/out, (o+1)·n/out), each input weighted by the
// length of its overlap, normalised to sum to 1.
func areaWeights(start, n, out int) [][]tap {
	ws := make([][]tap, out)
	scale := float64(n) / float64(out)
	for o := range ws {
		lo, hi := float64(o)*scale, float64(o+1)*scale
		for i := int(lo); i < n && float64(i) < hi; i++ {
			ov := math.Min(hi, float64(i+1)) - math.Max(lo, float64(i))
			if ov > 0 {
				ws[o] = append(ws[o], tap{i: start + i, w: float32(ov / scale)})
			}
		}
	}
	return ws
}

// dctLow returns the 2-D DCT-II coefficients of the square image g for
// frequencies 1..hashFreqs in each direction, as [v][u] (v vertical, u
// horizontal). Only 8 of 32 rows of the basis are needed, so the separable
// product costs 2·8·32·32 multiplications.
func dctLow(g *grayImage) [hashFreqs][hashFreqs]float64 {
	n := g.W
	basis := make([][]float64, hashFreqs)
	for k := range basis {
		basis[k] = make([]float64, n)
		for x := 0; x < n; x++ {
			basis[k][x] = math.Cos(math.Pi * float64((2*x+1)*(k+1)) / float64(2*n))
		}
	}
	// rows[y][u]: each row transformed horizontally.
	rows := make([][hashFreqs]float64, n)
	for y := 0; y < n; y++ {
		for u := 0; u < hashFreqs; u++ {
			var s float64
			for x := 0; x < n; x++ {
				s += float64(g.at(x, y)) * basis[u][x]
			}
			rows[y][u] = s
		}
	}
	var c [hashFreqs][hashFreqs]float64
	for v := 0; v < hashFreqs; v++ {
		for u := 0; u < hashFreqs; u++ {
			var s float64
			for y := 0; y < n; y++ {
				s += rows[y][u] * basis[v][y]
			}
			c[v][u] = s
		}
	}
	return c
}

// hashFromCoeffs sets bit 8v+u when coefficient [v][u] is above the median
// of the 64, for the picture and for its mirror image, whose coefficients
// differ only in the sign of odd horizontal frequencies (u+1 odd).
func hashFromCoeffs(c [hashFreqs][hashFreqs]float64) pHashPair {
	var plain, mirror [hashFreqs * hashFreqs]float64
	for v := 0; v < hashFreqs; v++ {
		for u := 0; u < hashFreqs; u++ {
			i := v*hashFreqs + u
			plain[i] = c[v][u]
			mirror[i] = c[v][u]
			if (u+1)%2 == 1 {
				mirror[i] = -c[v][u]
			}
		}
	}
	return pHashPair{plain: medianBits(plain[:]), mirror: medianBits(mirror[:])}
}

func medianBits(vals []float64) uint64 {
	var sorted [hashFreqs * hashFreqs]float64
	copy(sorted[:], vals)
	s := sorted[:len(vals)]
	insertionSort(s)
	med := (s[len(s)/2-1] + s[len(s)/2]) / 2
	var h uint64
	for i, v := range vals {
		if v > med {
			h |= 1 << uint(i)
		}
	}
	return h
}

func insertionSort(s []float64) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
