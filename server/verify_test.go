package server_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/catalog/similar"
	"github.com/comsoc/acervo/server"
	"github.com/comsoc/acervo/storage/disk"
	"github.com/comsoc/acervo/transcode"
)

// verifyAnswer is the answer of POST /api/v1/verify.
type verifyAnswer struct {
	Match  string  `json:"match"`
	Kind   string  `json:"kind"`
	SHA256 string  `json:"sha256"`
	Score  float64 `json:"score"`
	Asset  *struct {
		ID, Kind, Title, Event, Credit string
		Preview                        *struct {
			URL           string
			Width, Height int
		}
	} `json:"asset"`
	Regions    []struct{ X, Y, W, H int }    `json:"regions"`
	TimeRange  *struct{ Start, End float64 } `json:"time_range"`
	Provenance *struct {
		Payload   string `json:"payload"`
		Signature string `json:"signature"`
	} `json:"provenance"`
	Restricted  bool              `json:"details_restricted"`
	Explanation map[string]string `json:"explanation"`
}

// verifyServer serves the same archive as e with another VerifyConfig,
// for tests that need their own rate or restriction. Its client is
// anonymous.
func (e *env) verifyServer(cfg server.VerifyConfig) *client {
	e.t.Helper()
	store, err := disk.New(disk.Config{Root: e.data})
	if err != nil {
		e.t.Fatal(err)
	}
	sim, err := similar.Open(similar.Config{Catalog: e.cat})
	if err != nil {
		e.t.Fatal(err)
	}
	ing := &catalog.Ingester{Catalog: e.cat, Store: store, Sniff: transcode.Sniff, JobsFor: transcode.JobsFor}
	key, err := server.LoadOrCreateKey(filepath.Join(e.data, "keys", "ed25519.pem"))
	if err != nil {
		e.t.Fatal(err)
	}
	s, err := server.New(server.Config{Catalog: e.cat, Store: store, Ingester: ing, Similar: sim, Verify: cfg, SigningKey: key})
	if err != nil {
		e.t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	e.t.Cleanup(srv.Close)
	e2 := *e
	e2.srv = srv
	return &client{Client: &http.Client{}, e: &e2}
}

func (c *client) verify(name string, data []byte) *http.Response {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data)
	mw.Close()
	return c.do("POST", "/api/v1/verify", mw.FormDataContentType(), &body, nil)
}

func (c *client) verifyOK(name string, data []byte) verifyAnswer {
	c.e.t.Helper()
	var a verifyAnswer
	decode(c.e.t, c.verify(name, data), http.StatusOK, &a)
	if a.Explanation["es"] == "" || a.Explanation["en"] == "" {
		c.e.t.Errorf("%s: answer without explanation: %+v", name, a)
	}
	return a
}

// scene draws a picture with structure at every scale, distinct per seed.
func scene(w, h int, seed uint64) *image.RGBA {
	r := rand.New(rand.NewPCG(seed, seed*7+1))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 200 / w), uint8(y * 200 / h), uint8(seed * 40), 255})
		}
	}
	for range 40 {
		c := color.RGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255}
		x0, y0 := r.IntN(w), r.IntN(h)
		rect := image.Rect(x0, y0, x0+w/20+r.IntN(w/4), y0+h/20+r.IntN(h/4))
		draw.Draw(img, rect, &image.Uniform{c}, image.Point{}, draw.Src)
	}
	return img
}

func encodeJPEG(t *testing.T, img image.Image, q int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// half scales img to half its size by averaging 2×2 blocks.
func half(img *image.RGBA) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx()/2, b.Dy()/2))
	for y := 0; y < b.Dy()/2; y++ {
		for x := 0; x < b.Dx()/2; x++ {
			var s [3]int
			for _, p := range [][2]int{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
				c := img.RGBAAt(2*x+p[0], 2*y+p[1])
				s[0], s[1], s[2] = s[0]+int(c.R), s[1]+int(c.G), s[2]+int(c.B)
			}
			out.SetRGBA(x, y, color.RGBA{uint8(s[0] / 4), uint8(s[1] / 4), uint8(s[2] / 4), 255})
		}
	}
	return out
}

func crop(img *image.RGBA, frac float64) *image.RGBA {
	b := img.Bounds()
	dx, dy := int(frac*float64(b.Dx())), int(frac*float64(b.Dy()))
	r := image.Rect(dx, dy, b.Dx()-dx, b.Dy()-dy)
	out := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.Draw(out, out.Bounds(), img, r.Min, draw.Src)
	return out
}

