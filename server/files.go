package server

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/storage"
)

// getOriginal serves the exact uploaded bytes as an attachment carrying the
// user's file name, with Range support. Content-addressed bytes never
// change, so the SHA-256 is a strong ETag.
func (s *Server) getOriginal(c echo.Context) error {
	a, err := s.visibleFiles(c)
	if err != nil {
		return err
	}
	key, err := storage.BlobKey(a.SHA256)
	if err != nil {
		return err
	}
	if c.Request().Method == http.MethodGet && !continuesDownload(c.Request()) {
		if err := s.cat.Audit(actor(c), catalog.AuditEntry{Action: catalog.AuditDownload, Asset: a.ID, Detail: a.Filename}); err != nil {
			return err
		}
	}
	h := c.Response().Header()
	h.Set("Content-Disposition", attachment(a.Filename))
	return s.serveObject(c, key, a.MIME, a.SHA256, "private, max-age=31536000, immutable")
}

// getRendition serves a derived file. Its URL carries a version (see
// assetView), so browsers may cache it for a year.
func (s *Server) getRendition(c echo.Context) error {
	f, err := s.visibleFiles(c)
	if err != nil {
		return err
	}
	name := c.Param("name")
	r, ok := f.Rendition(name)
	r, key, err := renditionKey(f.ID, name, r, ok)
	if err != nil {
		return err
	}
	return s.serveRendition(c, key, r, "private, max-age=31536000")
}

// rendition finds a derived file of a and its storage key.
func rendition(a catalog.Asset, name string) (catalog.Rendition, string, error) {
	r, ok := a.Renditions[name]
	return renditionKey(a.ID, name, r, ok)
}

// renditionKey is the storage key of asset id's rendition r called name,
// or 404 when it is not made (ok false).
func renditionKey(id, name string, r catalog.Rendition, ok bool) (catalog.Rendition, string, error) {
	if !ok {
		return r, "", errorf(http.StatusNotFound, "not_found", "Esa versión no existe (todavía) / no such rendition (yet)")
	}
	key, err := storage.DerivedKey(id, name)
	return r, key, err
}

// serveRendition serves a rendition from the hot cache when it is small
// (loading it there on a miss), else streams it from the store.
func (s *Server) serveRendition(c echo.Context, key string, r catalog.Rendition, cache string) error {
	if !s.hot.cacheable(r.Size) {
		return s.serveObject(c, key, r.MIME, r.SHA256, cache)
	}
	body := s.hot.get(r.SHA256)
	if body == nil {
		obj, err := s.store.Open(c.Request().Context(), key)
		if err != nil {
			return err
		}
		body = s.hot.load(r.SHA256, r.Size, obj)
		if body == nil { // not the bytes the catalog recorded: as before
			defer obj.Close()
			if _, err := obj.Seek(0, io.SeekStart); err != nil {
				return err
			}
			return s.serveContent(c, obj, r.MIME, r.SHA256, cache)
		}
		obj.Close()
	}
	setObjectHeaders(c, r.MIME, r.SHA256, cache)
	http.ServeContent(bufferedWriter{c.Response()}, c.Request(), "", time.Time{}, bytes.NewReader(body))
	return nil
}

// serveObject streams a stored object with http.ServeContent, which
// answers Range, If-Range and If-None-Match from the ETag set here.
func (s *Server) serveObject(c echo.Context, key, contentType, sha, cache string) error {
	obj, err := s.store.Open(c.Request().Context(), key)
	if err != nil {
		return err
	}
	defer obj.Close()
	return s.serveContent(c, obj, contentType, sha, cache)
}

// setObjectHeaders sets the type, the strong ETag and the caching rule.
// Canonical keys set directly, one allocation for the values: every
// thumbnail of a grid comes through here.
func setObjectHeaders(c echo.Context, contentType, sha, cache string) {
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	v := []string{contentType, `"` + sha + `"`, cache}
	h := c.Response().Header()
	h["Content-Type"] = v[0:1:1]
	h["Etag"] = v[1:2:2]
	h["Cache-Control"] = v[2:3:3]
}

func (s *Server) serveContent(c echo.Context, obj storage.Object, contentType, sha, cache string) error {
	setObjectHeaders(c, contentType, sha, cache)
	var content io.ReadSeeker = obj
	if f, ok := obj.(storage.OSFiler); ok {
		content = f.OSFile()
	}
	// No Last-Modified: the bytes are named by their SHA-256, so the
	// strong ETag is the exact validator (If-None-Match, If-Range), and a
	// date would only be a second, weaker one to format and parse on every
	// thumbnail of a grid.
	http.ServeContent(sendfileWriter{c.Response()}, c.Request(), "", time.Time{}, content)
	return nil
}

// sendfileWriter gives http.ServeContent a way through Echo's Response,
// which hides the connection's ReadFrom: with it, a local file goes to the
// socket with sendfile(2) instead of through a 32 KB buffer and a write per
// chunk (the profile of thumbnail serving showed that copy at ~20% of CPU).
// Status and headers still go through Echo's Response (WriteHeader, called
// by ServeContent first), so Committed and Status stay right.
type sendfileWriter struct{ *echo.Response }

func (w sendfileWriter) ReadFrom(r io.Reader) (int64, error) {
	if !w.Committed {
		w.WriteHeader(http.StatusOK)
	}
	n, err := io.Copy(w.Response.Writer, r)
	w.Size += n
	return n, err
}

// bufferedWriter copies in-memory content through a pooled buffer: given
// to io.Copy bare, Echo's Response would have it allocate one per request.
type bufferedWriter struct{ *echo.Response }

var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (w bufferedWriter) ReadFrom(r io.Reader) (int64, error) {
	b := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(b)
	return io.CopyBuffer(w.Response, r, *b)
}

// attachment builds a Content-Disposition that keeps accents (RFC 6266 /
// RFC 5987 filename*) with an ASCII fallback for old clients.
func attachment(name string) string {
	fallback := strings.Map(func(r rune) rune {
		switch {
		case r == '"' || r == '\\' || r == '%' || r == ';':
			return '_'
		case r < 0x20 || r > 0x7e:
			return '_'
		}
		return r
	}, name)
	v := mime.FormatMediaType("attachment", map[string]string{"filename": fallback})
	if v == "" {
		v = "attachment"
	}
	if fallback != name {
		v += "; filename*=UTF-8''" + rfc5987Escape(name)
	}
	return v
}

// rfc5987Escape percent-encodes every byte of s but RFC 5987's attr-char.
// url.PathEscape is not enough: it leaves ':', '=' and '@', which end the
// value for strict parsers (Go's mime.ParseMediaType refused "reunión: 10:30.mov").
func rfc5987Escape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
