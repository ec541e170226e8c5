package catalog

import (
	"cmp"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"
	bolt "go.etcd.io/bbolt"
)

// facetPrefixes are the facets of a search and how their values are keyed
// in the "facets" field: "k:photo", "e:<event id>", "p:<person id>",
// "t:<folded tag>", "y:2024". The same terms filter searches.
var facetPrefixes = map[string]string{"kind": "k:", "event": "e:", "person": "p:", "tag": "t:", "year": "y:"}

// facetTerm is the term of a facet value in the "facets" field.
func facetTerm(facet, value string) string { return facetPrefixes[facet] + value }

// countFacets counts the facet values of every match of q: the total, and
// for each facet its most frequent values (count, then value, order).
//
// It reads one doc-values field per match instead of one per facet, and
// counts into one table of every value rather than Bleve's facet builders,
// which copy each value to a string and look it up twice per match: on a
// big archive a broad word matches a fifth of it, and this loop is most of
// what such a search costs. The matches are found unscored, which lets
// Bleve answer conjunctions and disjunctions of terms with bitmap
// operations.
func (x *Index) countFacets(ctx context.Context, q query.Query) (total int, facets map[string][]FacetCount, err error) {
	adv, err := x.idx.Advanced()
	if err != nil {
		return 0, nil, err
	}
	r, err := adv.Reader()
	if err != nil {
		return 0, nil, err
	}
	defer func() {
		if cerr := r.Close(); err == nil {
			err = cerr
		}
	}()
	// A big archive is counted in two halves of its documents side by
	// side, each with its own searcher and table: on two cores the facets
	// of a broad word then take about as long as its page of hits.
	parts := []uint64{0, math.MaxUint64}
	if n, err := r.DocCount(); err == nil && n >= uint64(x.cfg.SplitFacetsFrom) && runtime.GOMAXPROCS(0) > 1 {
		parts = []uint64{0, n / 2, math.MaxUint64}
	}
	counters := make([]*facetCounter, len(parts)-1)
	totals := make([]int, len(parts)-1)
	errs := make([]error, len(parts)-1)
	var wg sync.WaitGroup
	for i := range counters {
		wg.Go(func() { totals[i], counters[i], errs[i] = x.countRange(ctx, r, q, parts[i], parts[i+1]) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return 0, nil, err
	}
	for i := 1; i < len(counters); i++ {
		counters[0].merge(counters[i])
		totals[0] += totals[i]
	}
	return totals[0], counters[0].top(), nil
}

// countRange counts the matches of q whose internal document numbers are
// in [lo, hi), and their facet values.
func (x *Index) countRange(ctx context.Context, r index.IndexReader, q query.Query, lo, hi uint64) (total int, fc *facetCounter, err error) {
	s, err := q.Searcher(ctx, r, x.idx.Mapping(), search.SearcherOptions{Score: "none"})
	if err != nil {
		return 0, nil, err
	}
	defer s.Close()
	if fc, err = newFacetCounter(r); err != nil {
		return 0, nil, err
	}
	sctx := &search.SearchContext{DocumentMatchPool: search.NewDocumentMatchPool(s.DocumentMatchPoolSize(), 0), IndexReader: r}
	var dm *search.DocumentMatch
	if lo > 0 {
		dm, err = s.Advance(sctx, index.NewIndexInternalID(nil, lo))
	} else {
		dm, err = s.Next(sctx)
	}
	for ; err == nil && dm != nil && dm.IndexInternalID.Value() < hi; dm, err = s.Next(sctx) {
		if total%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return 0, nil, err
			}
		}
		total++
		if err := fc.add(dm.IndexInternalID); err != nil {
			return 0, nil, err
		}
		sctx.DocumentMatchPool.Put(dm)
	}
	if err != nil {
		return 0, nil, err
	}
	return total, fc, nil
}

// facetCounter counts the "facets" values of matches in one table.
type facetCounter struct {
	dv     index.DocValueReader
	slot   map[string]int
	counts []int
	visit  index.DocValueVisitor
}

func newFacetCounter(r index.IndexReader) (*facetCounter, error) {
	dv, err := r.DocValueReader([]string{fFacets})
	if err != nil {
		return nil, err
	}
	c := &facetCounter{dv: dv, slot: make(map[string]int, 1024)}
	c.visit = func(_ string, term []byte) {
		if i, ok := c.slot[string(term)]; ok { // no allocation: the compiler reads the map with the bytes
			c.counts[i]++
			return
		}
		c.slot[string(term)] = len(c.counts)
		c.counts = append(c.counts, 1)
	}
	return c, nil
}

