package server_test

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/comsoc/acervo/server"
)

// TestVerifyVideoExcerpt uploads a generated 2-minute video, then posts a
// 20-second excerpt of it re-encoded at a lower resolution, as a copy on
// social media would be: the answer is similar, placed at 47 s ± 1 s.
func TestVerifyVideoExcerpt(t *testing.T) {
	requireTools(t, "ffmpeg", "ffprobe")
	e := start(t)
	admin := e.login()
	archived := generate(t, "acto.mp4", "-f", "lavfi", "-i",
		"testsrc2=s=320x180:r=10:d=120,hue=h=t*7[t];color=c=white:s=80x80:r=10:d=120[b];"+
			"[t][b]overlay=x='mod(t*23,240)':y='50+50*sin(t/3)'",
		"-c:v", "libx264", "-preset", "ultrafast", "-crf", "23", "-pix_fmt", "yuv420p")
	src := filepath.Join(t.TempDir(), "acto.mp4")
	os.WriteFile(src, archived, 0o644)
	excerpt := generate(t, "viral.mp4", "-ss", "47", "-i", src, "-t", "20", "-vf", "scale=240:136",
		"-c:v", "libx264", "-preset", "ultrafast", "-crf", "35", "-pix_fmt", "yuv420p")
	a := admin.uploadReady("acto.mp4", archived)

	anon := e.verifyServer(server.VerifyConfig{PerMinute: 100})
	v := anon.verifyOK("viral.mp4", excerpt)
	if v.Match != "similar" || v.Asset == nil || v.Asset.ID != a.ID || v.Kind != "video" || v.TimeRange == nil {
		t.Fatalf("answer = %+v, want similar to %s with a time range", v, a.ID)
	}
	t.Logf("excerpt found at %.1f–%.1f s, score %.2f", v.TimeRange.Start, v.TimeRange.End, v.Score)
	if d := v.TimeRange.Start - 47; math.Abs(d) > 1 {
		t.Errorf("excerpt placed at %.1f s, want 47 ± 1", v.TimeRange.Start)
	}
	if d := v.TimeRange.End - v.TimeRange.Start; math.Abs(d-20) > 1 {
		t.Errorf("time range of %.1f s, want 20", d)
	}
	unrelated := generate(t, "otro.mp4", "-f", "lavfi", "-i", "mandelbrot=s=240x136:r=10", "-t", "20",
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")
	if v := anon.verifyOK("otro.mp4", unrelated); v.Match != "none" {
		t.Errorf("unrelated video: %+v, want none", v)
	}
	assertNoFiles(t, filepath.Join(e.data, "staging", "verify"))

	// Archived too, the excerpt is a near-duplicate of the video, placed in it.
	x := admin.uploadReady("recorte.mp4", excerpt)
	var view struct {
		NearDuplicates []struct {
			ID         string
			Start, End *float64
		} `json:"near_duplicates"`
	}
	decode(t, admin.do("GET", "/api/v1/assets/"+x.ID, "", nil, nil), 200, &view)
	if len(view.NearDuplicates) != 1 || view.NearDuplicates[0].ID != a.ID || view.NearDuplicates[0].Start == nil || math.Abs(*view.NearDuplicates[0].Start-47) > 1 {
		t.Errorf("near_duplicates of the excerpt = %+v, want the video at 47 s", view.NearDuplicates)
	}
	var sim struct{ Similar []struct{ ID string } }
	decode(t, admin.do("GET", "/api/v1/assets/"+a.ID+"/similar", "", nil, nil), 200, &sim)
	if len(sim.Similar) != 1 || sim.Similar[0].ID != x.ID {
		t.Errorf("similar of the video = %+v, want the excerpt %s", sim.Similar, x.ID)
	}
}

// TestVerifyAudioExcerpt does the same with two minutes of speech and a
// 20-second excerpt re-encoded as 64 kb/s MP3.
func TestVerifyAudioExcerpt(t *testing.T) {
	requireTools(t, "ffmpeg", "ffprobe", "espeak-ng")
	e := start(t)
	admin := e.login()
	dir := t.TempDir()
	var text strings.Builder
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&text, "Punto %d del informe: la obra número %d de la colonia %s avanza al %d por ciento. ", i, i*7, []string{"Centro", "Norte", "Jardines", "Lomas", "Obrera"}[i%5], (i*13)%100)
	}
	wav := filepath.Join(dir, "voz.wav")
	if b, err := exec.Command("espeak-ng", "-v", "es", "-s", "160", "-w", wav, text.String()).CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng: %v\n%s", err, b)
	}
	archived := generate(t, "rueda.wav", "-i", wav, "-t", "120", "-c:a", "pcm_s16le")
	excerpt := generate(t, "radio.mp3", "-ss", "47", "-i", wav, "-t", "20", "-c:a", "libmp3lame", "-b:a", "64k", "-ar", "22050")
	a := admin.uploadReady("rueda.wav", archived)

	anon := e.verifyServer(server.VerifyConfig{PerMinute: 100})
	v := anon.verifyOK("radio.mp3", excerpt)
	if v.Match != "similar" || v.Asset == nil || v.Asset.ID != a.ID || v.TimeRange == nil {
		t.Fatalf("answer = %+v, want similar to %s with a time range", v, a.ID)
	}
	t.Logf("excerpt found at %.1f–%.1f s, score %.2f", v.TimeRange.Start, v.TimeRange.End, v.Score)
	if d := v.TimeRange.Start - 47; math.Abs(d) > 1 {
		t.Errorf("excerpt placed at %.1f s, want 47 ± 1", v.TimeRange.Start)
	}
}
