package server_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/catalog/catalogtest"
	"github.com/comsoc/acervo/catalog/similar"
	"github.com/comsoc/acervo/server"
	"github.com/comsoc/acervo/storage/disk"
	"github.com/comsoc/acervo/transcode"
)

func TestMain(m *testing.M) {
	// The photo pipeline re-executes the test binary as its decoding child.
	if transcode.RunChild() {
		return
	}
	os.Exit(m.Run())
}

const adminPassword = "contraseña-de-prueba"

// env is a running Acervo: real catalog, disk store, worker pool and HTTP
// server on loopback.
type env struct {
	t    *testing.T
	srv  *httptest.Server
	data string
	cat  *catalog.Catalog
	idx  *catalog.Index
	api  *server.Server
	cfg  server.Config // to build a second server on the same data (restarts)
}

func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is required (scripts/test installs it): %v", tool, err)
			}
			t.Skipf("%s not installed; scripts/test installs it", tool)
		}
	}
}

func start(t *testing.T) *env {
	t.Helper()
	requireTools(t, "exiftool", "djpeg")
	data := t.TempDir()
	store, err := disk.New(disk.Config{Root: data})
	if err != nil {
		t.Fatal(err)
	}
	cat := catalogtest.Open(t, nil)
	// A gate of one place, as `acervo serve` has on two cores: uploads
	// must never wait on it for ever (a tus PATCH once held it into the
	// finish hook, which needs it too).
	ing := &catalog.Ingester{Catalog: cat, Store: store, Sniff: transcode.Sniff, JobsFor: transcode.JobsFor, Bulk: catalog.NewBulkGate(1)}
	t.Cleanup(ing.Bulk.Close) // after the server's cleanup below: cleanups run last first
	exif, err := transcode.NewExifTool(transcode.ExifToolConfig{})
	if err != nil {
		t.Fatal(err)
	}
	pool, err := transcode.NewPool(transcode.PoolConfig{ScratchDir: filepath.Join(data, "staging", "jobs"), Poll: 50 * time.Millisecond}, cat, store, exif)
	if err != nil {
		t.Fatal(err)
	}
	pool.Start()
	if _, err := cat.CreateUser(catalog.NewUser{Username: "admin", Password: adminPassword, Role: catalog.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	idx, err := catalog.OpenIndex(catalog.IndexConfig{Path: filepath.Join(data, "index"), Catalog: cat, Poll: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	key, err := server.LoadOrCreateKey(filepath.Join(data, "keys", "ed25519.pem"))
	if err != nil {
		t.Fatal(err)
	}
	sim, err := similar.Open(similar.Config{Catalog: cat})
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.Config{Catalog: cat, Store: store, Ingester: ing, Jobs: pool, Clips: transcode.Clipper{}, Search: idx,
		SigningKey: key, Similar: sim, UploadsDir: filepath.Join(data, "uploads")}
	s, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { srv.Close(); s.Close(); pool.Stop(); exif.Close() })
	return &env{t: t, srv: srv, data: data, cat: cat, idx: idx, api: s, cfg: cfg}
}

// client is a logged-in browser: cookie jar plus CSRF token.
type client struct {
	*http.Client
	e     *env
	csrf  string
	token string // bearer, instead of the cookie, when set
}

func (e *env) login() *client {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &client{Client: &http.Client{Jar: jar}, e: e}
	resp := c.do("POST", "/api/v1/login", "application/json", strings.NewReader(`{"username":"admin","password":"`+adminPassword+`"}`), nil)
	var out struct {
		User      map[string]any `json:"user"`
		CSRFToken string         `json:"csrf_token"`
	}
	decode(e.t, resp, http.StatusOK, &out)
	if out.CSRFToken == "" || out.User["username"] != "admin" {
		e.t.Fatalf("login answer = %+v", out)
	}
	c.csrf = out.CSRFToken
	return c
}

func (c *client) do(method, path, contentType string, body io.Reader, hdr map[string]string) *http.Response {
	c.e.t.Helper()
	req, err := http.NewRequest(method, c.e.srv.URL+path, body)
	if err != nil {
		c.e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	} else if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	return resp
}

func decode(t *testing.T, resp *http.Response, status int, v any) {
	t.Helper()
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("%s %s = %d %s, want %d", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, body, status)
	}
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("decode %s: %v", body, err)
		}
	}
}

