package server

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"golang.org/x/text/unicode/norm"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/storage"
)

// maxFieldBytes caps each text field of an upload form.
const maxFieldBytes = 64 << 10

// uploadAsset takes one file from a multipart form and streams it into the
// archive: it is never buffered whole, in memory or in a temp dir outside
// the data folder (Echo's FormFile would spool to os.TempDir, so the parts
// are read by hand). Text fields may come before or after the file.
func (s *Server) uploadAsset(c echo.Context) error {
	req := c.Request()
	mt, params, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		return errorf(http.StatusBadRequest, "multipart_required", "Envíe multipart/form-data con el campo file / send multipart/form-data with a file field")
	}
	if err := s.checkSpace(req.ContentLength); err != nil {
		return err
	}
	if params["boundary"] == "" {
		return errorf(http.StatusBadRequest, "bad_multipart", "Formulario inválido / malformed multipart body")
	}
	// multipart reads its source 4 KB at a time, which on the bare body
	// is a read(2) of the socket per 4 KB; through this buffer it is one
	// per 256 KB. The idle check sits under the buffer, so it also runs
	// once per 256 KB rather than per 4 KB, and covers the text fields too.
	idle := newIdleReader(c.Response(), s.cfg.UploadIdleTimeout, s.cfg.UploadMinRate)
	mr := multipart.NewReader(bufio.NewReaderSize(idle.wrap(req.Body), 256<<10), params["boundary"])
	user := currentUser(c)
	fields := map[string][]string{}
	var staged *catalog.Staged
	defer func() {
		if staged != nil {
			staged.Abort()
		}
	}()
	var filename string
	start := time.Now()
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return errorf(http.StatusBadRequest, "bad_multipart", "Formulario cortado o inválido / truncated or malformed multipart body")
		}
		if part.FormName() != "file" {
			v, err := readField(part)
			if err != nil {
				return err
			}
			fields[part.FormName()] = append(fields[part.FormName()], v)
			continue
		}
		if staged != nil {
			return errorf(http.StatusBadRequest, "one_file", "Un archivo por petición / one file per request")
		}
		filename = part.FileName()
		staged, err = s.cfg.Ingester.Stage(req.Context(), part)
		if errors.Is(err, catalog.ErrUnsupportedMedia) {
			s.metrics.uploadsRefused.Add(1)
			return errorf(http.StatusUnsupportedMediaType, "unsupported_media",
				"Tipo de archivo no admitido: se aceptan fotos, video, audio y PDF / unsupported file type: photos, video, audio and PDF are accepted")
		}
		if err != nil {
			if req.Context().Err() != nil || idle.timedOut() || isBodyErr(err) {
				return errorf(http.StatusBadRequest, "upload_interrupted", "La subida se interrumpió / upload interrupted")
			}
			return err
		}
	}
	if staged == nil {
		return errorf(http.StatusBadRequest, "missing_file", "Falta el archivo en el campo file / missing file field")
	}
	// The whole body is read, so fields sent after the file count too.
	n := newAssetFrom(fields, filename, user.ID)
	n.ClientIP = c.RealIP()
	asset, duplicate, err := s.cfg.Ingester.Commit(staged, n)
	if err != nil {
		return err
	}
	s.metrics.observeUpload(asset.Size, time.Since(start), duplicate)
	if !duplicate && s.notifier != nil {
		s.notifier.Notify()
	}
	v := s.assetView(asset)
	if duplicate {
		v.Duplicate = true
		return c.JSON(http.StatusOK, v)
	}
	return c.JSON(http.StatusCreated, v)
}

// checkSpace refuses an upload of size bytes (-1: unknown, then only the
// reserve counts) that would leave less than MinFreeBytes on the store's
// disk. A full disk met later, while writing, is a 507 too (handleError).
func (s *Server) checkSpace(size int64) error {
	sr, ok := s.store.(storage.SpaceReporter)
	if !ok {
		return nil
	}
	free, err := sr.FreeBytes()
	if err != nil {
		return err
	}
	if free-max(size, 0) < s.cfg.MinFreeBytes {
		s.metrics.uploadsRefused.Add(1)
		return fmt.Errorf("server: upload of %d bytes with %d free: %w", size, free, storage.ErrNoSpace)
	}
	return nil
}

// isBodyErr tells a broken or cut request body from a server-side failure.
func isBodyErr(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, os.ErrDeadlineExceeded) ||
		strings.Contains(err.Error(), "multipart")
}

func readField(p *multipart.Part) (string, error) {
	b, err := io.ReadAll(io.LimitReader(p, maxFieldBytes+1))
	if err != nil {
		return "", errorf(http.StatusBadRequest, "bad_multipart", "Formulario cortado / truncated form")
	}
	if len(b) > maxFieldBytes {
		return "", errorf(http.StatusRequestEntityTooLarge, "field_too_large", "El campo %q es demasiado largo / field too long", p.FormName())
	}
	if !utf8.Valid(b) {
		return "", errorf(http.StatusBadRequest, "invalid_utf8", "El campo %q no es UTF-8 / field is not UTF-8", p.FormName())
	}
	return norm.NFC.String(strings.TrimSpace(string(b))), nil
}

