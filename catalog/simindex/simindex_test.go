package simindex

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
)

// flip returns h with d distinct random bits flipped.
func flip(h uint64, d int, rng *rand.Rand) uint64 {
	for _, b := range rng.Perm(64)[:d] {
		h ^= 1 << b
	}
	return h
}

// bruteForce is the specification Search must meet.
func bruteForce(hs map[string][]uint64, q uint64, maxDist int) []Match {
	var ms []Match
	for id, list := range hs {
		best := 65
		for _, h := range list {
			best = min(best, bits.OnesCount64(h^q))
		}
		if best <= maxDist {
			ms = append(ms, Match{ID: id, Dist: best})
		}
	}
	slices.SortFunc(ms, func(a, b Match) int {
		if a.Dist != b.Dist {
			return a.Dist - b.Dist
		}
		if a.ID < b.ID {
			return -1
		}
		return 1
	})
	return ms
}

// TestSearchMatchesBruteForce plants hashes at every distance from the
// queries and checks Search against a full scan for every radius, after
// adds and after removes: the pigeonhole must never miss one.
func TestSearchMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	x := New()
	all := map[string][]uint64{}
	add := func(id string, h uint64) {
		x.Add(id, h)
		all[id] = append(all[id], h)
	}
	var queries []uint64
	for i := 0; i < 2000; i++ {
		add(fmt.Sprintf("r%d", i), rng.Uint64())
	}
	for q := 0; q < 20; q++ {
		h := rng.Uint64()
		queries = append(queries, h)
		for d := 0; d <= 20; d++ {
			add(fmt.Sprintf("q%d-d%d", q, d), flip(h, d, rng))
		}
		add(fmt.Sprintf("q%d-d%d", q, 3), flip(h, 12, rng)) // a second, farther hash
	}
	check := func(stage string) {
		for qi, q := range queries {
			for r := 0; r <= 20; r++ {
				got, want := x.Search(q, r), bruteForce(all, q, r)
				if !slices.Equal(got, want) {
					t.Fatalf("%s: query %d radius %d: got %v, want %v", stage, qi, r, got, want)
				}
			}
		}
	}
	check("after adds")
	for q := 0; q < 20; q += 2 {
		for d := 0; d <= 20; d += 3 {
			id := fmt.Sprintf("q%d-d%d", q, d)
			x.Remove(id)
			delete(all, id)
		}
	}
	for i := 0; i < 2000; i += 7 {
		id := fmt.Sprintf("r%d", i)
		x.Remove(id)
		delete(all, id)
	}
	x.Remove("never added")
	check("after removes")
	n := 0
	for _, hs := range all {
		n += len(hs)
	}
	if x.Len() != n {
		t.Errorf("Len = %d, want %d", x.Len(), n)
	}
}

func TestSearchAnyTakesNearestOfEitherSide(t *testing.T) {
	x := New()
	x.Add("a", 0x0, 0xffff_0000_0000_0000)
	x.Add("b", 0xff)
	got := x.SearchAny([]uint64{0x3, 0xffff_0000_0000_0001}, 10)
	want := []Match{{ID: "a", Dist: 1}, {ID: "b", Dist: 6}}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got := x.Search(0x3, -1); got != nil {
		t.Errorf("negative radius: %v", got)
	}
}

// TestConcurrentUse runs adds, removes and searches at once; run with
// -race.
func TestConcurrentUse(t *testing.T) {
	x := New()
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for i := 0; i < 500; i++ {
				id := fmt.Sprintf("w%d-%d", w, i)
				x.Add(id, rng.Uint64(), rng.Uint64())
				x.Search(rng.Uint64(), 10)
				if i%3 == 0 {
					x.Remove(id)
				}
			}
		}()
	}
	wg.Wait()
	if got, want := x.Len(), 4*(500-167)*2; got != want {
		t.Errorf("Len = %d, want %d", got, want)
	}
}

// BenchmarkLookup1M loads 1,000,000 random hashes plus 100 planted within
// 10 bits of the queries, and looks queries up at radius 10 (the pHash's
// SimilarDistance): "index" through the multi-index tables, "linear" by
// scanning the same hashes, the baseline. It reports the index's heap.
func BenchmarkLookup1M(b *testing.B) {
	const n, radius = 1_000_000, 10
	rng := rand.New(rand.NewPCG(1, 1))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	x := New()
	plain := make([]uint64, 0, n+100)
	for i := 0; i < n; i++ {
		h := rng.Uint64()
		x.Add(fmt.Sprintf("asset-%07d", i), h)
		plain = append(plain, h)
	}
	queries := make([]uint64, 100)
	for i := range queries {
		queries[i] = rng.Uint64()
		h := flip(queries[i], rng.IntN(radius+1), rng)
		x.Add(fmt.Sprintf("planted-%d", i), h)
		plain = append(plain, h)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	heapMB := float64(after.HeapAlloc-before.HeapAlloc) / (1 << 20)
	b.Logf("1,000,100 hashes: index and plain slice together hold %.0f MB of heap (plain slice %.0f MB)", heapMB, float64(8*len(plain))/(1<<20))

	b.Run("index", func(b *testing.B) {
		i := 0
		for b.Loop() {
			q := queries[i%len(queries)]
			if ms := x.Search(q, radius); len(ms) == 0 {
				b.Fatalf("planted hash near %x not found", q)
			}
			i++
		}
		b.ReportMetric(heapMB, "MB-heap")
	})
	b.Run("linear", func(b *testing.B) {
		i := 0
		for b.Loop() {
			q := queries[i%len(queries)]
			found := 0
			for _, h := range plain {
				if bits.OnesCount64(h^q) <= radius {
					found++
				}
			}
			if found == 0 {
				b.Fatalf("planted hash near %x not found", q)
			}
			i++
		}
	})
}
