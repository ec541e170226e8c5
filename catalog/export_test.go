package catalog

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/blevesearch/bleve/v2/search/query"
	bolt "go.etcd.io/bbolt"
)

// BulkPutForBench writes vocabulary entries and assets straight into their
// buckets, many per transaction, without marking them dirty: benchmarks
// fill a big catalog fast, then time a full index build.
func BulkPutForBench(c *Catalog, events, people []Ref, assets func(yield func(Asset) error) error) error {
	put := func(tx *bolt.Tx, bucket []byte, r Ref) error {
		data, err := json.Marshal(map[string]string{"id": r.ID, "name": r.Name})
		if err != nil {
			return err
		}
		return tx.Bucket(bucket).Put([]byte(r.ID), data)
	}
	err := c.update(func(tx *bolt.Tx) error {
		for _, r := range events {
			if err := put(tx, bEvents, r); err != nil {
				return err
			}
		}
		for _, r := range people {
			if err := put(tx, bPeople, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("bulk vocab: %w", err)
	}
	const perTx = 20000
	var pending []Asset
	flush := func() error {
		err := c.update(func(tx *bolt.Tx) error {
			b := tx.Bucket(bAssets)
			for _, a := range pending {
				if err := putJSON(b, []byte(a.ID), a); err != nil {
					return err
				}
			}
			return nil
		})
		pending = pending[:0]
		return err
	}
	if err := assets(func(a Asset) error {
		pending = append(pending, a)
		if len(pending) == perTx {
			return flush()
		}
		return nil
	}); err != nil {
		return err
	}
	return flush()
}

// AssetCountForBench returns how many assets the catalog holds.
func AssetCountForBench(c *Catalog) (int, error) {
	n := 0
	err := c.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bAssets).Stats().KeyN
		return nil
	})
	return n, err
}

// WaitMergedForBench waits until Bleve's merger has had nothing to do for
// three seconds (at most limit), so a benchmark measures searches on the
// settled index rather than against a background merge, and returns the
// number of segments then.
func WaitMergedForBench(x *Index, limit time.Duration) uint64 {
	stat := func() (segs, merges uint64, busy bool) {
		m, _ := x.idx.StatsMap()["index"].(map[string]any)
		u := func(k string) uint64 { v, _ := m[k].(uint64); return v }
		return u("num_root_filesegments") + u("num_root_memorysegments"), u("TotFileMergeZapEnd"),
			u("TotFileMergeZapBeg") != u("TotFileMergeZapEnd")
	}
	deadline := time.Now().Add(limit)
	segs, merges, _ := stat()
	for quiet := 0; quiet < 3 && time.Now().Before(deadline); {
		time.Sleep(time.Second)
		s, m, busy := stat()
		if busy || s != segs || m != merges {
			quiet = 0
		} else {
			quiet++
		}
		segs, merges = s, m
	}
	return segs
}

// SetSyncDecodeDocsForTest sets how big a segment a search decodes itself
// (see facetColumns): 1 makes nearly every segment decode in the
// background, so searches count both ways at once.
func SetSyncDecodeDocsForTest(x *Index, n uint64) { x.facetCols.syncDocs = n }

// BuildQueryForTest is the Bleve query a search request becomes, after the
// checks Search makes first.
func BuildQueryForTest(x *Index, r SearchRequest) (query.Query, SearchRequest, error) {
	if err := r.normalize(); err != nil {
		return nil, r, err
	}
	q, err := x.buildQuery(r)
	return q, r, err
}

// MaxFuzzyTermsForTest is the index's cap on words searched with typos.
func MaxFuzzyTermsForTest(x *Index) int { return x.cfg.MaxFuzzyTerms }
