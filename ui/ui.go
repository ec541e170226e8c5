// Package ui holds Acervo's browser interface: html/template pages, their
// static CSS and JavaScript islands (embedded, so `go build` ships them),
// the Spanish (es-MX, the default) and English message catalogs, and the
// template helpers. It knows nothing of HTTP routing or the catalog: the
// server fills a Page and calls Render.
//
// Pages follow one rule for safety: user data reaches HTML only through
// html/template (which escapes it) and, in JavaScript, only through
// textContent and attributes, never innerHTML. The pages run under a CSP
// without 'unsafe-inline', so there are no inline scripts, styles or event
// attributes: everything is in static/.
package ui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// UI renders pages and serves the static files. It is safe for concurrent
// use once built.
type UI struct {
	pages   map[string]*template.Template
	static  fs.FS
	version map[string]string // static file → short content hash
}

// User is who the page is for, as the layout shows them.
type User struct {
	ID, Username, Name, Role string
	// CanUpload, IsEditor and IsAdmin decide which navigation entries show.
	CanUpload, IsEditor, IsAdmin bool
}

// Page is what every template receives.
type Page struct {
	L *Localizer
	// User is the signed-in user; zero on the sign-in page.
	User User
	// CSRF is the session's token, for the JS islands' state changes.
	CSRF string
	// Path is the current path and query, for the language switch's way back.
	Path string
	// Title is the document title; Nav marks the active navigation entry.
	Title, Nav string
	// Data is the page's own content.
	Data any
}

// New parses the templates: each page is the layout plus its own file and
// the shared partials.
func New() (*UI, error) {
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	u := &UI{pages: map[string]*template.Template{}, static: static, version: map[string]string{}}
	if err := fs.WalkDir(static, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(static, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		u.version[p] = hex.EncodeToString(sum[:6])
		return nil
	}); err != nil {
		return nil, err
	}
	base, err := template.New("layout.html").Funcs(u.funcs()).ParseFS(templateFS, "templates/layout.html", "templates/_*.html")
	if err != nil {
		return nil, err
	}
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if name == "layout" || strings.HasPrefix(name, "_") {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, f)
		if err != nil {
			return nil, fmt.Errorf("ui: %s: %w", f, err)
		}
		u.pages[name] = t
	}
	return u, nil
}

// Render writes page name with status. It renders into a buffer first, so
// a template error never leaves half a page.
func (u *UI) Render(w http.ResponseWriter, status int, name string, p *Page) error {
	var buf bytes.Buffer
	if err := u.RenderTo(&buf, name, p); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// RenderTo executes page name into w. A page's "fragment" template, when
// asked as "name#fragment", renders without the layout (the search grid's
// next page, appended by the infinite scroll).
func (u *UI) RenderTo(w io.Writer, name string, p *Page) error {
	page, frag, _ := strings.Cut(name, "#")
	t, ok := u.pages[page]
	if !ok {
		return fmt.Errorf("ui: no page %q", page)
	}
	if frag != "" {
		return t.ExecuteTemplate(w, frag, p)
	}
	return t.ExecuteTemplate(w, "layout.html", p)
}

// Static serves the embedded CSS, JS and vendored files. URLs made by the
// templates carry the content hash (?v=), so those are cached for a year.
func (u *UI) Static() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		b, err := fs.ReadFile(u.static, name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		if v := r.URL.Query().Get("v"); v != "" && v == u.version[name] {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		h.Set("ETag", `"`+u.version[name]+`"`)
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
	})
}

// staticURL is the versioned URL of a static file.
func (u *UI) staticURL(name string) (string, error) {
	v, ok := u.version[name]
	if !ok {
		return "", fmt.Errorf("ui: no static file %q", name)
	}
	return "/static/" + name + "?v=" + v, nil
}
