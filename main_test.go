package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"io/fs"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/storage"
)

// The shape of the crash test: enough rounds and uploads that kills land in
// every phase of an upload (body streaming, fsync, rename, bbolt commit,
// response) and of the photo jobs running beside them.
const (
	crashRounds      = 6
	uploadsPerRound  = 56
	crashAdminPass   = "contraseña-de-prueba"
	processDeadline  = 90 * time.Second
	serverStartLimit = 20 * time.Second
)

// TestKillDuringUploads checks DESIGN.md invariants 1 and 3 against the real
// binary: a server killed with SIGKILL while dozens of uploads are in flight
// loses no acknowledged upload, leaves no garbage once restarted, and still
// finishes processing every photo.
func TestKillDuringUploads(t *testing.T) {
	if testing.Short() {
		t.Skip("kill -9 crash test: skipped in -short mode")
	}
	requireTools(t, "exiftool", "djpeg")

	bin := buildAcervo(t)
	data := filepath.Join(t.TempDir(), "data")
	logs := &lockedBuffer{}
	// Registered before any server starts, so it runs after their kills.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server output:\n%s", logs.String())
		}
	})
	hc := &http.Client{
		Timeout:   60 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: uploadsPerRound, DisableCompression: true},
	}

	srv := startServer(t, bin, data, logs)
	token := createToken(t, hc, srv.base)

	w := witnesses{}
	var retry []upload // uploads cut by the previous kill, sent again like a client would
	totalCut, serial := 0, 0
	for round := 1; round <= crashRounds; round++ {
		fresh := max(uploadsPerRound-len(retry), 0)
		ups := append(retry, makeUploads(round, serial, fresh)...)
		serial += fresh

		killAfter := time.Duration(200+rand.IntN(1401)) * time.Millisecond
		outcomes := uploadAndKill(&api{base: srv.base, token: token, hc: hc}, srv, ups, killAfter)
		hc.CloseIdleConnections()
		var acked, dups int
		acked, dups, retry = w.record(t, round, outcomes)
		totalCut += len(retry)
		t.Logf("round %d: %d uploads, SIGKILL after %v: %d acknowledged (%d duplicates), %d cut; %d witnessed so far",
			round, len(ups), killAfter, acked, dups, len(retry), len(w))

		srv = startServer(t, bin, data, logs)
		checkWitnessed(t, &api{base: srv.base, token: token, hc: hc}, w)
		if t.Failed() {
			t.FailNow()
		}
	}
	// Without both, the rounds proved nothing: the kill hit no upload in
	// flight, or nothing was ever acknowledged.
	if totalCut == 0 || len(w) == 0 {
		t.Fatalf("the kills hit %d uploads in flight and %d were witnessed: both must be > 0", totalCut, len(w))
	}

	a := &api{base: srv.base, token: token, hc: hc}
	waitProcessed(t, a, w, srv)
	checkRenditions(t, a, w)
	srv.stop(t)
	checkDataFolder(t, data, w)
}

// requireTools skips the test when a program the server needs is missing,
// except in CI, where a missing tool must fail rather than pass by skipping.
func requireTools(t *testing.T, names ...string) {
	t.Helper()
	for _, name := range names {
		if _, err := exec.LookPath(name); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s not found in PATH (run scripts/deps): %v", name, err)
			}
			t.Skipf("%s not found in PATH (run scripts/deps)", name)
		}
	}
}

// buildAcervo builds the real binary, the one users run, from the repo root.
func buildAcervo(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "acervo")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// serverProc is one run of `acervo serve` on the test's data folder.
type serverProc struct {
	base string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // from Wait, valid once done is closed
}

