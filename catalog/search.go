package catalog

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
	bolt "go.etcd.io/bbolt"
)

// Search limits. Search input is user input: these bound what one request
// can make the index do (issue 4, "a hostile query can't stall the server").
const (
	MaxQueryBytes     = 500
	MaxQueryTerms     = 16
	DefaultPerPage    = 50
	MaxPerPage        = 200
	MaxSearchWindow   = 10000 // page × per_page: deep paging costs a sort of all hits before it
	minFuzzyRunes     = 5     // shorter words get no typo tolerance: too many neighbours
	minFuzzy2Runes    = 9     // words this long tolerate two edits
	maxFuzzyRunes     = 40    // longer "words" are not typos but attacks on the automaton
	facetSize         = 20
	yearFacetSize     = 100
	fuzzyPrefixLength = 1 // typos rarely hit the first letter, and a fixed prefix keeps expansion small
)

// Sort orders of SearchRequest.Sort.
const (
	SortRelevance      = "relevance"
	SortCapturedAsc    = "captured_at"
	SortCapturedDesc   = "-captured_at"
	SortUploadedNewest = "uploaded_at"
)

// ErrSearchTimeout is returned when a search takes longer than
// IndexConfig.SearchTimeout.
var ErrSearchTimeout = errors.New("catalog: search timed out")

// SearchRequest is one search. Zero values mean "no filter" and the
// documented defaults.
type SearchRequest struct {
	// Q is free text: words and "quoted phrases", all required. Words
	// match accent-insensitively, stemmed, and with one or two typos when
	// long; phrases need their words adjacent. No query syntax is exposed.
	Q string
	// Kind, Event (id), Person (id) and Tag filter exactly; Tag ignores case.
	Kind, Event, Person, Tag string
	// From (inclusive) and To (exclusive) bound the asset's date: capture
	// time, else upload time.
	From, To *time.Time
	// Sort is SortRelevance (the default when Q is set), SortCapturedAsc,
	// SortCapturedDesc (the default without Q), or SortUploadedNewest
	// (also spelled "-uploaded_at").
	Sort string
	// Page counts from 1 (default 1); PerPage defaults to DefaultPerPage,
	// at most MaxPerPage, and Page×PerPage may not exceed MaxSearchWindow.
	Page, PerPage int
}

// FacetCount is one value of a facet. Label is the name of an event or
// person id; empty for other facets.
type FacetCount struct {
	Value string `json:"value"`
	Label string `json:"label,omitempty"`
	Count int    `json:"count"`
}

// SearchResult is one page of asset ids, best first, with the total and the
// facets of the whole matching set: "kind", "event", "person", "tag", "year".
// Facets may be shared between results: callers must not modify them.
type SearchResult struct {
	Total         int
	Page, PerPage int
	IDs           []string
	Facets        map[string][]FacetCount
}

// Search runs req. Invalid requests return errors wrapping ErrInvalid with
// a message for users; while the index is rebuilt it returns ErrReindexing.
func (x *Index) Search(ctx context.Context, req SearchRequest) (SearchResult, error) {
	if err := req.normalize(); err != nil {
		return SearchResult{}, err
	}
	if x.rebuilding.Load() {
		return SearchResult{}, ErrReindexing
	}
	q, err := x.buildQuery(req)
	if err != nil {
		return SearchResult{}, err
	}
	// Hits and facets are two searches run side by side: the page needs
	// sorting (and scores, for relevance) over the matches, the facets need
	// every match's values but no order or scores; on a multi-core machine
	// the two costs overlap instead of adding up.
	// The unfiltered search reuses the archive's facets while the index is
	// unchanged. gen is read before searching, so a change during the
	// search leaves the cache keyed to the older generation.
	everything, gen := req.unfiltered(), x.gen.Load()
	cached, cachedTotal, useCache := x.allFacets.get(gen)
	useCache = useCache && everything
	ctx, cancel := context.WithTimeout(ctx, x.cfg.SearchTimeout)
	defer cancel()
	var (
		total  int
		facets map[string][]FacetCount
		ids    []string
	)
	// The two searches read the index each at its own moment: an asset
	// indexed between them would be counted but not listed (a page saying
	// "1 result" and showing none), or the other way round. When the page
	// doesn't hold what the total promises, the index moved: search again,
	// once (a second move so soon is rare, and the answer is then only as
	// stale as a search a moment earlier).
	for attempt := 0; ; attempt++ {
		total, facets = cachedTotal, cached
		var ferr error
		var wg sync.WaitGroup
		if !useCache {
			wg.Go(func() { total, facets, ferr = x.countFacets(ctx, q) })
		}
		ids, err = x.hits(ctx, q, req)
		wg.Wait()
		if err == nil {
			err = ferr
		}
		want := min(req.PerPage, max(0, total-(req.Page-1)*req.PerPage))
		if err != nil || len(ids) == want || attempt == 1 {
			break
		}
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
			return SearchResult{}, fmt.Errorf("%w: %w", ErrSearchTimeout, err)
		}
		return SearchResult{}, fmt.Errorf("catalog: search: %w", err)
	}
	out := SearchResult{Total: total, Page: req.Page, PerPage: req.PerPage, IDs: ids, Facets: facets}
	if useCache {
		return out, nil
	}
	if err := x.cat.labelFacets(out.Facets); err != nil {
		return SearchResult{}, err
	}
	if everything {
		x.allFacets.put(gen, total, out.Facets)
	}
	return out, nil
}

// newestWindows are how far back from now a newest-first search looks
// before looking at everything.
var newestWindows = []time.Duration{90 * 24 * time.Hour, 365 * 24 * time.Hour, 4 * 365 * 24 * time.Hour}

