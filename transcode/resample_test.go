package transcode

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestFitLongEdge(t *testing.T) {
	cases := []struct{ w, h, long, wantW, wantH int }{
		{4000, 3000, 2048, 2048, 1536},
		{3000, 4000, 2048, 1536, 2048},
		{6000, 4000, 2048, 2048, 1365},
		{1200, 800, 2048, 1200, 800}, // never enlarged
		{2048, 10, 400, 400, 2},
		{10000, 1, 400, 400, 1}, // at least one pixel
		{400, 400, 400, 400, 400},
	}
	for _, tc := range cases {
		if w, h := fitLongEdge(tc.w, tc.h, tc.long); w != tc.wantW || h != tc.wantH {
			t.Errorf("fitLongEdge(%d, %d, %d) = %d×%d, want %d×%d", tc.w, tc.h, tc.long, w, h, tc.wantW, tc.wantH)
		}
	}
}

// numbered is a w×h image whose pixel (x, y) holds (x, y, 7).
func numbered(w, h int) *rgbImage {
	m := newRGB(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			copy(m.Pix[3*(w*y+x):], []byte{byte(x), byte(y), 7})
		}
	}
	return m
}

// TestOrient checks every orientation against the EXIF definition: where the
// stored row 0 and column 0 end up when displayed.
func TestOrient(t *testing.T) {
	const W, H = 70, 67 // not square, larger than one tile on neither side
	src := numbered(W, H)
	// storedXY returns the stored pixel displayed at (x, y) of a dw×dh image.
	cases := []struct {
		o        int
		storedXY func(x, y, dw, dh int) (int, int)
	}{
		{1, func(x, y, dw, dh int) (int, int) { return x, y }},
		{2, func(x, y, dw, dh int) (int, int) { return dw - 1 - x, y }},
		{3, func(x, y, dw, dh int) (int, int) { return dw - 1 - x, dh - 1 - y }},
		{4, func(x, y, dw, dh int) (int, int) { return x, dh - 1 - y }},
		{5, func(x, y, dw, dh int) (int, int) { return y, x }},
		{6, func(x, y, dw, dh int) (int, int) { return y, dw - 1 - x }},
		{7, func(x, y, dw, dh int) (int, int) { return dh - 1 - y, dw - 1 - x }},
		{8, func(x, y, dw, dh int) (int, int) { return dh - 1 - y, x }},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.o), func(t *testing.T) {
			got := orient(src, tc.o)
			wantW, wantH := W, H
			if tc.o >= 5 {
				wantW, wantH = H, W
			}
			if got.W != wantW || got.H != wantH {
				t.Fatalf("size %d×%d, want %d×%d", got.W, got.H, wantW, wantH)
			}
			for y := 0; y < got.H; y++ {
				for x := 0; x < got.W; x++ {
					sx, sy := tc.storedXY(x, y, got.W, got.H)
					if c := got.at(x, y); int(c.R) != sx || int(c.G) != sy {
						t.Fatalf("displayed (%d,%d) shows stored (%d,%d), want (%d,%d)", x, y, c.R, c.G, sx, sy)
					}
				}
			}
		})
	}
}

func TestResize(t *testing.T) {
	cases := []struct{ w, h, dw, dh int }{
		{2500, 1875, 2048, 1536}, // DCT-reduced 12 MP to preview
		{2048, 1536, 400, 300},   // preview to thumb, with a box pre-shrink
		{3, 2, 1, 1},             // narrower than the filter
		{1, 1000, 1, 400},        // one column
		{1000, 1, 400, 1},        // one row
		{800, 600, 800, 600},     // nothing to do
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%dx%d-%dx%d", tc.w, tc.h, tc.dw, tc.dh), func(t *testing.T) {
			src := newRGB(tc.w, tc.h)
			for i := 0; i < len(src.Pix); i += 3 {
				copy(src.Pix[i:], []byte{200, 100, 30})
			}
			got := resize(src, tc.dw, tc.dh, catmullRom)
			if got.W != tc.dw || got.H != tc.dh {
				t.Fatalf("size %d×%d, want %d×%d", got.W, got.H, tc.dw, tc.dh)
			}
			// A flat colour stays exactly that colour: the weights sum to one.
			for i := 0; i < len(got.Pix); i += 3 {
				if !bytes.Equal(got.Pix[i:i+3], []byte{200, 100, 30}) {
					t.Fatalf("pixel %d is %v", i/3, got.Pix[i:i+3])
				}
			}
		})
	}
}

