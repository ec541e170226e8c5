package catalog

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// recordTypes are the records the catalog keeps as JSON in bbolt, by bucket.
var recordTypes = []struct {
	bucket []byte
	new    func() any
}{
	{bAssets, func() any { return new(Asset) }},
	{bJobs, func() any { return new(Job) }},
	{bUsers, func() any { return new(User) }},
	{bShares, func() any { return new(Share) }},
	{bSessions, func() any { return new(Session) }},
	{bTokens, func() any { return new(Token) }},
	{bCollections, func() any { return new(Collection) }},
	{bEvents, func() any { return new(Event) }},
	{bPeople, func() any { return new(Person) }},
	{bAudit, func() any { return new(AuditEntry) }},
	{bFingerprints, func() any { return new(Fingerprints) }},
}

// FuzzRecordDecode: whatever bytes a record holds (a bit flip on disk, a record written
// by another version), decoding it never panics, and a record that decodes re-encodes,
// and that encoding is stable: decode(encode(r)) encodes to the same bytes, so an edit
// that reads and rewrites a record changes only what it meant to. An audit entry's
// digest survives the round trip (the chain is verified from decoded entries). An asset
// record builds its search document. The seeds are the real records of a catalog that
// the setup fills through the API (assets, jobs, vocabulary, users, sessions, tokens,
// a collection, a share, the audit trail).
func FuzzRecordDecode(f *testing.F) {
	c, err := Open(Config{Path: filepath.Join(f.TempDir(), "catalog.db")})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { c.Close() })
	seedCatalog(f, c)
	err = c.db.View(func(tx *bolt.Tx) error {
		for i, rt := range recordTypes {
			if err := tx.Bucket(rt.bucket).ForEach(func(_, v []byte) error {
				f.Add(uint8(i), bytes.Clone(v))
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(uint8(0), []byte(`{"id":"x","uploaded_at":"0000-01-01T00:00:00-23:59","captured_at":"9999-12-31T23:59:59+23:59","trashed_at":null,"renditions":{"b":{},"a":{"size":-1}},"gps":{"lat":-0,"lon":1e308}}`))
	f.Add(uint8(9), []byte(`{"seq":18446744073709551615,"time":"2025-01-01T00:00:00.123456789+05:30","detail":"\u0000\ud800"}`))
	f.Add(uint8(1), []byte(`{"not_before":"0001-01-01T00:00:00Z","attempts":-1}`))
	f.Add(uint8(0), []byte(`null`))
	f.Add(uint8(3), []byte(`{"assets":null,"views":1e3}`))

	zone := time.FixedZone("CST", -6*3600)
	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		rt := recordTypes[int(kind)%len(recordTypes)]
		v := rt.new()
		if json.Unmarshal(data, v) != nil {
			return
		}
		e1, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("%s record %q decodes but cannot be written back: %v", rt.bucket, data, err)
		}
		v2 := rt.new()
		if err := json.Unmarshal(e1, v2); err != nil {
			t.Fatalf("%s record re-encoded as %s does not decode: %v", rt.bucket, e1, err)
		}
		e2, err := json.Marshal(v2)
		if err != nil || !bytes.Equal(e1, e2) {
			t.Fatalf("%s record is not stable:\n%s\n%s (%v)", rt.bucket, e1, e2, err)
		}
		switch r := v.(type) {
		case *AuditEntry:
			if d1, d2 := r.digest(), v2.(*AuditEntry).digest(); d1 != d2 {
				t.Fatalf("audit digest %s becomes %s after a round trip", d1, d2)
			}
		case *Asset:
			err := c.db.View(func(tx *bolt.Tx) error {
				doc, ok, err := searchDoc(tx, data, zone)
				if err != nil || !ok {
					return err
				}
				if !strings.HasSuffix(doc.DateKey, r.ID) || !strings.HasSuffix(doc.UploadedKey, r.ID) {
					t.Fatalf("sort keys %q %q do not end in the id %q", doc.DateKey, doc.UploadedKey, r.ID)
				}
				_, err = json.Marshal(doc)
				return err
			})
			if err != nil {
				t.Fatalf("search document of %q: %v", data, err)
			}
		}
	})
}

// seedCatalog fills c through its API with one of each record.
func seedCatalog(tb testing.TB, c *Catalog) {
	tb.Helper()
	must := func(err error) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
	}
	u, err := c.CreateUser(NewUser{Username: "editora", Password: "una contraseña larga", Role: RoleEditor, Name: "Ana Pérez", Area: "Prensa"})
	must(err)
	by := Actor{UserID: u.ID, IP: "192.0.2.1"}
	_, _, err = c.CreateToken(by, "respaldo")
	must(err)
	_, _, err = c.CreateSession(by, time.Hour)
	must(err)
	a, _, err := c.CreateAsset(NewAsset{Kind: KindPhoto, Filename: "Inauguración.jpg", SHA256: strings.Repeat("ab", 32), MIME: "image/jpeg", Size: 1234,
		UploadedBy: u.ID, Event: "Inauguración del parque", People: []string{"Luis Gómez"}, Tags: []string{"parque", "obra"}, Title: "Corte de listón", Jobs: []string{"photo"}})
	must(err)
	j, err := c.ClaimJob("photo")
	must(err)
	must(c.CompleteJob(j.ID, func(a *Asset) error {
		at, alt := time.Date(2025, 3, 1, 10, 0, 0, 0, time.FixedZone("", -6*3600)), 2240.5
		a.CapturedAt, a.Width, a.Height, a.Camera = &at, 4000, 3000, "Canon EOS R6"
		a.GPS = &GPS{Lat: 19.4326, Lon: -99.1332, Alt: &alt}
		a.Renditions = map[string]Rendition{"thumb.jpg": {Width: 400, Height: 300, Size: 20000, SHA256: strings.Repeat("cd", 32), MIME: "image/jpeg"}}
		return nil
	}))
	name := "Informe anual"
	_, err = c.CreateCollection(by, CollectionChange{Name: &name, Assets: &[]string{a.ID}})
	must(err)
	_, _, err = c.CreateShare(by, NewShare{Assets: []string{a.ID}, Title: "Prensa", Recipient: "Diario", AllowDownload: true, MaxDownloads: 3})
	must(err)
}
