package similar_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/catalog/catalogtest"
	"github.com/comsoc/acervo/catalog/similar"
)

// store commits fingerprints for a new asset through a job, as the worker does.
func store(t *testing.T, c *catalog.Catalog, sha string, f catalog.Fingerprints) string {
	t.Helper()
	a, _, err := c.CreateAsset(catalog.NewAsset{Kind: catalog.KindPhoto, SHA256: sha, MIME: "image/jpeg", Size: 1, Jobs: []string{"photo"}})
	if err != nil {
		t.Fatal(err)
	}
	j, err := c.ClaimJob()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CompleteJobWith(j.ID, func(a *catalog.Asset, v *catalog.Vocab) error { return v.PutFingerprints(a.ID, f) }); err != nil {
		t.Fatal(err)
	}
	return a.ID
}

// flip changes n distinct bits of h.
func flip(h uint64, n int, r *rand.Rand) uint64 {
	for _, b := range r.Perm(64)[:n] {
		h ^= 1 << b
	}
	return h
}

// TestIndexFollowsTheCatalog: built from what is stored, then takes in
// what is stored later, for photos (both directions), video and audio.
func TestIndexFollowsTheCatalog(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	c := catalogtest.Open(t, nil)
	h := r.Uint64()
	orig := store(t, c, "01", catalog.Fingerprints{Photo: []uint64{h, r.Uint64()}, PhotoQuery: []uint64{h}})
	x, err := similar.Open(similar.Config{Catalog: c})
	if err != nil {
		t.Fatal(err)
	}
	// A copy stored after the index was built: its own query hash is near
	// the original, and the original's hashes are far from the copy's
	// stored ones (a caption bar), so only the reverse look finds it.
	cp := store(t, c, "02", catalog.Fingerprints{Photo: []uint64{r.Uint64()}, PhotoQuery: []uint64{flip(h, 3, r)}})
	ms, err := x.OfAsset(orig)
	if err != nil || len(ms) != 1 || ms[0].AssetID != cp {
		t.Fatalf("OfAsset(original) = %+v, %v; want the copy", ms, err)
	}
	if ms, _ := x.OfAsset(cp); len(ms) != 1 || ms[0].AssetID != orig || ms[0].Distance != 3 {
		t.Errorf("OfAsset(copy) = %+v, want the original at 3 bits", ms)
	}
	if ms, _ := x.Photos([]uint64{flip(h, 12, r)}); len(ms) != 0 {
		t.Errorf("12 bits away matched: %+v", ms)
	}

	video := make([]uint64, 240)
	for i := range video {
		video[i] = r.Uint64()
	}
	vid := store(t, c, "03", catalog.Fingerprints{Video: video})
	query := make([]uint64, 40)
	for i := range query {
		query[i] = flip(video[94+i], 4, r)
	}
	ms, err = x.Videos(query)
	if err != nil || len(ms) != 1 || ms[0].AssetID != vid || ms[0].Start != 47*time.Second || ms[0].End != 67*time.Second {
		t.Errorf("Videos = %+v, %v; want %s at 47–67 s", ms, err, vid)
	}

	// An archived excerpt of the video: each finds the other.
	exc := store(t, c, "06", catalog.Fingerprints{Video: query})
	if ms, err := x.OfAsset(exc); err != nil || len(ms) != 1 || ms[0].AssetID != vid || ms[0].Start != 47*time.Second {
		t.Errorf("OfAsset(excerpt) = %+v, %v; want %s at 47 s", ms, err, vid)
	}
	if ms, err := x.OfAsset(vid); err != nil || len(ms) != 1 || ms[0].AssetID != exc {
		t.Errorf("OfAsset(video) = %+v, %v; want the excerpt %s", ms, err, exc)
	}

	audio := make([]uint32, 900)
	for i := range audio {
		audio[i] = r.Uint32()
	}
	aud := store(t, c, "04", catalog.Fingerprints{Audio: audio})
	ms, err = x.Audio(audio[300:460])
	if err != nil || len(ms) != 1 || ms[0].AssetID != aud || ms[0].Score != 1 {
		t.Errorf("Audio = %+v, %v; want %s exactly", ms, err, aud)
	}

	// A second index built now sees everything, and both keep following.
	y, err := similar.Open(similar.Config{Catalog: c})
	if err != nil {
		t.Fatal(err)
	}
	late := store(t, c, "05", catalog.Fingerprints{Photo: []uint64{flip(h, 2, r)}})
	for _, ix := range []*similar.Index{x, y} {
		ms, _ := ix.Photos([]uint64{h})
		if len(ms) != 2 || ms[0].AssetID != orig {
			t.Errorf("Photos = %+v, want the original and the late copy", ms)
		}
		found := false
		for _, m := range ms {
			found = found || m.AssetID == late
		}
		if !found {
			t.Errorf("late asset not found: %+v", ms)
		}
	}
}
