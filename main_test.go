package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
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
// (half multipart, half tus) loses no acknowledged upload, leaves no garbage
// once restarted, and still finishes processing every photo.
func TestKillDuringUploads(t *testing.T) {
	if testing.Short() {
		t.Skip("kill -9 crash test: skipped in -short mode")
	}
	requireTools(t, "exiftool", "djpeg")
	runKillRounds(t, crashRounds, uploadsPerRound)
}

// runKillRounds is the crash test with its size as parameters (scripts/soak
// runs it longer); it returns how many uploads were witnessed and cut.
func runKillRounds(t *testing.T, rounds, perRound int) (witnessed, cut int) {
	t.Helper()
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
		Transport: &http.Transport{MaxIdleConnsPerHost: perRound, DisableCompression: true},
	}

	srv := startServer(t, bin, data, logs)
	token := createToken(t, hc, srv.base)

	w := witnesses{}
	var retry []upload // uploads cut by the previous kill, sent again like a client would
	totalCut, serial := 0, 0
	for round := 1; round <= rounds; round++ {
		fresh := max(perRound-len(retry), 0)
		ups := append(retry, makeUploads(round, serial, fresh)...)
		serial += fresh

		killAfter := time.Duration(200+rand.IntN(1401)) * time.Millisecond
		outcomes := uploadAndKill(&api{base: srv.base, token: token, hc: hc}, srv, ups, killAfter)
		hc.CloseIdleConnections()
		var acked, dups int
		acked, dups, retry = w.record(t, round, outcomes)
		totalCut += len(retry)
		var overTus, resumed int
		for _, o := range outcomes {
			if o.tus && o.err == nil {
				overTus++
				if o.resumedAt > 0 {
					resumed++
				}
			}
		}
		t.Logf("round %d: %d uploads, SIGKILL after %v: %d acknowledged (%d duplicates, %d over tus, %d of them resumed from an offset), %d cut; %d witnessed so far",
			round, len(ups), killAfter, acked, dups, overTus, resumed, len(retry), len(w))

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
	checkSearchable(t, a, w)
	srv.stop(t)
	checkDataFolder(t, data, w)
	checkUploadsFolder(t, data, retry)
	return len(w), totalCut
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

// upload is one photo as a photographer's browser would send it: as a
// multipart form, or over tus (its path once created, to resume).
type upload struct {
	name    string
	event   string
	jpeg    []byte
	sha     string
	tus     bool
	tusPath string
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
				tus:   serial%2 == 1,
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
	// resumedAt is the offset a tus upload resumed from after a cut (0: none).
	resumedAt int
}

// uploadAndKill sends every upload at once and SIGKILLs the server after
// killAfter. Bodies are paced to between 0 and 1.5 s each, like uplinks of
// different speeds, so the kill finds uploads in every phase (for tus ones:
// creation, any PATCH, the finish).
func uploadAndKill(a *api, srv *serverProc, ups []upload, killAfter time.Duration) []outcome {
	out := make([]outcome, len(ups))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, u := range ups {
		pace := time.Duration(rand.IntN(1500)) * time.Millisecond
		wg.Go(func() {
			<-start
			if u.tus {
				out[i] = postTusUpload(a, u, pace)
			} else {
				out[i] = postUpload(a, u, pace)
			}
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
