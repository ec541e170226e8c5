package server

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/ui/verify"
)

// The public /verify page and the official previews it shows. A preview
// is served only through a link that a verification answer minted (an
// HMAC of the asset id and an expiry under an instance secret), so asset
// ids learnt elsewhere open nothing, and an asset in the trash is 404
// even with a valid link.

// verifyPreviewTTL is how long a preview link in an answer works.
const verifyPreviewTTL = time.Hour

// verifyPolicy is the CSP of the page: its own script, style and images,
// object URLs of the file the visitor picked (blob:), and requests to
// this origin only. No inline script or style.
func verifyPolicy(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; media-src 'self' blob:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
		return next(c)
	}
}

// verifyPage: GET /verify, the page in Spanish.
func (s *Server) verifyPage(c echo.Context) error {
	var buf bytes.Buffer
	cfg := s.cfg.Verify
	err := verify.Render(&buf, verify.Page{
		MaxImageMB: cfg.MaxImageBytes >> 20, MaxAVMB: cfg.MaxAVBytes >> 20,
		KeyURL: "/.well-known/acervo-key", Signing: s.cfg.SigningKey != nil,
	})
	if err != nil {
		return err
	}
	return c.HTMLBlob(http.StatusOK, buf.Bytes())
}

func serveVerifyJS(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.Blob(http.StatusOK, "text/javascript; charset=utf-8", verify.JS)
}

func serveVerifyCSS(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.Blob(http.StatusOK, "text/css; charset=utf-8", verify.CSS)
}

// verifyPreviewRendition picks what the side-by-side view shows of an
// asset: a photo's preview, a video's poster, an audio's waveform.
func verifyPreviewRendition(a catalog.Asset) (string, catalog.Rendition, bool) {
	for _, name := range []string{"preview.jpg", "poster.jpg", "waveform.png"} {
		if r, ok := a.Renditions[name]; ok {
			return name, r, true
		}
	}
	return "", catalog.Rendition{}, false
}

func (s *Server) previewSig(id string, exp int64) (string, error) {
	key, err := s.cat.Secret("verify-preview")
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "\n" + strconv.FormatInt(exp, 10)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)), nil
}

// previewURL is the link to an asset's preview, valid until exp.
func (s *Server) previewURL(id string, exp time.Time) (string, error) {
	e := exp.Unix()
	sig, err := s.previewSig(id, e)
	if err != nil {
		return "", err
	}
	return "/verify/preview/" + id + "?exp=" + strconv.FormatInt(e, 10) + "&sig=" + sig, nil
}

// verifyPreview: GET /verify/preview/{id}?exp=…&sig=…, public with a
// link from an answer.
func (s *Server) verifyPreview(c echo.Context) error {
	notFound := errorf(http.StatusNotFound, "not_found", "No existe / not found")
	id := c.Param("id")
	exp, err := strconv.ParseInt(c.QueryParam("exp"), 10, 64)
	if err != nil || time.Now().Unix() > exp {
		return notFound
	}
	want, err := s.previewSig(id, exp)
	if err != nil {
		return err
	}
	if !hmac.Equal([]byte(want), []byte(c.QueryParam("sig"))) {
		return notFound
	}
	a, err := s.cat.Asset(id)
	if err != nil || a.TrashedAt != nil {
		return notFound
	}
	name, _, ok := verifyPreviewRendition(a)
	if !ok {
		return notFound
	}
	r, key, err := rendition(a, name)
	if err != nil {
		return err
	}
	return s.serveRendition(c, key, r, "private, max-age=3600")
}
