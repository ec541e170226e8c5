package server

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/storage"
)

// streamZip answers with a ZIP of the originals of assets, in order, built
// while it is sent: no temporary file, memory flat whatever the size. Media
// is already compressed, so entries are stored; archive/zip switches to
// zip64 by itself past 4 GB. Entry names are the users' file names made
// safe and unique, numbered to keep the collection's order. A client that
// goes away stops the reading at the next chunk. credits, when not empty,
// is added as CREDITOS.txt.
func (s *Server) streamZip(c echo.Context, name string, assets []catalog.Asset, credits string) error {
	h := c.Response().Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Disposition", attachment(name+".zip"))
	h.Set("Cache-Control", "private, no-store")
	c.Response().WriteHeader(http.StatusOK)
	ctx := c.Request().Context()
	zw := zip.NewWriter(c.Response())
	names := zipNames(assets)
	for i, a := range assets {
		if err := s.zipEntry(ctx, zw, names[i], a); err != nil {
			// The status is sent; a cut archive fails its CRC check, so the
			// client can't take it for a whole one.
			s.cfg.Log.Warn("zip cut short", "asset", a.ID, "err", err)
			return nil
		}
	}
	if credits != "" {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: "CREDITOS.txt", Method: zip.Deflate, Modified: time.Now()})
		if err != nil {
			return nil
		}
		io.WriteString(w, credits)
	}
	if err := zw.Close(); err != nil {
		s.cfg.Log.Warn("zip close", "err", err)
	}
	return nil
}

func (s *Server) zipEntry(ctx context.Context, zw *zip.Writer, name string, a catalog.Asset) error {
	key, err := storage.BlobKey(a.SHA256)
	if err != nil {
		return err
	}
	obj, err := s.store.Open(ctx, key)
	if err != nil {
		return err
	}
	defer obj.Close()
	modified := a.UploadedAt
	if a.CapturedAt != nil {
		modified = *a.CapturedAt
	}
	fh := &zip.FileHeader{Name: name, Method: zip.Store, Modified: modified}
	w, err := zw.CreateHeader(fh)
	if err != nil {
		return err
	}
	_, err = io.Copy(w, ctxReader{ctx, obj})
	return err
}

// ctxReader stops a copy once its context is done (the client left).
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

// zipNames gives each asset a safe, unique entry name: a position number,
// then the file name without directories, control characters or characters
// Windows refuses; an asset without a usable name gets its id and an
// extension from its type.
func zipNames(assets []catalog.Asset) []string {
	width := len(fmt.Sprint(len(assets)))
	used := map[string]bool{}
	out := make([]string, len(assets))
	for i, a := range assets {
		base := safeEntryName(a.Filename)
		if base == "" {
			base = a.ID
			if exts, _ := mime.ExtensionsByType(a.MIME); len(exts) > 0 {
				base += exts[0]
			}
		}
		name := fmt.Sprintf("%0*d_%s", width, i+1, base)
		for n := 2; used[strings.ToLower(name)]; n++ {
			ext := path.Ext(base)
			name = fmt.Sprintf("%0*d_%s (%d)%s", width, i+1, strings.TrimSuffix(base, ext), n, ext)
		}
		used[strings.ToLower(name)] = true
		out[i] = name
	}
	return out
}

func safeEntryName(name string) string {
	name = cleanFilename(name)
	name = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`<>:"/\|?*`, r) || r < 0x20 || r == 0x7f {
			return '_'
		}
		return r
	}, name)
	name = strings.TrimLeft(strings.TrimSpace(name), ".")
	if len(name) > 200 {
		ext := path.Ext(name)
		if len(ext) > 10 {
			ext = ""
		}
		name = strings.ToValidUTF8(name[:200-len(ext)], "") + ext
	}
	return name
}
