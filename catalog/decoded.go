package catalog

import (
	"bytes"
	"encoding/json"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// decodedCache keeps what records decoded to, so the hot read paths
// (every request's token or session and user, every served file's asset)
// skip json.Unmarshal and, when nothing was written since, the read
// transaction: the profile of thumbnail serving put the two at a third of
// the server's CPU.
//
// Entries can't go stale, by two checks:
//
//   - An entry holds a copy of the bytes it was decoded from. A read inside
//     a transaction (getCached) reuses it only when the record stored now
//     is, byte for byte, the same; any write to it (a revoked token, a
//     changed role, an asset moved to the trash) changes or removes the
//     bytes, and the read decodes afresh.
//   - An entry also holds the catalog's write count (Catalog.writes) read
//     before the transaction that last found its bytes current. fresh
//     returns it without a transaction only while that count is still the
//     current one: no write has committed since. update counts a write
//     before its Update returns, so a request that starts after a change
//     was answered never gets the entry from before it.
//
// Neither depends on a write path remembering to invalidate anything.
// Values are shared between callers and must be treated as read-only.
// Safe for concurrent use.
type decodedCache[V any] struct {
	mu    sync.Mutex
	m     map[string]decodedEntry[V]
	bytes int // of the raw copies held
}

type decodedEntry[V any] struct {
	raw    []byte
	v      V
	writes uint64 // Catalog.writes when raw was last found current
}

const (
	// decodedCacheEntries and decodedCacheBytes (of raw copies) bound each
	// cache; when full, arbitrary entries make room (Go's map iteration
	// order), which is enough for the hot set of a busy grid of
	// thumbnails to stay in. An asset's record is 1–3 KB.
	decodedCacheEntries = 4096
	decodedCacheBytes   = 8 << 20
	// decodedCacheMaxRaw leaves out records too big to be worth keeping
	// twice (documents carry their whole text).
	decodedCacheMaxRaw = 16 << 10
)

func newDecodedCache[V any]() *decodedCache[V] {
	return &decodedCache[V]{m: make(map[string]decodedEntry[V])}
}

// fresh returns the value at key if its bytes were found current when the
// catalog's write count was writes, the count now: nothing was written
// since, so it is what a read transaction would decode.
func (d *decodedCache[V]) fresh(key string, writes uint64) (V, bool) {
	d.mu.Lock()
	e, ok := d.m[key]
	d.mu.Unlock()
	if !ok || e.writes != writes {
		var zero V
		return zero, false
	}
	return e.v, true
}

// get returns the value decoded from raw, the record stored at key now (in
// a transaction begun after writes was read), and notes it current.
func (d *decodedCache[V]) get(key, raw []byte, writes uint64) (V, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	e, ok := d.m[string(key)]
	if !ok || !bytes.Equal(e.raw, raw) {
		var zero V
		return zero, false
	}
	if writes > e.writes {
		e.writes = writes
		d.m[string(key)] = e
	}
	return e.v, true
}

// put remembers that raw, stored at key when the write count was writes,
// decodes to v.
func (d *decodedCache[V]) put(key, raw []byte, v V, writes uint64) {
	if len(raw) > decodedCacheMaxRaw {
		return
	}
	e := decodedEntry[V]{raw: bytes.Clone(raw), v: v, writes: writes}
	d.mu.Lock()
	defer d.mu.Unlock()
	if old, ok := d.m[string(key)]; ok {
		d.bytes -= len(old.raw)
		delete(d.m, string(key))
	}
	for k, old := range d.m {
		if len(d.m) < decodedCacheEntries && d.bytes+len(raw) <= decodedCacheBytes {
			break
		}
		d.bytes -= len(old.raw)
		delete(d.m, k)
	}
	d.m[string(key)] = e
	d.bytes += len(raw)
}

// getCached reads the record at key in b, like getJSON, through cache:
// decoded (by decode) only when its bytes differ from those last decoded.
// writes is Catalog.writes as read before the transaction of b began.
func getCached[V any](cache *decodedCache[V], b *bolt.Bucket, key []byte, writes uint64, decode func([]byte) (V, error)) (V, error) {
	raw := b.Get(key)
	if raw == nil {
		var zero V
		return zero, ErrNotFound
	}
	if v, ok := cache.get(key, raw, writes); ok {
		return v, nil
	}
	v, err := decode(raw)
	if err != nil {
		return v, err
	}
	cache.put(key, raw, v, writes)
	return v, nil
}

// decodeJSON is the decode of records stored whole as JSON.
func decodeJSON[V any](raw []byte) (V, error) {
	var v V
	err := json.Unmarshal(raw, &v)
	return v, err
}
