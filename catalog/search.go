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
	"golang.org/x/text/unicode/norm"
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
	fuzzyBoost        = 0.3
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
	var fr *bleve.SearchRequest
	if !useCache {
		fr = bleve.NewSearchRequestOptions(q, 0, 0, false)
		fr.Score = bleve.ScoreNone
		for name, field := range facetFields {
			size := facetSize
			if name == "year" {
				size = yearFacetSize
			}
			fr.AddFacet(name, bleve.NewFacetRequest(field, size))
		}
	}
	ctx, cancel := context.WithTimeout(ctx, x.cfg.SearchTimeout)
	defer cancel()
	var fres *bleve.SearchResult
	var ferr error
	var wg sync.WaitGroup
	if fr != nil {
		wg.Go(func() { fres, ferr = x.idx.SearchInContext(ctx, fr) })
	}
	res, err := x.hits(ctx, q, req)
	wg.Wait()
	if err == nil {
		err = ferr
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
			return SearchResult{}, fmt.Errorf("%w: %w", ErrSearchTimeout, err)
		}
		return SearchResult{}, fmt.Errorf("catalog: search: %w", err)
	}
	total := cachedTotal
	if fres != nil {
		total = int(fres.Total)
	}
	out := SearchResult{Total: total, Page: req.Page, PerPage: req.PerPage, IDs: make([]string, 0, len(res.Hits)), Facets: map[string][]FacetCount{}}
	for _, h := range res.Hits {
		out.IDs = append(out.IDs, h.ID)
	}
	if useCache {
		out.Facets = cached
		return out, nil
	}
	for name := range facetFields {
		counts := []FacetCount{}
		if f := fres.Facets[name]; f != nil && f.Terms != nil {
			for _, t := range f.Terms.Terms() {
				counts = append(counts, FacetCount{Value: t.Term, Count: t.Count})
			}
		}
		if name == "year" {
			slices.SortFunc(counts, func(a, b FacetCount) int { return strings.Compare(b.Value, a.Value) })
		}
		out.Facets[name] = counts
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
// its first page×per_page are the overall newest. The total comes from
// the facet search, which sees every match.
func (x *Index) hits(ctx context.Context, q query.Query, req SearchRequest) (*bleve.SearchResult, error) {
	run := func(q query.Query) (*bleve.SearchResult, error) {
		sr := bleve.NewSearchRequestOptions(q, req.PerPage, (req.Page-1)*req.PerPage, false)
		sr.SortBy(sortOrder(req))
		if req.Sort != SortRelevance {
			sr.Score = bleve.ScoreNone
		}
		return x.idx.SearchInContext(ctx, sr)
	}
	if req.Sort == SortCapturedDesc {
		now, incl := x.cat.now().UTC(), true
		for _, back := range newestWindows {
			dq := query.NewDateRangeInclusiveQuery(now.Add(-back), time.Time{}, &incl, nil)
			dq.SetField(fDate)
			res, err := run(query.NewConjunctionQuery([]query.Query{q, dq}))
			if err != nil || int(res.Total) >= req.Page*req.PerPage {
				return res, err
			}
		}
	}
	return run(q)
}

// unfiltered reports whether r asks for the whole archive.
func (r SearchRequest) unfiltered() bool {
	return strings.TrimSpace(r.Q) == "" && r.Kind == "" && r.Event == "" && r.Person == "" && r.Tag == "" && r.From == nil && r.To == nil
}

// facetFields maps facet names to index fields.
var facetFields = map[string]string{"kind": fKind, "event": fEventID, "person": fPersonIDs, "tag": fTagKeys, "year": fYear}

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
	if r.Page*r.PerPage > MaxSearchWindow {
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
	default:
		return []string{"-_score", "-" + fDateKey}
	}
}

// fieldBoosts weighs where a word is found: naming fields (what editors
// type) above descriptive ones.
var fieldBoosts = []struct {
	field string
	boost float64
}{
	{fTitle, 3}, {fTags, 3}, {fPeople, 3}, {fEvent, 3}, {fPlace, 2},
	{fCaption, 1.5}, {fFilename, 1}, {fText, 1},
}