func TestReadPNM(t *testing.T) {
	cases := []struct {
		name    string
		data    string
		max     int64
		want    []byte
		wantErr string
	}{
		{name: "ppm", data: "P6\n2 1\n255\n\x01\x02\x03\x04\x05\x06", max: 10, want: []byte{1, 2, 3, 4, 5, 6}},
		{name: "pgm to rgb", data: "P5 2 1 255\n\x09\x0a", max: 10, want: []byte{9, 9, 9, 10, 10, 10}},
		{name: "comment", data: "P6\n# djpeg\n1 1\n255\n\x01\x02\x03", max: 10, want: []byte{1, 2, 3}},
		{name: "short pixels", data: "P6\n2 1\n255\n\x01\x02", max: 10, wantErr: "pixels"},
		{name: "over the limit", data: "P6\n100000 100000\n255\n", max: 1e9, wantErr: "pixel limit"},
		{name: "16-bit", data: "P6\n1 1\n65535\n\x00\x00\x00\x00\x00\x00", max: 10, wantErr: "maxval"},
		{name: "not pnm", data: "GIF89a\n", max: 10, wantErr: "magic"},
		{name: "empty", data: "", max: 10, wantErr: "header"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			img, err := readPNM(strings.NewReader(tc.data), tc.max)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one about %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(img.Pix, tc.want) {
				t.Errorf("pixels %v, want %v", img.Pix, tc.want)
			}
		})
	}
}

// TestReadPNMFit checks that resizing rows as they are read gives exactly
// what reading the whole image and resizing it gives, for colour and grey
// PNMs, and that a short image is still an error.
func TestReadPNMFit(t *testing.T) {
	cases := []struct{ w, h, dw, dh int }{
		{2500, 1875, 2048, 1536}, // 12 MP decoded at 5/8, to preview
		{2250, 1500, 2048, 1365}, // 24 MP decoded at 3/8
		{500, 400, 500, 300},     // height only
		{500, 400, 300, 400},     // width only
		{90, 60, 31, 21},         // nearly 3×
		{900, 600, 100, 66},      // over 3×: read whole, then resized
		{40, 30, 40, 30},         // nothing to do
	}
	for _, tc := range cases {
		for _, gray := range []bool{false, true} {
			t.Run(fmt.Sprintf("%dx%d-%dx%d-gray=%v", tc.w, tc.h, tc.dw, tc.dh, gray), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(tc.w), uint64(tc.h)))
				ch, magic := 3, "P6"
				if gray {
					ch, magic = 1, "P5"
				}
				body := make([]byte, ch*tc.w*tc.h)
				for i := range body {
					body[i] = byte(rng.IntN(256))
				}
				data := fmt.Sprintf("%s\n%d %d\n255\n", magic, tc.w, tc.h) + string(body)
				full, err := readPNM(strings.NewReader(data), 1<<30)
				if err != nil {
					t.Fatal(err)
				}
				want := resize(full, tc.dw, tc.dh, catmullRom)
				fit := func(w, h int) (int, int) { return tc.dw, tc.dh }
				got, err := readPNMFit(strings.NewReader(data), 1<<30, fit)
				if err != nil {
					t.Fatal(err)
				}
				if got.W != want.W || got.H != want.H || !bytes.Equal(got.Pix, want.Pix) {
					t.Fatalf("got %d×%d, want %d×%d; pixels equal: %v", got.W, got.H, want.W, want.H, bytes.Equal(got.Pix, want.Pix))
				}
				if _, err := readPNMFit(strings.NewReader(data[:len(data)-1]), 1<<30, fit); !errors.Is(err, errPNM) {
					t.Fatalf("short image: err %v, want errPNM", err)
				}
			})
		}
	}
}