// newAssetFrom reads the optional form fields DESIGN.md lists; tags and
// people may be repeated fields or comma-separated. ocr=true asks for the
// text of a photographed or scanned clipping to be read and indexed.
func newAssetFrom(f map[string][]string, filename, userID string) catalog.NewAsset {
	first := func(k string) string {
		if v := f[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	list := func(k string) []string {
		var out []string
		for _, v := range f[k] {
			for _, item := range strings.Split(v, ",") {
				if item = strings.TrimSpace(item); item != "" {
					out = append(out, item)
				}
			}
		}
		return out
	}
	ocr := strings.ToLower(first("ocr"))
	return catalog.NewAsset{
		OCR:      ocr == "1" || ocr == "true" || ocr == "on" || ocr == "sí" || ocr == "si",
		Filename: cleanFilename(filename), UploadedBy: userID,
		Event: first("event"), People: list("people"), Tags: list("tags"),
		Title: first("title"), Caption: first("caption"), Credit: first("credit"),
	}
}

// cleanFilename keeps the user's name as metadata only: NFC (macOS sends
// NFD), no path, no control characters, never "." or "..", at most 255 bytes.
func cleanFilename(name string) string {
	name = norm.NFC.String(name)
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, name)
	for len(name) > 255 {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	// "." and ".." name folders, not files: a ZIP or a browser must never
	// be handed one.
	if n := strings.TrimSpace(name); n == "" || n == "." || n == ".." {
		return "sin-nombre"
	}
	return name
}

// visibleAsset loads the asset named in the URL. One in the trash exists
// only for editors: to others it is 404, like any unknown id.
func (s *Server) visibleAsset(c echo.Context) (catalog.Asset, error) {
	a, err := s.cat.Asset(c.Param("id"))
	if err == nil && a.TrashedAt != nil && !currentUser(c).Can(catalog.RoleEditor) {
		return catalog.Asset{}, fmt.Errorf("server: asset in the trash: %w", catalog.ErrNotFound)
	}
	return a, err
}

// visibleFiles is visibleAsset for the routes that serve files, by the
// same rule, through the catalog's lean read of what serving needs (as
// fresh as visibleAsset's: it is read on every request).
func (s *Server) visibleFiles(c echo.Context) (catalog.AssetFiles, error) {
	f, err := s.cat.Files(c.Param("id"))
	if err == nil && f.Trashed && !currentUser(c).Can(catalog.RoleEditor) {
		return catalog.AssetFiles{}, fmt.Errorf("server: asset in the trash: %w", catalog.ErrNotFound)
	}
	return f, err
}

// deleteAsset: DELETE /api/v1/assets/{id} moves the asset to the trash:
// contributors their own, editors any.
func (s *Server) deleteAsset(c echo.Context) error {
	if _, err := s.visibleAsset(c); err != nil {
		return err
	}
	if _, err := s.cat.TrashAsset(actor(c), c.Param("id"), mayEdit(currentUser(c))); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// restoreAsset: POST /api/v1/assets/{id}/restore (editors) takes it back
// out of the trash.
func (s *Server) restoreAsset(c echo.Context) error {
	a, err := s.cat.RestoreAsset(actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.assetView(a))
}

func (s *Server) getAsset(c echo.Context) error {
	a, err := s.visibleAsset(c)
	if err != nil {
		return err
	}
	v := s.assetView(a)
	// Not while processing: uploaders poll the asset then, and it has no
	// fingerprint yet.
	if a.Status == catalog.StatusReady {
		if v.NearDuplicates, err = s.nearDuplicates(a); err != nil {
			return err
		}
	}
	return c.JSON(http.StatusOK, v)
}

// idleReader cuts an upload whose client stops sending: each read extends
// the connection's read deadline by timeout, so a long upload lives as long
// as bytes keep coming. It also cuts one that trickles: less than minRate
// bytes/s over a whole window of timeout holds a connection, a goroutine
// and a staging file for hours while looking alive (slowloris on a body).
type idleReader struct {
	rc       *http.ResponseController
	timeout  time.Duration
	minRate  int64 // 0: no minimum
	expired  bool
	winStart time.Time
	winBytes int64
}

func newIdleReader(w http.ResponseWriter, timeout time.Duration, minRate int64) *idleReader {
	return &idleReader{rc: http.NewResponseController(w), timeout: timeout, minRate: minRate}
}

// errTooSlow ends an upload below the minimum rate; it counts as a body
// error, like a stalled one (os.ErrDeadlineExceeded).
var errTooSlow = fmt.Errorf("server: upload below the minimum rate: %w", os.ErrDeadlineExceeded)

func (r *idleReader) wrap(src io.Reader) io.Reader { return &idleRead{r: r, src: src} }

func (r *idleReader) timedOut() bool { return r.expired }

type idleRead struct {
	r   *idleReader
	src io.Reader
	set time.Time // when the deadline was last pushed
}

func (ir *idleRead) Read(p []byte) (int, error) {
	r := ir.r
	if now := time.Now(); r.minRate > 0 {
		if r.winStart.IsZero() {
			r.winStart = now
		}
		if el := now.Sub(r.winStart); el >= r.timeout {
			if float64(r.winBytes) < el.Seconds()*float64(r.minRate) {
				r.expired = true
				return 0, errTooSlow
			}
			r.winStart, r.winBytes = now, 0
		}
	}
	// Pushing the deadline on every 4 KB read costs a timer update each;
	// once a second is as good for cutting stalled clients.
	if now := time.Now(); now.Sub(ir.set) > time.Second {
		_ = ir.r.rc.SetReadDeadline(now.Add(ir.r.timeout))
		ir.set = now
	}
	n, err := ir.src.Read(p)
	r.winBytes += int64(n)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		ir.r.expired = true
	}
	return n, err
}
