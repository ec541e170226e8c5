// Package simindex finds the 64-bit perceptual hashes near a query hash
// among many, for near-duplicate lookup (issue #7: /verify and
// /api/v1/assets/{id}/similar). It is in memory only: like the search
// index, it is derived from the catalog and rebuilt from it on start.
//
// It is a multi-index hash (Norouzi, Punjani, Fleet, "Fast search in
// Hamming space with multi-index hashing", CVPR 2012): each hash is split
// into four 16-bit substrings, and each substring position has an exact
// lookup table. If two hashes are within r bits, then by the pigeonhole
// principle one of their substrings is within r/4 bits (more exactly: with
// r = 4q + a, one of the first a+1 substrings is within q, or one of the
// others within q-1), so probing every key that near in each table finds
// every match; candidates are then checked on all 64 bits. At r = 10 that
// is 428 bucket probes instead of a scan of every hash.
package simindex

import (
	"cmp"
	"math/bits"
	"slices"
	"sync"
)

const (
	substrings = 4
	subBits    = 64 / substrings
	buckets    = 1 << subBits
	// maxProbeRadius is the largest substring radius probed; a search
	// that would need more (maxDist ≥ 4·(maxProbeRadius+1)) scans every
	// hash instead, which is then as fast.
	maxProbeRadius = 3
)

// Match is one identifier near the query.
type Match struct {
	ID   string
	Dist int // Hamming distance of its nearest hash to the query
}

// Index holds hashes by identifier; one identifier may have several
// (a picture's whole hash and its crop windows). The zero value is not
// usable; call New. An Index is safe for concurrent use.
type Index struct {
	mu sync.RWMutex
	// Entries, dense: entry i is hash hashes[i] of identifier number
	// owners[i]. Identifiers are numbered so that an entry costs 4 bytes
	// for its owner, not a string header.
	hashes []uint64
	owners []uint32
	// Identifiers by number: names[n] and the entries of n. Numbers of
	// removed identifiers are reused.
	names   []string
	entries [][]uint32
	free    []uint32
	number  map[string]uint32
	// tables[s][key] lists the entries whose substring s is key, hashes
	// alongside entry numbers so that checking a bucket reads memory in
	// order.
	tables [substrings][]bucket
	// masks[k] are the 16-bit masks with exactly k bits set.
	masks [maxProbeRadius + 1][]uint16
}

type bucket struct {
	hashes  []uint64
	entries []uint32
}

// New returns an empty index.
func New() *Index {
	x := &Index{number: make(map[string]uint32)}
	for s := range x.tables {
		x.tables[s] = make([]bucket, buckets)
	}
	for m := 0; m < buckets; m++ {
		if k := bits.OnesCount16(uint16(m)); k <= maxProbeRadius {
			x.masks[k] = append(x.masks[k], uint16(m))
		}
	}
	return x
}

func sub(h uint64, s int) uint16 { return uint16(h >> (s * subBits)) }

// Len returns the number of hashes held.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.hashes)
}

