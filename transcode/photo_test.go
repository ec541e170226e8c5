package transcode

import (
	"crypto/rand"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func photoConfig(t *testing.T) PhotoConfig {
	t.Helper()
	requireTools(t, "djpeg", "cjpeg", "exiftool")
	return PhotoConfig{ScratchDir: t.TempDir()}
}

// corners samples the displayed corners of img, inset by a tenth of each
// side: top left, top right, bottom left, bottom right.
func corners(img image.Image) [4]color.Color {
	b := img.Bounds()
	dx, dy := b.Dx()/10, b.Dy()/10
	return [4]color.Color{
		img.At(b.Min.X+dx, b.Min.Y+dy), img.At(b.Max.X-1-dx, b.Min.Y+dy),
		img.At(b.Min.X+dx, b.Max.Y-1-dy), img.At(b.Max.X-1-dx, b.Max.Y-1-dy),
	}
}

// checkPhoto asserts the renditions' sizes and the displayed corners of
// both files, and that they are the only files in ScratchDir.
func checkPhoto(t *testing.T, cfg PhotoConfig, info PhotoInfo, previewW, previewH, thumbW, thumbH int, want [4]color.Color) {
	t.Helper()
	if got, want := len(info.Renditions), 2; got != want {
		t.Fatalf("got %d renditions, want %d", got, want)
	}
	sizes := map[string][2]int{"preview.jpg": {previewW, previewH}, "thumb.jpg": {thumbW, thumbH}}
	var paths []string
	for _, r := range info.Renditions {
		paths = append(paths, filepath.Base(r.Path))
		if got, want := r.MIME, "image/jpeg"; got != want {
			t.Errorf("%s: MIME %q, want %q", r.Name, got, want)
		}
		img := decodeJPEGFile(t, r.Path)
		size := sizes[r.Name]
		if got := [2]int{img.Bounds().Dx(), img.Bounds().Dy()}; got != size || r.Width != size[0] || r.Height != size[1] {
			t.Errorf("%s: file %v, reported %d×%d, want %v", r.Name, got, r.Width, r.Height, size)
		}
		for i, c := range corners(img) {
			if !near(c, want[i], 40) {
				t.Errorf("%s: corner %d is %v, want %v", r.Name, i, c, want[i])
			}
		}
	}
	files := scratchFiles(t, cfg.ScratchDir)
	slices.Sort(files)
	slices.Sort(paths)
	if !slices.Equal(files, paths) {
		t.Errorf("ScratchDir holds %v, want only the renditions %v", files, paths)
	}
}

func TestRenderPhotoFormats(t *testing.T) {
	cfg := photoConfig(t)
	et := newExifTool(t)
	upright := [4]color.Color{red, green, blue, white}
	cases := []struct {
		format                 string
		w, h                   int
		previewW, previewH     int
		thumbW, thumbH         int
		tools                  []string
		orientation            string // EXIF orientation to write, if any
		wantOrientation        int
		displayedW, displayedH int
		wantCorners            [4]color.Color
	}{
		{format: "jpeg", w: 3000, h: 2000, previewW: 2048, previewH: 1365, thumbW: 400, thumbH: 267, displayedW: 3000, displayedH: 2000, wantCorners: upright},
		{format: "jpeg", w: 1200, h: 800, previewW: 1200, previewH: 800, thumbW: 400, thumbH: 267, displayedW: 1200, displayedH: 800, wantCorners: upright},
		{format: "jpeg", w: 300, h: 200, previewW: 300, previewH: 200, thumbW: 300, thumbH: 200, displayedW: 300, displayedH: 200, wantCorners: upright},
		{format: "png", w: 2400, h: 1600, previewW: 2048, previewH: 1365, thumbW: 400, thumbH: 267, displayedW: 2400, displayedH: 1600, wantCorners: upright},
		{format: "tiff", w: 800, h: 1200, previewW: 800, previewH: 1200, thumbW: 267, thumbH: 400, displayedW: 800, displayedH: 1200, wantCorners: upright},
		{format: "webp", w: 1200, h: 800, previewW: 1200, previewH: 800, thumbW: 400, thumbH: 267, displayedW: 1200, displayedH: 800, wantCorners: upright},
		{format: "heic", w: 1200, h: 800, previewW: 1200, previewH: 800, thumbW: 400, thumbH: 267, displayedW: 1200, displayedH: 800, wantCorners: upright, tools: []string{"heif-convert"}},
		// libheif applies the HEIF transforms (irot/imir) itself; an EXIF
		// orientation in a HEIC is informational and must not turn it again.
		{format: "heic", w: 1200, h: 800, previewW: 1200, previewH: 800, thumbW: 400, thumbH: 267, displayedW: 1200, displayedH: 800, wantCorners: upright, tools: []string{"heif-convert"}, orientation: "6", wantOrientation: 6},
		// Orientation applies to PNG's EXIF too.
		{format: "png", w: 1200, h: 800, previewW: 800, previewH: 1200, thumbW: 267, thumbH: 400, displayedW: 800, displayedH: 1200, wantCorners: [4]color.Color{blue, red, white, green}, orientation: "6", wantOrientation: 6},
	}
	for _, tc := range cases {
		name := fmt.Sprintf("%s/%dx%d", tc.format, tc.w, tc.h)
		if tc.orientation != "" {
			name += "/orientation" + tc.orientation
		}
		t.Run(name, func(t *testing.T) {
			requireTools(t, tc.tools...)
			cfg := cfg
			cfg.ScratchDir = t.TempDir()
			path := writeTestPhoto(t, t.TempDir(), "original", tc.format, drawPhoto(tc.w, tc.h))
			if tc.orientation != "" {
				exiftoolWrite(t, path, "-Orientation#="+tc.orientation)
			}
			info, err := RenderPhoto(t.Context(), cfg, et, path)
			if err != nil {
				t.Fatal(err)
			}
			if info.Width != tc.displayedW || info.Height != tc.displayedH {
				t.Errorf("size %d×%d, want %d×%d", info.Width, info.Height, tc.displayedW, tc.displayedH)
			}
			if got, want := info.Orientation, tc.wantOrientation; got != want {
				t.Errorf("Orientation %d, want %d", got, want)
			}
			checkPhoto(t, cfg, info, tc.previewW, tc.previewH, tc.thumbW, tc.thumbH, tc.wantCorners)
		})
	}
}

// TestRenderPhotoOrientation writes each EXIF orientation into the same JPEG
// and reads the corners of the result: the stored picture has red, green,
// blue and white quadrants clockwise from the top left.
func TestRenderPhotoOrientation(t *testing.T) {
	cfg := photoConfig(t)
	et := newExifTool(t)
	src := writeTestPhoto(t, t.TempDir(), "stored", "jpeg", drawPhoto(1200, 800))
	orig, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	R, G, B, W := red, green, blue, white
	cases := []struct {
		orientation int
		corners     [4]color.Color // displayed: top left, top right, bottom left, bottom right
	}{
		{1, [4]color.Color{R, G, B, W}},
		{2, [4]color.Color{G, R, W, B}}, // mirrored horizontally
		{3, [4]color.Color{W, B, G, R}}, // rotated 180°
		{4, [4]color.Color{B, W, R, G}}, // mirrored vertically
		{5, [4]color.Color{R, B, G, W}}, // transposed
		{6, [4]color.Color{B, R, W, G}}, // rotated 90° clockwise
		{7, [4]color.Color{W, G, B, R}}, // transversed
		{8, [4]color.Color{G, W, R, B}}, // rotated 90° counter-clockwise
	}
	for _, tc := range cases {
		t.Run("orientation"+strconv.Itoa(tc.orientation), func(t *testing.T) {
			cfg := cfg
			cfg.ScratchDir = t.TempDir()
			path := filepath.Join(t.TempDir(), "original")
			if err := os.WriteFile(path, orig, 0o644); err != nil {
				t.Fatal(err)
			}
			exiftoolWrite(t, path, "-Orientation#="+strconv.Itoa(tc.orientation))
			info, err := RenderPhoto(t.Context(), cfg, et, path)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := info.Orientation, tc.orientation; got != want {
				t.Errorf("Orientation %d, want %d", got, want)
			}
			w, h, tw, th := 1200, 800, 400, 267
			if tc.orientation >= 5 {
				w, h, tw, th = h, w, th, tw
			}
			if info.Width != w || info.Height != h {
				t.Errorf("size %d×%d, want %d×%d", info.Width, info.Height, w, h)
			}
			checkPhoto(t, cfg, info, w, h, tw, th, tc.corners)
		})
	}
}

func TestRenderPhotoMetadata(t *testing.T) {
	cfg := photoConfig(t)
	et := newExifTool(t)
	path := writeTestPhoto(t, t.TempDir(), "original", "jpeg", drawPhoto(600, 400))
	exiftoolWrite(t, path,
		"-DateTimeOriginal=2025:03:14 09:26:53", "-SubSecTimeOriginal=250", "-OffsetTimeOriginal=-06:00",
		"-Make=Canon", "-Model=Canon EOS R6",
		"-GPSLatitude=19.432608", "-GPSLatitudeRef=N", "-GPSLongitude=99.133209", "-GPSLongitudeRef=W",
		"-GPSAltitude=2240", "-GPSAltitudeRef=0",
	)
	info, err := RenderPhoto(t.Context(), cfg, et, path)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2025, 3, 14, 9, 26, 53, 250_000_000, time.FixedZone("", -6*3600))
	if info.CapturedAt == nil || !info.CapturedAt.Equal(want) {
		t.Errorf("CapturedAt %v, want %v", info.CapturedAt, want)
	} else if _, off := info.CapturedAt.Zone(); off != -6*3600 {
		t.Errorf("CapturedAt zone offset %d, want -6h", off)
	}
	if info.CameraMake != "Canon" || info.CameraModel != "Canon EOS R6" {
		t.Errorf("camera %q %q, want Canon, Canon EOS R6", info.CameraMake, info.CameraModel)
	}
	if g := info.GPS; g == nil || abs(g.Lat-19.432608) > 1e-6 || abs(g.Lon+99.133209) > 1e-6 || g.Alt == nil || abs(*g.Alt-2240) > 1e-6 {
		t.Errorf("GPS %+v, want 19.432608, -99.133209, 2240 m", g)
	}
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// pngBomb is a small PNG whose header declares w×h pixels.
func pngBomb(w, h uint32) []byte {
	chunk := func(typ string, data []byte) []byte {
		b := be32(uint32(len(data)))
		b = append(b, typ...)
		b = append(b, data...)
		return append(b, be32(crc32.ChecksumIEEE(append([]byte(typ), data...)))...)
	}
	ihdr := append(append(be32(w), be32(h)...), 8, 2, 0, 0, 0) // 8-bit RGB
	// A zlib stream of a few zero bytes: far too little for the image.
	idat := []byte{0x78, 0x9c, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01}
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, chunk("IHDR", ihdr)...)
	out = append(out, chunk("IDAT", idat)...)
	return append(out, chunk("IEND", nil)...)
}

