package server

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/ui"
)

// The browser interface (issue #6): server-rendered pages (ui package)
// with small JS islands that call the JSON API. Pages need a session
// cookie; without one they redirect to /login. Errors render as HTML pages
// in the user's language, never as JSON.

// pageHandler is a page's handler: it returns the template, title, nav
// entry and data to render, or an error.
type pageHandler func(c echo.Context, p *ui.Page) (name string, err error)

const ctxPage = "acervo.page"

// pageSession resolves the session cookie for pages: signed-out visitors
// go to the sign-in page and come back afterwards.
func (s *Server) pageSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		ck, err := req.Cookie(sessionCookie)
		if err == nil && ck.Value != "" {
			if sess, user, err := s.cat.SessionUser(ck.Value); err == nil {
				c.Set(ctxUser, user)
				c.Set(ctxSession, sess)
				return next(c)
			}
		}
		return c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(req.URL.RequestURI()))
	}
}

// newPage starts the page data every template gets.
func (s *Server) newPage(c echo.Context) *ui.Page {
	req := c.Request()
	lang := ""
	if ck, err := req.Cookie(ui.LangCookie); err == nil {
		lang = ck.Value
	}
	p := &ui.Page{
		L:    ui.NewLocalizer(ui.Lang(lang, req.Header.Get("Accept-Language")), s.cfg.Zone),
		Path: req.URL.RequestURI(),
	}
	if u := currentUser(c); u.ID != "" {
		p.User = ui.User{ID: u.ID, Username: u.Username, Name: u.Name, Role: u.Role,
			CanUpload: u.Can(catalog.RoleContributor), IsEditor: u.Can(catalog.RoleEditor), IsAdmin: u.Can(catalog.RoleAdmin)}
	}
	if sess, ok := c.Get(ctxSession).(catalog.Session); ok {
		p.CSRF = sess.CSRFToken
	}
	return p
}

// page adapts a pageHandler to Echo, rendering its answer or its error.
func (s *Server) page(h pageHandler) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := s.newPage(c)
		name, err := h(c, p)
		if err != nil {
			return s.renderPageError(c, p, err)
		}
		if name == "" { // the handler answered itself (a redirect)
			return nil
		}
		return s.ui.Render(c.Response(), http.StatusOK, name, p)
	}
}

func (s *Server) renderPageError(c echo.Context, p *ui.Page, err error) error {
	status, title, text := http.StatusInternalServerError, "error.internal", ""
	var ae *apiError
	var he *echo.HTTPError
	switch {
	case errors.Is(err, catalog.ErrNotFound):
		status, title = http.StatusNotFound, "error.notfound"
	case errors.Is(err, catalog.ErrForbidden):
		status, title = http.StatusForbidden, "error.forbidden"
	case errors.As(err, &he) && he.Code < 500:
		status, title = he.Code, "error.notfound"
	case errors.As(err, &ae) && ae.Status < 500:
		status, title, text = ae.Status, "error.notfound", p.L.Pick(ae.Message)
		if ae.Status == http.StatusForbidden {
			title = "error.forbidden"
		}
	default:
		id := catalog.NewID(time.Now())
		s.cfg.Log.Error("page failed", "error_id", id, "path", c.Request().URL.Path, "err", err)
		text = p.L.T("error.internal.text", id)
	}
	if text == "" {
		text = p.L.T(title + ".text")
	}
	p.Title, p.Data = p.L.T(title), text
	return s.ui.Render(c.Response(), status, "error", p)
}

// pageRole refuses a page to users below role, with an HTML 403.
func (s *Server) pageRole(role string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !currentUser(c).Can(role) {
				return s.renderPageError(c, s.newPage(c), catalog.ErrForbidden)
			}
			return next(c)
		}
	}
}

// wantsPage tells a browser navigating to a page path (which gets an HTML
// error page) from API clients (which get JSON).
func wantsPage(c echo.Context) bool {
	r := c.Request()
	return isPagePath(r.URL.Path) && !strings.HasPrefix(r.URL.Path, "/static/") && strings.Contains(r.Header.Get("Accept"), "text/html")
}

// loginPage is the sign-in form; login.js posts it to /api/v1/login.
// Someone already signed in goes straight on.
func (s *Server) loginPage(c echo.Context, p *ui.Page) (string, error) {
	if ck, err := c.Request().Cookie(sessionCookie); err == nil && ck.Value != "" {
		if _, _, err := s.cat.SessionUser(ck.Value); err == nil {
			return "", c.Redirect(http.StatusSeeOther, localPath(c.QueryParam("next")))
		}
	}
	p.Title = p.L.T("login.title")
	p.Data = struct{ Next string }{localPath(c.QueryParam("next"))}
	return "login", nil
}

// setLang remembers the language chosen with the switch and goes back.
func (s *Server) setLang(c echo.Context) error {
	lang := c.Param("lang")
	if lang != ui.Spanish && lang != ui.English {
		lang = ui.Spanish
	}
	c.SetCookie(&http.Cookie{
		Name: ui.LangCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.cfg.SecureCookies || c.Request().TLS != nil,
	})
	return c.Redirect(http.StatusSeeOther, localPath(c.QueryParam("back")))
}

// localPath keeps a redirect target on this site: a path, never
// "//other.host" or "https://…".
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, `/\`) {
		return "/"
	}
	return p
}

// pageCSP allows the pages their own scripts, styles, images and media,
// and nothing inline.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; " +
	"media-src 'self' blob:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// isPagePath tells HTML pages and their static files from the JSON API
// and machine routes, which keep the strict CSP.
func isPagePath(p string) bool {
	return !strings.HasPrefix(p, "/api/") && p != "/healthz" && p != "/metrics"
}
