package transcode

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"strconv"
)

// rgbImage is 8-bit RGB, 3 bytes a pixel, rows without padding: the body of a
// binary PPM, which is what djpeg writes and cjpeg reads, so pixels cross the
// pipes without conversion. Every decoder ends here; alpha is flattened onto
// white first (a JPEG has none).
type rgbImage struct {
	W, H int
	Pix  []byte // len 3*W*H
}

func newRGB(w, h int) *rgbImage {
	return &rgbImage{W: w, H: h, Pix: make([]byte, 3*w*h)}
}

// row returns row y.
func (m *rgbImage) row(y int) []byte { return m.Pix[3*m.W*y : 3*m.W*(y+1)] }

// at returns the pixel at x, y (for tests).
func (m *rgbImage) at(x, y int) color.RGBA {
	i := 3 * (m.W*y + x)
	return color.RGBA{m.Pix[i], m.Pix[i+1], m.Pix[i+2], 255}
}

// errPNM is a malformed PNM stream.
var errPNM = errors.New("malformed PNM")

// readPNM reads one binary PPM (P6) or PGM (P5) with maxval 255, as djpeg
// writes them, refusing images over maxPixels before allocating.
func readPNM(r io.Reader, maxPixels int64) (*rgbImage, error) {
	return readPNMFit(r, maxPixels, nil)
}

// readPNMFit is readPNM that returns the image resized (catmullRom) to the
// size fit gives for the stored size, when fit is not nil; fit never
// enlarges. When the reduction is under 3× (always, after DCT scaling) the
// rows are resized as they arrive, a window of a few rows at a time: the
// full-size image is never held, and the work overlaps the decoder's.
func readPNMFit(r io.Reader, maxPixels int64, fit func(w, h int) (int, int)) (*rgbImage, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, err := pnmToken(br)
	if err != nil {
		return nil, err
	}
	if magic != "P6" && magic != "P5" {
		return nil, fmt.Errorf("%w: magic %q", errPNM, magic)
	}
	var v [3]int
	for i := range v {
		tok, err := pnmToken(br)
		if err != nil {
			return nil, err
		}
		if v[i], err = strconv.Atoi(tok); err != nil || v[i] <= 0 {
			return nil, fmt.Errorf("%w: header value %q", errPNM, tok)
		}
	}
	w, h, maxval := v[0], v[1], v[2]
	if maxval != 255 {
		return nil, fmt.Errorf("%w: maxval %d, want 255", errPNM, maxval)
	}
	if int64(w)*int64(h) > maxPixels {
		return nil, fmt.Errorf("%w: %d×%d over the pixel limit", errPNM, w, h)
	}
	rows := &pnmRows{br: br, gray: magic == "P5"}
	dw, dh := w, h
	if fit != nil {
		dw, dh = fit(w, h)
		if dw <= 0 || dh <= 0 || dw > w || dh > h {
			return nil, fmt.Errorf("transcode: cannot fit %d×%d into %d×%d", w, h, dw, dh)
		}
	}
	if (dw != w || dh != h) && float64(w)/float64(dw) < 3 && float64(h)/float64(dh) < 3 {
		return resizeRows(rows, w, h, dw, dh, catmullRom)
	}
	img := newRGB(w, h)
	for y := 0; y < h; y++ {
		if err := rows.read(img.row(y)); err != nil {
			return nil, err
		}
	}
	if dw != w || dh != h {
		img = resize(img, dw, dh, catmullRom)
	}
	return img, nil
}

// pnmRows reads the pixel rows of a PNM, grey ones as RGB.
type pnmRows struct {
	br   *bufio.Reader
	gray bool
	buf  []byte
}

// read fills row (3 bytes a pixel) with the next row.
func (p *pnmRows) read(row []byte) error {
	if !p.gray {
		if _, err := io.ReadFull(p.br, row); err != nil {
			return fmt.Errorf("%w: pixels: %v", errPNM, err)
		}
		return nil
	}
	n := len(row) / 3
	if cap(p.buf) < n {
		p.buf = make([]byte, n)
	}
	gray := p.buf[:n]
	if _, err := io.ReadFull(p.br, gray); err != nil {
		return fmt.Errorf("%w: pixels: %v", errPNM, err)
	}
	for x, g := range gray {
		row[3*x], row[3*x+1], row[3*x+2] = g, g, g
	}
	return nil
}

