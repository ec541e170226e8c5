package server_test

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/server"
)

// tusCreate starts a tus upload of size bytes and returns its path.
func (c *client) tusCreate(size int, meta map[string]string) string {
	c.e.t.Helper()
	resp := c.do("POST", "/api/v1/uploads/", "", nil, map[string]string{
		"Tus-Resumable": "1.0.0", "Upload-Length": strconv.Itoa(size), "Upload-Metadata": tusMeta(meta),
	})
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(resp.Body)
		c.e.t.Fatalf("tus create = %d %s", resp.StatusCode, b)
	}
	// A path, not an absolute URL: behind a TLS proxy the server can't
	// know the scheme the browser used.
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, "/api/v1/uploads/") {
		c.e.t.Fatalf("Location = %q, want a path under /api/v1/uploads/", loc)
	}
	return loc
}

func tusMeta(meta map[string]string) string {
	var parts []string
	for k, v := range meta {
		parts = append(parts, k+" "+base64.StdEncoding.EncodeToString([]byte(v)))
	}
	return strings.Join(parts, ",")
}

func (c *client) tusPatch(path string, offset int, chunk io.Reader) *http.Response {
	c.e.t.Helper()
	return c.do("PATCH", path, "application/offset+octet-stream", chunk, map[string]string{
		"Tus-Resumable": "1.0.0", "Upload-Offset": strconv.Itoa(offset),
	})
}

func (c *client) tusOffset(path string) int {
	c.e.t.Helper()
	resp := c.do("HEAD", path, "", nil, map[string]string{"Tus-Resumable": "1.0.0"})
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return -resp.StatusCode
	}
	n, err := strconv.Atoi(resp.Header.Get("Upload-Offset"))
	if err != nil {
		c.e.t.Fatalf("Upload-Offset = %q", resp.Header.Get("Upload-Offset"))
	}
	return n
}

// on returns a client of the same user talking to another server (a
// restarted one) on the same data.
func (c *client) on(srv *httptest.Server) *client {
	e := *c.e
	e.srv = srv
	return &client{Client: c.Client, e: &e, csrf: c.csrf, token: c.token}
}

func TestTusUploadResumesAcrossARestart(t *testing.T) {
	e := start(t)
	c := e.login()
	data := photo(t, 1600, 1200, 21)
	path := c.tusCreate(len(data), map[string]string{
		"filename": "Inauguración del parque.jpg", "event": "Inauguración del parque", "tags": "parque, obra", "title": "Corte de listón",
	})

	// A first chunk, then a connection that drops in the middle of the second.
	third := len(data) / 3
	resp := c.tusPatch(path, 0, bytes.NewReader(data[:third]))
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Upload-Offset") != strconv.Itoa(third) {
		t.Fatalf("first PATCH = %d offset %s", resp.StatusCode, resp.Header.Get("Upload-Offset"))
	}
	pr, pw := io.Pipe()
	bin := filepath.Join(e.data, "uploads", filepath.Base(path))
	go func() {
		pw.Write(data[third : 2*third])
		// Cut the connection once the server has written some of it.
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if st, err := os.Stat(bin); err == nil && st.Size() > int64(third) {
				break
			}
		}
		pw.CloseWithError(io.ErrUnexpectedEOF)
	}()
	req, _ := http.NewRequest("PATCH", e.srv.URL+path, pr)
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Offset", strconv.Itoa(third))
	req.Header.Set("X-CSRF-Token", c.csrf)
	if resp, err := c.Do(req); err == nil {
		resp.Body.Close()
	}

	// The server restarts: a new server on the same data folder.
	s2, err := server.New(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv2 := httptest.NewServer(s2.Handler())
	t.Cleanup(func() { srv2.Close(); s2.Close() })
	c2 := c.on(srv2)
	offset := c2.tusOffset(path)
	if offset <= third || offset > 2*third {
		t.Fatalf("offset after the dropped PATCH and a restart = %d, want in (%d, %d]", offset, third, 2*third)
	}

	resp = c2.tusPatch(path, offset, bytes.NewReader(data[offset:]))
	resp.Body.Close()
	id := resp.Header.Get("Acervo-Asset-Id")
	if resp.StatusCode != http.StatusNoContent || id == "" || resp.Header.Get("Acervo-Duplicate") != "false" {
		t.Fatalf("last PATCH = %d, Acervo-Asset-Id %q duplicate %q", resp.StatusCode, id, resp.Header.Get("Acervo-Duplicate"))
	}
	if got := c2.tusOffset(path); got != -http.StatusNotFound {
		t.Errorf("HEAD after finishing = %d, want 404 (the tus file is removed)", got)
	}
	assertNoFiles(t, filepath.Join(e.data, "uploads"))

	if a := c2.waitSettled(id); a.Status != catalog.StatusReady || a.Renditions["thumb.jpg"].URL == "" {
		t.Fatalf("asset = %s %s, want ready with a thumbnail", a.Status, a.Error)
	}
	m := c2.metaAsset(id)
	if a := c2.waitSettled(id); a.Filename != "Inauguración del parque.jpg" || m.Title != "Corte de listón" || m.Event == nil || m.Event.Name != "Inauguración del parque" || len(m.Tags) != 2 {
		t.Errorf("asset metadata = %+v", m)
	}
	orig, _ := c2.get("/api/v1/assets/" + id + "/original")
	if !bytes.Equal(orig, data) {
		t.Errorf("original is %d bytes, differs from the %d uploaded", len(orig), len(data))
	}

	// The same bytes again: the finishing PATCH names the existing asset.
	path = c2.tusCreate(len(data), map[string]string{"filename": "copia.jpg"})
	resp = c2.tusPatch(path, 0, bytes.NewReader(data))
	resp.Body.Close()
	if resp.Header.Get("Acervo-Asset-Id") != id || resp.Header.Get("Acervo-Duplicate") != "true" {
		t.Errorf("duplicate = %d id %q duplicate %q, want %s", resp.StatusCode, resp.Header.Get("Acervo-Asset-Id"), resp.Header.Get("Acervo-Duplicate"), id)
	}
}

