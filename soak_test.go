//go:build soak

package main

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The soak suite of issue #8 (scripts/soak): long versions of the crash
// test and the checks that need minutes, each ending in a row of
// scripts/soak's table (check, figure, pass/fail). Never in scripts/test.

// TestSoakKillRounds: the crash test of main_test.go at soak size: 20
// rounds (--quick 5) of 100 concurrent uploads plus their processing,
// SIGKILL at a random point, every invariant checked after each restart
// and at the end. Half the uploads go through tus (killtus_test.go).
func TestSoakKillRounds(t *testing.T) {
	requireTools(t, "exiftool", "djpeg")
	rounds := envIntOr("ACERVO_SOAK_ROUNDS", 20)
	if quick() {
		rounds = envIntOr("ACERVO_SOAK_ROUNDS", 5)
	}
	witnessed, cut := runKillRounds(t, rounds, 100)
	res := "pass"
	if t.Failed() {
		res = "FAIL"
	}
	checks := "0 lost (bytes re-hashed), 0 orphan blobs or staging files, only resumable tus uploads left, 0 dangling renditions, every job done once, bbolt check, audit chain and search index clean"
	if t.Failed() {
		checks = "invariant broken: see the test's errors"
	}
	resultRow(t, fmt.Sprintf("kill -9 rounds: %d rounds × 100 concurrent uploads (half multipart, half tus) + processing", rounds),
		fmt.Sprintf("%d acknowledged, %d cut and retried; %s", witnessed, cut, checks), res)
}

