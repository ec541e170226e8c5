package server_test

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/comsoc/acervo/catalog"
)

// Small renditions are served from memory after their first request
// (hotcache.go). Through the real server: the bytes, Range, If-None-Match
// and HEAD answer exactly as from the disk, and bytes on disk that are not
// the ones the catalog recorded are never kept.
func TestHotCacheServesTheRecordedBytes(t *testing.T) {
	e := start(t)
	admin := e.login()
	upload := func(name string, seed byte) assetJSON {
		t.Helper()
		var a assetJSON
		decode(t, admin.upload(name, photo(t, 640, 480, seed), nil), http.StatusCreated, &a)
		if a = admin.waitSettled(a.ID); a.Status != catalog.StatusReady || a.Renditions["thumb.jpg"].URL == "" {
			t.Fatalf("asset = %+v, want ready with a thumbnail", a)
		}
		return a
	}
	get := func(path string, hdr map[string]string) (*http.Response, []byte) {
		t.Helper()
		resp := admin.do("GET", path, "", nil, hdr)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, b
	}
	metric := func(name string) int {
		t.Helper()
		_, b := get("/metrics", nil)
		m := regexp.MustCompile(`(?m)^` + name + ` (\d+)$`).FindSubmatch(b)
		if m == nil {
			t.Fatalf("no %s in /metrics:\n%s", name, b)
		}
		n, _ := strconv.Atoi(string(m[1]))
		return n
	}

	a := upload("caliente.jpg", 51)
	thumb := a.Renditions["thumb.jpg"].URL
	onDisk, err := os.ReadFile(filepath.Join(e.data, "derived", a.ID, "thumb.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	hits := metric("acervo_hot_cache_hits_total")
	var etag string
	for i := range 3 {
		resp, b := get(thumb, nil)
		etag = resp.Header.Get("ETag")
		if resp.StatusCode != http.StatusOK || !bytes.Equal(b, onDisk) {
			t.Fatalf("GET %d: status %d, %d bytes, want 200 and the %d bytes on disk", i+1, resp.StatusCode, len(b), len(onDisk))
		}
		if got := resp.Header.Get("Content-Length"); got != strconv.Itoa(len(onDisk)) {
			t.Fatalf("GET %d: Content-Length %q, want %d", i+1, got, len(onDisk))
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Content-Type") != "image/jpeg" {
			t.Fatalf("GET %d: headers %v", i+1, resp.Header)
		}
	}
	if got := metric("acervo_hot_cache_hits_total") - hits; got != 2 {
		t.Fatalf("hits after three GETs = %d, want 2 (the first one loads)", got)
	}
	resp, b := get(thumb, map[string]string{"Range": "bytes=10-19"})
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(b, onDisk[10:20]) {
		t.Fatalf("Range from memory: status %d, %q", resp.StatusCode, b)
	}
	resp, _ = get(thumb, map[string]string{"If-None-Match": etag})
	if resp.StatusCode != http.StatusNotModified {
		t.Fatalf("If-None-Match from memory: status %d, want 304", resp.StatusCode)
	}
	head := admin.do("HEAD", thumb, "", nil, nil)
	head.Body.Close()
	if head.StatusCode != http.StatusOK || head.ContentLength != int64(len(onDisk)) {
		t.Fatalf("HEAD from memory: status %d, length %d", head.StatusCode, head.ContentLength)
	}

	// A thumbnail changed on disk behind the catalog's back is served as
	// the disk has it (as before the cache) but not kept; once the recorded
	// bytes are back, those are kept.
	b2 := upload("alterada.jpg", 52)
	path := filepath.Join(e.data, "derived", b2.ID, "thumb.jpg")
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(good)
	bad[len(bad)/2] ^= 0x40
	if err := os.WriteFile(path, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	entries := metric("acervo_hot_cache_entries")
	if resp, b := get(b2.Renditions["thumb.jpg"].URL, nil); resp.StatusCode != http.StatusOK || !bytes.Equal(b, bad) {
		t.Fatalf("altered thumbnail: status %d, %d bytes", resp.StatusCode, len(b))
	}
	if got := metric("acervo_hot_cache_entries"); got != entries {
		t.Fatalf("entries %d → %d: bytes that are not the recorded ones were kept", entries, got)
	}
	if err := os.WriteFile(path, good, 0o644); err != nil {
		t.Fatal(err)
	}
	if resp, b := get(b2.Renditions["thumb.jpg"].URL, nil); resp.StatusCode != http.StatusOK || !bytes.Equal(b, good) {
		t.Fatalf("restored thumbnail: status %d, %d bytes", resp.StatusCode, len(b))
	}
	if got := metric("acervo_hot_cache_entries"); got != entries+1 {
		t.Fatalf("entries %d → %d after the recorded bytes came back, want one more", entries, got)
	}
}
