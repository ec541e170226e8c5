package server

import (
	"context"
	"io"

	"github.com/tus/tusd/v2/pkg/filestore"
	tusd "github.com/tus/tusd/v2/pkg/handler"

	"github.com/comsoc/acervo/catalog"
)

// gatedFileStore is tusd's file store with the bulk gate (see
// catalog.BulkGate) held while a PATCH's bytes are written, and only
// then: WriteChunk returns before tusd calls the finish hook, which hashes
// the whole file under the gate itself. Holding it any longer (to the end
// of the request) would deadlock a one-place gate on the last PATCH.
type gatedFileStore struct {
	filestore.FileStore
	gate *catalog.BulkGate
}

// useIn registers the store as filestore.FileStore.UseIn does.
func (s gatedFileStore) useIn(c *tusd.StoreComposer) {
	c.UseCore(s)
	c.UseTerminater(s)
	c.UseConcater(s)
	c.UseLengthDeferrer(s)
}

func (s gatedFileStore) NewUpload(ctx context.Context, info tusd.FileInfo) (tusd.Upload, error) {
	u, err := s.FileStore.NewUpload(ctx, info)
	if err != nil {
		return nil, err
	}
	return gatedUpload{u, s.gate}, nil
}

func (s gatedFileStore) GetUpload(ctx context.Context, id string) (tusd.Upload, error) {
	u, err := s.FileStore.GetUpload(ctx, id)
	if err != nil {
		return nil, err
	}
	return gatedUpload{u, s.gate}, nil
}

// The file store's As… methods expect its own uploads.
func (s gatedFileStore) AsTerminatableUpload(u tusd.Upload) tusd.TerminatableUpload {
	return s.FileStore.AsTerminatableUpload(ungated(u))
}

func (s gatedFileStore) AsLengthDeclarableUpload(u tusd.Upload) tusd.LengthDeclarableUpload {
	return s.FileStore.AsLengthDeclarableUpload(ungated(u))
}

func (s gatedFileStore) AsConcatableUpload(u tusd.Upload) tusd.ConcatableUpload {
	return s.FileStore.AsConcatableUpload(ungated(u))
}

func ungated(u tusd.Upload) tusd.Upload {
	if g, ok := u.(gatedUpload); ok {
		return g.Upload
	}
	return u
}

type gatedUpload struct {
	tusd.Upload
	gate *catalog.BulkGate
}

func (u gatedUpload) WriteChunk(ctx context.Context, offset int64, src io.Reader) (int64, error) {
	r := u.gate.Reader(src)
	defer r.Done()
	return u.Upload.WriteChunk(ctx, offset, r)
}
