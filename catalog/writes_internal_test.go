package catalog

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The decoded caches skip the read transaction only while Catalog.writes
// hasn't moved, so every write must go through update, which counts it.
// Open's first transaction, before any cache exists, is the one exception.
func TestEveryWriteIsCounted(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	raw := regexp.MustCompile(`\bdb\.(Update|Batch|Begin)\(`)
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(src), "\n") {
			if !raw.MatchString(line) {
				continue
			}
			if name == "catalog.go" && (strings.Contains(line, "err = db.Update(") || strings.Contains(line, "return c.db.Update(func(tx *bolt.Tx) error {")) {
				continue // Open's bucket creation; update itself
			}
			t.Errorf("%s:%d writes without update: %s", name, i+1, strings.TrimSpace(line))
		}
	}
}

// With nothing written since, the per-request reads need no transaction;
// any write, whatever it touches, sends the next read to the database.
func TestHotReadsSkipTheTransactionUntilAWrite(t *testing.T) {
	c, err := Open(Config{Path: filepath.Join(t.TempDir(), "catalog.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	u, err := c.CreateUser(NewUser{Username: "lectora", Password: "contraseña-larga", Role: RoleViewer})
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := c.CreateToken(Actor{UserID: u.ID}, "script")
	if err != nil {
		t.Fatal(err)
	}
	a, _, err := c.CreateAsset(NewAsset{Kind: KindPhoto, Filename: "a.jpg", SHA256: strings.Repeat("e", 64), MIME: "image/jpeg", Size: 1})
	if err != nil {
		t.Fatal(err)
	}
	reads := func() int { return c.db.Stats().TxN }
	hot := func() {
		t.Helper()
		if _, _, err := c.TokenUser(secret); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Files(a.ID); err != nil {
			t.Fatal(err)
		}
	}
	hot()
	before := reads()
	hot()
	if got := reads() - before; got != 0 {
		t.Errorf("read transactions with nothing written: %d, want 0", got)
	}
	if err := c.Audit(Actor{UserID: u.ID}, AuditEntry{Action: AuditLogin}); err != nil {
		t.Fatal(err)
	}
	before = reads()
	hot()
	if got := reads() - before; got != 2 {
		t.Errorf("read transactions after a write: %d, want 2", got)
	}
}

// The caches stay within their bounds of entries and bytes, and count
// the bytes they hold exactly, however records come and change.
func TestDecodedCacheBounds(t *testing.T) {
	d := newDecodedCache[int]()
	for i := range 3 * decodedCacheEntries {
		key := []byte(strconv.Itoa(i % (2 * decodedCacheEntries)))
		raw := make([]byte, 1+i%(decodedCacheMaxRaw+10))
		d.put(key, raw, i, 0)
		if len(d.m) > decodedCacheEntries || d.bytes > decodedCacheBytes {
			t.Fatalf("after %d puts: %d entries, %d bytes", i+1, len(d.m), d.bytes)
		}
	}
	sum := 0
	for _, e := range d.m {
		sum += len(e.raw)
	}
	if sum != d.bytes {
		t.Errorf("bytes counted %d, held %d", d.bytes, sum)
	}
}