func be32(v uint32) []byte { return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} }

func TestRenderPhotoRefuses(t *testing.T) {
	cfg := photoConfig(t)
	et := newExifTool(t)
	dir := t.TempDir()
	good := writeTestPhoto(t, dir, "good", "jpeg", drawPhoto(1200, 800))
	goodBytes, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	random := make([]byte, 4096)
	rand.Read(random)
	cases := []struct {
		name    string
		data    []byte
		want    error
		message string
	}{
		{name: "png bomb", data: pngBomb(30000, 30000), want: ErrTooLarge, message: "image is 30000×30000 (900 MP), over the 250 MP limit"},
		{name: "heic bomb", data: heifWithSizes([2]uint32{30000, 30000}), want: ErrTooLarge, message: "image is 30000×30000 (900 MP), over the 250 MP limit"},
		{name: "heic without image size", data: heifWithSizes(), want: ErrUnsupported, message: "HEIF"},
		{name: "truncated jpeg", data: goodBytes[:len(goodBytes)*6/10], want: ErrUnsupported, message: "corrupt or truncated JPEG"},
		{name: "random bytes", data: random, want: ErrUnsupported, message: "not a JPEG, PNG, TIFF, WebP or HEIC photo"},
		{name: "jpeg magic then garbage", data: append([]byte("\xFF\xD8\xFF\xE0"), random...), want: ErrUnsupported, message: "JPEG"},
		{name: "truncated png", data: encodePNG(t, drawPhoto(400, 300))[:5000], want: ErrUnsupported, message: "PNG"},
		{name: "empty", data: nil, want: ErrUnsupported, message: "unrecognised content"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := cfg
			cfg.ScratchDir = t.TempDir()
			path := filepath.Join(t.TempDir(), "original")
			if err := os.WriteFile(path, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err := RenderPhoto(t.Context(), cfg, et, path)
			t.Logf("%v in %v", err, time.Since(start).Round(time.Millisecond))
			checkRefused(t, err, tc.want, tc.message, cfg.ScratchDir)
		})
	}
}

