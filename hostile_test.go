package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/comsoc/acervo/catalog"
)

// TestHostileMediaCorpus is issue #8's hostile media corpus against the
// real binary, through the real HTTP API: decompression bombs, broken
// images, playlists and tricks that make ffmpeg open other files or URLs,
// scripts under media names, polyglots, a lying duration and a giant
// frame size. Each file must be refused with a JSON 4xx, or fail its own
// job with a reason, or (real media) be processed with nothing but itself
// read and no script served back. Throughout, the server must keep its
// process (no crash, no restart), a canary file outside the data folder
// must see no open or read (inotify), a local HTTP listener no connection,
// and afterwards an ordinary photo must still be processed. The same files
// go through the two other doors too: the public /verify check first
// (it decodes an anonymous visitor's file), and tus for those refused.
//
// scripts/test runs it as is; scripts/soak runs it as its "hostile" part,
// and then it adds its row to the soak's table.
func TestHostileMediaCorpus(t *testing.T) {
	requireTools(t, "ffmpeg", "ffprobe", "exiftool", "djpeg", "cjpeg", "pdfinfo", "pdftoppm", "pdftotext", "tesseract")
	began := time.Now()
	dir := t.TempDir()
	secret := filepath.Join(dir, "fuera-del-archivo")
	if err := os.Mkdir(secret, 0o755); err != nil {
		t.Fatal(err)
	}
	marker := "ACERVO-CANARY-" + canaryToken(8)
	canary := filepath.Join(secret, "canary.ts") // .ts: an extension the HLS demuxer would follow
	if err := os.WriteFile(canary, []byte(strings.Repeat(marker+"\n", 64)), 0o644); err != nil {
		t.Fatal(err)
	}
	lis := listenCounting(t)
	tg := corpusTargets{canary: canary, http: "http://" + lis.addr}
	corpus := hostileCorpus(tg, silentFLAC(t, dir))

	controlWatchers(t, dir, secret, lis, tg)

	bin := buildAcervo(t)
	data := filepath.Join(dir, "data")
	logs := &lockedBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server output:\n%s", logs.String())
		}
	})
	watch := watchFolder(t, secret) // from before the server starts to after it stops
	// The public check runs the corpus too, more than the default 6 a minute.
	t.Setenv("ACERVO_VERIFY_PER_MINUTE", "1000")
	srv := startServer(t, bin, data, logs)
	pid := srv.cmd.Process.Pid
	hc := &http.Client{Timeout: 30 * time.Second}
	a := &api{base: srv.base, token: createToken(t, hc, srv.base), hc: hc}

	// First the public, anonymous check (/verify): it decodes a file the
	// way ingest does, and before the uploads nothing is archived, so no
	// answer can come from the hash alone.
	verified := verifyCorpus(t, a, srv, pid, corpus)

	results := make([]hostileResult, len(corpus))
	var tusRefused int
	// The row is written however the test ends, a t.Fatal included.
	t.Cleanup(func() {
		var refused, failed, safe, crashes int
		for _, r := range results {
			switch outcomeOf(&r) {
			case wantRefused:
				refused++
			case wantFailed:
				failed++
			case wantSafe:
				safe++
			}
		}
		select {
		case <-srv.done:
			if srv.err != nil {
				crashes = 1 // it ended other than by the SIGTERM of srv.stop
			}
		default:
		}
		figure := fmt.Sprintf("%d files: %d refused, %d failed with reason, %d processed safely; /verify: %d refused, %d answered; tus: %d refused; %d restarts, %d canary reads, %d listener connections (%.0f s)",
			len(corpus), refused, failed, safe, verified.refused, verified.answered, tusRefused, crashes, len(watch.stop()), lis.conns.Load(), time.Since(began).Seconds())
		res := "pass"
		if t.Failed() {
			res = "FAIL"
		}
		resultRow(t, "hostile media corpus", figure, res)
	})
	for i, f := range corpus {
		results[i] = postHostile(t, a, f)
		if err := sameHealthyServer(a, srv, pid); err != nil {
			t.Fatalf("after uploading %s: %v", f.name, err)
		}
	}
	settleCorpus(t, a, srv, pid, results)

	refused := 0
	for i := range results {
		r := &results[i]
		t.Run(r.file.name, func(t *testing.T) {
			checkHostileOutcome(t, a, r, marker)
		})
		if r.status >= 400 {
			refused++
		}
	}
	tusRefused = tusCorpus(t, a, srv, pid, corpus)
	checkFailedJobs(t, a, results)
	checkSafeFiles(t, a, results)

	// The server still does its ordinary work, in the same process.
	good := postHostile(t, a, hostileFile{name: "buena.jpg", data: drawJPEG(11, 800, 600, 24, 85), want: wantSafe})
	settleCorpus(t, a, srv, pid, []hostileResult{good})
	if good.asset = getAsset(t, a, good.asset.ID); good.asset.Status != catalog.StatusReady {
		t.Errorf("an ordinary photo after the corpus: %s %s", good.asset.Status, good.asset.Error)
	} else if err := checkJPEG(a, good.asset.Renditions["thumb.jpg"].URL); err != nil {
		t.Errorf("an ordinary photo after the corpus: thumb: %v", err)
	}
	if n := searchCount(t, a, marker); n != 0 {
		t.Errorf("searching the canary's content finds %d assets", n)
	}
	if kids := serverChildren(pid); len(kids) > 0 {
		t.Errorf("with every job settled, the server still has children: %v", kids)
	}
	if err := sameHealthyServer(a, srv, pid); err != nil {
		t.Fatal(err)
	}
	srv.stop(t)
	checkStagingEmpty(t, filepath.Join(data, "staging"))
	if n := filesUnder(t, filepath.Join(data, "uploads")); n != 0 {
		t.Errorf("%d files left in data/uploads by refused resumable uploads", n)
	}
	if n, want := filesUnder(t, filepath.Join(data, "blobs")), len(results)-refused+1; n != want {
		t.Errorf("%d originals kept, want %d (the accepted files and the ordinary photo): refused files must leave nothing", n, want)
	}
	if reads := watch.stop(); len(reads) > 0 {
		t.Errorf("the canary's folder saw %d opens or reads: %v", len(reads), reads)
	}
	if n := lis.conns.Load(); n > 0 {
		t.Errorf("the listener at %s got %d connections", lis.addr, n)
	}
}