// captionBar adds a dark band with light "text" below the picture.
func captionBar(img *image.RGBA) *image.RGBA {
	b := img.Bounds()
	bar := b.Dy() / 10
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()+bar))
	draw.Draw(out, out.Bounds(), &image.Uniform{color.RGBA{20, 20, 20, 255}}, image.Point{}, draw.Src)
	draw.Draw(out, b, img, image.Point{}, draw.Src)
	// Words of thin strokes, like text.
	for x := b.Dx() / 20; x < b.Dx()*3/4; x += 5 {
		if (x/40)%5 == 4 {
			continue // a space between words
		}
		draw.Draw(out, image.Rect(x, b.Dy()+bar/3, x+2, b.Dy()+2*bar/3), &image.Uniform{color.White}, image.Point{}, draw.Src)
	}
	return out
}

// TestVerifyVerdicts posts the archive's own bytes, its hash, altered
// copies and an unrelated picture to the public check, through the real
// server and the real decoding child.
func TestVerifyVerdicts(t *testing.T) {
	e := start(t)
	admin := e.login()
	orig := scene(1200, 800, 1)
	original := encodeJPEG(t, orig, 92)
	var up assetJSON
	decode(t, admin.upload("mitin.jpg", original, map[string]string{"title": "Inauguración del parque", "event": "Inauguración", "credit": "Foto: Comunicación Social"}), http.StatusCreated, &up)
	if a := admin.waitSettled(up.ID); a.Status != catalog.StatusReady {
		t.Fatalf("upload %s: %s", a.Status, a.Error)
	}
	anon := e.verifyServer(server.VerifyConfig{PerMinute: 1000})
	staging := filepath.Join(e.data, "staging", "verify")

	t.Run("exact by file", func(t *testing.T) {
		a := anon.verifyOK("copia.jpg", original)
		if a.Match != "exact" || a.Asset == nil || a.Asset.ID != up.ID || a.Asset.Title != "Inauguración del parque" || a.Asset.Event != "Inauguración" {
			t.Fatalf("answer = %+v, want exact %s with public facts", a, up.ID)
		}
		if a.Provenance == nil || a.Provenance.Signature == "" || !strings.Contains(a.Provenance.Payload, up.ID) {
			t.Errorf("exact answer without signed manifest: %+v", a.Provenance)
		}
		assertNoFiles(t, staging)
	})
	t.Run("exact by sha256, no private fields", func(t *testing.T) {
		sum := sha256.Sum256(original)
		resp := anon.do("POST", "/api/v1/verify", "application/json", strings.NewReader(`{"sha256":"`+hex.EncodeToString(sum[:])+`"}`), nil)
		var out struct {
			Match string         `json:"match"`
			Asset map[string]any `json:"asset"`
		}
		decode(t, resp, http.StatusOK, &out)
		if out.Match != "exact" || out.Asset["id"] != up.ID {
			t.Fatalf("answer = %+v, want exact %s", out, up.ID)
		}
		for _, private := range []string{"filename", "uploaded_by", "gps", "camera", "original_url", "renditions", "tags", "people"} {
			if _, ok := out.Asset[private]; ok {
				t.Errorf("public facts include %q: %v", private, out.Asset)
			}
		}
	})
	t.Run("public links are pointed to, others never", func(t *testing.T) {
		links := func() []any {
			sum := sha256.Sum256(original)
			var out struct {
				Asset map[string]any `json:"asset"`
			}
			decode(t, anon.do("POST", "/api/v1/verify", "application/json", strings.NewReader(`{"sha256":"`+hex.EncodeToString(sum[:])+`"}`), nil), http.StatusOK, &out)
			l, _ := out.Asset["public_links"].([]any)
			return l
		}
		admin.share(t, map[string]any{"assets": []string{up.ID}, "recipient": "Diario"}) // private
		if l := links(); len(l) != 0 {
			t.Fatalf("a private link was revealed: %v", l)
		}
		pub := admin.share(t, map[string]any{"assets": []string{up.ID}, "recipient": "Sala de prensa", "public": true})
		// The check runs on another server here, so compare paths.
		if l := links(); len(l) != 1 || !strings.HasSuffix(l[0].(string), "/s/"+pub.Token) {
			t.Errorf("public links = %v, want the link to /s/%s", l, pub.Token)
		}
		expectError(t, admin.sendJSON("POST", "/api/v1/shares", map[string]any{"assets": []string{up.ID}, "recipient": "X", "public": true, "password": "secreto-1"}), http.StatusBadRequest, "invalid")
		decode(t, admin.do("DELETE", "/api/v1/shares/"+pub.ID, "", nil, nil), http.StatusOK, nil)
		if l := links(); len(l) != 0 {
			t.Errorf("a revoked public link is still pointed to: %v", l)
		}
	})
	doctored := image.NewRGBA(orig.Bounds())
	draw.Draw(doctored, doctored.Bounds(), orig, image.Point{}, draw.Src)
	draw.Draw(doctored, image.Rect(900, 100, 1100, 300), &image.Uniform{color.RGBA{255, 0, 255, 255}}, image.Point{}, draw.Src)
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"re-encoded at quality 40", encodeJPEG(t, orig, 40)},
		{"scaled to 50 %", encodeJPEG(t, half(orig), 85)},
		{"cropped 4 % a side", encodeJPEG(t, crop(orig, 0.04), 85)},
		{"caption bar", encodeJPEG(t, captionBar(orig), 85)},
		{"doctored", encodeJPEG(t, doctored, 90)},
	} {
		t.Run("similar "+tc.name, func(t *testing.T) {
			a := anon.verifyOK("viral.jpg", tc.data)
			if a.Match != "similar" || a.Asset == nil || a.Asset.ID != up.ID || a.Score < 0.8 || a.Kind != "photo" {
				t.Fatalf("answer = %+v, want similar to %s", a, up.ID)
			}
			if a.Asset.Preview == nil || a.Asset.Preview.Width == 0 {
				t.Fatalf("no official preview: %+v", a.Asset)
			}
			resp := anon.do("GET", a.Asset.Preview.URL, "", nil, nil)
			if b := readBody(t, resp); resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/jpeg" || len(b) == 0 {
				t.Errorf("preview = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			if tc.name == "doctored" {
				// The patch covers x 900–1100, y 100–300 of 1200×800: in the
				// preview's frame (same size) some region must overlap it.
				hit := false
				for _, r := range a.Regions {
					if image.Rect(r.X, r.Y, r.X+r.W, r.Y+r.H).Overlaps(image.Rect(900, 100, 1100, 300)) {
						hit = true
					}
				}
				if !hit || len(a.Regions) > 16 {
					t.Errorf("regions = %+v, want a few covering the patch", a.Regions)
				}
			}
			assertNoFiles(t, staging)
		})
	}
	t.Run("none for an unrelated picture", func(t *testing.T) {
		if a := anon.verifyOK("otra.jpg", encodeJPEG(t, scene(1000, 700, 99), 85)); a.Match != "none" || a.Asset != nil {
			t.Errorf("answer = %+v, want none", a)
		}
		assertNoFiles(t, staging)
	})
	t.Run("refused types and sizes", func(t *testing.T) {
		expectError(t, anon.verify("pagina.html", []byte("<!doctype html><script>alert(1)</script>")), http.StatusUnsupportedMediaType, "unsupported_media_type")
		expectError(t, anon.verify("boletin.pdf", []byte("%PDF-1.4\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n")), http.StatusUnsupportedMediaType, "unsupported_media_type")
		expectError(t, anon.do("POST", "/api/v1/verify", "text/plain", strings.NewReader("hola"), nil), http.StatusUnsupportedMediaType, "unsupported_media_type")
		small := e.verifyServer(server.VerifyConfig{PerMinute: 1000, MaxImageBytes: 100 << 10})
		big := encodeJPEG(t, noise(800, 800), 95)
		if len(big) <= 100<<10 {
			t.Fatalf("test picture of %d bytes is not over the cap", len(big))
		}
		expectError(t, small.verify("grande.jpg", big), http.StatusRequestEntityTooLarge, "too_large")
		// Sniffed as a picture, but not one: the child refuses it.
		expectError(t, anon.verify("roto.png", append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 600)...)), http.StatusUnsupportedMediaType, "unsupported_media_type")
		assertNoFiles(t, staging)
	})
	t.Run("near-duplicate upload is listed", func(t *testing.T) {
		var cp assetJSON
		decode(t, admin.upload("recorte.jpg", encodeJPEG(t, crop(orig, 0.04), 80), nil), http.StatusCreated, &cp)
		admin.waitSettled(cp.ID)
		var sim struct {
			Similar []struct {
				ID    string
				Score float64
			}
		}
		decode(t, admin.do("GET", "/api/v1/assets/"+up.ID+"/similar", "", nil, nil), http.StatusOK, &sim)
		if len(sim.Similar) != 1 || sim.Similar[0].ID != cp.ID || sim.Similar[0].Score < 0.8 {
			t.Errorf("similar of the original = %+v, want the cropped copy %s", sim.Similar, cp.ID)
		}
		var v struct {
			NearDuplicates []struct{ ID string } `json:"near_duplicates"`
		}
		decode(t, admin.do("GET", "/api/v1/assets/"+cp.ID, "", nil, nil), http.StatusOK, &v)
		if len(v.NearDuplicates) != 1 || v.NearDuplicates[0].ID != up.ID {
			t.Errorf("near_duplicates of the copy = %+v, want the original", v.NearDuplicates)
		}
		// The asset page says so too.
		page, _ := admin.get("/assets/" + cp.ID)
		if !bytes.Contains(page, []byte("Parecido a material")) || !bytes.Contains(page, []byte(`href="/assets/`+up.ID+`"`)) {
			t.Errorf("the copy's page has no near-duplicate notice linking to the original")
		}
	})
	t.Run("trashed asset is never matched", func(t *testing.T) {
		other := scene(1000, 1000, 5)
		var o assetJSON
		decode(t, admin.upload("borrada.jpg", encodeJPEG(t, other, 90), nil), http.StatusCreated, &o)
		admin.waitSettled(o.ID)
		if a := anon.verifyOK("v.jpg", encodeJPEG(t, half(other), 70)); a.Match != "similar" {
			t.Fatalf("before trashing: %+v", a)
		}
		preview := anon.verifyOK("v.jpg", encodeJPEG(t, half(other), 70)).Asset.Preview.URL
		decode(t, admin.do("DELETE", "/api/v1/assets/"+o.ID, "", nil, nil), http.StatusNoContent, nil)
		if a := anon.verifyOK("v.jpg", encodeJPEG(t, half(other), 70)); a.Match != "none" {
			t.Errorf("trashed asset matched: %+v", a)
		}
		if a := anon.verifyOK("v.jpg", encodeJPEG(t, other, 90)); a.Match != "none" {
			t.Errorf("trashed asset's bytes matched: %+v", a)
		}
		if resp := anon.do("GET", preview, "", nil, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("preview of a trashed asset = %d, want 404", resp.StatusCode)
		}
		if resp := anon.do("GET", "/verify/preview/"+up.ID+"?exp=9999999999&sig=forged", "", nil, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("preview with a forged link = %d, want 404", resp.StatusCode)
		}
	})
	t.Run("similar details restricted", func(t *testing.T) {
		restricted := e.verifyServer(server.VerifyConfig{PerMinute: 1000, RestrictSimilar: true})
		a := restricted.verifyOK("viral.jpg", encodeJPEG(t, orig, 40))
		if a.Match != "similar" || !a.Restricted || a.Asset != nil || a.Score != 0 || a.Regions != nil {
			t.Errorf("anonymous answer = %+v, want the verdict alone", a)
		}
		restricted.token = bearer(t, admin)
		if a := restricted.verifyOK("viral.jpg", encodeJPEG(t, orig, 40)); a.Restricted || a.Asset == nil {
			t.Errorf("signed-in answer = %+v, want details", a)
		}
		if a := restricted.verifyOK("copia.jpg", original); a.Match != "exact" || a.Asset == nil {
			t.Errorf("exact answer = %+v, want details even when similar is restricted", a)
		}
	})
}

