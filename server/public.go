package server

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/storage"
	"github.com/comsoc/acervo/ui/share"
)

// The public side of share links: /s/{token} and everything under it. Each
// request looks the link up again and checks it in this order: unknown 404,
// expired or revoked 410, not open yet 403, locked 401, asset outside the
// link 404, download not allowed 403. Nothing is cached across requests,
// so revoking a link kills every URL under it at once.

const shareCookie = "acervo_share"

// sharePolicy sets the headers of every share route: no indexing, no
// referrer (the token is in the URL), and a CSP that allows the page's own
// stylesheet, images and media and no script at all.
func sharePolicy(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Robots-Tag", "noindex, nofollow")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
		return next(c)
	}
}

// openShare resolves the token to an open, unlocked link.
func (s *Server) openShare(c echo.Context) (catalog.Share, error) {
	sh, err := s.cat.ShareByToken(c.Param("token"))
	if err != nil {
		if errors.Is(err, catalog.ErrNotFound) {
			return sh, errorf(http.StatusNotFound, "not_found", "Este enlace no existe / no such link")
		}
		return sh, err
	}
	if err := sh.State(time.Now()); err != nil {
		return sh, err
	}
	if sh.Locked() && !s.unlocked(c, sh) {
		return sh, errorf(http.StatusUnauthorized, "locked", "Este enlace pide contraseña / this link needs its password")
	}
	return sh, nil
}

// unlockValue is the cookie that proves this browser gave the password:
// an HMAC of the link id under an instance secret, so it can't be forged
// and opens no other link.
func (s *Server) unlockValue(sh catalog.Share) string {
	m := hmac.New(sha256.New, s.unlockKey)
	m.Write([]byte(sh.ID + "\n" + sh.PasswordHash))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (s *Server) unlocked(c echo.Context, sh catalog.Share) bool {
	ck, err := c.Cookie(shareCookie)
	if err != nil {
		return false
	}
	return hmac.Equal([]byte(ck.Value), []byte(s.unlockValue(sh)))
}

// openShareAsset opens the link and the asset named in the URL, if the
// link gives it.
func (s *Server) openShareAsset(c echo.Context) (catalog.Share, catalog.Asset, error) {
	sh, err := s.openShare(c)
	if err != nil {
		return sh, catalog.Asset{}, err
	}
	a, err := s.shareAsset(c, sh)
	return sh, a, err
}

// shareAsset returns the asset named in the URL if the link gives it.
func (s *Server) shareAsset(c echo.Context, sh catalog.Share) (catalog.Asset, error) {
	ids, err := s.cat.ShareAssets(sh)
	if err != nil {
		return catalog.Asset{}, err
	}
	id := c.Param("id")
	if !slices.Contains(ids, id) {
		return catalog.Asset{}, errorf(http.StatusNotFound, "not_found", "Este enlace no incluye ese archivo / not in this link")
	}
	a, err := s.cat.Asset(id)
	if err == nil && a.TrashedAt != nil {
		return catalog.Asset{}, errorf(http.StatusNotFound, "not_found", "Este enlace no incluye ese archivo / not in this link")
	}
	return a, err
}

func (s *Server) shareAssets(sh catalog.Share) ([]catalog.Asset, error) {
	ids, err := s.cat.ShareAssets(sh)
	if err != nil {
		return nil, err
	}
	return s.liveAssets(ids)
}

// liveAssets loads assets in order, leaving out those in the trash.
func (s *Server) liveAssets(ids []string) ([]catalog.Asset, error) {
	assets, err := s.cat.AssetsByID(ids)
	return slices.DeleteFunc(assets, func(a catalog.Asset) bool { return a.TrashedAt != nil }), err
}

// sharePage: GET /s/{token}, the page journalists see. Errors are pages too.
func (s *Server) sharePage(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "private, no-store")
	sh, err := s.openShare(c)
	if err != nil {
		return s.sharePageError(c, sh, err, false)
	}
	assets, err := s.shareAssets(sh)
	if err != nil {
		return s.sharePageError(c, sh, err, false)
	}
	if sh, err = s.cat.UseShare(actor(c), sh.ID, catalog.ShareUse{}); err != nil {
		return s.sharePageError(c, sh, err, false)
	}
	page := s.sharePageData(c.Param("token"), sh, assets)
	return s.renderShare(c, http.StatusOK, "page", page)
}

