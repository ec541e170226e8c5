package catalog

import (
	"bytes"
	"encoding/json"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// decodedCache keeps what records decoded to, so the hot read paths
// (every request's token or session and user, every served file's asset)
// skip json.Unmarshal, which the profile of thumbnail serving showed at a
// quarter of the server's CPU.
//
// It never needs invalidating: an entry holds a copy of the exact bytes it
// was decoded from, and a lookup is made inside the caller's read
// transaction with the record's current bytes, so it hits only when the
// record in the database is, byte for byte, the one decoded. Any write
// (a revoked token, a changed role, an asset moved to the trash) changes
// or removes the bytes, and the very next read decodes afresh; there is no
// write path to forget and no window of staleness.
//
// Values are shared between callers and must be treated as read-only.
// Safe for concurrent use.
type decodedCache[V any] struct {
	mu sync.Mutex
	m  map[string]decodedEntry[V]
}

type decodedEntry[V any] struct {
	raw []byte
	v   V
}

const (
	// decodedCacheEntries bounds each cache; when full, an arbitrary entry
	// makes room (Go's map iteration order), which is enough for the hot
	// set of a busy grid of thumbnails to stay in.
	decodedCacheEntries = 4096
	// decodedCacheMaxRaw leaves out records too big to be worth keeping
	// twice (documents carry their whole text).
	decodedCacheMaxRaw = 16 << 10
)

func newDecodedCache[V any]() *decodedCache[V] {
	return &decodedCache[V]{m: make(map[string]decodedEntry[V])}
}

// get returns the value decoded from raw, the record now stored at key.
func (d *decodedCache[V]) get(key, raw []byte) (V, bool) {
	d.mu.Lock()
	e, ok := d.m[string(key)]
	d.mu.Unlock()
	if !ok || !bytes.Equal(e.raw, raw) {
		var zero V
		return zero, false
	}
	return e.v, true
}

// put remembers that raw, stored at key, decodes to v.
func (d *decodedCache[V]) put(key, raw []byte, v V) {
	if len(raw) > decodedCacheMaxRaw {
		return
	}
	e := decodedEntry[V]{raw: bytes.Clone(raw), v: v}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.m[string(key)]; !ok && len(d.m) >= decodedCacheEntries {
		for k := range d.m {
			delete(d.m, k)
			break
		}
	}
	d.m[string(key)] = e
}

// getCached reads the record at key in b, like getJSON, through cache:
// decoded (by decode) only when its bytes differ from those last decoded.
func getCached[V any](cache *decodedCache[V], b *bolt.Bucket, key []byte, decode func([]byte) (V, error)) (V, error) {
	raw := b.Get(key)
	if raw == nil {
		var zero V
		return zero, ErrNotFound
	}
	if v, ok := cache.get(key, raw); ok {
		return v, nil
	}
	v, err := decode(raw)
	if err != nil {
		return v, err
	}
	cache.put(key, raw, v)
	return v, nil
}

// decodeJSON is the decode of records stored whole as JSON.
func decodeJSON[V any](raw []byte) (V, error) {
	var v V
	err := json.Unmarshal(raw, &v)
	return v, err
}
