package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"
	"time"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/storage"
)

// Problem kinds: what is wrong with an original.
const (
	Missing    = "missing"    // no file where the catalog says its original is
	Truncated  = "truncated"  // shorter than the catalog's size
	Grown      = "grown"      // longer than the catalog's size
	Mismatch   = "mismatch"   // the right size, other bytes (a flipped bit)
	Unreadable = "unreadable" // the file is there but reading it fails (an I/O error)
)

// Problem is one original that does not match the catalog.
type Problem struct {
	Asset    string `json:"asset"`
	Filename string `json:"filename"`
	// Path is the file that should hold the original.
	Path     string `json:"path"`
	Problem  string `json:"problem"`
	WantSize int64  `json:"want_size"`
	GotSize  int64  `json:"got_size"`
	WantSHA  string `json:"want_sha256"`
	GotSHA   string `json:"got_sha256,omitempty"`
	Detail   string `json:"detail,omitempty"`
}

func (p Problem) String() string {
	s := fmt.Sprintf("%-10s %s  %s  (%s)", p.Problem, p.Asset, p.Path, p.Filename)
	switch p.Problem {
	case Truncated, Grown:
		s += fmt.Sprintf(": %d bytes, want %d", p.GotSize, p.WantSize)
	case Mismatch:
		s += fmt.Sprintf(": sha256 %s, want %s", p.GotSHA, p.WantSHA)
	case Unreadable:
		s += ": " + p.Detail
	}
	return s
}

// checkOriginal reads the original of a from src, at most at the pacer's
// rate, and copies it to w on the way when w is not nil. It returns the
// bytes read and a Problem when the bytes are not the catalog's; err is
// only for failures that are not the file's (the context, the writer).
func checkOriginal(ctx context.Context, src storage.Store, a catalog.Asset, w io.Writer, p *pacer, buf []byte) (int64, *Problem, error) {
	key, err := storage.BlobKey(a.SHA256)
	if err != nil {
		return 0, nil, fmt.Errorf("asset %s: %w", a.ID, err)
	}
	prob := &Problem{Asset: a.ID, Filename: a.Filename, Path: localPath(src, key), WantSize: a.Size, WantSHA: a.SHA256}
	obj, err := src.Open(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		prob.Problem = Missing
		return 0, prob, nil
	}
	if err != nil {
		prob.Problem, prob.Detail = Unreadable, err.Error()
		return 0, prob, nil
	}
	defer obj.Close()
	prob.GotSize = obj.Info().Size
	switch {
	case prob.GotSize < a.Size:
		prob.Problem = Truncated
		return 0, prob, nil
	case prob.GotSize > a.Size:
		prob.Problem = Grown
		return 0, prob, nil
	}
	h := sha256.New()
	n, rerr, werr := pacedCopy(ctx, h, w, obj, p, buf)
	if werr != nil {
		return n, nil, werr
	}
	if rerr != nil {
		if ctx.Err() != nil {
			return n, nil, ctx.Err()
		}
		prob.Problem, prob.Detail = Unreadable, rerr.Error()
		return n, prob, nil
	}
	if n != a.Size { // it changed size while read
		prob.GotSize = n
		prob.Problem = Truncated
		if n > a.Size {
			prob.Problem = Grown
		}
		return n, prob, nil
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != a.SHA256 {
		prob.Problem, prob.GotSHA = Mismatch, got
		return n, prob, nil
	}
	return n, nil, nil
}

// pacedCopy reads r to its end into the hash and, if not nil, w, waiting
// on p before each chunk. Read errors and write errors come apart: one is
// the file's fault, the other the destination's.
func pacedCopy(ctx context.Context, h hash.Hash, w io.Writer, r io.Reader, p *pacer, buf []byte) (n int64, rerr, werr error) {
	for {
		if err := ctx.Err(); err != nil {
			return n, err, nil
		}
		m, err := io.ReadFull(r, buf)
		if m > 0 {
			if werr := p.wait(ctx, m); werr != nil {
				return n, werr, nil
			}
			h.Write(buf[:m])
			if w != nil {
				if _, werr := w.Write(buf[:m]); werr != nil {
					return n, nil, werr
				}
			}
			n += int64(m)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return n, nil, nil
		}
		if err != nil {
			return n, err, nil
		}
	}
}

// localPath is the file behind key, for reports, or the key itself for
// stores that are not local files.
func localPath(s storage.Store, key string) string {
	if lp, ok := s.(storage.LocalPather); ok {
		if p, err := lp.LocalPath(key); err == nil {
			return p
		}
	}
	return key
}

// pacer keeps reads at or under a rate shared by every worker; a nil
// pacer or a rate of 0 does not wait.
type pacer struct {
	rate  float64 // bytes per second
	mu    sync.Mutex
	start time.Time
	total int64
}

func newPacer(bytesPerSecond float64) *pacer {
	if bytesPerSecond <= 0 {
		return nil
	}
	return &pacer{rate: bytesPerSecond, start: time.Now()}
}

// wait counts n bytes and sleeps until the total is within the rate.
func (p *pacer) wait(ctx context.Context, n int) error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	p.total += int64(n)
	due := p.start.Add(time.Duration(float64(p.total) / p.rate * float64(time.Second)))
	p.mu.Unlock()
	d := time.Until(due)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
