package catalog_test

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/catalog/catalogtest"
)

// TestAuditChain: changes are audited in their own transaction, the chain
// verifies, and editing or removing a past entry is found.
func TestAuditChain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
	c, err := catalog.Open(catalog.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	admin := catalog.Actor{IP: "192.0.2.1"}
	u, err := c.CreateUser(catalog.NewUser{Username: "editora", Password: "contraseña-larga", Role: catalog.RoleEditor, By: admin})
	if err != nil {
		t.Fatal(err)
	}
	by := catalog.Actor{UserID: u.ID, IP: "192.0.2.7"}
	if _, _, err := c.CreateSession(by, time.Hour); err != nil {
		t.Fatal(err)
	}
	a, _, err := c.CreateAsset(catalog.NewAsset{Kind: catalog.KindPhoto, Filename: "a.jpg", SHA256: strings.Repeat("a", 64), UploadedBy: u.ID})
	if err != nil {
		t.Fatal(err)
	}
	title := "Nuevo título"
	if _, err := c.EditAssets(by, []string{a.ID}, catalog.AssetEdit{Title: &title}, nil); err != nil {
		t.Fatal(err)
	}
	role := catalog.RoleViewer
	if _, err := c.UpdateUser(admin, u.ID, catalog.UserUpdate{Role: &role}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateEvent(by, catalog.EventFields{Name: &title}); err != nil {
		t.Fatal(err)
	}
	// A failing change leaves no entry: the audit rolls back with it.
	if _, err := c.EditAssets(by, []string{"missing"}, catalog.AssetEdit{Title: &title}, nil); err == nil {
		t.Fatal("edit of a missing asset succeeded")
	}

	entries, _, err := c.AuditLog(catalog.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
	}
	want := []string{"event.create", "user.update", "asset.edit", "asset.upload", "login", "user.create"}
	if !slices.Equal(actions, want) {
		t.Fatalf("actions newest first = %v, want %v", actions, want)
	}
	if e := entries[2]; e.User != "editora" || e.IP != "192.0.2.7" || e.Asset != a.ID || e.Detail != "title" {
		t.Errorf("edit entry = %+v", e)
	}
	if e := entries[1]; !strings.Contains(e.Detail, "role: editor → viewer") {
		t.Errorf("role change detail = %q", e.Detail)
	}
	for _, tc := range []struct {
		f    catalog.AuditFilter
		want int
	}{
		{catalog.AuditFilter{User: "EDITORA"}, 4},
		{catalog.AuditFilter{Asset: a.ID}, 2},
		{catalog.AuditFilter{Action: "asset"}, 2},
		{catalog.AuditFilter{Action: "user.update"}, 1},
		{catalog.AuditFilter{From: time.Now().Add(time.Hour)}, 0},
		{catalog.AuditFilter{Limit: 2}, 2},
	} {
		got, _, err := c.AuditLog(tc.f)
		if err != nil || len(got) != tc.want {
			t.Errorf("AuditLog(%+v) = %d entries (%v), want %d", tc.f, len(got), err, tc.want)
		}
	}
	page, next, _ := c.AuditLog(catalog.AuditFilter{Limit: 4})
	rest, _, _ := c.AuditLog(catalog.AuditFilter{Before: next})
	if len(page) != 4 || len(rest) != 2 || rest[0].Seq != page[3].Seq-1 {
		t.Errorf("paging: %d then %d entries, next %d", len(page), len(rest), next)
	}
	if n, err := c.VerifyAudit(); err != nil || n != 6 {
		t.Fatalf("VerifyAudit = %d, %v; want 6, nil", n, err)
	}
	c.Close()

	tamper := func(t *testing.T, change func(b *bolt.Bucket)) error {
		db, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Update(func(tx *bolt.Tx) error { change(tx.Bucket([]byte("audit"))); return nil }); err != nil {
			t.Fatal(err)
		}
		db.Close()
		c, err := catalog.Open(catalog.Config{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, err = c.VerifyAudit()
		return err
	}
	key := binary.BigEndian.AppendUint64(nil, 3)
	var saved []byte
	err = tamper(t, func(b *bolt.Bucket) {
		saved = slices.Clone(b.Get(key))
		var e map[string]any
		json.Unmarshal(saved, &e)
		e["detail"] = "caption"
		data, _ := json.Marshal(e)
		b.Put(key, data)
	})
	var broken *catalog.AuditBroken
	if !errors.As(err, &broken) || broken.Seq != 3 {
		t.Errorf("after editing entry 3: %v, want broken at 3", err)
	}
	err = tamper(t, func(b *bolt.Bucket) { b.Delete(key) })
	if !errors.As(err, &broken) || broken.Seq != 4 {
		t.Errorf("after removing entry 3: %v, want broken at 4", err)
	}
	if err := tamper(t, func(b *bolt.Bucket) { b.Put(key, saved) }); err != nil {
		t.Errorf("restored: %v", err)
	}
}

func TestShareRules(t *testing.T) {
	clk := newClock()
	c := catalogtest.Open(t, clk.now)
	by := catalog.Actor{UserID: "u1"}
	a, _, _ := c.CreateAsset(newAsset(strings.Repeat("b", 64)))
	bad := []catalog.NewShare{
		{Recipient: "Diario"}, // no target
		{Assets: []string{a.ID}, Collection: "x", Recipient: "Diario"},
		{Assets: []string{"missing"}, Recipient: "Diario"},
		{Assets: []string{a.ID}},                                                       // no recipient
		{Assets: []string{a.ID}, Recipient: "D", ExpiresAt: clk.now().Add(-time.Hour)}, // past
		{Assets: []string{a.ID}, Recipient: "D", ExpiresAt: clk.now().Add(400 * 24 * time.Hour)},
		{Assets: []string{a.ID}, Recipient: "D", Password: "123"},
		{Assets: []string{a.ID}, Recipient: "D", MaxDownloads: -1},
		{Collection: "missing", Recipient: "D"},
	}
	for _, n := range bad {
		if _, _, err := c.CreateShare(by, n); !errors.Is(err, catalog.ErrInvalid) {
			t.Errorf("CreateShare(%+v) = %v, want ErrInvalid", n, err)
		}
	}
	start := clk.now().Add(time.Hour)
	token, s, err := c.CreateShare(by, catalog.NewShare{Event: a.Event.ID, Recipient: "Diario", AllowDownload: true, MaxDownloads: 10, StartsAt: &start})
	if err != nil {
		t.Fatal(err)
	}
	if s.Title != "Inauguración del parque" || !slices.Equal(s.Assets, []string{a.ID}) || !s.ExpiresAt.Equal(clk.now().Add(catalog.DefaultShareTTL)) {
		t.Errorf("event share = %+v", s)
	}
	got, err := c.ShareByToken(token)
	if err != nil || got.ID != s.ID {
		t.Fatalf("ShareByToken = %+v, %v", got, err)
	}
	if _, err := c.ShareByToken(token + "x"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("wrong token: %v", err)
	}
	if _, err := c.UseShare(by, s.ID, catalog.ShareUse{}); !errors.Is(err, catalog.ErrShareEmbargoed) {
		t.Errorf("before starts_at: %v", err)
	}
	clk.add(2 * time.Hour)

	// 50 concurrent downloads against a limit of 10: exactly 10 pass.
	var ok, limited atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			_, err := c.UseShare(by, s.ID, catalog.ShareUse{Download: true, Asset: a.ID})
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, catalog.ErrDownloadLimit):
				limited.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 10 || limited.Load() != 40 {
		t.Errorf("downloads: %d passed, %d limited; want 10 and 40", ok.Load(), limited.Load())
	}
	if _, err := c.RevokeShare(by, s.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UseShare(by, s.ID, catalog.ShareUse{}); !errors.Is(err, catalog.ErrShareGone) {
		t.Errorf("after revoke: %v", err)
	}
	// A collection link follows the collection and dies with it.
	name := "Informe anual"
	col, err := c.CreateCollection(by, catalog.CollectionChange{Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	_, cs, err := c.CreateShare(by, catalog.NewShare{Collection: col.ID, Recipient: "Radio"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateCollection(by, col.ID, catalog.CollectionChange{Add: []string{a.ID}}); err != nil {
		t.Fatal(err)
	}
	if ids, err := c.ShareAssets(cs); err != nil || !slices.Equal(ids, []string{a.ID}) {
		t.Errorf("collection share assets = %v, %v", ids, err)
	}
	if _, err := c.UseShare(by, cs.ID, catalog.ShareUse{Download: true}); !errors.Is(err, catalog.ErrForbidden) {
		t.Errorf("download on a view-only link: %v", err)
	}
	if err := c.DeleteCollection(by, col.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ShareAssets(cs); !errors.Is(err, catalog.ErrShareGone) {
		t.Errorf("deleted collection: %v", err)
	}
	clk.add(31 * 24 * time.Hour)
	if err := cs.State(clk.now()); !errors.Is(err, catalog.ErrShareGone) {
		t.Errorf("expired: %v", err)
	}
}

func TestCollectionOrder(t *testing.T) {
	c := catalogtest.Open(t, nil)
	by := catalog.Actor{}
	var ids []string
	for _, ch := range "cde" {
		a, _, _ := c.CreateAsset(newAsset(strings.Repeat(string(ch), 64)))
		ids = append(ids, a.ID)
	}
	name, desc := "Kit de prensa", "Fotos para medios"
	col, err := c.CreateCollection(by, catalog.CollectionChange{Name: &name, Description: &desc, Add: ids[:2]})
	if err != nil {
		t.Fatal(err)
	}
	col, err = c.UpdateCollection(by, col.ID, catalog.CollectionChange{Add: []string{ids[2], ids[0]}, Remove: []string{ids[1]}})
	if err != nil || !slices.Equal(col.AssetIDs, []string{ids[0], ids[2]}) {
		t.Fatalf("add/remove: %v, %v", col.AssetIDs, err)
	}
	order := []string{ids[2], ids[0]}
	col, err = c.UpdateCollection(by, col.ID, catalog.CollectionChange{Assets: &order})
	if err != nil || !slices.Equal(col.AssetIDs, order) {
		t.Fatalf("reorder: %v, %v", col.AssetIDs, err)
	}
	if _, err := c.UpdateCollection(by, col.ID, catalog.CollectionChange{Add: []string{"nope"}}); !errors.Is(err, catalog.ErrInvalid) {
		t.Errorf("unknown asset: %v", err)
	}
	empty := " "
	if _, err := c.CreateCollection(by, catalog.CollectionChange{Name: &empty}); !errors.Is(err, catalog.ErrInvalid) {
		t.Errorf("blank name: %v", err)
	}
}
