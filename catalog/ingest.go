package catalog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/comsoc/acervo/storage"
)

// ErrUnsupportedMedia means the bytes are not a kind of media Acervo keeps.
var ErrUnsupportedMedia = errors.New("catalog: unsupported media type")

// SniffFunc tells the kind and MIME type of media from its first bytes
// (at most 512), or ok false when Acervo does not accept it.
type SniffFunc func(head []byte) (kind, mime string, ok bool)

// Ingester stores originals and records them: the one path by which bytes
// enter the archive, shared by HTTP uploads and `acervo import`.
type Ingester struct {
	Catalog *Catalog
	Store   storage.Store
	Sniff   SniffFunc
	// JobsFor lists the first jobs of a new asset, whose Kind is set.
	JobsFor func(NewAsset) []string
	// Bulk, if set, hashes and writes each chunk on its low-priority
	// threads while the next is read (see BulkGate, copyPipelined); it is
	// never held while src is read.
	Bulk *BulkGate
}

// Ingest stores src and commits its asset: Stage then Commit.
func (in *Ingester) Ingest(ctx context.Context, src io.Reader, n NewAsset) (a Asset, duplicate bool, err error) {
	st, err := in.Stage(ctx, src)
	if err != nil {
		return Asset{}, false, err
	}
	defer st.Abort()
	return in.Commit(st, n)
}

// Staged is an original streamed to staging and hashed, not yet part of
// the archive. Exactly one of Commit or Abort must follow.
type Staged struct {
	w      storage.Writer
	Kind   string
	MIME   string
	SHA256 string
	Size   int64
}

// Abort discards the staged bytes; a no-op after Commit.
func (st *Staged) Abort() {
	if st.w != nil {
		st.w.Abort()
		st.w = nil
	}
}

// Stage streams src into staging while hashing it. Bytes that sniff as
// unsupported return ErrUnsupportedMedia having stored nothing; a read
// error leaves nothing behind either.
func (in *Ingester) Stage(ctx context.Context, src io.Reader) (*Staged, error) {
	head := make([]byte, 512)
	k, err := io.ReadFull(src, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("catalog: ingest: read: %w", err)
	}
	head = head[:k]
	kind, mime, ok := in.Sniff(head)
	if !ok {
		return nil, ErrUnsupportedMedia
	}
	w, err := in.Store.Create(ctx)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	dst := io.MultiWriter(w, h)
	if _, err := dst.Write(head); err != nil {
		w.Abort()
		return nil, fmt.Errorf("catalog: ingest: stage: %w", err)
	}
	size, err := copyPipelined(in.Bulk, dst, src)
	if err != nil {
		w.Abort()
		return nil, fmt.Errorf("catalog: ingest: %w", err)
	}
	return &Staged{w: w, Kind: kind, MIME: mime, Size: size + int64(k), SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// StageFile stages the local file at path, which must not change
// meanwhile. A store that can link it (storage.Linker: same file system)
// takes the file as it is, and it is only read to hash it; otherwise its
// bytes are copied as Stage copies a body. path is left as it was either
// way: the caller removes it once Commit or Abort is done.
func (in *Ingester) StageFile(ctx context.Context, path string) (*Staged, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("catalog: ingest: %w", err)
	}
	defer f.Close()
	l, ok := in.Store.(storage.Linker)
	if !ok {
		return in.Stage(ctx, f)
	}
	head := make([]byte, 512)
	k, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("catalog: ingest: read: %w", err)
	}
	kind, mime, ok := in.Sniff(head[:k])
	if !ok {
		return nil, ErrUnsupportedMedia
	}
	w, err := l.Link(ctx, path)
	if errors.Is(err, storage.ErrNotLinkable) {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, fmt.Errorf("catalog: ingest: %w", err)
		}
		return in.Stage(ctx, f)
	}
	if err != nil {
		return nil, err
	}
	// The store fsyncs the file while it is hashed here.
	h := sha256.New()
	h.Write(head[:k])
	size, err := copyPipelined(in.Bulk, h, f)
	if err != nil {
		w.Abort()
		return nil, fmt.Errorf("catalog: ingest: hash %s: %w", path, err)
	}
	return &Staged{w: w, Kind: kind, MIME: mime, Size: size + int64(k), SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// Commit makes a staged original part of the archive (DESIGN.md invariant
// 1): when it returns without error the original is fsynced under its
// SHA-256 and the asset and its first jobs are committed in one
// transaction. Same bytes as an existing asset return that asset with
// duplicate true and store nothing. n's Kind, SHA256, MIME, Size and Jobs
// are taken from the staged bytes.
func (in *Ingester) Commit(st *Staged, n NewAsset) (a Asset, duplicate bool, err error) {
	if st.w == nil {
		return Asset{}, false, errors.New("catalog: ingest: staged original already finished")
	}
	n.Kind, n.MIME, n.Size, n.SHA256 = st.Kind, st.MIME, st.Size, st.SHA256
	if in.JobsFor != nil {
		n.Jobs = in.JobsFor(n)
	}
	if existing, err := in.Catalog.AssetBySHA256(n.SHA256); err == nil {
		st.Abort()
		return existing, true, nil
	} else if !errors.Is(err, ErrNotFound) {
		return Asset{}, false, err
	}
	key, err := storage.BlobKey(n.SHA256)
	if err != nil {
		return Asset{}, false, err
	}
	if err := in.Catalog.AddBlobIntent(n.SHA256); err != nil {
		return Asset{}, false, err
	}
	w := st.w
	st.w = nil
	if err := w.Commit(key); err != nil {
		in.forgetBlob(n.SHA256, key)
		return Asset{}, false, err
	}
	a, duplicate, err = in.Catalog.CreateAsset(n)
	if err != nil {
		in.forgetBlob(n.SHA256, key)
		return Asset{}, false, err
	}
	return a, duplicate, nil
}

// forgetBlob undoes a blob commit whose asset record failed, unless another
// asset holds the same bytes. If this fails too, the intent stays and the
// recovery at the next start removes the blob.
func (in *Ingester) forgetBlob(sha, key string) {
	if ref, err := in.Catalog.Referenced(sha); err != nil || ref {
		return
	}
	if err := in.Store.Delete(context.Background(), key); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return
	}
	in.Catalog.ClearBlobIntents(sha)
}

