//go:build soak

package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Load for the soak: thumbnails and searches at fixed rates, and big
// uploads streamed from a generator and verified by re-download.

// rateLoad issues requests at a fixed rate until stopped, recording each
// latency; at most 256 are in flight (more counts as an error: the server
// is not keeping up).
type rateLoad struct {
	name     string
	mu       sync.Mutex
	lat      []time.Duration
	errs     atomic.Int64
	firstErr atomic.Value
	stop     chan struct{}
	done     sync.WaitGroup
}

func startRate(name string, perSec int, do func() error) *rateLoad {
	l := &rateLoad{name: name, stop: make(chan struct{})}
	sem := make(chan struct{}, 256)
	l.done.Go(func() {
		tick := time.NewTicker(time.Second / time.Duration(perSec))
		defer tick.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-tick.C:
			}
			select {
			case sem <- struct{}{}:
			default:
				l.fail(fmt.Errorf("%s: 256 requests in flight", name))
				continue
			}
			l.done.Go(func() {
				defer func() { <-sem }()
				t0 := time.Now()
				if err := do(); err != nil {
					l.fail(err)
					return
				}
				l.mu.Lock()
				l.lat = append(l.lat, time.Since(t0))
				l.mu.Unlock()
			})
		}
	})
	return l
}

func (l *rateLoad) fail(err error) {
	l.errs.Add(1)
	l.firstErr.CompareAndSwap(nil, err)
}

// Stop waits for requests in flight and returns the latencies.
func (l *rateLoad) Stop() []time.Duration {
	close(l.stop)
	l.done.Wait()
	return l.lat
}

func (l *rateLoad) summary() string {
	s := fmt.Sprintf("%s: %d ok, %d errors, p50 %.1f ms, p99 %.1f ms", l.name, len(l.lat), l.errs.Load(),
		percentileMS(l.lat, 0.5), percentileMS(l.lat, 0.99))
	if e := l.firstErr.Load(); e != nil {
		s += fmt.Sprintf(" (first error: %v)", e)
	}
	return s
}

// getOK fetches url with the token and reads the body; anything but 200
// is an error.
func getOK(a *api, path string) error {
	resp, err := a.get(path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", path, resp.StatusCode)
	}
	return nil
}

var soakQueries = []string{"inauguración", "parque", "foto", "ronda", "obra", "inauguracion parque", "carga", "evento"}

func searchOnce(a *api, r *rand.Rand) error {
	q := url.Values{"q": {soakQueries[r.IntN(len(soakQueries))]}, "per_page": {"24"}}
	return getOK(a, "/api/v1/search?"+q.Encode())
}

// seedThumbs uploads n photos, waits for them, and returns their
// thumbnail paths: what the thumbnail load requests.
func seedThumbs(t *testing.T, a *api, n int) []string {
	t.Helper()
	var paths []string
	for i := range n {
		got, err := uploadBytes(a, fmt.Sprintf("semilla-%d.jpg", i), drawJPEG(uint64(90000+i), 1200, 900, 24, 88))
		if err != nil {
			t.Fatal(err)
		}
		if got, err = waitReady(a, got.ID, 3*time.Minute); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, got.Renditions["thumb.jpg"].URL)
	}
	return paths
}

// thumbsAndSearches starts the background load: thumbnails and searches
// at the given rates (no searches, and a nil se, for a rate of 0).
func thumbsAndSearches(a *api, thumbs []string, thumbRate, searchRate int) (th, se *rateLoad) {
	var n atomic.Int64
	th = startRate("thumbnails", thumbRate, func() error {
		return getOK(a, thumbs[int(n.Add(1))%len(thumbs)])
	})
	if searchRate == 0 {
		return th, nil
	}
	var mu sync.Mutex
	r := rand.New(rand.NewPCG(1, 2))
	se = startRate("searches", searchRate, func() error {
		mu.Lock()
		rr := rand.New(rand.NewPCG(r.Uint64(), 0))
		mu.Unlock()
		return searchOnce(a, rr)
	})
	return th, se
}

// genUpload is a big upload generated on the fly: a tiny real JPEG (so it
// sniffs as a photo) then size bytes of ChaCha8 noise, hashed as it is
// read, inside a multipart form with a known Content-Length.
type genUpload struct {
	seed uint64
	size int64
	h    hash.Hash
}

