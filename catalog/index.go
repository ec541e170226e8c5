package catalog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/mapping"
)

// indexMappingVersion names the shape of the search index: its fields and
// their analysis. Bump it whenever the mapping, the analyzer or the
// document built from an asset changes; an index of another version is
// deleted and rebuilt from the catalog on open (DESIGN.md invariant 2).
// Version 3: the year facet counts years in IndexConfig.Zone, not UTC.
// Version 4: words are searched in one "body" field (and "text"), facets
// and filters are keyed in one "facets" field.
// Version 5: "body_pairs" holds every two consecutive words, for phrases.
const indexMappingVersion = "5"

var internalMappingVersion = []byte("acervo_mapping_version")

// ErrReindexing is returned by Search while the index is being rebuilt.
var ErrReindexing = errors.New("catalog: search index is being rebuilt")

// IndexConfig configures the search index and its indexer. Zero values
// take the documented defaults.
type IndexConfig struct {
	// Path is the Bleve index folder. Required (conventionally <data>/index).
	Path string
	// Catalog is the source of truth the index is derived from. Required.
	Catalog *Catalog
	// Poll is how often the indexer looks for assets marked dirty when
	// nothing woke it. Default 200ms, well inside the one second in which a
	// committed asset must become searchable.
	Poll time.Duration
	// BatchSize is how many assets go into one Bleve batch. Default 1000:
	// each batch waits for its segment to be persisted, so bigger batches
	// index faster and smaller ones publish sooner.
	BatchSize int
	// SearchTimeout bounds one search, so a hostile query cannot stall the
	// server. Default 5s.
	SearchTimeout time.Duration
	// MaxFuzzyTerms is how many query terms get a typo-tolerant variant.
	// Default 4: fuzzy terms cost the most.
	MaxFuzzyTerms int
	// SplitFacetsFrom is the number of assets from which a search counts
	// its facets in two halves of the archive side by side (on a machine
	// with more than one CPU). Default 100,000: below it, a second pass
	// costs more than it saves.
	SplitFacetsFrom int
	// Zone is the office's time zone: the "year" facet counts an asset in
	// the year its date falls in there, as the search's from/to dates are
	// days there. Default time.UTC. The index records it, and an index built
	// for another zone is rebuilt on open.
	Zone *time.Location
	// Log receives indexing errors and rebuild progress. Default slog.Default().
	Log *slog.Logger
	// HoldRebuild, for tests only: when set, a rebuild waits until it is
	// closed before indexing anything, so the rebuilding state can be seen.
	HoldRebuild <-chan struct{}
}

func (c *IndexConfig) withDefaults() error {
	if c.Path == "" || c.Catalog == nil {
		return errors.New("catalog: IndexConfig needs Path and Catalog")
	}
	if c.Poll <= 0 {
		c.Poll = 200 * time.Millisecond
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 1000
	}
	if c.SearchTimeout <= 0 {
		c.SearchTimeout = 5 * time.Second
	}
	if c.MaxFuzzyTerms <= 0 {
		c.MaxFuzzyTerms = 4
	}
	if c.SplitFacetsFrom <= 0 {
		c.SplitFacetsFrom = 100_000
	}
	if c.Zone == nil {
		c.Zone = time.UTC
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return nil
}

// version is what the index records of its shape: the mapping version and
// the zone its years were counted in.
func (c *IndexConfig) version() string { return indexMappingVersion + " " + c.Zone.String() }

// Index is the Bleve search index derived from the catalog, with the
// goroutine that keeps it up to date. It is safe for concurrent use.
// Close stops the indexer and closes the index.
type Index struct {
	cfg        IndexConfig
	cat        *Catalog
	idx        bleve.Index
	rebuilding atomic.Bool
	wake       chan struct{}
	stop       chan struct{}
	stopOnce   sync.Once
	wg         sync.WaitGroup
	// gen counts changes to the index; it keys allFacets.
	gen       atomic.Uint64
	allFacets facetCache
	// facetCols are the segments' facet values decoded for counting.
	facetCols facetColumns
}

// OpenIndex opens the index at cfg.Path and starts the indexer. A missing
// or unreadable index, or one of an older mapping version, is deleted and
// rebuilt from the catalog in the background; meanwhile Search returns
// ErrReindexing and changes to the catalog keep being recorded, to be
// indexed once the rebuild is done. Assets left dirty by a crash are
// indexed first thing.
func OpenIndex(cfg IndexConfig) (*Index, error) {
	x, rebuild, err := openIndex(cfg)
	if err != nil {
		return nil, err
	}
	x.rebuilding.Store(rebuild)
	x.wg.Add(1)
	go x.run(rebuild)
	return x, nil
}

// RebuildIndex deletes the index at cfg.Path and rebuilds it from the
// catalog, in the caller's goroutine: `acervo reindex`, with the server
// stopped. progress, if not nil, is called with the number of assets
// indexed so far.
func RebuildIndex(ctx context.Context, cfg IndexConfig, progress func(done int)) (err error) {
	if err := cfg.withDefaults(); err != nil {
		return err
	}
	x := &Index{cfg: cfg, cat: cfg.Catalog, stop: make(chan struct{}), wake: make(chan struct{}, 1)}
	if x.idx, err = createIndex(cfg.Path); err != nil {
		return err
	}
	defer func() {
		if cerr := x.idx.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("catalog: close index: %w", cerr)
		}
	}()
	if err := x.rebuild(ctx, progress); err != nil {
		return err
	}
	for {
		n, err := x.drain()
		if err != nil || n == 0 {
			return err
		}
	}
}

