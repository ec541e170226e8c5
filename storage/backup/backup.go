// Package backup copies an Acervo data folder while the server runs, and
// checks the fixity of the originals in one.
//
// A backup (Run) is a snapshot of the catalog plus the files it names.
// The snapshot is one bbolt read transaction written out whole
// (Tx.WriteTo): read directly from catalog.db when no server holds it,
// otherwise asked of the running server (GET /api/v1/backup/catalog,
// admins only, audited), since the server keeps the file locked. Then
// every original the snapshot names (blobs/sha256/…) and every rendition
// it records (derived/<id>/<name>) is copied from the data folder on this
// machine, with the provenance signing key (keys/ed25519.pem). Files are
// committed before the records that name them (DESIGN.md invariant 1), so
// everything the snapshot names exists even while uploads go on; files
// newer than the snapshot are simply not in this backup.
//
// The destination is itself a data folder: `acervo serve --data DIR`
// starts from it (the search index and the similarity index rebuild
// themselves; jobs running at the snapshot run again). Every file is
// written to DIR/staging, fsynced and renamed into place, and the catalog
// last, so an interrupted backup leaves the previous one usable. Each
// original's SHA-256 is checked while it is copied; a damaged one is not
// copied and is reported. Backing up again into the same DIR copies only
// what is new: originals are immutable and named by their hash, so one
// already there with its size is kept (`acervo verify --data DIR`
// re-hashes them); renditions are copied again when the source is newer or
// of another size. Not copied: the search index, staging, tus uploads in
// progress and import journals, none of which an acknowledged upload
// needs.
//
// Verify re-hashes the originals of a data folder (a live one or a backup)
// against the catalog, at a rate limit, and reports each missing,
// truncated or altered one.
package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/storage"
	"github.com/comsoc/acervo/storage/disk"
)

// Config configures Run.
type Config struct {
	// Source is the data folder to back up and how to reach its server.
	// Required.
	Source Source
	// Dir is the backup: a data folder, created if missing. It must not
	// be the source or inside it, nor hold it. Required.
	Dir string
	// Workers copy files at once. Default 4: most files are small, and
	// each waits for its fsync.
	Workers int
	// Progress, if not nil, is called after each file with the bytes
	// done so far (copied or found already there) and the total.
	// Calls are serialized.
	Progress func(done, total int64)
}

// Counts of one kind of file.
type Counts struct {
	Copied  int   `json:"copied"`
	Skipped int   `json:"skipped"` // already in the backup
	Bytes   int64 `json:"bytes"`   // copied
}

// Report is what Run did.
type Report struct {
	// Snapshot says how the catalog was read: FromFile or FromServer.
	Snapshot     string `json:"snapshot"`
	CatalogBytes int64  `json:"catalog_bytes"`
	Assets       int    `json:"assets"`
	Originals    Counts `json:"originals"`
	Renditions   Counts `json:"renditions"`
	// Problems are originals missing or damaged in the source: not
	// copied. A good copy from an earlier backup is kept, and is not
	// re-read, so only a source original gone or of another size is
	// reported then (acervo verify finds altered bytes).
	Problems []Problem `json:"problems"`
	// Warnings are renditions that are missing or differ from their
	// record (remade since the snapshot, or damaged); they can be made
	// again from the originals.
	Warnings []string      `json:"warnings"`
	Elapsed  time.Duration `json:"-"`
	Seconds  float64       `json:"seconds"`
}

func (c *Config) withDefaults() error {
	if err := c.Source.withDefaults(); err != nil {
		return err
	}
	if c.Dir == "" {
		return errors.New("backup: Config.Dir is required")
	}
	if c.Workers <= 0 {
		c.Workers = 4
	}
	return nil
}

// Run makes or updates the backup in cfg.Dir. Damaged originals in the
// source are listed in the report and leave err nil; err means the backup
// was not finished (the catalog in Dir is then the previous one, if any).
func Run(ctx context.Context, cfg Config) (rep Report, err error) {
	start := time.Now()
	if err := cfg.withDefaults(); err != nil {
		return rep, err
	}
	unlock, err := prepareDir(cfg.Source.Data, cfg.Dir)
	if err != nil {
		return rep, err
	}
	defer unlock()
	dst, err := disk.New(disk.Config{Root: cfg.Dir})
	if err != nil {
		return rep, err
	}
	if _, err := dst.CleanStaging(); err != nil { // what an interrupted backup left
		return rep, err
	}
	src, err := disk.New(disk.Config{Root: cfg.Source.Data})
	if err != nil {
		return rep, err
	}

	snapFile, err := os.CreateTemp(dst.StagingDir(), "catalog-*")
	if err != nil {
		return rep, fmt.Errorf("backup: %w", err)
	}
	snapPath := snapFile.Name()
	defer func() {
		snapFile.Close()
		if err != nil {
			os.Remove(snapPath)
		}
	}()
	rep.Snapshot, rep.CatalogBytes, err = cfg.Source.SnapshotTo(ctx, snapFile)
	if err != nil {
		return rep, err
	}
	if err := snapFile.Close(); err != nil {
		return rep, fmt.Errorf("backup: %w", err)
	}
	snap, err := catalog.OpenReadOnly(catalog.Config{Path: snapPath})
	if err != nil {
		return rep, err
	}
	assets, total, err := listAssets(snap)
	snap.Close()
	if err != nil {
		return rep, err
	}
	rep.Assets = len(assets)
	for _, a := range assets {
		for _, r := range a.Renditions {
			total += r.Size
		}
	}

	if err := copyFiles(ctx, cfg, src, dst, assets, total, &rep); err != nil {
		return rep, err
	}
	if err := copyKey(cfg.Source.Data, cfg.Dir, &rep); err != nil {
		return rep, err
	}
	// Last: the catalog, once everything it names is in place.
	if err := os.Rename(snapPath, filepath.Join(cfg.Dir, "catalog.db")); err != nil {
		return rep, fmt.Errorf("backup: install catalog: %w", err)
	}
	if err := syncDir(cfg.Dir); err != nil {
		return rep, err
	}
	rep.Elapsed = time.Since(start)
	rep.Seconds = rep.Elapsed.Seconds()
	slices.SortFunc(rep.Problems, func(a, b Problem) int { return strings.Compare(a.Asset, b.Asset) })
	slices.Sort(rep.Warnings)
	if rep.Problems == nil {
		rep.Problems = []Problem{}
	}
	if rep.Warnings == nil {
		rep.Warnings = []string{}
	}
	return rep, nil
}