func bearer(t *testing.T, c *client) string {
	var out struct{ Token string }
	decode(t, c.sendJSON("POST", "/api/v1/tokens", map[string]string{"name": "verify"}), http.StatusCreated, &out)
	return out.Token
}

func noise(w, h int) *image.RGBA {
	r := rand.New(rand.NewPCG(3, 4))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.Uint32())
		if i%4 == 3 {
			img.Pix[i] = 255
		}
	}
	return img
}

// TestVerifyRateLimit: past the client's allowance the check is 429 with
// Retry-After, before anything is read.
func TestVerifyRateLimit(t *testing.T) {
	e := start(t)
	anon := e.verifyServer(server.VerifyConfig{PerMinute: 3})
	body := `{"sha256":"` + strings.Repeat("0", 64) + `"}`
	for i := range 3 {
		var a verifyAnswer
		decode(t, anon.do("POST", "/api/v1/verify", "application/json", strings.NewReader(body), nil), http.StatusOK, &a)
		if a.Match != "none" {
			t.Errorf("check %d = %+v, want none", i, a)
		}
	}
	resp := anon.do("POST", "/api/v1/verify", "application/json", strings.NewReader(body), nil)
	ra := resp.Header.Get("Retry-After")
	expectError(t, resp, http.StatusTooManyRequests, "rate_limited")
	if ra == "" || ra == "0" {
		t.Errorf("Retry-After = %q, want seconds", ra)
	}
}

// TestVerifyPage: the public page and its script, under a CSP without
// inline code.
func TestVerifyPage(t *testing.T) {
	e := start(t)
	anon := &client{Client: &http.Client{}, e: e}
	resp := anon.do("GET", "/verify", "", nil, nil)
	page := readBody(t, resp)
	csp := resp.Header.Get("Content-Security-Policy")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "verify.js") || !strings.Contains(string(page), "lang=\"es-MX\"") {
		t.Fatalf("GET /verify = %d %s", resp.StatusCode, page)
	}
	if strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP = %q", csp)
	}
	if strings.Contains(string(page), "<script>") || strings.Contains(string(page), "style=") {
		t.Errorf("page has inline script or style")
	}
	for _, p := range []string{"/verify/verify.js", "/verify/verify.css"} {
		if resp := anon.do("GET", p, "", nil, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d", p, resp.StatusCode)
		}
	}
}
