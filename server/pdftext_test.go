package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/comsoc/acervo/transcode/pdftest"
)

// Words only in a bulletin's text layer, and only in the picture of a
// scanned clipping, are found by search; the API view does not carry the
// text.
func TestSearchDocumentText(t *testing.T) {
	requireTools(t, "pdftoppm", "pdfinfo", "pdftotext", "tesseract")
	e := start(t)
	c := e.login()
	bulletin := c.uploadReady("boletin.pdf", pdftest.TextPage(`Bolet\355n de prensa: inauguraci\363n`, `del tianguis de Azcapotzalco`))
	clipping := c.uploadReady("recorte.pdf", pdftest.Scan(t, pdftest.TextPage(`Reforestaci\363n del bosque`, `de Chapultepec con vecinos`)))

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
