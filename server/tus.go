package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	expslog "golang.org/x/exp/slog"

	"github.com/labstack/echo/v4"
	"github.com/tus/tusd/v2/pkg/filestore"
	tusd "github.com/tus/tusd/v2/pkg/handler"
	"github.com/tus/tusd/v2/pkg/memorylocker"
	"golang.org/x/text/unicode/norm"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/storage"
)

// Resumable uploads (tus 1.0) at /api/v1/uploads/. tusd keeps the bytes
// of uploads in progress in Config.UploadsDir, apart from data/staging
// (which is emptied at start): a photographer's upload must resume after a
// restart too. When the last byte arrives, the file is staged (linked into
// the store, not copied, when data/uploads and the store share a file
// system) and committed like a multipart upload, the finishing PATCH
// answers with Acervo-Asset-Id, and the tus file is deleted. Each upload
// belongs to the user who created it; others get 404 for it.
//
// After a crash, data/uploads keeps every upload that can still resume:
// its bytes up to the last one written, and its info. One whose last byte
// arrived but whose asset was not committed (or whose answer was lost) is
// finished by the client's next PATCH at its full offset, which answers
// Acervo-Asset-Id like the lost one would have (the same asset, if it was
// committed). Only what cannot resume (an info without bytes or bytes
// without an info, from a crash while tusd created or removed them) is
// removed at start; the rest goes when finished, terminated, or after
// UploadExpiry without progress.

const (
	tusBase = "/api/v1/uploads/"
	// tusOwnerKey is the metadata entry naming the uploading user. The
	// server sets it; a client's own value is overwritten.
	tusOwnerKey = "acervo_owner"
)

// tusFields are the upload metadata entries that mirror the multipart form.
var tusFields = []string{"event", "tags", "people", "title", "caption", "credit", "ocr"}

// tusID is the shape of filestore's ids: nothing that could walk out of
// the uploads folder.
var tusID = regexp.MustCompile(`^[0-9a-f]{16,64}$`)

type tusUploads struct {
	s       *Server
	store   filestore.FileStore
	locker  *memorylocker.MemoryLocker
	handler *tusd.UnroutedHandler
	stop    chan struct{}
	done    sync.WaitGroup
}

type tusUserKey struct{}

// tusConnKey carries the request's ResponseController to the finish hook,
// which keeps the connection's write deadline ahead while it hashes and
// fsyncs a large file (tusd's own deadline runs out minutes after the last
// byte).
type tusConnKey struct{}

func (s *Server) newTus() (*tusUploads, error) {
	dir := s.cfg.UploadsDir
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	t := &tusUploads{s: s, store: filestore.New(dir), locker: memorylocker.New(), stop: make(chan struct{})}
	comp := tusd.NewStoreComposer()
	// tusd writes PATCH bodies under the bulk gate (tus_gate.go).
	gatedFileStore{t.store, s.cfg.Ingester.Bulk}.useIn(comp)
	t.locker.UseIn(comp)
	h, err := tusd.NewUnroutedHandler(tusd.Config{
		StoreComposer:             comp,
		BasePath:                  tusBase,
		MaxSize:                   s.cfg.UploadMaxSize,
		DisableDownload:           true,
		DisableConcatenation:      true,
		Cors:                      &tusd.CorsConfig{Disable: true},
		NetworkTimeout:            s.cfg.UploadIdleTimeout,
		Logger:                    expslog.New(expslog.NewTextHandler(io.Discard, nil)), // we log errors ourselves, with ids
		PreUploadCreateCallback:   t.beforeCreate,
		PreFinishResponseCallback: t.finish,
	})
	if err != nil {
		return nil, err
	}
	t.handler = h
	t.removeUnresumable()
	t.sweep()
	t.done.Add(1)
	go t.sweepEvery(min(time.Hour, s.cfg.UploadExpiry/4))
	return t, nil
}

// close stops the expiry sweeper; safe to call once.
func (t *tusUploads) close() {
	close(t.stop)
	t.done.Wait()
}

