package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/storage"
	"github.com/comsoc/acervo/transcode"
)

// Clipper cuts excerpts of video and audio; transcode.Clipper is the real one.
type Clipper interface {
	Clip(ctx context.Context, req transcode.ClipRequest, w io.Writer) error
}

// maxClip bounds one excerpt: a clip is for a quote or a news piece, and
// each one is a live encode.
const maxClip = 30 * time.Minute

// getClip streams the excerpt [start, end) of a video (MP4) or audio (M4A)
// as it is encoded, from the proxy by default or from the original with
// source=original. The encode belongs to this response: when the client
// goes away, the request context ends and ffmpeg is killed.
func (s *Server) getClip(c echo.Context) error {
	if s.cfg.Clips == nil {
		return errorf(http.StatusNotImplemented, "no_clips", "Los recortes no están disponibles / clips are not available")
	}
	a, err := s.visibleAsset(c)
	if err != nil {
		return err
	}
	if a.Kind != catalog.KindVideo && a.Kind != catalog.KindAudio {
		return errorf(http.StatusBadRequest, "not_clippable", "Solo se recortan videos y audios / only video and audio can be clipped")
	}
	start, err := transcode.ParseClipTime(c.QueryParam("start"))
	if err != nil {
		return errorf(http.StatusBadRequest, "bad_time", "start inválido (segundos o hh:mm:ss.mmm) / invalid start")
	}
	end, err := transcode.ParseClipTime(c.QueryParam("end"))
	if err != nil {
		return errorf(http.StatusBadRequest, "bad_time", "end inválido (segundos o hh:mm:ss.mmm) / invalid end")
	}
	if end <= start {
		return errorf(http.StatusBadRequest, "bad_range", "end debe ser mayor que start / end must be after start")
	}
	if end-start > maxClip {
		return errorf(http.StatusBadRequest, "clip_too_long", "Un recorte dura como máximo %v / a clip lasts at most %v", maxClip, maxClip)
	}
	if a.Duration > 0 && start.Seconds() >= a.Duration {
		return errorf(http.StatusBadRequest, "bad_range", "start está después del final (%.3f s) / start is past the end", a.Duration)
	}
	key, err := s.clipSource(a, c.QueryParam("source"))
	if err != nil {
		return err
	}
	lp, ok := s.store.(storage.LocalPather)
	if !ok {
		return errorf(http.StatusNotImplemented, "no_clips", "Los recortes necesitan almacenamiento local / clips need local storage")
	}
	src, err := lp.LocalPath(key)
	if err != nil {
		return err
	}
	audio := a.Kind == catalog.KindAudio
	ext, mime := ".mp4", "video/mp4"
	if audio {
		ext, mime = ".m4a", "audio/mp4"
	}
	select {
	case s.clipSlots <- struct{}{}:
		defer func() { <-s.clipSlots }()
	case <-c.Request().Context().Done():
		return c.Request().Context().Err()
	}
	h := c.Response().Header()
	h.Set("Content-Type", mime)
	h.Set("Content-Disposition", attachment(clipName(a.Filename, start, end)+ext))
	h.Set("Cache-Control", "private, no-store")
	w := &firstWrite{resp: c.Response()}
	err = s.cfg.Clips.Clip(c.Request().Context(), transcode.ClipRequest{Src: src, Start: start, End: end, Audio: audio}, w)
	if err != nil && !w.started {
		if errors.Is(err, transcode.ErrClipRange) {
			return errorf(http.StatusBadRequest, "bad_range", "El recorte está fuera del archivo / the clip is outside the media")
		}
		if errors.Is(err, transcode.ErrUnsupported) {
			return errorf(http.StatusUnprocessableEntity, "clip_failed", "No se pudo recortar este archivo / this file can't be clipped")
		}
		return fmt.Errorf("clip %s: %w", a.ID, err)
	}
	if err != nil && c.Request().Context().Err() == nil {
		// Too late for an error status: the client sees a cut download.
		s.cfg.Log.Warn("clip failed mid-stream", "asset", a.ID, "err", err)
	}
	return nil
}

// clipSource picks the file to cut: the browser proxy (fast, small) or,
// with source=original, the original itself.
func (s *Server) clipSource(a catalog.Asset, source string) (string, error) {
	switch source {
	case "", "proxy":
		name := "proxy.mp4"
		if a.Kind == catalog.KindAudio {
			name = "audio.m4a"
		}
		if _, ok := a.Renditions[name]; !ok {
			return "", errorf(http.StatusConflict, "not_ready", "La versión de consulta aún no está lista / the proxy is not ready yet")
		}
		return storage.DerivedKey(a.ID, name)
	case "original":
		return storage.BlobKey(a.SHA256)
	}
	return "", errorf(http.StatusBadRequest, "bad_source", "source es proxy u original / source is proxy or original")
}

// clipName is "<original name without extension>_<start>-<end>", times as
// hhmmss with milliseconds when they have any, safe in every file system.
func clipName(filename string, start, end time.Duration) string {
	base := strings.TrimSuffix(filename, path.Ext(filename))
	if base == "" {
		base = "recorte"
	}
	return fmt.Sprintf("%s_%s-%s", base, clipStamp(start), clipStamp(end))
}

func clipStamp(d time.Duration) string {
	ms := d.Milliseconds()
	h, m, sec, rest := ms/3600000, ms/60000%60, ms/1000%60, ms%1000
	if rest == 0 {
		return fmt.Sprintf("%02d%02d%02d", h, m, sec)
	}
	return fmt.Sprintf("%02d%02d%02d.%03d", h, m, sec, rest)
}

// firstWrite notes whether any byte went out, so an error before the first
// one can still be a proper JSON error.
type firstWrite struct {
	resp    *echo.Response
	started bool
}

func (f *firstWrite) Write(p []byte) (int, error) {
	if !f.started {
		f.started = true
		f.resp.WriteHeader(http.StatusOK)
	}
	n, err := f.resp.Write(p)
	f.resp.Flush()
	return n, err
}
