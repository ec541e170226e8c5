package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestSharingInChromium: an editor builds a collection and reorders it,
// makes a password-protected share link from the page, and a journalist in
// a fresh browser profile opens it, gives the password, sees the previews
// and plays the video; the editor then revokes it from the link list, and
// scrubs the video with the sprite preview; an admin changes a role on the
// users page. Screenshots go with the others.
func TestSharingInChromium(t *testing.T) {
	requireTools(t, "chromium", "ffmpeg")
	e := start(t)
	admin := e.login()
	video := generate(t, "v.mp4", "-f", "lavfi", "-i", "testsrc2=s=640x360:r=25:d=6", "-f", "lavfi", "-i", "sine=f=440:d=6",
		"-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest", "-f", "mp4")
	v := admin.uploadReady("Recorrido.mp4", video)
	p := admin.uploadSettled("Corte de listón.jpg", photo(t, 1200, 800, 12), map[string]string{"title": "<img src=x onerror=alert(1)>"})
	e.loginAs("lectora", "viewer")

	br := newBrowser(t, e.srv.URL)
	br.open("/login")
	br.do(chromedp.SendKeys("#username", "admin"), chromedp.SendKeys("#password", adminPassword), chromedp.Click(`#login-form button[type="submit"]`))
	br.until("signed in", `location.pathname === "/"`, 10*time.Second)

	var shareURL string
	t.Run("collection and share link", func(t *testing.T) {
		b := br.with(t)
		b.open("/collections")
		b.do(chromedp.SendKeys("#c-name", "Kit de prensa: inauguración"), chromedp.Click(`#new-collection button[type="submit"]`))
		b.until("the new collection", `location.pathname.startsWith("/collections/") && !!document.getElementById("collection-items")`, 10*time.Second)
		colPath := eval[string](b, `location.pathname`)
		for _, id := range []string{p.ID, v.ID} {
			b.open("/assets/" + id)
			b.do(chromedp.Click(`#add-to-collection button[type="submit"]`))
			b.until("added", `document.getElementById("add-status").textContent !== ""`, 10*time.Second)
		}
		b.open(colPath)
		b.until("two items", `document.querySelectorAll("#collection-items li[data-asset]").length === 2`, 10*time.Second)
		b.do(chromedp.Click(`#collection-items li:nth-child(2) .move-up`))
		b.until("saved", `document.getElementById("collection-status").textContent !== ""`, 10*time.Second)
		col, err := e.cat.Collection(strings.TrimPrefix(colPath, "/collections/"))
		if err != nil || len(col.AssetIDs) != 2 || col.AssetIDs[0] != v.ID {
			t.Fatalf("order after moving the video up = %v (%v)", col.AssetIDs, err)
		}
		if n := eval[int](b, `document.querySelectorAll("img[src='x']").length`); n != 0 {
			t.Errorf("the injected title became %d <img> elements", n)
		}
		b.do(chromedp.SendKeys("#s-recipient", "Diario La Voz"), chromedp.SendKeys("#s-password", "clave-de-prensa"),
			chromedp.Click("#s-download"), chromedp.SendKeys("#s-watermark", "Comunicación Social"),
			chromedp.Click(`#share-form button[type="submit"]`))
		b.until("the link", `!document.getElementById("share-result").hidden && document.getElementById("share-url").value.includes("/s/")`, 10*time.Second)
		shareURL = eval[string](b, `document.getElementById("share-url").value`)
		b.shot("16-collection")
		b.do(chromedp.EmulateViewport(360, 780))
		for _, path := range []string{colPath, "/collections", "/shares", "/assets/" + p.ID} {
			b.open(path)
			if w := eval[int](b, `document.documentElement.scrollWidth`); w > 360 {
				t.Errorf("%s is %d px wide at 360 px: %s", path, w, eval[string](b, `[...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > 360).map(e => e.tagName + "." + e.className + "#" + e.id + ":" + Math.round(e.getBoundingClientRect().right)).slice(0, 8).join(" ")`))
			}
		}
		b.do(chromedp.EmulateViewport(1280, 900))
	})
	if shareURL == "" {
		t.Fatal("no share link")
	}

	t.Run("journalist opens it in a fresh profile", func(t *testing.T) {
		j := newBrowser(t, "")
		j.do(chromedp.Navigate(shareURL), chromedp.WaitReady("body"))
		j.until("the password form", `!!document.getElementById("password")`, 10*time.Second)
		j.shot("17-share-locked")
		j.do(chromedp.SendKeys("#password", "clave-de-prensa"), chromedp.Submit("#password"))
		j.until("the page with previews loaded", `document.querySelectorAll(".item").length === 2 &&
			[...document.querySelectorAll(".item img")].every(i => i.complete && i.naturalWidth > 0)`, 20*time.Second)
		if got := eval[string](j, `document.querySelector("h1").textContent`); got != "Kit de prensa: inauguración" {
			t.Errorf("title = %q", got)
		}
		if n := eval[int](j, `document.querySelectorAll("img[src='x']").length`); n != 0 {
			t.Errorf("the injected title became %d <img> elements on the share page", n)
		}
		eval[bool](j, `(async () => { const v = document.querySelector("video"); v.muted = true; await v.play(); return true; })()`)
		j.until("the video plays", `document.querySelector("video").currentTime > 0.5`, 20*time.Second)
		j.shot("18-share-page")
	})

	t.Run("link list and revoke", func(t *testing.T) {
		b := br.with(t)
		b.open("/shares")
		b.until("the link with its views", `[...document.querySelectorAll("#shares tbody tr")].some(r => r.textContent.includes("Diario La Voz"))`, 10*time.Second)
		b.shot("19-shares")
		eval[bool](b, `window.confirm = () => true; true`)
		b.do(chromedp.Click("#shares button.revoke"))
		b.until("revoked", `document.querySelector("#shares .state").textContent === "revocado"`, 10*time.Second)
		body, resp := e.journalist().get(strings.TrimPrefix(shareURL, e.srv.URL))
		if resp.StatusCode != 410 {
			t.Errorf("revoked link = %d %.100s", resp.StatusCode, body)
		}
	})

	t.Run("video seek bar previews the sprite", func(t *testing.T) {
		b := br.with(t)
		b.open("/assets/" + v.ID)
		b.until("the seek bar", `!!document.getElementById("seek-range")`, 10*time.Second)
		b.until("a preview tile on hover", `(() => {
			const r = document.getElementById("seek-range"), box = r.getBoundingClientRect();
			r.dispatchEvent(new PointerEvent("pointermove", {clientX: box.left + box.width * 0.6, clientY: box.top + 2, bubbles: true}));
			const c = document.getElementById("seek-preview");
			return !c.hidden && c.width > 0;
		})()`, 10*time.Second)
		b.shot("21-asset-video-seek")
		eval[bool](b, `(() => { const r = document.getElementById("seek-range"); r.value = "3"; r.dispatchEvent(new Event("change")); return true; })()`)
		b.until("the video at 3 s", `Math.abs(document.getElementById("player").currentTime - 3) < 0.2`, 10*time.Second)
	})

	t.Run("users", func(t *testing.T) {
		b := br.with(t)
		b.open("/admin/users")
		b.until("the users", `document.querySelectorAll("#users tbody tr").length >= 2`, 10*time.Second)
		b.do(chromedp.SetValue(`#users tbody tr:nth-child(2) select.role`, "editor"))
		eval[bool](b, `document.querySelector("#users tbody tr:nth-child(2) select.role").dispatchEvent(new Event("change", {bubbles: true}))`)
		b.until("saved", `document.getElementById("users-status").textContent === "Guardado."`, 10*time.Second)
		u, err := e.cat.UserByName("lectora")
		if err != nil || u.Role != "editor" {
			t.Errorf("lectora's role = %q (%v), want editor", u.Role, err)
		}
		b.shot("20-users")
	})
}
