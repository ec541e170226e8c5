package catalog_test

import (
	"slices"
	"testing"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/catalog/catalogtest"
)

// TestFingerprintsStoredWithTheJob: fingerprints are written in the job's
// transaction, logged for similarity indexes, and an asset processed
// before fingerprints existed gets one backfill job, once, which never
// changes its status.
func TestFingerprintsStoredWithTheJob(t *testing.T) {
	c := catalogtest.Open(t, nil)
	old, _, err := c.CreateAsset(newAsset("aa"))
	if err != nil {
		t.Fatal(err)
	}
	j, err := c.ClaimJob()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CompleteJob(j.ID, nil); err != nil { // processed before fingerprints
		t.Fatal(err)
	}
	seq, err := c.FingerprintSeq()
	if err != nil {
		t.Fatal(err)
	}

	n := newAsset("bb")
	n.Filename = "nueva.jpg"
	fresh, _, err := c.CreateAsset(n)
	if err != nil {
		t.Fatal(err)
	}
	j, err = c.ClaimJob()
	if err != nil {
		t.Fatal(err)
	}
	want := catalog.Fingerprints{Photo: []uint64{1, 1 << 63, 3}, PhotoQuery: []uint64{4}}
	err = c.CompleteJobWith(j.ID, func(a *catalog.Asset, v *catalog.Vocab) error { return v.PutFingerprints(a.ID, want) })
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Fingerprints(fresh.ID)
	if err != nil || !slices.Equal(got.Photo, want.Photo) || !slices.Equal(got.PhotoQuery, want.PhotoQuery) {
		t.Fatalf("Fingerprints = %+v, %v; want %+v", got, err, want)
	}
	since, next, err := c.FingerprintsSince(seq)
	if err != nil || len(since) != 1 || since[fresh.ID].Photo == nil || next != seq+1 {
		t.Fatalf("FingerprintsSince(%d) = %v, %d, %v", seq, since, next, err)
	}
	if again, n2, _ := c.FingerprintsSince(next); len(again) != 0 || n2 != next {
		t.Errorf("nothing new: got %v, %d", again, n2)
	}

	queued, err := c.QueueFingerprintBackfill("fingerprint")
	if err != nil || queued != 1 {
		t.Fatalf("backfill queued %d, %v; want 1 (the old asset only)", queued, err)
	}
	if queued, _ := c.QueueFingerprintBackfill("fingerprint"); queued != 0 {
		t.Errorf("second backfill queued %d, want 0", queued)
	}
	j, err = c.ClaimJob("fingerprint")
	if err != nil || j.AssetID != old.ID {
		t.Fatalf("backfill job = %+v, %v; want one for %s", j, err, old.ID)
	}
	if err := c.FailJob(j.ID, "no preview", true); err != nil {
		t.Fatal(err)
	}
	if a, _ := c.Asset(old.ID); a.Status != catalog.StatusReady {
		t.Errorf("after a failed backfill the asset is %s, want still ready", a.Status)
	}
	if _, err := c.Fingerprints(old.ID); err == nil {
		t.Errorf("failed backfill stored fingerprints")
	}
}