// hits finds the page of matches. Sorting by date reads the date of every
// match, which on a big archive costs more than the matching itself; the
// most common search, newest first (the archive's front page, a filter),
// first looks only at recent assets and widens the window until it holds
// the whole page: every match newer than the window's start is in it, so
// its first page×per_page are the overall newest. Relevance ranks in its
// own loop (byRelevance). The total comes from the facet search, which
// sees every match.
func (x *Index) hits(ctx context.Context, q query.Query, req SearchRequest) ([]string, error) {
	if req.Sort == SortRelevance {
		return x.byRelevance(ctx, q, (req.Page-1)*req.PerPage, req.PerPage)
	}
	run := func(q query.Query) (*bleve.SearchResult, error) {
		sr := bleve.NewSearchRequestOptions(q, req.PerPage, (req.Page-1)*req.PerPage, false)
		sr.SortBy(sortOrder(req))
		sr.Score = bleve.ScoreNone
		return x.idx.SearchInContext(ctx, sr)
	}
	ids := func(res *bleve.SearchResult, err error) ([]string, error) {
		if err != nil {
			return nil, err
		}
		out := make([]string, 0, len(res.Hits))
		for _, h := range res.Hits {
			out = append(out, h.ID)
		}
		return out, nil
	}
	if req.Sort == SortCapturedDesc {
		now, incl := x.cat.now().UTC(), true
		for _, back := range newestWindows {
			dq := query.NewDateRangeInclusiveQuery(now.Add(-back), time.Time{}, &incl, nil)
			dq.SetField(fDate)
			res, err := run(query.NewConjunctionQuery([]query.Query{q, dq}))
			if err != nil || int(res.Total) >= req.Page*req.PerPage {
				return ids(res, err)
			}
		}
	}
	return ids(run(q))
}

// unfiltered reports whether r asks for the whole archive.
func (r SearchRequest) unfiltered() bool {
	return strings.TrimSpace(r.Q) == "" && r.Kind == "" && r.Event == "" && r.Person == "" && r.Tag == "" && r.From == nil && r.To == nil
}

func (r *SearchRequest) normalize() error {
	if len(r.Q) > MaxQueryBytes {
		return fmt.Errorf("%w: la búsqueda es demasiado larga (máximo %d bytes) / query longer than %d bytes", ErrInvalid, MaxQueryBytes, MaxQueryBytes)
	}
	if !utf8.ValidString(r.Q) {
		return fmt.Errorf("%w: la búsqueda no es UTF-8 válido / query is not valid UTF-8", ErrInvalid)
	}
	if r.Kind != "" && !slices.Contains([]string{KindPhoto, KindVideo, KindAudio, KindDocument}, r.Kind) {
		return fmt.Errorf("%w: tipo desconocido %q / unknown kind", ErrInvalid, r.Kind)
	}
	switch r.Sort {
	case "":
		r.Sort = SortRelevance
		if strings.TrimSpace(r.Q) == "" {
			r.Sort = SortCapturedDesc
		}
	case "-uploaded_at":
		r.Sort = SortUploadedNewest
	case SortRelevance, SortCapturedAsc, SortCapturedDesc, SortUploadedNewest:
	default:
		return fmt.Errorf("%w: orden desconocido %q (relevance, captured_at, -captured_at, uploaded_at) / unknown sort", ErrInvalid, r.Sort)
	}
	if r.Page == 0 {
		r.Page = 1
	}
	if r.PerPage == 0 {
		r.PerPage = DefaultPerPage
	}
	if r.Page < 1 || r.PerPage < 1 || r.PerPage > MaxPerPage {
		return fmt.Errorf("%w: page debe ser ≥ 1 y per_page entre 1 y %d / page must be ≥ 1, per_page 1–%d", ErrInvalid, MaxPerPage, MaxPerPage)
	}
	// Divided, not multiplied: page=2^62 with per_page=4 overflowed to 0,
	// passed, and made Bleve index a slice at -4 (a panic).
	if r.Page > MaxSearchWindow/r.PerPage {
		return fmt.Errorf("%w: no se puede paginar más allá de %d resultados; afine la búsqueda / cannot page past %d results, narrow the search", ErrInvalid, MaxSearchWindow, MaxSearchWindow)
	}
	if r.From != nil && r.To != nil && !r.From.Before(*r.To) {
		return fmt.Errorf("%w: from debe ser anterior a to / from must be before to", ErrInvalid)
	}
	return nil
}

func sortOrder(r SearchRequest) []string {
	switch r.Sort {
	// The *_key fields order by time then id (see sortKey).
	case SortCapturedAsc:
		return []string{fDateKey}
	case SortCapturedDesc:
		return []string{"-" + fDateKey}
	case SortUploadedNewest:
		return []string{"-" + fUploadedKey}
	default: // SortRelevance: byRelevance ranks, by score then this
		return []string{"-" + fDateKey}
	}
}

// AssetsByID returns the assets with these ids, in order, in one read
// transaction; ids no longer in the catalog are skipped (the index may lag
// a deletion by a moment).
func (c *Catalog) AssetsByID(ids []string) ([]Asset, error) {
	out := make([]Asset, 0, len(ids))
	err := c.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bAssets)
		for _, id := range ids {
			var a Asset
			switch err := getJSON(b, []byte(id), &a); {
			case errors.Is(err, ErrNotFound):
			case err != nil:
				return fmt.Errorf("asset %s: %w", id, err)
			default:
				out = append(out, a)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: assets: %w", err)
	}
	return out, nil
}
