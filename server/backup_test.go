package server_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/comsoc/acervo/catalog"
)

// TestCatalogSnapshot: an admin's GET /api/v1/backup/catalog is a bbolt
// file that opens, passes bbolt's check, holds the assets and its own
// audit entry, and leaves nothing in staging.
func TestCatalogSnapshot(t *testing.T) {
	e := start(t)
	admin := e.login()
	var a assetJSON
	decode(t, admin.upload("foto.jpg", photo(t, 64, 48, 7), nil), http.StatusCreated, &a)

	resp := admin.do("GET", "/api/v1/backup/catalog", "", nil, nil)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/backup/catalog = %d", resp.StatusCode)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := resp.Header.Get("Content-Length"), strconv.Itoa(len(body)); got != want || len(body) == 0 {
		t.Errorf("Content-Length %s for %s bytes", got, want)
	}
	if got := resp.Header.Get("Acervo-Catalog-Path"); !filepath.IsAbs(got) || !strings.HasSuffix(got, ".db") {
		t.Errorf("Acervo-Catalog-Path %q, want the catalog file's absolute path", got)
	}
	path := filepath.Join(t.TempDir(), "catalog.db")
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	snap, err := catalog.OpenReadOnly(catalog.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	if err := snap.Check(); err != nil {
		t.Fatal(err)
	}
	if got, err := snap.Asset(a.ID); err != nil || got.SHA256 != a.SHA256 {
		t.Errorf("snapshot: asset %s = %+v, %v", a.ID, got, err)
	}
	if _, err := snap.VerifyAudit(); err != nil {
		t.Errorf("snapshot: audit chain: %v", err)
	}
	entries, _, err := snap.AuditLog(catalog.AuditFilter{Action: catalog.AuditBackup})
	if err != nil || len(entries) != 1 || entries[0].User != "admin" {
		t.Errorf("snapshot: backup audit entries %+v, %v; want one by admin", entries, err)
	}
	// The handler removes its file after the last byte is sent, which may
	// be just after the client has read it.
	dir := filepath.Join(e.data, "staging", "backup")
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && countFiles(dir) > 0; {
		time.Sleep(10 * time.Millisecond)
	}
	assertNoFiles(t, dir)
}

func countFiles(dir string) (n int) {
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n++
		}
		return nil
	})
	return n
}