// serve adapts tusd to Echo. It runs after authenticate and require, so the
// user is known; it checks the upload is theirs and, on the first bytes,
// that they are media, before tusd writes anything.
func (t *tusUploads) serve(c echo.Context) error {
	req := c.Request()
	user := currentUser(c)
	id := c.Param("id")
	if id != "" {
		if !tusID.MatchString(id) {
			return errorf(http.StatusNotFound, "not_found", "Esa subida no existe / no such upload")
		}
		info, err := t.info(req.Context(), id)
		if err != nil || info.MetaData[tusOwnerKey] != user.ID {
			return errorf(http.StatusNotFound, "not_found", "Esa subida no existe o expiró / no such upload, or it expired")
		}
		if req.Method == http.MethodPatch && req.Header.Get("Upload-Offset") == "0" {
			if err := t.sniffFirstBytes(req, id, info.Size); err != nil {
				return err
			}
		}
		if req.Method == http.MethodPatch && !info.SizeIsDeferred && info.Offset == info.Size &&
			req.Header.Get("Upload-Offset") == strconv.FormatInt(info.Size, 10) {
			return t.finishComplete(c, id)
		}
	}
	ctx := context.WithValue(req.Context(), tusUserKey{}, user.ID)
	ctx = context.WithValue(ctx, tusConnKey{}, http.NewResponseController(c.Response()))
	req = req.WithContext(ctx)
	var route http.HandlerFunc
	switch req.Method {
	case http.MethodPost:
		route = t.handler.PostFile
	case http.MethodHead:
		route = t.handler.HeadFile
	case http.MethodPatch:
		route = t.handler.PatchFile
	case http.MethodDelete:
		route = t.handler.DelFile
	default:
		route = func(http.ResponseWriter, *http.Request) {} // OPTIONS: the middleware answers
	}
	w := &tusErrorWriter{ResponseWriter: c.Response(), s: t.s, req: req}
	t.handler.Middleware(http.StripPrefix(tusBase, route)).ServeHTTP(w, req)
	w.finishTus()
	return nil
}

func (t *tusUploads) info(ctx context.Context, id string) (tusd.FileInfo, error) {
	up, err := t.store.GetUpload(ctx, id)
	if err != nil {
		return tusd.FileInfo{}, err
	}
	return up.GetInfo(ctx)
}

// sniffFirstBytes refuses an upload of something that is not media as soon
// as its first bytes arrive, rather than after gigabytes: the upload is
// removed and the client gets 415. It leaves the body readable from its start.
func (t *tusUploads) sniffFirstBytes(req *http.Request, id string, size int64) error {
	br := bufio.NewReaderSize(req.Body, 4096)
	head, err := br.Peek(512)
	req.Body = struct {
		io.Reader
		io.Closer
	}{br, req.Body}
	if err != nil && int64(len(head)) < size {
		return nil // a first chunk under 512 bytes: the finish decides
	}
	if _, _, ok := t.s.cfg.Ingester.Sniff(head); ok {
		return nil
	}
	t.terminate(id)
	t.s.metrics.uploadsRefused.Add(1)
	return errUnsupportedMedia()
}

func errUnsupportedMedia() error {
	return errorf(http.StatusUnsupportedMediaType, "unsupported_media",
		"Tipo de archivo no admitido: se aceptan fotos, video, audio y PDF / unsupported file type: photos, video, audio and PDF are accepted")
}

// beforeCreate checks the metadata and records who owns the upload.
func (t *tusUploads) beforeCreate(ev tusd.HookEvent) (tusd.HTTPResponse, tusd.FileInfoChanges, error) {
	user, _ := ev.Context.Value(tusUserKey{}).(string)
	if user == "" {
		return tusd.HTTPResponse{}, tusd.FileInfoChanges{}, tusError(errorf(http.StatusUnauthorized, "unauthorized", "Inicie sesión / sign in required"))
	}
	if ev.Upload.SizeIsDeferred {
		return tusd.HTTPResponse{}, tusd.FileInfoChanges{}, tusError(errorf(http.StatusBadRequest, "length_required", "Falta Upload-Length / Upload-Length is required"))
	}
	meta := tusd.MetaData{tusOwnerKey: user}
	for _, k := range append([]string{"filename"}, tusFields...) {
		v, ok := ev.Upload.MetaData[k]
		if !ok {
			continue
		}
		if len(v) > maxFieldBytes || !utf8.ValidString(v) {
			return tusd.HTTPResponse{}, tusd.FileInfoChanges{}, tusError(errorf(http.StatusBadRequest, "invalid", "El dato %q es inválido o demasiado largo / metadata %q is invalid or too long", k, k))
		}
		meta[k] = norm.NFC.String(strings.TrimSpace(v))
	}
	return tusd.HTTPResponse{}, tusd.FileInfoChanges{MetaData: meta}, nil
}