// hostileResult is what the server made of one corpus file.
type hostileResult struct {
	file   hostileFile
	status int         // the upload's
	body   []byte      // the upload's answer
	asset  corpusAsset // when accepted: as last fetched
}

// corpusAsset is the API's asset with the fields this test needs beyond
// the crash test's.
type corpusAsset struct {
	assetJSON
	Kind     string  `json:"kind"`
	Duration float64 `json:"duration"`
}

// postHostile uploads one file as the upload page would, with an event so
// that metadata paths run too.
func postHostile(t *testing.T, a *api, f hostileFile) hostileResult {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("event", "Corpus hostil")
	fw, _ := mw.CreateFormFile("file", f.name)
	fw.Write(f.data)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, a.base+"/api/v1/assets", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := a.hc.Do(req)
	if err != nil {
		t.Fatalf("upload %s: %v", f.name, err)
	}
	defer resp.Body.Close()
	r := hostileResult{file: f, status: resp.StatusCode}
	r.body, _ = io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusCreated {
		if err := json.Unmarshal(r.body, &r.asset); err != nil || r.asset.ID == "" {
			t.Fatalf("upload %s: 201 without an asset: %s", f.name, r.body)
		}
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("upload %s: answered %d with Content-Type %q", f.name, resp.StatusCode, ct)
	}
	return r
}