func expectError(t *testing.T, resp *http.Response, status int, code string) {
	t.Helper()
	var out struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	decode(t, resp, status, &out)
	if out.Error.Code != code || out.Error.Message == "" {
		t.Errorf("error = %+v, want code %q with a message", out.Error, code)
	}
}

type assetJSON struct {
	ID         string `json:"id"`
	Status     string `json:"status"`
	Error      string `json:"error"`
	Filename   string `json:"filename"`
	SHA256     string `json:"sha256"`
	Size       int64  `json:"size"`
	Width      int    `json:"width"`
	Height     int    `json:"height"`
	Duplicate  bool   `json:"duplicate"`
	Renditions map[string]struct {
		URL           string
		Width, Height int
	} `json:"renditions"`
}

func (c *client) upload(filename string, data []byte, fields map[string]string) *http.Response {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", filename)
	fw.Write(data)
	mw.Close()
	return c.do("POST", "/api/v1/assets", mw.FormDataContentType(), &body, nil)
}

func (c *client) waitSettled(id string) assetJSON {
	c.e.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var a assetJSON
		decode(c.e.t, c.do("GET", "/api/v1/assets/"+id, "", nil, nil), http.StatusOK, &a)
		if a.Status != catalog.StatusProcessing || time.Now().After(deadline) {
			return a
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// photo draws a JPEG whose content depends on seed, so each is distinct.
func photo(t *testing.T, w, h int, seed byte) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x*255/w) ^ seed, uint8(y * 255 / h), seed, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestAuthRequired(t *testing.T) {
	e := start(t)
	anon := &client{Client: http.DefaultClient, e: e}
	for _, path := range []string{"/api/v1/me", "/api/v1/assets/0000000000", "/api/v1/tokens"} {
		expectError(t, anon.do("GET", path, "", nil, nil), http.StatusUnauthorized, "unauthorized")
	}
	expectError(t, anon.upload("a.jpg", photo(t, 64, 64, 1), nil), http.StatusUnauthorized, "unauthorized")
	expectError(t, anon.do("GET", "/api/v1/me", "", nil, map[string]string{"Authorization": "Bearer acv_forged"}), http.StatusUnauthorized, "unauthorized")
	decode(t, anon.do("GET", "/healthz", "", nil, nil), http.StatusOK, nil)
	decode(t, anon.do("GET", "/metrics", "", nil, nil), http.StatusOK, nil)

	expectError(t, anon.do("POST", "/api/v1/login", "application/json", strings.NewReader(`{"username":"admin","password":"wrong-password"}`), nil),
		http.StatusUnauthorized, "bad_credentials")
	// A cross-site form can post urlencoded bodies but not JSON: refused.
	expectError(t, anon.do("POST", "/api/v1/login", "application/x-www-form-urlencoded", strings.NewReader("username=admin&password="+adminPassword), nil),
		http.StatusUnsupportedMediaType, "json_required")
	expectError(t, anon.do("POST", "/api/v1/login", "application/json", strings.NewReader(`{"username":"admin","password":"`+adminPassword+`"}`),
		map[string]string{"Origin": "https://evil.example"}), http.StatusForbidden, "csrf")
}

func TestCSRFAndTokens(t *testing.T) {
	e := start(t)
	c := e.login()
	decode(t, c.do("GET", "/api/v1/me", "", nil, nil), http.StatusOK, nil)

	noCSRF := &client{Client: c.Client, e: e}
	expectError(t, noCSRF.do("POST", "/api/v1/tokens", "application/json", strings.NewReader(`{"name":"x"}`), nil), http.StatusForbidden, "csrf")
	expectError(t, noCSRF.upload("a.jpg", photo(t, 64, 64, 2), nil), http.StatusForbidden, "csrf")

	var tok struct{ ID, Token string }
	decode(t, c.do("POST", "/api/v1/tokens", "application/json", strings.NewReader(`{"name":"script de respaldo"}`), nil), http.StatusCreated, &tok)
	if !strings.HasPrefix(tok.Token, "acv_") {
		t.Fatalf("token = %q", tok.Token)
	}
	// A bearer token needs no CSRF header and no cookie.
	script := &client{Client: http.DefaultClient, e: e, token: tok.Token}
	var a assetJSON
	decode(t, script.upload("script.jpg", photo(t, 64, 64, 3), nil), http.StatusCreated, &a)

	var list struct{ Tokens []map[string]any }
	decode(t, c.do("GET", "/api/v1/tokens", "", nil, nil), http.StatusOK, &list)
	if len(list.Tokens) != 1 || list.Tokens[0]["token"] != nil {
		t.Errorf("token list = %+v, want one entry without its secret", list.Tokens)
	}
	decode(t, c.do("DELETE", "/api/v1/tokens/"+tok.ID, "", nil, nil), http.StatusNoContent, nil)
	expectError(t, script.do("GET", "/api/v1/me", "", nil, nil), http.StatusUnauthorized, "unauthorized")

	decode(t, c.do("POST", "/api/v1/logout", "", nil, nil), http.StatusNoContent, nil)
	expectError(t, noCSRF.do("GET", "/api/v1/me", "", nil, nil), http.StatusUnauthorized, "unauthorized")
}

func TestUploadDuplicateOriginalAndRenditions(t *testing.T) {
	e := start(t)
	c := e.login()
	data := photo(t, 3000, 2000, 7)
	var a assetJSON
	decode(t, c.upload("Inauguración.jpg", data, map[string]string{"event": "Inauguración del parque", "tags": "parque, obra"}), http.StatusCreated, &a)
	sum := sha256.Sum256(data)
	if a.SHA256 != hex.EncodeToString(sum[:]) || a.Size != int64(len(data)) || a.Filename != "Inauguración.jpg" {
		t.Errorf("asset = %+v", a)
	}

	var dup assetJSON
	decode(t, c.upload("copia.jpg", data, nil), http.StatusOK, &dup)
	if !dup.Duplicate || dup.ID != a.ID {
		t.Errorf("duplicate = %+v, want duplicate of %s", dup, a.ID)
	}

	a = c.waitSettled(a.ID)
	if a.Status != catalog.StatusReady {
		t.Fatalf("status = %s (%s), want ready", a.Status, a.Error)
	}
	if a.Width != 3000 || a.Height != 2000 {
		t.Errorf("dimensions = %d×%d", a.Width, a.Height)
	}
	for name, long := range map[string]int{"thumb.jpg": 400, "preview.jpg": 2048} {
		r := a.Renditions[name]
		if max(r.Width, r.Height) != long {
			t.Errorf("%s = %d×%d, want long edge %d", name, r.Width, r.Height, long)
		}
	}

	t.Run("original", func(t *testing.T) {
		resp := c.do("GET", "/api/v1/assets/"+a.ID+"/original", "", nil, nil)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Equal(body, data) {
			t.Fatalf("original differs: %d bytes, want %d", len(body), len(data))
		}
		cd := resp.Header.Get("Content-Disposition")
		if !strings.HasPrefix(cd, "attachment") || !strings.Contains(cd, "filename*=UTF-8''Inauguraci%C3%B3n.jpg") {
			t.Errorf("Content-Disposition = %q", cd)
		}
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("X-Content-Type-Options = %q", got)
		}
		if got := resp.Header.Get("Content-Type"); got != "image/jpeg" {
			t.Errorf("Content-Type = %q", got)
		}
		resp = c.do("GET", "/api/v1/assets/"+a.ID+"/original", "", nil, map[string]string{"Range": "bytes=100-199"})
		part, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(part, data[100:200]) {
			t.Errorf("range = %d, %d bytes", resp.StatusCode, len(part))
		}
	})

	t.Run("rendition caching", func(t *testing.T) {
		url := a.Renditions["thumb.jpg"].URL
		resp := c.do("GET", url, "", nil, nil)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		etag := resp.Header.Get("ETag")
		if resp.StatusCode != 200 || !strings.HasPrefix(etag, `"`) || resp.Header.Get("Content-Type") != "image/jpeg" {
			t.Fatalf("thumb = %d etag %q type %q", resp.StatusCode, etag, resp.Header.Get("Content-Type"))
		}
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") {
			t.Errorf("Cache-Control = %q", cc)
		}
		resp = c.do("GET", url, "", nil, map[string]string{"If-None-Match": etag})
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotModified {
			t.Errorf("If-None-Match = %d, want 304", resp.StatusCode)
		}
		resp = c.do("GET", url, "", nil, map[string]string{"Range": "bytes=0-9"})
		resp.Body.Close()
		if resp.StatusCode != http.StatusPartialContent {
			t.Errorf("rendition range = %d, want 206", resp.StatusCode)
		}
		expectError(t, c.do("GET", "/api/v1/assets/"+a.ID+"/renditions/..%2F..%2Fcatalog.db", "", nil, nil), http.StatusNotFound, "not_found")
	})
}

