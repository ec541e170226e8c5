package server

import (
	"math"
	"sync"
	"time"
)

// tokenBuckets rate-limits /verify per client address: each address has a
// bucket of burst tokens refilled at rate a minute, and a request takes
// one. Public verification decodes media, so a client may not make the
// server decode without pause.
type tokenBuckets struct {
	mu      sync.Mutex
	rate    float64 // tokens a second
	burst   float64
	buckets map[string]*bucketState
	now     func() time.Time
}

type bucketState struct {
	tokens float64
	at     time.Time
}

// maxBuckets bounds the map: past it, full buckets (idle clients) are
// dropped, which forgets nothing a full bucket would not give anyway.
const maxBuckets = 10_000

func newTokenBuckets(perMinute int) *tokenBuckets {
	return &tokenBuckets{rate: float64(perMinute) / 60, burst: float64(perMinute), buckets: map[string]*bucketState{}, now: time.Now}
}

// take spends a token of key's bucket; when none is left it returns false
// and how long until one is.
func (t *tokenBuckets) take(key string) (bool, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	b, ok := t.buckets[key]
	if !ok {
		if len(t.buckets) >= maxBuckets {
			t.prune(now)
		}
		b = &bucketState{tokens: t.burst, at: now}
		t.buckets[key] = b
	}
	b.tokens = math.Min(t.burst, b.tokens+now.Sub(b.at).Seconds()*t.rate)
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / t.rate * float64(time.Second))
	return false, wait
}

func (t *tokenBuckets) prune(now time.Time) {
	for k, b := range t.buckets {
		if b.tokens+now.Sub(b.at).Seconds()*t.rate >= t.burst {
			delete(t.buckets, k)
		}
	}
}
