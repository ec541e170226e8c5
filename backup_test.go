package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/comsoc/acervo/storage"
	"github.com/comsoc/acervo/storage/backup"
)

// runCLI runs the real binary and returns its stdout, stderr and exit status.
func runCLI(t *testing.T, bin string, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("acervo %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errb.String(), code
}

// runJSON runs a command with --json that must exit with want, and
// decodes its report.
func runJSON(t *testing.T, bin string, env []string, want int, v any, args ...string) {
	t.Helper()
	out, errOut, code := runCLI(t, bin, env, append(args, "--json")...)
	if code != want {
		t.Fatalf("acervo %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, out, errOut)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("acervo %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// TestBackupDuringUploads backs up a running server twice while photos
// keep arriving (the second run copies only what is new), then starts a
// server on the backup: every upload acknowledged before the backup began
// is there with its exact bytes, processed and searchable, and the backup
// passes the crash test's checks (bbolt check, no orphan or dangling file,
// audit chain, no job lost). Once the server stops, a last backup reads
// the catalog directly and `acervo verify` finds every original in it.
func TestBackupDuringUploads(t *testing.T) {
	if testing.Short() {
		t.Skip("-short mode: builds and runs the binary")
	}
	requireTools(t, "exiftool", "djpeg")
	bin := buildAcervo(t)
	root := t.TempDir()
	data, dir := filepath.Join(root, "data"), filepath.Join(root, "respaldo")
	logs := &lockedBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server output:\n%s", logs.String())
		}
	})
	hc := &http.Client{Timeout: 60 * time.Second}
	srv := startServer(t, bin, data, logs)
	token := createToken(t, hc, srv.base)
	a := &api{base: srv.base, token: token, hc: hc}
	env := []string{"ACERVO_TOKEN=" + token}

	// Uploads acknowledged before a backup starts must be in it.
	before := witnesses{}
	first := makeUploads(1, 0, 12)
	for _, u := range first {
		o := postUpload(a, u, 0)
		if o.err != nil || o.status != http.StatusCreated {
			t.Fatalf("upload %s: %v %d %s", u.name, o.err, o.status, o.body)
		}
		before.add(t, o)
	}

	// Four clients keep uploading through both backups.
	var mu sync.Mutex
	all := witnesses{}
	for sha, w := range before {
		all[sha] = w
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for c := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				u := makeUploads(2, 1000*(c+1)+i, 1)[0]
				o := postUpload(a, u, 100*time.Millisecond)
				if o.err != nil || o.status != http.StatusCreated {
					t.Errorf("upload %s during the backup: %v %d %s", u.name, o.err, o.status, o.body)
					return
				}
				mu.Lock()
				all.add(t, o)
				mu.Unlock()
			}
		})
	}
	// Start once uploads are flowing.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		n := len(all)
		mu.Unlock()
		if n >= len(first)+2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no upload acknowledged in 30 s")
		}
	}
	backupArgs := []string{"backup", "--data", data, "--url", srv.base, dir}
	var hot1, hot2 backup.Report
	runJSON(t, bin, env, 0, &hot1, backupArgs...)
	mu.Lock()
	for sha, w := range all {
		before[sha] = w // acknowledged before the second backup started
	}
	mu.Unlock()
	runJSON(t, bin, env, 0, &hot2, backupArgs...)
	var live backup.VerifyReport
	runJSON(t, bin, env, 0, &live, "verify", "--data", data, "--url", srv.base, "--rate", "0")
	close(stop)
	wg.Wait()
	t.Logf("hot backups: %+v; %+v; %d uploads in all", hot1, hot2, len(all))
	if hot1.Snapshot != backup.FromServer || hot2.Snapshot != backup.FromServer || live.Snapshot != backup.FromServer {
		t.Errorf("snapshots taken from %q, %q, %q; want the server's", hot1.Snapshot, hot2.Snapshot, live.Snapshot)
	}
	if hot2.Originals.Skipped < hot1.Assets || hot2.Originals.Copied != hot2.Assets-hot2.Originals.Skipped {
		t.Errorf("second backup: %+v of %d assets; the first had %d: it should copy only the new ones", hot2.Originals, hot2.Assets, hot1.Assets)
	}
	if len(hot1.Problems)+len(hot2.Problems)+len(live.Problems) > 0 {
		t.Errorf("problems in a sound data folder: %v %v %v", hot1.Problems, hot2.Problems, live.Problems)
	}
	srv.stop(t)

	// A copy of the hot backup, restored: a server started on it.
	restored := filepath.Join(root, "restaurado")
	if out, err := exec.Command("cp", "-a", dir, restored).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	rsrv := startServer(t, bin, restored, logs)
	ra := &api{base: rsrv.base, token: token, hc: hc}
	checkWitnessed(t, ra, before)
	waitProcessed(t, ra, before, rsrv)
	checkRenditions(t, ra, before)
	checkSearchable(t, ra, before)
	rsrv.stop(t)
	checkDataFolder(t, restored, before)

	// Server stopped: the catalog is read directly, and only what came
	// after the hot backups is copied.
	var cold backup.Report
	runJSON(t, bin, nil, 0, &cold, "backup", "--data", data, dir)
	if cold.Snapshot != backup.FromFile || cold.Assets != len(all) || cold.Originals.Skipped != hot2.Assets {
		t.Errorf("cold backup: %+v; want the file read, %d assets, %d already there", cold, len(all), hot2.Assets)
	}
	var fix backup.VerifyReport
	runJSON(t, bin, nil, 0, &fix, "verify", "--data", dir, "--rate", "0")
	if fix.Assets != len(all) || len(fix.Problems) != 0 {
		t.Errorf("verify of the backup: %d assets, problems %v; want %d, none", fix.Assets, fix.Problems, len(all))
	}
	for sha := range all {
		key, _ := storage.BlobKey(sha)
		if _, err := os.Stat(filepath.Join(dir, key)); err != nil {
			t.Errorf("acknowledged original %s not in the last backup: %v", sha, err)
		}
	}
}

