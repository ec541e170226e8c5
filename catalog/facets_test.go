package catalog_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/catalog/catalogtest"
)

// Facets counted in two halves of the archive (as on a big one) are the
// facets of every match.
func TestSearchFacetsInHalves(t *testing.T) {
	cat := catalogtest.Open(t, nil)
	x, err := catalog.OpenIndex(catalog.IndexConfig{Path: filepath.Join(t.TempDir(), "index"), Catalog: cat, Poll: 20 * time.Millisecond, SplitFacetsFrom: 1, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	waitSearchable(t, x)
	want := map[string]map[string]int{"kind": {}, "tag": {}, "year": {}}
	total := 0
	for i := range 30 {
		f := fixture{Captured: time.Date(2020+i%5, 3, 1, 12, 0, 0, 0, time.UTC)}
		f.Title, f.Kind, f.Tags = "Escuela", catalog.KindPhoto, []string{fmt.Sprintf("tema %d", i%4)}
		if i%2 == 1 {
			f.Kind = catalog.KindVideo
		}
		if i%3 != 0 {
			f.Title = fmt.Sprintf("Parque %d", i)
			total++
			want["kind"][f.Kind]++
			want["tag"][f.Tags[0]]++
			want["year"][fmt.Sprint(2020+i%5)]++
		}
		addAssets(t, cat, f) // one at a time: several segments
	}
	waitIndexed(t, cat)
	res := search(t, x, catalog.SearchRequest{Q: "parque"})
	if res.Total != total {
		t.Errorf("total %d, want %d", res.Total, total)
	}
	for facet, values := range want {
		got := map[string]int{}
		for _, f := range res.Facets[facet] {
			got[f.Value] = f.Count
		}
		if fmt.Sprint(got) != fmt.Sprint(values) {
			t.Errorf("facet %s = %v, want %v", facet, got, values)
		}
	}
}