// TestSoakSlowClients: 1,000 slowloris connections (headers trickled) and
// 100 uploads trickling 1 KiB/s while thumbnails (100/s) and searches
// (10/s) run: the server closes the sockets (ReadHeaderTimeout, 10 s), cuts
// the trickles (UploadMinRate over UploadIdleTimeout, set to 10 s here) and
// frees their staging, and normal requests keep their latency.
func TestSoakSlowClients(t *testing.T) {
	requireTools(t, "exiftool", "djpeg")
	lorises, trickles := 1000, 100
	bin := buildAcervo(t)
	logs := &lockedBuffer{}
	data := t.TempDir()
	srv := startServerEnv(t, bin, data, logs, "ACERVO_WORKERS=2", "ACERVO_UPLOAD_IDLE_TIMEOUT=10s")
	hc := benchClient(256)
	a := &api{base: srv.base, token: createToken(t, hc, srv.base), hc: hc}
	thumbs := seedThumbs(t, a, 8)

	before, _ := thumbsAndSearches(a, thumbs, 100, 1)
	time.Sleep(10 * time.Second)
	beforeLat := before.Stop()

	during, se := thumbsAndSearches(a, thumbs, 100, 10)
	addr := strings.TrimPrefix(srv.base, "http://")
	var closed, stillOpen, dialErr atomic.Int64
	var closeTimes sync.Map
	var wg sync.WaitGroup
	start := time.Now()
	for i := range lorises {
		wg.Go(func() {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				dialErr.Add(1)
				return
			}
			defer c.Close()
			fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n")
			done := make(chan struct{})
			go func() { io.Copy(io.Discard, c); close(done) }()
			for k := 0; ; k++ {
				select {
				case <-done:
					closed.Add(1)
					closeTimes.Store(i, time.Since(start))
					return
				case <-time.After(time.Second):
				}
				if time.Since(start) > 40*time.Second {
					stillOpen.Add(1)
					return
				}
				fmt.Fprintf(c, "X-%d: %d\r\n", k, k) // a header line a second, never the end
			}
		})
	}
	var cutOK, notCut atomic.Int64
	var firstTrickle atomic.Value
	for i := range trickles {
		wg.Go(func() {
			status, err := trickleUpload(a, uint64(i), 40*time.Second)
			if err == nil && status == http.StatusBadRequest || err != nil && strings.Contains(err.Error(), "connection reset") {
				cutOK.Add(1)
				return
			}
			notCut.Add(1)
			firstTrickle.CompareAndSwap(nil, fmt.Sprintf("status %d, %v", status, err))
		})
	}
	wg.Wait()
	attack := time.Since(start)
	duringLat := during.Stop()
	se.Stop()
	var maxClose time.Duration
	closeTimes.Range(func(_, v any) bool { maxClose = max(maxClose, v.(time.Duration)); return true })
	time.Sleep(time.Second)
	left := stagedUploads(t, filepath.Join(data, "staging"))

	t.Logf("before: %s", before.summary())
	t.Logf("during: %s; %s", during.summary(), se.summary())
	if dialErr.Load() > 0 || stillOpen.Load() > 0 {
		t.Errorf("slowloris: %d closed by the server, %d still open after 40 s, %d not connected", closed.Load(), stillOpen.Load(), dialErr.Load())
	}
	if notCut.Load() > 0 {
		t.Errorf("trickle uploads: %d cut, %d not (first: %v)", cutOK.Load(), notCut.Load(), firstTrickle.Load())
	}
	if left > 0 {
		t.Errorf("%d staged uploads left after the trickles were cut", left)
	}
	if n := during.errs.Load() + se.errs.Load(); n > 0 {
		t.Errorf("normal requests during the attack: %d errors", n)
	}
	pf := func(ok bool) string { return map[bool]string{true: "pass", false: "FAIL"}[ok] }
	resultRow(t, fmt.Sprintf("slowloris: %d connections trickling headers", lorises),
		fmt.Sprintf("%d closed by the server, last after %.1f s (ReadHeaderTimeout 10 s); %d still open", closed.Load(), maxClose.Seconds(), stillOpen.Load()),
		pf(stillOpen.Load() == 0 && dialErr.Load() == 0))
	resultRow(t, fmt.Sprintf("trickle uploads: %d at 1 KiB/s", trickles),
		fmt.Sprintf("%d cut (min rate 2 KiB/s over 10 s windows), %d staged files left", cutOK.Load(), left), pf(notCut.Load() == 0 && left == 0))
	resultRow(t, fmt.Sprintf("thumbnails at 100/s before vs during the attack (%.0f s)", attack.Seconds()),
		fmt.Sprintf("p50 %.1f → %.1f ms, p99 %.1f → %.1f ms, %d errors", percentileMS(beforeLat, 0.5), percentileMS(duringLat, 0.5),
			percentileMS(beforeLat, 0.99), percentileMS(duringLat, 0.99), during.errs.Load()+se.errs.Load()),
		pf(during.errs.Load()+se.errs.Load() == 0))
}

// trickleUpload starts an upload and sends 1 KiB a second after the
// photo's first bytes, until the server answers or limit passes.
func trickleUpload(a *api, seed uint64, limit time.Duration) (int, error) {
	c, err := net.Dial("tcp", strings.TrimPrefix(a.base, "http://"))
	if err != nil {
		return 0, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(limit))
	body := fmt.Sprintf("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"lento-%d.jpg\"\r\n\r\n", seed)
	fmt.Fprintf(c, "POST /api/v1/assets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: %d\r\n\r\n%s",
		a.token, 10<<20, body)
	c.Write(drawJPEG(seed+500, 64, 48, 10, 80))
	answered := make(chan struct{})
	var status int
	var rerr error
	go func() {
		defer close(answered)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			rerr = err
			return
		}
		resp.Body.Close()
		status = resp.StatusCode
	}()
	chunk := make([]byte, 1024)
	for {
		select {
		case <-answered:
			return status, rerr
		case <-time.After(time.Second):
		}
		if _, err := c.Write(chunk); err != nil {
			<-answered
			if rerr == nil && status != 0 {
				return status, nil
			}
			return status, err
		}
	}
}

// stagedUploads counts upload files in staging (the disk backend's put-*),
// ignoring the workers' scratch.
func stagedUploads(t *testing.T, staging string) int {
	n := 0
	filepath.WalkDir(staging, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasPrefix(d.Name(), "put-") {
			n++
		}
		return nil
	})
	return n
}
