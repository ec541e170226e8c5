package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/comsoc/acervo/transcode/pdftest"

	"github.com/comsoc/acervo/catalog"
)

// generate runs ffmpeg with args ending in an output file name inside a
// temp folder, and returns the file's bytes.
func generate(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	requireTools(t, "ffmpeg")
	out := filepath.Join(t.TempDir(), name)
	cmd := exec.Command("ffmpeg", append(append([]string{"-v", "error", "-nostdin", "-y"}, args...), out)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", cmd.Args, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// probeDuration asks ffprobe for the duration of bytes.
func probeDuration(t *testing.T, data []byte) float64 {
	t.Helper()
	path := filepath.Join(t.TempDir(), "probe")
	os.WriteFile(path, data, 0o644)
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", path).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	var v struct{ Format struct{ Duration string } }
	json.Unmarshal(out, &v)
	d, _ := strconv.ParseFloat(v.Format.Duration, 64)
	return d
}

type mediaAsset struct {
	assetJSON
	Kind     string  `json:"kind"`
	Duration float64 `json:"duration"`
	Media    *catalog.MediaInfo
}

func (c *client) uploadReady(filename string, data []byte) mediaAsset {
	c.e.t.Helper()
	var a assetJSON
	decode(c.e.t, c.upload(filename, data, nil), http.StatusCreated, &a)
	a = c.waitSettled(a.ID)
	var m mediaAsset
	decode(c.e.t, c.do("GET", "/api/v1/assets/"+a.ID, "", nil, nil), http.StatusOK, &m)
	if m.Status != catalog.StatusReady {
		c.e.t.Fatalf("%s: %s (%s), want ready", filename, m.Status, m.Error)
	}
	return m
}

func (c *client) get(url string) ([]byte, *http.Response) {
	c.e.t.Helper()
	resp := c.do("GET", url, "", nil, nil)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b, resp
}

func TestVideoAudioAndDocumentThroughTheAPI(t *testing.T) {
	requireTools(t, "ffmpeg", "ffprobe", "pdftoppm")
	e := start(t)
	c := e.login()

	t.Run("video and its clip", func(t *testing.T) {
		video := generate(t, "v.mp4", "-f", "lavfi", "-i", "testsrc2=s=640x360:r=25:d=4", "-f", "lavfi", "-i", "sine=f=440:d=4",
			"-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest", "-f", "mp4")
		a := c.uploadReady("Conferencia de prensa.mp4", video)
		if a.Kind != catalog.KindVideo || a.Duration < 3.9 || a.Media == nil || a.Media.VideoCodec != "h264" {
			t.Fatalf("video asset = kind %s duration %v media %+v", a.Kind, a.Duration, a.Media)
		}
		for _, name := range []string{"proxy.mp4", "poster.jpg", "thumb.jpg", "sprite.jpg", "sprite.vtt"} {
			if _, ok := a.Renditions[name]; !ok {
				t.Errorf("missing rendition %s", name)
			}
		}
		proxy, resp := c.get(a.Renditions["proxy.mp4"].URL)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "video/mp4" {
			t.Errorf("proxy: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if d := probeDuration(t, proxy); d < 3.9 || d > 4.1 {
			t.Errorf("proxy duration %.3f, want 4 ± 0.1", d)
		}
		clip, resp := c.get("/api/v1/assets/" + a.ID + "/clip?start=1&end=00:00:02.500")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "video/mp4" {
			t.Fatalf("clip: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), clip)
		}
		if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, "Conferencia de prensa_000001-000002.500.mp4") {
			t.Errorf("clip name: %s", cd)
		}
		if d := probeDuration(t, clip); d < 1.4 || d > 1.6 {
			t.Errorf("clip duration %.3f, want 1.5 ± 0.1", d)
		}
		expectError(t, c.do("GET", "/api/v1/assets/"+a.ID+"/clip?start=3&end=2", "", nil, nil), http.StatusBadRequest, "bad_range")
		expectError(t, c.do("GET", "/api/v1/assets/"+a.ID+"/clip?start=-1&end=2", "", nil, nil), http.StatusBadRequest, "bad_time")
		expectError(t, c.do("GET", "/api/v1/assets/"+a.ID+"/clip?start=0&end=1&source=../x", "", nil, nil), http.StatusBadRequest, "bad_source")
		orig, resp := c.get("/api/v1/assets/" + a.ID + "/clip?start=0.5&end=1.5&source=original")
		if resp.StatusCode != 200 {
			t.Fatalf("clip of original: %d %s", resp.StatusCode, orig)
		}
		if d := probeDuration(t, orig); d < 0.9 || d > 1.1 {
			t.Errorf("clip of original duration %.3f, want 1 ± 0.1", d)
		}
	})

	t.Run("audio-only MP4 is audio, with its clip", func(t *testing.T) {
		sound := generate(t, "a.mp4", "-f", "lavfi", "-i", "sine=f=300:d=3", "-c:a", "aac", "-f", "mp4")
		a := c.uploadReady("entrevista.mp4", sound)
		if a.Kind != catalog.KindAudio {
			t.Fatalf("kind = %s, want audio", a.Kind)
		}
		for _, name := range []string{"audio.m4a", "waveform.json", "waveform.png", "thumb.jpg"} {
			if _, ok := a.Renditions[name]; !ok {
				t.Errorf("missing rendition %s", name)
			}
		}
		wf, _ := c.get(a.Renditions["waveform.json"].URL)
		var w struct {
			Version, Channels, Length int
			Data                      []int
		}
		if err := json.Unmarshal(wf, &w); err != nil || w.Version != 2 || len(w.Data) != w.Length*2*w.Channels {
			t.Errorf("waveform.json: v%d len(data)=%d length=%d channels=%d err %v", w.Version, len(w.Data), w.Length, w.Channels, err)
		}
		clip, resp := c.get("/api/v1/assets/" + a.ID + "/clip?start=0.5&end=2")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "audio/mp4" {
			t.Fatalf("audio clip: %d %s", resp.StatusCode, clip)
		}
		if d := probeDuration(t, clip); d < 1.4 || d > 1.6 {
			t.Errorf("audio clip duration %.3f, want 1.5 ± 0.1", d)
		}
	})

	t.Run("photos can't be clipped", func(t *testing.T) {
		a := c.uploadReady("foto.jpg", photo(t, 320, 240, 11))
		expectError(t, c.do("GET", "/api/v1/assets/"+a.ID+"/clip?start=0&end=1", "", nil, nil), http.StatusBadRequest, "not_clippable")
	})

	t.Run("playlists and concat lists are refused", func(t *testing.T) {
		for name, body := range map[string]string{
			"lista.mp4":  "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n" + filepath.Join(e.data, "blobs") + "\n#EXT-X-ENDLIST\n",
			"concat.mp4": "ffconcat version 1.0\nfile /etc/passwd\n",
		} {
			expectError(t, c.upload(name, []byte(body), nil), http.StatusUnsupportedMediaType, "unsupported_media")
		}
		assertNoFiles(t, filepath.Join(e.data, "staging"))
	})

	t.Run("press bulletin PDF", func(t *testing.T) {
		pdf := pdftest.Write("",
			"<< /Type /Catalog /Pages 2 0 R >>",
			"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
			"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
			pdftest.Stream("", "0 0 0 rg 100 100 300 400 re f"))
		a := c.uploadReady("Boletín 123.pdf", pdf)
		if a.Kind != catalog.KindDocument || a.Media == nil || a.Media.Pages != 1 {
			t.Fatalf("document = kind %s media %+v", a.Kind, a.Media)
		}
		if r := a.Renditions["preview.jpg"]; max(r.Width, r.Height) != 2048 {
			t.Errorf("preview %d×%d", r.Width, r.Height)
		}
	})
}
