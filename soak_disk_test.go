//go:build soak

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/comsoc/acervo/catalog"
)

// smallFS mounts a filesystem of sizeMB at dir: ext4 on a loop device, or
// tmpfs where loop devices are not allowed. It says which it got.
func smallFS(t *testing.T, dir string, sizeMB int) string {
	t.Helper()
	img := filepath.Join(t.TempDir(), "fs.img")
	run := func(name string, args ...string) error {
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
		}
		return nil
	}
	err := run("truncate", "-s", fmt.Sprintf("%dM", sizeMB), img)
	if err == nil {
		err = run("mkfs.ext4", "-q", "-F", img)
	}
	if err == nil {
		err = run("mount", "-o", "loop", img, dir)
	}
	if err == nil {
		t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
		return fmt.Sprintf("ext4 on a %d MiB loop device", sizeMB)
	}
	t.Logf("no loop device (%v); trying tmpfs", err)
	if err := run("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%dm", sizeMB), "tmpfs", dir); err != nil {
		t.Fatalf("neither a loop device nor tmpfs can be mounted here (needs root): %v", err)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return fmt.Sprintf("tmpfs of %d MiB", sizeMB)
}

// TestSoakDiskFull: the data folder on a 320 MiB filesystem with a 64 MiB
// ballast file; uploads of 8 MiB, 4 at a time, until the disk refuses
// them. They must be refused with 507 (never 500), leave no staging, lose
// nothing acknowledged; after the ballast goes, uploads work again and
// every photo gets processed, without a restart.
func TestSoakDiskFull(t *testing.T) {
	requireTools(t, "exiftool", "djpeg")
	data := t.TempDir()
	kind := smallFS(t, data, 320)
	ballast := filepath.Join(data, "ballast")
	if err := os.WriteFile(ballast, make([]byte, 64<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := buildAcervo(t)
	logs := &lockedBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server output (tail):\n%s", tail(logs.String(), 4000))
		}
	})
	srv := startServerEnv(t, bin, data, logs, "ACERVO_WORKERS=2", "ACERVO_MIN_FREE_MB=16")
	hc := benchClient(16)
	a := &api{base: srv.base, token: createToken(t, hc, srv.base), hc: hc}

	w := witnesses{}
	var mu sync.Mutex
	statuses := map[int]int{}
	var serial int
	for refused := 0; refused < 8 && serial < 200; {
		var wg sync.WaitGroup
		for range 4 {
			g := &genUpload{seed: uint64(5000 + serial), size: 8 << 20}
			serial++
			wg.Go(func() {
				req, err := g.request(a)
				if err != nil {
					t.Error(err)
					return
				}
				resp, err := a.hc.Do(req)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					statuses[-1]++
					t.Logf("upload: %v", err)
					return
				}
				raw, rerr := io.ReadAll(resp.Body)
				resp.Body.Close()
				statuses[resp.StatusCode]++
				if resp.StatusCode == http.StatusCreated {
					var got assetJSON
					if rerr != nil || json.Unmarshal(raw, &got) != nil || got.SHA256 != g.sum() {
						t.Errorf("201 with a bad answer (%v): %s", rerr, raw)
						return
					}
					w[g.sum()] = witness{id: got.ID, filename: fmt.Sprintf("grande-%d.jpg", g.seed)}
				}
			})
		}
		wg.Wait()
		refused = statuses[http.StatusInsufficientStorage]
	}
	t.Logf("until full: statuses %v", statuses)
	for code, n := range statuses {
		if code != http.StatusCreated && code != http.StatusInsufficientStorage {
			t.Errorf("%d uploads answered %d: want only 201 or 507", n, code)
		}
	}

	// Space returns; no restart.
	os.Remove(ballast)
	after, err := uploadBytes(a, "despues.jpg", drawJPEG(77, 800, 600, 20, 85))
	if err != nil {
		t.Errorf("upload after space returned: %v", err)
	}
	// Every acknowledged upload is whole, and processing catches up.
	checkWitnessed(t, a, w)
	if after.ID != "" {
		w[after.SHA256] = witness{id: after.ID, filename: "despues.jpg"}
	}
	failed := 0
	for _, sha := range w.sorted() {
		got, err := waitReady(a, w[sha].id, 3*time.Minute)
		if err != nil {
			failed++
			t.Errorf("after space returned: %v (%s)", err, got.Status)
		}
	}
	// Renditions stage as put-* too: count once processing is over.
	leftFull := stagedUploads(t, filepath.Join(data, "staging"))
	if leftFull > 0 {
		t.Errorf("%d staged files left after the disk filled", leftFull)
	}
	srv.stop(t)
	cat, err := catalog.Open(catalog.Config{Path: filepath.Join(data, "catalog.db")})
	if err != nil {
		t.Fatal(err)
	}
	if err := cat.Check(); err != nil {
		t.Errorf("bbolt check: %v", err)
	}
	cat.Close()
	pf := func(ok bool) string { return map[bool]string{true: "pass", false: "FAIL"}[ok] }
	resultRow(t, "disk full: data folder on "+kind+", 8 MiB uploads until refused",
		fmt.Sprintf("answers %v; %d staged files left; %d acknowledged, all re-hashed OK unless FAIL", statuses, leftFull, len(w)-1),
		pf(statuses[http.StatusInsufficientStorage] > 0 && leftFull == 0 && len(statuses) <= 2))
	resultRow(t, "disk full: space returned (ballast removed), no restart",
		fmt.Sprintf("new upload %s; %d of %d assets ready after", map[bool]string{true: "201", false: "failed"}[after.ID != ""], len(w)-failed, len(w)),
		pf(after.ID != "" && failed == 0))
}
