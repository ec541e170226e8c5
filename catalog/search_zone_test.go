package catalog_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/catalog/catalogtest"
)

// The year facet counts an asset in the year of its date in the office's
// zone: the last evening of 2024 in Mexico City is already 2025 in UTC.
func TestSearchYearFacetInOfficeZone(t *testing.T) {
	mx, err := time.LoadLocation("America/Mexico_City")
	if err != nil {
		t.Fatal(err)
	}
	cat := catalogtest.Open(t, nil)
	path := filepath.Join(t.TempDir(), "index")
	open := func(zone *time.Location) *catalog.Index {
		x, err := catalog.OpenIndex(catalog.IndexConfig{Path: path, Catalog: cat, Poll: 20 * time.Millisecond, Zone: zone, Log: quiet})
		if err != nil {
			t.Fatal(err)
		}
		waitSearchable(t, x)
		return x
	}
	x := open(mx)
	nye := time.Date(2024, 12, 31, 22, 0, 0, 0, mx) // 2025-01-01 04:00 UTC
	ids := addAssets(t, cat,
		fixture{NewAsset: catalog.NewAsset{Title: "Brindis de fin de año"}, Captured: nye},
		fixture{NewAsset: catalog.NewAsset{Title: "Primer desfile del año"}, Captured: nye.Add(3 * time.Hour)}, // 01:00 on Jan 1st
	)
	waitIndexed(t, cat)
	years := func(x *catalog.Index) map[string]int {
		got := map[string]int{}
		for _, f := range search(t, x, catalog.SearchRequest{}).Facets["year"] {
			got[f.Value] = f.Count
		}
		return got
	}
	if got := years(x); got["2024"] != 1 || got["2025"] != 1 || len(got) != 2 {
		t.Errorf("year facet in Mexico City = %v, want 2024: 1, 2025: 1", got)
	}
	// The days of 2024 in Mexico City, as the API's from/to give them.
	from, to := time.Date(2024, 1, 1, 0, 0, 0, 0, mx), time.Date(2025, 1, 1, 0, 0, 0, 0, mx)
	if got := search(t, x, catalog.SearchRequest{From: &from, To: &to}).IDs; len(got) != 1 || got[0] != ids[0] {
		t.Errorf("2024 in Mexico City finds %v, want %s", got, ids[0])
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}

	// An index whose years were counted in another zone is rebuilt.
	x = open(time.UTC)
	defer x.Close()
	if got := years(x); got["2025"] != 2 || len(got) != 1 {
		t.Errorf("year facet in UTC = %v, want 2025: 2", got)
	}
}