// buildQuery turns a request into a Bleve query: every word or phrase of Q
// and every filter is required.
func (x *Index) buildQuery(r SearchRequest) (query.Query, error) {
	words, phrases, err := splitQuery(r.Q)
	if err != nil {
		return nil, err
	}
	an := x.idx.Mapping().AnalyzerNamed(spanishAnalyzerName)
	if an == nil {
		return nil, errors.New("catalog: search: Spanish analyzer not registered")
	}
	var must []query.Query
	fuzzy := 0
	for _, w := range words {
		toks := an.Analyze([]byte(w))
		switch len(toks) {
		case 0: // a stop word or punctuation: nothing to require
		case 1:
			tok := string(toks[0].Term)
			or := make([]query.Query, 0, len(fieldBoosts)+1)
			for _, fb := range fieldBoosts {
				tq := query.NewTermQuery(tok)
				tq.SetField(fb.field)
				tq.SetBoost(fb.boost)
				or = append(or, tq)
			}
			if n := utf8.RuneCountInString(tok); n >= minFuzzyRunes && n <= maxFuzzyRunes && fuzzy < x.cfg.MaxFuzzyTerms && !x.termExists(tok) {
				fuzzy++
				fq := query.NewFuzzyQuery(tok)
				fq.SetField(fAll)
				fq.SetFuzziness(1)
				if n >= minFuzzy2Runes {
					fq.SetFuzziness(2)
				}
				fq.SetPrefix(fuzzyPrefixLength)
				fq.SetBoost(fuzzyBoost)
				or = append(or, fq)
			}
			must = append(must, query.NewDisjunctionQuery(or))
		default: // "jean-pierre", "10:30": the parts, adjacent
			phrases = append(phrases, w)
		}
	}
	for _, p := range phrases {
		or := make([]query.Query, 0, len(fieldBoosts))
		for _, fb := range fieldBoosts {
			pq := query.NewMatchPhraseQuery(p)
			pq.SetField(fb.field)
			pq.Analyzer = spanishAnalyzerName
			pq.SetBoost(fb.boost)
			or = append(or, pq)
		}
		must = append(must, query.NewDisjunctionQuery(or))
	}
	if len(words)+len(phrases) > 0 && len(must) == 0 {
		return query.NewMatchNoneQuery(), nil // only stop words: nothing is about them
	}
	exact := func(field, value string) {
		if value != "" {
			tq := query.NewTermQuery(value)
			tq.SetField(field)
			must = append(must, tq)
		}
	}
	exact(fKind, r.Kind)
	exact(fEventID, r.Event)
	exact(fPersonIDs, r.Person)
	exact(fTagKeys, foldKeyword(r.Tag))
	if r.From != nil || r.To != nil {
		var from, to time.Time
		if r.From != nil {
			from = r.From.UTC()
		}
		if r.To != nil {
			to = r.To.UTC()
		}
		incl, excl := true, false
		dq := query.NewDateRangeInclusiveQuery(from, to, &incl, &excl)
		dq.SetField(fDate)
		must = append(must, dq)
	}
	if len(must) == 0 {
		return query.NewMatchAllQuery(), nil
	}
	return query.NewConjunctionQuery(must), nil
}

// termExists reports whether some asset has this analyzed term. A word the
// archive knows is taken as spelled right: its typo variants are not
// searched, which on a big archive avoids OR-ing in tens of thousands of
// near-miss documents (and the facet counting over them).
func (x *Index) termExists(term string) bool {
	d, err := x.idx.FieldDictRange(fAll, []byte(term), []byte(term))
	if err != nil {
		return false
	}
	defer d.Close()
	e, err := d.Next()
	return err == nil && e != nil && e.Term == term && e.Count > 0
}

// splitQuery splits free text into words and "quoted phrases" (an
// unclosed quote runs to the end), NFC-normalised, and enforces the term cap.
func splitQuery(q string) (words, phrases []string, err error) {
	q = norm.NFC.String(q)
	count := 0
	for i, part := range strings.Split(q, `"`) {
		if i%2 == 1 {
			if f := strings.Fields(part); len(f) > 0 {
				phrases = append(phrases, strings.Join(f, " "))
				count += len(f)
			}
			continue
		}
		f := strings.Fields(part)
		words = append(words, f...)
		count += len(f)
	}
	if count > MaxQueryTerms {
		return nil, nil, fmt.Errorf("%w: demasiadas palabras en la búsqueda (máximo %d) / more than %d search terms", ErrInvalid, MaxQueryTerms, MaxQueryTerms)
	}
	return words, phrases, nil
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
