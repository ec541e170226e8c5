package transcode

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"
)

// Programs the decoding child runs, from PATH. They inherit its memory limit
// and process group, so the parent's timeout kills them too.
const (
	djpegProgram       = "djpeg"
	cjpegProgram       = "cjpeg"
	heifConvertProgram = "heif-convert"
)

// heifIntermediateQuality is the JPEG quality of the full-size image
// heif-convert writes for us: high, since it is compressed again at 85.
// A PNG would be lossless but takes twice as long to write.
const heifIntermediateQuality = 92

// decoded is a photo decoded for rendering.
type decoded struct {
	Img          *rgbImage // as stored, possibly reduced (DCT scaling, or a JPEG already resized to the first rendition), never below what it needs
	FullW, FullH int       // the full stored size
	Oriented     bool      // the decoder already turned it upright (HEIF irot/imir)
}

// tooLargeError says the image is over the pixel limit; it is checked from
// headers before any pixel is decoded.
func tooLargeError(w, h int, maxPixels int64) error {
	return &kindError{kind: ErrTooLarge, msg: fmt.Sprintf("image is %d×%d (%s MP), over the %s MP limit",
		w, h, megapixels(int64(w)*int64(h)), megapixels(maxPixels))}
}

func megapixels(n int64) string {
	mp := float64(n) / 1e6
	if mp >= 10 {
		return strconv.FormatFloat(mp, 'f', 0, 64)
	}
	return strconv.FormatFloat(mp, 'f', 1, 64)
}

func unsupportedf(format string, args ...any) error {
	return &kindError{kind: ErrUnsupported, msg: fmt.Sprintf(format, args...)}
}

// decodePhoto decodes the file at path, of the sniffed mime type, to at least
// minLong pixels on the long edge when it has that many. scratch is a path
// prefix for intermediate files, which are removed before returning.
func decodePhoto(ctx context.Context, path, mime, scratch string, minLong int, maxPixels int64) (decoded, error) {
	switch mime {
	case "image/jpeg":
		return decodeJPEG(ctx, path, minLong, maxPixels)
	case "image/heic":
		return decodeHEIF(ctx, path, scratch, minLong, maxPixels)
	case "image/png":
		return decodeGo(path, "PNG", png.DecodeConfig, png.Decode, maxPixels)
	case "image/tiff":
		return decodeGo(path, "TIFF", tiff.DecodeConfig, tiff.Decode, maxPixels)
	case "image/webp":
		return decodeGo(path, "WebP", webp.DecodeConfig, webp.Decode, maxPixels)
	}
	return decoded{}, unsupportedf("unsupported photo type %q", mime)
}

// djpegScale returns the numerator M of the smallest DCT scale M/8 at which
// an image with long edge long still has at least minLong pixels on it
// (libjpeg rounds scaled sizes up); 8 when the image is no larger.
func djpegScale(long, minLong int) int {
	for m := 1; m < 8; m++ {
		if (long*m+7)/8 >= minLong {
			return m
		}
	}
	return 8
}

// djpegArgs is the djpeg command line that decodes path at scale m/8 to a
// binary PPM (PGM for grayscale) on stdout. -maxscans bounds the work a
// hostile progressive JPEG can ask for. path must be absolute, so that it
// cannot read as an option.
func djpegArgs(path string, m int) []string {
	return []string{"-scale", strconv.Itoa(m) + "/8", "-maxscans", "1000", "-pnm", path}
}

// cjpegArgs is the cjpeg command line that compresses a PPM on stdin to out.
func cjpegArgs(out string, quality int) []string {
	return []string{"-quality", strconv.Itoa(quality), "-outfile", out}
}

// heifConvertArgs is the heif-convert command line that writes the primary
// image of in, upright, as a JPEG at out (whose .jpg suffix picks the format).
func heifConvertArgs(in, out string, quality int) []string {
	return []string{"--quiet", "-q", strconv.Itoa(quality), in, out}
}

// benignDjpegWarnings are libjpeg warnings (djpeg exit status 2) after which
// the image is still whole. Any other warning, such as "Premature end of JPEG
// file", means missing or garbled pixels: the photo is refused, since an
// archive should not keep a grey half-image as if it were the photo.
var benignDjpegWarnings = []string{
	"extraneous bytes before marker",
	"Invalid SOS parameters for sequential JPEG",
	"unknown JFIF revision number",
}

