package server_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// noisePhoto is a JPEG of random pixels: it barely compresses, so it is
// big enough to pause midway through its upload.
func noisePhoto(t *testing.T, w, h int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.IntN(256))
	}
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 255
	}
	img.Set(0, 0, color.RGBA{1, 2, 3, 255})
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestUIInChromium walks the pages as a photographer and an editor would,
// in a real Chromium: sign in, upload a batch over tus, pause and resume
// across a closed tab, search with and without accents, narrow by a facet,
// play a video and cut a clip, see an audio waveform, edit a title that is
// an HTML injection attempt, and visit every page, saving screenshots.
func TestUIInChromium(t *testing.T) {
	requireTools(t, "chromium", "ffmpeg")
	e := start(t)
	srv, watch := watchedServer(t, e)
	br := newBrowser(t, srv.URL)
	dir := t.TempDir()

	video := writeFile(t, dir, "Recorrido del parque.mp4", generate(t, "v.mp4", "-f", "lavfi", "-i", "testsrc2=s=640x360:r=25:d=6",
		"-f", "lavfi", "-i", "sine=f=440:d=6", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest", "-f", "mp4"))
	audio := writeFile(t, dir, "Discurso de la alcaldesa.wav", generate(t, "a.wav", "-f", "lavfi", "-i", "sine=f=300:d=6", "-af", "volume='0.1+0.8*abs(sin(t*2))':eval=frame", "-f", "wav"))
	photoPath := writeFile(t, dir, "Corte de listón.jpg", photo(t, 1600, 1067, 41))
	refused := writeFile(t, dir, "nota.txt", []byte("Esto no es una foto.\n"))

	t.Run("sign in", func(t *testing.T) {
		b := br.with(t)
		b.open("/upload")
		b.until("the sign-in page", `location.pathname === "/login"`, 10*time.Second)
		b.do(chromedp.SendKeys("#username", "admin"), chromedp.SendKeys("#password", adminPassword))
		b.shot("01-login")
		b.do(chromedp.Click(`#login-form button[type="submit"]`))
		b.until("the upload page after signing in", `location.pathname === "/upload" && !!document.getElementById("u-files")`, 10*time.Second)
		if got := eval[string](b, `document.documentElement.lang`); got != "es-MX" {
			t.Errorf("page language = %q, want es-MX", got)
		}
	})

	t.Run("upload a batch with an event", func(t *testing.T) {
		b := br.with(t)
		b.do(chromedp.SendKeys("#u-event", "Inauguración del Parque Ecológico"), chromedp.SendKeys("#u-tags", "parque, obra"),
			chromedp.SendKeys("#u-people", "Clara Brugada"),
			chromedp.SetUploadFiles("#u-files", []string{photoPath, video, audio, refused}))
		b.until("three ready uploads with thumbnails and one refusal",
			`document.querySelectorAll('.uitem[data-state="ready"] .uthumb img:not([hidden])').length === 3 &&
			 [...document.querySelectorAll('.uitem[data-state="ready"] .uthumb img')].every(i => i.complete && i.naturalWidth > 0) &&
			 document.querySelectorAll('.uitem[data-state="refused"]').length === 1`, 3*time.Minute)
		msg := eval[string](b, `document.querySelector('.uitem[data-state="refused"] .ustatus').textContent`)
		if !strings.Contains(msg, "Rechazado") || !strings.Contains(msg, "no admitido") || strings.Contains(msg, "unsupported") {
			t.Errorf("refusal shown as %q", msg)
		}
		b.shot("02-upload")

		// The same photo again is named as already archived.
		b.open("/upload")
		b.do(chromedp.SetUploadFiles("#u-files", []string{photoPath}))
		b.until("the duplicate notice", `document.querySelector('.uitem[data-state="duplicate"] .uopen:not([hidden])') &&
			document.querySelector('.uitem .ustatus').textContent === "Ya estaba en el acervo"`, time.Minute)
	})

	t.Run("pause, close the tab, resume", func(t *testing.T) {
		b := br.with(t)
		big := noisePhoto(t, 1400, 1000)
		bigPath := writeFile(t, dir, "Panorámica.jpg", big)
		watch.reset()
		watch.slow.Store(true)
		watch.read.Store(0)
		b.open("/upload")
		b.do(chromedp.SetUploadFiles("#u-files", []string{bigPath}))
		deadline := time.Now().Add(time.Minute)
		for watch.read.Load() < int64(len(big))/4 {
			if time.Now().After(deadline) {
				t.Fatalf("server read only %d of %d bytes", watch.read.Load(), len(big))
			}
			time.Sleep(50 * time.Millisecond)
		}
		b.do(chromedp.Click(".uitem .upause"))
		b.until("the paused state", `document.querySelector('.uitem').dataset.state === "paused"`, 10*time.Second)
		time.Sleep(500 * time.Millisecond) // tusd saves what arrived
		watch.slow.Store(false)
		created := 0
		for _, r := range watch.requests() {
			if r.Method == "POST" {
				created++
			}
		}
		watch.reset()

		// A new page load: the unfinished upload is remembered.
		b.open("/upload")
		// Only the paused upload is remembered: the refused text file is not.
		b.until("the unfinished-upload notice", `!document.getElementById("u-pending").hidden &&
			document.getElementById("u-pending").textContent.startsWith("Hay una subida")`, 10*time.Second)
		b.do(chromedp.SetUploadFiles("#u-files", []string{bigPath}))
		b.until("the resumed upload to finish", `document.querySelector('.uitem') && ["ready", "processing"].includes(document.querySelector('.uitem').dataset.state)`, 2*time.Minute)
		var firstPatch *tusReq
		for _, r := range watch.requests() {
			if r.Method == "POST" {
				t.Errorf("the resumed upload was created again: %+v", watch.requests())
			}
			if r.Method == "PATCH" && firstPatch == nil {
				firstPatch = &r
			}
		}
		if created != 1 || firstPatch == nil || firstPatch.Offset <= 0 || firstPatch.Offset >= len(big) {
			t.Fatalf("created %d uploads; first PATCH after resuming = %+v, want an offset inside the file (%d bytes)", created, firstPatch, len(big))
		}
		t.Logf("resumed at offset %d of %d", firstPatch.Offset, len(big))
		id := eval[string](b, `document.querySelector('.uitem').dataset.assetId`)
		c := e.login()
		a := c.waitSettled(id)
		sum := sha256.Sum256(big)
		if a.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("resumed upload stored %s, want %x", a.SHA256, sum)
		}
	})

	t.Run("a complete upload whose last answer was lost", func(t *testing.T) {
		// Every byte reached data/uploads but the server died before
		// committing (as in TestTusFinishAfterACrash), and the page had
		// remembered the upload: choosing the file again finds it complete,
		// and the page must still get its asset.
		b := br.with(t)
		big := noisePhoto(t, 900, 700)
		path := writeFile(t, dir, "Sin respuesta.jpg", big)
		modified := time.Unix(1764000000, 0)
		if err := os.Chtimes(path, modified, modified); err != nil {
			t.Fatal(err)
		}
		c := e.login().on(srv)
		upload := c.tusCreate(len(big), map[string]string{"filename": "Sin respuesta.jpg", "filetype": "image/jpeg"})
		resp := c.tusPatch(upload, 0, bytes.NewReader(big[:len(big)/2]))
		resp.Body.Close()
		f, err := os.OpenFile(filepath.Join(e.data, "uploads", filepath.Base(upload)), os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(big[len(big)/2:])
		f.Close()

		// What tus-js-client keeps in localStorage for an upload it started.
		b.open("/upload")
		eval[bool](b, fmt.Sprintf(`(() => {
			const endpoint = document.getElementById("upload-form").dataset.endpoint;
			const fp = ["tus-br", "Sin respuesta.jpg", "image/jpeg", %d, %d, endpoint].join("-");
			localStorage.setItem("tus::" + fp + "::1", JSON.stringify({size: %d, metadata: {}, creationTime: String(new Date()), uploadUrl: location.origin + %q}));
			return true;
		})()`, len(big), modified.UnixMilli(), len(big), upload))
		watch.reset()
		b.open("/upload")
		b.do(chromedp.SetUploadFiles("#u-files", []string{path}))
		b.until("the finished upload with its asset", `document.querySelector('.uitem') && ["ready", "processing"].includes(document.querySelector('.uitem').dataset.state)`, time.Minute)
		asset := eval[string](b, `document.querySelector('.uitem').dataset.assetId`)
		sum := sha256.Sum256(big)
		if a := e.login().waitSettled(asset); a.SHA256 != hex.EncodeToString(sum[:]) || a.Filename != "Sin respuesta.jpg" {
			t.Errorf("stored %s %q, want %x", a.SHA256, a.Filename, sum)
		}
		reqs := watch.requests()
		for _, r := range reqs {
			if r.Method == "POST" || (r.Method == "PATCH" && r.Offset != len(big)) {
				t.Errorf("tus requests = %v, want a HEAD and an empty PATCH at %d", reqs, len(big))
				break
			}
		}
	})

	t.Run("a dropped connection resumes from the server's offset", func(t *testing.T) {
		b := br.with(t)
		big := noisePhoto(t, 1200, 900)
		path := writeFile(t, dir, "Multitud.jpg", big)
		watch.reset()
		watch.dropAfter.Store(400 << 10)
		b.open("/upload")
		b.do(chromedp.SetUploadFiles("#u-files", []string{path}))
		b.until("the upload to finish", `document.querySelector('.uitem') && ["ready", "processing"].includes(document.querySelector('.uitem').dataset.state)`, 2*time.Minute)
		// The client may replay the cut PATCH (Chromium retries requests on
		// a reset keep-alive connection; tusd answers 409), but it must ask
		// the server (HEAD) and continue from the 400 KB it kept.
		posts, heads, resumed := 0, 0, false
		for _, r := range watch.requests() {
			switch {
			case r.Method == "POST":
				posts++
			case r.Method == "HEAD":
				heads++
			case r.Method == "PATCH" && r.Offset == 400<<10 && heads > 0:
				resumed = true
			}
		}
		if posts != 1 || !resumed {
			t.Errorf("tus requests = %v, want one creation, a HEAD and a PATCH from offset %d", watch.requests(), 400<<10)
		}
		id := eval[string](b, `document.querySelector('.uitem').dataset.assetId`)
		sum := sha256.Sum256(big)
		if a := e.login().waitSettled(id); a.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("stored %s, want %x", a.SHA256, sum)
		}
	})

	t.Run("search with and without accents, then a facet", func(t *testing.T) {
		b := br.with(t)
		// Keyboard only: type in the search box, Enter, Tab to the first card, Enter.
		b.open("/")
		b.do(chromedp.Focus("#q"), chromedp.KeyEvent("recorrido\r"))
		b.until("results for recorrido", `location.search.includes("q=recorrido") && document.getElementById("total").textContent.startsWith("1 ")`, 20*time.Second)
		b.do(chromedp.Focus(`.facets a`))
		for range 40 {
			if eval[bool](b, `!!document.activeElement.closest("#grid .card")`) {
				break
			}
			b.do(chromedp.KeyEvent("\t"))
		}
		b.do(chromedp.KeyEvent("\r"))
		b.until("the asset page, by keyboard", `location.pathname.startsWith("/assets/")`, 10*time.Second)

		for _, q := range []string{"inauguracion", "Inauguración", "ecologico"} {
			b.open("/?q=" + q)
			b.until("3 results for "+q, `document.getElementById("total").textContent.startsWith("3 ")`, 20*time.Second)
		}
		b.do(chromedp.Click(`.facets a[href*="kind=video"]`))
		b.until("one video", `location.search.includes("kind=video") && document.getElementById("total").textContent.startsWith("1 ")`, 10*time.Second)
		if n := eval[int](b, `document.querySelectorAll("#grid .card .dur").length`); n != 1 {
			t.Errorf("video cards with a duration badge = %d", n)
		}
		// Hover scrubbing: moving over the card draws a sprite tile.
		b.until("a scrub frame", `(() => {
			const th = document.querySelector(".thumb[data-vtt]"); const r = th.getBoundingClientRect();
			th.dispatchEvent(new PointerEvent("pointermove", {bubbles: true, clientX: r.left + r.width * 0.7, clientY: r.top + 5}));
			const c = th.querySelector("canvas.scrub"); return !!c && !c.hidden && c.width > 0; })()`, 10*time.Second)
		b.open("/?q=parque")
		b.shot("03-search")
		b.do(chromedp.EmulateViewport(360, 780))
		b.open("/?q=parque")
		if w := eval[int](b, `document.documentElement.scrollWidth`); w > 360 {
			t.Errorf("search page is %d px wide at 360 px", w)
		}
		b.shot("04-search-360px")
		b.do(chromedp.EmulateViewport(1280, 900))
	})

	t.Run("video plays and a clip downloads", func(t *testing.T) {
		b := br.with(t)
		b.open("/?kind=video")
		b.do(chromedp.Click("#grid .card a"))
		b.until("the video page", `!!document.getElementById("player")`, 10*time.Second)
		eval[bool](b, `(async () => { const v = document.getElementById("player"); v.muted = true; await v.play(); return true; })()`)
		b.until("playback past 1 s", `document.getElementById("player").currentTime > 1`, 20*time.Second)
		b.do(chromedp.Click("#mark-in"))
		b.until("playback past 2.5 s", `document.getElementById("player").currentTime > 2.5`, 20*time.Second)
		b.do(chromedp.Click("#mark-out"))
		eval[bool](b, `(() => { document.getElementById("player").pause(); return true; })()`)
		type clip struct {
			Href   string  `json:"href"`
			Status int     `json:"status"`
			Type   string  `json:"type"`
			Size   int     `json:"size"`
			In     float64 `json:"in"`
		}
		got := eval[clip](b, `(async () => { const a = document.getElementById("clip-link");
			const r = await fetch(a.href); const buf = await r.arrayBuffer();
			return {href: a.getAttribute("href"), status: r.status, type: r.headers.get("content-type"), size: buf.byteLength,
			        in: Number(new URL(a.href).searchParams.get("start"))}; })()`)
		if got.Status != 200 || got.Type != "video/mp4" || got.Size < 1000 || got.In < 1 {
			t.Errorf("clip = %+v, want a video/mp4 starting after 1 s", got)
		}
		b.shot("05-asset-video")
	})

	t.Run("audio waveform draws", func(t *testing.T) {
		b := br.with(t)
		b.open("/?kind=audio")
		b.do(chromedp.Click("#grid .card a"))
		// Opaque pixels are the wave itself; the in/out range is translucent.
		b.until("a drawn waveform", `(() => { const c = document.getElementById("waveform"); if (!c) return false;
			const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data; let n = 0;
			for (let i = 3; i < d.length; i += 4) if (d[i] === 255) n++; return n > c.width * 10; })()`, 20*time.Second)
		b.shot("06-asset-audio")
	})

	t.Run("a title that is HTML stays text", func(t *testing.T) {
		b := br.with(t)
		b.open("/?kind=photo&sort=captured_at")
		b.do(chromedp.Click(`#grid .card a[href] img[alt="Corte de listón.jpg"]`))
		b.until("the photo page", `!!document.getElementById("edit-form")`, 10*time.Second)
		b.do(chromedp.Clear("#e-title"), chromedp.SendKeys("#e-title", evilTitle), chromedp.Click(`#edit-form button[type="submit"]`))
		b.until("saved", `document.getElementById("edit-status").textContent === "Guardado."`, 10*time.Second)
		// Keyboard: Enter on the focused photo zooms it.
		b.do(chromedp.Focus("#zoom"), chromedp.KeyEvent("\r"))
		b.until("the zoomed photo", `document.getElementById("zoom").getAttribute("aria-pressed") === "true"`, 5*time.Second)
		b.shot("07-asset-photo")
		event := eval[string](b, `document.querySelector('a[href^="/events/"]').getAttribute("href")`)
		for _, p := range []string{eval[string](b, `location.pathname`), "/?q=onerror", event, "/?kind=photo"} {
			// The index follows the edit a moment later: reload until it shows.
			shows := `document.body.textContent.includes(` + jsString(evilTitle) + `) || [...document.images].some(i => i.alt === ` + jsString(evilTitle) + `)`
			for deadline := time.Now().Add(15 * time.Second); ; {
				b.open(p)
				if eval[bool](b, shows) || time.Now().After(deadline) {
					break
				}
				time.Sleep(200 * time.Millisecond)
			}
			if n := eval[int](b, `document.querySelectorAll('img[src="x"]').length`); n != 0 {
				t.Errorf("%s has %d injected images", p, n)
			}
			if !eval[bool](b, shows) {
				t.Errorf("%s does not show the title as text", p)
			}
		}
	})

	t.Run("every page", func(t *testing.T) {
		b := br.with(t)
		// A broken photo, so the admin page has a failed job to retry.
		c := e.login()
		good := photo(t, 320, 240, 61)
		var bad assetJSON
		decode(t, c.upload("cortada.jpg", good[:len(good)/2], nil), http.StatusCreated, &bad)
		c.waitSettled(bad.ID)
		for i, p := range []struct{ path, name, ready string }{
			{"/events", "08-events", ".cards-list"},
			{"", "09-event", "#grid"},
			{"/people", "10-people", ".cards-list"},
			{"/timeline", "11-timeline", ".months"},
			{"/admin", "12-admin", "table"},
			{"/lang/en?back=/%3Fq%3Dparque", "13-search-english", "#grid"},
		} {
			path := p.path
			if path == "" {
				b.open("/events")
				path = eval[string](b, `document.querySelector(".cards-list a").getAttribute("href")`)
			}
			b.open(path)
			b.until(p.name, `!!document.querySelector(`+jsString(p.ready)+`)`, 10*time.Second)
			if i == 5 && eval[string](b, `document.documentElement.lang`) != "en" {
				t.Errorf("the switch did not change the language to English")
			}
			b.shot(p.name)
		}
		b.open("/admin")
		b.do(chromedp.Click("button.retry"))
		b.until("the retry to be accepted", `document.getElementById("retry-status").textContent === "Job queued again."`, 10*time.Second)
	})

	t.Run("infinite scroll and 360 px", func(t *testing.T) {
		b := br.with(t)
		b.open("/lang/es?back=/")
		c := e.login()
		for i := range 50 {
			decode(t, c.upload("serie.jpg", photo(t, 48, 32, byte(100+i)), map[string]string{"tags": "serie"}), http.StatusCreated, nil)
		}
		for deadline := time.Now().Add(20 * time.Second); ; {
			b.open("/?tag=serie&sort=uploaded_at")
			if eval[bool](b, `document.getElementById("total").textContent.startsWith("50 ")`) || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if n := eval[int](b, `document.querySelectorAll("#grid .card").length`); n >= 50 {
			t.Fatalf("first page already has %d cards", n)
		}
		b.until("all 50 cards after scrolling", `(() => { window.scrollTo(0, document.body.scrollHeight);
			return document.querySelectorAll("#grid .card").length === 50 && !document.querySelector("#grid .more"); })()`, 20*time.Second)
		if n := eval[int](b, `new Set([...document.querySelectorAll("#grid .card a")].map(a => a.getAttribute("href"))).size`); n != 50 {
			t.Errorf("distinct cards = %d, want 50", n)
		}

		b.do(chromedp.EmulateViewport(360, 780))
		defer b.do(chromedp.EmulateViewport(1280, 900))
		for _, p := range []struct{ path, name string }{{"/upload", "14-upload-360px"}, {"/?kind=video", ""}, {"/admin", ""}} {
			b.open(p.path)
			if p.name == "" && strings.Contains(p.path, "video") {
				b.do(chromedp.Click("#grid .card a"))
				b.until("the video page", `!!document.getElementById("player")`, 10*time.Second)
				p.name = "15-asset-video-360px"
			}
			if w := eval[int](b, `document.documentElement.scrollWidth`); w > 360 {
				wide := eval[string](b, `[...document.querySelectorAll("body *")].filter(el => el.getBoundingClientRect().right > 362).slice(0, 5).map(el => el.tagName + "." + el.className).join(", ")`)
				t.Errorf("%s is %d px wide at 360 px: %s", p.path, w, wide)
			}
			if p.name != "" {
				b.shot(p.name)
			}
		}
	})
}
