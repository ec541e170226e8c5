//go:build soak

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/storage/backup"
)

// TestSoakBackup: the backup test of backup_test.go at soak size. A data
// folder of big originals (40 × 25 MiB; --quick 8 × 16 MiB) and photos is
// backed up while four clients keep uploading; a server started on the
// backup has every original acknowledged before it began, byte for byte,
// and finds them; bbolt's check, the audit chain and `acervo verify` pass
// on it. Figures, the server stopped, alternating 3 rounds each: a full
// backup against `cp -r` of the same files (and `cp -r && sync`, durable
// like the backup), and `acervo verify --rate 0` against `sha256sum` and
// `openssl dgst -sha256` of the originals.
func TestSoakBackup(t *testing.T) {
	requireTools(t, "exiftool", "djpeg")
	bigs, sizeMB := 40, 25
	if quick() {
		bigs, sizeMB = 8, 16
	}
	bin := buildAcervo(t)
	root := t.TempDir()
	data, dir := filepath.Join(root, "data"), filepath.Join(root, "respaldo")
	logs := &lockedBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server output (tail):\n%s", tail(logs.String(), 4000))
		}
	})
	srv := startServerEnv(t, bin, data, logs, "ACERVO_WORKERS=2")
	hc := benchClient(64)
	a := &api{base: srv.base, token: createToken(t, hc, srv.base), hc: hc}
	env := []string{"ACERVO_TOKEN=" + a.token}

	var mu sync.Mutex
	all := witnesses{}
	acked := func(id, name, sha string) {
		mu.Lock()
		all[sha] = witness{id: id, filename: name}
		mu.Unlock()
	}
	big := func(seed int) error {
		g := &genUpload{seed: uint64(seed), size: int64(sizeMB) << 20}
		req, err := g.request(a)
		if err != nil {
			return err
		}
		got, err := doUpload(a, req)
		if err == nil {
			acked(got.ID, got.Filename, g.sum())
		}
		return err
	}
	var seeding sync.WaitGroup
	var seedErr atomic.Value
	for i := range 4 {
		seeding.Go(func() {
			for j := i; j < bigs; j += 4 {
				if err := big(5000 + j); err != nil {
					seedErr.CompareAndSwap(nil, err)
				}
			}
		})
	}
	for _, u := range makeUploads(1, 0, 20) {
		o := postUpload(a, u, 0)
		if o.err != nil || o.asset.ID == "" {
			t.Fatalf("upload %s: %v %d %s", u.name, o.err, o.status, o.body)
		}
		acked(o.asset.ID, u.name, u.sha)
	}
	seeding.Wait()
	if e := seedErr.Load(); e != nil {
		t.Fatal(e)
	}
	before := witnesses{}
	for sha, w := range all {
		before[sha] = w
	}

	stop := make(chan struct{})
	var during, errs atomic.Int64
	var wg sync.WaitGroup
	for c := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var err error
				if i%4 == 3 {
					err = big(9000 + 100*c + i)
				} else {
					u := makeUploads(2, 1000*(c+1)+i, 1)[0]
					o := postUpload(a, u, 50*time.Millisecond)
					if err = o.err; err == nil && o.asset.ID == "" {
						err = fmt.Errorf("status %d: %s", o.status, o.body)
					} else if err == nil {
						acked(o.asset.ID, u.name, u.sha)
					}
				}
				if err != nil {
					errs.Add(1)
					t.Errorf("upload during the backup: %v", err)
					return
				}
				during.Add(1)
			}
		})
	}
	var hot backup.Report
	runJSON(t, bin, env, 0, &hot, "backup", "--data", data, "--url", srv.base, dir)
	close(stop)
	wg.Wait()
	srv.stop(t)
	hotMB := float64(hot.Originals.Bytes+hot.Renditions.Bytes) / 1e6

	rsrv := startServer(t, bin, dir, logs)
	ra := &api{base: rsrv.base, token: a.token, hc: hc}
	checkWitnessed(t, ra, before)
	checkSearchable(t, ra, before)
	rsrv.stop(t)
	cat, err := catalog.OpenReadOnly(catalog.Config{Path: filepath.Join(dir, "catalog.db")})
	if err != nil {
		t.Fatal(err)
	}
	if err := cat.Check(); err != nil {
		t.Errorf("restored catalog: %v", err)
	}
	if _, err := cat.VerifyAudit(); err != nil {
		t.Errorf("restored audit chain: %v", err)
	}
	cat.Close()
	var fix backup.VerifyReport
	runJSON(t, bin, nil, 0, &fix, "verify", "--data", dir, "--rate", "0")
	hotOK := !t.Failed() && len(hot.Problems) == 0 && len(fix.Problems) == 0
	resultRow(t, fmt.Sprintf("backup: hot backup while 4 clients upload, restored and served (%d assets before it)", len(before)),
		fmt.Sprintf("%d assets, %.0f MB in %.1f s (%.0f MB/s) with %d uploads acknowledged meanwhile, %d errors; restored: every earlier original re-hashed through the API, searchable, bbolt check, audit chain, verify 0 problems",
			hot.Assets, hotMB, hot.Seconds, hotMB/hot.Seconds, during.Load(), errs.Load()), passFail(hotOK))

	// Figures: the server is stopped; the same folder each time.
	var ours, cps, syncs, vers, sums, ssls []float64
	var total float64
	for round := range 3 {
		out := filepath.Join(root, fmt.Sprintf("cold-%d", round))
		var rep backup.Report
		start := time.Now()
		runJSON(t, bin, nil, 0, &rep, "backup", "--data", data, out)
		ours = append(ours, time.Since(start).Seconds())
		total = float64(rep.Originals.Bytes+rep.Renditions.Bytes) / 1e6
		os.RemoveAll(out)

		if err := os.MkdirAll(out, 0o750); err != nil {
			t.Fatal(err)
		}
		start = time.Now()
		cp := exec.Command("cp", "-r", filepath.Join(data, "blobs"), filepath.Join(data, "derived"), filepath.Join(data, "catalog.db"), out)
		if b, err := cp.CombinedOutput(); err != nil {
			t.Fatalf("cp: %v: %s", err, b)
		}
		cps = append(cps, time.Since(start).Seconds())
		os.RemoveAll(out)
		if err := os.MkdirAll(out, 0o750); err != nil {
			t.Fatal(err)
		}
		start = time.Now()
		cp = exec.Command("sh", "-c", `cp -r "$1/blobs" "$1/derived" "$1/catalog.db" "$2" && sync`, "sh", data, out)
		if b, err := cp.CombinedOutput(); err != nil {
			t.Fatalf("cp: %v: %s", err, b)
		}
		syncs = append(syncs, time.Since(start).Seconds())
		os.RemoveAll(out)

		var v backup.VerifyReport
		start = time.Now()
		runJSON(t, bin, nil, 0, &v, "verify", "--data", data, "--rate", "0")
		vers = append(vers, time.Since(start).Seconds())
		start = time.Now()
		sh := exec.Command("sh", "-c", `find "$1" -type f -print0 | xargs -0 sha256sum > /dev/null`, "sh", filepath.Join(data, "blobs"))
		if b, err := sh.CombinedOutput(); err != nil {
			t.Fatalf("sha256sum: %v: %s", err, b)
		}
		sums = append(sums, time.Since(start).Seconds())
		start = time.Now()
		sh = exec.Command("sh", "-c", `find "$1" -type f -print0 | xargs -0 openssl dgst -sha256 > /dev/null`, "sh", filepath.Join(data, "blobs"))
		if b, err := sh.CombinedOutput(); err != nil {
			t.Fatalf("openssl: %v: %s", err, b)
		}
		ssls = append(ssls, time.Since(start).Seconds())
	}
	var blobMB float64
	filepath.Walk(filepath.Join(data, "blobs"), func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			blobMB += float64(info.Size()) / 1e6
		}
		return nil
	})
	ob, cb, sb := median(ours), median(cps), median(syncs)
	resultRow(t, "backup: full backup of a stopped server's folder (hashed, fsynced) vs `cp -r` and `cp -r && sync`, medians of 3 alternating",
		fmt.Sprintf("%.0f MB: %.0f MB/s vs %.0f MB/s (%.2f× the time) and %.0f MB/s (%.2f×)", total, total/ob, total/cb, ob/cb, total/sb, ob/sb), "pass")
	ov, sv, lv := median(vers), median(sums), median(ssls)
	resultRow(t, "verify --rate 0 vs `sha256sum` and `openssl dgst -sha256` of the originals, medians of 3 alternating",
		fmt.Sprintf("%.0f MB: %.0f MB/s vs %.0f MB/s (%.2f× the time) and %.0f MB/s (%.2f×)", blobMB, blobMB/ov, blobMB/sv, ov/sv, blobMB/lv, ov/lv), "pass")
}

func passFail(ok bool) string {
	if ok {
		return "pass"
	}
	return "FAIL"
}
