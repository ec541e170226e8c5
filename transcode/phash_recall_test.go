package transcode

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"

	"golang.org/x/image/draw"
)

// benchSetSize is the number of generated pictures in the pHash benchmark.
const benchSetSize = 200

// transformation is one way a shared picture differs from the archived one.
type transformation struct {
	Name string
	// Target is the recall the test demands at SimilarDistance; 0 means
	// the row is measured and logged only.
	Target float64
	Apply  func(img *image.RGBA, rng *rand.Rand) image.Image
}

var transformations = []transformation{
	{Name: "jpeg q40", Target: 0.95, Apply: func(img *image.RGBA, _ *rand.Rand) image.Image { return jpegRoundTrip(img, 40) }},
	{Name: "scale 50%", Target: 0.95, Apply: func(img *image.RGBA, _ *rand.Rand) image.Image {
		return scaleTo(img, img.Bounds().Dx()/2, img.Bounds().Dy()/2)
	}},
	{Name: "crop 8%", Target: 0.95, Apply: crop8},
	{Name: "brightness/contrast", Target: 0.95, Apply: brightnessContrast},
	{Name: "caption bar", Target: 0.95, Apply: captionBar},
	{Name: "screenshot padding", Target: 0.95, Apply: screenshot},
	{Name: "mirror", Target: 0.95, Apply: mirror},
}

func jpegRoundTrip(img image.Image, q int) image.Image {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
		panic(err)
	}
	out, err := jpeg.Decode(&buf)
	if err != nil {
		panic(err)
	}
	return out
}

func scaleTo(img image.Image, w, h int) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, img.Bounds(), draw.Src, nil)
	return dst
}

// crop8 keeps a window of 92 % of each dimension, placed at random: the 8 %
// taken off is split unevenly between the two sides.
func crop8(img *image.RGBA, rng *rand.Rand) image.Image {
	b := img.Bounds()
	cw, ch := b.Dx()*8/100, b.Dy()*8/100
	x0, y0 := rng.IntN(cw+1), rng.IntN(ch+1)
	return img.SubImage(image.Rect(x0, y0, x0+b.Dx()-cw, y0+b.Dy()-ch))
}

// brightnessContrast applies v' = (v-128)·c + 128 + d with c in ±20–30 %
// and d in ±15–30 levels, clipping as an editor would.
func brightnessContrast(img *image.RGBA, rng *rand.Rand) image.Image {
	c := 1.2 + rng.Float64()*0.1
	if rng.IntN(2) == 0 {
		c = 1 / c
	}
	d := 15 + rng.Float64()*15
	if rng.IntN(2) == 0 {
		d = -d
	}
	out := image.NewRGBA(img.Bounds())
	for i, v := range img.Pix {
		if i%4 == 3 {
			out.Pix[i] = 255
			continue
		}
		out.Pix[i] = sat8(int((float64(v)-128)*c + 128 + d + 0.5))
	}
	return out
}

// captionBar appends a band of 12–20 % of the height below the picture,
// dark or light, with a line or two of text-like marks in the other tone.
func captionBar(img *image.RGBA, rng *rand.Rand) image.Image {
	b := img.Bounds()
	bar := b.Dy() * (12 + rng.IntN(9)) / 100
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()+bar))
	draw.Draw(out, b, img, b.Min, draw.Src)
	bg, ink := color.RGBA{20, 20, 24, 255}, color.RGBA{245, 245, 245, 255}
	if rng.IntN(2) == 0 {
		bg, ink = ink, bg
	}
	fillRect(out, image.Rect(0, b.Dy(), b.Dx(), b.Dy()+bar), bg)
	lines := 1 + rng.IntN(2)
	lh := bar / (2*lines + 1)
	for l := 0; l < lines; l++ {
		y := b.Dy() + lh*(2*l+1)
		end := b.Dx() * (40 + rng.IntN(50)) / 100
		for x := b.Dx() / 20; x < end; {
			word := 8 + rng.IntN(30)
			strokes(out, image.Rect(x, y, min(x+word, end), y+lh), ink, rng)
			x += word + 6
		}
	}
	return out
}