func (s *Server) renderShare(c echo.Context, status int, name string, data any) error {
	var buf bytes.Buffer
	if err := share.Render(&buf, name, data); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// sharePageError shows a locked link's password form, or a page that says
// why the link shows nothing, with the status the JSON routes would give.
func (s *Server) sharePageError(c echo.Context, sh catalog.Share, err error, failed bool) error {
	var ae *apiError
	switch {
	case errors.As(err, &ae) && ae.Code == "locked":
		return s.renderShare(c, http.StatusUnauthorized, "locked", share.Locked{Action: "/s/" + c.Param("token") + "/unlock", Failed: failed})
	case errors.As(err, &ae) && ae.Status == http.StatusNotFound:
		return s.renderShare(c, http.StatusNotFound, "message", share.Message{Title: "Enlace no encontrado", Text: "Revise que la dirección esté completa. Si la copió de un mensaje, pida a quien se la envió un enlace nuevo."})
	case errors.Is(err, catalog.ErrShareGone):
		return s.renderShare(c, http.StatusGone, "message", share.Message{Title: "Enlace vencido", Text: "Este enlace expiró o fue revocado. Pida un enlace nuevo a Comunicación Social."})
	case errors.Is(err, catalog.ErrShareEmbargoed):
		text := "El material de este enlace aún no está disponible."
		if sh.StartsAt != nil {
			text = "El material de este enlace estará disponible a partir del " + share.DateTime(sh.StartsAt.In(s.cfg.Zone)) + " (hora del centro de México)."
		}
		return s.renderShare(c, http.StatusForbidden, "message", share.Message{Title: "Material bajo embargo", Text: text})
	}
	return err
}

func (s *Server) sharePageData(token string, sh catalog.Share, assets []catalog.Asset) share.Page {
	base := "/s/" + token
	p := share.Page{
		Title: sh.Title, Description: sh.Description, Credit: sh.Credit, Watermarked: sh.Watermark != "",
		Expires: share.Date(sh.ExpiresAt.In(s.cfg.Zone)), DownloadsLeft: -1,
	}
	if sh.AllowDownload {
		p.ZipURL = base + "/zip"
		if sh.MaxDownloads > 0 {
			p.DownloadsLeft = max(0, sh.MaxDownloads-sh.Downloads)
		}
	}
	for _, a := range assets {
		p.Items = append(p.Items, s.shareItem(base, sh, a))
	}
	return p
}

func (s *Server) shareItem(base string, sh catalog.Share, a catalog.Asset) share.Item {
	it := share.Item{
		Kind: a.Kind, Title: a.Title, Caption: a.Caption, Credit: a.Credit, Filename: a.Filename,
		Width: a.Width, Height: a.Height,
	}
	if it.Credit == "" {
		it.Credit = sh.Credit
	}
	t := a.UploadedAt
	if a.CapturedAt != nil {
		t = *a.CapturedAt
	}
	it.Date = share.Date(t.In(s.cfg.Zone))
	if a.Duration > 0 {
		d := time.Duration(a.Duration * float64(time.Second)).Round(time.Second)
		it.Duration = fmt.Sprintf("%d:%02d", int(d.Minutes()), int(d.Seconds())%60)
	}
	url := func(name string) string {
		r, ok := a.Renditions[name]
		if !ok {
			return ""
		}
		return base + "/assets/" + a.ID + "/renditions/" + name + "?v=" + r.SHA256[:min(12, len(r.SHA256))]
	}
	it.Thumb, it.Preview, it.Poster = url("thumb.jpg"), url("preview.jpg"), url("poster.jpg")
	it.Proxy, it.Audio = url("proxy.mp4"), url("audio.m4a")
	if sh.AllowDownload {
		it.Download = base + "/assets/" + a.ID + "/original"
	}
	if it.Thumb != "" && a.Renditions["thumb.jpg"].Width > 0 {
		it.Width, it.Height = a.Renditions["thumb.jpg"].Width, a.Renditions["thumb.jpg"].Height
	}
	return it
}

// shareJSONView: GET /s/{token}/share.json, the page's content for scripts
// and apps: public facts only (no uploader, GPS, hashes or internal ids of
// people and events).
func (s *Server) shareJSONView(c echo.Context) error {
	sh, err := s.openShare(c)
	if err != nil {
		return err
	}
	assets, err := s.shareAssets(sh)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "private, no-store")
	page := s.sharePageData(c.Param("token"), sh, assets)
	out := map[string]any{
		"title": page.Title, "description": page.Description, "credit": page.Credit, "expires_at": sh.ExpiresAt,
		"allow_download": sh.AllowDownload, "watermarked": page.Watermarked, "assets": []map[string]any{},
	}
	if page.ZipURL != "" {
		out["zip_url"] = page.ZipURL
	}
	if page.DownloadsLeft >= 0 {
		out["downloads_left"] = page.DownloadsLeft
	}
	list := make([]map[string]any, 0, len(page.Items))
	for i, it := range page.Items {
		item := map[string]any{
			"id": assets[i].ID, "kind": it.Kind, "title": it.Title, "caption": it.Caption, "credit": it.Credit,
			"filename": it.Filename, "date": assets[i].CapturedAt, "duration": assets[i].Duration,
			"width": assets[i].Width, "height": assets[i].Height, "renditions": map[string]string{},
		}
		if it.Download != "" {
			item["original_url"] = it.Download
		}
		for name := range assets[i].Renditions {
			item["renditions"].(map[string]string)[name] = "/s/" + c.Param("token") + "/assets/" + assets[i].ID + "/renditions/" + name
		}
		list = append(list, item)
	}
	out["assets"] = list
	return c.JSON(http.StatusOK, out)
}