func TestRefusesDisguisedHTMLLeavingNothing(t *testing.T) {
	e := start(t)
	c := e.login()
	html := []byte("<!DOCTYPE html><html><script>alert(1)</script></html>")
	expectError(t, c.upload("foto.jpg", html, nil), http.StatusUnsupportedMediaType, "unsupported_media")
	expectError(t, c.upload("vacío.jpg", nil, nil), http.StatusUnsupportedMediaType, "unsupported_media")
	expectError(t, c.do("POST", "/api/v1/assets", "multipart/form-data; boundary=x", strings.NewReader("--x\r\n"), nil), http.StatusBadRequest, "missing_file")
	// A body cut in the middle of the file: the staged half must go.
	cut := "--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\n\r\n" + string(photo(t, 400, 300, 4))
	expectError(t, c.do("POST", "/api/v1/assets", "multipart/form-data; boundary=x", strings.NewReader(cut), nil), http.StatusBadRequest, "upload_interrupted")
	expectError(t, c.do("POST", "/api/v1/assets", "application/json", strings.NewReader("{}"), nil), http.StatusBadRequest, "multipart_required")
	assertNoFiles(t, filepath.Join(e.data, "staging"))
	assertNoFiles(t, filepath.Join(e.data, "blobs"))
}

func assertNoFiles(t *testing.T, dir string) {
	t.Helper()
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			t.Errorf("left behind: %s", p)
		}
		return nil
	})
}

