package transcode

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/comsoc/acervo/catalog"
	"golang.org/x/text/unicode/norm"
)

// DocumentConfig configures RenderDocument. Zero fields take the defaults
// below; withDefaults checks the rest.
type DocumentConfig struct {
	// Pdftoppm and Pdfinfo are poppler's programs, looked up in PATH when
	// they have no slash. Defaults "pdftoppm" and "pdfinfo".
	Pdftoppm, Pdfinfo string
	// Pdftotext (poppler) reads the text layer and Tesseract reads scanned
	// pages; defaults "pdftotext" and "tesseract". When either is missing
	// or fails, the document simply has less text: see extractText.
	Pdftotext, Tesseract string
	// OCRLanguage is tesseract's language (traineddata) for scans; default
	// "spa" (Debian tesseract-ocr-spa), the press office's language.
	OCRLanguage string
	// ScratchDir is an existing folder where the renditions are written for
	// the caller to move into storage (Rendition.Path is absolute). Required;
	// the pool makes one per job.
	ScratchDir string
	// Timeout bounds each program run (pdfinfo, pdftoppm, each JPEG
	// encode, pdftotext, each page's OCR); past it the program's process group is killed. Default 60 s.
	Timeout time.Duration
	// MemoryLimit is the address-space limit (RLIMIT_AS) in bytes of
	// poppler's programs and tesseract. Default 1 GiB.
	MemoryLimit int64
}

func (c *DocumentConfig) withDefaults() error {
	if c.ScratchDir == "" {
		return errors.New("transcode: DocumentConfig.ScratchDir is required")
	}
	if st, err := os.Stat(c.ScratchDir); err != nil || !st.IsDir() {
		return fmt.Errorf("transcode: DocumentConfig.ScratchDir %q is not a folder", c.ScratchDir)
	}
	abs, err := filepath.Abs(c.ScratchDir)
	if err != nil {
		return fmt.Errorf("transcode: DocumentConfig.ScratchDir: %w", err)
	}
	c.ScratchDir = abs
	if c.Timeout < 0 || c.MemoryLimit < 0 {
		return errors.New("transcode: DocumentConfig: Timeout and MemoryLimit must not be negative")
	}
	if c.Pdftoppm == "" {
		c.Pdftoppm = "pdftoppm"
	}
	if c.Pdfinfo == "" {
		c.Pdfinfo = "pdfinfo"
	}
	if c.Pdftotext == "" {
		c.Pdftotext = "pdftotext"
	}
	if c.Tesseract == "" {
		c.Tesseract = "tesseract"
	}
	if c.OCRLanguage == "" {
		c.OCRLanguage = "spa"
	}
	if c.Timeout == 0 {
		c.Timeout = 60 * time.Second
	}
	if c.MemoryLimit == 0 {
		c.MemoryLimit = 1 << 30
	}
	return nil
}

// DocumentInfo is what the worker learns from one PDF.
type DocumentInfo struct {
	Pages         int
	Width, Height int         // of preview.jpg: page 1 as rendered
	Title         string      // the document's Title, NFC and trimmed; "" when absent
	CreatedAt     *time.Time  // CreationDate; UTC when the PDF gives no offset; nil when absent or unreadable
	Renditions    []Rendition // largest first: preview.jpg, thumb.jpg
	// Text is the document's words for search, cleaned (see cleanText);
	// "" when it has none that could be read. TextSource says where it
	// came from: TextFromPDF or TextFromOCR, "" without text.
	Text, TextSource string
}

// documentRenditions are made from page 1, each resized from the one
// before it: the thumb comes from the preview, not from a second render.
var documentRenditions = []renditionSpec{
	{Name: "preview.jpg", LongEdge: 2048},
	{Name: "thumb.jpg", LongEdge: 400},
}