// copyFiles copies every original and rendition the snapshot names that
// the backup lacks, with cfg.Workers at once.
func copyFiles(ctx context.Context, cfg Config, src, dst *disk.Store, assets []catalog.Asset, total int64, rep *Report) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var mu sync.Mutex
	var done int64
	report := func(f func()) {
		mu.Lock()
		defer mu.Unlock()
		f()
		if cfg.Progress != nil {
			cfg.Progress(done, total)
		}
	}
	next := make(chan catalog.Asset)
	var wg sync.WaitGroup
	for range cfg.Workers {
		wg.Go(func() {
			buf := make([]byte, copyBuffer)
			for a := range next {
				if err := copyAsset(ctx, src, dst, a, buf, rep, report, &done); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for _, a := range assets {
		select {
		case next <- a:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return context.Cause(ctx)
}

// copyAsset copies one asset's original and renditions; report updates
// the shared report under its lock.
func copyAsset(ctx context.Context, src, dst *disk.Store, a catalog.Asset, buf []byte, rep *Report, report func(func()), done *int64) error {
	key, err := storage.BlobKey(a.SHA256)
	if err != nil {
		return err
	}
	if info, err := dst.Stat(ctx, key); err == nil && info.Size == a.Size {
		// Kept without reading the source; a stat still finds a source
		// original gone or cut (the backup's copy is the good one then).
		prob := statOriginal(ctx, src, key, a)
		report(func() {
			rep.Originals.Skipped++
			*done += a.Size
			if prob != nil {
				rep.Problems = append(rep.Problems, *prob)
			}
		})
	} else {
		w, err := dst.Create(ctx)
		if err != nil {
			return err
		}
		n, prob, err := checkOriginal(ctx, src, a, w, nil, buf)
		if err != nil || prob != nil {
			w.Abort()
			if err != nil {
				return err
			}
			report(func() { rep.Problems = append(rep.Problems, *prob); *done += a.Size })
		} else {
			if err := w.Commit(key); err != nil {
				return err
			}
			report(func() { rep.Originals.Copied++; rep.Originals.Bytes += n; *done += a.Size })
		}
	}
	names := make([]string, 0, len(a.Renditions))
	for name := range a.Renditions {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		r := a.Renditions[name]
		copied, warning, err := copyRendition(ctx, src, dst, a.ID, name, r, buf)
		if err != nil {
			return err
		}
		report(func() {
			*done += r.Size
			switch {
			case copied >= 0:
				rep.Renditions.Copied++
				rep.Renditions.Bytes += copied
			default:
				rep.Renditions.Skipped++
			}
			if warning != "" {
				rep.Warnings = append(rep.Warnings, warning)
			}
		})
	}
	return nil
}

// statOriginal reports an original missing or of the wrong size in src.
func statOriginal(ctx context.Context, src storage.Store, key string, a catalog.Asset) *Problem {
	prob := &Problem{Asset: a.ID, Filename: a.Filename, Path: localPath(src, key), WantSize: a.Size, WantSHA: a.SHA256}
	info, err := src.Stat(ctx, key)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		prob.Problem = Missing
	case err != nil:
		prob.Problem, prob.Detail = Unreadable, err.Error()
	case info.Size < a.Size:
		prob.Problem, prob.GotSize = Truncated, info.Size
	case info.Size > a.Size:
		prob.Problem, prob.GotSize = Grown, info.Size
	default:
		return nil
	}
	return prob
}

// copyRendition copies one rendition unless the backup's copy is as large
// and not older than the source (renditions are remade in place by a
// retried job). It returns the bytes copied, or -1 when skipped, and a
// warning when the source is missing or differs from its record.
func copyRendition(ctx context.Context, src, dst *disk.Store, id, name string, r catalog.Rendition, buf []byte) (int64, string, error) {
	key, err := storage.DerivedKey(id, name)
	if err != nil {
		return -1, "", err
	}
	obj, err := src.Open(ctx, key)
	if err != nil {
		return -1, fmt.Sprintf("rendition %s: %v", key, err), nil
	}
	defer obj.Close()
	si := obj.Info()
	if di, err := dst.Stat(ctx, key); err == nil && di.Size == si.Size && !di.ModTime.Before(si.ModTime) {
		return -1, "", nil
	}
	w, err := dst.Create(ctx)
	if err != nil {
		return -1, "", err
	}
	h := sha256.New()
	n, rerr, werr := pacedCopy(ctx, h, w, obj, nil, buf)
	if werr != nil || ctx.Err() != nil {
		w.Abort()
		return -1, "", errors.Join(werr, ctx.Err())
	}
	if rerr != nil {
		w.Abort()
		return -1, fmt.Sprintf("rendition %s: %v", key, rerr), nil
	}
	if err := w.Commit(key); err != nil {
		return -1, "", err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != r.SHA256 {
		return n, fmt.Sprintf("rendition %s differs from its record (remade since the snapshot, or damaged): sha256 %s, want %s", key, got, r.SHA256), nil
	}
	return n, "", nil
}
