package transcode

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/comsoc/acervo/transcode/pdftest"
)

// pdfPage is one page of a testPDF.
type pdfPage struct {
	Box     string // MediaBox; default "0 0 612 792" (US letter, portrait)
	Extra   string // more page dictionary entries, e.g. "/Rotate 90"
	Content string // the content stream: PDF drawing operators
}

// testPDF is a PDF written by hand: one Helvetica font (not embedded), the
// pages, an Info dictionary and optional trailer entries.
type testPDF struct {
	Pages   []pdfPage
	Info    string // Info dictionary entries, e.g. "/Title (Boletín)"
	Trailer string // more trailer entries, e.g. an /Encrypt reference
	Objects []string
}

// bytes lays the PDF out with a correct cross-reference table.
func (p testPDF) bytes() []byte {
	// Objects: 1 catalog, 2 page tree, 3 font, 4 info, then per page a page
	// and its content stream, then p.Objects.
	first := 5
	kids := make([]string, len(p.Pages))
	for i := range p.Pages {
		kids[i] = fmt.Sprintf("%d 0 R", first+2*i)
	}
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(p.Pages)),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
		"<< " + p.Info + " >>",
	}
	for i, pg := range p.Pages {
		box := pg.Box
		if box == "" {
			box = "0 0 612 792"
		}
		objs = append(objs,
			fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [%s] %s /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>", box, pg.Extra, first+2*i+1),
			fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(pg.Content), pg.Content),
		)
	}
	objs = append(objs, p.Objects...)
	return pdftest.Write("/Info 4 0 R "+p.Trailer, objs...)
}

// The first page of a bulletin: a title line and a large black rectangle
// filling most of the lower half (x 72–540, y 72–396 in points from the
// bottom left).
const bulletinPage1 = "BT /F1 36 Tf 72 700 Td (Bolet\355n de prensa 42) Tj ET\n0 0 0 rg 72 72 468 324 re f"

// page1Dark and page1Light are where page 1 is black and white, in points.
var (
	page1Dark  = [2]float64{306, 234}
	page1Light = [2]float64{306, 520}
)

// bulletin is a one-page PDF with metadata: the Title is UTF-16 in NFD (the
// í decomposed) with spaces around it, the date has an offset.
func bulletin() testPDF {
	return testPDF{
		Pages: []pdfPage{{Content: bulletinPage1}},
		Info:  "/Title <FEFF0020" + utf16Hex("Boleti\u0301n de prensa 42") + "0020> /CreationDate (D:20250314092653-06'00') /Producer (Acervo tests)",
	}
}

func utf16Hex(s string) string {
	var b strings.Builder
	for _, r := range s {
		fmt.Fprintf(&b, "%04X", r) // the test strings are all in the BMP
	}
	return b.String()
}