// openIndex opens the index, or recreates it empty and reports that it
// must be rebuilt.
func openIndex(cfg IndexConfig) (*Index, bool, error) {
	if err := cfg.withDefaults(); err != nil {
		return nil, false, err
	}
	x := &Index{cfg: cfg, cat: cfg.Catalog, stop: make(chan struct{}), wake: make(chan struct{}, 1)}
	idx, err := bleve.Open(cfg.Path)
	switch {
	case err == nil:
		v, verr := idx.GetInternal(internalMappingVersion)
		if verr == nil && string(v) == cfg.version() {
			x.idx = idx
			return x, false, nil
		}
		cfg.Log.Warn("search index: mapping version or zone changed, rebuilding", "path", cfg.Path, "have", string(v), "want", cfg.version())
		if err := idx.Close(); err != nil {
			return nil, false, fmt.Errorf("catalog: close old index: %w", err)
		}
	case errors.Is(err, bleve.ErrorIndexPathDoesNotExist):
		cfg.Log.Info("search index: missing, building", "path", cfg.Path)
	default:
		cfg.Log.Warn("search index: unreadable, rebuilding", "path", cfg.Path, "err", err)
	}
	if x.idx, err = createIndex(cfg.Path); err != nil {
		return nil, false, err
	}
	return x, true, nil
}

// createIndex replaces whatever is at path with a new, empty index. The
// mapping version is written only when a rebuild completes, so an
// interrupted rebuild is started again on the next open.
func createIndex(path string) (bleve.Index, error) {
	if err := os.RemoveAll(path); err != nil {
		return nil, fmt.Errorf("catalog: remove index %s: %w", path, err)
	}
	idx, err := bleve.New(path, indexMapping())
	if err != nil {
		return nil, fmt.Errorf("catalog: create index %s: %w", path, err)
	}
	return idx, nil
}

// Notify wakes the indexer after a commit that marked assets dirty. It
// never blocks; without it the indexer still finds them within Poll.
func (x *Index) Notify() {
	select {
	case x.wake <- struct{}{}:
	default:
	}
}

// Rebuilding reports whether a rebuild is in progress.
func (x *Index) Rebuilding() bool { return x.rebuilding.Load() }

// Close stops the indexer, waiting for the batch in progress, and closes
// the index. Changes not yet indexed stay marked in the catalog.
func (x *Index) Close() error {
	x.stopOnce.Do(func() { close(x.stop) })
	x.wg.Wait()
	if err := x.idx.Close(); err != nil {
		return fmt.Errorf("catalog: close index: %w", err)
	}
	return nil
}

// DocCount returns how many assets the index holds.
func (x *Index) DocCount() (uint64, error) { return x.idx.DocCount() }

// Index fields. Words are searched in "body", which holds an asset's short
// texts (names, caption, file name; see searchDoc), and "text", the long
// text of documents, kept apart so that a bulletin's thousands of words do
// not drown the weight of its title; "body_pairs" has body's word pairs
// (see pairsAnalyzer). One Bleve field per word costs a
// search one posting list per word where a field per kind of text cost
// several. "facets" holds every filter and facet value, prefixed (see
// facetPrefixes), so counting facets reads one doc value per match; the
// *_key fields sort.
const (
	fBody, fBodyPairs      = "body", "body_pairs"
	fText                  = "text"
	fFacets                = "facets"
	fDate, fUploadedAt     = "date", "uploaded_at"
	fDateKey, fUploadedKey = "date_key", "uploaded_key"
)

// indexMapping is the mapping of indexMappingVersion. Nothing is stored
// but what search needs: hits are ids, and the catalog supplies the rest.
func indexMapping() mapping.IndexMapping {
	im := bleve.NewIndexMapping()
	im.DefaultAnalyzer = spanishAnalyzerName
	im.StoreDynamic, im.IndexDynamic, im.DocValuesDynamic = false, false, false
	doc := bleve.NewDocumentStaticMapping()
	text := func(name, analyzer string, positions bool) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Name, f.Analyzer = name, analyzer
		f.Store, f.DocValues, f.IncludeInAll = false, false, false
		f.IncludeTermVectors = positions // phrase queries need them
		return f
	}
	doc.AddFieldMappingsAt(fBody, text(fBody, spanishAnalyzerName, true), text(fBodyPairs, pairsAnalyzerName, false))
	doc.AddFieldMappingsAt(fText, text(fText, spanishAnalyzerName, true))
	for _, name := range []string{fFacets, fDateKey, fUploadedKey} {
		f := bleve.NewKeywordFieldMapping()
		f.Store, f.IncludeInAll, f.IncludeTermVectors, f.DocValues = false, false, false, true
		doc.AddFieldMappingsAt(name, f)
	}
	for _, name := range []string{fDate, fUploadedAt} {
		f := bleve.NewDateTimeFieldMapping()
		// Filtered by range only: sorting uses the *_key fields.
		f.Store, f.IncludeInAll, f.DocValues = false, false, false
		doc.AddFieldMappingsAt(name, f)
	}
	// Nothing goes into Bleve's composite "_all" field: "body" is ours.
	doc.AddSubDocumentMapping("_all", bleve.NewDocumentDisabledMapping())
	im.DefaultMapping = doc
	return im
}
