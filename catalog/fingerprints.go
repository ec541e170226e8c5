package catalog

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Perceptual fingerprints for issue #7 (near-duplicates and /verify). They
// live in a bucket of their own, not in the Asset JSON: an hour of video is
// 7,200 frame hashes, which every search result and asset view would
// otherwise decode. The in-memory similarity index (catalog/similar) is
// derived from this bucket and rebuilt from it on start.
var (
	bFingerprints    = []byte("fingerprints")     // asset id → Fingerprints (JSON)
	bFingerprintsLog = []byte("fingerprints_log") // sequence (8 bytes, big-endian) → asset id: stored since the catalog was opened
)

// Fingerprints are an asset's perceptual hashes, made by the worker from
// media it decoded itself (see transcode).
type Fingerprints struct {
	// Photo is transcode.Fingerprint of the preview: the whole picture
	// and its crop windows, what a query is compared against.
	Photo []uint64 `json:"photo,omitempty"`
	// PhotoQuery is transcode.QueryHashes of the preview, so an archived
	// copy with a caption bar or a screenshot's canvas finds its original
	// as a query would.
	PhotoQuery []uint64 `json:"photo_query,omitempty"`
	// Video is transcode.VideoHashes: frame pHashes, two a second.
	Video []uint64 `json:"video,omitempty"`
	// Audio is transcode.AudioFingerprint: Chromaprint items.
	Audio []uint32 `json:"audio,omitempty"`
}

// Empty reports whether f holds no hash at all.
func (f Fingerprints) Empty() bool {
	return len(f.Photo) == 0 && len(f.PhotoQuery) == 0 && len(f.Video) == 0 && len(f.Audio) == 0
}

// PutFingerprints stores an asset's fingerprints in the job's transaction,
// replacing any it had, and marks them for the similarity index. (Vocab
// is the handle on that transaction CompleteJobWith gives.)
func (v *Vocab) PutFingerprints(assetID string, f Fingerprints) error {
	if err := putJSON(v.tx.Bucket(bFingerprints), []byte(assetID), f); err != nil {
		return fmt.Errorf("catalog: fingerprints of %s: %w", assetID, err)
	}
	log := v.tx.Bucket(bFingerprintsLog)
	seq, err := log.NextSequence()
	if err != nil {
		return err
	}
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	return log.Put(k[:], []byte(assetID))
}

// Fingerprints returns the fingerprints of an asset; ErrNotFound when it
// has none (not processed yet, a document, or made before fingerprints).
func (c *Catalog) Fingerprints(assetID string) (Fingerprints, error) {
	var f Fingerprints
	err := c.db.View(func(tx *bolt.Tx) error { return getJSON(tx.Bucket(bFingerprints), []byte(assetID), &f) })
	if err != nil {
		return Fingerprints{}, fmt.Errorf("catalog: fingerprints of %s: %w", assetID, err)
	}
	return f, nil
}

// EachFingerprints calls fn for every stored fingerprint in one read
// transaction; fn must not write to the catalog.
func (c *Catalog) EachFingerprints(fn func(assetID string, f Fingerprints) error) error {
	return c.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bFingerprints).ForEach(func(k, v []byte) error {
			var f Fingerprints
			if err := json.Unmarshal(v, &f); err != nil {
				return fmt.Errorf("catalog: fingerprints of %s: %w", k, err)
			}
			return fn(string(k), f)
		})
	})
}

// FingerprintSeq is the position of the latest entry of the log of stored
// fingerprints: a similarity index built from EachFingerprints after
// reading it asks FingerprintsSince(seq) for what came later.
func (c *Catalog) FingerprintSeq() (uint64, error) {
	var seq uint64
	err := c.db.View(func(tx *bolt.Tx) error { seq = tx.Bucket(bFingerprintsLog).Sequence(); return nil })
	return seq, err
}

// FingerprintsSince returns the fingerprints stored after log position
// after, and the position to ask from next time. Nothing new, the usual
// case, costs one read transaction. Any number of readers may follow the
// log; it is emptied only when the catalog is opened, before any index
// is built from it.
func (c *Catalog) FingerprintsSince(after uint64) (map[string]Fingerprints, uint64, error) {
	var out map[string]Fingerprints
	last := after
	err := c.db.View(func(tx *bolt.Tx) error {
		log := tx.Bucket(bFingerprintsLog)
		if log.Sequence() == after {
			return nil
		}
		out = map[string]Fingerprints{}
		var from [8]byte
		binary.BigEndian.PutUint64(from[:], after+1)
		cur := log.Cursor()
		for k, id := cur.Seek(from[:]); k != nil; k, id = cur.Next() {
			var f Fingerprints
			if err := getJSON(tx.Bucket(bFingerprints), id, &f); err != nil {
				return fmt.Errorf("fingerprints of %s: %w", id, err)
			}
			out[string(id)] = f
			last = binary.BigEndian.Uint64(k)
		}
		return nil
	})
	if err != nil {
		return nil, after, fmt.Errorf("catalog: new fingerprints: %w", err)
	}
	return out, last, nil
}

// fingerprintBackfillKey marks in bMeta that the backfill was queued.
var fingerprintBackfillKey = []byte("fingerprint_backfill_v1")

// QueueFingerprintBackfill queues, once per catalog, a job of kind for
// every ready photo, video and audio asset without fingerprints: those
// processed before fingerprints existed. The jobs are not among the
// asset's JobIDs, so a failure to fingerprint never marks an archived
// asset failed. It returns how many it queued (0 after the first time).
func (c *Catalog) QueueFingerprintBackfill(kind string) (int, error) {
	n := 0
	err := c.update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bMeta)
		if meta.Get(fingerprintBackfillKey) != nil {
			return nil
		}
		now := c.now().UTC()
		var ids []string
		err := tx.Bucket(bAssets).ForEach(func(k, v []byte) error {
			var a Asset
			if err := json.Unmarshal(v, &a); err != nil {
				return err
			}
			switch {
			case a.Status != StatusReady, a.Kind != KindPhoto && a.Kind != KindVideo && a.Kind != KindAudio:
				return nil
			case tx.Bucket(bFingerprints).Get(k) != nil:
				return nil
			}
			ids = append(ids, a.ID)
			return nil
		})
		if err != nil {
			return err
		}
		for _, id := range ids {
			j := Job{ID: NewID(now), Kind: kind, AssetID: id, State: JobQueued, CreatedAt: now, UpdatedAt: now}
			if err := putJob(tx, j); err != nil {
				return err
			}
			if err := enqueue(tx, j); err != nil {
				return err
			}
			n++
		}
		return meta.Put(fingerprintBackfillKey, []byte(now.Format("2006-01-02T15:04:05Z")))
	})
	if err != nil {
		return 0, fmt.Errorf("catalog: queue fingerprint backfill: %w", err)
	}
	return n, nil
}
