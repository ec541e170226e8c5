package server_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// writePDF lays out a PDF whose objects are objs (object 1 the catalog)
// with a correct cross-reference table.
func writePDF(objs ...string) []byte {
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
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

func pdfStream(dict, data string) string {
	return fmt.Sprintf("<< %s /Length %d >>\nstream\n%s\nendstream", dict, len(data), data)
}

// textPDF is a letter page with lines of Helvetica text (WinAnsiEncoding:
// octal escapes for accented letters) as a real text layer.
func textPDF(lines ...string) []byte {
	var content strings.Builder
	for i, l := range lines {
		fmt.Fprintf(&content, "BT /F1 28 Tf 60 %d Td (%s) Tj ET\n", 700-60*i, l)
	}
	return writePDF(
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
		pdfStream("", content.String()),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
	)
}

// scanOf is what a scanner makes of pdf: an image-only PDF whose page is a
// 200 DPI JPEG of pdf's page 1 (rendered by pdftoppm), with no text.
func scanOf(t *testing.T, pdf []byte) []byte {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "in.pdf")
	if err := os.WriteFile(src, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("pdftoppm", "-singlefile", "-r", "200", "-jpeg", src, filepath.Join(dir, "scan")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v: %s", err, out)
	}
	jpeg, err := os.ReadFile(filepath.Join(dir, "scan.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	draw := "q 612 0 0 792 0 0 cm /Im1 Do Q"
	return writePDF(
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /Im1 5 0 R >> >> /Contents 4 0 R >>",
		pdfStream("", draw),
		// Letter at 200 DPI; pdftoppm's JPEG is colour.
		pdfStream("/Type /XObject /Subtype /Image /Width 1700 /Height 2200 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode", string(jpeg)),
	)
}

// Words only in a bulletin's text layer, and only in the picture of a
// scanned clipping, are found by search; the API view does not carry the
// text.
func TestSearchDocumentText(t *testing.T) {
	requireTools(t, "pdftoppm", "pdfinfo", "pdftotext", "tesseract")
	e := start(t)
	c := e.login()
	bulletin := c.uploadReady("boletin.pdf", textPDF(`Bolet\355n de prensa: inauguraci\363n`, `del tianguis de Azcapotzalco`))
	clipping := c.uploadReady("recorte.pdf", scanOf(t, textPDF(`Reforestaci\363n del bosque`, `de Chapultepec con vecinos`)))

	cases := []struct {
		q    string
		want string
	}{
		{"tianguis", bulletin.ID},
		{"azcapotzalco", bulletin.ID},
		{"chapultepec", clipping.ID},
		{"reforestacion", clipping.ID}, // accent folded, from OCR'd text
	}
	for _, tc := range cases {
		a := c.waitTotal(url.Values{"q": {tc.q}}, 1)
		if got := a.ids(); len(got) != 1 || got[0] != tc.want {
			t.Errorf("search %q found %v, want [%s]", tc.q, got, tc.want)
		}
	}
	for _, id := range []string{bulletin.ID, clipping.ID} {
		body, resp := c.get("/api/v1/assets/" + id)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET asset: %s", resp.Status)
		}
		if low := strings.ToLower(string(body)); strings.Contains(low, "tianguis") || strings.Contains(low, "chapultepec") {
			t.Errorf("the API view of %s carries the extracted text: %s", id, body)
		}
	}
}
