package catalog_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/catalog/catalogtest"
	"github.com/comsoc/acervo/storage"
	"github.com/comsoc/acervo/storage/disk"
)

// clock is a settable time source for retry backoffs and expiries.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func newClock() *clock               { return &clock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)} }
func sniffAll(head []byte) (string, string, bool) {
	if bytes.HasPrefix(head, []byte("<")) {
		return "", "", false
	}
	return catalog.KindPhoto, "image/jpeg", true
}

func newAsset(sha string) catalog.NewAsset {
	return catalog.NewAsset{Kind: catalog.KindPhoto, Filename: "Inauguración.jpg", SHA256: sha, MIME: "image/jpeg", Size: 10,
		Event: "Inauguración del parque", People: []string{"Alcaldesa", "alcaldesa"}, Tags: []string{"parque", "Parque", " "}, Jobs: []string{"photo"}}
}

func TestCreateAssetAndDuplicate(t *testing.T) {
	c := catalogtest.Open(t, nil)
	a, dup, err := c.CreateAsset(newAsset(strings.Repeat("a", 64)))
	if err != nil || dup {
		t.Fatalf("create: dup %v err %v", dup, err)
	}
	if got, want := a.Status, catalog.StatusProcessing; got != want {
		t.Errorf("status = %q, want %q", got, want)
	}
	if a.Event == nil || a.Event.Name != "Inauguración del parque" {
		t.Errorf("event = %+v", a.Event)
	}
	if got, want := len(a.People), 1; got != want {
		t.Errorf("people = %+v, want one (same name, other case)", a.People)
	}
	if got, want := strings.Join(a.Tags, ","), "parque"; got != want {
		t.Errorf("tags = %q, want %q", got, want)
	}
	again, dup, err := c.CreateAsset(newAsset(strings.Repeat("a", 64)))
	if err != nil || !dup || again.ID != a.ID {
		t.Errorf("same bytes again: id %s dup %v err %v, want id %s dup", again.ID, dup, err, a.ID)
	}
}

func TestJobLifecycle(t *testing.T) {
	clk := newClock()
	c := catalogtest.Open(t, clk.now)
	a, _, err := c.CreateAsset(newAsset(strings.Repeat("b", 64)))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("retry after transient failure, then ready", func(t *testing.T) {
		j, err := c.ClaimJob()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.ClaimJob(); !errors.Is(err, catalog.ErrNoJob) {
			t.Fatalf("second claim = %v, want ErrNoJob (job is running)", err)
		}
		if err := c.FailJob(j.ID, "ffmpeg timed out", false); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ClaimJob(); !errors.Is(err, catalog.ErrNoJob) {
			t.Fatalf("claim during backoff = %v, want ErrNoJob", err)
		}
		clk.add(time.Minute)
		j, err = c.ClaimJob()
		if err != nil || j.Attempts != 2 {
			t.Fatalf("claim after backoff: attempts %d err %v", j.Attempts, err)
		}
		err = c.CompleteJob(j.ID, func(a *catalog.Asset) error { a.Width = 4000; return nil })
		if err != nil {
			t.Fatal(err)
		}
		got, _ := c.Asset(a.ID)
		if got.Status != catalog.StatusReady || got.Width != 4000 {
			t.Errorf("asset = %s %d, want ready 4000", got.Status, got.Width)
		}
	})
}

func TestJobFailsAfterThreeAttempts(t *testing.T) {
	clk := newClock()
	c := catalogtest.Open(t, clk.now)
	a, _, _ := c.CreateAsset(newAsset(strings.Repeat("c", 64)))
	for i := 1; i <= catalog.MaxAttempts; i++ {
		clk.add(time.Hour)
		j, err := c.ClaimJob()
		if err != nil {
			t.Fatalf("attempt %d: %v", i, err)
		}
		if err := c.FailJob(j.ID, "child killed: signal 9", false); err != nil {
			t.Fatal(err)
		}
	}
	clk.add(time.Hour)
	if _, err := c.ClaimJob(); !errors.Is(err, catalog.ErrNoJob) {
		t.Errorf("claim after %d failures = %v, want ErrNoJob", catalog.MaxAttempts, err)
	}
	got, _ := c.Asset(a.ID)
	if got.Status != catalog.StatusFailed || got.Error != "child killed: signal 9" {
		t.Errorf("asset = %s %q, want failed with the reason", got.Status, got.Error)
	}
}