func TestRenderPhotoTimeoutKillsChild(t *testing.T) {
	cfg := photoConfig(t)
	cfg.Timeout = time.Millisecond
	et := newExifTool(t)
	path := writeTestPhoto(t, t.TempDir(), "original", "jpeg", drawPhoto(3000, 2000))
	_, err := RenderPhoto(t.Context(), cfg, et, path)
	if err == nil {
		t.Fatal("rendered within 1ms; want a timeout")
	}
	if IsPermanent(err) {
		t.Errorf("a timeout is permanent: %v", err)
	}
	if !strings.Contains(err.Error(), "longer than 1ms") {
		t.Errorf("error %q does not say it timed out", err)
	}
	if files := scratchFiles(t, cfg.ScratchDir); len(files) > 0 {
		t.Errorf("ScratchDir holds %v after a timeout", files)
	}
}

// A child that runs out of memory is a crash: retryable, reported with its
// stderr tail but no goroutine dump, and tidied up.
func TestRenderPhotoMemoryLimit(t *testing.T) {
	cfg := photoConfig(t)
	cfg.MemoryLimit = 64 << 20
	et := newExifTool(t)
	path := writeTestPhoto(t, t.TempDir(), "original", "png", drawPhoto(4000, 3000))
	_, err := RenderPhoto(t.Context(), cfg, et, path)
	t.Logf("%v", err)
	if err == nil {
		t.Fatal("rendered a 12 MP PNG in 64 MiB of address space")
	}
	if IsPermanent(err) {
		t.Errorf("an out-of-memory crash is permanent: %v", err)
	}
	if strings.Contains(err.Error(), "goroutine ") {
		t.Errorf("error carries a goroutine dump: %v", err)
	}
	if files := scratchFiles(t, cfg.ScratchDir); len(files) > 0 {
		t.Errorf("ScratchDir holds %v after a crash", files)
	}
}

