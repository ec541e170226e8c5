package transcode

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"

	"github.com/comsoc/acervo/catalog"
)

// Fuzz targets of issue #8. Their seeds run with every `go test`; scripts/soak --fuzz
// runs each for a while. A crasher the fuzzer finds goes to testdata/fuzz/FuzzX/ and
// stays there as a regression seed.

// sniffSeeds are the first bytes of each format SniffMedia knows, and near misses.
func sniffSeeds() [][]byte {
	ftyp := func(major string, compat ...string) []byte {
		b := []byte{0, 0, 0, byte(16 + 4*len(compat))}
		b = append(b, "ftyp"+major+"\x00\x00\x00\x00"...)
		for _, c := range compat {
			b = append(b, c...)
		}
		return b
	}
	ts := make([]byte, 188*3)
	for i := 0; i < len(ts); i += 188 {
		ts[i] = 0x47
	}
	return [][]byte{
		{},
		[]byte("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00"),
		[]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
		[]byte("II*\x00\x08\x00\x00\x00"),
		[]byte("MM\x00*\x00\x00\x00\x08"),
		[]byte("RIFF\x00\x00\x00\x00WEBPVP8 "),
		[]byte("RIFF\x00\x00\x00\x00WAVEfmt "),
		[]byte("RIFF\x00\x00\x00\x00AVI LIST"),
		ftyp("heic", "mif1", "heic"),
		ftyp("avif", "mif1", "avif"),
		ftyp("isom", "isom", "avc1"),
		ftyp("M4A ", "M4A ", "mp42"),
		ftyp("qt  ", "qt  "),
		[]byte("\x00\x00\x00\x08wide\x00\x00\x00\x10mdat"),
		[]byte("\x1A\x45\xDF\xA3\x9F\x42\x86\x81\x01\x42\xF7\x81\x01\x42\x82\x84webm"),
		ts,
		[]byte("\x00\x00\x01\xBA\x44\x00\x04\x00\x04\x01"),
		[]byte("ID3\x04\x00\x00\x00\x00\x00\x00fLaC"),
		[]byte("\xFF\xFB\x90\x64\x00"),
		[]byte("\xFF\xF1\x50\x80\x02\x1F\xFC"),
		[]byte("OggS\x00\x02"),
		[]byte("#!AMR\n"),
		[]byte("caff\x00\x01\x00\x00"),
		[]byte("FORM\x00\x00\x00\x00AIFF"),
		[]byte("%PDF-1.7\n"),
		[]byte("<!DOCTYPE html><html>"),
		[]byte("#EXTM3U\n#EXT-X-VERSION:3\n"),
		[]byte("PK\x03\x04"),
	}
}

// FuzzSniffMedia: whatever the bytes, SniffMedia answers from the first 512 only, with a
// kind and MIME type from its own tables, agreeing with SniffPhoto on photos.
func FuzzSniffMedia(f *testing.F) {
	for _, s := range sniffSeeds() {
		f.Add(s)
	}
	known := map[string]string{}
	for _, s := range photoSignatures {
		known[s.MIME] = catalog.KindPhoto
	}
	for _, s := range mediaSignatures {
		known[s.MIME] = s.Kind
	}
	f.Fuzz(func(t *testing.T, head []byte) {
		kind, mime, ok := SniffMedia(head)
		if !ok {
			if kind != "" || mime != "" {
				t.Fatalf("refused but kind %q mime %q", kind, mime)
			}
		} else if known[mime] != kind {
			t.Fatalf("SniffMedia = %q %q: not a pair of its tables", kind, mime)
		}
		// Later bytes never change the answer: the upload path hands over exactly sniffLen.
		longer := append(head[:min(len(head), sniffLen):min(len(head), sniffLen)], bytes.Repeat([]byte{0xA5}, 600)...)
		if len(head) >= sniffLen {
			k2, m2, ok2 := SniffMedia(longer)
			if k2 != kind || m2 != mime || ok2 != ok {
				t.Fatalf("bytes after %d changed the answer: %q %q %v, then %q %q %v", sniffLen, kind, mime, ok, k2, m2, ok2)
			}
		}
		pm, pok := SniffPhoto(head[:min(len(head), sniffLen)])
		if pok != (ok && kind == catalog.KindPhoto) || (pok && pm != mime) {
			t.Fatalf("SniffPhoto = %q %v, SniffMedia = %q %q %v", pm, pok, kind, mime, ok)
		}
	})
}

