package transcode

import "image"

// Border trimming for queries. A picture shared as a screenshot sits on a
// canvas (margins of one colour, a toolbar, a status bar); a picture shared
// with a caption has a solid band of text added below. Both move every low
// frequency of the pHash, so QueryHashes also hashes the picture with such
// borders trimmed, in a few ways, since a border cannot be told from a
// picture's own flat edge (a studio wall, a page's margin): the stored
// side's crop windows absorb a few per cent trimmed too much.
//
// A line (row or column) is clean when nearly all of it (trimClean) lies
// within trimTolerance of its dominant level, and marked when only most of
// it (trimMarked) does, as the rows through a caption's text or a
// toolbar's icons do. trimEdge takes off layers of clean lines of one
// level (wandering at most trimDrift, so a smooth sky is not eaten whole),
// a new layer starting only at a step of more than trimStep; bandEdge
// takes off one band of clean and marked lines up to its last clean one,
// at most trimBandMax thick.
const (
	trimTolerance = 10   // gray levels either side of a line's dominant level
	trimDrift     = 4    // how far a layer's dominant level may wander
	trimClean     = 0.95 // coverage of a clean line
	trimMarked    = 0.6  // coverage of a line with marks on a flat ground
	trimStep      = 6    // least change of level between two layers
	trimMaxLayers = 4    // toolbar, canvas, frame, the picture's own border
	trimMinKeep   = 0.35 // of each dimension
	trimBandMax   = 0.25 // of a dimension: the thickest band with marks
)

// trimEdge trims one side: line(k) is the k-th line from that side inward,
// for k < limit. Only clean lines are trimmed, in at most *layers more
// layers; *layers is decreased by the layers used. It returns the number
// of lines to trim.
func trimEdge(line func(k int) []float32, limit int, layers *int) int {
	trimmed := 0
	last := float32(-100) // dominant level of the last trimmed line
	for *layers > 0 && trimmed < limit {
		anchor, cover := dominant(line(trimmed))
		if cover < trimClean || abs32(anchor-last) <= trimStep {
			return trimmed
		}
		*layers--
		trimmed++
		for trimmed < limit {
			dom, cover := dominant(line(trimmed))
			if cover < trimClean || abs32(dom-anchor) > trimDrift {
				break
			}
			trimmed++
		}
		last, _ = dominant(line(trimmed - 1))
	}
	return trimmed
}

// bandEdge returns the thickness of a band with marks on one side (a
// caption bar, a toolbar): lines from the edge inward of one flat level,
// clean or marked, up to the last clean one, at most limit lines; 0 when
// there is none.
func bandEdge(line func(k int) []float32, limit int) int {
	anchor, cover := dominant(line(0))
	if cover < trimClean {
		return 0
	}
	end, marked := 1, false
	for k := 1; k < limit; k++ {
		dom, cover := dominant(line(k))
		if cover < trimMarked || abs32(dom-anchor) > trimDrift {
			break
		}
		if cover >= trimClean {
			end = k + 1
		} else {
			marked = true
		}
	}
	if !marked {
		return 0 // a plain border: trimEdge's business
	}
	return end
}

// bandSides says where trimBorders looks for bands with marks.
type bandSides int

const (
	bandTop    bandSides = 1 << iota // a toolbar
	bandBottom                       // a caption bar, a status bar
)

// trimBorders returns the part of g left after trimming flat borders:
// columns first (so side margins do not count as flat parts of rows), then
// rows, then columns again, since a toolbar spans the columns of a margin.
// Bands with marks are first taken off the sides that bands names.
func trimBorders(g *grayImage, bands bandSides, maxLayers int) image.Rectangle {
	r := image.Rect(0, 0, g.W, g.H)
	minW := max(1, int(float64(g.W)*trimMinKeep))
	minH := max(1, int(float64(g.H)*trimMinKeep))
	buf := make([]float32, max(g.W, g.H))
	column := func(x int) []float32 {
		l := buf[:0]
		for y := r.Min.Y; y < r.Max.Y; y++ {
			l = append(l, g.at(x, y))
		}
		return l
	}
	row := func(y int) []float32 { return g.Pix[y*g.W+r.Min.X : y*g.W+r.Max.X] }
	top := func(k int) []float32 { return row(r.Min.Y + k) }
	bottom := func(k int) []float32 { return row(r.Max.Y - 1 - k) }
	band := int(float64(g.H) * trimBandMax)
	if bands&bandTop != 0 {
		r.Min.Y += bandEdge(top, band)
	}
	if bands&bandBottom != 0 {
		r.Max.Y -= bandEdge(bottom, band)
	}
	// Layers left to each side. A second pass over the columns may find
	// only what the first could not reach, not another layer of the picture.
	layers := [4]int{maxLayers, maxLayers, maxLayers, maxLayers}
	columns := func() {
		room := r.Dx() - minW
		l := trimEdge(func(k int) []float32 { return column(r.Min.X + k) }, room, &layers[0])
		rt := trimEdge(func(k int) []float32 { return column(r.Max.X - 1 - k) }, room-l, &layers[1])
		r.Min.X += l
		r.Max.X -= rt
	}
	columns()
	room := r.Dy() - minH
	t := trimEdge(top, room, &layers[2])
	r.Min.Y += t
	r.Max.Y -= trimEdge(bottom, room-t, &layers[3])
	columns()
	return r
}

// dominant returns the mean level of the largest part of the line lying
// within a 2·trimTolerance+1 window of levels, and that part's fraction.
// The window is centred on the middle of the run of best positions, not
// the first, so that a flat line's level does not depend on its extremes.
func dominant(line []float32) (level, cover float32) {
	var hist [256]int32
	for _, v := range line {
		hist[clampLevel(v)]++
	}
	var win, best int32
	first, last := 0, 0
	for i := 0; i < 256+trimTolerance; i++ {
		if i < 256 {
			win += hist[i]
		}
		if j := i - 2*trimTolerance - 1; j >= 0 {
			win -= hist[j]
		}
		switch {
		case win > best:
			best, first, last = win, i-trimTolerance, i-trimTolerance
		case win == best:
			last = i - trimTolerance
		}
	}
	c := (first + last) / 2
	var sum float64
	var n int
	for i := max(c-trimTolerance, 0); i <= min(c+trimTolerance, 255); i++ {
		sum += float64(hist[i]) * float64(i)
		n += int(hist[i])
	}
	if n == 0 {
		return float32(c), 0
	}
	return float32(sum / float64(n)), float32(n) / float32(len(line))
}

func clampLevel(v float32) int {
	i := int(v + 0.5)
	return min(max(i, 0), 255)
}

func abs32(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}
