package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image/jpeg"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/storage"
)

// checkWitnessed checks invariant 1 through the API after a restart: every
// acknowledged asset is there, with its metadata and its exact bytes.
func checkWitnessed(t *testing.T, a *api, w witnesses) {
	t.Helper()
	for _, sha := range w.sorted() {
		wit := w[sha]
		var got assetJSON
		if err := a.getJSON("/api/v1/assets/"+wit.id, &got); err != nil {
			t.Errorf("acknowledged %s (%s) lost: %v", wit.id, wit.filename, err)
			continue
		}
		if got.SHA256 != sha || got.Filename != wit.filename {
			t.Errorf("asset %s: sha256 %s, filename %q; acknowledged %s, %q", wit.id, got.SHA256, got.Filename, sha, wit.filename)
		}
		if err := checkOriginal(a, wit.id, sha); err != nil {
			t.Errorf("asset %s (%s): %v", wit.id, wit.filename, err)
		}
	}
}

func checkOriginal(a *api, id, sha string) error {
	resp, err := a.get("/api/v1/assets/" + id + "/original")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("original: status %d", resp.StatusCode)
	}
	h := sha256.New()
	if _, err := io.Copy(h, resp.Body); err != nil {
		return fmt.Errorf("original: %w", err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sha {
		return fmt.Errorf("original has sha256 %s, want %s", got, sha)
	}
	return nil
}

// waitProcessed waits until the job queue is empty and every witnessed
// asset has settled, then requires them all ready (invariant 3: killed jobs
// are retried, not lost or failed).
func waitProcessed(t *testing.T, a *api, w witnesses, srv *serverProc) {
	t.Helper()
	deadline := time.Now().Add(processDeadline)
	for {
		pending, err := queueDepth(a)
		if err != nil {
			t.Fatalf("%v; server %s", err, srv.state())
		}
		var processing, failed []string
		for _, sha := range w.sorted() {
			var got assetJSON
			if err := a.getJSON("/api/v1/assets/"+w[sha].id, &got); err != nil {
				t.Fatalf("%v; server %s", err, srv.state())
			}
			switch got.Status {
			case catalog.StatusProcessing:
				processing = append(processing, got.ID)
			case catalog.StatusFailed:
				failed = append(failed, fmt.Sprintf("%s (%s): %s", got.ID, got.Filename, got.Error))
			}
		}
		if pending == 0 && len(processing) == 0 {
			if len(failed) > 0 {
				t.Fatalf("%d of %d assets failed processing:\n%s", len(failed), len(w), strings.Join(failed, "\n"))
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %d jobs pending, %d assets processing %v, %d failed:\n%s",
				processDeadline, pending, len(processing), processing, len(failed), strings.Join(failed, "\n"))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// queueDepth counts queued and running jobs through the admin jobs API.
func queueDepth(a *api) (int, error) {
	n := 0
	for _, state := range []string{catalog.JobQueued, catalog.JobRunning} {
		var jobs struct {
			Jobs []json.RawMessage `json:"jobs"`
		}
		if err := a.getJSON("/api/v1/jobs?state="+state, &jobs); err != nil {
			return 0, err
		}
		n += len(jobs.Jobs)
	}
	return n, nil
}

// waitJobsDone waits until no job is queued or running, so what is timed
// next is not sharing the processors with renditions and fingerprints.
func waitJobsDone(t *testing.T, a *api, limit time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(limit); ; time.Sleep(100 * time.Millisecond) {
		n, err := queueDepth(a)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d jobs still queued or running after %v", n, limit)
		}
	}
}

// checkRenditions fetches each witnessed photo's thumbnail and preview.
func checkRenditions(t *testing.T, a *api, w witnesses) {
	t.Helper()
	for _, sha := range w.sorted() {
		var got assetJSON
		if err := a.getJSON("/api/v1/assets/"+w[sha].id, &got); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"thumb.jpg", "preview.jpg"} {
			r, ok := got.Renditions[name]
			if !ok {
				t.Errorf("asset %s: no %s among renditions %v", got.ID, name, got.Renditions)
				continue
			}
			if err := checkJPEG(a, r.URL); err != nil {
				t.Errorf("asset %s: %s: %v", got.ID, name, err)
			}
		}
	}
}

func checkJPEG(a *api, url string) error {
	resp, err := a.get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "image/jpeg" {
		return fmt.Errorf("Content-Type %q, want image/jpeg", ct)
	}
	if _, err := jpeg.DecodeConfig(resp.Body); err != nil {
		return fmt.Errorf("not a JPEG: %w", err)
	}
	return nil
}

// checkDataFolder inspects the stopped server's data folder: a consistent
// catalog holding every witnessed asset, each with its intact blob, and
// nothing else left behind by the kills.
func checkDataFolder(t *testing.T, data string, w witnesses) {
	t.Helper()
	checkStagingEmpty(t, filepath.Join(data, "staging"))

	cat, err := catalog.Open(catalog.Config{Path: filepath.Join(data, "catalog.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	if err := cat.Check(); err != nil {
		t.Errorf("bbolt check: %v", err)
	}
	bySHA := map[string]catalog.Asset{}
	byID := map[string]bool{}
	err = cat.EachAsset(func(a catalog.Asset) error {
		if prev, ok := bySHA[a.SHA256]; ok {
			t.Errorf("assets %s and %s hold the same bytes %s", prev.ID, a.ID, a.SHA256)
		}
		bySHA[a.SHA256], byID[a.ID] = a, true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("catalog: %d assets, %d of them witnessed", len(bySHA), len(w))

	for _, sha := range w.sorted() {
		if a, ok := bySHA[sha]; !ok || a.ID != w[sha].id {
			t.Errorf("witnessed asset %s (%s) not in the catalog under sha256 %s", w[sha].id, w[sha].filename, sha)
		}
	}
	// Assets that committed but whose answer the kill swallowed are fine,
	// as long as they are whole and processed like the others.
	for _, a := range bySHA {
		if err := checkBlob(data, a); err != nil {
			t.Errorf("asset %s (%s): %v", a.ID, a.Filename, err)
		}
		if a.Status != catalog.StatusReady {
			t.Errorf("asset %s (%s): status %s %s, want ready", a.ID, a.Filename, a.Status, a.Error)
		}
	}
	checkNoOrphans(t, data, bySHA, byID)
	checkAudit(t, cat, bySHA)
	checkJobs(t, cat, byID)
}

// checkJobs: invariant 3 after the kills: nothing queued or running once
// processed, no job of an asset that does not exist, and no asset with
// two jobs of one kind (a retried job is the same job, not a copy).
func checkJobs(t *testing.T, cat *catalog.Catalog, byID map[string]bool) {
	t.Helper()
	jobs, err := cat.Jobs("", 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, j := range jobs {
		if j.State != catalog.JobDone {
			t.Errorf("job %s (%s of %s) is %s: %s", j.ID, j.Kind, j.AssetID, j.State, j.Error)
		}
		if j.AssetID == "" {
			continue
		}
		if !byID[j.AssetID] {
			t.Errorf("job %s (%s) of no asset %s", j.ID, j.Kind, j.AssetID)
		}
		k := j.AssetID + " " + j.Kind
		if prev, ok := seen[k]; ok {
			t.Errorf("asset %s has two %s jobs: %s and %s", j.AssetID, j.Kind, prev, j.ID)
		}
		seen[k] = j.ID
	}
	t.Logf("jobs: %d, all done, none duplicated", len(jobs))
}

// checkAudit: the hash chain survives kill -9 whole, and every asset in
// the catalog has its upload entry (they commit in one transaction).
func checkAudit(t *testing.T, cat *catalog.Catalog, bySHA map[string]catalog.Asset) {
	t.Helper()
	if _, err := cat.VerifyAudit(); err != nil {
		t.Errorf("audit chain: %v", err)
	}
	audited := map[string]bool{}
	f := catalog.AuditFilter{Action: catalog.AuditUpload, Limit: 1000}
	for {
		entries, next, err := cat.AuditLog(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			audited[e.Asset] = true
		}
		if next == 0 {
			break
		}
		f.Before = next
	}
	for _, a := range bySHA {
		if !audited[a.ID] {
			t.Errorf("asset %s (%s) has no upload entry in the audit trail", a.ID, a.Filename)
		}
	}
}

// checkStagingEmpty fails on any file left in staging; empty folders are
// harmless but logged.
func checkStagingEmpty(t *testing.T, staging string) {
	t.Helper()
	err := filepath.WalkDir(staging, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			t.Errorf("left in staging: %s", p)
		} else if p != staging {
			t.Logf("empty folder left in staging: %s", p)
		}
		return nil
	})
	if err != nil {
		t.Errorf("walk staging: %v", err)
	}
}

// checkBlob re-hashes an asset's original where the store keeps it.
func checkBlob(data string, a catalog.Asset) error {
	key, err := storage.BlobKey(a.SHA256)
	if err != nil {
		return err
	}
	f, err := os.Open(filepath.Join(data, filepath.FromSlash(key)))
	if err != nil {
		return fmt.Errorf("blob: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return fmt.Errorf("blob: %w", err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != a.SHA256 || n != a.Size {
		return fmt.Errorf("blob has sha256 %s and %d bytes, want %s and %d", got, n, a.SHA256, a.Size)
	}
	return nil
}

// checkNoOrphans fails on blobs no asset holds and on renditions of assets
// that do not exist: a crash must not leak disk space forever.
func checkNoOrphans(t *testing.T, data string, bySHA map[string]catalog.Asset, byID map[string]bool) {
	t.Helper()
	blobs := filepath.Join(data, "blobs", "sha256")
	err := filepath.WalkDir(blobs, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name := d.Name()
		key, kerr := storage.BlobKey(name)
		if _, ok := bySHA[name]; !ok || kerr != nil || filepath.Join(data, filepath.FromSlash(key)) != p {
			t.Errorf("orphan blob: %s", p)
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("walk blobs: %v", err)
	}
	derived, err := os.ReadDir(filepath.Join(data, "derived"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("read derived: %v", err)
	}
	for _, d := range derived {
		if !byID[d.Name()] {
			t.Errorf("renditions of no asset: derived/%s", d.Name())
		}
	}
}

// checkSearchable asks the search API for every asset, page by page, until
// each witnessed asset is in the index: kills between a commit and its
// indexing must be repaired by the dirty queue at start (invariant 2).
func checkSearchable(t *testing.T, a *api, w witnesses) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		found := map[string]bool{}
		var err error
		for page := 1; err == nil; page++ {
			var res struct {
				Total int `json:"total"`
				Hits  []struct {
					ID string `json:"id"`
				} `json:"hits"`
			}
			if err = a.getJSON(fmt.Sprintf("/api/v1/search?per_page=200&page=%d&sort=uploaded_at", page), &res); err != nil {
				break
			}
			for _, h := range res.Hits {
				found[h.ID] = true
			}
			if len(res.Hits) == 0 || page*200 >= res.Total {
				break
			}
		}
		var missing []string
		for _, sha := range w.sorted() {
			if !found[w[sha].id] {
				missing = append(missing, w[sha].id)
			}
		}
		if err == nil && len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d acknowledged assets not in the search index after restart (err %v): %v", len(missing), err, missing)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