const (
	// maxRenderDPI caps the preview's resolution, so a small page (under
	// about 6.8 in on its long edge) gives a smaller preview rather than an
	// enlarged one, and a tiny one is not rendered at absurd zoom.
	maxRenderDPI = 300
	// maxPagePoints is the largest page side accepted, in points (1/72 in):
	// about 350 m. PDF readers stop at 14,400 (200 in) or a few times that.
	maxPagePoints = 1e6
	// maxPdfinfoOutput bounds what pdfinfo may print; hostile metadata could
	// be megabytes.
	maxPdfinfoOutput = 1 << 20
	// maxTitleBytes bounds the title kept for search.
	maxTitleBytes = 1000
)

// RenderDocument reads the metadata of the PDF at path and makes
// preview.jpg (page 1, 2048 px on the long edge, or less when the page
// is smaller than that at 300 DPI) and thumb.jpg (400 px long edge, from
// the preview), and extracts the text of its first pages for search: the
// text layer, or OCR when there is (almost) none; see extractText.
//
// The file's type is sniffed from its content (originals have no
// extension). The PDF is parsed and drawn only by poppler's pdfinfo and
// pdftoppm, each in its own process group with cfg's memory limit and
// timeout; the parent reads back raw pixels of a size it bounds in
// advance. The renditions are new files in cfg.ScratchDir, owned by the
// caller; on error nothing is left there. Errors wrap ErrUnsupported when
// the file is at fault (not a PDF, encrypted with a password, corrupt, a
// page of absurd size): see IsPermanent. Timeouts, crashes and killed
// programs are not permanent. Safe for concurrent use.
func RenderDocument(ctx context.Context, cfg DocumentConfig, path string) (DocumentInfo, error) {
	if err := cfg.withDefaults(); err != nil {
		return DocumentInfo{}, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return DocumentInfo{}, fmt.Errorf("transcode: document %s: %w", path, err)
	}
	fail := func(err error) (DocumentInfo, error) {
		return DocumentInfo{}, fmt.Errorf("transcode: document %s: %w", filepath.Base(abs), err)
	}
	if err := sniffPDF(abs); err != nil {
		return fail(err)
	}
	meta, err := readPDFInfo(ctx, cfg, abs)
	if err != nil {
		return fail(err)
	}
	out := filepath.Join(cfg.ScratchDir, randomHex()+"-")
	rs, err := renderPDFPage(ctx, cfg, abs, out, previewLongEdge(meta.PageW, meta.PageH))
	if err != nil {
		removeScratch(out, nil)
		return fail(err)
	}
	text, source, err := extractText(ctx, cfg, abs, meta.Pages)
	if err != nil {
		removeScratch(out, nil)
		return fail(err)
	}
	return DocumentInfo{
		Pages: meta.Pages,
		Width: rs[0].Width, Height: rs[0].Height,
		Title:      meta.Title,
		CreatedAt:  meta.CreatedAt,
		Renditions: rs,
		Text:       text, TextSource: source,
	}, nil
}

// sniffPDF refuses a file whose first bytes are not a PDF's.
func sniffPDF(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return err
	}
	kind, mime, ok := SniffMedia(head[:n])
	switch {
	case !ok:
		return unsupportedf("not a PDF (unrecognised content)")
	case kind != catalog.KindDocument:
		return unsupportedf("not a PDF (the content is %s)", mime)
	}
	return nil
}

// pdfinfoArgs is the pdfinfo command line that prints the metadata and the
// size of page 1 of path, dates in ISO 8601 and text in UTF-8. path must be
// absolute, so that it cannot read as an option.
func pdfinfoArgs(path string) []string {
	return []string{"-isodates", "-enc", "UTF-8", path}
}

// pdftoppmArgs is the pdftoppm command line that renders page 1 of path, as
// a viewer shows it (crop box), to a binary PPM on stdout whose long edge is
// longEdge pixels (pdftoppm may round the short one up).
func pdftoppmArgs(path string, longEdge int) []string {
	return []string{"-f", "1", "-l", "1", "-singlefile", "-cropbox", "-scale-to", strconv.Itoa(longEdge), path}
}

