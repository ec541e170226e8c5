package server

import (
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"sync"
	"sync/atomic"
)

// hotCache keeps the bytes of small renditions in memory: the thumbnails
// of a search grid are asked for over and over, by every editor browsing
// the same event, and serving one from memory costs two writes instead of
// an open, a stat, a read, a sendfile and a close.
//
// Entries are keyed by the SHA-256 the catalog records for the rendition,
// and only bytes that hash to that key are kept, so an entry can never be
// stale: a re-rendered thumbnail has another hash, and a purged asset's
// entry is unreachable (every route checks the catalog first) until it is
// evicted. The least recently served entries go first when the cache is
// over its budget.
type hotCache struct {
	max int64 // bytes of content kept at most

	mu    sync.Mutex
	used  int64
	items map[string]*list.Element // sha → element of lru holding *hotEntry
	lru   list.List                // front: most recently served

	hits, misses atomic.Int64
}

type hotEntry struct {
	sha  string
	body []byte
}

// hotObjectMax is the largest rendition kept: thumbnails (20–60 KB) and
// waveforms; previews and proxies are streamed from the store as before.
const hotObjectMax = 512 << 10

// newHotCache returns a cache of max bytes, or nil (no caching) when max is
// not positive.
func newHotCache(max int64) *hotCache {
	if max <= 0 {
		return nil
	}
	return &hotCache{max: max, items: map[string]*list.Element{}}
}

// cacheable says whether a rendition of this size is worth keeping.
func (h *hotCache) cacheable(size int64) bool {
	return h != nil && size > 0 && size <= hotObjectMax && size <= h.max/8
}

// get returns the bytes of sha, or nil.
func (h *hotCache) get(sha string) []byte {
	h.mu.Lock()
	el, ok := h.items[sha]
	if ok {
		h.lru.MoveToFront(el)
	}
	h.mu.Unlock()
	if !ok {
		h.misses.Add(1)
		return nil
	}
	h.hits.Add(1)
	return el.Value.(*hotEntry).body
}

// load reads exactly size bytes from r and keeps them under sha if they
// hash to it. It returns the bytes it kept, or nil when r gave anything
// else (a short or long file, other bytes than the catalog recorded):
// those are served from the store as before, never from memory.
func (h *hotCache) load(sha string, size int64, r io.Reader) []byte {
	body := make([]byte, size+1) // one more, to notice a file longer than recorded
	n, err := io.ReadFull(r, body)
	if int64(n) != size || err != io.ErrUnexpectedEOF {
		return nil
	}
	body = body[:size:size]
	if sum := sha256.Sum256(body); hex.EncodeToString(sum[:]) != sha {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if el, ok := h.items[sha]; ok { // another request loaded it meanwhile
		h.lru.MoveToFront(el)
		return el.Value.(*hotEntry).body
	}
	h.items[sha] = h.lru.PushFront(&hotEntry{sha: sha, body: body})
	h.used += size
	for h.used > h.max {
		old := h.lru.Remove(h.lru.Back()).(*hotEntry)
		delete(h.items, old.sha)
		h.used -= int64(len(old.body))
	}
	return body
}

// stats reports the bytes held, the entries and the hit and miss counts.
func (h *hotCache) stats() (bytes int64, entries int, hits, misses int64) {
	if h == nil {
		return 0, 0, 0, 0
	}
	h.mu.Lock()
	bytes, entries = h.used, len(h.items)
	h.mu.Unlock()
	return bytes, entries, h.hits.Load(), h.misses.Load()
}
