package transcode

import (
	"image"
	"image/color"
	"image/draw"
	"testing"
)

// TestDiffRegions: a copy that is only re-scaled, cropped or mirrored
// differs nowhere; a pasted patch is flagged where it is, in the frame of
// the official preview.
func TestDiffRegions(t *testing.T) {
	orig := drawPhoto(1200, 800)
	patched := image.NewRGBA(orig.Bounds())
	draw.Draw(patched, patched.Bounds(), orig, image.Point{}, draw.Src)
	patch := image.Rect(150, 450, 400, 700)
	draw.Draw(patched, patch, &image.Uniform{color.RGBA{250, 0, 250, 255}}, image.Point{}, draw.Src)
	cropped := image.NewRGBA(image.Rect(0, 0, 1104, 736))
	draw.Draw(cropped, cropped.Bounds(), orig, image.Pt(48, 32), draw.Src)
	mirrored := image.NewRGBA(orig.Bounds())
	for y := 0; y < 800; y++ {
		for x := 0; x < 1200; x++ {
			mirrored.Set(1199-x, y, orig.At(x, y))
		}
	}
	// The preview frame is 2048×1365: regions are scaled to it.
	scale := func(r image.Rectangle) image.Rectangle {
		return image.Rect(r.Min.X*2048/1200, r.Min.Y*1365/800, r.Max.X*2048/1200, r.Max.Y*1365/800)
	}
	for _, tc := range []struct {
		name  string
		query image.Image
		want  image.Rectangle // empty: no region at all
	}{
		{"same", orig, image.Rectangle{}},
		{"cropped 4 %", cropped, image.Rectangle{}},
		{"mirrored", mirrored, image.Rectangle{}},
		{"patched", patched, scale(patch)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := DiffRegions(orig, tc.query, 2048, 1365)
			if tc.want.Empty() {
				if len(got) != 0 {
					t.Errorf("regions = %v, want none", got)
				}
				return
			}
			hit := false
			for _, r := range got {
				if !r.Overlaps(tc.want) && !r.In(image.Rect(0, 0, 2048, 1365)) {
					t.Errorf("region %v outside the frame", r)
				}
				hit = hit || r.Overlaps(tc.want)
				if !r.Overlaps(tc.want.Inset(-300)) {
					t.Errorf("region %v far from the patch %v", r, tc.want)
				}
			}
			if !hit {
				t.Errorf("regions = %v, none over the patch %v", got, tc.want)
			}
		})
	}
}
