// Package catalogtest opens real catalogs for tests: a bbolt file in
// t.TempDir() whose consistency is checked when the test ends, like bbolt's
// own internal/btesting.
package catalogtest

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/comsoc/acervo/catalog"
)

// Open returns a fresh catalog that is checked and closed on cleanup.
// now may be nil for the real clock.
func Open(t testing.TB, now func() time.Time) *catalog.Catalog {
	t.Helper()
	path := filepath.Join(t.TempDir(), "catalog.db")
	c, err := catalog.Open(catalog.Config{Path: path, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Check(); err != nil {
			t.Errorf("catalog consistency: %v", err)
		}
		if err := c.Close(); err != nil {
			t.Errorf("close catalog: %v", err)
		}
	})
	return c
}
