package catalog_test

import (
	"slices"
	"testing"
	"time"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/catalog/catalogtest"
)

// Relevance ranks a word in an asset's name above the same word in a
// caption, and among equal scores the newest first, page after page.
func TestSearchRelevance(t *testing.T) {
	cat := catalogtest.Open(t, nil)
	x := openIndex(t, cat, "")
	d := func(y int) time.Time { return time.Date(y, 6, 1, 12, 0, 0, 0, time.UTC) }
	ids := addAssets(t, cat,
		fixture{NewAsset: catalog.NewAsset{Title: "Vecinos", Caption: "Vecinos en el mercado nuevo"}, Captured: d(2025)},
		fixture{NewAsset: catalog.NewAsset{Title: "Mercado nuevo"}, Captured: d(2019)},
		fixture{NewAsset: catalog.NewAsset{Title: "Mercado nuevo"}, Captured: d(2023)},
		fixture{NewAsset: catalog.NewAsset{Title: "Mercado nuevo"}, Captured: d(2021)},
		fixture{NewAsset: catalog.NewAsset{Title: "Escuela"}, Captured: d(2024)},
	)
	waitIndexed(t, cat)
	want := []string{ids[2], ids[3], ids[1], ids[0]}
	if got := search(t, x, catalog.SearchRequest{Q: "mercado"}).IDs; !slices.Equal(got, want) {
		t.Errorf("by relevance got %v, want %v", got, want)
	}
	for page := 1; page <= 3; page++ {
		res := search(t, x, catalog.SearchRequest{Q: "mercado", Page: page, PerPage: 2})
		lo, hi := min((page-1)*2, len(want)), min(page*2, len(want))
		if !slices.Equal(res.IDs, want[lo:hi]) || res.Total != len(want) {
			t.Errorf("page %d of 2: got %v (total %d), want %v (total %d)", page, res.IDs, res.Total, want[lo:hi], len(want))
		}
	}
}
