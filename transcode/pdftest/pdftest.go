// Package pdftest writes small, valid PDFs for tests, so no test needs a
// PDF tool or a committed file to make a bulletin.
package pdftest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Write lays out a PDF whose objects are objs, numbered from 1 (object 1
// must be the catalog), with a correct cross-reference table. trailer adds
// entries to the trailer dictionary, e.g. "/Info 4 0 R"; it may be empty.
func Write(trailer string, objs ...string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R %s >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, trailer, xref)
	return b.Bytes()
}

// Stream is a stream object with dict's entries and its /Length.
func Stream(dict, data string) string {
	return fmt.Sprintf("<< %s /Length %d >>\nstream\n%s\nendstream", dict, len(data), data)
}

// TextPage is a one-page letter PDF with lines of Helvetica text as a
// real text layer. Lines are PDF string bodies in WinAnsiEncoding: octal
// escapes for accented letters, e.g. `inauguraci\363n`.
func TextPage(lines ...string) []byte {
	var content strings.Builder
	for i, l := range lines {
		fmt.Fprintf(&content, "BT /F1 28 Tf 60 %d Td (%s) Tj ET\n", 700-60*i, l)
	}
	return Write("",
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
		Stream("", content.String()),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
	)
}

// Scan is what a scanner makes of pdf: an image-only PDF whose letter-size
// page is a 200 DPI JPEG of pdf's page 1, rendered by poppler's pdftoppm,
// with no text layer.
func Scan(tb testing.TB, pdf []byte) []byte {
	tb.Helper()
	jpeg := Picture(tb, pdf)
	draw := "q 612 0 0 792 0 0 cm /Im1 Do Q"
	return Write("",
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /Im1 5 0 R >> >> /Contents 4 0 R >>",
		Stream("", draw),
		// Letter at 200 DPI is 1700×2200; pdftoppm's JPEG is colour even for gray pages.
		Stream("/Type /XObject /Subtype /Image /Width 1700 /Height 2200 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode", string(jpeg)),
	)
}

// Picture is a photo of pdf's page 1: a 1700×2200 JPEG (letter at 200 DPI)
// rendered by poppler's pdftoppm, as a phone or scanner would give it.
func Picture(tb testing.TB, pdf []byte) []byte {
	tb.Helper()
	dir := tb.TempDir()
	src := filepath.Join(dir, "in.pdf")
	if err := os.WriteFile(src, pdf, 0o644); err != nil {
		tb.Fatal(err)
	}
	if out, err := exec.Command("pdftoppm", "-f", "1", "-l", "1", "-singlefile", "-r", "200", "-jpeg", src, filepath.Join(dir, "scan")).CombinedOutput(); err != nil {
		tb.Fatalf("pdftoppm: %v: %s", err, out)
	}
	jpeg, err := os.ReadFile(filepath.Join(dir, "scan.jpg"))
	if err != nil {
		tb.Fatal(err)
	}
	return jpeg
}
