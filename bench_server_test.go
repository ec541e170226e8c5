//go:build bench

package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Benchmarks of the whole server, each against a baseline measured in the
// same run, alternating, so the noise of a shared machine hits both sides.
// Run by scripts/bench: go test -tags bench -run BenchServer -v.

// TestBenchServerThumbLatency: time from an upload's 201 to its thumb.jpg
// served, 24 MP JPEG, against vipsthumbnail making one 400 px thumbnail of
// the same file (target ≤ 1.5×). Each round uses a new file (uploads
// deduplicate); the ratio is the median of the rounds' own ratios.
func TestBenchServerThumbLatency(t *testing.T) {
	requireTools(t, "ffmpeg", "vipsthumbnail", "djpeg", "exiftool")
	rounds := 5
	if quick() {
		rounds = 2
	}
	dir := t.TempDir()
	bin := buildAcervo(t)
	logs := &lockedBuffer{}
	srv := startServerEnv(t, bin, filepath.Join(dir, "data"), logs, "ACERVO_WORKERS=2")
	hc := benchClient(4)
	a := &api{base: srv.base, token: createToken(t, hc, srv.base), hc: hc}

	var acervo, vips, ratios []float64
	for r := range rounds {
		src := filepath.Join(dir, fmt.Sprintf("p%d.jpg", r))
		makeNoisyJPEG(t, src, 6000, 4000, 1000+r)
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		got, err := uploadBytes(a, fmt.Sprintf("p%d.jpg", r), data)
		if err != nil {
			t.Fatalf("%v\n%s", err, logs.String())
		}
		start := time.Now()
		thumb := "/api/v1/assets/" + got.ID + "/renditions/thumb.jpg"
		for {
			resp, err := a.get(thumb)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
			if time.Since(start) > 2*time.Minute {
				t.Fatalf("no thumbnail after 2 minutes (last status %d)", resp.StatusCode)
			}
			time.Sleep(10 * time.Millisecond)
		}
		ac := time.Since(start).Seconds()

		start = time.Now()
		if out, err := exec.Command("vipsthumbnail", src, "-s", "400", "-o", filepath.Join(dir, "v%s.jpg[Q=85]")).CombinedOutput(); err != nil {
			t.Fatalf("vipsthumbnail: %v\n%s", err, out)
		}
		vs := time.Since(start).Seconds()
		acervo, vips, ratios = append(acervo, ac), append(vips, vs), append(ratios, ac/vs)
		t.Logf("round %d: Acervo %.3f s, vipsthumbnail %.3f s", r+1, ac, vs)
	}
	ratio := median(ratios)
	resultRow(t, fmt.Sprintf("upload 201 → thumb.jpg served, 24 MP JPEG, s (median of %d)", rounds),
		fmt.Sprintf("%.3f", median(acervo)), fmt.Sprintf("%.3f (vipsthumbnail -s 400)", median(vips)),
		fmt.Sprintf("%.2f×", ratio), "≤ 1.5×", met(ratio, "<=1.5"))
}

