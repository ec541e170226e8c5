package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

func TestHotCacheEvictsLeastRecentlyServed(t *testing.T) {
	h := newHotCache(8 * 100)
	body := func(i byte) ([]byte, string) {
		b := bytes.Repeat([]byte{i}, 100)
		sum := sha256.Sum256(b)
		return b, hex.EncodeToString(sum[:])
	}
	var shas []string
	for i := range byte(8) {
		b, sha := body(i)
		if got := h.load(sha, 100, bytes.NewReader(b)); !bytes.Equal(got, b) {
			t.Fatalf("load %d kept %d bytes", i, len(got))
		}
		shas = append(shas, sha)
	}
	h.get(shas[0]) // 0 is now the most recent; 1 the least
	b, sha := body(8)
	h.load(sha, 100, bytes.NewReader(b))
	if h.get(shas[1]) != nil || h.get(shas[0]) == nil || h.get(sha) == nil {
		t.Fatal("the least recently served entry was not the one evicted")
	}
	if used, n, _, _ := h.stats(); used != 800 || n != 8 {
		t.Fatalf("used %d bytes in %d entries, want 800 in 8", used, n)
	}

	// Short, long or other bytes are never kept.
	b, sha = body(9)
	for _, r := range [][]byte{b[:99], append(bytes.Clone(b), 0), bytes.Repeat([]byte{10}, 100)} {
		if h.load(sha, 100, bytes.NewReader(r)) != nil || h.get(sha) != nil {
			t.Fatalf("kept %d bytes that do not hash to the key", len(r))
		}
	}
	if newHotCache(0) != nil || newHotCache(-1).cacheable(100) {
		t.Fatal("a cache of no bytes must be off")
	}
}