// resizeRows resizes the w×h image whose rows come from rows to dw×dh,
// reduced less than 3× (no box pre-shrink): as resize does, rows first, but
// each output row as soon as its input rows have arrived, from a ring of
// the last few.
func resizeRows(rows *pnmRows, w, h, dw, dh int, f filter) (*rgbImage, error) {
	dst := newRGB(dw, dh)
	var vt taps
	if dh == h { // width only: each row is its own single tap
		vt = taps{N: 1, Start: make([]int, h), Weight: make([]int32, h)}
		for y := range h {
			vt.Start[y], vt.Weight[y] = y, 1<<weightBits
		}
	} else {
		vt = makeTaps(h, dh, f)
	}
	var ht taps
	if dw != w {
		ht = makeTaps(w, dw, f)
	}
	ring := make([][]byte, vt.N)
	for i := range ring {
		ring[i] = make([]byte, 3*w)
	}
	acc := make([]int32, 3*w)
	mid := make([]byte, 3*w) // a row filtered vertically, before the horizontal pass
	next := 0                // the next input row to read
	for y := 0; y < dh; y++ {
		start := vt.Start[y]
		for ; next < start+vt.N; next++ {
			if err := rows.read(ring[next%vt.N]); err != nil {
				return nil, err
			}
		}
		out := dst.row(y)
		if dw != w {
			out = mid
		}
		resizeRowV(out, acc, func(i int) []byte { return ring[(start+i)%vt.N] }, vt.Weight[y*vt.N:y*vt.N+vt.N])
		if dw != w {
			resizeRowH(mid, dst.row(y), ht)
		}
	}
	// The windows end at the last row, but read to the end whatever the
	// filter: a short image is an error, as with readPNM.
	for ; next < h; next++ {
		if err := rows.read(ring[0]); err != nil {
			return nil, err
		}
	}
	return dst, nil
}

// pnmToken reads one whitespace-separated header token and the single
// whitespace byte after it (the last one precedes the pixels). Comments are
// skipped.
func pnmToken(br *bufio.Reader) (string, error) {
	var tok []byte
	for {
		c, err := br.ReadByte()
		if err != nil {
			return "", fmt.Errorf("%w: header: %v", errPNM, err)
		}
		switch {
		case c == '#' && len(tok) == 0:
			if _, err := br.ReadString('\n'); err != nil {
				return "", fmt.Errorf("%w: header: %v", errPNM, err)
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if len(tok) > 0 {
				return string(tok), nil
			}
		default:
			if len(tok) > 16 {
				return "", fmt.Errorf("%w: header token too long", errPNM)
			}
			tok = append(tok, c)
		}
	}
}

// ppmHeader is the binary PPM header for m; m.Pix is the body.
func ppmHeader(m *rgbImage) string {
	return fmt.Sprintf("P6\n%d %d\n255\n", m.W, m.H)
}

// toRGB converts a decoded image to rgbImage, flattening transparency onto
// white. The common layouts of PNG, WebP, TIFF and JPEG have fast paths; the
// rest go through color.Color (16-bit images, paletted, CMYK).
func toRGB(src image.Image) *rgbImage {
	b := src.Bounds()
	dst := newRGB(b.Dx(), b.Dy())
	switch s := src.(type) {
	case *image.YCbCr:
		for y := 0; y < dst.H; y++ {
			row := dst.row(y)
			for x := 0; x < dst.W; x++ {
				yi, ci := s.YOffset(b.Min.X+x, b.Min.Y+y), s.COffset(b.Min.X+x, b.Min.Y+y)
				row[3*x], row[3*x+1], row[3*x+2] = color.YCbCrToRGB(s.Y[yi], s.Cb[ci], s.Cr[ci])
			}
		}
	case *image.NRGBA:
		for y := 0; y < dst.H; y++ {
			row, in := dst.row(y), s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < dst.W; x++ {
				a := uint32(in[4*x+3])
				for c := 0; c < 3; c++ {
					row[3*x+c] = uint8((uint32(in[4*x+c])*a + 255*(255-a) + 127) / 255)
				}
			}
		}
	case *image.RGBA:
		for y := 0; y < dst.H; y++ {
			row, in := dst.row(y), s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < dst.W; x++ {
				a := in[4*x+3]
				for c := 0; c < 3; c++ {
					row[3*x+c] = in[4*x+c] + (255 - a) // premultiplied over white
				}
			}
		}
	case *image.Gray:
		for y := 0; y < dst.H; y++ {
			row, in := dst.row(y), s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < dst.W; x++ {
				row[3*x], row[3*x+1], row[3*x+2] = in[x], in[x], in[x]
			}
		}
	default:
		for y := 0; y < dst.H; y++ {
			row := dst.row(y)
			for x := 0; x < dst.W; x++ {
				r, g, bl, a := src.At(b.Min.X+x, b.Min.Y+y).RGBA() // premultiplied, 16-bit
				row[3*x] = uint8((r + 0xffff - a) >> 8)
				row[3*x+1] = uint8((g + 0xffff - a) >> 8)
				row[3*x+2] = uint8((bl + 0xffff - a) >> 8)
			}
		}
	}
	return dst
}
