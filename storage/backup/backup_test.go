package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/storage"
	"github.com/comsoc/acervo/storage/disk"
)

// folder is a data folder made the way the server makes one: originals
// committed to a disk store, then their records in a real catalog, and a
// rendition each recorded by its job.
type folder struct {
	t    *testing.T
	data string
	ids  []string
	shas map[string]string
}

func newFolder(t *testing.T, n, size int) *folder {
	f := &folder{t: t, data: filepath.Join(t.TempDir(), "data"), shas: map[string]string{}}
	f.add(n, size)
	os.MkdirAll(filepath.Join(f.data, "keys"), 0o700)
	if err := os.WriteFile(filepath.Join(f.data, "keys", "ed25519.pem"), []byte("clave"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// add commits n more assets of size bytes, each with a thumb.jpg.
func (f *folder) add(n, size int) {
	t := f.t
	store, err := disk.New(disk.Config{Root: f.data})
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Open(catalog.Config{Path: filepath.Join(f.data, "catalog.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	put := func(key string, b []byte) string {
		w, err := store.Create(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
		if err := w.Commit(key); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		return hex.EncodeToString(sum[:])
	}
	for range n {
		b := make([]byte, size)
		rng := rand.NewChaCha8([32]byte{byte(len(f.ids)), byte(len(f.ids) >> 8), 1})
		rng.Read(b)
		sum := sha256.Sum256(b)
		sha := hex.EncodeToString(sum[:])
		key, _ := storage.BlobKey(sha)
		put(key, b)
		a, _, err := cat.CreateAsset(catalog.NewAsset{Kind: catalog.KindPhoto, Filename: fmt.Sprintf("foto-%d.jpg", len(f.ids)),
			SHA256: sha, MIME: "image/jpeg", Size: int64(size), Jobs: []string{"photo"}})
		if err != nil {
			t.Fatal(err)
		}
		thumb := []byte("miniatura de " + a.ID)
		tkey, _ := storage.DerivedKey(a.ID, "thumb.jpg")
		tsum := put(tkey, thumb)
		j, err := cat.ClaimJob("photo")
		if err != nil {
			t.Fatal(err)
		}
		err = cat.CompleteJob(j.ID, func(a *catalog.Asset) error {
			a.Renditions = map[string]catalog.Rendition{"thumb.jpg": {Size: int64(len(thumb)), SHA256: tsum, MIME: "image/jpeg"}}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		f.ids = append(f.ids, a.ID)
		f.shas[a.ID] = sha
	}
}

func (f *folder) blob(root, id string) string {
	key, _ := storage.BlobKey(f.shas[id])
	return filepath.Join(root, filepath.FromSlash(key))
}

func run(t *testing.T, data, dir string) Report {
	t.Helper()
	rep, err := Run(context.Background(), Config{Source: Source{Data: data}, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func verify(t *testing.T, data string, rate float64) VerifyReport {
	t.Helper()
	rep, err := Verify(context.Background(), VerifyConfig{Source: Source{Data: data}, Rate: rate})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestRunCopiesThenOnlyWhatIsNew: a backup is a data folder that verifies
// clean; the next one into it copies only new originals and renditions
// remade since (with a warning: they differ from the record); an
// interrupted run's staging is cleared.
func TestRunCopiesThenOnlyWhatIsNew(t *testing.T) {
	f := newFolder(t, 5, 100<<10)
	dir := filepath.Join(t.TempDir(), "respaldo")
	rep := run(t, f.data, dir)
	if rep.Snapshot != FromFile || rep.Assets != 5 || rep.Originals.Copied != 5 || rep.Renditions.Copied != 5 || len(rep.Problems)+len(rep.Warnings) != 0 {
		t.Fatalf("first backup: %+v", rep)
	}
	if v := verify(t, dir, 0); v.Assets != 5 || len(v.Problems) != 0 {
		t.Fatalf("verify of the backup: %+v", v)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "keys", "ed25519.pem")); err != nil || string(b) != "clave" {
		t.Errorf("signing key in the backup: %q, %v", b, err)
	}

	f.add(2, 50<<10)
	remade, _ := storage.DerivedKey(f.ids[0], "thumb.jpg")
	time.Sleep(10 * time.Millisecond) // a later mtime than the backup's copy
	if err := os.WriteFile(filepath.Join(f.data, remade), []byte("miniatura rehecha, más larga"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "staging", "put-interrumpido"), []byte("x"), 0o600)

	rep = run(t, f.data, dir)
	if rep.Assets != 7 || rep.Originals.Copied != 2 || rep.Originals.Skipped != 5 || rep.Renditions.Copied != 3 || rep.Renditions.Skipped != 4 {
		t.Errorf("second backup: %+v; want 2 new originals copied, 5 kept; 3 renditions copied, 4 kept", rep)
	}
	if len(rep.Warnings) != 1 {
		t.Errorf("warnings %q; want one for the remade rendition %s", rep.Warnings, remade)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, remade)); string(b) != "miniatura rehecha, más larga" {
		t.Errorf("remade rendition in the backup: %q", b)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "staging")); len(entries) != 0 {
		t.Errorf("left in the backup's staging: %v", entries)
	}
	if v := verify(t, dir, 0); v.Assets != 7 || len(v.Problems) != 0 {
		t.Errorf("verify of the second backup: %+v", v)
	}
}

// TestRunReportsDamagedOriginals: an original whose bytes no longer match
// is reported and not copied; a good copy from an earlier backup stays.
func TestRunReportsDamagedOriginals(t *testing.T) {
	f := newFolder(t, 3, 64<<10)
	dir := filepath.Join(t.TempDir(), "respaldo")
	run(t, f.data, dir)
	fresh := filepath.Join(t.TempDir(), "otro")

	b, _ := os.ReadFile(f.blob(f.data, f.ids[1]))
	b[100] ^= 1
	os.WriteFile(f.blob(f.data, f.ids[1]), b, 0o600)
	os.Remove(f.blob(f.data, f.ids[2]))

	rep := run(t, f.data, fresh)
	if len(rep.Problems) != 2 || rep.Problems[0].Problem != Mismatch || rep.Problems[1].Problem != Missing || rep.Originals.Copied != 1 {
		t.Fatalf("backup of a damaged folder: %+v", rep)
	}
	if _, err := os.Stat(f.blob(fresh, f.ids[1])); !os.IsNotExist(err) {
		t.Errorf("the damaged original was copied: %v", err)
	}
	if v := verify(t, dir, 0); len(v.Problems) != 0 {
		t.Errorf("the earlier backup lost its good copies: %+v", v.Problems)
	}
	rep = run(t, f.data, dir)
	if len(rep.Problems) != 1 || rep.Problems[0].Problem != Missing {
		t.Errorf("again into the earlier backup: %+v; want the missing one only (the good copy is kept, not re-read)", rep.Problems)
	}
	if v := verify(t, dir, 0); len(v.Problems) != 0 {
		t.Errorf("the earlier backup after another run: %+v", v.Problems)
	}
}

// TestRunRefusesOverlapAndBusyDir: no backup into the data folder, a
// folder inside it or one holding it, nor into a backup another backup
// is writing or a server has open.
func TestRunRefusesOverlapAndBusyDir(t *testing.T) {
	f := newFolder(t, 1, 1000)
	for _, dir := range []string{f.data, filepath.Join(f.data, "respaldo"), filepath.Dir(f.data)} {
		if _, err := Run(context.Background(), Config{Source: Source{Data: f.data}, Dir: dir}); err == nil {
			t.Errorf("backup of %s into %s: no error", f.data, dir)
		}
	}
	dir := filepath.Join(t.TempDir(), "respaldo")
	run(t, f.data, dir)
	d, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(d.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), Config{Source: Source{Data: f.data}, Dir: dir}); err == nil || !strings.Contains(err.Error(), "another acervo backup") {
		t.Errorf("backup into a folder another backup holds: %v", err)
	}
	d.Close()
	served, err := catalog.Open(catalog.Config{Path: filepath.Join(dir, "catalog.db")}) // as acervo serve --data dir would
	if err != nil {
		t.Fatal(err)
	}
	defer served.Close()
	if _, err := Run(context.Background(), Config{Source: Source{Data: f.data}, Dir: dir}); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("backup into a folder a server has open: %v", err)
	}
}

// TestVerifyRate: at 2 MB/s, 1.5 MB take at least 0.75 s (less a chunk:
// the first read is not waited for).
func TestVerifyRate(t *testing.T) {
	f := newFolder(t, 3, 500_000)
	start := time.Now()
	v := verify(t, f.data, 2e6)
	if d := time.Since(start); d < 500*time.Millisecond || v.Bytes != 1_500_000 || len(v.Problems) != 0 {
		t.Errorf("verify at 2 MB/s: %+v in %v; want 1.5 MB in ≥ 0.5 s", v, d)
	}
}
