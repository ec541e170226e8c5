package transcode

import (
	"image"
	"image/color"
	"slices"
	"testing"

	"golang.org/x/image/draw"
)

// TestMirrorFromCoefficients checks that the mirror hash derived from the
// DCT's signs is the hash of the mirrored picture, so that a lookup of a
// mirrored copy needs no second decode.
func TestMirrorFromCoefficients(t *testing.T) {
	for i := 0; i < 10; i++ {
		img := benchPicture(i)
		g := grayShrink(img, trimLongEdge)
		m := grayShrink(mirror(img, nil), trimLongEdge)
		if got, want := g.hashRect(g.bounds()).mirror, m.hashRect(m.bounds()).plain; Hamming(got, want) > 2 {
			t.Errorf("picture %d: mirror hash %016x, hash of the mirrored picture %016x", i, got, want)
		}
	}
}

// TestTrimFindsPicture places a picture on a screenshot's canvas and
// checks that the band-and-one-layer trim finds exactly the picture.
func TestTrimFindsPicture(t *testing.T) {
	pic := benchPicture(4) // a scene: no flat edges of its own
	canvas := image.NewRGBA(image.Rect(0, 0, 600, 500))
	fillRect(canvas, canvas.Bounds(), color.RGBA{248, 249, 250, 255})
	fillRect(canvas, image.Rect(0, 0, 600, 30), color.RGBA{218, 220, 224, 255})
	for x := 8; x < 150; x += 24 {
		fillRect(canvas, image.Rect(x, 9, x+14, 21), color.RGBA{95, 99, 104, 255})
	}
	at := image.Rect(70, 60, 70+pic.Bounds().Dx(), 60+pic.Bounds().Dy())
	draw.Draw(canvas, at, pic, image.Point{}, draw.Src)
	g := grayShrink(canvas, trimLongEdge)
	if got := trimBorders(g, bandTop|bandBottom, 1); got != at {
		t.Errorf("trimmed to %v, want the picture at %v", got, at)
	}
	if got := trimBorders(g, 0, 0); got != g.bounds() {
		t.Errorf("with no layers allowed, trimmed to %v", got)
	}
}

func TestQueryHashesOfStoredPicture(t *testing.T) {
	img := benchPicture(7)
	q, s := QueryHashes(img), Fingerprint(img)
	if len(s) != 1+cropWindows {
		t.Fatalf("Fingerprint: %d hashes, want %d", len(s), 1+cropWindows)
	}
	if !slices.Contains(q, s[0]) {
		t.Errorf("QueryHashes %x does not contain the whole picture's hash %x", q, s[0])
	}
	if d := Distance(q, s); d != 0 {
		t.Errorf("Distance to itself = %d", d)
	}
}

// TestTinyPictures checks that degenerate sizes hash without panicking.
func TestTinyPictures(t *testing.T) {
	for _, size := range [][2]int{{0, 0}, {1, 1}, {3, 2}, {1, 500}, {40, 30}} {
		img := image.NewRGBA(image.Rect(0, 0, size[0], size[1]))
		fillRect(img, img.Bounds(), color.RGBA{100, 150, 200, 255})
		if got := len(Fingerprint(img)); got != 1+cropWindows {
			t.Errorf("%v: Fingerprint gave %d hashes", size, got)
		}
		if Distance(QueryHashes(img), Fingerprint(img)) != 0 {
			t.Errorf("%v: picture not at distance 0 from itself", size)
		}
	}
}

// BenchmarkFingerprint hashes a preview-sized picture (2048×1536), as the
// photo pipeline would once per upload.
func BenchmarkFingerprint(b *testing.B) {
	img := scaleTo(benchPicture(4), 2048, 1536)
	b.ResetTimer()
	for b.Loop() {
		Fingerprint(img)
	}
}

// BenchmarkQueryHashes hashes a picture as /verify would.
func BenchmarkQueryHashes(b *testing.B) {
	img := scaleTo(benchPicture(4), 1200, 900)
	b.ResetTimer()
	for b.Loop() {
		QueryHashes(img)
	}
}
