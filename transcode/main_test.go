package transcode

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/image/tiff"
)

// TestMain lets the test binary serve as RenderPhoto's decoding child.
func TestMain(m *testing.M) {
	if RunChild() {
		return
	}
	os.Exit(m.Run())
}

// requireTools skips the test when a program is missing, or fails it under
// CI=true, where every tool must be installed.
func requireTools(tb testing.TB, names ...string) {
	tb.Helper()
	for _, name := range names {
		if _, err := exec.LookPath(name); err != nil {
			if os.Getenv("CI") == "true" {
				tb.Fatalf("%s is required in CI: %v", name, err)
			}
			tb.Skipf("%s not installed: %v", name, err)
		}
	}
}

// Quadrant colours of the test picture as stored: red top left, green top
// right, blue bottom left, white bottom right.
var (
	red   = color.RGBA{230, 20, 20, 255}
	green = color.RGBA{20, 200, 40, 255}
	blue  = color.RGBA{20, 40, 220, 255}
	white = color.RGBA{250, 250, 250, 255}
)

// drawPhoto draws a w×h picture with four solid quadrants (so orientation
// can be read from the corners), a gradient band and a circle across the
// middle, and light noise so it compresses like a photo.
func drawPhoto(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(1, 2))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := white
			switch {
			case x < w/2 && y < h/2:
				c = red
			case y < h/2:
				c = green
			case x < w/2:
				c = blue
			}
			if y > h*2/5 && y < h*3/5 { // gradient band
				v := uint8(255 * x / w)
				c = color.RGBA{v, uint8(255 - int(v)), 128, 255}
			}
			if dx, dy := x-w/2, y-h/2; dx*dx+dy*dy < (h/8)*(h/8) {
				c = color.RGBA{250, 200, 0, 255}
			}
			n := uint8(rng.IntN(9))
			img.SetRGBA(x, y, color.RGBA{sat(c.R, n), sat(c.G, n), sat(c.B, n), 255})
		}
	}
	return img
}

func sat(v, n uint8) uint8 {
	if int(v)+int(n) > 255 {
		return v - n
	}
	return v + n
}

// writeTestPhoto writes img in format ("jpeg", "png", "tiff", "webp" or
// "heic") to dir/name, without an extension like an original in storage.
func writeTestPhoto(tb testing.TB, dir, name, format string, img image.Image) string {
	tb.Helper()
	path := filepath.Join(dir, name)
	var buf bytes.Buffer
	var err error
	switch format {
	case "jpeg":
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90})
	case "png":
		err = png.Encode(&buf, img)
	case "tiff":
		err = tiff.Encode(&buf, img, &tiff.Options{Compression: tiff.Deflate})
	case "webp", "heic":
		src := filepath.Join(tb.TempDir(), "src.png")
		if err := os.WriteFile(src, encodePNG(tb, img), 0o644); err != nil {
			tb.Fatal(err)
		}
		out := path + "." + format // the tools choose the format by suffix
		var cmd *exec.Cmd
		if format == "webp" {
			requireTools(tb, "ffmpeg")
			cmd = exec.Command("ffmpeg", "-v", "error", "-y", "-i", src, "-c:v", "libwebp", "-quality", "90", out)
		} else {
			requireTools(tb, "heif-enc")
			cmd = exec.Command("heif-enc", "-q", "80", "-p", "preset=ultrafast", "-o", out, src)
		}
		if b, err := cmd.CombinedOutput(); err != nil {
			tb.Fatalf("%v: %v\n%s", cmd.Args, err, b)
		}
		if err := os.Rename(out, path); err != nil {
			tb.Fatal(err)
		}
		return path
	default:
		tb.Fatalf("unknown format %q", format)
	}
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

func encodePNG(tb testing.TB, img image.Image) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// exiftoolWrite writes tags with the exiftool command line, e.g.
// "-Orientation#=6".
func exiftoolWrite(tb testing.TB, path string, args ...string) {
	tb.Helper()
	requireTools(tb, "exiftool")
	cmd := exec.Command("exiftool", append(append([]string{"-q", "-overwrite_original"}, args...), path)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("%v: %v\n%s", cmd.Args, err, b)
	}
}

// newExifTool starts an ExifTool closed at the end of the test.
func newExifTool(tb testing.TB) *ExifTool {
	tb.Helper()
	requireTools(tb, "exiftool")
	et, err := NewExifTool(ExifToolConfig{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { et.Close() })
	return et
}

// scratchFiles lists the names in dir.
func scratchFiles(tb testing.TB, dir string) []string {
	tb.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// decodeJPEGFile decodes a rendition for assertions.
func decodeJPEGFile(tb testing.TB, path string) image.Image {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	img, err := jpeg.Decode(f)
	if err != nil {
		tb.Fatalf("rendition %s: %v", path, err)
	}
	return img
}

// near reports whether two colours are within tol on every channel.
func near(a, b color.Color, tol int) bool {
	ar, ag, ab, _ := a.RGBA()
	br, bg, bb, _ := b.RGBA()
	d := func(x, y uint32) bool { v := int(x>>8) - int(y>>8); return v >= -tol && v <= tol }
	return d(ar, br) && d(ag, bg) && d(ab, bb)
}

// checkRefused asserts that a render refused its file for good: err wraps
// want, is permanent, says message, and left nothing in scratch.
func checkRefused(t *testing.T, err, want error, message, scratch string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error %v, want %v", err, want)
	}
	if !IsPermanent(err) {
		t.Errorf("IsPermanent(%v) = false", err)
	}
	if !strings.Contains(err.Error(), message) {
		t.Errorf("error %q does not say %q", err, message)
	}
	if files := scratchFiles(t, scratch); len(files) > 0 {
		t.Errorf("ScratchDir holds %v after a failure", files)
	}
}