// bombPNG is a valid, tiny PNG whose header declares w×h pixels.
func bombPNG(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		b.WriteString(typ)
		b.Write(data)
		binary.Write(&b, binary.BigEndian, crc.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	chunk("IEND", nil)
	return b.Bytes()
}

func TestHostileFilesFailTheirOwnJob(t *testing.T) {
	e := start(t)
	c := e.login()
	good := photo(t, 800, 600, 9)
	cases := []struct {
		name, filename string
		data           []byte
		reason         string
	}{
		{"decompression bomb", "bomba.png", bombPNG(30000, 30000), "250"},
		{"truncated jpeg", "cortada.jpg", good[:len(good)/2], ""},
	}
	ids := map[string]string{}
	for _, tc := range cases {
		var a assetJSON
		decode(t, c.upload(tc.filename, tc.data, nil), http.StatusCreated, &a)
		ids[tc.name] = a.ID
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := c.waitSettled(ids[tc.name])
			if a.Status != catalog.StatusFailed || a.Error == "" || !strings.Contains(a.Error, tc.reason) {
				t.Errorf("status %s error %q, want failed with a reason mentioning %q", a.Status, a.Error, tc.reason)
			}
			decode(t, c.do("GET", "/healthz", "", nil, nil), http.StatusOK, nil)
		})
	}
	// The server still does its job after the hostile files.
	var a assetJSON
	decode(t, c.upload("buena.jpg", good, nil), http.StatusCreated, &a)
	if a = c.waitSettled(a.ID); a.Status != catalog.StatusReady {
		t.Errorf("good photo after hostile ones: %s %s", a.Status, a.Error)
	}
	var jobs struct{ Jobs []catalog.Job }
	decode(t, c.do("GET", "/api/v1/jobs?state=failed", "", nil, nil), http.StatusOK, &jobs)
	if len(jobs.Jobs) != 2 {
		t.Errorf("failed jobs = %d, want 2", len(jobs.Jobs))
	}
	for _, j := range jobs.Jobs {
		if j.Attempts != 1 {
			t.Errorf("job %s took %d attempts; a bad file is a permanent failure", j.ID, j.Attempts)
		}
	}
	_ = fmt.Sprint
}