func TestPermanentFailureIsNotRetried(t *testing.T) {
	c := catalogtest.Open(t, nil)
	a, _, _ := c.CreateAsset(newAsset(strings.Repeat("d", 64)))
	j, _ := c.ClaimJob()
	if err := c.FailJob(j.ID, "image is 30000×30000 (900 MP), over the 250 MP limit", true); err != nil {
		t.Fatal(err)
	}
	got, _ := c.Asset(a.ID)
	if got.Status != catalog.StatusFailed || !strings.Contains(got.Error, "250 MP") {
		t.Errorf("asset = %s %q", got.Status, got.Error)
	}
}

func TestRecoverRequeuesRunningJobs(t *testing.T) {
	c := catalogtest.Open(t, nil)
	c.CreateAsset(newAsset(strings.Repeat("e", 64)))
	j, _ := c.ClaimJob()
	requeued, failed, err := c.RecoverJobs()
	if err != nil || requeued != 1 || failed != 0 {
		t.Fatalf("recover = %d requeued, %d failed, err %v", requeued, failed, err)
	}
	again, err := c.ClaimJob()
	if err != nil || again.ID != j.ID || again.Interrupted != 1 || again.Attempts != 1 {
		t.Errorf("claim after recover: %+v err %v", again, err)
	}
}

func TestSessionsAndTokens(t *testing.T) {
	clk := newClock()
	c := catalogtest.Open(t, clk.now)
	u, err := c.CreateUser(catalog.NewUser{Username: "fotografa", Password: "una contraseña larga", Role: catalog.RoleContributor})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateUser(catalog.NewUser{Username: "FOTOGRAFA", Password: "otra contraseña larga", Role: catalog.RoleViewer}); !errors.Is(err, catalog.ErrExists) {
		t.Errorf("duplicate username (other case) = %v, want ErrExists", err)
	}
	if !catalog.CheckPassword(u.PasswordHash, "una contraseña larga") || catalog.CheckPassword(u.PasswordHash, "otra") {
		t.Error("password check wrong")
	}
	secret, _, err := c.CreateSession(catalog.Actor{UserID: u.ID}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, got, err := c.SessionUser(secret); err != nil || got.ID != u.ID {
		t.Fatalf("session user = %v, %v", got.ID, err)
	}
	clk.add(2 * time.Hour)
	if _, _, err := c.SessionUser(secret); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("expired session = %v, want ErrNotFound", err)
	}
	tok, rec, err := c.CreateToken(catalog.Actor{UserID: u.ID}, "script")
	if err != nil {
		t.Fatal(err)
	}
	if _, got, err := c.TokenUser(tok); err != nil || got.ID != u.ID {
		t.Fatalf("token user = %v, %v", got.ID, err)
	}
	if err := c.DeleteToken(catalog.Actor{UserID: u.ID}, rec.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.TokenUser(tok); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("revoked token = %v, want ErrNotFound", err)
	}
	secret, _, _ = c.CreateSession(catalog.Actor{UserID: u.ID}, time.Hour)
	if err := c.SetPassword(catalog.Actor{}, "fotografa", "nueva contraseña larga"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.SessionUser(secret); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("session after password change = %v, want ErrNotFound", err)
	}
}

