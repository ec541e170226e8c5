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

// A photographed clipping uploaded with ocr=true is found by the words in
// it; an ordinary photo of the same kind of page, without ocr, is not read.
func TestSearchPhotographedClipping(t *testing.T) {
	requireTools(t, "pdftoppm", "tesseract")
	e := start(t)
	c := e.login()
	var clipping assetJSON
	decode(t, c.upload("recorte.jpg", pdftest.Picture(t, pdftest.TextPage(`Rehabilitaci\363n del mercado`, `de Xochimilco`)), map[string]string{"ocr": "true"}),
		http.StatusCreated, &clipping)
	plain := c.uploadReady("foto.jpg", pdftest.Picture(t, pdftest.TextPage(`Desfile en Iztapalapa`)))
	if a := c.waitSettled(clipping.ID); a.Status != "ready" {
		t.Fatalf("clipping is %s (%s)", a.Status, a.Error)
	}

	found := c.waitTotal(url.Values{"q": {"xochimilco"}}, 1)
	if got := found.ids(); len(got) != 1 || got[0] != clipping.ID {
		t.Errorf("search xochimilco found %v, want the clipping %s", got, clipping.ID)
	}
	if got := c.waitTotal(url.Values{"q": {"rehabilitacion mercado"}}, 1).ids(); len(got) != 1 {
		t.Errorf("search of two OCR'd words found %v", got)
	}
	// The plain photo is indexed (its file name is found) but not read.
	c.waitTotal(url.Values{"q": {"foto"}}, 1)
	var none searchAnswer
	decode(t, c.do("GET", "/api/v1/search?q=iztapalapa", "", nil, nil), http.StatusOK, &none)
	if none.Total != 0 {
		t.Errorf("a photo uploaded without ocr was read: %+v (asset %s)", none.ids(), plain.ID)
	}
}