// add counts the values of one match.
func (c *facetCounter) add(id index.IndexInternalID) error { return c.dv.VisitDocValues(id, c.visit) }

// merge adds other's counts to c's.
func (c *facetCounter) merge(other *facetCounter) {
	for term, j := range other.slot {
		if i, ok := c.slot[term]; ok {
			c.counts[i] += other.counts[j]
		} else {
			c.slot[term] = len(c.counts)
			c.counts = append(c.counts, other.counts[j])
		}
	}
}

// top returns the counted facets: yearFacetSize years (newest first),
// facetSize values of the others, by count then value.
func (c *facetCounter) top() map[string][]FacetCount { return topFacets(c.slot, c.counts) }

// topFacets splits counted "facets" terms into facets and keeps the most
// frequent values of each: yearFacetSize years (newest first), facetSize
// of the others. A broad search counts thousands of tags; each facet keeps
// its best values in a small heap rather than sorting them all.
func topFacets(slot map[string]int, counts []int) map[string][]FacetCount {
	tops := make(map[string]*facetHeap, len(facetPrefixes))
	for name, prefix := range facetPrefixes {
		size := facetSize
		if name == "year" {
			size = yearFacetSize
		}
		tops[prefix] = &facetHeap{size: size}
	}
	for term, i := range slot {
		if len(term) < 2 {
			continue
		}
		if h := tops[term[:2]]; h != nil {
			h.offer(FacetCount{Value: term[2:], Count: counts[i]})
		}
	}
	out := make(map[string][]FacetCount, len(facetPrefixes))
	for name, prefix := range facetPrefixes {
		vals := tops[prefix].vals
		slices.SortFunc(vals, func(a, b FacetCount) int {
			if name == "year" {
				return strings.Compare(b.Value, a.Value)
			}
			return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Value, b.Value))
		})
		if vals == nil {
			vals = []FacetCount{}
		}
		out[name] = vals
	}
	return out
}

// facetHeap keeps the size most frequent values offered (ties: the
// smaller value), the least of them on top.
type facetHeap struct {
	size int
	vals []FacetCount
}

func (h *facetHeap) offer(c FacetCount) {
	switch {
	case len(h.vals) < h.size:
		heap.Push(h, c)
	case facetBefore(c, h.vals[0]):
		h.vals[0] = c
		heap.Fix(h, 0)
	}
}

func facetBefore(a, b FacetCount) bool {
	return a.Count > b.Count || a.Count == b.Count && a.Value < b.Value
}

func (h *facetHeap) Len() int           { return len(h.vals) }
func (h *facetHeap) Less(i, j int) bool { return facetBefore(h.vals[j], h.vals[i]) }
func (h *facetHeap) Swap(i, j int)      { h.vals[i], h.vals[j] = h.vals[j], h.vals[i] }
func (h *facetHeap) Push(v any)         { h.vals = append(h.vals, v.(FacetCount)) }
func (h *facetHeap) Pop() any {
	v := h.vals[len(h.vals)-1]
	h.vals = h.vals[:len(h.vals)-1]
	return v
}

// facetCache holds the facets of the whole archive (the unfiltered search,
// the archive's front page) for one index generation: counting them reads
// every document's values, the dearest part of a search on a big archive,
// and they change only when the index does.
type facetCache struct {
	mu     sync.Mutex
	gen    uint64
	ok     bool
	total  int
	facets map[string][]FacetCount
}

func (c *facetCache) get(gen uint64) (facets map[string][]FacetCount, total int, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.facets, c.total, c.ok && c.gen == gen
}

func (c *facetCache) put(gen uint64, total int, f map[string][]FacetCount) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.ok || gen >= c.gen {
		c.gen, c.ok, c.total, c.facets = gen, true, total, f
	}
}

// labelFacets names the event and person ids of facets from the catalog,
// so renames show at once.
func (c *Catalog) labelFacets(f map[string][]FacetCount) error {
	err := c.db.View(func(tx *bolt.Tx) error {
		for facet, bucket := range map[string][]byte{"event": bEvents, "person": bPeople} {
			for i := range f[facet] {
				var v vocabNames
				if getJSON(tx.Bucket(bucket), []byte(f[facet][i].Value), &v) == nil {
					f[facet][i].Label = v.Name
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: label facets: %w", err)
	}
	return nil
}