func writeOriginal(tb testing.TB, data []byte) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "original") // no extension, like a stored original
	if err := os.WriteFile(path, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

func documentConfig(t *testing.T) DocumentConfig {
	t.Helper()
	requireTools(t, "pdfinfo", "pdftoppm", "cjpeg")
	return DocumentConfig{ScratchDir: t.TempDir()}
}

// pagePixel returns the grey level of img at a point of a page of pageW×pageH
// points (PDF coordinates: origin at the bottom left).
func pagePixel(img image.Image, pageW, pageH float64, pt [2]float64) int {
	b := img.Bounds()
	x := int(pt[0] / pageW * float64(b.Dx()))
	y := int((pageH - pt[1]) / pageH * float64(b.Dy()))
	r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
	return int((r + g + bl) / 3 >> 8)
}

// checkDocument asserts the renditions' sizes, that both decode as JPEG and
// show page 1 (black where its rectangle is, white elsewhere), and that they
// are the only files in ScratchDir.
func checkDocument(t *testing.T, cfg DocumentConfig, info DocumentInfo, previewW, previewH, thumbW, thumbH int) {
	t.Helper()
	if got, want := len(info.Renditions), 2; got != want {
		t.Fatalf("got %d renditions, want %d", got, want)
	}
	if info.Width != previewW || info.Height != previewH {
		t.Errorf("size %d×%d, want the preview's %d×%d", info.Width, info.Height, previewW, previewH)
	}
	sizes := map[string][2]int{"preview.jpg": {previewW, previewH}, "thumb.jpg": {thumbW, thumbH}}
	var names []string
	for i, r := range info.Renditions {
		if got, want := r.Name, documentRenditions[i].Name; got != want {
			t.Errorf("rendition %d is %q, want %q", i, got, want)
		}
		names = append(names, filepath.Base(r.Path))
		if filepath.Dir(r.Path) != cfg.ScratchDir {
			t.Errorf("%s written to %s, outside ScratchDir", r.Name, r.Path)
		}
		if got, want := r.MIME, "image/jpeg"; got != want {
			t.Errorf("%s: MIME %q, want %q", r.Name, got, want)
		}
		img := decodeJPEGFile(t, r.Path)
		size := sizes[r.Name]
		if got := [2]int{img.Bounds().Dx(), img.Bounds().Dy()}; got != size || r.Width != size[0] || r.Height != size[1] {
			t.Errorf("%s: file %v, reported %d×%d, want %v", r.Name, got, r.Width, r.Height, size)
		}
		if v := pagePixel(img, 612, 792, page1Dark); v > 40 {
			t.Errorf("%s: grey level %d inside page 1's black rectangle, want dark", r.Name, v)
		}
		if v := pagePixel(img, 612, 792, page1Light); v < 215 {
			t.Errorf("%s: grey level %d on page 1's blank paper, want white", r.Name, v)
		}
	}
	if files := scratchFiles(t, cfg.ScratchDir); strings.Join(files, " ") != strings.Join(names, " ") {
		t.Errorf("ScratchDir holds %v, want only the renditions %v", files, names)
	}
}

func TestRenderDocument(t *testing.T) {
	cfg := documentConfig(t)
	info, err := RenderDocument(t.Context(), cfg, writeOriginal(t, bulletin().bytes()))
	if err != nil {
		t.Fatal(err)
	}
	// A letter page, 612×792 pt: 2048 px high; pdftoppm rounds the width
	// (1582.5) up.
	checkDocument(t, cfg, info, 1583, 2048, 309, 400)
	if got, want := info.Pages, 1; got != want {
		t.Errorf("Pages %d, want %d", got, want)
	}
	if got, want := info.Title, "Bolet\u00edn de prensa 42"; got != want {
		t.Errorf("Title %q, want %q (NFC, trimmed)", got, want)
	}
	want := time.Date(2025, 3, 14, 9, 26, 53, 0, time.FixedZone("", -6*3600))
	if info.CreatedAt == nil || !info.CreatedAt.Equal(want) {
		t.Errorf("CreatedAt %v, want %v", info.CreatedAt, want)
	} else if _, off := info.CreatedAt.Zone(); off != -6*3600 {
		t.Errorf("CreatedAt offset %d s, want -6 h", off)
	}
}

func TestRenderDocumentPages(t *testing.T) {
	cfg := documentConfig(t)
	pdf := testPDF{Pages: []pdfPage{
		{Content: bulletinPage1},
		{Content: "BT /F1 24 Tf 72 700 Td (Page two) Tj ET"},
		{Content: "0 0 0 rg 0 0 612 792 re f"}, // all black: rendering it instead would show
	}}
	info, err := RenderDocument(t.Context(), cfg, writeOriginal(t, pdf.bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := info.Pages, 3; got != want {
		t.Errorf("Pages %d, want %d", got, want)
	}
	if info.Title != "" || info.CreatedAt != nil {
		t.Errorf("Title %q, CreatedAt %v; want none", info.Title, info.CreatedAt)
	}
	checkDocument(t, cfg, info, 1583, 2048, 309, 400)
}

func TestRenderDocumentPageSizes(t *testing.T) {
	cfg := documentConfig(t)
	cases := []struct {
		name, box, extra   string
		previewW, previewH int
		thumbW, thumbH     int
	}{
		{name: "A4 landscape", box: "0 0 841.89 595.276", previewW: 2048, previewH: 1449, thumbW: 400, thumbH: 283},
		{name: "letter rotated", box: "0 0 612 792", extra: "/Rotate 90", previewW: 2048, previewH: 1583, thumbW: 400, thumbH: 309},
		{name: "crop box", box: "0 0 612 792", extra: "/CropBox [0 0 306 396]", previewW: 1275, previewH: 1650, thumbW: 309, thumbH: 400},
		// 3.5×2 in: 1050 px at 300 DPI, not enlarged to 2048.
		{name: "business card", box: "0 0 252 144", previewW: 1050, previewH: 600, thumbW: 400, thumbH: 229},
		{name: "A0", box: "0 0 2383.94 3370.39", previewW: 1449, previewH: 2048, thumbW: 283, thumbH: 400},
		{name: "a strip", box: "0 0 14400 36", previewW: 2048, previewH: 6, thumbW: 400, thumbH: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := cfg
			cfg.ScratchDir = t.TempDir()
			pdf := testPDF{Pages: []pdfPage{{Box: tc.box, Extra: tc.extra, Content: "0 0 1 rg 10 10 100 20 re f"}}}
			info, err := RenderDocument(t.Context(), cfg, writeOriginal(t, pdf.bytes()))
			if err != nil {
				t.Fatal(err)
			}
			want := [4]int{tc.previewW, tc.previewH, tc.thumbW, tc.thumbH}
			got := [4]int{info.Width, info.Height}
			if len(info.Renditions) == 2 {
				got[2], got[3] = info.Renditions[1].Width, info.Renditions[1].Height
			}
			if got != want {
				t.Errorf("preview and thumb %v, want %v", got, want)
			}
			for _, r := range info.Renditions {
				if img := decodeJPEGFile(t, r.Path); img.Bounds().Dx() != r.Width || img.Bounds().Dy() != r.Height {
					t.Errorf("%s is %v, reported %d×%d", r.Name, img.Bounds(), r.Width, r.Height)
				}
			}
		})
	}
}

// encryptedPDF is a PDF under the standard security handler whose user
// password is not empty: nothing can open it without the password.
func encryptedPDF() []byte {
	rng := rand.New(rand.NewPCG(3, 4))
	hex := func(n int) string {
		var b strings.Builder
		for range n {
			fmt.Fprintf(&b, "%02X", rng.IntN(256))
		}
		return b.String()
	}
	id := hex(16)
	pdf := bulletin()
	n := 5 + 2*len(pdf.Pages) // the next object number
	pdf.Objects = []string{fmt.Sprintf("<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P -3904 >>", hex(32), hex(32))}
	pdf.Trailer = fmt.Sprintf("/Encrypt %d 0 R /ID [<%s> <%s>]", n, id, id)
	return pdf.bytes()
}

func TestRenderDocumentRefuses(t *testing.T) {
	cfg := documentConfig(t)
	good := bulletin().bytes()
	random := make([]byte, 64<<10)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(rng.IntN(256))
	}
	cases := []struct {
		name    string
		data    []byte
		message string
	}{
		{name: "random bytes", data: random, message: "not a PDF (unrecognised content)"},
		{name: "empty", data: nil, message: "not a PDF (unrecognised content)"},
		{name: "a JPEG", data: []byte("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00"), message: "not a PDF (the content is image/jpeg)"},
		{name: "html quoting a PDF header", data: []byte("<html><body>%PDF-1.7</body></html>"), message: "not a PDF"},
		{name: "PDF header then garbage", data: append([]byte("%PDF-1.7\n"), random...), message: "not a readable PDF: Syntax Error: Couldn't read xref table"},
		// Cut inside the first object: nothing to reconstruct.
		{name: "truncated to the header", data: good[:30], message: "not a readable PDF: Syntax Error: Couldn't read xref table"},
		{name: "encrypted with a password", data: encryptedPDF(), message: "encrypted PDF: it needs a password to open"},
		{name: "no pages", data: testPDF{}.bytes(), message: "PDF without pages"},
		{name: "absurd page size", data: testPDF{Pages: []pdfPage{{Box: "0 0 2000000 1000"}}}.bytes(), message: "page 1 is 2e+06 × 1000 pt (706 × 0.353 m), beyond any real document"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := cfg
			cfg.ScratchDir = t.TempDir()
			_, err := RenderDocument(t.Context(), cfg, writeOriginal(t, tc.data))
			t.Logf("%v", err)
			checkRefused(t, err, ErrUnsupported, tc.message, cfg.ScratchDir)
		})
	}
}

