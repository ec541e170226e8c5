package catalog

import (
	"fmt"
	"slices"
	"testing"
)

// topFacets keeps the facetSize most frequent values of a facet, by count
// then value, and years newest first.
func TestTopFacets(t *testing.T) {
	slot, counts := map[string]int{}, []int{}
	add := func(term string, n int) { slot[term] = len(counts); counts = append(counts, n) }
	var want []FacetCount
	for i := range 50 { // counts 50, 49, …, 1, with ties broken by value
		v := fmt.Sprintf("tema %02d", i)
		add("t:"+v, 50-i/2*2)
		want = append(want, FacetCount{Value: v, Count: 50 - i/2*2})
	}
	add("y:2019", 3)
	add("y:2025", 1)
	add("y:2021", 7)
	add("k:photo", 9)
	got := topFacets(func(yield func(string, int)) {
		for term, i := range slot {
			yield(term, counts[i])
		}
	})
	if !slices.Equal(got["tag"], want[:facetSize]) {
		t.Errorf("tags = %v, want %v", got["tag"], want[:facetSize])
	}
	if years := []FacetCount{{Value: "2025", Count: 1}, {Value: "2021", Count: 7}, {Value: "2019", Count: 3}}; !slices.Equal(got["year"], years) {
		t.Errorf("years = %v, want %v", got["year"], years)
	}
	if got["person"] == nil || len(got["person"]) != 0 || len(got["kind"]) != 1 {
		t.Errorf("person %v, kind %v: want empty, one", got["person"], got["kind"])
	}
}
