package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/transcode"
)

// Posted files for /verify: staged to disk with their type and size
// checked as they arrive, then examined under a bound on concurrent work.

// stagedFile is a posted file on disk, for as long as it is examined.
type stagedFile struct{ path, sha, kind string }

// stageVerify writes the part to a temporary file, sniffing its type from
// the first bytes (415 unless photo, video or audio) and capping its size
// by that type (413). On error nothing is left.
func (s *Server) stageVerify(part io.Reader) (st stagedFile, err error) {
	cfg := s.cfg.Verify
	head := make([]byte, 512)
	n, err := io.ReadFull(part, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		if tooLarge(err) {
			return st, verifyTooLarge()
		}
		return st, errorf(http.StatusBadRequest, "bad_upload", "No se pudo leer el archivo / could not read the file")
	}
	head = head[:n]
	kind, _, ok := transcode.SniffMedia(head)
	if !ok || kind == catalog.KindDocument {
		return st, errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "Solo se verifican fotos, video y audio / only photos, video and audio can be checked")
	}
	limit := cfg.MaxAVBytes
	if kind == catalog.KindPhoto {
		limit = cfg.MaxImageBytes
	}
	f, err := os.CreateTemp(cfg.StagingDir, "verify-*")
	if err != nil {
		return st, err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	h := sha256.New()
	w := io.MultiWriter(f, h)
	if _, err = w.Write(head); err != nil {
		return st, err
	}
	copied, err := io.Copy(w, io.LimitReader(part, limit-int64(n)+1))
	if err != nil {
		if tooLarge(err) {
			return st, verifyTooLarge()
		}
		return st, errorf(http.StatusBadRequest, "bad_upload", "El envío se interrumpió / the upload was cut")
	}
	if int64(n)+copied > limit {
		return st, verifyTooLarge()
	}
	if err = f.Close(); err != nil {
		return st, err
	}
	return stagedFile{path: f.Name(), sha: hex.EncodeToString(h.Sum(nil)), kind: kind}, nil
}

func tooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

func verifyTooLarge() error {
	return errorf(http.StatusRequestEntityTooLarge, "too_large", "El archivo es demasiado grande para verificarlo / the file is too large to check")
}

// examine hashes the staged file, at most MaxConcurrent at once.
func (s *Server) examine(ctx context.Context, path string) (transcode.Sample, error) {
	select {
	case s.verifySlots <- struct{}{}:
		defer func() { <-s.verifySlots }()
	case <-ctx.Done():
		return transcode.Sample{}, ctx.Err()
	}
	scratch, err := os.MkdirTemp(s.cfg.Verify.StagingDir, "scratch-*")
	if err != nil {
		return transcode.Sample{}, err
	}
	defer os.RemoveAll(scratch)
	sample, err := s.cfg.Examine.Examine(ctx, path, scratch)
	switch {
	case errors.Is(err, transcode.ErrTooLarge):
		return sample, verifyTooLarge()
	case errors.Is(err, transcode.ErrUnsupported):
		return sample, errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "No se pudo leer el archivo como foto, video o audio / the file could not be read as a photo, video or audio")
	case err != nil:
		return sample, fmt.Errorf("server: verify: %w", err)
	}
	return sample, nil
}