// previewLongEdge is the preview's long edge for a page of w×h points:
// 2048 px, or less when that would be over maxRenderDPI.
func previewLongEdge(w, h float64) int {
	atMaxDPI := math.Ceil(max(w, h) / 72 * maxRenderDPI)
	return int(max(1, min(float64(documentRenditions[0].LongEdge), atMaxDPI)))
}

// pdfMeta is what pdfinfo tells.
type pdfMeta struct {
	Pages        int
	PageW, PageH float64 // page 1's crop box, in points, before its rotation
	Title        string
	CreatedAt    *time.Time
}

func readPDFInfo(ctx context.Context, cfg DocumentConfig, path string) (pdfMeta, error) {
	tctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	stdout := &boundedBuffer{max: maxPdfinfoOutput}
	_, err := runCommand(tctx, command{Path: cfg.Pdfinfo, Args: pdfinfoArgs(path), Stdout: stdout, MemoryLimit: cfg.MemoryLimit})
	if err != nil {
		return pdfMeta{}, popplerError(ctx, cfg, err)
	}
	if stdout.overflow {
		return pdfMeta{}, unsupportedf("PDF metadata over %d bytes", maxPdfinfoOutput)
	}
	return parsePDFInfo(stdout.buf)
}

// parsePDFInfo reads pdfinfo's "Key: value" lines. Metadata values can hold
// line breaks, and so fake lines; pdfinfo prints the document's own
// fields (Pages, Page size) after every metadata string, so for those the
// last line wins. The Title is the first line of its value.
func parsePDFInfo(out []byte) (pdfMeta, error) {
	fields := map[string]string{}
	var title string
	haveTitle := false
	for _, line := range strings.Split(string(out), "\n") {
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		if key == "Title" && !haveTitle {
			title, haveTitle = value, true
		}
		fields[key] = value
	}
	var m pdfMeta
	pages, err := strconv.Atoi(fields["Pages"])
	if err != nil || pages < 1 {
		return pdfMeta{}, unsupportedf("PDF without pages (pdfinfo says Pages: %q)", fields["Pages"])
	}
	m.Pages = pages
	size, ok := fields["Page size"]
	if !ok {
		return pdfMeta{}, unsupportedf("page 1 of the PDF has no size")
	}
	var w, h float64
	if _, err := fmt.Sscanf(size, "%g x %g pts", &w, &h); err != nil ||
		!(w > 0 && h > 0) || math.IsInf(w, 0) || math.IsInf(h, 0) {
		return pdfMeta{}, unsupportedf("page 1 of the PDF has no usable size (%.100q)", size)
	}
	if w > maxPagePoints || h > maxPagePoints {
		return pdfMeta{}, unsupportedf("page 1 is %g × %g pt (%.3g × %.3g m), beyond any real document",
			w, h, w/72*0.0254, h/72*0.0254)
	}
	m.PageW, m.PageH = w, h
	m.Title = cleanTitle(title)
	m.CreatedAt = parsePDFDate(fields["CreationDate"])
	return m, nil
}

// cleanTitle makes a metadata string fit for display and search: valid
// UTF-8, NFC, without control characters, trimmed and bounded.
func cleanTitle(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(norm.NFC.String(s))
	if len(s) > maxTitleBytes {
		cut := maxTitleBytes
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = strings.TrimSpace(s[:cut])
	}
	return s
}

// parsePDFDate reads pdfinfo's -isodates form (2025-03-14T09:26:53-06,
// …+05:30, …Z; pdfinfo writes Z when the PDF gives no offset). It returns
// nil for anything else, as pdfinfo prints a date it cannot parse as it is.
func parsePDFDate(s string) *time.Time {
	for _, layout := range []string{"2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05Z07"} {
		if t, err := time.Parse(layout, s); err == nil && t.Year() >= 1900 {
			return &t
		}
	}
	return nil
}