func newIngester(t *testing.T) (*catalog.Ingester, *disk.Store) {
	store, err := disk.New(disk.Config{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	c := catalogtest.Open(t, nil)
	return &catalog.Ingester{Catalog: c, Store: store, Sniff: sniffAll, JobsFor: func(catalog.NewAsset) []string { return []string{"photo"} }}, store
}

func TestIngestRefusesUnsupportedLeavingNothing(t *testing.T) {
	in, store := newIngester(t)
	_, _, err := in.Ingest(context.Background(), strings.NewReader("<html>not a photo</html>"), catalog.NewAsset{})
	if !errors.Is(err, catalog.ErrUnsupportedMedia) {
		t.Fatalf("err = %v, want ErrUnsupportedMedia", err)
	}
	if n, _ := store.CleanStaging(); n != 0 {
		t.Errorf("%d staging entries left", n)
	}
}

func TestRecoverRemovesOrphanBlob(t *testing.T) {
	in, store := newIngester(t)
	ctx := context.Background()
	// A crash between the blob's rename and the asset's commit: the intent
	// is durable, the blob is on disk, no asset refers to it.
	sha := strings.Repeat("f", 64)
	key, _ := storage.BlobKey(sha)
	if err := in.Catalog.AddBlobIntent(sha); err != nil {
		t.Fatal(err)
	}
	w, _ := store.Create(ctx)
	w.Write([]byte("orphan"))
	if err := w.Commit(key); err != nil {
		t.Fatal(err)
	}
	kept, _, err := in.Ingest(ctx, strings.NewReader("a real photo"), catalog.NewAsset{Filename: "a.jpg"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Stat(ctx, key); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("orphan blob still there: %v", err)
	}
	keptKey, _ := storage.BlobKey(kept.SHA256)
	if _, err := store.Stat(ctx, keptKey); err != nil {
		t.Errorf("acknowledged blob gone: %v", err)
	}
}

// Workers of one lane claim only their kinds, so a long video never holds
// up photos.
func TestClaimJobByKind(t *testing.T) {
	c := catalogtest.Open(t, nil)
	video := newAsset(strings.Repeat("1", 64))
	video.Jobs = []string{"video"}
	c.CreateAsset(video)
	c.CreateAsset(newAsset(strings.Repeat("2", 64)))
	j, err := c.ClaimJob("photo", "audio")
	if err != nil || j.Kind != "photo" {
		t.Fatalf("photo lane claimed %+v, err %v", j, err)
	}
	if _, err := c.ClaimJob("photo", "audio"); !errors.Is(err, catalog.ErrNoJob) {
		t.Errorf("photo lane again = %v, want ErrNoJob", err)
	}
	byKind, _ := c.QueuedByKind()
	if byKind["video"] != 1 || byKind["photo"] != 0 {
		t.Errorf("queued by kind = %v", byKind)
	}
	if j, err := c.ClaimJob("video"); err != nil || j.Kind != "video" {
		t.Errorf("video lane claimed %+v, err %v", j, err)
	}
}

// TestAddRenditionsWhileRunning: a running job records its first rendition
// (a photo's thumbnail) before it completes; the asset stays processing, and
// a job that is no longer running cannot add any.
func TestAddRenditionsWhileRunning(t *testing.T) {
	c := catalogtest.Open(t, nil)
	a, _, err := c.CreateAsset(newAsset(strings.Repeat("e", 64)))
	if err != nil {
		t.Fatal(err)
	}
	j, err := c.ClaimJob()
	if err != nil {
		t.Fatal(err)
	}
	thumb := catalog.Rendition{Width: 400, Height: 300, Size: 1234, SHA256: strings.Repeat("1", 64), MIME: "image/jpeg"}
	if err := c.AddRenditions(j.ID, map[string]catalog.Rendition{"thumb.jpg": thumb}); err != nil {
		t.Fatal(err)
	}
	got, _ := c.Asset(a.ID)
	if got.Status != catalog.StatusProcessing || got.Renditions["thumb.jpg"] != thumb {
		t.Fatalf("asset = %s %+v, want processing with the thumbnail", got.Status, got.Renditions)
	}
	preview := catalog.Rendition{Width: 2048, Height: 1536, Size: 99, SHA256: strings.Repeat("2", 64), MIME: "image/jpeg"}
	err = c.CompleteJob(j.ID, func(a *catalog.Asset) error { a.Renditions["preview.jpg"] = preview; return nil })
	if err != nil {
		t.Fatal(err)
	}
	got, _ = c.Asset(a.ID)
	if got.Status != catalog.StatusReady || len(got.Renditions) != 2 {
		t.Fatalf("asset = %s %+v, want ready with two renditions", got.Status, got.Renditions)
	}
	if err := c.AddRenditions(j.ID, map[string]catalog.Rendition{"thumb.jpg": thumb}); !errors.Is(err, catalog.ErrInvalid) {
		t.Fatalf("add to a done job = %v, want ErrInvalid", err)
	}
}
