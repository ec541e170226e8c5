package transcode

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/catalog/catalogtest"
	"github.com/comsoc/acervo/storage/disk"
)

// TestPoolStopAndResume stops the pool while it works, as a shutdown does,
// and checks that the interrupted jobs are not lost: the recovery at the
// next start queues them again and a new pool finishes every asset.
func TestPoolStopAndResume(t *testing.T) {
	requireTools(t, "exiftool", "djpeg")
	data := t.TempDir()
	store, err := disk.New(disk.Config{Root: data})
	if err != nil {
		t.Fatal(err)
	}
	cat := catalogtest.Open(t, nil)
	ing := &catalog.Ingester{Catalog: cat, Store: store, Sniff: Sniff, JobsFor: JobsFor}
	src := drawPhoto(1200, 900)
	const n = 8
	var ids []string
	for i := 0; i < n; i++ {
		path := writeTestPhoto(t, t.TempDir(), "p", "jpeg", src)
		exiftoolWrite(t, path, fmt.Sprintf("-ImageDescription=foto %d", i)) // distinct bytes
		b, _ := os.ReadFile(path)
		a, _, err := ing.Ingest(context.Background(), bytes.NewReader(b), catalog.NewAsset{Filename: "p.jpg"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	newPool := func() *Pool {
		p, err := NewPool(PoolConfig{Poll: 20 * time.Millisecond, ScratchDir: filepath.Join(store.StagingDir(), "jobs")}, cat, store, newExifTool(t))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}

	p := newPool()
	p.Start()
	time.Sleep(150 * time.Millisecond)
	stopped := make(chan struct{})
	go func() { p.Stop(); p.Stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(30 * time.Second):
		t.Fatal("Stop did not return")
	}

	if q, r, _ := cat.QueueDepth(); r != 0 {
		t.Errorf("after Stop: %d jobs still running (%d queued), want all released", r, q)
	}
	p = newPool()
	p.Start()
	defer p.Stop()
	deadline := time.Now().Add(60 * time.Second)
	for _, id := range ids {
		for {
			a, err := cat.Asset(id)
			if err != nil {
				t.Fatal(err)
			}
			if a.Status == catalog.StatusReady {
				break
			}
			if a.Status == catalog.StatusFailed || time.Now().After(deadline) {
				t.Fatalf("asset %s: %s %s", id, a.Status, a.Error)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if q, r, _ := cat.QueueDepth(); q+r != 0 {
		t.Errorf("queue after all ready: %d queued, %d running", q, r)
	}
}