func (g *genUpload) request(a *api) (*http.Request, error) {
	head := drawJPEG(g.seed, 64, 48, 10, 80)
	g.h = sha256.New()
	var key [32]byte
	key[0], key[1] = byte(g.seed), byte(g.seed>>8)
	noise := io.LimitReader(rand.NewChaCha8(key), g.size-int64(len(head)))
	const b = "soakboundary"
	pre := fmt.Sprintf("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"grande-%d.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n", b, g.seed)
	post := "\r\n--" + b + "--\r\n"
	body := io.MultiReader(strings.NewReader(pre), io.TeeReader(io.MultiReader(bytes.NewReader(head), noise), g.h), strings.NewReader(post))
	req, err := http.NewRequest(http.MethodPost, a.base+"/api/v1/assets", body)
	if err != nil {
		return nil, err
	}
	req.ContentLength = int64(len(pre)) + g.size + int64(len(post))
	req.Header.Set("Content-Type", "multipart/form-data; boundary="+b)
	req.Header.Set("Authorization", "Bearer "+a.token)
	return req, nil
}

func (g *genUpload) sum() string { return hex.EncodeToString(g.h.Sum(nil)) }

// uploadAndVerify sends one generated upload, then downloads the original
// and compares hashes: "mismatch" errors are the ones that matter most.
func uploadAndVerify(a *api, g *genUpload) (mismatch bool, err error) {
	req, err := g.request(a)
	if err != nil {
		return false, err
	}
	got, err := doUpload(a, req)
	if err != nil {
		return false, err
	}
	if got.SHA256 != g.sum() {
		return true, fmt.Errorf("acknowledged sha256 %s, sent %s", got.SHA256, g.sum())
	}
	if err := checkOriginal(a, got.ID, g.sum()); err != nil {
		return true, err
	}
	return false, nil
}

// TestSoakLoad: 50 concurrent big uploads (200 MB; --quick 20 MB), each
// re-downloaded and compared, while thumbnails are requested at 200/s and
// searches at 20/s for the whole duration (5 min; --quick 30 s). Figures: errors,
// mismatches, search p99 under load against idle (target ≤ 2×), peak RSS.
func TestSoakLoad(t *testing.T) {
	requireTools(t, "exiftool", "djpeg")
	dur := 5 * time.Minute
	sizeMB, uploads := 200, 50
	if quick() {
		dur, sizeMB = 30*time.Second, 20
	}
	sizeMB = envIntOr("ACERVO_SOAK_UPLOAD_MB", sizeMB)
	bin := buildAcervo(t)
	logs := &lockedBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server output (tail):\n%s", tail(logs.String(), 4000))
		}
	})
	srv := startServerEnv(t, bin, t.TempDir(), logs, "ACERVO_WORKERS=2")
	hc := benchClient(512)
	a := &api{base: srv.base, token: createToken(t, hc, srv.base), hc: hc}
	thumbs := seedThumbs(t, a, 12)
	rss := sampleRSS(srv.cmd.Process.Pid, 200*time.Millisecond)

	// Searches are timed from a process of their own (soak_probe_test.go).
	idle := startSearchProbe(t, a, 20)
	time.Sleep(min(dur/3, 20*time.Second))
	idleLat, idleErrs, idleFirst := idle.Stop(t)
	if idleErrs > 0 {
		t.Errorf("idle searches: %d errors, first: %s", idleErrs, idleFirst)
	}

	start := time.Now()
	th, _ := thumbsAndSearches(a, thumbs, 200, 0)
	se := startSearchProbe(t, a, 20)
	var errs, mismatches atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for i := range uploads {
		wg.Go(func() {
			mm, err := uploadAndVerify(a, &genUpload{seed: uint64(1000 + i), size: int64(sizeMB) << 20})
			if err != nil {
				errs.Add(1)
				firstErr.CompareAndSwap(nil, err)
			}
			if mm {
				mismatches.Add(1)
			}
		})
	}
	wg.Wait()
	upTime := time.Since(start)
	if rest := dur - upTime; rest > 0 {
		time.Sleep(rest)
	}
	th.Stop()
	loadLat, seErrs, seFirst := se.Stop(t)
	peak := rss.Stop()
	t.Logf("%d uploads of %d MiB verified in %v; %s; searches: %d ok, %d errors (first: %s), p50 %.1f ms, p99 %.1f ms (idle: p50 %.1f ms, p99 %.1f ms)",
		uploads, sizeMB, upTime.Round(time.Second), th.summary(), len(loadLat), seErrs, seFirst,
		percentileMS(loadLat, 0.5), percentileMS(loadLat, 0.99), percentileMS(idleLat, 0.5), percentileMS(idleLat, 0.99))
	if e := firstErr.Load(); e != nil {
		t.Errorf("uploads: %d errors, %d mismatches; first: %v", errs.Load(), mismatches.Load(), e)
	}
	if th.errs.Load() > 0 || seErrs > 0 {
		t.Errorf("%s; searches: %d errors, first: %s", th.summary(), seErrs, seFirst)
	}
	idleP99, loadP99 := percentileMS(idleLat, 0.99), percentileMS(loadLat, 0.99)
	if loadP99 > 2*idleP99 {
		t.Errorf("search p99 under load %.1f ms > 2 × idle %.1f ms", loadP99, idleP99)
	}
	// RSS bound: streaming uploads hold buffers, not files (1 MiB each).
	const rssLimit = 600
	if peak > rssLimit {
		t.Errorf("server peak RSS %.0f MiB > %d MiB", peak, rssLimit)
	}
	pass := func(ok bool) string {
		if ok {
			return "pass"
		}
		return "FAIL"
	}
	total := time.Since(start).Round(time.Second)
	resultRow(t, fmt.Sprintf("load: %d concurrent %d MiB uploads, re-downloaded and compared", uploads, sizeMB),
		fmt.Sprintf("%d errors, %d mismatches (uploads done in %v)", errs.Load(), mismatches.Load(), upTime.Round(time.Second)),
		pass(errs.Load() == 0 && mismatches.Load() == 0))
	resultRow(t, fmt.Sprintf("load: thumbnails at 200/s for %v", total),
		fmt.Sprintf("%d served, %d errors, p99 %.1f ms", len(th.lat), th.errs.Load(), percentileMS(th.lat, 0.99)), pass(th.errs.Load() == 0))
	resultRow(t, fmt.Sprintf("load: searches at 20/s for %v, p99 under load vs idle", total),
		fmt.Sprintf("%.1f ms vs %.1f ms = %.2f× (%d errors; target ≤ 2×)", loadP99, idleP99, loadP99/idleP99, seErrs),
		pass(seErrs == 0 && loadP99 <= 2*idleP99))
	resultRow(t, "load: server peak RSS (sampled every 200 ms)", fmt.Sprintf("%.0f MiB (bound %d MiB)", peak, rssLimit), pass(peak <= rssLimit))
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