// Add adds hashes for id, keeping any it already has.
func (x *Index) Add(id string, hs ...uint64) {
	if len(hs) == 0 {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	n, ok := x.number[id]
	if !ok {
		if k := len(x.free); k > 0 {
			n, x.free = x.free[k-1], x.free[:k-1]
			x.names[n] = id
		} else {
			n = uint32(len(x.names))
			x.names = append(x.names, id)
			x.entries = append(x.entries, nil)
		}
		x.number[id] = n
	}
	for _, h := range hs {
		e := uint32(len(x.hashes))
		x.hashes = append(x.hashes, h)
		x.owners = append(x.owners, n)
		x.entries[n] = append(x.entries[n], e)
		for s := range x.tables {
			b := &x.tables[s][sub(h, s)]
			b.hashes = append(b.hashes, h)
			b.entries = append(b.entries, e)
		}
	}
}

// Remove removes every hash of id; an unknown id is not an error.
func (x *Index) Remove(id string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	n, ok := x.number[id]
	if !ok {
		return
	}
	for len(x.entries[n]) > 0 {
		es := x.entries[n]
		x.removeEntry(es[len(es)-1])
	}
	delete(x.number, id)
	x.names[n], x.entries[n] = "", nil
	x.free = append(x.free, n)
}

// removeEntry drops entry e and moves the last entry into its place.
func (x *Index) removeEntry(e uint32) {
	h, n := x.hashes[e], x.owners[e]
	for s := range x.tables {
		x.tables[s][sub(h, s)].drop(e)
	}
	x.entries[n] = deleteValue(x.entries[n], e)
	last := uint32(len(x.hashes) - 1)
	if e != last {
		lh, ln := x.hashes[last], x.owners[last]
		x.hashes[e], x.owners[e] = lh, ln
		for s := range x.tables {
			x.tables[s][sub(lh, s)].renumber(last, e)
		}
		es := x.entries[ln]
		es[slices.Index(es, last)] = e
	}
	x.hashes, x.owners = x.hashes[:last], x.owners[:last]
}

func (b *bucket) drop(e uint32) {
	i := slices.Index(b.entries, e)
	n := len(b.entries) - 1
	b.entries[i], b.hashes[i] = b.entries[n], b.hashes[n]
	b.entries, b.hashes = b.entries[:n], b.hashes[:n]
}

func (b *bucket) renumber(from, to uint32) {
	b.entries[slices.Index(b.entries, from)] = to
}

func deleteValue(s []uint32, v uint32) []uint32 {
	i := slices.Index(s, v)
	s[i] = s[len(s)-1]
	return s[:len(s)-1]
}

// Search returns the identifiers with a hash within maxDist bits of h,
// each once with its nearest distance, nearest first (ties by ID).
func (x *Index) Search(h uint64, maxDist int) []Match {
	return x.SearchAny([]uint64{h}, maxDist)
}

// SearchAny is Search for several query hashes at once (a picture whole,
// trimmed and mirrored): an identifier matches when any of its hashes is
// within maxDist of any query hash.
func (x *Index) SearchAny(qs []uint64, maxDist int) []Match {
	if maxDist < 0 {
		return nil
	}
	maxDist = min(maxDist, 64)
	x.mu.RLock()
	best := make(map[uint32]int) // entry → distance
	for _, q := range qs {
		if maxDist >= substrings*(maxProbeRadius+1) {
			x.scan(q, maxDist, best)
		} else {
			x.probe(q, maxDist, best)
		}
	}
	byID := make(map[string]int, len(best))
	for e, d := range best {
		id := x.names[x.owners[e]]
		if old, ok := byID[id]; !ok || d < old {
			byID[id] = d
		}
	}
	x.mu.RUnlock()
	ms := make([]Match, 0, len(byID))
	for id, d := range byID {
		ms = append(ms, Match{ID: id, Dist: d})
	}
	slices.SortFunc(ms, func(a, b Match) int {
		return cmp.Or(cmp.Compare(a.Dist, b.Dist), cmp.Compare(a.ID, b.ID))
	})
	return ms
}

// probe looks q up in each table at the pigeonhole radius of that
// substring and records the entries within maxDist in best.
func (x *Index) probe(q uint64, maxDist int, best map[uint32]int) {
	quot, rem := maxDist/substrings, maxDist%substrings
	for s := range x.tables {
		radius := quot
		if s > rem {
			radius = quot - 1
		}
		key := sub(q, s)
		for k := 0; k <= radius; k++ {
			for _, m := range x.masks[k] {
				b := &x.tables[s][key^m]
				for i, c := range b.hashes {
					if d := bits.OnesCount64(c ^ q); d <= maxDist {
						record(best, b.entries[i], d)
					}
				}
			}
		}
	}
}

// scan checks every hash: for radii so large that probing would visit
// most buckets anyway.
func (x *Index) scan(q uint64, maxDist int, best map[uint32]int) {
	for i, c := range x.hashes {
		if d := bits.OnesCount64(c ^ q); d <= maxDist {
			record(best, uint32(i), d)
		}
	}
}

func record(best map[uint32]int, e uint32, d int) {
	if old, ok := best[e]; !ok || d < old {
		best[e] = d
	}
}
