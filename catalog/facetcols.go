package catalog

import (
	"cmp"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2/index/scorch"
	index "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// Facet columns: the "facets" doc values of each index segment, decoded
// once into memory as numbers.
//
// Counting the facets of a broad word on a big archive visits tens of
// thousands of matches; read from Bleve's doc values, each visit finds the
// document's chunk, splits its terms and looks each up in a table by its
// bytes, and that was most of what such a search cost. Bleve's segments
// are immutable (a change writes a new segment and marks the old document
// deleted), so what a segment holds can be decoded once and kept: a match
// then costs a few array increments. A column lives as long as its
// segment is in use; a segment merged away drops its column.
//
// Memory: one uint32 per facet value of each document plus one per
// document (about 40 MB for a million assets with eight values each).

// facetColumns is the cache of decoded segments and the dictionary of the
// facet terms they hold. The zero value is ready; it is safe for
// concurrent use.
type facetColumns struct {
	mu       sync.Mutex
	dict     map[string]uint32 // term → id; ids index terms
	terms    []string          // only appended to: a prefix of it never changes
	cols     map[segment.Segment]*facetColumn
	building map[segment.Segment]bool
	buildSem chan struct{} // one big segment decoded at a time
	syncDocs uint64        // syncDecodeDocs unless set (tests)
}

// facetColumn is one segment's facet values: document d's are
// ids[starts[d]:starts[d+1]].
type facetColumn struct {
	starts []uint32
	ids    []uint32
	used   time.Time // last handed to a search; guarded by facetColumns.mu
}

// Decoding tunables. A segment of up to syncDecodeDocs documents (what an
// upload or a batch of edits writes) is decoded by the search that first
// meets it, which costs it less than a millisecond; bigger ones (merges,
// rebuilds) are decoded in the background while searches read their doc
// values as before. A column unused for columnIdle whose segment has left
// the index is dropped.
const (
	syncDecodeDocs = 8192
	columnIdle     = 30 * time.Second
)

// facetView is what one search counts with: for each segment of its
// index snapshot, where its document numbers start and its column (nil
// while not decoded: read the doc values).
type facetView struct {
	offsets []uint64
	cols    []*facetColumn
	terms   []string // the dictionary as of the view; column ids are below len(terms)
}

// view returns the columns of the segments of r, decoding small ones now
// and starting the decoding of big ones. stop ends background decoding;
// wg tracks it. A reader that is not a scorch snapshot gets nil: count
// from doc values.
func (fc *facetColumns) view(r index.IndexReader, stop <-chan struct{}, wg *sync.WaitGroup) *facetView {
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		return nil
	}
	segs := snap.Segments()
	v := &facetView{offsets: make([]uint64, len(segs)), cols: make([]*facetColumn, len(segs))}
	var small []int
	now := time.Now()

	fc.mu.Lock()
	if fc.cols == nil {
		fc.dict, fc.cols, fc.building = map[string]uint32{}, map[segment.Segment]*facetColumn{}, map[segment.Segment]bool{}
		fc.buildSem = make(chan struct{}, 1)
	}
	var running uint64
	live := make(map[segment.Segment]bool, len(segs))
	for i, ss := range segs {
		seg := ss.Segment()
		live[seg] = true
		// Global document numbers run through the segments in order, each
		// taking as many as it holds, deleted ones included (scorch's
		// IndexSnapshot.offsets).
		v.offsets[i] = running
		running += seg.Count()
		switch col := fc.cols[seg]; {
		case col != nil:
			col.used = now
			v.cols[i] = col
		case seg.Count() <= cmp.Or(fc.syncDocs, syncDecodeDocs):
			small = append(small, i)
		case !fc.building[seg]:
			fc.building[seg] = true
			snap.AddRef() // the segment stays open while it is decoded
			wg.Go(func() {
				defer snap.DecRef()
				select {
				case fc.buildSem <- struct{}{}:
					defer func() { <-fc.buildSem }()
				case <-stop:
					fc.doneBuilding(seg, nil, nil)
					return
				}
				col, local := decodeFacets(seg, stop)
				fc.doneBuilding(seg, col, local)
			})
		}
	}
	for seg, col := range fc.cols {
		if !live[seg] && now.Sub(col.used) > columnIdle {
			delete(fc.cols, seg)
		}
	}
	fc.mu.Unlock()

	for _, i := range small {
		seg := segs[i].Segment()
		col, local := decodeFacets(seg, nil)
		v.cols[i] = fc.doneBuilding(seg, col, local)
	}
	fc.mu.Lock()
	v.terms = fc.terms
	fc.mu.Unlock()
	return v
}

// doneBuilding publishes a decoded column, its ids renumbered from the
// segment's own dictionary (local) into the shared one. A nil col (the
// segment had no facet doc values, or decoding stopped) publishes nothing.
func (fc *facetColumns) doneBuilding(seg segment.Segment, col *facetColumn, local []string) *facetColumn {
	if col == nil {
		fc.mu.Lock()
		delete(fc.building, seg)
		fc.mu.Unlock()
		return nil
	}
	remap := make([]uint32, len(local))
	fc.mu.Lock()
	for i, term := range local {
		id, ok := fc.dict[term]
		if !ok {
			id = uint32(len(fc.terms))
			fc.dict[term] = id
			fc.terms = append(fc.terms, term)
		}
		remap[i] = id
	}
	fc.mu.Unlock()
	// The column is not published yet: renumber it without the lock.
	for i, id := range col.ids {
		col.ids[i] = remap[id]
	}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	delete(fc.building, seg)
	col.used = time.Now()
	fc.cols[seg] = col
	return col
}

// lookup returns the id of term in the dictionary.
func (fc *facetColumns) lookup(term string) (uint32, bool) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	id, ok := fc.dict[term]
	return id, ok
}

// decodeFacets reads the "facets" doc values of every document of seg,
// numbering terms in the order met (local holds them). It returns nil when
// the segment can't visit doc values or stop closes.
func decodeFacets(seg segment.Segment, stop <-chan struct{}) (col *facetColumn, local []string) {
	dvv, ok := seg.(segment.DocValueVisitable)
	n := seg.Count()
	if !ok || n >= 1<<31 {
		return nil, nil
	}
	dict := map[string]uint32{}
	col = &facetColumn{starts: make([]uint32, 0, n+1), ids: make([]uint32, 0, n*8)}
	visit := func(_ string, term []byte) {
		id, ok := dict[string(term)]
		if !ok {
			id = uint32(len(local))
			dict[string(term)] = id
			local = append(local, string(term))
		}
		col.ids = append(col.ids, id)
	}
	fields := []string{fFacets}
	var state segment.DocVisitState
	for d := range n {
		if d%4096 == 0 && stop != nil {
			select {
			case <-stop:
				return nil, nil
			default:
			}
		}
		if len(col.ids) >= 1<<32-1 {
			return nil, nil
		}
		col.starts = append(col.starts, uint32(len(col.ids)))
		var err error
		if state, err = dvv.VisitDocValues(d, fields, visit, state); err != nil {
			return nil, nil
		}
	}
	col.starts = append(col.starts, uint32(len(col.ids)))
	return col, local
}
