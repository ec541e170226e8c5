package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/catalog/catalogtest"
	"github.com/comsoc/acervo/server"
	"github.com/comsoc/acervo/storage"
	"github.com/comsoc/acervo/storage/disk"
	"github.com/comsoc/acervo/transcode"
)

// TestUploadsOnAFullDisk: an upload that cannot fit is refused with 507
// before its body is read; a disk that fills while one is written answers
// 507 too, with its staging freed; and once space returns, uploads work
// again without a restart. The store sits on a real 8 MiB tmpfs when this
// process may mount one (root), else behind an injected 8 MiB quota.
func TestUploadsOnAFullDisk(t *testing.T) {
	root := t.TempDir()
	var store storage.Store
	var quota *quotaStore
	if err := exec.Command("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", root).Run(); err == nil {
		t.Cleanup(func() { exec.Command("umount", "-l", root).Run() })
		t.Log("store on an 8 MiB tmpfs")
		d, err := disk.New(disk.Config{Root: root})
		if err != nil {
			t.Fatal(err)
		}
		store = d
	} else {
		t.Logf("no tmpfs (%v): store behind an injected 8 MiB quota", err)
		d, err := disk.New(disk.Config{Root: root})
		if err != nil {
			t.Fatal(err)
		}
		quota = &quotaStore{Store: d, limit: 8 << 20}
		store = quota
	}
	// A 1 MiB reserve: enough to test refusal, small enough for 8 MiB.
	e := bare(t, root, store, server.Config{MinFreeBytes: 1 << 20, UploadsDir: filepath.Join(root, "uploads")})
	c := e.login()
	staging := filepath.Join(root, "staging")

	// Fills the disk: 5 MiB stored, leaving about 3.
	first := padded(t, 1, 5<<20)
	var a assetJSON
	decode(t, c.upload("uno.jpg", first, nil), http.StatusCreated, &a)

	t.Run("refused early", func(t *testing.T) {
		expectError(t, c.upload("dos.jpg", padded(t, 2, 4<<20), nil), http.StatusInsufficientStorage, "insufficient_storage")
		assertNoFiles(t, staging)
	})

	t.Run("tus creation refused early", func(t *testing.T) {
		hdr := map[string]string{"Tus-Resumable": "1.0.0", "Upload-Length": "4194304", "Upload-Metadata": "filename ZG9zLmpwZw=="}
		expectError(t, c.do("POST", "/api/v1/uploads/", "", nil, hdr), http.StatusInsufficientStorage, "insufficient_storage")
		hdr["Upload-Length"] = "1024"
		resp := c.do("POST", "/api/v1/uploads/", "", nil, hdr)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Errorf("a small tus upload = %d, want 201", resp.StatusCode)
		}
	})

	t.Run("full while writing", func(t *testing.T) {
		// Someone else eats the space after the check: the write itself fails.
		hog := filepath.Join(root, "hog")
		if quota != nil {
			quota.used.Add(1536 << 10)
		} else if err := os.WriteFile(hog, make([]byte, 1536<<10), 0o600); err != nil {
			t.Fatal(err)
		}
		// About 1.5 MiB free, above the 1 MiB reserve, so the check passes;
		// sent chunked (no Content-Length), the 2 MiB meet a full disk.
		body, ct := multipartOf(t, "tres.jpg", padded(t, 3, 2<<20))
		resp := c.do("POST", "/api/v1/assets", ct, struct{ *os.File }{body}, nil)
		if resp.StatusCode == http.StatusCreated {
			t.Fatalf("upload fit on a full disk: %d", resp.StatusCode)
		}
		expectError(t, resp, http.StatusInsufficientStorage, "insufficient_storage")
		assertNoFiles(t, staging)
		// Space returns: uploads work again, no restart.
		os.Remove(hog)
		if quota != nil {
			quota.used.Add(-1536 << 10)
		}
	})

	var b assetJSON
	decode(t, c.upload("cuatro.jpg", padded(t, 4, 512<<10), nil), http.StatusCreated, &b)
	// Nothing acknowledged was lost on the way.
	for _, id := range []string{a.ID, b.ID} {
		resp := c.do("GET", "/api/v1/assets/"+id+"/original", "", nil, nil)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("asset %s original: status %d", id, resp.StatusCode)
		}
	}
}

// bare serves store with cfg (its Catalog, Store and Ingester filled in)
// and no job pool: enough for tests of the upload path alone.
func bare(t *testing.T, root string, store storage.Store, cfg server.Config) *env {
	t.Helper()
	cat := catalogtest.Open(t, nil)
	if _, err := cat.CreateUser(catalog.NewUser{Username: "admin", Password: adminPassword, Role: catalog.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	cfg.Catalog, cfg.Store = cat, store
	cfg.Ingester = &catalog.Ingester{Catalog: cat, Store: store, Sniff: transcode.Sniff, JobsFor: transcode.JobsFor}
	s, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, data: root, cat: cat}
}

// padded is a small real JPEG followed by random bytes up to size: a
// big upload that sniffs as a photo (decoders stop at the end marker).
func padded(t *testing.T, seed byte, size int) []byte {
	b := photo(t, 64, 48, seed)
	pad := make([]byte, size-len(b))
	rand.Read(pad)
	return append(b, pad...)
}

// multipartOf writes an upload form to a file, so it is sent without a
// Content-Length when wrapped to hide its size.
func multipartOf(t *testing.T, name string, data []byte) (*os.File, string) {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "form")
	if err != nil {
		t.Fatal(err)
	}
	body, ct := formBytes(name, data)
	f.Write(body)
	f.Seek(0, 0)
	t.Cleanup(func() { f.Close() })
	return f, ct
}

func formBytes(name string, data []byte) ([]byte, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data)
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

// quotaStore stands in for a small disk where mounting one is not allowed:
// writes past limit fail with ENOSPC, as the kernel's would.
type quotaStore struct {
	storage.Store
	limit int64
	used  atomic.Int64
}

func (q *quotaStore) FreeBytes() (int64, error) { return q.limit - q.used.Load(), nil }

func (q *quotaStore) Create(ctx context.Context) (storage.Writer, error) {
	w, err := q.Store.Create(ctx)
	if err != nil {
		return nil, err
	}
	return &quotaWriter{Writer: w, q: q}, nil
}

type quotaWriter struct {
	storage.Writer
	q *quotaStore
	n int64
}

func (w *quotaWriter) Write(p []byte) (int, error) {
	if w.q.used.Add(int64(len(p))) > w.q.limit {
		w.q.used.Add(-int64(len(p)))
		return 0, &os.PathError{Op: "write", Path: "staging", Err: syscall.ENOSPC}
	}
	w.n += int64(len(p))
	return w.Writer.Write(p)
}

func (w *quotaWriter) Abort() error {
	w.q.used.Add(-w.n)
	w.n = 0
	return w.Writer.Abort()
}