// startServer starts `acervo serve` on a free port and waits until it
// answers /healthz. The process is killed at cleanup whatever happens.
func startServer(t *testing.T, bin, data string, logs *lockedBuffer) *serverProc {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(bin, "serve", "--addr", addr, "--data", data)
	cmd.Env = append(os.Environ(), "ACERVO_ADMIN_PASSWORD="+crashAdminPass, "ACERVO_WORKERS=2")
	fmt.Fprintf(logs, "=== acervo serve --addr %s\n", addr)
	cmd.Stdout, cmd.Stderr = logs, logs
	// If the test binary itself dies, take the server with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("start acervo: %v", err)
	}
	s := &serverProc{base: "http://" + addr, cmd: cmd, done: make(chan struct{})}
	go func() { s.err = cmd.Wait(); close(s.done) }()
	t.Cleanup(s.kill)

	deadline := time.Now().Add(serverStartLimit)
	for {
		select {
		case <-s.done:
			t.Fatalf("acervo serve exited before answering: %v", s.err)
		default:
		}
		resp, err := http.Get(s.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("acervo serve did not answer /healthz within %v (last: %v)", serverStartLimit, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// state says whether the process still runs, for failures that look like
// a dead server.
func (s *serverProc) state() string {
	select {
	case <-s.done:
		return fmt.Sprintf("exited: %v (%v)", s.err, s.cmd.ProcessState)
	default:
		return "running"
	}
}

// kill sends SIGKILL and waits for the process to be gone. Safe to repeat.
func (s *serverProc) kill() {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Kill()
	<-s.done
}

// stop asks for a graceful shutdown, as systemd or Ctrl-C would, and
// expects a clean exit.
func (s *serverProc) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-s.done:
		if s.err != nil {
			t.Fatalf("acervo serve after SIGTERM: %v", s.err)
		}
	case <-time.After(45 * time.Second):
		t.Fatal("acervo serve did not exit within 45s of SIGTERM")
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// createToken logs in as admin with the session cookie and CSRF token and
// makes a bearer token, used from then on: it lives in the catalog, so it
// keeps working across kills and restarts.
func createToken(t *testing.T, hc *http.Client, base string) string {
	t.Helper()
	resp, err := hc.Post(base+"/api/v1/login", "application/json",
		strings.NewReader(`{"username":"admin","password":"`+crashAdminPass+`"}`))
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	var login struct {
		CSRF string `json:"csrf_token"`
	}
	decodeResponse(t, resp, http.StatusOK, &login)

	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/tokens", strings.NewReader(`{"name":"crash"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", login.CSRF)
	for _, ck := range resp.Cookies() {
		req.AddCookie(ck)
	}
	resp, err = hc.Do(req)
	if err != nil {
		t.Fatalf("create token: %v", err)
	}
	var tok struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	decodeResponse(t, resp, http.StatusCreated, &tok)
	if tok.Token == "" || tok.ID == "" {
		t.Fatalf("create token: got id %q, token %q", tok.ID, tok.Token)
	}
	return tok.Token
}

func decodeResponse(t *testing.T, resp *http.Response, want int, v any) {
	t.Helper()
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, want, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("%s %s: %v: %s", resp.Request.Method, resp.Request.URL.Path, err, body)
	}
}

// api calls one running server with the bearer token.
type api struct {
	base, token string
	hc          *http.Client
}

func (a *api) get(path string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, a.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	return a.hc.Do(req)
}

// getJSON fetches path and decodes a 200 answer into v.
func (a *api) getJSON(path string, v any) error {
	resp, err := a.get(path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d: %s", path, resp.StatusCode, body)
	}
	return json.Unmarshal(body, v)
}

// assetJSON is the part of the API's asset this test relies on.
type assetJSON struct {
	ID         string `json:"id"`
	Status     string `json:"status"`
	Error      string `json:"error"`
	Filename   string `json:"filename"`
	SHA256     string `json:"sha256"`
	Duplicate  bool   `json:"duplicate"`
	Renditions map[string]struct {
		URL string `json:"url"`
	} `json:"renditions"`
}

// upload is one photo as a photographer's browser would send it.
type upload struct {
	name  string
	event string
	jpeg  []byte
	sha   string
}

// makeUploads draws n distinct photos. Most are small; about one in six is a
// noisy 1600×1200 of a few MB, so big bodies are still streaming at the kill.
func makeUploads(round, firstSerial, n int) []upload {
	ups := make([]upload, n)
	var wg sync.WaitGroup
	for i := range ups {
		wg.Go(func() {
			serial := firstSerial + i
			var img []byte
			if rand.IntN(6) == 0 {
				img = drawJPEG(uint64(serial), 1600, 1200, 255, 97)
			} else {
				w := 640 + rand.IntN(641)
				img = drawJPEG(uint64(serial), w, w*3/4, 24, 85)
			}
			sum := sha256.Sum256(img)
			ups[i] = upload{
				name:  fmt.Sprintf("foto-ñ-%d.jpg", serial),
				event: fmt.Sprintf("Inauguración del parque, ronda %d", round),
				jpeg:  img,
				sha:   hex.EncodeToString(sum[:]),
			}
		})
	}
	wg.Wait()
	return ups
}

// drawJPEG draws a gradient on a colour and noise taken from seed, so every
// serial gives different bytes, and encodes it as a baseline JPEG.
func drawJPEG(seed uint64, w, h, noise, quality int) []byte {
	rng := rand.New(rand.NewPCG(seed, 0xacef0))
	base := [3]int{rng.IntN(256), rng.IntN(256), rng.IntN(256)}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			r := rng.Uint64()
			c := [3]uint8{}
			for k := range c {
				n := int(r>>(16*k)&0xffff)%(2*noise+1) - noise
				c[k] = uint8(min(max(base[k]+(x+y)*128/(w+h)+n, 0), 255))
			}
			img.SetRGBA(x, y, color.RGBA{c[0], c[1], c[2], 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		panic(err) // encoding to memory cannot fail
	}
	return buf.Bytes()
}

// outcome is what the client saw of one upload.
type outcome struct {
	upload
	status int
	asset  assetJSON
	body   string
	err    error // transport error: the kill cut the connection
}

// uploadAndKill sends every upload at once and SIGKILLs the server after
// killAfter. Bodies are paced to between 0 and 1.5 s each, like uplinks of
// different speeds, so the kill finds uploads in every phase.
func uploadAndKill(a *api, srv *serverProc, ups []upload, killAfter time.Duration) []outcome {
	out := make([]outcome, len(ups))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, u := range ups {
		pace := time.Duration(rand.IntN(1500)) * time.Millisecond
		wg.Go(func() {
			<-start
			out[i] = postUpload(a, u, pace)
		})
	}
	close(start)
	time.Sleep(killAfter)
	srv.kill()
	wg.Wait()
	return out
}

// postUpload sends one multipart upload whose body takes about pace to send.
func postUpload(a *api, u upload, pace time.Duration) outcome {
	o := outcome{upload: u}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("event", u.event)
	fw, _ := mw.CreateFormFile("file", u.name)
	fw.Write(u.jpeg)
	mw.Close()

	req, err := http.NewRequest(http.MethodPost, a.base+"/api/v1/assets", newPacedReader(body.Bytes(), pace))
	if err != nil {
		o.err = err
		return o
	}
	req.ContentLength = int64(body.Len())
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := a.hc.Do(req)
	if err != nil {
		o.err = err
		return o
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		// Headers came but the body was cut: the client cannot know the
		// asset, so the upload is not witnessed.
		o.err = err
		return o
	}
	o.status, o.body = resp.StatusCode, string(raw)
	if o.status == http.StatusCreated || o.status == http.StatusOK {
		json.Unmarshal(raw, &o.asset) // a bad body shows as a missing id in record
	}
	return o
}

// pacedReader hands out its bytes in chunks spread evenly over a duration.
type pacedReader struct {
	data  []byte
	pause time.Duration
}

const paceChunk = 64 << 10

func newPacedReader(data []byte, total time.Duration) *pacedReader {
	chunks := len(data)/paceChunk + 1
	return &pacedReader{data: data, pause: total / time.Duration(chunks)}
}

func (r *pacedReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	time.Sleep(r.pause)
	n := copy(p[:min(len(p), paceChunk)], r.data)
	r.data = r.data[n:]
	return n, nil
}

// witness is an upload the server acknowledged: from then on its bytes and
// record must survive anything.
type witness struct {
	id, filename string
}

// witnesses maps the SHA-256 of acknowledged bytes to what the server said.
type witnesses map[string]witness

// record sorts a round's outcomes: acknowledged uploads become witnesses,
// cut ones are returned to be sent again.
func (w witnesses) record(t *testing.T, round int, outcomes []outcome) (acked, dups int, cut []upload) {
	t.Helper()
	for _, o := range outcomes {
		switch {
		case o.err != nil:
			cut = append(cut, o.upload)
		case o.asset.ID == "" && (o.status == http.StatusCreated || o.status == http.StatusOK):
			t.Errorf("round %d: upload %s: status %d without an asset: %s", round, o.name, o.status, o.body)
		case o.status == http.StatusCreated || o.status == http.StatusOK:
			acked++
			if o.asset.Duplicate {
				dups++ // a retry of bytes committed just before a kill
			}
			w.add(t, o)
		default:
			// The server answers only while alive, and alive it must not
			// refuse a valid photo.
			t.Errorf("round %d: upload %s: status %d: %s", round, o.name, o.status, o.body)
		}
	}
	return acked, dups, cut
}

// add records an acknowledged upload and checks the acknowledgement itself:
// the right bytes, and one asset per content however often it is sent.
func (w witnesses) add(t *testing.T, o outcome) {
	t.Helper()
	if o.asset.SHA256 != o.sha {
		t.Errorf("upload %s: acknowledged sha256 %s, sent %s", o.name, o.asset.SHA256, o.sha)
	}
	if dup := o.status == http.StatusOK; dup != o.asset.Duplicate {
		t.Errorf("upload %s: status %d with duplicate %v", o.name, o.status, o.asset.Duplicate)
	}
	if prev, ok := w[o.sha]; ok {
		if prev.id != o.asset.ID {
			t.Errorf("upload %s: same bytes acknowledged as asset %s and %s", o.name, prev.id, o.asset.ID)
		}
		return
	}
	w[o.sha] = witness{id: o.asset.ID, filename: o.name}
}

// sorted lists the witnesses in a stable order, for readable failures.
func (w witnesses) sorted() []string {
	shas := make([]string, 0, len(w))
	for sha := range w {
		shas = append(shas, sha)
	}
	slices.Sort(shas)
	return shas
}

// checkWitnessed checks invariant 1 through the API after a restart: every
// acknowledged asset is there, with its metadata and its exact bytes.
func checkWitnessed(t *testing.T, a *api, w witnesses) {
	t.Helper()
	for _, sha := range w.sorted() {
		wit := w[sha]
		var got assetJSON
		if err := a.getJSON("/api/v1/assets/"+wit.id, &got); err != nil {
			t.Errorf("acknowledged %s (%s) lost: %v", wit.id, wit.filename, err)
			continue
		}
		if got.SHA256 != sha || got.Filename != wit.filename {
			t.Errorf("asset %s: sha256 %s, filename %q; acknowledged %s, %q", wit.id, got.SHA256, got.Filename, sha, wit.filename)
		}
		if err := checkOriginal(a, wit.id, sha); err != nil {
			t.Errorf("asset %s (%s): %v", wit.id, wit.filename, err)
		}
	}
}

func checkOriginal(a *api, id, sha string) error {
	resp, err := a.get("/api/v1/assets/" + id + "/original")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("original: status %d", resp.StatusCode)
	}
	h := sha256.New()
	if _, err := io.Copy(h, resp.Body); err != nil {
		return fmt.Errorf("original: %w", err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sha {
		return fmt.Errorf("original has sha256 %s, want %s", got, sha)
	}
	return nil
}

// waitProcessed waits until the job queue is empty and every witnessed
// asset has settled, then requires them all ready (invariant 3: killed jobs
// are retried, not lost or failed).
func waitProcessed(t *testing.T, a *api, w witnesses, srv *serverProc) {
	t.Helper()
	deadline := time.Now().Add(processDeadline)
	for {
		pending, err := queueDepth(a)
		if err != nil {
			t.Fatalf("%v; server %s", err, srv.state())
		}
		var processing, failed []string
		for _, sha := range w.sorted() {
			var got assetJSON
			if err := a.getJSON("/api/v1/assets/"+w[sha].id, &got); err != nil {
				t.Fatalf("%v; server %s", err, srv.state())
			}
			switch got.Status {
			case catalog.StatusProcessing:
				processing = append(processing, got.ID)
			case catalog.StatusFailed:
				failed = append(failed, fmt.Sprintf("%s (%s): %s", got.ID, got.Filename, got.Error))
			}
		}
		if pending == 0 && len(processing) == 0 {
			if len(failed) > 0 {
				t.Fatalf("%d of %d assets failed processing:\n%s", len(failed), len(w), strings.Join(failed, "\n"))
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %d jobs pending, %d assets processing %v, %d failed:\n%s",
				processDeadline, pending, len(processing), processing, len(failed), strings.Join(failed, "\n"))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// queueDepth counts queued and running jobs through the admin jobs API.
func queueDepth(a *api) (int, error) {
	n := 0
	for _, state := range []string{catalog.JobQueued, catalog.JobRunning} {
		var jobs struct {
			Jobs []json.RawMessage `json:"jobs"`
		}
		if err := a.getJSON("/api/v1/jobs?state="+state, &jobs); err != nil {
			return 0, err
		}
		n += len(jobs.Jobs)
	}
	return n, nil
}

// checkRenditions fetches each witnessed photo's thumbnail and preview.
func checkRenditions(t *testing.T, a *api, w witnesses) {
	t.Helper()
	for _, sha := range w.sorted() {
		var got assetJSON
		if err := a.getJSON("/api/v1/assets/"+w[sha].id, &got); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"thumb.jpg", "preview.jpg"} {
			r, ok := got.Renditions[name]
			if !ok {
				t.Errorf("asset %s: no %s among renditions %v", got.ID, name, got.Renditions)
				continue
			}
			if err := checkJPEG(a, r.URL); err != nil {
				t.Errorf("asset %s: %s: %v", got.ID, name, err)
			}
		}
	}
}

func checkJPEG(a *api, url string) error {
	resp, err := a.get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "image/jpeg" {
		return fmt.Errorf("Content-Type %q, want image/jpeg", ct)
	}
	if _, err := jpeg.DecodeConfig(resp.Body); err != nil {
		return fmt.Errorf("not a JPEG: %w", err)
	}
	return nil
}

// checkDataFolder inspects the stopped server's data folder: a consistent
// catalog holding every witnessed asset, each with its intact blob, and
// nothing else left behind by the kills.
func checkDataFolder(t *testing.T, data string, w witnesses) {
	t.Helper()
	checkStagingEmpty(t, filepath.Join(data, "staging"))

	cat, err := catalog.Open(catalog.Config{Path: filepath.Join(data, "catalog.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	if err := cat.Check(); err != nil {
		t.Errorf("bbolt check: %v", err)
	}
	bySHA := map[string]catalog.Asset{}
	byID := map[string]bool{}
	err = cat.EachAsset(func(a catalog.Asset) error {
		if prev, ok := bySHA[a.SHA256]; ok {
			t.Errorf("assets %s and %s hold the same bytes %s", prev.ID, a.ID, a.SHA256)
		}
		bySHA[a.SHA256], byID[a.ID] = a, true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("catalog: %d assets, %d of them witnessed", len(bySHA), len(w))

	for _, sha := range w.sorted() {
		if a, ok := bySHA[sha]; !ok || a.ID != w[sha].id {
			t.Errorf("witnessed asset %s (%s) not in the catalog under sha256 %s", w[sha].id, w[sha].filename, sha)
		}
	}
	// Assets that committed but whose answer the kill swallowed are fine,
	// as long as they are whole and processed like the others.
	for _, a := range bySHA {
		if err := checkBlob(data, a); err != nil {
			t.Errorf("asset %s (%s): %v", a.ID, a.Filename, err)
		}
		if a.Status != catalog.StatusReady {
			t.Errorf("asset %s (%s): status %s %s, want ready", a.ID, a.Filename, a.Status, a.Error)
		}
	}
	checkNoOrphans(t, data, bySHA, byID)
}

// checkStagingEmpty fails on any file left in staging; empty folders are
// harmless but logged.
func checkStagingEmpty(t *testing.T, staging string) {
	t.Helper()
	err := filepath.WalkDir(staging, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			t.Errorf("left in staging: %s", p)
		} else if p != staging {
			t.Logf("empty folder left in staging: %s", p)
		}
		return nil
	})
	if err != nil {
		t.Errorf("walk staging: %v", err)
	}
}

// checkBlob re-hashes an asset's original where the store keeps it.
func checkBlob(data string, a catalog.Asset) error {
	key, err := storage.BlobKey(a.SHA256)
	if err != nil {
		return err
	}
	f, err := os.Open(filepath.Join(data, filepath.FromSlash(key)))
	if err != nil {
		return fmt.Errorf("blob: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return fmt.Errorf("blob: %w", err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != a.SHA256 || n != a.Size {
		return fmt.Errorf("blob has sha256 %s and %d bytes, want %s and %d", got, n, a.SHA256, a.Size)
	}
	return nil
}

// checkNoOrphans fails on blobs no asset holds and on renditions of assets
// that do not exist: a crash must not leak disk space forever.
func checkNoOrphans(t *testing.T, data string, bySHA map[string]catalog.Asset, byID map[string]bool) {
	t.Helper()
	blobs := filepath.Join(data, "blobs", "sha256")
	err := filepath.WalkDir(blobs, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name := d.Name()
		key, kerr := storage.BlobKey(name)
		if _, ok := bySHA[name]; !ok || kerr != nil || filepath.Join(data, filepath.FromSlash(key)) != p {
			t.Errorf("orphan blob: %s", p)
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("walk blobs: %v", err)
	}
	derived, err := os.ReadDir(filepath.Join(data, "derived"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("read derived: %v", err)
	}
	for _, d := range derived {
		if !byID[d.Name()] {
			t.Errorf("renditions of no asset: derived/%s", d.Name())
		}
	}
}

// lockedBuffer collects the output of every server run; exec copies stdout
// and stderr from separate goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