// TestBoxShrink compares boxShrink with a plain average of each block,
// rounded, for block sizes on both sides of its fixed-point limit.
func TestBoxShrink(t *testing.T) {
	for _, f := range []int{2, 3, 5, 16, 64, 65, 130} {
		for _, fill := range []int{-1, 0, 255} { // noise, black, white
			src := newRGB(f*4+f-1, f*3+1)
			rng := rand.New(rand.NewPCG(uint64(f), 7))
			for i := range src.Pix {
				src.Pix[i] = byte(fill)
				if fill < 0 {
					src.Pix[i] = byte(rng.IntN(256))
				}
			}
			got := boxShrink(src, f)
			if got.W != 4 || got.H != 3 {
				t.Fatalf("f=%d: %d×%d, want 4×3", f, got.W, got.H)
			}
			n := f * f
			for y := range got.H {
				for x := range got.W {
					for c := range 3 {
						sum := 0
						for dy := range f {
							for dx := range f {
								sum += int(src.Pix[3*((y*f+dy)*src.W+x*f+dx)+c])
							}
						}
						if want := byte((sum + n/2) / n); got.Pix[3*(y*got.W+x)+c] != want {
							t.Fatalf("f=%d fill %d: pixel %d,%d channel %d = %d, want %d", f, fill, x, y, c, got.Pix[3*(y*got.W+x)+c], want)
						}
					}
				}
			}
		}
	}
}

// TestResizeMatchesReference checks the unrolled filter loops against the
// plain one (each output the weighted sum of its taps, one at a time) on
// noise, for tap counts on both sides of the special cases.
func TestResizeMatchesReference(t *testing.T) {
	cases := []struct{ w, h, dw, dh int }{
		{2500, 40, 2048, 33}, // 5 taps
		{2250, 30, 2048, 27}, // 5 taps
		{682, 512, 400, 300}, // 7 taps
		{300, 290, 101, 100}, // 12 taps
		{64, 64, 63, 62},     // 5 taps, windows slid at the edges
		{7, 900, 5, 400},     // narrow
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%dx%d-%dx%d", tc.w, tc.h, tc.dw, tc.dh), func(t *testing.T) {
			src := newRGB(tc.w, tc.h)
			rng := rand.New(rand.NewPCG(uint64(tc.w), uint64(tc.dw)))
			for i := range src.Pix {
				src.Pix[i] = byte(rng.IntN(256))
			}
			vt, ht := makeTaps(tc.h, tc.dh, catmullRom), makeTaps(tc.w, tc.dw, catmullRom)
			mid := newRGB(tc.w, tc.dh)
			for y := range tc.dh {
				for j := range 3 * tc.w {
					var sum int32
					for i := range vt.N {
						sum += int32(src.Pix[(vt.Start[y]+i)*3*tc.w+j]) * vt.Weight[y*vt.N+i]
					}
					mid.Pix[y*3*tc.w+j] = clamp8(sum)
				}
			}
			want := newRGB(tc.dw, tc.dh)
			for y := range tc.dh {
				for x := range tc.dw {
					for c := range 3 {
						var sum int32
						for i := range ht.N {
							sum += int32(mid.Pix[y*3*tc.w+3*(ht.Start[x]+i)+c]) * ht.Weight[x*ht.N+i]
						}
						want.Pix[3*(y*tc.dw+x)+c] = clamp8(sum)
					}
				}
			}
			if got := resize(src, tc.dw, tc.dh, catmullRom); !bytes.Equal(got.Pix, want.Pix) {
				t.Fatal("resize differs from the reference")
			}
		})
	}
}
