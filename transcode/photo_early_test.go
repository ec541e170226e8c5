package transcode

import (
	"bytes"
	"context"
	"image/color"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/catalog/catalogtest"
	"github.com/comsoc/acervo/storage/disk"
)

// TestRenderPhotoOnThumb: with OnThumb, the thumbnail is handed over once,
// already written and the same as the one RenderPhoto returns; a refused
// photo never calls it and leaves nothing behind.
func TestRenderPhotoOnThumb(t *testing.T) {
	cfg := photoConfig(t)
	et := newExifTool(t)
	var (
		mu     sync.Mutex
		got    []Rendition
		onDisk []bool
	)
	cfg.OnThumb = func(r Rendition) {
		_, err := os.Stat(r.Path)
		mu.Lock()
		got, onDisk = append(got, r), append(onDisk, err == nil)
		mu.Unlock()
	}
	path := writeTestPhoto(t, t.TempDir(), "original", "jpeg", drawPhoto(3000, 2000))
	info, err := RenderPhoto(t.Context(), cfg, et, path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != info.Renditions[1] || !onDisk[0] {
		t.Fatalf("OnThumb got %+v (on disk %v), want once %+v", got, onDisk, info.Renditions[1])
	}
	checkPhoto(t, cfg, info, 2048, 1365, 400, 267, [4]color.Color{red, green, blue, white})

	got = nil
	cfg.ScratchDir = t.TempDir()
	bad := filepath.Join(t.TempDir(), "original")
	b, _ := os.ReadFile(path)
	os.WriteFile(bad, b[:len(b)/2], 0o644)
	_, err = RenderPhoto(t.Context(), cfg, et, bad)
	checkRefused(t, err, ErrUnsupported, "corrupt or truncated JPEG", cfg.ScratchDir)
	if len(got) != 0 {
		t.Errorf("OnThumb called for a refused photo: %+v", got)
	}
}

// TestPoolRecordsThumbEarly: a photo job records its thumbnail in the
// catalog while the asset is still processing (so it can be served before
// the preview), and the finished asset has both renditions, the thumbnail
// stored once.
func TestPoolRecordsThumbEarly(t *testing.T) {
	requireTools(t, "exiftool", "djpeg", "cjpeg")
	data := t.TempDir()
	store, err := disk.New(disk.Config{Root: data})
	if err != nil {
		t.Fatal(err)
	}
	cat := catalogtest.Open(t, nil)
	q := &earlyQueue{Catalog: cat}
	ing := &catalog.Ingester{Catalog: cat, Store: store, Sniff: Sniff, JobsFor: JobsFor}
	b, _ := os.ReadFile(writeTestPhoto(t, t.TempDir(), "p", "jpeg", drawPhoto(3000, 2000)))
	a, _, err := ing.Ingest(context.Background(), bytes.NewReader(b), catalog.NewAsset{Filename: "p.jpg"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPool(PoolConfig{Poll: 20 * time.Millisecond, ScratchDir: filepath.Join(store.StagingDir(), "jobs")}, q, store, newExifTool(t))
	if err != nil {
		t.Fatal(err)
	}
	p.Start()
	defer p.Stop()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got, err := cat.Asset(a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == catalog.StatusReady {
			a = got
			break
		}
		if got.Status == catalog.StatusFailed || time.Now().After(deadline) {
			t.Fatalf("asset %s: %s %s", a.ID, got.Status, got.Error)
		}
		time.Sleep(20 * time.Millisecond)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.early) != 1 || q.early[0].Status != catalog.StatusProcessing || len(q.early[0].Renditions) != 1 {
		t.Fatalf("recorded early: %+v, want one asset, processing, with the thumbnail alone", q.early)
	}
	thumb := q.early[0].Renditions["thumb.jpg"]
	if thumb.Width != 400 || thumb.Height != 267 || a.Renditions["thumb.jpg"] != thumb || a.Renditions["preview.jpg"].Width != 2048 {
		t.Errorf("renditions early %+v, at the end %+v", thumb, a.Renditions)
	}
	f, err := os.ReadFile(filepath.Join(data, "derived", a.ID, "thumb.jpg"))
	if err != nil || int64(len(f)) != thumb.Size {
		t.Errorf("stored thumb.jpg: %d bytes, %v; want %d", len(f), err, thumb.Size)
	}
}

// earlyQueue is the catalog, noting the asset as each AddRenditions left it.
type earlyQueue struct {
	*catalog.Catalog
	mu    sync.Mutex
	early []catalog.Asset
}

func (q *earlyQueue) AddRenditions(jobID string, rs map[string]catalog.Rendition) error {
	if err := q.Catalog.AddRenditions(jobID, rs); err != nil {
		return err
	}
	j, err := q.Catalog.Job(jobID)
	if err != nil {
		return err
	}
	a, err := q.Catalog.Asset(j.AssetID)
	q.mu.Lock()
	q.early = append(q.early, a)
	q.mu.Unlock()
	return err
}