// Recover runs once at start, before serving: it removes staging a crash
// left behind and blobs committed without their asset, and queues again the
// jobs that were running. It returns a summary for the log.
func (in *Ingester) Recover(ctx context.Context) (string, error) {
	staged := 0
	if cl, ok := in.Store.(storage.Cleaner); ok {
		n, err := cl.CleanStaging()
		if err != nil {
			return "", err
		}
		staged = n
	}
	orphans, err := in.Catalog.OrphanBlobIntents()
	if err != nil {
		return "", err
	}
	for _, sha := range orphans {
		key, err := storage.BlobKey(sha)
		if err != nil {
			return "", err
		}
		if err := in.Store.Delete(ctx, key); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return "", err
		}
	}
	// Intents whose asset exists were cleared in its transaction; any left
	// now have no blob either.
	if err := in.Catalog.ClearAllBlobIntents(); err != nil {
		return "", err
	}
	requeued, failed, err := in.Catalog.RecoverJobs()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("removed %d staging entries and %d orphan blobs; requeued %d interrupted jobs, failed %d", staged, len(orphans), requeued, failed), nil
}

// copyPipelined copies src to dst in 512 KiB chunks, each written by the
// gate's threads while the next is read: a multipart body is parsed on
// the request's goroutine while the chunk before is hashed and written on
// a bulk thread, so one upload uses two processors, and handing a chunk
// to a bulk thread (a switch of threads each way) costs no waiting. The
// two buffers stay 1 MiB per upload, as one chunk of 1 MiB did.
//
// Each chunk is filled before it is written: a multipart part yields about
// 4 KB per Read, and writing and hashing each of those cost a syscall per
// 4 KB, which dominated uploads. Unlike io.ReadFull, it tells a clean EOF
// from a source's own io.ErrUnexpectedEOF (a body cut short).
func copyPipelined(g *BulkGate, dst io.Writer, src io.Reader) (int64, error) {
	bufs := [2][]byte{make([]byte, 512<<10), make([]byte, 512<<10)}
	var total int64
	var inFlight <-chan any // the write of the other buffer
	var wn int
	var werr error
	wait := func() error {
		if inFlight != nil {
			if p := <-inFlight; p != nil {
				panic(p)
			}
			inFlight = nil
			total += int64(wn)
		}
		return werr
	}
	for i := 0; ; i++ {
		buf := bufs[i%2]
		n, rerr := fill(src, buf)
		if err := wait(); err != nil {
			return total, err
		}
		if n > 0 {
			inFlight = g.Go(func() { wn, werr = dst.Write(buf[:n]) })
		}
		if errors.Is(rerr, io.EOF) {
			return total, wait()
		}
		if rerr != nil {
			wait()
			return total, rerr
		}
	}
}

// fill reads src into buf until it is full or src ends or fails.
func fill(src io.Reader, buf []byte) (n int, err error) {
	for n < len(buf) && err == nil {
		var m int
		m, err = src.Read(buf[n:])
		n += m
	}
	return n, err
}