// fuzzMaxPixels is the pixel limit FuzzDecodeConfig decodes under: small, so that the
// fuzzer reaches it with tiny headers.
const fuzzMaxPixels = 64 * 64

// FuzzDecodeConfig feeds bytes to the Go decoders RenderPhoto's child uses (PNG, TIFF,
// WebP, and JPEG in CMYK) as decodeGo runs them. The size a header declares is checked
// before any pixel is decoded: over the limit is ErrTooLarge and the decoder is never
// called; a decoded image has exactly the declared size, within the limit.
func FuzzDecodeConfig(f *testing.F) {
	img := image.NewNRGBA(image.Rect(0, 0, 7, 5))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 37)
	}
	var pngBuf, tiffBuf, jpgBuf bytes.Buffer
	if err := png.Encode(&pngBuf, img); err != nil {
		f.Fatal(err)
	}
	if err := tiff.Encode(&tiffBuf, img, nil); err != nil {
		f.Fatal(err)
	}
	cmyk := image.NewCMYK(image.Rect(0, 0, 9, 4))
	cmyk.Set(1, 1, color.CMYK{C: 200})
	if err := jpeg.Encode(&jpgBuf, cmyk, nil); err != nil {
		f.Fatal(err)
	}
	big := image.NewGray(image.Rect(0, 0, 100, 50)) // 5,000 px: over fuzzMaxPixels
	var bigBuf bytes.Buffer
	if err := png.Encode(&bigBuf, big); err != nil {
		f.Fatal(err)
	}
	f.Add(pngBuf.Bytes())
	f.Add(tiffBuf.Bytes())
	f.Add(jpgBuf.Bytes())
	f.Add(bigBuf.Bytes())
	// A WebP (lossless, 1×1) and a PNG header claiming 65535×65535 with no pixels.
	f.Add([]byte("RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"))
	f.Add(append(append([]byte(nil), pngBuf.Bytes()[:16]...), "\x00\x00\xff\xff\x00\x00\xff\xff\x08\x02\x00\x00\x00"...))

	decoders := map[string]struct {
		format string
		config func(io.Reader) (image.Config, error)
		decode func(io.Reader) (image.Image, error)
	}{
		"image/png":  {"PNG", png.DecodeConfig, png.Decode},
		"image/tiff": {"TIFF", tiff.DecodeConfig, tiff.Decode},
		"image/webp": {"WebP", webp.DecodeConfig, webp.Decode},
		"image/jpeg": {"JPEG", jpeg.DecodeConfig, jpeg.Decode},
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		mime, ok := SniffPhoto(data)
		d, known := decoders[mime]
		if !ok || !known {
			return
		}
		path := filepath.Join(dir, "photo")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		var declared image.Config
		var configOK bool
		config := func(r io.Reader) (image.Config, error) {
			c, err := d.config(r)
			declared, configOK = c, err == nil
			return c, err
		}
		decode := func(r io.Reader) (image.Image, error) {
			if !configOK || declared.Width <= 0 || declared.Height <= 0 ||
				int64(declared.Width)*int64(declared.Height) > fuzzMaxPixels {
				t.Fatalf("decoder called for a header of %d×%d (config ok %v)", declared.Width, declared.Height, configOK)
			}
			return d.decode(r)
		}
		got, err := decodeGo(path, d.format, config, decode, fuzzMaxPixels)
		tooLarge := configOK && int64(declared.Width)*int64(declared.Height) > fuzzMaxPixels
		if tooLarge != errors.Is(err, ErrTooLarge) {
			t.Fatalf("header %d×%d, limit %d: err %v", declared.Width, declared.Height, fuzzMaxPixels, err)
		}
		if err != nil {
			if !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("error of no kind: %v", err)
			}
			return
		}
		if got.FullW != declared.Width || got.FullH != declared.Height || got.Img.W != got.FullW || got.Img.H != got.FullH {
			t.Fatalf("declared %d×%d, decoded %d×%d (image %d×%d)", declared.Width, declared.Height, got.FullW, got.FullH, got.Img.W, got.Img.H)
		}
		if want := got.Img.W * got.Img.H * 3; len(got.Img.Pix) < want {
			t.Fatalf("%d×%d image with %d bytes of pixels", got.Img.W, got.Img.H, len(got.Img.Pix))
		}
	})
}
