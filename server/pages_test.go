package server_test

import (
	"html"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/comsoc/acervo/transcode/pdftest"
)

const evilTitle = `<img src=x onerror=alert(1)>`

func (c *client) page(path string) (string, *http.Response) {
	c.e.t.Helper()
	b, resp := c.get(path)
	return string(b), resp
}

func TestPagesRenderEscapedUnderAStrictCSP(t *testing.T) {
	e := start(t)
	c := e.login()
	a := c.uploadSettled("evento.jpg", photo(t, 640, 480, 31), map[string]string{
		"title": evilTitle, "event": "Informe <b>anual</b>", "people": "Clara Brugada", "tags": "obra, <script>",
	})

	anon := &client{Client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, e: e}
	_, resp := anon.page("/assets/" + a.ID)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next=%2Fassets%2F"+a.ID {
		t.Errorf("signed out = %d → %q, want 303 to the sign-in page", resp.StatusCode, resp.Header.Get("Location"))
	}
	body, resp := anon.page("/login")
	if resp.StatusCode != 200 || !strings.Contains(body, `id="login-form"`) {
		t.Errorf("sign-in page = %d", resp.StatusCode)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("page CSP = %q", csp)
	}
	if _, resp := c.get("/api/v1/me"); resp.Header.Get("Content-Security-Policy") != "default-src 'none'; frame-ancestors 'none'" {
		t.Errorf("API CSP = %q, want the strict one", resp.Header.Get("Content-Security-Policy"))
	}

	ev := c.metaAsset(a.ID).Event
	paths := []string{"/", "/?q=evento", "/assets/" + a.ID, "/events", "/events/" + ev.ID, "/people", "/timeline", "/admin", "/upload",
		"/?fragment=1&page=1"}
	for _, p := range paths {
		t.Run(p, func(t *testing.T) {
			body, resp := c.page(p)
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
				t.Fatalf("%s = %d %s", p, resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			for _, raw := range []string{"<img src=x", "<b>anual</b>", "<script>,", "<script>alert"} {
				if strings.Contains(body, raw) {
					t.Errorf("%s contains unescaped %q", p, raw)
				}
			}
			if strings.Contains(body, " style=") || strings.Contains(body, " onclick=") || strings.Contains(body, "<script>") {
				t.Errorf("%s has inline style, handler or script", p)
			}
		})
	}
	if body, _ := c.page("/assets/" + a.ID); !strings.Contains(body, html.EscapeString(evilTitle)) {
		t.Errorf("asset page does not show the title as text")
	}
	if body, _ := c.page("/"); !strings.Contains(body, `lang="es-MX"`) || !strings.Contains(body, "Buscar") {
		t.Errorf("home is not in Spanish by default")
	}

	t.Run("language switch", func(t *testing.T) {
		noFollow := &client{Client: &http.Client{Jar: c.Jar, CheckRedirect: anon.CheckRedirect}, e: e}
		_, resp := noFollow.page("/lang/en?back=//evil.example/x")
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
			t.Errorf("switch = %d → %q, want 303 to /", resp.StatusCode, resp.Header.Get("Location"))
		}
		if body, _ := c.page("/events"); !strings.Contains(body, `lang="en"`) || !strings.Contains(body, "Sign out") {
			t.Errorf("English not applied after the switch")
		}
		c.page("/lang/es?back=/")
	})

	t.Run("unknown pages are HTML, unknown API routes JSON", func(t *testing.T) {
		html := map[string]string{"Accept": "text/html,application/xhtml+xml"}
		resp := c.do("GET", "/no-existe", "", nil, html)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 404 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(b), "No encontrado") {
			t.Errorf("unknown page = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		expectError(t, c.do("GET", "/api/v1/no-existe", "", nil, html), http.StatusNotFound, "not_found")
		noFollow := &client{Client: &http.Client{Jar: c.Jar, CheckRedirect: anon.CheckRedirect}, e: e}
		if _, resp := noFollow.page("/login?next=/timeline"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/timeline" {
			t.Errorf("signed-in /login = %d → %q, want 303 to /timeline", resp.StatusCode, resp.Header.Get("Location"))
		}
	})

	t.Run("roles", func(t *testing.T) {
		v := e.loginAs("consulta", "viewer")
		for _, p := range []string{"/admin", "/upload"} {
			body, resp := v.page(p)
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Sin permiso") {
				t.Errorf("viewer %s = %d", p, resp.StatusCode)
			}
		}
		body, _ := v.page("/assets/" + a.ID)
		if strings.Contains(body, `id="edit-form"`) {
			t.Errorf("viewer sees the edit form")
		}
		if body, resp := v.page("/assets/nonexistent"); resp.StatusCode != 404 || !strings.Contains(body, "No encontrado") {
			t.Errorf("missing asset = %d", resp.StatusCode)
		}
	})
}

// The asset page of a press bulletin shows its first page and its text.
func TestDocumentPageShowsPreviewAndText(t *testing.T) {
	requireTools(t, "pdftoppm", "pdfinfo", "pdftotext")
	e := start(t)
	c := e.login()
	doc := c.uploadReady("Boletín 45.pdf", pdftest.TextPage(`Bolet\355n de prensa: inauguraci\363n`, `del tianguis de Azcapotzalco`))
	body, resp := c.page("/assets/" + doc.ID)
	if resp.StatusCode != 200 {
		t.Fatalf("document page = %d", resp.StatusCode)
	}
	for _, want := range []string{`class="docpage"`, "Texto del documento", "tianguis de Azcapotzalco", "Documento"} {
		if !strings.Contains(body, want) {
			t.Errorf("document page lacks %q", want)
		}
	}
	if strings.Contains(body, `id="clip"`) || strings.Contains(body, "video ligero") {
		t.Errorf("document page offers clips or a video proxy")
	}
}