func TestTusRefusesNonMediaAndStrangers(t *testing.T) {
	e := start(t)
	c := e.login()

	t.Run("not media, on the first bytes", func(t *testing.T) {
		html := []byte(strings.Repeat("<!DOCTYPE html><html><script>alert(1)</script></html>", 20))
		path := c.tusCreate(len(html), map[string]string{"filename": "foto.jpg"})
		expectError(t, c.tusPatch(path, 0, bytes.NewReader(html[:600])), http.StatusUnsupportedMediaType, "unsupported_media")
		if got := c.tusOffset(path); got != -http.StatusNotFound {
			t.Errorf("HEAD after refusal = %d, want 404", got)
		}
	})
	t.Run("not media, tiny", func(t *testing.T) {
		path := c.tusCreate(5, map[string]string{"filename": "a.jpg"})
		expectError(t, c.tusPatch(path, 0, strings.NewReader("hola\n")), http.StatusUnsupportedMediaType, "unsupported_media")
	})
	assertNoFiles(t, filepath.Join(e.data, "uploads"))
	assertNoFiles(t, filepath.Join(e.data, "blobs"))

	data := photo(t, 320, 240, 22)
	path := c.tusCreate(len(data), map[string]string{"filename": "a.jpg"})
	t.Run("sign in required", func(t *testing.T) {
		anon := &client{Client: http.DefaultClient, e: e}
		expectError(t, anon.do("POST", "/api/v1/uploads/", "", nil, map[string]string{"Tus-Resumable": "1.0.0", "Upload-Length": "10"}), http.StatusUnauthorized, "unauthorized")
		expectError(t, anon.tusPatch(path, 0, bytes.NewReader(data)), http.StatusUnauthorized, "unauthorized")
		noCSRF := &client{Client: c.Client, e: e}
		expectError(t, noCSRF.tusPatch(path, 0, bytes.NewReader(data)), http.StatusForbidden, "csrf")
	})
	t.Run("viewers can't upload", func(t *testing.T) {
		v := e.loginAs("lectora", catalog.RoleViewer)
		expectError(t, v.do("POST", "/api/v1/uploads/", "", nil, map[string]string{"Tus-Resumable": "1.0.0", "Upload-Length": "10"}), http.StatusForbidden, "forbidden")
	})
	t.Run("another user's upload is not found", func(t *testing.T) {
		other := e.loginAs("fotografo", catalog.RoleContributor)
		expectError(t, other.tusPatch(path, 0, bytes.NewReader(data)), http.StatusNotFound, "not_found")
		if got := other.tusOffset(path); got != -http.StatusNotFound {
			t.Errorf("stranger's HEAD = %d, want 404", got)
		}
		expectError(t, other.tusPatch("/api/v1/uploads/..", 0, bytes.NewReader(data)), http.StatusNotFound, "not_found")
	})
	t.Run("wrong offset is a JSON conflict", func(t *testing.T) {
		expectError(t, c.tusPatch(path, 7, bytes.NewReader(data)), http.StatusConflict, "mismatched_offset")
	})
	t.Run("too large", func(t *testing.T) {
		expectError(t, c.do("POST", "/api/v1/uploads/", "", nil, map[string]string{"Tus-Resumable": "1.0.0", "Upload-Length": strconv.Itoa(60 << 30)}),
			http.StatusRequestEntityTooLarge, "max_size_exceeded")
	})
}

