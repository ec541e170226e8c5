package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/comsoc/acervo/catalog"
)

// Source is where a catalog snapshot comes from: the data folder's
// catalog.db itself when no server holds it, otherwise the running
// server's GET /api/v1/backup/catalog.
type Source struct {
	// Data is the data folder. Required.
	Data string
	// URL is the running server's base address, used only when the
	// catalog is locked. Default http://127.0.0.1:8080.
	URL string
	// Token is an admin's bearer token for URL.
	Token string
	// Client makes the request. Default: an http.Client without a
	// timeout (a large catalog takes a while), cancelled by the context.
	Client *http.Client
	// LockWait is how long to wait for the catalog's lock before asking
	// the server instead. Default 300ms.
	LockWait time.Duration
}

func (s *Source) withDefaults() error {
	if s.Data == "" {
		return errors.New("backup: Source.Data is required")
	}
	if s.URL == "" {
		s.URL = "http://127.0.0.1:8080"
	}
	s.URL = strings.TrimSuffix(s.URL, "/")
	if s.Client == nil {
		s.Client = &http.Client{}
	}
	if s.LockWait <= 0 {
		s.LockWait = 300 * time.Millisecond
	}
	return nil
}

// How a snapshot was taken.
const (
	FromFile   = "file"   // the catalog was free: read directly
	FromServer = "server" // the server holds it: fetched over HTTP
)

// SnapshotTo writes a consistent copy of the catalog to f (from its
// current offset), fsyncs it and checks it with bbolt's consistency check.
// It returns FromFile or FromServer and the size.
func (s Source) SnapshotTo(ctx context.Context, f *os.File) (how string, n int64, err error) {
	if err := s.withDefaults(); err != nil {
		return "", 0, err
	}
	path := filepath.Join(s.Data, "catalog.db")
	cat, err := catalog.OpenReadOnly(catalog.Config{Path: path, LockTimeout: s.LockWait})
	switch {
	case err == nil:
		how = FromFile
		n, err = cat.Snapshot(f)
		if cerr := cat.Close(); err == nil {
			err = cerr
		}
	case errors.Is(err, bolterrors.ErrTimeout):
		how = FromServer
		n, err = s.fetch(ctx, f)
	case errors.Is(err, os.ErrNotExist):
		return "", 0, fmt.Errorf("backup: no catalog at %s: is --data the data folder?", path)
	}
	if err != nil {
		return how, n, err
	}
	if err := f.Sync(); err != nil {
		return how, n, fmt.Errorf("backup: sync snapshot: %w", err)
	}
	snap, err := catalog.OpenReadOnly(catalog.Config{Path: f.Name()})
	if err != nil {
		return how, n, fmt.Errorf("backup: the snapshot does not open: %w", err)
	}
	defer snap.Close()
	if err := snap.Check(); err != nil {
		return how, n, fmt.Errorf("backup: the snapshot is damaged: %w", err)
	}
	return how, n, nil
}

// fetch asks the running server for a snapshot.
func (s Source) fetch(ctx context.Context, w io.Writer) (int64, error) {
	url := s.URL + "/api/v1/backup/catalog"
	if s.Token == "" {
		return 0, fmt.Errorf("backup: the catalog in %s is in use by acervo serve; set ACERVO_TOKEN to an admin's token so the snapshot can be asked of %s (make one with POST /api/v1/tokens)", s.Data, s.URL)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+s.Token)
	resp, err := s.Client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("backup: the catalog in %s is in use, and its server does not answer at %s (--url): %w", s.Data, s.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct{ Message string } `json:"error"`
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		msg := strings.TrimSpace(string(body))
		if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
			msg = e.Error.Message
		}
		switch resp.StatusCode {
		case http.StatusUnauthorized:
			msg += " (ACERVO_TOKEN is not a valid token)"
		case http.StatusForbidden:
			msg += " (ACERVO_TOKEN must belong to an admin)"
		}
		return 0, fmt.Errorf("backup: GET %s: %s: %s", url, resp.Status, msg)
	}
	if p := resp.Header.Get("Acervo-Catalog-Path"); p != "" && !sameFile(p, filepath.Join(s.Data, "catalog.db")) {
		return 0, fmt.Errorf("backup: the server at %s serves the catalog %s, not the one in %s: point --url at the server of --data", s.URL, p, s.Data)
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("backup: receive snapshot: %w", err)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return n, fmt.Errorf("backup: snapshot cut short: %d of %d bytes", n, resp.ContentLength)
	}
	return n, nil
}

// openSnapshot takes a snapshot into a temporary file in dir (the system's
// when empty) and opens it; done closes and removes it.
func (s Source) openSnapshot(ctx context.Context, dir string) (cat *catalog.Catalog, how string, done func(), err error) {
	f, err := os.CreateTemp(dir, "acervo-catalog-*")
	if err != nil {
		return nil, "", nil, fmt.Errorf("backup: %w", err)
	}
	remove := func() { f.Close(); os.Remove(f.Name()) }
	if how, _, err = s.SnapshotTo(ctx, f); err != nil {
		remove()
		return nil, how, nil, err
	}
	cat, err = catalog.OpenReadOnly(catalog.Config{Path: f.Name()})
	if err != nil {
		remove()
		return nil, how, nil, err
	}
	return cat, how, func() { cat.Close(); remove() }, nil
}

func sameFile(a, b string) bool {
	sa, err := os.Stat(a)
	if err != nil {
		return false
	}
	sb, err := os.Stat(b)
	return err == nil && os.SameFile(sa, sb)
}
