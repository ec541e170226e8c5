//go:build bench || soak

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Helpers shared by the bench and soak suites (build tags bench, soak):
// they drive the real binary like the crash test does, and report figures
// as rows scripts/bench and scripts/soak gather into one table.

// quick reports ACERVO_BENCH_QUICK=1: the short versions, for --quick.
func quick() bool { return os.Getenv("ACERVO_BENCH_QUICK") == "1" }

// envIntOr reads a whole number from the environment, for sizes and counts
// the scripts choose.
func envIntOr(key string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(key)); err == nil && n > 0 {
		return n
	}
	return def
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// percentile of durations, in milliseconds.
func percentileMS(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := min(int(float64(len(s))*p), len(s)-1)
	return float64(s[i]) / float64(time.Millisecond)
}

// met says whether ratio meets a target written as ">=1.5" or "<=1.05".
func met(ratio float64, target string) string {
	var ok bool
	switch {
	case strings.HasPrefix(target, ">="):
		v, _ := strconv.ParseFloat(target[2:], 64)
		ok = ratio >= v
	case strings.HasPrefix(target, "<="):
		v, _ := strconv.ParseFloat(target[2:], 64)
		ok = ratio <= v
	default:
		return "—"
	}
	if ok {
		return "yes"
	}
	return "NO"
}

// multipartBody is one upload form with the file in field "file".
func multipartBody(name string, data []byte, fields map[string]string) (body []byte, contentType string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data)
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

// uploadBytes posts one file and returns the acknowledged asset.
func uploadBytes(a *api, name string, data []byte) (assetJSON, error) {
	body, ct := multipartBody(name, data, nil)
	req, err := http.NewRequest(http.MethodPost, a.base+"/api/v1/assets", bytes.NewReader(body))
	if err != nil {
		return assetJSON{}, err
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+a.token)
	return doUpload(a, req)
}

func doUpload(a *api, req *http.Request) (assetJSON, error) {
	var got assetJSON
	resp, err := a.hc.Do(req)
	if err != nil {
		return got, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return got, err
	}
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return got, fmt.Errorf("upload: status %d: %s", resp.StatusCode, raw)
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		return got, err
	}
	return got, nil
}

// waitReady polls an asset until it is ready (or failed: an error).
func waitReady(a *api, id string, limit time.Duration) (assetJSON, error) {
	deadline := time.Now().Add(limit)
	for {
		var got assetJSON
		if err := a.getJSON("/api/v1/assets/"+id, &got); err != nil {
			return got, err
		}
		switch got.Status {
		case "ready":
			return got, nil
		case "failed":
			return got, fmt.Errorf("asset %s failed: %s", id, got.Error)
		}
		if time.Now().After(deadline) {
			return got, fmt.Errorf("asset %s still %s after %v", id, got.Status, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// rssKiB reads a process's resident set (or its high-water mark with
// field "VmHWM") from /proc.
func rssKiB(pid int, field string) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == field+":" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return 0
}

// rssSampler records a process's peak RSS every interval until stopped.
type rssSampler struct {
	mu   sync.Mutex
	peak int
	stop chan struct{}
	done chan struct{}
}

func sampleRSS(pid int, every time.Duration) *rssSampler {
	s := &rssSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			if r := rssKiB(pid, "VmRSS"); r > 0 {
				s.mu.Lock()
				s.peak = max(s.peak, r)
				s.mu.Unlock()
			}
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

// Stop ends sampling and returns the peak in MiB.
func (s *rssSampler) Stop() float64 {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return float64(s.peak) / 1024
}

// makeNoisyJPEG writes a camera-like noisy JPEG of w×h with ffmpeg; seed
// changes the noise so each file has its own bytes (uploads deduplicate).
func makeNoisyJPEG(t testing.TB, path string, w, h, seed int) {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi",
		"-i", fmt.Sprintf("testsrc2=s=%dx%d,noise=alls=30:allf=t:all_seed=%d", w, h, seed),
		"-frames:v", "1", "-q:v", "2", "-f", "mjpeg", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
}

// startServerEnv is startServer with extra environment (timeouts, reserve).
func startServerEnv(t *testing.T, bin, data string, logs *lockedBuffer, env ...string) *serverProc {
	t.Helper()
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v) // startServer passes os.Environ() on; restored at cleanup
	}
	return startServer(t, bin, data, logs)
}

func benchClient(conns int) *http.Client {
	return &http.Client{
		Timeout: 10 * time.Minute,
		Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns,
			DisableCompression: true, IdleConnTimeout: time.Minute},
	}
}