// TestBenchServerServeThumbs: thumbnails over keep-alive from 64
// connections, Acervo (bearer token checked on every request) against Go's
// http.FileServer on copies of the same files in another process.
func TestBenchServerServeThumbs(t *testing.T) {
	requireTools(t, "djpeg", "exiftool")
	rounds, secs := 3, 8
	if quick() {
		rounds, secs = 2, 4
	}
	dir := t.TempDir()
	bin := buildAcervo(t)
	data := filepath.Join(dir, "data")
	logs := &lockedBuffer{}
	srv := startServerEnv(t, bin, data, logs, "ACERVO_WORKERS=2")
	hc := benchClient(64)
	a := &api{base: srv.base, token: createToken(t, hc, srv.base), hc: hc}

	const photos = 32
	plain := filepath.Join(dir, "plain")
	os.MkdirAll(plain, 0o755)
	var acervoURLs, plainURLs []string
	for i := range photos {
		got, err := uploadBytes(a, fmt.Sprintf("f%d.jpg", i), drawJPEG(uint64(7000+i), 1600, 1200, 24, 90))
		if err != nil {
			t.Fatal(err)
		}
		if got, err = waitReady(a, got.ID, 2*time.Minute); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(data, "derived", got.ID, "thumb.jpg"))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(plain, fmt.Sprintf("%d.jpg", i)), b, 0o644)
		acervoURLs = append(acervoURLs, srv.base+got.Renditions["thumb.jpg"].URL)
		plainURLs = append(plainURLs, fmt.Sprintf("/%d.jpg", i))
	}
	// Measure serving alone: the photos' remaining jobs (fingerprints run
	// after a photo is ready) would otherwise share the first rounds' CPU.
	waitJobsDone(t, a, 2*time.Minute)
	fsBase := startFileServer(t, plain)
	for i := range plainURLs {
		plainURLs[i] = fsBase + plainURLs[i]
	}

	var aRPS, fRPS, aP99, fP99, ratios []float64
	for r := range rounds {
		ar, ap := loadGen(t, acervoURLs, a.token, 64, time.Duration(secs)*time.Second)
		fr, fp := loadGen(t, plainURLs, "", 64, time.Duration(secs)*time.Second)
		aRPS, fRPS, aP99, fP99 = append(aRPS, ar), append(fRPS, fr), append(aP99, ap), append(fP99, fp)
		ratios = append(ratios, ar/fr)
		t.Logf("round %d: Acervo %.0f req/s p99 %.1f ms; http.FileServer %.0f req/s p99 %.1f ms", r+1, ar, ap, fr, fp)
	}
	ratio := median(ratios)
	resultRow(t, fmt.Sprintf("thumb.jpg served, 64 keep-alive conns, req/s (median of %d × %d s)", rounds, secs),
		fmt.Sprintf("%.0f", median(aRPS)), fmt.Sprintf("%.0f (http.FileServer)", median(fRPS)),
		fmt.Sprintf("%.2f×", ratio), "≥ 0.8×", met(ratio, ">=0.8"))
	resultRow(t, "thumb.jpg served, p99 latency, ms", fmt.Sprintf("%.1f", median(aP99)),
		fmt.Sprintf("%.1f (http.FileServer)", median(fP99)), fmt.Sprintf("%.2f×", median(aP99)/median(fP99)), "report", "—")
}

// loadGen keeps conns keep-alive connections busy for d, cycling through
// urls, and returns requests per second and the p99 latency in ms. Any
// non-200 answer fails the test: a fast error is not a served thumbnail.
func loadGen(t *testing.T, urls []string, token string, conns int, d time.Duration) (rps, p99 float64) {
	t.Helper()
	hc := benchClient(conns)
	defer hc.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var n atomic.Int64
	var failed atomic.Value
	lat := make([][]time.Duration, conns)
	var wg sync.WaitGroup
	start := time.Now()
	for c := range conns {
		wg.Go(func() {
			for i := c; ctx.Err() == nil; i++ {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, urls[i%len(urls)], nil)
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				t0 := time.Now()
				resp, err := hc.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						failed.Store(err.Error())
					}
					return
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if ctx.Err() != nil {
					return // cut by the end of the run: not counted
				}
				if err != nil || resp.StatusCode != http.StatusOK {
					failed.Store(fmt.Sprintf("status %d, %v", resp.StatusCode, err))
					return
				}
				lat[c] = append(lat[c], time.Since(t0))
				n.Add(1)
			}
		})
	}
	wg.Wait()
	if f := failed.Load(); f != nil {
		t.Fatalf("load: %v", f)
	}
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	return float64(n.Load()) / time.Since(start).Seconds(), percentileMS(all, 0.99)
}

