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
// The matches are found unscored, which lets Bleve answer conjunctions and
// disjunctions of terms with bitmap operations, and each match's values
// are counted from the segment's decoded column (see facetcols.go) into an
// array, or, in a segment not decoded yet, from its one "facets" doc value
// into a table: on a big archive a broad word matches a fifth of it, and
// this loop is most of what such a search costs.
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
	view := x.facetCols.view(r, x.stop, &x.wg)
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
		wg.Go(func() { totals[i], counters[i], errs[i] = x.countRange(ctx, r, view, q, parts[i], parts[i+1]) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return 0, nil, err
	}
	for i := 1; i < len(counters); i++ {
		counters[0].merge(counters[i])
		totals[0] += totals[i]
	}
	return totals[0], counters[0].top(&x.facetCols), nil
}

// countRange counts the matches of q whose internal document numbers are
// in [lo, hi), and their facet values.
func (x *Index) countRange(ctx context.Context, r index.IndexReader, view *facetView, q query.Query, lo, hi uint64) (total int, fc *facetCounter, err error) {
	s, err := q.Searcher(ctx, r, x.idx.Mapping(), search.SearcherOptions{Score: "none"})
	if err != nil {
		return 0, nil, err
	}
	defer s.Close()
	if fc, err = newFacetCounter(r, view); err != nil {
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

// facetCounter counts the "facets" values of matches: by dictionary id
// for matches in decoded segments, by term for the others.
type facetCounter struct {
	view   *facetView // nil: count every match from doc values
	seg    int        // segment of the last match: a searcher goes in document order
	counts []int      // by dictionary id
	dv     index.DocValueReader
	slot   map[string]int // term → index in other
	other  []int
	visit  index.DocValueVisitor
}

func newFacetCounter(r index.IndexReader, view *facetView) (*facetCounter, error) {
	dv, err := r.DocValueReader([]string{fFacets})
	if err != nil {
		return nil, err
	}
	c := &facetCounter{view: view, dv: dv, slot: make(map[string]int, 64)}
	if view != nil {
		c.counts = make([]int, len(view.terms))
	}
	c.visit = func(_ string, term []byte) {
		if i, ok := c.slot[string(term)]; ok { // no allocation: the compiler reads the map with the bytes
			c.other[i]++
			return
		}
		c.slot[string(term)] = len(c.other)
		c.other = append(c.other, 1)
	}
	return c, nil
}

// add counts the values of one match.
func (c *facetCounter) add(id index.IndexInternalID) error {
	if v := c.view; v != nil {
		doc := id.Value()
		for c.seg+1 < len(v.offsets) && v.offsets[c.seg+1] <= doc {
			c.seg++
		}
		if col := v.cols[c.seg]; col != nil {
			local := doc - v.offsets[c.seg]
			for _, t := range col.ids[col.starts[local]:col.starts[local+1]] {
				c.counts[t]++
			}
			return nil
		}
	}
	return c.dv.VisitDocValues(id, c.visit)
}

// merge adds other's counts to c's; both count with the same view.
func (c *facetCounter) merge(other *facetCounter) {
	for i, n := range other.counts {
		c.counts[i] += n
	}
	for term, j := range other.slot {
		if i, ok := c.slot[term]; ok {
			c.other[i] += other.other[j]
		} else {
			c.slot[term] = len(c.other)
			c.other = append(c.other, other.other[j])
		}
	}
}

// top returns the counted facets: yearFacetSize years (newest first),
// facetSize values of the others, by count then value. A term counted
// both ways (its value is in decoded and undecoded segments) is summed.
func (c *facetCounter) top(cols *facetColumns) map[string][]FacetCount {
	for term, i := range c.slot {
		if id, ok := cols.lookup(term); ok && int(id) < len(c.counts) {
			c.counts[id] += c.other[i]
			delete(c.slot, term)
		}
	}
	return topFacets(func(yield func(term string, count int)) {
		for id, n := range c.counts {
			if n > 0 {
				yield(c.view.terms[id], n)
			}
		}
		for term, i := range c.slot {
			yield(term, c.other[i])
		}
	})
}

// topFacets splits counted "facets" terms into facets and keeps the most
// frequent values of each: yearFacetSize years (newest first), facetSize
// of the others. A broad search counts thousands of tags; each facet keeps
// its best values in a small heap rather than sorting them all. each
// calls yield once per counted term.
func topFacets(each func(yield func(term string, count int))) map[string][]FacetCount {
	tops := make(map[string]*facetHeap, len(facetPrefixes))
	for name, prefix := range facetPrefixes {
		size := facetSize
		if name == "year" {
			size = yearFacetSize
		}
		tops[prefix] = &facetHeap{size: size}
	}
	each(func(term string, count int) {
		if len(term) < 2 {
			return
		}
		if h := tops[term[:2]]; h != nil {
			h.offer(FacetCount{Value: term[2:], Count: count})
		}
	})
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
