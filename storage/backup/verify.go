package backup

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/storage/disk"
)

// VerifyConfig configures Verify.
type VerifyConfig struct {
	// Source gives the catalog; Source.Data is the data folder whose
	// originals are checked (a live one, or a backup). Required.
	Source Source
	// Rate caps the bytes read per second, so a fixity check can run
	// beside the server without starving it. 0: unlimited.
	Rate float64
	// Workers read and hash originals at once. Default 1 (a spinning
	// disk reads one file fastest).
	Workers int
	// TempDir holds the catalog snapshot while it is read. Default the
	// system's temporary folder.
	TempDir string
	// Progress, if not nil, is called after each original with the bytes
	// read so far and the total to read. Calls are serialized.
	Progress func(done, total int64)
}

// VerifyReport is what Verify found.
type VerifyReport struct {
	// Snapshot says how the catalog was read: FromFile or FromServer.
	Snapshot string `json:"snapshot"`
	// Assets is how many originals the catalog names; Bytes how many
	// bytes were read and hashed.
	Assets   int           `json:"assets"`
	Bytes    int64         `json:"bytes"`
	Elapsed  time.Duration `json:"-"`
	Seconds  float64       `json:"seconds"`
	Problems []Problem     `json:"problems"`
}

// Counts tells the problems apart: missing, truncated (or grown) and
// mismatched (or unreadable) originals.
func (r VerifyReport) Counts() map[string]int {
	out := map[string]int{}
	for _, p := range r.Problems {
		out[p.Problem]++
	}
	return out
}

// Verify re-hashes every original the catalog names (trashed ones too) and
// compares it with the SHA-256 and size in its record, in asset id order.
// The catalog is a snapshot taken when Verify starts: originals uploaded
// later are checked by the next run. Damage is reported in the report,
// never as an error; err is for a run that could not be made (no catalog,
// no server, the context ended).
func Verify(ctx context.Context, cfg VerifyConfig) (VerifyReport, error) {
	start := time.Now()
	var rep VerifyReport
	if cfg.Workers <= 0 {
		cfg.Workers = 1
	}
	cat, how, done, err := cfg.Source.openSnapshot(ctx, cfg.TempDir)
	if err != nil {
		return rep, err
	}
	defer done()
	rep.Snapshot = how
	assets, total, err := listAssets(cat)
	if err != nil {
		return rep, err
	}
	rep.Assets = len(assets)
	store, err := disk.New(disk.Config{Root: cfg.Source.Data})
	if err != nil {
		return rep, err
	}

	p := newPacer(cfg.Rate)
	var mu sync.Mutex
	var firstErr error
	next := make(chan catalog.Asset)
	var wg sync.WaitGroup
	for range cfg.Workers {
		wg.Go(func() {
			buf := make([]byte, copyBuffer)
			for a := range next {
				n, prob, err := checkOriginal(ctx, store, a, nil, p, buf)
				mu.Lock()
				rep.Bytes += n
				if prob != nil {
					rep.Problems = append(rep.Problems, *prob)
				}
				if err != nil && firstErr == nil {
					firstErr = err
				}
				if cfg.Progress != nil {
					cfg.Progress(rep.Bytes, total)
				}
				mu.Unlock()
			}
		})
	}
	for _, a := range assets {
		if ctx.Err() != nil {
			break
		}
		next <- a
	}
	close(next)
	wg.Wait()
	rep.Elapsed = time.Since(start)
	rep.Seconds = rep.Elapsed.Seconds()
	slices.SortFunc(rep.Problems, func(a, b Problem) int { return strings.Compare(a.Asset, b.Asset) })
	if rep.Problems == nil {
		rep.Problems = []Problem{}
	}
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return rep, firstErr
}

// copyBuffer is the size of each read: large enough that hashing, not
// system calls, sets the pace.
const copyBuffer = 1 << 20

// listAssets returns the catalog's assets in id order (upload order) and
// the sum of their sizes.
func listAssets(cat *catalog.Catalog) ([]catalog.Asset, int64, error) {
	var out []catalog.Asset
	var total int64
	err := cat.EachAsset(func(a catalog.Asset) error {
		a.Text = "" // a document's words: not needed, and they can be large
		out = append(out, a)
		total += a.Size
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}