// renderPDFPage renders page 1 at longEdge pixels and writes the renditions
// under the path prefix out.
func renderPDFPage(ctx context.Context, cfg DocumentConfig, path, out string, longEdge int) ([]Rendition, error) {
	// pdftoppm makes the long edge longEdge (rounding may add one pixel
	// to either side), so the PPM's size is known before it is read.
	maxSide := longEdge + 1
	stdout := &boundedBuffer{max: 3*maxSide*maxSide + 64}
	tctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	_, err := runCommand(tctx, command{Path: cfg.Pdftoppm, Args: pdftoppmArgs(path, longEdge), Stdout: stdout, MemoryLimit: cfg.MemoryLimit})
	cancel()
	if err != nil {
		return nil, popplerError(ctx, cfg, err)
	}
	if stdout.overflow {
		return nil, fmt.Errorf("pdftoppm wrote more than a %d×%d image", maxSide, maxSide)
	}
	img, err := readPNM(bytes.NewReader(stdout.buf), int64(maxSide)*int64(maxSide))
	if err != nil {
		return nil, fmt.Errorf("pdftoppm output: %w", err)
	}
	if img.W > maxSide || img.H > maxSide {
		return nil, fmt.Errorf("pdftoppm rendered %d×%d, want a long edge of %d", img.W, img.H, longEdge)
	}
	var rs []Rendition
	for i, spec := range documentRenditions {
		limit := spec.LongEdge
		if i == 0 {
			limit = longEdge
		}
		if w, h := fitLongEdge(img.W, img.H, limit); w != img.W || h != img.H {
			img = resize(img, w, h, catmullRom)
		}
		p := out + spec.Name
		ectx, cancel := context.WithTimeout(ctx, cfg.Timeout)
		err := encodeJPEG(ectx, img, p)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", spec.Name, err)
		}
		rs = append(rs, Rendition{Name: spec.Name, Path: p, Width: img.W, Height: img.H, MIME: "image/jpeg"})
	}
	return rs, nil
}

// popplerError turns a failed pdfinfo or pdftoppm run into the job's error.
// Poppler's exit statuses: 1 the PDF cannot be opened (corrupt, or
// encrypted with a password), 3 a permissions error, 99 any other error
// about the file; these are permanent. Timeouts, signals (a crash, an
// allocation over the memory limit) and programs that cannot start are
// not.
func popplerError(ctx context.Context, cfg DocumentConfig, err error) error {
	var re *runError
	if !errors.As(err, &re) {
		return err
	}
	name := filepath.Base(re.Program)
	switch {
	case re.TimedOut && ctx.Err() != nil:
		return fmt.Errorf("%s stopped: %w", name, ctx.Err())
	case re.TimedOut:
		return fmt.Errorf("%s took longer than %v; killed%s", name, cfg.Timeout, stderrSuffix(re.Stderr))
	case re.ExitCode == 1 && strings.Contains(re.Stderr, "Incorrect password"):
		return unsupportedf("encrypted PDF: it needs a password to open")
	case re.ExitCode == 99 && strings.Contains(re.Stderr, "Wrong page range"):
		return unsupportedf("PDF without pages")
	case re.ExitCode == 1 || re.ExitCode == 3 || re.ExitCode == 99:
		return unsupportedf("not a readable PDF: %s", popplerReason(re.Stderr))
	}
	return fmt.Errorf("%s failed: %w", name, err)
}

// popplerReason picks the line of poppler's stderr that says why it gave
// up: the last error, else the last line.
func popplerReason(stderr string) string {
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], "Error") {
			return strings.TrimSpace(lines[i])
		}
	}
	if s := strings.TrimSpace(lines[len(lines)-1]); s != "" {
		return s
	}
	return "no reason given"
}
