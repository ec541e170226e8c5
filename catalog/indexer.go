package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/document"
	index "github.com/blevesearch/bleve_index_api"
	bolt "go.etcd.io/bbolt"
)

// indexDoc is what the index holds of an asset (see indexMapping).
type indexDoc struct {
	// Body is the asset's short texts, one element each (a phrase never
	// spans two): title, event, tags and people twice, for the weight of
	// the words editors name things with; place, caption and file name once.
	Body []string `json:"body,omitempty"`
	// Text is a document's extracted text (PDF, OCR).
	Text string `json:"text,omitempty"`
	// Facets are the filter and facet values, prefixed (facetTerm).
	Facets     []string  `json:"facets"`
	Date       time.Time `json:"date"`
	UploadedAt time.Time `json:"uploaded_at"`
	// DateKey and UploadedKey are the sort keys of Date and UploadedAt:
	// the time, fixed width, then the asset id (see sortKey).
	DateKey     string `json:"date_key"`
	UploadedKey string `json:"uploaded_key"`
}

// storedAsset reads an asset record with the trash marks the trash feature
// will add (not built yet): a trashed asset leaves the index.
type storedAsset struct {
	Asset
	TrashedAt *time.Time `json:"trashed_at"`
	DeletedAt *time.Time `json:"deleted_at"`
}

// vocabNames is the part of an event or person record the index uses.
type vocabNames struct {
	Name    string   `json:"name"`
	Place   string   `json:"place"`
	Aliases []string `json:"aliases"`
}

// searchDoc builds the index document of an asset inside tx, or returns
// false if the asset should not be findable (absent or in the trash).
// zone is where its year is counted.
func searchDoc(tx *bolt.Tx, raw []byte, zone *time.Location) (indexDoc, bool, error) {
	var a storedAsset
	if raw == nil {
		return indexDoc{}, false, nil
	}
	if err := json.Unmarshal(raw, &a); err != nil {
		return indexDoc{}, false, err
	}
	if a.TrashedAt != nil || a.DeletedAt != nil {
		return indexDoc{}, false, nil
	}
	d := indexDoc{Text: a.Text, UploadedAt: a.UploadedAt.UTC(), Date: a.UploadedAt.UTC()}
	if a.CapturedAt != nil {
		d.Date = a.CapturedAt.UTC()
	}
	d.DateKey, d.UploadedKey = sortKey(d.Date, a.ID), sortKey(d.UploadedAt, a.ID)
	d.Facets = append(d.Facets, facetTerm("kind", a.Kind), facetTerm("year", strconv.Itoa(d.Date.In(zone).Year())))
	var naming, once []string
	naming = append(naming, a.Title)
	for _, t := range a.Tags {
		naming = append(naming, t)
		d.Facets = append(d.Facets, facetTerm("tag", foldKeyword(t)))
	}
	once = append(once, a.Place)
	if a.Event != nil {
		d.Facets = append(d.Facets, facetTerm("event", a.Event.ID))
		name := a.Event.Name
		var e vocabNames
		if getJSON(tx.Bucket(bEvents), []byte(a.Event.ID), &e) == nil {
			once = append(once, e.Place)
			if e.Name != "" {
				name = e.Name
			}
		}
		naming = append(naming, name)
	}
	for _, p := range a.People {
		d.Facets = append(d.Facets, facetTerm("person", p.ID))
		var v vocabNames
		if getJSON(tx.Bucket(bPeople), []byte(p.ID), &v) == nil && v.Name != "" {
			naming = append(naming, v.Name)
			naming = append(naming, v.Aliases...)
		} else {
			naming = append(naming, p.Name)
		}
	}
	once = append(once, a.Caption, a.Filename)
	for _, texts := range [][]string{naming, naming, once} {
		for _, t := range texts {
			if t != "" {
				d.Body = append(d.Body, t)
			}
		}
	}
	return d, true, nil
}

// sortKey is a keyword whose byte order is the order of (t, id): the UTC
// time at fixed width (years 0000–9999, nanoseconds), then the id. Sorting
// search hits by one single-valued keyword reads one short doc value per
// hit; sorting by a date field reads all its numeric precision terms, and
// the "_id" tie-break another value, which on a big archive made sorting
// the hits dearer than finding them.
func sortKey(t time.Time, id string) string {
	return t.UTC().Format("20060102150405.000000000") + " " + id
}

// indexDoc adds doc to batch as Batch.Index would, except that the doc
// values of the keyword fields are stored uncompressed. Every search reads
// them for nearly all its matches (facets, sorting), so each search would
// otherwise snappy-decode every chunk of its columns: on a big
// archive that decoding was a third of the CPU time of a text search.
// They are short keywords, so the index grows little. Chunking is skipped
// too (one chunk per document, found without a search), the combination
// Bleve's own geo fields use: zapx v17.2.5 merges segments wrongly for
// uncompressed but chunked doc values (iterateAllDocValues tests the
// compression flag where it means the chunking one), which the facets of
// the server's search test catch.
func (x *Index) indexDoc(batch *bleve.Batch, id string, doc indexDoc) error {
	d := document.NewDocument(id)
	if err := x.idx.Mapping().MapDocument(d, doc); err != nil {
		return err
	}
	for i, f := range d.Fields {
		if tf, ok := f.(*document.TextField); ok && uncompressedDocValues[tf.Name()] && tf.Options().IncludeDocValues() {
			d.Fields[i] = document.NewTextFieldCustom(tf.Name(), tf.ArrayPositions(), tf.Value(),
				tf.Options()|index.SkipDVCompression|index.SkipDVChunking, tf.Analyzer())
		}
	}
	return batch.IndexAdvanced(d)
}

