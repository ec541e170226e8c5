package ui

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func TestCatalogsHaveTheSameKeys(t *testing.T) {
	for k := range messagesES {
		if _, ok := messagesEN[k]; !ok {
			t.Errorf("English lacks %q", k)
		}
	}
	for k := range messagesEN {
		if _, ok := messagesES[k]; !ok {
			t.Errorf("Spanish lacks %q", k)
		}
	}
}

// TestTemplatesUseKnownKeys finds every literal key passed to .L.T in the
// templates and checks the catalogs have it.
func TestTemplatesUseKnownKeys(t *testing.T) {
	re := regexp.MustCompile(`\.[TN] "([a-z0-9.]+)"`)
	entries, err := templateFS.ReadDir("templates")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, _ := templateFS.ReadFile("templates/" + e.Name())
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			if _, ok := messagesES[m[1]]; !ok {
				t.Errorf("%s uses unknown key %q", e.Name(), m[1])
			}
		}
	}
}

func TestLang(t *testing.T) {
	for _, tc := range []struct{ cookie, accept, want string }{
		{"", "", Spanish},
		{"", "en-US,en;q=0.9", English},
		{"", "es-MX,es;q=0.9,en;q=0.8", Spanish},
		{"", "fr-FR", Spanish},
		{"es", "en-US", Spanish},
		{"en", "es-MX", English},
		{"xx", "en-GB", English},
	} {
		if got := Lang(tc.cookie, tc.accept); got != tc.want {
			t.Errorf("Lang(%q, %q) = %q, want %q", tc.cookie, tc.accept, got, tc.want)
		}
	}
}

func TestLocalizerFormats(t *testing.T) {
	es, en := NewLocalizer(Spanish, nil), NewLocalizer(English, nil)
	if got := es.Bytes(25_400_000); got != "25,4 MB" {
		t.Errorf("es bytes = %q", got)
	}
	if got := en.Bytes(25_400_000); got != "25.4 MB" {
		t.Errorf("en bytes = %q", got)
	}
	if got := Duration(3725); got != "1:02:05" {
		t.Errorf("duration = %q", got)
	}
	if got := Duration(65.4); got != "1:05" {
		t.Errorf("duration = %q", got)
	}
	if got := es.T("search.total", 3); got != "3 resultados" {
		t.Errorf("T = %q", got)
	}
	if got := en.Pick("Tipo no admitido / unsupported type"); got != "unsupported type" {
		t.Errorf("Pick en = %q", got)
	}
	if got := es.Pick("Tipo no admitido / unsupported type"); got != "Tipo no admitido" {
		t.Errorf("Pick es = %q", got)
	}
	if js := es.JS(); js["pause"] != "Pausar" || len(js) < 10 {
		t.Errorf("JS messages = %v", js)
	}
}

func TestErrorPageEscapesAndStaticIsVersioned(t *testing.T) {
	u, err := New()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	p := &Page{L: NewLocalizer(Spanish, nil), Title: "<b>x</b>", Data: `<img src=x onerror=alert(1)>`, Path: "/"}
	if err := u.RenderTo(&buf, "error", p); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	if strings.Contains(html, "<img src=x") || !strings.Contains(html, "&lt;img src=x onerror=alert(1)&gt;") {
		t.Errorf("user text not escaped:\n%s", html)
	}
	if strings.Contains(html, " style=") || strings.Contains(html, " onclick=") || regexp.MustCompile(`<script>`).MatchString(html) {
		t.Errorf("inline style, handler or script in the page:\n%s", html)
	}
	m := regexp.MustCompile(`/static/app\.js\?v=([0-9a-f]+)`).FindStringSubmatch(html)
	if m == nil {
		t.Fatalf("no versioned app.js in\n%s", html)
	}
	rec := httptest.NewRecorder()
	u.Static().ServeHTTP(rec, httptest.NewRequest("GET", "/app.js?v="+m[1], nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Header().Get("Cache-Control"), "immutable") ||
		!strings.HasPrefix(rec.Header().Get("Content-Type"), "text/javascript") {
		t.Errorf("static = %d %q %q", rec.Code, rec.Header().Get("Cache-Control"), rec.Header().Get("Content-Type"))
	}
	rec = httptest.NewRecorder()
	u.Static().ServeHTTP(rec, httptest.NewRequest("GET", "/../ui.go", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("path outside static = %d", rec.Code)
	}
}