// startFileServer runs this test binary again as a plain http.FileServer
// on dir (TestBenchFileServerChild), in its own process like Acervo.
func startFileServer(t *testing.T, dir string) string {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(os.Args[0], "-test.run", "^TestBenchFileServerChild$")
	cmd.Env = append(os.Environ(), "ACERVO_FILESERVER_DIR="+dir, "ACERVO_FILESERVER_ADDR="+addr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; ; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return "http://" + addr
		}
		if i > 200 {
			t.Fatal("file server did not start")
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// TestBenchFileServerChild is the baseline server; it does nothing unless
// started by startFileServer.
func TestBenchFileServerChild(t *testing.T) {
	dir := os.Getenv("ACERVO_FILESERVER_DIR")
	if dir == "" {
		return // a helper process, like os/exec's TestHelperProcess: nothing to do unless started
	}
	t.Fatal(http.ListenAndServe(os.Getenv("ACERVO_FILESERVER_ADDR"), http.FileServer(http.Dir(dir))))
}

// TestBenchServerImport: `acervo import` of N generated photos (default
// 2,000; --quick 300), waiting for every thumbnail and preview, against
// vipsthumbnail making the same two sizes over the same files, 2 processes.
func TestBenchServerImport(t *testing.T) {
	requireTools(t, "vipsthumbnail", "djpeg", "exiftool")
	n := envIntOr("ACERVO_BENCH_IMPORT_N", 2000)
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for i := range n {
		sub := filepath.Join(src, fmt.Sprintf("%02d", i%20))
		os.MkdirAll(sub, 0o755)
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			// 1024×768 with mild noise: ~150 KB, an old archive's photos.
			os.WriteFile(filepath.Join(sub, fmt.Sprintf("foto%04d.jpg", i)), drawJPEG(uint64(50000+i), 1024, 768, 12, 88), 0o644)
		})
	}
	wg.Wait()
	bin := buildAcervo(t)
	data := filepath.Join(dir, "data")
	ua := exec.Command(bin, "user", "add", "admin", "--role", "admin", "--data", data)
	ua.Env = append(os.Environ(), "ACERVO_PASSWORD=bench-pass-123")
	if out, err := ua.CombinedOutput(); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	exec.Command("sync").Run()

	start := time.Now()
	cmd := exec.Command(bin, "import", "--workers", "2", "--data", data, src)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	ac := time.Since(start).Seconds()

	out := filepath.Join(dir, "vips")
	os.MkdirAll(out, 0o755)
	start = time.Now()
	// Batches of 50 files per vipsthumbnail call, two calls at a time: the
	// cheapest way to drive it. "2048>" never enlarges, like Acervo.
	script := `vipsthumbnail -s 400 -o "$0/%s-t.jpg[Q=85]" "$@" && vipsthumbnail -s '2048>' -o "$0/%s-p.jpg[Q=85]" "$@"`
	vc := exec.Command("sh", "-c", `find "$1" -name '*.jpg' -print0 | xargs -0 -n 50 -P 2 sh -c "$VIPS_SCRIPT" "$2"`, "_", src, out)
	vc.Env = append(os.Environ(), "VIPS_SCRIPT="+script)
	if o, err := vc.CombinedOutput(); err != nil {
		t.Fatalf("vipsthumbnail: %v\n%s", err, o)
	}
	vs := time.Since(start).Seconds()
	ratio := (float64(n) / ac) / (float64(n) / vs)
	t.Logf("import %d files: Acervo %.1f s, vipsthumbnail %.1f s", n, ac, vs)
	resultRow(t, fmt.Sprintf("acervo import of %d photos (1024×768), files/s incl. thumb+preview", n),
		fmt.Sprintf("%.1f", float64(n)/ac), fmt.Sprintf("%.1f (vipsthumbnail, 2 sizes, 2 procs)", float64(n)/vs),
		fmt.Sprintf("%.2f×", ratio), "report", "—")
}
