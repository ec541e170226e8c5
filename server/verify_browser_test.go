package server_test

import (
	"context"
	"image"
	"image/color"
	"image/draw"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/comsoc/acervo/server"
)

// TestVerifyPageInChromium picks a doctored copy of an archived photo in
// the /verify page of a real Chromium: the page posts it, shows the
// verdict, the visitor's picture (an object URL) beside the official
// preview (the signed link) with the differing region drawn over it, and
// the CSP reports no violation.
func TestVerifyPageInChromium(t *testing.T) {
	requireTools(t, "chromium")
	e := start(t)
	admin := e.login()
	orig := scene(1200, 800, 11)
	var up assetJSON
	decode(t, admin.upload("foto.jpg", encodeJPEG(t, orig, 92), map[string]string{"title": "Entrega de obra"}), http.StatusCreated, &up)
	admin.waitSettled(up.ID)
	doctored := image.NewRGBA(orig.Bounds())
	draw.Draw(doctored, doctored.Bounds(), orig, image.Point{}, draw.Src)
	draw.Draw(doctored, image.Rect(100, 450, 350, 700), &image.Uniform{color.RGBA{0, 255, 0, 255}}, image.Point{}, draw.Src)
	path := filepath.Join(t.TempDir(), "viral.jpg")
	if err := os.WriteFile(path, encodeJPEG(t, doctored, 80), 0o644); err != nil {
		t.Fatal(err)
	}
	page := e.verifyServer(server.VerifyConfig{PerMinute: 100})

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath("chromium"), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	if err := chromedp.Do(ctx, chromedp.Navigate(page.e.srv.URL+"/verify")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.cspViolations = []; document.addEventListener("securitypolicyviolation", e => cspViolations.push(e.violatedDirective)); true`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{path})); err != nil {
		t.Fatal(err)
	}
	type shown struct {
		Verdict     string   `json:"verdict"`
		Class       string   `json:"class"`
		Mine        int      `json:"mine"`
		Official    int      `json:"official"`
		Regions     int      `json:"regions"`
		Title       bool     `json:"title"`
		Violations  []string `json:"violations"`
		Explanation string   `json:"explanation"`
	}
	got, err := chromedp.Run(ctx, chromedp.Poll[shown](`(() => {
		const r = document.getElementById("result");
		const off = document.querySelector("#official img"), mine = document.querySelector("#mine img");
		if (r.hidden || !off || !off.complete || !off.naturalWidth || !mine || !mine.complete) return false;
		return {verdict: document.getElementById("verdict").textContent, class: document.getElementById("verdict").className,
			mine: mine.naturalWidth, official: off.naturalWidth, regions: document.querySelectorAll("#official .region").length,
			title: document.getElementById("facts").textContent.includes("Entrega de obra"),
			explanation: document.getElementById("explanation").textContent, violations: window.cspViolations};
	})()`))
	if err != nil {
		t.Fatalf("the page never showed a verdict: %v", err)
	}
	t.Logf("page shows: %+v", got)
	if got.Class != "similar" || got.Mine != 1200 || got.Official == 0 || got.Regions == 0 || !got.Title || got.Explanation == "" {
		t.Errorf("page shows %+v, want a similar verdict, both pictures, a region and the title", got)
	}
	if len(got.Violations) != 0 {
		t.Errorf("CSP violations: %v", got.Violations)
	}
}
