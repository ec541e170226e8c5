package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// playerPage is a test page served from the same origin as the API, so the
// session cookie goes with the media requests as it will from Acervo's own
// pages.
const playerPage = `<!doctype html><meta charset="utf-8"><title>prueba</title>
<script>
async function play(kind, url, seekTo) {
  const el = document.createElement(kind);
  el.preload = "auto";
  el.muted = true;
  document.body.appendChild(el);
  const ready = new Promise((ok, fail) => { el.onloadedmetadata = ok; el.onerror = () => fail(new Error("media error " + (el.error && el.error.code))); });
  el.src = url;
  await ready;
  const seeked = new Promise(ok => { el.onseeked = ok; });
  el.currentTime = seekTo;
  await seeked;
  await new Promise(ok => { if (el.readyState >= 2) ok(); else el.oncanplay = ok; });
  return {duration: el.duration, currentTime: el.currentTime, width: el.videoWidth || 0, readyState: el.readyState};
}
async function login(password) {
  const r = await fetch("/api/v1/login", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({username: "admin", password})});
  return r.status;
}
</script><body></body>`

// TestProxyAndAudioPlayInChromium loads the video proxy and the audio proxy
// in a real Chromium's <video> and <audio>, seeks into the middle (which
// needs Range requests), and checks they are playable there.
func TestProxyAndAudioPlayInChromium(t *testing.T) {
	requireTools(t, "chromium", "ffmpeg")
	e := start(t)
	c := e.login()
	video := generate(t, "v.mp4", "-f", "lavfi", "-i", "testsrc2=s=640x360:r=25:d=6", "-f", "lavfi", "-i", "sine=f=440:d=6",
		"-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest", "-f", "mp4")
	v := c.uploadReady("video.mp4", video)
	sound := generate(t, "a.wav", "-f", "lavfi", "-i", "sine=f=300:d=6", "-f", "wav")
	a := c.uploadReady("audio.wav", sound)

	api, _ := url.Parse(e.srv.URL)
	proxy := httputil.NewSingleHostReverseProxy(api)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(playerPage))
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath("chromium"), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	if err := chromedp.Do(ctx, chromedp.Navigate(front.URL+"/")); err != nil {
		t.Fatal(err)
	}
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](`login(`+jsString(adminPassword)+`)`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusOK {
		t.Fatalf("login from the page = %d", status)
	}
	type playback struct {
		Duration    float64 `json:"duration"`
		CurrentTime float64 `json:"currentTime"`
		Width       int     `json:"width"`
		ReadyState  int     `json:"readyState"`
	}
	for _, tc := range []struct {
		kind, url string
		width     int
	}{
		{"video", v.Renditions["proxy.mp4"].URL, 640},
		{"audio", a.Renditions["audio.m4a"].URL, 0},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			js := `play(` + jsString(tc.kind) + `, ` + jsString(tc.url) + `, 4.0)`
			got, err := chromedp.Run(ctx, chromedp.Evaluate[playback](js, chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatalf("%s in Chromium: %v", tc.kind, err)
			}
			t.Logf("%s in Chromium: %+v", tc.kind, got)
			if got.Duration < 5.9 || got.Duration > 6.1 || got.CurrentTime < 3.9 || got.ReadyState < 2 || got.Width != tc.width {
				t.Errorf("%s playback = %+v, want 6 s long, at 4 s, playable, %d px wide", tc.kind, got, tc.width)
			}
		})
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
