package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/comsoc/acervo/catalog"
)

// tusErrorWriter gives tusd's own errors the API's JSON shape. tusd writes
// them as text/plain "ERR_CODE: message", and its 500s carry the internal
// error text, which clients must never see (STYLE.md): those are logged
// with an id and replaced. Errors already in JSON (ours, from the hooks)
// pass through.
type tusErrorWriter struct {
	http.ResponseWriter
	s       *Server
	req     *http.Request
	status  int
	rewrite bool
	body    bytes.Buffer
}

func (w *tusErrorWriter) WriteHeader(code int) {
	h := w.Header()
	// tusd builds an absolute Location from the request, which says http://
	// behind a TLS proxy and so breaks browsers on mixed content. A path is
	// valid (RFC 9110) and tus clients resolve it against their endpoint.
	if loc := h.Get("Location"); loc != "" {
		if u, err := url.Parse(loc); err == nil && u.Path != "" {
			h.Set("Location", u.Path)
		}
	}
	if code >= 400 && !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		w.status, w.rewrite = code, true
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *tusErrorWriter) Write(p []byte) (int, error) {
	if w.rewrite {
		w.body.Write(p)
		if w.body.Len() >= len(p) && w.complete() {
			w.flush()
		}
		return len(p), nil
	}
	return w.ResponseWriter.Write(p)
}

// complete reports whether the whole tusd body has arrived: tusd sets
// Content-Length for its error bodies and writes them in one call.
func (w *tusErrorWriter) complete() bool {
	n, err := strconv.Atoi(w.Header().Get("Content-Length"))
	return err != nil || w.body.Len() >= n
}

// Unwrap lets http.ResponseController reach the connection (tusd sets
// read deadlines through it).
func (w *tusErrorWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// tusErrCode is the shape of tusd's error codes, as in "ERR_UPLOAD_NOT_FOUND: …".
var tusErrCode = regexp.MustCompile(`^ERR_[A-Z0-9_]+$`)

func (w *tusErrorWriter) flush() {
	w.rewrite = false
	text := strings.TrimSpace(w.body.String())
	code, msg, ok := strings.Cut(text, ": ")
	if !ok || !tusErrCode.MatchString(code) {
		// Not tusd's "ERR_CODE: message": a HEAD's error has no body at all.
		// The status then names the error, so the client always gets a code.
		code, msg = "", text
	}
	code = strings.ToLower(strings.TrimPrefix(code, "ERR_"))
	if code == "" {
		code = strings.ToLower(strings.ReplaceAll(http.StatusText(w.status), " ", "_"))
	}
	if code == "" {
		code = "error"
	}
	if w.status >= 500 {
		id := catalog.NewID(time.Now())
		w.s.cfg.Log.Error("tus request failed", "error_id", id, "method", w.req.Method, "path", w.req.URL.Path, "err", w.body.String())
		code, msg = "internal", "Error interno / internal error (id "+id+")"
	}
	if msg == "" {
		msg = http.StatusText(w.status)
	}
	if msg == "" {
		msg = "HTTP " + strconv.Itoa(w.status)
	}
	body := mustJSON(map[string]any{"error": map[string]string{"code": code, "message": msg}})
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.ResponseWriter.WriteHeader(w.status)
	if w.req.Method != http.MethodHead {
		w.ResponseWriter.Write(body)
	}
}

// finishTus sends an error that had no body (a HEAD's).
func (w *tusErrorWriter) finishTus() {
	if w.rewrite {
		w.flush()
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
