package transcode

import (
	"bytes"
	"context"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/catalog/catalogtest"
	"github.com/comsoc/acervo/storage"
	"github.com/comsoc/acervo/storage/disk"
)

// TestPoolStoresFingerprints: a photo job stores its preview's
// fingerprints with its renditions; assets processed before fingerprints
// existed (a photo with its preview, an audio) get theirs from the
// backfill jobs, and stay ready throughout.
func TestPoolStoresFingerprints(t *testing.T) {
	requireTools(t, "exiftool", "djpeg", "ffmpeg", "ffprobe")
	data := t.TempDir()
	store, err := disk.New(disk.Config{Root: data})
	if err != nil {
		t.Fatal(err)
	}
	cat := catalogtest.Open(t, nil)
	ing := &catalog.Ingester{Catalog: cat, Store: store, Sniff: Sniff, JobsFor: JobsFor}
	ctx := context.Background()
	ingest := func(b []byte) catalog.Asset {
		a, _, err := ing.Ingest(ctx, bytes.NewReader(b), catalog.NewAsset{Filename: "f"})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	var buf bytes.Buffer
	jpeg.Encode(&buf, drawPhoto(1200, 900), &jpeg.Options{Quality: 90})
	photo := buf.Bytes()

	// Two assets "processed before fingerprints": their jobs completed by
	// hand, the photo's preview stored as the old worker would have.
	oldPhoto := ingest(photo)
	j, err := cat.ClaimJob()
	if err != nil {
		t.Fatal(err)
	}
	w, _ := store.Create(ctx)
	w.Write(photo)
	key, _ := storage.DerivedKey(oldPhoto.ID, "preview.jpg")
	if err := w.Commit(key); err != nil {
		t.Fatal(err)
	}
	if err := cat.CompleteJob(j.ID, nil); err != nil {
		t.Fatal(err)
	}
	wav := filepath.Join(t.TempDir(), "a.wav")
	if b, err := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=f=440:d=8,vibrato=f=3", "-c:a", "pcm_s16le", wav).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v %s", err, b)
	}
	wb, _ := os.ReadFile(wav)
	oldAudio := ingest(wb)
	if j, err = cat.ClaimJob(); err != nil {
		t.Fatal(err)
	}
	if err := cat.CompleteJob(j.ID, nil); err != nil {
		t.Fatal(err)
	}
	if n, err := cat.QueueFingerprintBackfill(JobFingerprint); err != nil || n != 2 {
		t.Fatalf("backfill queued %d, %v; want 2", n, err)
	}

	var other bytes.Buffer
	jpeg.Encode(&other, drawPhoto(900, 1200), &jpeg.Options{Quality: 80})
	fresh := ingest(other.Bytes())
	p, err := NewPool(PoolConfig{Poll: 20 * time.Millisecond, ScratchDir: filepath.Join(store.StagingDir(), "jobs")}, cat, store, newExifTool(t))
	if err != nil {
		t.Fatal(err)
	}
	p.Start()
	defer p.Stop()
	deadline := time.Now().Add(60 * time.Second)
	for _, id := range []string{oldPhoto.ID, oldAudio.ID, fresh.ID} {
		for {
			f, err := cat.Fingerprints(id)
			if err == nil {
				if a, _ := cat.Asset(id); a.Status != catalog.StatusReady {
					t.Errorf("%s is %s, want ready", id, a.Status)
				}
				if id == oldAudio.ID && len(f.Audio) < 20 || id != oldAudio.ID && (len(f.Photo) != 1+cropWindows || len(f.PhotoQuery) == 0) {
					t.Errorf("fingerprints of %s = %d photo, %d query, %d audio", id, len(f.Photo), len(f.PhotoQuery), len(f.Audio))
				}
				break
			}
			if time.Now().After(deadline) {
				a, _ := cat.Asset(id)
				t.Fatalf("no fingerprints for %s (%s %s): %v", id, a.Status, a.Error, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}
