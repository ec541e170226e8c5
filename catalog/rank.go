package catalog

import (
	"bytes"
	"cmp"
	"container/heap"
	"context"
	"slices"

	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"
)

// byRelevance returns the ids of the matches of q ranked from+1 to
// from+size: highest score first, and among equal scores the newest (by
// date_key) first, as SortBy("-_score", "-date_key") would.
//
// Bleve's collector reads the date key of every match before it compares
// scores; a broad word matches hundreds of thousands of assets, nearly all
// of which score below the page and never need their date. This loop reads
// it only for a match that scores at least as high as the lowest-ranked one
// kept so far.
func (x *Index) byRelevance(ctx context.Context, q query.Query, from, size int) (ids []string, err error) {
	adv, err := x.idx.Advanced()
	if err != nil {
		return nil, err
	}
	r, err := adv.Reader()
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := r.Close(); err == nil {
			err = cerr
		}
	}()
	s, err := q.Searcher(ctx, r, x.idx.Mapping(), search.SearcherOptions{})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	dv, err := r.DocValueReader([]string{fDateKey})
	if err != nil {
		return nil, err
	}
	sctx := &search.SearchContext{DocumentMatchPool: search.NewDocumentMatchPool(s.DocumentMatchPoolSize(), 0), IndexReader: r}
	want := from + size
	top := make(rankHeap, 0, want)
	var key []byte
	visit := func(_ string, term []byte) { key = append(key[:0], term...) }
	for n := 0; ; n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		dm, err := s.Next(sctx)
		if err != nil {
			return nil, err
		}
		if dm == nil {
			break
		}
		if len(top) < want || dm.Score >= top[0].score {
			key = key[:0]
			if err := dv.VisitDocValues(dm.IndexInternalID, visit); err != nil {
				return nil, err
			}
			c := ranked{score: dm.Score, key: key}
			switch {
			case len(top) < want:
				c.key, c.id = bytes.Clone(key), bytes.Clone(dm.IndexInternalID)
				heap.Push(&top, c)
			case c.better(top[0]):
				top[0] = ranked{score: c.score, key: append(top[0].key[:0], key...), id: append(top[0].id[:0], dm.IndexInternalID...)}
				heap.Fix(&top, 0)
			}
		}
		sctx.DocumentMatchPool.Put(dm)
	}
	slices.SortFunc(top, func(a, b ranked) int {
		if a.better(b) {
			return -1
		}
		return 1
	})
	if from >= len(top) {
		return []string{}, nil
	}
	ids = make([]string, 0, len(top)-from)
	for _, c := range top[from:] {
		id, err := r.ExternalID(c.id)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// ranked is a match kept for the page: its score, date key and internal id.
type ranked struct {
	score float64
	key   []byte
	id    index.IndexInternalID
}

// better reports whether a ranks before b. Date keys end with the asset
// id, so no two are equal.
func (a ranked) better(b ranked) bool {
	return cmp.Or(cmp.Compare(a.score, b.score), bytes.Compare(a.key, b.key)) > 0
}

// rankHeap keeps the lowest-ranked match on top.
type rankHeap []ranked

func (h rankHeap) Len() int           { return len(h) }
func (h rankHeap) Less(i, j int) bool { return h[j].better(h[i]) }
func (h rankHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *rankHeap) Push(v any)        { *h = append(*h, v.(ranked)) }
func (h *rankHeap) Pop() any {
	old := *h
	v := old[len(old)-1]
	*h = old[:len(old)-1]
	return v
}