// unlockShare: POST /s/{token}/unlock with form field password. Right: a
// cookie for this link's path and a redirect to the page. Wrong: the form
// again with 401. Attempts are throttled per link and client address.
func (s *Server) unlockShare(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "private, no-store")
	sh, err := s.cat.ShareByToken(c.Param("token"))
	if err == nil {
		err = sh.State(time.Now())
	}
	if err != nil {
		if errors.Is(err, catalog.ErrNotFound) {
			err = errorf(http.StatusNotFound, "not_found", "Este enlace no existe / no such link")
		}
		return s.sharePageError(c, sh, err, false)
	}
	if !sh.Locked() {
		return c.Redirect(http.StatusSeeOther, "/s/"+c.Param("token"))
	}
	ip := c.RealIP()
	if !s.unlockLimiter.allow("share:"+sh.ID, ip) {
		c.Response().Header().Set("Retry-After", "60")
		return s.renderShare(c, http.StatusTooManyRequests, "message", share.Message{Title: "Demasiados intentos", Text: "Espere un minuto y vuelva a intentarlo."})
	}
	c.Request().Body = http.MaxBytesReader(c.Response(), c.Request().Body, 4<<10)
	password := c.FormValue("password")
	if !catalog.CheckPassword(sh.PasswordHash, password) {
		s.unlockLimiter.fail("share:"+sh.ID, ip)
		if err := s.cat.Audit(actor(c), catalog.AuditEntry{Action: catalog.AuditShareUnlockFail, Target: sh.ID}); err != nil {
			return err
		}
		return s.sharePageError(c, sh, errorf(http.StatusUnauthorized, "locked", "Contraseña incorrecta / wrong password"), true)
	}
	value := s.unlockValue(sh)
	path := "/s/" + c.Param("token")
	c.SetCookie(&http.Cookie{
		Name: shareCookie, Value: value, Path: path, Expires: sh.ExpiresAt,
		HttpOnly: true, Secure: s.cfg.SecureCookies || c.Request().TLS != nil, SameSite: http.SameSiteLaxMode,
	})
	return c.Redirect(http.StatusSeeOther, path)
}