// screenshot scales the picture to 70–100 % and places it on a larger
// canvas: a uniform background, a toolbar with icons at the top, a status
// bar at the bottom, the picture off centre.
func screenshot(img *image.RGBA, rng *rand.Rand) image.Image {
	b := img.Bounds()
	s := 0.7 + rng.Float64()*0.3
	pw, ph := int(float64(b.Dx())*s), int(float64(b.Dy())*s)
	pic := scaleTo(img, pw, ph)
	toolbar, status := 24+rng.IntN(20), 12+rng.IntN(10)
	cw := pw + 40 + rng.IntN(pw/2)
	chh := ph + toolbar + status + 20 + rng.IntN(ph/3)
	out := image.NewRGBA(image.Rect(0, 0, cw, chh))
	light := rng.IntN(2) == 0
	bg, bar, icon := color.RGBA{32, 33, 36, 255}, color.RGBA{60, 64, 67, 255}, color.RGBA{200, 200, 200, 255}
	if light {
		bg, bar, icon = color.RGBA{248, 249, 250, 255}, color.RGBA{218, 220, 224, 255}, color.RGBA{95, 99, 104, 255}
	}
	fillRect(out, out.Bounds(), bg)
	fillRect(out, image.Rect(0, 0, cw, toolbar), bar)
	for x := 8; x+16 < cw && x < 8+24*6; x += 24 {
		fillRect(out, image.Rect(x, toolbar/2-6, x+14, toolbar/2+6), icon)
	}
	fillRect(out, image.Rect(0, chh-status, cw, chh), bar)
	strokes(out, image.Rect(8, chh-status+3, 8+cw/4, chh-3), icon, rng)
	x0 := 20 + rng.IntN(cw-pw-39)
	y0 := toolbar + 10 + rng.IntN(chh-ph-toolbar-status-19)
	draw.Draw(out, image.Rect(x0, y0, x0+pw, y0+ph), pic, image.Point{}, draw.Src)
	return out
}

func mirror(img *image.RGBA, _ *rand.Rand) image.Image {
	b := img.Bounds()
	out := image.NewRGBA(b)
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			out.SetRGBA(b.Dx()-1-x, y, img.RGBAAt(x, y))
		}
	}
	return out
}

// recallSet is the benchmark's measurements: for each transformation the
// distance of each transformed picture (QueryHashes) to its original
// (Fingerprint), and the distances of unrelated pairs.
type recallSet struct {
	Dist      [][]int // [transformation][picture]
	Unrelated []int   // picture i against an unrelated picture
	AllPairs  []int   // every pair of originals
}

func measureRecall(tb testing.TB) recallSet {
	tb.Helper()
	stored := make([][]uint64, benchSetSize)
	queries := make([][]uint64, benchSetSize)
	dist := make([][]int, benchSetSize) // [picture][transformation]
	unrelated := make([]int, benchSetSize)
	// Pictures are independent: spread them over the CPUs.
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				img := benchPicture(i)
				stored[i] = Fingerprint(img)
				queries[i] = QueryHashes(img)
				rng := rand.New(rand.NewPCG(uint64(i), 0x7a))
				for _, tr := range transformations {
					dist[i] = append(dist[i], Distance(QueryHashes(tr.Apply(img, rng)), stored[i]))
				}
				unrelated[i] = Distance(QueryHashes(benchPicture(10_000+i)), stored[i])
			}
		}()
	}
	for i := 0; i < benchSetSize; i++ {
		next <- i
	}
	close(next)
	wg.Wait()

	rs := recallSet{Dist: make([][]int, len(transformations)), Unrelated: unrelated}
	for t := range transformations {
		for i := range dist {
			rs.Dist[t] = append(rs.Dist[t], dist[i][t])
		}
	}
	// Every original looked up against every other stored one: both
	// directions, since the two sides hash differently.
	for i := range stored {
		for j := range queries {
			if i != j {
				rs.AllPairs = append(rs.AllPairs, Distance(queries[j], stored[i]))
			}
		}
	}
	return rs
}

func within(ds []int, maxDist int) float64 {
	n := 0
	for _, d := range ds {
		if d <= maxDist {
			n++
		}
	}
	return float64(n) / float64(len(ds))
}

// TestPHashRecall asserts the quality targets of issue #7 at
// SimilarDistance: recall ≥ 95 % for each transformation with a target,
// at most 0.5 % of unrelated pictures matched. It logs the table for
// every even threshold from 4 to 16 (distances are even), which is how
// SimilarDistance was chosen.
func TestPHashRecall(t *testing.T) {
	if testing.Short() {
		t.Skip("-short mode: generates and hashes 1,800 pictures")
	}
	rs := measureRecall(t)
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-22s", "threshold")
	for d := 4; d <= 16; d += 2 {
		fmt.Fprintf(&b, "%8d", d)
	}
	row := func(name string, ds []int) {
		fmt.Fprintf(&b, "\n%-22s", name)
		for d := 4; d <= 16; d += 2 {
			fmt.Fprintf(&b, "%7.2f%%", 100*within(ds, d))
		}
	}
	for i, tr := range transformations {
		row(tr.Name, rs.Dist[i])
	}
	row("unrelated (false)", rs.Unrelated)
	row("all pairs (false)", rs.AllPairs)
	t.Log(b.String())

	for i, tr := range transformations {
		if got := within(rs.Dist[i], SimilarDistance); tr.Target > 0 && got < tr.Target {
			t.Errorf("%s: recall %.1f%% at distance %d, want ≥ %.0f%%", tr.Name, 100*got, SimilarDistance, 100*tr.Target)
		}
	}
	for _, c := range []struct {
		name string
		ds   []int
	}{{"unrelated pictures", rs.Unrelated}, {"all pairs of originals", rs.AllPairs}} {
		if got := within(c.ds, SimilarDistance); got > 0.005 {
			t.Errorf("%s: %.2f%% matched at distance %d, want ≤ 0.5%%", c.name, 100*got, SimilarDistance)
		}
	}
}