func decodeJPEG(ctx context.Context, path string, minLong int, maxPixels int64) (decoded, error) {
	f, err := os.Open(path)
	if err != nil {
		return decoded{}, err
	}
	cfg, err := jpeg.DecodeConfig(f)
	f.Close()
	if err != nil {
		return decoded{}, unsupportedf("not a readable JPEG: %v", err)
	}
	if int64(cfg.Width)*int64(cfg.Height) > maxPixels {
		return decoded{}, tooLargeError(cfg.Width, cfg.Height, maxPixels)
	}
	m := djpegScale(max(cfg.Width, cfg.Height), minLong)
	// The first rendition's size, as render works it out from the full size
	// (never enlarging the DCT-reduced image): djpeg's rows are resized to it
	// as they arrive, and render's own resize has nothing left to do.
	fit := func(w, h int) (int, int) {
		fw, fh := fitLongEdge(cfg.Width, cfg.Height, minLong)
		if fw > w || fh > h {
			return w, h
		}
		return fw, fh
	}
	img, err := runDjpeg(ctx, path, m, maxPixels, fit)
	var re *runError
	switch {
	case err == nil:
	case errors.As(err, &re) && re.ExitCode == 1 && strings.Contains(re.Stderr, "Unsupported color conversion"):
		// A colour space djpeg cannot write as PNM: Go's decoder knows CMYK/YCCK.
		return decodeGo(path, "JPEG", jpeg.DecodeConfig, jpeg.Decode, maxPixels)
	case errors.As(err, &re) && re.ExitCode == 2 && img != nil && onlyBenignWarnings(re.Stderr):
		// Whole image despite the warnings.
	case errors.As(err, &re) && re.ExitCode >= 1:
		return decoded{}, unsupportedf("corrupt or truncated JPEG: %s", firstLine([]byte(re.Stderr)))
	case errors.Is(err, errPNM):
		return decoded{}, unsupportedf("corrupt JPEG: djpeg output: %v", err)
	default:
		return decoded{}, err // killed, or could not start: not the file's fault
	}
	return decoded{Img: img, FullW: cfg.Width, FullH: cfg.Height}, nil
}

func onlyBenignWarnings(stderr string) bool {
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		benign := false
		for _, w := range benignDjpegWarnings {
			benign = benign || strings.Contains(line, w)
		}
		if !benign {
			return false
		}
	}
	return true
}

// runDjpeg decodes path at scale m/8, reading djpeg's PPM from a pipe as it
// is written (an OS pipe handed to djpeg, so no goroutine copies it) and
// resizing it to fit's size on the way (see readPNMFit). The image is
// returned even when djpeg exits with warnings (status 2), for the caller
// to judge.
func runDjpeg(ctx context.Context, path string, m int, maxPixels int64, fit func(w, h int) (int, int)) (*rgbImage, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer pr.Close()
	p, err := startCommand(ctx, command{Path: djpegProgram, Args: djpegArgs(path, m), Env: childEnv(), Stdout: pw})
	pw.Close() // djpeg holds the write end now; EOF comes when it exits
	if err != nil {
		return nil, err
	}
	img, perr := readPNMFit(pr, maxPixels, fit)
	pr.Close() // unblocks djpeg (SIGPIPE) if we stopped reading early
	_, werr := p.wait()
	var re *runError
	switch {
	case werr != nil && (perr == nil || errors.As(werr, &re) && re.ExitCode >= 1):
		return img, werr // djpeg's own verdict, with its stderr
	case perr != nil:
		return nil, perr
	}
	return img, nil
}

func decodeHEIF(ctx context.Context, path, scratch string, minLong int, maxPixels int64) (decoded, error) {
	f, err := os.Open(path)
	if err != nil {
		return decoded{}, err
	}
	w, h, err := heifSize(f)
	f.Close()
	if err != nil {
		return decoded{}, unsupportedf("not a readable HEIF image: %v", err)
	}
	if int64(w)*int64(h) > maxPixels {
		return decoded{}, tooLargeError(w, h, maxPixels)
	}
	tmp := scratch + "heif.jpg"
	// heif-convert names its outputs tmp, or heif-1.jpg, heif-2.jpg… when
	// the file holds several images; remove whatever it wrote.
	defer func() {
		matches, _ := filepath.Glob(globEscape(scratch) + "heif*")
		for _, p := range matches {
			os.Remove(p)
		}
	}()
	if _, err := runCommand(ctx, command{Path: heifConvertProgram, Args: heifConvertArgs(path, tmp, heifIntermediateQuality), Env: childEnv()}); err != nil {
		var re *runError
		if errors.As(err, &re) && re.ExitCode >= 1 {
			return decoded{}, unsupportedf("corrupt or unsupported HEIF image: %s", firstLine([]byte(re.Stderr)))
		}
		return decoded{}, err
	}
	if _, err := os.Stat(tmp); err != nil {
		if first := scratch + "heif-1.jpg"; fileExists(first) {
			tmp = first
		} else {
			return decoded{}, unsupportedf("heif-convert wrote no image")
		}
	}
	d, err := decodeJPEG(ctx, tmp, minLong, maxPixels)
	if err != nil {
		return decoded{}, fmt.Errorf("decoding heif-convert output: %w", err)
	}
	d.Oriented = true
	return d, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// decodeGo decodes with a Go decoder after checking the header size.
func decodeGo(path, format string, config func(io.Reader) (image.Config, error), decode func(io.Reader) (image.Image, error), maxPixels int64) (decoded, error) {
	f, err := os.Open(path)
	if err != nil {
		return decoded{}, err
	}
	defer f.Close()
	cfg, err := config(f)
	if err != nil {
		return decoded{}, unsupportedf("not a readable %s: %v", format, err)
	}
	if int64(cfg.Width)*int64(cfg.Height) > maxPixels {
		return decoded{}, tooLargeError(cfg.Width, cfg.Height, maxPixels)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return decoded{}, unsupportedf("%s of size %d×%d", format, cfg.Width, cfg.Height)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return decoded{}, err
	}
	img, err := decode(f)
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return decoded{}, unsupportedf("corrupt or truncated %s: %v", format, err)
		}
		return decoded{}, unsupportedf("corrupt or truncated %s: %v", format, err)
	}
	rgb := toRGB(img)
	return decoded{Img: rgb, FullW: rgb.W, FullH: rgb.H}, nil
}