// shareRendition: GET /s/{token}/assets/{id}/renditions/{name}. Browsers
// must revalidate every time (no-cache), so a revoked link's previews stop
// even from the cache. Stills carry the link's watermark when it has one.
func (s *Server) shareRendition(c echo.Context) error {
	sh, a, err := s.openShareAsset(c)
	if err != nil {
		return err
	}
	name := c.Param("name")
	r, key, err := rendition(a, name)
	if err != nil {
		return err
	}
	const cache = "private, no-cache"
	if sh.Watermark == "" || !watermarkable[name] {
		return s.serveRendition(c, key, r, cache)
	}
	return s.serveWatermarked(c, key, r, sh.Watermark, cache)
}

func (s *Server) serveWatermarked(c echo.Context, key string, r catalog.Rendition, text, cache string) error {
	sum := sha256.Sum256([]byte(r.SHA256 + "\n" + text))
	etag := `"wm-` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`
	h := c.Response().Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", cache)
	if strings.Contains(c.Request().Header.Get("If-None-Match"), etag) {
		return c.NoContent(http.StatusNotModified)
	}
	obj, err := s.store.Open(c.Request().Context(), key)
	if err != nil {
		return err
	}
	defer obj.Close()
	select {
	case s.watermarkSlots <- struct{}{}:
		defer func() { <-s.watermarkSlots }()
	case <-c.Request().Context().Done():
		return c.Request().Context().Err()
	}
	img, err := watermark(obj, text)
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "image/jpeg", img)
}

// shareOriginal: GET /s/{token}/assets/{id}/original counts a download
// (refused past max_downloads) unless it continues one (a Range that does
// not start at byte 0); HEAD checks without counting.
func (s *Server) shareOriginal(c echo.Context) error {
	sh, a, err := s.openShareAsset(c)
	if err != nil {
		return err
	}
	if !sh.AllowDownload {
		return errorf(http.StatusForbidden, "download_not_allowed", "Este enlace no permite descargar originales / downloads are not allowed on this link")
	}
	if c.Request().Method == http.MethodGet && !continuesDownload(c.Request()) {
		if _, err := s.cat.UseShare(actor(c), sh.ID, catalog.ShareUse{Download: true, Asset: a.ID, Detail: a.Filename}); err != nil {
			return err
		}
	}
	key, err := storage.BlobKey(a.SHA256)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", attachment(a.Filename))
	return s.serveObject(c, key, a.MIME, a.SHA256, "private, no-store")
}

// continuesDownload: a Range request past the first byte resumes a
// download already counted.
func continuesDownload(r *http.Request) bool {
	rg := r.Header.Get("Range")
	return rg != "" && !strings.HasPrefix(rg, "bytes=0-")
}

// shareZip: GET /s/{token}/zip, everything the link gives, counted as one
// download, with CREDITOS.txt saying how to credit each file.
func (s *Server) shareZip(c echo.Context) error {
	sh, err := s.openShare(c)
	if err != nil {
		return err
	}
	if !sh.AllowDownload {
		return errorf(http.StatusForbidden, "download_not_allowed", "Este enlace no permite descargar originales / downloads are not allowed on this link")
	}
	assets, err := s.shareAssets(sh)
	if err != nil {
		return err
	}
	if _, err := s.cat.UseShare(actor(c), sh.ID, catalog.ShareUse{Download: true, Detail: fmt.Sprintf("ZIP, %d files", len(assets))}); err != nil {
		return err
	}
	return s.streamZip(c, zipTitle(sh.Title), assets, shareCredits(sh, assets))
}

func zipTitle(title string) string {
	// A title is not a path: its slashes are kept as characters.
	if t := safeEntryName(strings.NewReplacer("/", "_", `\`, "_").Replace(title)); t != "" {
		return t
	}
	return "acervo"
}

func shareCredits(sh catalog.Share, assets []catalog.Asset) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\r\n", sh.Title)
	if sh.Credit != "" {
		fmt.Fprintf(&b, "Crédito: %s\r\n", sh.Credit)
	}
	b.WriteString("\r\n")
	names := zipNames(assets)
	for i, a := range assets {
		credit := a.Credit
		if credit == "" {
			credit = sh.Credit
		}
		fmt.Fprintf(&b, "%s\t%s\t%s\r\n", names[i], a.Title, credit)
	}
	return b.String()
}

func serveShareCSS(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	return c.Blob(http.StatusOK, "text/css; charset=utf-8", share.CSS)
}
