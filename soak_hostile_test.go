//go:build soak

package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestSoakLongRecording is the real counterpart of the corpus's FLAC that
// claims ten hours (hostile_test.go): a genuine ten-hour recording of
// silence (a session recorder left running; --quick: one hour), an 8 kHz
// mono FLAC of a few MB. A demanding archive keeps such a file rather
// than refuse it: it must end ready with its true duration, its audio
// proxy and a waveform of about 4,000 points, within the deadline the
// pipeline gives it (60 s + 3 s per second of media, media capped at
// 12 h), with the server's memory flat (the PCM streams through, it is
// never held), and a photo uploaded after it must not wait for it.
func TestSoakLongRecording(t *testing.T) {
	requireTools(t, "ffmpeg", "ffprobe", "exiftool", "djpeg")
	hours := 10
	if quick() {
		hours = 1
	}
	seconds := hours * 3600
	dir := t.TempDir()
	src := filepath.Join(dir, "sesion.flac")
	out, err := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono",
		"-t", strconv.Itoa(seconds), "-c:a", "flac", "-y", src).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}

	bin := buildAcervo(t)
	logs := &lockedBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server output:\n%s", logs.String())
		}
	})
	srv := startServer(t, bin, filepath.Join(dir, "data"), logs)
	hc := benchClient(4)
	a := &api{base: srv.base, token: createToken(t, hc, srv.base), hc: hc}
	rss := sampleRSS(srv.cmd.Process.Pid, 200*time.Millisecond)

	start := time.Now()
	rec, err := uploadBytes(a, fmt.Sprintf("sesion-%dh.flac", hours), data)
	if err != nil {
		t.Fatal(err)
	}
	photo, err := uploadBytes(a, "foto.jpg", drawJPEG(3, 1600, 1200, 24, 85))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := waitReady(a, photo.ID, 2*time.Minute); err != nil {
		t.Errorf("a photo uploaded after the recording: %v", err)
	}
	photoAfter := time.Since(start)
	var mid corpusAsset
	if err := a.getJSON("/api/v1/assets/"+rec.ID, &mid); err == nil && mid.Status != "processing" {
		t.Logf("the recording was %s before the photo was ready (%v): the photo did not have to wait for it", mid.Status, photoAfter)
	}
	// Generous: the deadline the pipeline itself allows is hours.
	if _, err := waitReady(a, rec.ID, 40*time.Minute); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	peak := rss.Stop()

	var got corpusAsset
	if err := a.getJSON("/api/v1/assets/"+rec.ID, &got); err != nil {
		t.Fatal(err)
	}
	if got.Kind != "audio" || math.Abs(got.Duration-float64(seconds)) > 2 {
		t.Errorf("kind %q, duration %v s; want audio of %d s", got.Kind, got.Duration, seconds)
	}
	for _, name := range []string{"audio.m4a", "waveform.json", "waveform.png", "thumb.jpg"} {
		if got.Renditions[name].URL == "" {
			t.Errorf("no %s among %v", name, renditionNames(got.Renditions))
		}
	}
	var wf struct {
		Length int `json:"length"`
	}
	if b, err := getBytes(a, got.Renditions["waveform.json"].URL); err != nil || json.Unmarshal(b, &wf) != nil || wf.Length < 2000 {
		t.Errorf("waveform of %d points (%v), want about 4,000", wf.Length, err)
	}
	// The server's own memory: ffmpeg's runs are children, the waveform
	// is built from streamed PCM.
	if peak > 512 {
		t.Errorf("the server's peak RSS was %.0f MiB while processing the recording", peak)
	}
	res := "pass"
	if t.Failed() {
		res = "FAIL"
	}
	resultRow(t, fmt.Sprintf("hostile: a real %d-hour silent recording (8 kHz FLAC, %.1f MB)", hours, float64(len(data))/1e6),
		fmt.Sprintf("accepted; ready in %.0f s (the pipeline's deadline for it: %v), duration %.0f s, waveform %d points, server peak RSS %.0f MiB; a photo uploaded after it ready in %.1f s",
			took.Seconds(), time.Minute+3*time.Duration(seconds)*time.Second, got.Duration, wf.Length, peak, photoAfter.Seconds()), res)
}
