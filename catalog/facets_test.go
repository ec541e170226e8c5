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

// Facets counted from decoded segment columns, from doc values, or from
// both at once (big segments still decoding) are the same counts, and stay
// right as edits and trashing leave deleted documents behind in old
// segments.
func TestSearchFacetsColumns(t *testing.T) {
	for _, syncDocs := range []uint64{0, 1} {
		t.Run(fmt.Sprint("sync-", syncDocs), func(t *testing.T) {
			cat := catalogtest.Open(t, nil)
			x, err := catalog.OpenIndex(catalog.IndexConfig{Path: filepath.Join(t.TempDir(), "index"), Catalog: cat, Poll: 20 * time.Millisecond, SplitFacetsFrom: 1, Log: quiet})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { x.Close() })
			if syncDocs > 0 {
				catalog.SetSyncDecodeDocsForTest(x, syncDocs)
			}
			waitSearchable(t, x)
			tags := map[string][]string{}
			var ids []string
			for i := range 24 {
				f := fixture{}
				f.Title, f.Tags = "Mercado", []string{fmt.Sprintf("tema %d", i%3), fmt.Sprintf("zona %d", i%5)}
				id := addAssets(t, cat, f)[0] // one at a time: several segments
				ids = append(ids, id)
				tags[id] = f.Tags
			}
			check := func(step string) {
				t.Helper()
				waitIndexed(t, cat)
				want := map[string]int{}
				for _, ts := range tags {
					for _, tag := range ts {
						want[tag]++
					}
				}
				// Several times: background decoding moves segments from one
				// way of counting to the other between searches.
				for range 5 {
					res := search(t, x, catalog.SearchRequest{Q: "mercado"})
					got := map[string]int{}
					for _, f := range res.Facets["tag"] {
						got[f.Value] = f.Count
					}
					if res.Total != len(tags) || fmt.Sprint(got) != fmt.Sprint(want) {
						t.Fatalf("%s: total %d tags %v, want %d %v", step, res.Total, got, len(tags), want)
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
			check("created")
			retag := []string{"tema nuevo"}
			if _, err := cat.EditAssets(catalog.Actor{}, ids[:10], catalog.AssetEdit{Tags: &retag}, nil); err != nil {
				t.Fatal(err)
			}
			for _, id := range ids[:10] {
				tags[id] = retag
			}
			check("retagged")
			for _, id := range ids[20:] {
				if _, err := cat.TrashAsset(catalog.Actor{}, id, nil); err != nil {
					t.Fatal(err)
				}
				delete(tags, id)
			}
			check("trashed")
		})
	}
}