// finish runs when the last byte is written, before tusd answers the PATCH:
// the file is staged and committed like a multipart upload, so the answer
// is sent only once the original is durable (DESIGN.md invariant 1). The
// work must not stop if the client hangs up meanwhile (it will find the
// asset when it retries), so it runs on an uncancelled context.
func (t *tusUploads) finish(ev tusd.HookEvent) (tusd.HTTPResponse, error) {
	rc, _ := ev.Context.Value(tusConnKey{}).(*http.ResponseController)
	asset, duplicate, err := t.commit(context.WithoutCancel(ev.Context), ev.Upload, rc)
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return tusd.HTTPResponse{}, tusError(ae)
	case errors.Is(err, storage.ErrNoSpace):
		return tusd.HTTPResponse{}, tusError(errNoSpace())
	case err != nil:
		return tusd.HTTPResponse{}, tusError(t.internal(ev.Upload.ID, err))
	}
	return tusd.HTTPResponse{Header: tusd.HTTPHeader{
		"Acervo-Asset-Id":  asset.ID,
		"Acervo-Duplicate": strconv.FormatBool(duplicate),
	}}, nil
}

// finishComplete answers a PATCH at the full offset of an upload whose
// bytes all arrived but which was never finished (a crash, or a failed
// finish): tusd would answer 204 without an asset, so it is finished here,
// under the upload's lock, as the lost PATCH would have been.
func (t *tusUploads) finishComplete(c echo.Context, id string) error {
	ctx := context.WithoutCancel(c.Request().Context())
	lock, err := t.locker.NewLock(id)
	if err != nil {
		return err
	}
	if err := lock.Lock(c.Request().Context(), func() {}); err != nil {
		return errorf(http.StatusLocked, "upload_locked", "La subida está en uso / the upload is in use")
	}
	defer lock.Unlock()
	info, err := t.info(ctx, id)
	if err != nil || info.Offset != info.Size {
		return errorf(http.StatusNotFound, "not_found", "Esa subida no existe o expiró / no such upload, or it expired")
	}
	asset, duplicate, err := t.commit(ctx, info, http.NewResponseController(c.Response()))
	if err != nil {
		return err // the API's error handler logs and maps it
	}
	h := c.Response().Header()
	h.Set("Tus-Resumable", "1.0.0")
	h.Set("Upload-Offset", strconv.FormatInt(info.Size, 10))
	h.Set("Acervo-Asset-Id", asset.ID)
	h.Set("Acervo-Duplicate", strconv.FormatBool(duplicate))
	return c.NoContent(http.StatusNoContent)
}

// commit stages the finished upload's file and commits its asset, then
// removes the upload, whether it committed or failed; only a crash leaves
// it, to be finished by the client's next PATCH. rc, if any, has its
// write deadline kept ahead meanwhile. Errors are an *apiError (415), or
// the store's and catalog's own.
func (t *tusUploads) commit(ctx context.Context, info tusd.FileInfo, rc *http.ResponseController) (catalog.Asset, bool, error) {
	defer t.terminate(info.ID)
	if rc != nil {
		defer keepWriteDeadline(rc)()
	}
	bin := info.Storage[filestore.StorageKeyPath]
	if bin == "" {
		bin = filepath.Join(t.store.Path, info.ID)
	}
	staged, err := t.s.cfg.Ingester.StageFile(ctx, bin)
	if errors.Is(err, catalog.ErrUnsupportedMedia) {
		t.s.metrics.uploadsRefused.Add(1)
		return catalog.Asset{}, false, errUnsupportedMedia()
	}
	if err != nil {
		return catalog.Asset{}, false, fmt.Errorf("server: tus upload %s: %w", info.ID, err)
	}
	defer staged.Abort()
	meta := info.MetaData
	fields := map[string][]string{}
	for _, k := range tusFields {
		if v, ok := meta[k]; ok {
			fields[k] = []string{v}
		}
	}
	start := time.Now()
	asset, duplicate, err := t.s.cfg.Ingester.Commit(staged, newAssetFrom(fields, meta["filename"], meta[tusOwnerKey]))
	if err != nil {
		return catalog.Asset{}, false, fmt.Errorf("server: tus upload %s: %w", info.ID, err)
	}
	t.s.metrics.observeUpload(asset.Size, time.Since(start), duplicate)
	if !duplicate && t.s.notifier != nil {
		t.s.notifier.Notify()
	}
	return asset, duplicate, nil
}

// errNoSpace is the API's answer to a full disk (see handleError).
func errNoSpace() error {
	return errorf(http.StatusInsufficientStorage, "insufficient_storage", "No hay espacio en el archivo; avise al administrador / the archive's disk is full")
}

// internal logs the cause with an id and shows the client only the id.
func (t *tusUploads) internal(upload string, err error) error {
	id := catalog.NewID(time.Now())
	t.s.cfg.Log.Error("tus upload failed", "error_id", id, "upload", upload, "err", err)
	return tusError(errorf(http.StatusInternalServerError, "internal", "Error interno / internal error (id %s)", id))
}