// A PDF cut before its cross-reference table still holds every object:
// poppler rebuilds the table and renders page 1, every time.
func TestRenderDocumentTruncated(t *testing.T) {
	cfg := documentConfig(t)
	good := bulletin().bytes()
	cut := good[:bytes.LastIndex(good, []byte("xref"))]
	for i := range 2 {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			cfg := cfg
			cfg.ScratchDir = t.TempDir()
			info, err := RenderDocument(t.Context(), cfg, writeOriginal(t, cut))
			if err != nil {
				t.Fatal(err)
			}
			checkDocument(t, cfg, info, 1583, 2048, 309, 400)
			if info.Pages != 1 || info.Title != "Bolet\u00edn de prensa 42" {
				t.Errorf("Pages %d, Title %q; want 1 and the title", info.Pages, info.Title)
			}
		})
	}
}

func TestRenderDocumentTimeout(t *testing.T) {
	cfg := documentConfig(t)
	cfg.Timeout = time.Millisecond
	_, err := RenderDocument(t.Context(), cfg, writeOriginal(t, bulletin().bytes()))
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

// fakePoppler writes an executable shell script standing in for a poppler
// program.
func fakePoppler(t *testing.T, script string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fake")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// A program that hangs is killed with everything it started, and the
// failure is retryable.
func TestRenderDocumentHangKilled(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	cfg := DocumentConfig{
		ScratchDir: t.TempDir(),
		Pdfinfo:    fakePoppler(t, "sleep 30 & echo $! > "+pidFile+"; wait"),
		Timeout:    300 * time.Millisecond,
	}
	_, err := RenderDocument(t.Context(), cfg, writeOriginal(t, bulletin().bytes()))
	if err == nil || IsPermanent(err) || !strings.Contains(err.Error(), "took longer than 300ms; killed") {
		t.Fatalf("error %v, want a retryable timeout", err)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	pid := strings.TrimSpace(string(b))
	if stat, err := os.ReadFile(filepath.Join("/proc", pid, "stat")); err == nil && !strings.Contains(string(stat), ") Z") {
		t.Errorf("the hung program's child (pid %s) still runs: %s", pid, stat)
	}
}

// A renderer that crashes fails the job retryably and leaves nothing.
func TestRenderDocumentCrash(t *testing.T) {
	cfg := documentConfig(t)
	cfg.Pdftoppm = fakePoppler(t, "echo 'Syntax Error: something odd' >&2; kill -SEGV $$")
	_, err := RenderDocument(t.Context(), cfg, writeOriginal(t, bulletin().bytes()))
	if err == nil || IsPermanent(err) || !strings.Contains(err.Error(), "signal 11") {
		t.Fatalf("error %v, want a retryable crash", err)
	}
	if files := scratchFiles(t, cfg.ScratchDir); len(files) > 0 {
		t.Errorf("ScratchDir holds %v after a crash", files)
	}
}

// TestDocumentCommandLines pins the exact argv of poppler's programs and
// tesseract. Run
// with -update after a deliberate change and review the diff.
func TestDocumentCommandLines(t *testing.T) {
	const blob = "/data/blobs/sha256/ab/cd/abcdef0123456789"
	var b strings.Builder
	line := func(program string, args []string) {
		fmt.Fprintf(&b, "%s %s\n", program, strings.Join(args, " "))
	}
	line("pdfinfo", pdfinfoArgs(blob))
	for _, size := range [][2]float64{{612, 792}, {841.89, 595.276}, {252, 144}, {2383.94, 3370.39}, {14400, 36}, {0.5, 0.5}} {
		fmt.Fprintf(&b, "# page %g x %g pt\n", size[0], size[1])
		line("pdftoppm", pdftoppmArgs(blob, previewLongEdge(size[0], size[1])))
	}
	b.WriteString("# text\n")
	line("pdftotext", pdftotextArgs(blob))
	line("pdftoppm", ocrPdftoppmArgs(blob, 3, "/data/staging/jobs/j1/0123456789abcdef-ocr"))
	line("tesseract", tesseractArgs("/data/staging/jobs/j1/0123456789abcdef-ocr.pgm", "spa"))
	b.WriteString("# OCR of a photographed clipping\n")
	line("tesseract", ocrImageArgs("/data/blobs/sha256/ab/cd/abcd", "spa"))
	checkGolden(t, "document_commands.golden", b.String())
}

func TestParsePDFInfo(t *testing.T) {
	const tail = "Pages:           12\nEncrypted:       no\nPage size:       595.276 x 841.89 pts (A4)\nPage rot:        0\nFile size:       1234 bytes\n"
	cases := []struct {
		name    string
		out     string
		want    pdfMeta
		wantErr string
	}{
		{name: "plain", out: "Title:           Informe anual\nCreationDate:    2024-12-31T23:59:59Z\n" + tail,
			want: pdfMeta{Pages: 12, PageW: 595.276, PageH: 841.89, Title: "Informe anual"}},
		// A title with a line break cannot override the document's own fields.
		{name: "injected lines", out: "Title:           Boletín\nPages: 1\nPage size: 1 x 1 pts\n" + tail,
			want: pdfMeta{Pages: 12, PageW: 595.276, PageH: 841.89, Title: "Boletín"}},
		{name: "no title", out: tail, want: pdfMeta{Pages: 12, PageW: 595.276, PageH: 841.89}},
		{name: "control characters", out: "Title:  a\tb\x07c  \n" + tail, want: pdfMeta{Pages: 12, PageW: 595.276, PageH: 841.89, Title: "a b c"}},
		{name: "no pages", out: "Pages:           0\nPage size:       612 x 792 pts\n", wantErr: "PDF without pages"},
		{name: "no size", out: "Pages:           2\n", wantErr: "no size"},
		{name: "bad size", out: "Pages:           2\nPage size:       nan x 792 pts\n", wantErr: "no usable size"},
		{name: "zero size", out: "Pages:           2\nPage size:       0 x 792 pts\n", wantErr: "no usable size"},
		{name: "huge", out: "Pages:           2\nPage size:       1e+07 x 1e+07 pts\n", wantErr: "beyond any real document"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parsePDFInfo([]byte(tc.out))
			if tc.wantErr != "" {
				if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want ErrUnsupported saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.CreatedAt = nil
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParsePDFDate(t *testing.T) {
	cases := []struct {
		in   string
		want time.Time
	}{
		{"2025-03-14T09:26:53-06", time.Date(2025, 3, 14, 9, 26, 53, 0, time.FixedZone("", -6*3600))},
		{"2025-03-14T09:26:53+05:30", time.Date(2025, 3, 14, 9, 26, 53, 0, time.FixedZone("", 5*3600+1800))},
		{"2025-03-14T09:26:53Z", time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)},
		{"D:20250314092653", time.Time{}}, // pdfinfo could not parse it either
		{"0000-01-01T00:00:00Z", time.Time{}},
		{"", time.Time{}},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got := parsePDFDate(tc.in)
			switch {
			case tc.want.IsZero() && got != nil:
				t.Errorf("got %v, want nil", got)
			case !tc.want.IsZero() && (got == nil || !got.Equal(tc.want) || got.Format(time.RFC3339) != tc.want.Format(time.RFC3339)):
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCleanTitle(t *testing.T) {
	long := strings.Repeat("ñ", maxTitleBytes) // two bytes each
	cases := []struct{ in, want string }{
		{"  Inauguracio\u0301n del parque  ", "Inauguración del parque"},
		{"bad \xff byte", "bad \uFFFD byte"},
		{"line\nbreak", "line break"},
		{long, strings.Repeat("ñ", maxTitleBytes/2)},
	}
	for _, tc := range cases {
		if got := cleanTitle(tc.in); got != tc.want {
			t.Errorf("cleanTitle(%.40q) = %.40q, want %.40q", tc.in, got, tc.want)
		}
	}
}

func TestDocumentConfigValidation(t *testing.T) {
	cases := []struct {
		name string
		cfg  DocumentConfig
	}{
		{"no ScratchDir", DocumentConfig{}},
		{"ScratchDir missing", DocumentConfig{ScratchDir: filepath.Join(t.TempDir(), "nope")}},
		{"negative timeout", DocumentConfig{ScratchDir: t.TempDir(), Timeout: -time.Second}},
		{"negative memory limit", DocumentConfig{ScratchDir: t.TempDir(), MemoryLimit: -1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := RenderDocument(t.Context(), tc.cfg, "/nonexistent"); err == nil || IsPermanent(err) {
				t.Fatalf("RenderDocument accepted the config or blamed the file: %v", err)
			}
		})
	}
	cfg := DocumentConfig{ScratchDir: t.TempDir()}
	if err := cfg.withDefaults(); err != nil {
		t.Fatal(err)
	}
	want := DocumentConfig{Pdftoppm: "pdftoppm", Pdfinfo: "pdfinfo", Pdftotext: "pdftotext", Tesseract: "tesseract", OCRLanguage: "spa", ScratchDir: cfg.ScratchDir, Timeout: 60 * time.Second, MemoryLimit: 1 << 30}
	if cfg != want {
		t.Errorf("defaults %+v, want %+v", cfg, want)
	}
}