// TestVerifyFindsDamage runs `acervo verify` on a stopped server's data
// folder: clean, it exits 0; after one original gets a flipped bit,
// another is truncated and a third deleted, it reports exactly those three
// by asset id and path, each as what it is, and exits 3.
func TestVerifyFindsDamage(t *testing.T) {
	if testing.Short() {
		t.Skip("-short mode: builds and runs the binary")
	}
	requireTools(t, "exiftool", "djpeg")
	bin := buildAcervo(t)
	data := filepath.Join(t.TempDir(), "data")
	logs := &lockedBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server output:\n%s", logs.String())
		}
	})
	hc := &http.Client{Timeout: 60 * time.Second}
	srv := startServer(t, bin, data, logs)
	a := &api{base: srv.base, token: createToken(t, hc, srv.base), hc: hc}
	var ids []string
	shas := map[string]string{}
	for _, u := range makeUploads(1, 0, 6) {
		o := postUpload(a, u, 0)
		if o.err != nil || o.status != http.StatusCreated {
			t.Fatalf("upload %s: %v %d %s", u.name, o.err, o.status, o.body)
		}
		ids = append(ids, o.asset.ID)
		shas[o.asset.ID] = u.sha
	}
	srv.stop(t)

	var clean backup.VerifyReport
	runJSON(t, bin, nil, 0, &clean, "verify", "--data", data, "--rate", "0")
	if clean.Assets != len(ids) || len(clean.Problems) != 0 || clean.Snapshot != backup.FromFile {
		t.Fatalf("clean folder: %+v; want %d assets, no problem", clean, len(ids))
	}

	blob := func(id string) string {
		key, _ := storage.BlobKey(shas[id])
		return filepath.Join(data, filepath.FromSlash(key))
	}
	flipped, truncated, missing := ids[1], ids[3], ids[4]
	b, err := os.ReadFile(blob(flipped))
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x10
	// In place, as a failing disk would.
	if err := os.WriteFile(blob(flipped), b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(blob(truncated), 1000); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(blob(missing)); err != nil {
		t.Fatal(err)
	}

	var damaged backup.VerifyReport
	runJSON(t, bin, nil, 3, &damaged, "verify", "--data", data, "--rate", "0")
	want := map[string]string{flipped: backup.Mismatch, truncated: backup.Truncated, missing: backup.Missing}
	got := map[string]string{}
	for _, p := range damaged.Problems {
		got[p.Asset] = p.Problem
		if p.Path != blob(p.Asset) {
			t.Errorf("problem %s of %s: path %s, want %s", p.Problem, p.Asset, p.Path, blob(p.Asset))
		}
	}
	if len(damaged.Problems) != 3 || len(got) != 3 {
		t.Errorf("verify found %d problems %v; want 3 of 3: %v", len(damaged.Problems), damaged.Problems, want)
	}
	for id, kind := range want {
		if got[id] != kind {
			t.Errorf("asset %s: reported %q, want %q", id, got[id], kind)
		}
	}

	// The text report, at a rate limit: one line per problem and a summary.
	out, _, code := runCLI(t, bin, nil, "verify", "--data", data, "--rate", "5")
	if code != 3 {
		t.Errorf("verify: exit %d, want 3:\n%s", code, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.Contains(lines[3], "3 problemas / problems (1 mismatch, 1 truncated, 1 missing)") {
		t.Errorf("verify printed:\n%s\nwant 3 problem lines and the summary", out)
	}
	for id, kind := range want {
		if !strings.Contains(out, kind) || !strings.Contains(out, id) || !strings.Contains(out, blob(id)) {
			t.Errorf("verify output lacks %s %s at %s:\n%s", kind, id, blob(id), out)
		}
	}
}