// An Executable that is not a decoding child fails the photo, retryably and
// tidily, whatever it prints.
func TestRenderPhotoWrongExecutable(t *testing.T) {
	cfg := photoConfig(t)
	et := newExifTool(t)
	path := writeTestPhoto(t, t.TempDir(), "original", "jpeg", drawPhoto(120, 80))
	cases := []struct{ name, exe, want string }{
		{"prints something else", "/bin/echo", "unreadable response"},
		{"fails", "/bin/false", "exit status 1"},
		{"missing", filepath.Join(t.TempDir(), "acervo"), "no such file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := cfg
			cfg.Executable = tc.exe
			_, err := RenderPhoto(t.Context(), cfg, et, path)
			if err == nil || IsPermanent(err) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want a retryable one saying %q", err, tc.want)
			}
			if files := scratchFiles(t, cfg.ScratchDir); len(files) > 0 {
				t.Errorf("ScratchDir holds %v", files)
			}
		})
	}
}

func TestPhotoConfigValidation(t *testing.T) {
	cases := []struct {
		name string
		cfg  PhotoConfig
	}{
		{"no ScratchDir", PhotoConfig{}},
		{"ScratchDir missing", PhotoConfig{ScratchDir: filepath.Join(t.TempDir(), "nope")}},
		{"negative timeout", PhotoConfig{ScratchDir: t.TempDir(), Timeout: -time.Second}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := RenderPhoto(t.Context(), tc.cfg, nil, "/nonexistent"); err == nil {
				t.Fatal("RenderPhoto accepted the config")
			}
		})
	}
	cfg := PhotoConfig{ScratchDir: t.TempDir()}
	if err := cfg.withDefaults(); err != nil {
		t.Fatal(err)
	}
	if cfg.MaxPixels != 250_000_000 || cfg.MemoryLimit != 3<<30 || cfg.Timeout != 2*time.Minute || cfg.Executable == "" {
		t.Errorf("defaults %+v", cfg)
	}
}
