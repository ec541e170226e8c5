package catalog

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// bIndexDirty is the catalog's record of what the search index lacks
// (DESIGN.md invariant 2): asset id → 8-byte big-endian sequence number of
// the last change. A write that changes what search sees marks the asset in
// the same transaction, so a crash between the bbolt commit and the index
// update leaves the mark behind and the indexer repairs it on start.
var bIndexDirty = []byte("index_dirty")

// markIndexDirty records, in the caller's transaction, that these assets must
// be (re)indexed. Each mark gets a fresh sequence number, so the indexer
// clears a mark only if no newer change arrived while it was indexing.
// Absent assets may be marked too: the indexer removes them from the index.
func markIndexDirty(tx *bolt.Tx, ids ...string) error {
	b := tx.Bucket(bIndexDirty)
	for _, id := range ids {
		if id == "" {
			continue
		}
		seq, err := b.NextSequence()
		if err != nil {
			return fmt.Errorf("catalog: mark %s for indexing: %w", id, err)
		}
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], seq)
		if err := b.Put([]byte(id), v[:]); err != nil {
			return fmt.Errorf("catalog: mark %s for indexing: %w", id, err)
		}
	}
	return nil
}

// IndexBacklog returns how many assets wait to be (re)indexed: what the
// search index lacks of the catalog right now.
func (c *Catalog) IndexBacklog() (int, error) {
	n := 0
	err := c.db.View(func(tx *bolt.Tx) error { n = tx.Bucket(bIndexDirty).Stats().KeyN; return nil })
	if err != nil {
		return 0, fmt.Errorf("catalog: index backlog: %w", err)
	}
	return n, nil
}