// tusError turns an API error into the tusd error that carries our JSON.
func tusError(err error) tusd.Error {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{http.StatusInternalServerError, "internal", "Error interno / internal error"}
	}
	return tusd.Error{
		ErrorCode: ae.Code, Message: ae.Message,
		HTTPResponse: tusd.HTTPResponse{
			StatusCode: ae.Status,
			Body:       string(mustJSON(map[string]any{"error": map[string]string{"code": ae.Code, "message": ae.Message}})) + "\n",
			Header:     tusd.HTTPHeader{"Content-Type": "application/json; charset=UTF-8"},
		},
	}
}

func (t *tusUploads) terminate(id string) {
	ctx := context.Background()
	up, err := t.store.GetUpload(ctx, id)
	if err != nil {
		return
	}
	if err := t.store.AsTerminatableUpload(up).Terminate(ctx); err != nil {
		t.s.cfg.Log.Warn("tus: remove upload", "upload", id, "err", err)
	}
}

func (t *tusUploads) sweepEvery(every time.Duration) {
	defer t.done.Done()
	tick := time.NewTicker(max(every, time.Second))
	defer tick.Stop()
	for {
		select {
		case <-t.stop:
			return
		case <-tick.C:
			t.sweep()
		}
	}
}

// sweep removes uploads abandoned for longer than UploadExpiry: neither
// their bytes nor their info changed since. Either file alone counts, so
// a crash between tusd's two writes or removes leaves nothing forever.
func (t *tusUploads) sweep() {
	cutoff := time.Now().Add(-t.s.cfg.UploadExpiry)
	for id, files := range t.uploadFiles() {
		last := time.Time{}
		for _, p := range files {
			if st, err := os.Stat(p); err == nil && st.ModTime().After(last) {
				last = st.ModTime()
			}
		}
		if last.Before(cutoff) {
			for _, p := range files {
				os.Remove(p)
			}
			t.s.cfg.Log.Info("tus: removed abandoned upload", "upload", id)
		}
	}
}

// removeUnresumable runs at start, before any request: an upload missing
// its bytes or its info (a crash while tusd created or removed them), or
// whose info does not parse, can never resume, so it goes now rather than
// after UploadExpiry.
func (t *tusUploads) removeUnresumable() {
	for id, files := range t.uploadFiles() {
		if len(files) == 2 {
			if _, err := t.info(context.Background(), id); err == nil {
				continue
			}
		}
		for _, p := range files {
			os.Remove(p)
		}
		t.s.cfg.Log.Info("tus: removed an upload that cannot resume", "upload", id)
	}
}

// uploadFiles lists the uploads folder by upload id: its bytes file (named
// the id) and its info file (id.info), whichever exist.
func (t *tusUploads) uploadFiles() map[string][]string {
	entries, _ := os.ReadDir(t.store.Path)
	out := map[string][]string{}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		id := strings.TrimSuffix(e.Name(), ".info")
		out[id] = append(out[id], filepath.Join(t.store.Path, e.Name()))
	}
	return out
}

// serveTus answers the tus routes, or 501 when no uploads folder is set.
func (s *Server) serveTus(c echo.Context) error {
	if s.tus == nil {
		return errorf(http.StatusNotImplemented, "tus_disabled", "Las subidas reanudables no están activas / resumable uploads are not enabled")
	}
	// Refuse early what the disk can't hold, as multipart uploads do. A
	// finished upload is linked into the store when it can be, but copied
	// when data/uploads is on another file system: a creation asks for
	// room for both.
	req := c.Request()
	switch req.Method {
	case http.MethodPost:
		n, _ := strconv.ParseInt(req.Header.Get("Upload-Length"), 10, 64)
		if n <= s.cfg.UploadMaxSize { // over it, tusd answers 413
			if err := s.checkSpace(2 * max(n, 0)); err != nil {
				return err
			}
		}
	case http.MethodPatch:
		if err := s.checkSpace(req.ContentLength); err != nil {
			return err
		}
	}
	return s.tus.serve(c)
}

// keepWriteDeadline keeps the response's write deadline two minutes ahead
// until the returned func is called: hashing and fsyncing a large finished
// upload takes longer than the deadline tusd set.
func keepWriteDeadline(rc *http.ResponseController) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(10 * time.Second)
		defer tick.Stop()
		for {
			_ = rc.SetWriteDeadline(time.Now().Add(2 * time.Minute))
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	return func() { close(done); wg.Wait() }
}
