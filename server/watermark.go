package server

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"strings"
	"unicode"

	"golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
	"golang.org/x/text/unicode/norm"
)

// watermarkable are the still renditions a share link's watermark is drawn
// on. Video and audio proxies play unmarked (say so in the link's options).
var watermarkable = map[string]bool{"thumb.jpg": true, "preview.jpg": true, "poster.jpg": true}

// watermark draws text across a JPEG rendition: once large in the middle
// and in a band at the bottom, white at partial opacity over a dark
// outline so it reads on any picture. The input is one of Acervo's own
// renditions (made by the transcode children), never a user's file, so
// decoding it here keeps invariant 5.
func watermark(r io.Reader, text string) ([]byte, error) {
	src, err := jpeg.Decode(r)
	if err != nil {
		return nil, err
	}
	b := src.Bounds()
	img := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(img, img.Bounds(), src, b.Min, draw.Src)

	mask := textMask(text)
	// Centre: the text spans 70 % of the width.
	w := b.Dx() * 7 / 10
	h := max(1, w*mask.Bounds().Dy()/mask.Bounds().Dx())
	centre := image.Rect((b.Dx()-w)/2, (b.Dy()-h)/2, (b.Dx()-w)/2+w, (b.Dy()-h)/2+h)
	stamp(img, mask, centre, 110)
	// Bottom band: a quarter of that size, on the right.
	w2, h2 := w/3, max(1, h/3)
	margin := max(4, b.Dx()/50)
	band := image.Rect(b.Dx()-w2-margin, b.Dy()-h2-margin, b.Dx()-margin, b.Dy()-margin)
	stamp(img, mask, band, 170)

	var out bytes.Buffer
	if err := jpeg.Encode(&out, img, &jpeg.Options{Quality: 85}); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// textMask renders text in the 7×13 bitmap font as an alpha mask with a
// one-pixel margin. The font is ASCII only, so accents are dropped
// ("Comunicación" is drawn "Comunicacion") rather than shown as boxes.
func textMask(text string) *image.Alpha {
	text = asciiFold(text)
	face := basicfont.Face7x13
	width := font.MeasureString(face, text).Ceil()
	m := image.NewAlpha(image.Rect(0, 0, max(1, width)+2, 15))
	d := font.Drawer{Dst: m, Src: image.Opaque, Face: face, Dot: fixed.P(1, 12)}
	d.DrawString(text)
	return m
}

// stamp scales mask into r and paints it: a dark outline, then white with
// the given alpha (0–255).
func stamp(img *image.RGBA, mask *image.Alpha, r image.Rectangle, alpha uint8) {
	scaled := image.NewAlpha(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.CatmullRom.Scale(scaled, scaled.Bounds(), mask, mask.Bounds(), draw.Src, nil)
	shadow := image.NewUniform(color.NRGBA{0, 0, 0, alpha / 2})
	off := max(1, r.Dy()/20)
	for _, d := range []image.Point{{-off, 0}, {off, 0}, {0, -off}, {0, off}} {
		draw.DrawMask(img, r.Add(d), shadow, image.Point{}, scaled, image.Point{}, draw.Over)
	}
	draw.DrawMask(img, r, image.NewUniform(color.NRGBA{255, 255, 255, alpha}), image.Point{}, scaled, image.Point{}, draw.Over)
}

// asciiFold removes diacritics (ó → o, ñ → n) and replaces what is left
// outside ASCII with "?".
func asciiFold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r < 0x20 || r > 0x7e:
			b.WriteByte('?')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