// uncompressedDocValues are the keyword fields indexDoc stores uncompressed.
var uncompressedDocValues = map[string]bool{fFacets: true, fDateKey: true, fUploadedKey: true}

// run is the indexer goroutine: rebuild if asked, then index dirty assets
// whenever woken or every Poll, until Close.
func (x *Index) run(rebuild bool) {
	defer x.wg.Done()
	if rebuild {
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			select {
			case <-x.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		err := x.rebuild(ctx, nil)
		cancel()
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				x.cfg.Log.Error("search index: rebuild failed; search stays unavailable until restart", "err", err)
			}
			return
		}
		x.rebuilding.Store(false)
	}
	tick := time.NewTicker(x.cfg.Poll)
	defer tick.Stop()
	for {
		n, err := x.drain()
		if err != nil {
			x.cfg.Log.Error("search index: indexing failed, will retry", "err", err)
		} else if n < x.cfg.BatchSize {
			x.warmFacets()
		}
		if err == nil && n == x.cfg.BatchSize {
			select {
			case <-x.stop:
				return
			default:
				continue // more are waiting
			}
		}
		select {
		case <-x.stop:
			return
		case <-x.wake:
		case <-tick.C:
		}
	}
}

// warmFacets decodes the facet columns of segments new since the last
// look (a batch just indexed, a merge Bleve made in the background), so
// that searches find them ready.
func (x *Index) warmFacets() {
	adv, err := x.idx.Advanced()
	if err != nil {
		return
	}
	r, err := adv.Reader()
	if err != nil {
		return
	}
	defer r.Close()
	x.facetCols.view(r, x.stop, &x.wg)
}

// drain indexes up to BatchSize dirty assets and clears their marks,
// except those changed again meanwhile, which the next round indexes. It
// returns how many marks it read. Bleve's Batch returns once the segment
// is persisted, so a cleared mark is never lost to a crash.
func (x *Index) drain() (int, error) {
	type mark struct{ id, seq []byte }
	var marks []mark
	batch := x.idx.NewBatch()
	err := x.cat.db.View(func(tx *bolt.Tx) error {
		assets := tx.Bucket(bAssets)
		cur := tx.Bucket(bIndexDirty).Cursor()
		for k, v := cur.First(); k != nil && len(marks) < x.cfg.BatchSize; k, v = cur.Next() {
			marks = append(marks, mark{bytes.Clone(k), bytes.Clone(v)})
			doc, ok, err := searchDoc(tx, assets.Get(k), x.cfg.Zone)
			if err != nil {
				return fmt.Errorf("asset %s: %w", k, err)
			}
			if !ok {
				batch.Delete(string(k))
				continue
			}
			if err := x.indexDoc(batch, string(k), doc); err != nil {
				return fmt.Errorf("asset %s: %w", k, err)
			}
		}
		return nil
	})
	if err != nil || len(marks) == 0 {
		return 0, wrapIndexErr("read dirty assets", err)
	}
	if err := x.idx.Batch(batch); err != nil {
		return 0, wrapIndexErr("index batch", err)
	}
	x.gen.Add(1)
	err = x.cat.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bIndexDirty)
		for _, m := range marks {
			if bytes.Equal(b.Get(m.id), m.seq) {
				if err := b.Delete(m.id); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return len(marks), wrapIndexErr("clear dirty marks", err)
}

// rebuild indexes every asset into the (new, empty) index, then records
// the mapping version. Dirty marks are left alone: changes committed while
// it runs are indexed by drain afterwards, so nothing is indexed stale.
// Assets are read in chunks of BatchSize, each in its own read
// transaction, so a long rebuild never holds bbolt's mmap against writers.
func (x *Index) rebuild(ctx context.Context, progress func(int)) error {
	if x.cfg.HoldRebuild != nil {
		select {
		case <-x.cfg.HoldRebuild:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	start, done := time.Now(), 0
	var after []byte
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		batch := x.idx.NewBatch()
		n := 0
		err := x.cat.db.View(func(tx *bolt.Tx) error {
			cur := tx.Bucket(bAssets).Cursor()
			k, v := cur.First()
			if after != nil {
				if k, v = cur.Seek(after); k != nil && bytes.Equal(k, after) {
					k, v = cur.Next()
				}
			}
			for ; k != nil && n < x.cfg.BatchSize; k, v = cur.Next() {
				n++
				after = bytes.Clone(k)
				doc, ok, err := searchDoc(tx, v, x.cfg.Zone)
				if err != nil {
					return fmt.Errorf("asset %s: %w", k, err)
				}
				if !ok {
					continue
				}
				if err := x.indexDoc(batch, string(k), doc); err != nil {
					return fmt.Errorf("asset %s: %w", k, err)
				}
			}
			return nil
		})
		if err != nil {
			return wrapIndexErr("rebuild", err)
		}
		if n == 0 {
			break
		}
		if err := x.idx.Batch(batch); err != nil {
			return wrapIndexErr("rebuild batch", err)
		}
		x.gen.Add(1)
		done += n
		if progress != nil {
			progress(done)
		}
	}
	if err := x.idx.SetInternal(internalMappingVersion, []byte(x.cfg.version())); err != nil {
		return wrapIndexErr("record mapping version", err)
	}
	x.cfg.Log.Info("search index: rebuilt", "assets", done, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

func wrapIndexErr(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("catalog: search index: %s: %w", what, err)
}
