package transcode

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Text of documents, for search. Press bulletins carry a text layer that
// pdftotext reads; scanned clippings are images, and only OCR finds their
// words. Both are bounded: search needs the words, not the whole book.
const (
	// maxTextPages is how many pages pdftotext reads.
	maxTextPages = 50
	// maxTextBytes bounds the text kept (and what a program may print):
	// the text is stored in the asset's record and indexed.
	maxTextBytes = 256 << 10
	// minTextLetters is the fewest letters a text layer must have to be
	// trusted; a scan often has only a page number or a stamp as text.
	minTextLetters = 20
	// ocrPages is how many pages of an image-only PDF are OCR'd: tesseract
	// takes seconds per page, and a clipping's words are on its first pages.
	ocrPages = 5
	// ocrDPI is the resolution pages are rendered at for tesseract, which
	// reads body text best at 200–300 DPI.
	ocrDPI = 200
	// maxOCRSide bounds the rendered page, in pixels (20 in at 200 DPI):
	// a poster-sized page is cropped rather than rendered at gigapixels.
	maxOCRSide = 4000
)

// Text sources, in DocumentInfo.TextSource.
const (
	TextFromPDF = "pdf" // the PDF's text layer
	TextFromOCR = "ocr" // tesseract on rendered pages
)

// pdftotextArgs is the pdftotext command line that prints the text of the
// first maxTextPages pages of path, in UTF-8, on stdout. path is absolute.
func pdftotextArgs(path string) []string {
	return []string{"-enc", "UTF-8", "-l", strconv.Itoa(maxTextPages), path, "-"}
}

// ocrPdftoppmArgs is the pdftoppm command line that renders page of path in
// grey at ocrDPI to out+".pgm", cropped to maxOCRSide on each side.
func ocrPdftoppmArgs(path string, page int, out string) []string {
	p := strconv.Itoa(page)
	side := strconv.Itoa(maxOCRSide)
	return []string{"-f", p, "-l", p, "-singlefile", "-r", strconv.Itoa(ocrDPI), "-gray",
		"-x", "0", "-y", "0", "-W", side, "-H", side, path, out}
}

// tesseractArgs is the tesseract command line that prints the text of the
// image at path (absolute) on stdout, read as lang with automatic page
// segmentation. The PGM carries no resolution, so it is given.
func tesseractArgs(path, lang string) []string {
	return []string{path, "-", "-l", lang, "--psm", "3", "--dpi", strconv.Itoa(ocrDPI)}
}

// tesseractEnv keeps tesseract to one thread: the pool already runs a job
// per core, and OpenMP threads only multiply memory and contention.
func tesseractEnv() []string {
	return append(os.Environ(), "OMP_THREAD_LIMIT=1")
}

// extractText returns the searchable text of the PDF at path, which has
// pages pages, and where it came from: the text layer when it has at least
// minTextLetters letters, else OCR of the first pages. Text is a bonus to
// the renditions, so a program that fails, crashes, times out or is not
// installed gives no text rather than an error; the error is only the
// job's own context ending, which the caller must not swallow.
func extractText(ctx context.Context, cfg DocumentConfig, path string, pages int) (text, source string, err error) {
	// Every program has cfg.Timeout; the whole stage gets a few of them,
	// so five slow pages cannot hold the worker for ten timeouts.
	sctx, cancel := context.WithTimeout(ctx, 3*cfg.Timeout)
	defer cancel()
	layer := runForText(sctx, cfg, command{Path: cfg.Pdftotext, Args: pdftotextArgs(path)})
	if countLetters(layer) >= minTextLetters {
		return layer, TextFromPDF, nil
	}
	var parts []string
	for page := 1; page <= min(pages, ocrPages) && sctx.Err() == nil; page++ {
		if s := ocrPage(sctx, cfg, path, page); s != "" {
			parts = append(parts, s)
		}
	}
	if err := ctx.Err(); err != nil {
		return "", "", err
	}
	if ocr := cleanText(strings.Join(parts, " ")); countLetters(ocr) > countLetters(layer) {
		return ocr, TextFromOCR, nil
	}
	if layer != "" {
		return layer, TextFromPDF, nil
	}
	return "", "", nil
}

// ocrPage renders one page to a PGM in the scratch folder, reads it with
// tesseract and removes it.
func ocrPage(ctx context.Context, cfg DocumentConfig, path string, page int) string {
	out := filepath.Join(cfg.ScratchDir, randomHex()+"-ocr")
	defer removeScratch(out, nil)
	tctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	_, err := runCommand(tctx, command{Path: cfg.Pdftoppm, Args: ocrPdftoppmArgs(path, page, out), MemoryLimit: cfg.MemoryLimit})
	cancel()
	if err != nil {
		return ""
	}
	return runForText(ctx, cfg, command{Path: cfg.Tesseract, Args: tesseractArgs(out+".pgm", cfg.OCRLanguage), Env: tesseractEnv()})
}

// runForText runs c under cfg's timeout and memory limit and returns its
// cleaned stdout, or "" if it failed. Output past maxTextBytes is dropped.
func runForText(ctx context.Context, cfg DocumentConfig, c command) string {
	stdout := &boundedBuffer{max: maxTextBytes}
	c.Stdout, c.MemoryLimit = stdout, cfg.MemoryLimit
	tctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	if _, err := runCommand(tctx, c); err != nil {
		return ""
	}
	return cleanText(string(stdout.buf))
}

// lineBreakHyphen is a word split across lines: "inaugu-\nración".
var lineBreakHyphen = regexp.MustCompile(`(\p{Ll})-[ \t]*\r?\n\s*(\p{Ll})`)

// cleanText makes extracted text fit for the index: valid UTF-8, NFC (OCR
// and some PDFs give decomposed accents, which would not match), words
// split by a line-end hyphen joined, control characters (pdftotext's form
// feeds between pages) and runs of white space made one space, and at most
// maxTextBytes, cut at a rune boundary.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = norm.NFC.String(s)
	s = lineBreakHyphen.ReplaceAllString(s, "$1$2")
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
	if len(s) > maxTextBytes {
		cut := maxTextBytes
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = strings.TrimSpace(s[:cut])
	}
	return s
}

// countLetters counts the letters in s, stopping at 4×minTextLetters:
// enough to tell a text layer from a page number, and OCR from a layer.
func countLetters(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			if n++; n >= 4*minTextLetters {
				break
			}
		}
	}
	return n
}
