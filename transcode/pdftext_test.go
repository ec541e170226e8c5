package transcode

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/comsoc/acervo/transcode/pdftest"
)

// pressRelease is the text of a one-page bulletin, in the PDF's
// WinAnsiEncoding (octal escapes for í and ó), and how pdftotext reads it.
const (
	pressReleasePDF  = `(Bolet\355n de prensa: inauguraci\363n del parque) Tj`
	pressReleaseText = "Boletín de prensa: inauguración del parque"
)

// textBulletin is a one-page PDF whose words are a real text layer in
// Helvetica: large lines, so that a 200 DPI scan of it is easy to OCR.
func textBulletin() testPDF {
	content := "BT /F1 28 Tf 60 700 Td " + pressReleasePDF + " ET\n" +
		"BT /F1 28 Tf 60 640 Td (Acto en la colonia Centro con vecinos) Tj ET"
	return testPDF{Pages: []pdfPage{{Content: content}}}
}

func textConfig(t *testing.T) DocumentConfig {
	t.Helper()
	requireTools(t, "pdftotext", "pdftoppm", "tesseract")
	return documentConfig(t)
}

func TestDocumentTextLayer(t *testing.T) {
	cfg := textConfig(t)
	info, err := RenderDocument(t.Context(), cfg, writeOriginal(t, textBulletin().bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(info.Text, pressReleaseText) || info.TextSource != TextFromPDF {
		t.Errorf("Text %q from %q, want %q from the text layer", info.Text, info.TextSource, pressReleaseText)
	}
	if strings.ContainsAny(info.Text, "\n\f\t") || strings.Contains(info.Text, "  ") {
		t.Errorf("Text %q keeps line breaks or runs of spaces", info.Text)
	}
	if got, want := len(info.Renditions), 2; got != want {
		t.Errorf("%d renditions, want %d", got, want)
	}
}

func TestDocumentTextOCR(t *testing.T) {
	cfg := textConfig(t)
	start := time.Now()
	info, err := RenderDocument(t.Context(), cfg, writeOriginal(t, pdftest.Scan(t, textBulletin().bytes())))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("OCR'd in %v: %q", time.Since(start), info.Text)
	low := strings.ToLower(info.Text)
	for _, word := range []string{"inaugur", "parque", "prensa", "vecinos"} {
		if !strings.Contains(low, word) {
			t.Errorf("Text %q lacks %q", info.Text, word)
		}
	}
	if info.TextSource != TextFromOCR {
		t.Errorf("TextSource %q, want %q", info.TextSource, TextFromOCR)
	}
	if files := scratchFiles(t, cfg.ScratchDir); len(files) != 2 {
		t.Errorf("ScratchDir holds %v, want only the 2 renditions", files)
	}
}

// A page of noise has no words: the render succeeds with no text.
func TestDocumentTextNone(t *testing.T) {
	cfg := textConfig(t)
	rng := rand.New(rand.NewPCG(5, 6))
	var content strings.Builder
	for range 300 {
		fmt.Fprintf(&content, "%.2f %.2f %.2f rg %d %d %d %d re f\n", rng.Float64(), rng.Float64(), rng.Float64(),
			rng.IntN(600), rng.IntN(780), 1+rng.IntN(40), 1+rng.IntN(40))
	}
	pdf := testPDF{Pages: []pdfPage{{Content: content.String()}, {Content: "0 0 0 rg 100 100 50 50 re f"}}}
	info, err := RenderDocument(t.Context(), cfg, writeOriginal(t, pdf.bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if countLetters(info.Text) >= minTextLetters || len(info.Renditions) != 2 {
		t.Errorf("Text %q from %q, %d renditions; want no text and both renditions", info.Text, info.TextSource, len(info.Renditions))
	}
}

// Text is a bonus: programs that are missing or crash give no text, not a
// failed job.
func TestDocumentTextToolsFail(t *testing.T) {
	cfg := documentConfig(t)
	cfg.Pdftotext = fakePoppler(t, "kill -SEGV $$")
	cfg.Tesseract = filepath.Join(t.TempDir(), "no-tesseract")
	info, err := RenderDocument(t.Context(), cfg, writeOriginal(t, textBulletin().bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if info.Text != "" || len(info.Renditions) != 2 {
		t.Errorf("Text %q, %d renditions; want no text and both renditions", info.Text, len(info.Renditions))
	}
	if files := scratchFiles(t, cfg.ScratchDir); len(files) != 2 {
		t.Errorf("ScratchDir holds %v, want only the 2 renditions", files)
	}
}

// The job's own context ending during text extraction fails the job
// (retryably) and leaves nothing behind.
func TestDocumentTextJobCancelled(t *testing.T) {
	cfg := documentConfig(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	cfg.Pdftotext = fakePoppler(t, "sleep 30")
	go func() { time.Sleep(time.Second); cancel() }()
	_, err := RenderDocument(ctx, cfg, writeOriginal(t, textBulletin().bytes()))
	if err == nil || IsPermanent(err) {
		t.Fatalf("error %v, want a retryable cancellation", err)
	}
	if files := scratchFiles(t, cfg.ScratchDir); len(files) > 0 {
		t.Errorf("ScratchDir holds %v after a cancelled job", files)
	}
}

func TestCleanText(t *testing.T) {
	cases := []struct{ in, want string }{
		{"  Inauguracio\u0301n\n\tdel  parque\f", "Inauguración del parque"},
		{"la inaugu-\nración del parque", "la inauguración del parque"},
		{"Ciudad de México-\nPuebla", "Ciudad de México- Puebla"}, // a capital after the hyphen: a real one
		{"bad \xff byte\x00", "bad \uFFFD byte"},
		{strings.Repeat("ñ", maxTextBytes), strings.Repeat("ñ", maxTextBytes/2)},
	}
	for _, tc := range cases {
		if got := cleanText(tc.in); got != tc.want {
			t.Errorf("cleanText(%.40q) = %.40q, want %.40q", tc.in, got, tc.want)
		}
	}
}