// settleCorpus waits until every accepted asset has left "processing", checking
// after each round that the server is the same, healthy process.
func settleCorpus(t *testing.T, a *api, srv *serverProc, pid int, results []hostileResult) {
	t.Helper()
	deadline := time.Now().Add(processDeadline)
	for {
		var pending []string
		for i := range results {
			r := &results[i]
			if r.asset.ID == "" {
				continue
			}
			if r.asset = getAsset(t, a, r.asset.ID); r.asset.Status == catalog.StatusProcessing {
				pending = append(pending, r.file.name)
			}
		}
		if err := sameHealthyServer(a, srv, pid); err != nil {
			t.Fatal(err)
		}
		if len(pending) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still processing after %v: %v", processDeadline, pending)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func getAsset(t *testing.T, a *api, id string) corpusAsset {
	t.Helper()
	var got corpusAsset
	if err := a.getJSON("/api/v1/assets/"+id, &got); err != nil {
		t.Fatal(err)
	}
	return got
}

// sameHealthyServer says whether the server is still the process started at first
// (a crash would end it: nothing restarts it here, so a restart can only
// hide as a new process) and answers /healthz.
func sameHealthyServer(a *api, srv *serverProc, pid int) error {
	if st := srv.state(); st != "running" || srv.cmd.Process.Pid != pid {
		return fmt.Errorf("server process %d: %s", pid, st)
	}
	resp, err := a.get("/healthz")
	if err != nil {
		return fmt.Errorf("healthz: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthz: %d", resp.StatusCode)
	}
	return nil
}

// checkHostileOutcome asserts one file's outcome, and that nothing the
// server keeps of it (its record, its renditions) holds the canary.
func checkHostileOutcome(t *testing.T, a *api, r *hostileResult, marker string) {
	f := r.file
	switch {
	case r.status >= 400 && r.status < 500:
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if err := json.Unmarshal(r.body, &e); err != nil || e.Error.Code == "" || !strings.Contains(e.Error.Message, " / ") {
			t.Errorf("refused with %d but not a bilingual JSON error: %s", r.status, r.body)
		}
		t.Logf("%s: %d %s", f.what, r.status, e.Error.Code)
	case r.status == http.StatusCreated:
		t.Logf("%s: %s %s", f.what, r.asset.Status, r.asset.Error)
		raw, err := getBytes(a, "/api/v1/assets/"+r.asset.ID)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(raw, []byte(marker)) {
			t.Errorf("the asset's record holds the canary's content")
		}
		for name, rd := range r.asset.Renditions {
			b, err := getBytes(a, rd.URL)
			if err != nil {
				t.Errorf("rendition %s: %v", name, err)
				continue
			}
			if bytes.Contains(b, []byte(marker)) {
				t.Errorf("rendition %s holds the canary's content", name)
			}
			if bytes.Contains(bytes.ToLower(b), []byte("<script")) {
				t.Errorf("rendition %s holds a script", name)
			}
		}
	default:
		t.Fatalf("upload answered %d: %s", r.status, r.body)
	}

	switch got := outcomeOf(r); {
	case got != f.want:
		t.Errorf("%s: outcome %s (upload %d, status %q, error %q), want %s", f.what, got, r.status, r.asset.Status, r.asset.Error, f.want)
	case f.want == wantFailed && !strings.Contains(r.asset.Error, f.reason):
		t.Errorf("%s: failed with %q, want a reason mentioning %q", f.what, r.asset.Error, f.reason)
	}
}

func outcomeOf(r *hostileResult) string {
	switch {
	case r.status >= 400:
		return wantRefused
	case r.asset.Status == catalog.StatusFailed && r.asset.Error != "":
		return wantFailed
	case r.asset.Status == catalog.StatusReady:
		return wantSafe
	}
	return r.asset.Status
}

// checkFailedJobs: every failed asset shows on the admins' failed-jobs
// list with its reason, failed at the first attempt (a file's fault is
// permanent: retrying it would only burn two more decodes).
func checkFailedJobs(t *testing.T, a *api, results []hostileResult) {
	t.Helper()
	var jobs struct{ Jobs []catalog.Job }
	if err := a.getJSON("/api/v1/jobs?state=failed", &jobs); err != nil {
		t.Fatal(err)
	}
	byAsset := map[string]catalog.Job{}
	for _, j := range jobs.Jobs {
		byAsset[j.AssetID] = j
	}
	for _, r := range results {
		if r.asset.Status != catalog.StatusFailed {
			continue
		}
		j, ok := byAsset[r.asset.ID]
		switch {
		case !ok:
			t.Errorf("%s: failed, but no failed job lists it", r.file.name)
		case j.Error == "" || j.Attempts != 1:
			t.Errorf("%s: failed job after %d attempts, reason %q; want 1 attempt and a reason", r.file.name, j.Attempts, j.Error)
		}
	}
}

// checkSafeFiles: the files that are real media were processed as what
// they are and nothing more.
func checkSafeFiles(t *testing.T, a *api, results []hostileResult) {
	t.Helper()
	for _, r := range results {
		switch r.file.name {
		case "poliglota.jpg":
			// A real JPEG that is also a ZIP with a script inside and a
			// script in a comment: kept byte for byte (originals are
			// never modified), but served only as an attachment that a
			// browser must not sniff into HTML; its renditions are our
			// own re-encoded JPEGs (checked above: no script in them).
			resp, err := a.get("/api/v1/assets/" + r.asset.ID + "/original")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			h := resp.Header
			if !strings.HasPrefix(h.Get("Content-Disposition"), "attachment") || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Content-Type") != "image/jpeg" {
				t.Errorf("poliglota.jpg original served with Content-Disposition %q, X-Content-Type-Options %q, Content-Type %q",
					h.Get("Content-Disposition"), h.Get("X-Content-Type-Options"), h.Get("Content-Type"))
			}
		case "gab2-video.avi":
			// A real one-second MJPEG video: its subtitle stream's
			// playlist is never opened (ffmpeg takes GAB2 subtitles as
			// SRT or ASS only, and our format allowlist would refuse HLS).
			if r.asset.Kind != catalog.KindVideo || r.asset.Renditions["proxy.mp4"].URL == "" {
				t.Errorf("gab2-video.avi: kind %q, renditions %v; want a video with its proxy", r.asset.Kind, renditionNames(r.asset.Renditions))
			}
		case "externo.pdf":
			// A real one-page PDF, blank: rendered and read (its text
			// layer, then OCR) by poppler and tesseract, which follow
			// neither the external stream nor the script nor the link
			// (the canary and listener checks); its preview is our JPEG.
			if r.asset.Kind != catalog.KindDocument || r.asset.Renditions["preview.jpg"].URL == "" {
				t.Errorf("externo.pdf: kind %q, renditions %v; want a document with its preview", r.asset.Kind, renditionNames(r.asset.Renditions))
			}
		case "diez-horas.flac":
			// A header may say ten hours; the archive records what there
			// is. A real 10-hour session recording is legitimate and is
			// processed (its deadline grows with its duration, capped at
			// 12 h of media), so the claim is not refused: it only must
			// not stick, nor buy a waveform or a deadline it does not
			// fill — the job ends as soon as the two seconds are read.
			if r.asset.Kind != catalog.KindAudio || r.asset.Duration <= 0 || r.asset.Duration > 3 {
				t.Errorf("diez-horas.flac: kind %q, duration %v s; want audio of the 2 s it holds", r.asset.Kind, r.asset.Duration)
			}
			var wf struct {
				Length int `json:"length"`
			}
			if b, err := getBytes(a, r.asset.Renditions["waveform.json"].URL); err != nil || json.Unmarshal(b, &wf) != nil || wf.Length < 1000 {
				t.Errorf("diez-horas.flac: waveform of %d points (%v), want one drawn over the 2 s", wf.Length, err)
			}
		}
	}
}

func renditionNames[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func getBytes(a *api, path string) ([]byte, error) {
	if u, err := url.Parse(path); err == nil && u.IsAbs() {
		path = u.RequestURI()
	}
	resp, err := a.get(path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %d", path, resp.StatusCode)
	}
	return b, err
}

func searchCount(t *testing.T, a *api, q string) int {
	t.Helper()
	var res struct {
		Total int `json:"total"`
	}
	if err := a.getJSON("/api/v1/search?q="+url.QueryEscape(q), &res); err != nil {
		t.Fatal(err)
	}
	return res.Total
}