func TestTusAbandonedUploadsExpire(t *testing.T) {
	e := start(t)
	c := e.login()
	data := photo(t, 320, 240, 23)
	path := c.tusCreate(len(data), map[string]string{"filename": "a.jpg"})
	resp := c.tusPatch(path, 0, bytes.NewReader(data[:1000]))
	resp.Body.Close()

	cfg := e.cfg
	cfg.UploadExpiry = time.Millisecond // everything is abandoned by then
	time.Sleep(10 * time.Millisecond)
	s2, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
	assertNoFiles(t, filepath.Join(e.data, "uploads"))
	if got := c.tusOffset(path); got != -http.StatusNotFound {
		t.Errorf("HEAD of an expired upload = %d, want 404", got)
	}
}

// TestTusFinishAfterACrash: a crash after the last byte was written but
// before the asset was committed leaves a complete upload. The client's
// next PATCH at the full offset finishes it and answers Acervo-Asset-Id,
// where tusd alone would answer 204 without an asset. Uploads that can't
// resume (bytes without info, info without bytes) go at start; those that
// can stay.
func TestTusFinishAfterACrash(t *testing.T) {
	e := start(t)
	c := e.login()
	data := photo(t, 1200, 900, 24)
	path := c.tusCreate(len(data), map[string]string{"filename": "tras-el-corte.jpg"})
	resp := c.tusPatch(path, 0, bytes.NewReader(data[:1000]))
	resp.Body.Close()
	other := c.tusCreate(len(data), map[string]string{"filename": "a-medias.jpg"})
	resp = c.tusPatch(other, 0, bytes.NewReader(data[:2000]))
	resp.Body.Close()
	// The rest reached the file, then the server died: as tusd leaves it.
	uploads := filepath.Join(e.data, "uploads")
	f, err := os.OpenFile(filepath.Join(uploads, filepath.Base(path)), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(data[1000:])
	f.Close()
	os.WriteFile(filepath.Join(uploads, "0123456789abcdef0123456789abcdef"), []byte("sin info"), 0o600)
	os.WriteFile(filepath.Join(uploads, "fedcba9876543210fedcba9876543210.info"), []byte(`{"ID":"fedcba9876543210fedcba9876543210"}`), 0o600)

	s2, err := server.New(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv2 := httptest.NewServer(s2.Handler())
	t.Cleanup(func() { srv2.Close(); s2.Close() })
	c2 := c.on(srv2)
	for _, name := range []string{"0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210.info"} {
		if _, err := os.Stat(filepath.Join(uploads, name)); err == nil {
			t.Errorf("%s, which cannot resume, is still in data/uploads", name)
		}
	}
	if got := c2.tusOffset(other); got != 2000 {
		t.Errorf("the upload in progress: offset %d after the restart, want 2000", got)
	}
	if got := c2.tusOffset(path); got != len(data) {
		t.Fatalf("the complete upload: offset %d after the restart, want %d", got, len(data))
	}

	resp = c2.tusPatch(path, len(data), bytes.NewReader(nil))
	resp.Body.Close()
	id := resp.Header.Get("Acervo-Asset-Id")
	if resp.StatusCode != http.StatusNoContent || id == "" || resp.Header.Get("Upload-Offset") != strconv.Itoa(len(data)) {
		t.Fatalf("PATCH at the full offset = %d, Acervo-Asset-Id %q, Upload-Offset %q", resp.StatusCode, id, resp.Header.Get("Upload-Offset"))
	}
	orig, _ := c2.get("/api/v1/assets/" + id + "/original")
	if !bytes.Equal(orig, data) {
		t.Errorf("original is %d bytes, differs from the %d uploaded", len(orig), len(data))
	}
	if got := c2.tusOffset(path); got != -http.StatusNotFound {
		t.Errorf("HEAD after finishing = %d, want 404", got)
	}
	assertNoFiles(t, filepath.Join(e.data, "staging"))
	if a := c2.waitSettled(id); a.Status != catalog.StatusReady || a.Filename != "tras-el-corte.jpg" {
		t.Errorf("asset = %s %q %s, want ready", a.Status, a.Filename, a.Error)
	}
}
