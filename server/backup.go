package server

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/comsoc/acervo/catalog"
)

// getCatalogSnapshot: GET /api/v1/backup/catalog (admins) answers a
// consistent copy of the whole catalog, a bbolt file, for `acervo backup`
// and `acervo verify` while the server holds the catalog's lock.
//
// The snapshot is first written to a file in staging and then sent from
// it: bbolt's read transaction stays open only while a local disk is
// written, never while a slow client reads, since a writer that must grow
// the catalog waits for every open read transaction. One snapshot is made
// at a time (409 while another is). Acervo-Catalog-Path names the catalog
// file, for the client to check it copies that data folder. The request
// is audited before the snapshot is made, so the snapshot holds its entry.
func (s *Server) getCatalogSnapshot(c echo.Context) error {
	select {
	case s.backupSlot <- struct{}{}:
		defer func() { <-s.backupSlot }()
	default:
		return errorf(http.StatusConflict, "backup_running", "Ya se está tomando una copia del catálogo; intente en un momento / a catalog snapshot is already being taken; try again shortly")
	}
	if err := s.cat.Audit(actor(c), catalog.AuditEntry{Action: catalog.AuditBackup}); err != nil {
		return err
	}
	dir := filepath.Join(s.stagingDir(), "backup")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "catalog-*")
	if err != nil {
		return err
	}
	defer func() {
		f.Close()
		os.Remove(f.Name())
	}()
	n, err := s.cat.Snapshot(f)
	if err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.FormatInt(n, 10))
	h.Set("Content-Disposition", attachment("catalog.db"))
	h.Set("Cache-Control", "no-store")
	// So `acervo backup --data D` can tell that this server's catalog is
	// D's, not another data folder's (it reads D's files next).
	if p, err := filepath.Abs(s.cat.Path()); err == nil {
		h.Set("Acervo-Catalog-Path", p)
	}
	c.Response().WriteHeader(http.StatusOK)
	// *os.File: net/http sends it with sendfile(2).
	if _, err := io.Copy(c.Response(), f); err != nil {
		// The header is sent: the client sees fewer bytes than promised.
		s.cfg.Log.Warn("catalog snapshot cut mid-stream", "err", fmt.Errorf("server: send snapshot: %w", err))
	}
	return nil
}

// stagingDir is where the server may keep scratch files: the store's
// staging folder (emptied at start), or the system's temporary folder for
// stores without one.
func (s *Server) stagingDir() string {
	if sd, ok := s.store.(interface{ StagingDir() string }); ok {
		return sd.StagingDir()
	}
	return os.TempDir()
}
