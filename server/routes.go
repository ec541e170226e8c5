package server

import (
	_ "embed"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/comsoc/acervo/catalog"
)

// routes lists every route. Everything under /api/v1 except login needs a
// session or a bearer token.
func (s *Server) routes() {
	e := s.echo
	e.Use(securityHeaders)

	e.GET("/healthz", s.healthz)
	e.GET("/metrics", s.getMetrics)
	e.GET("/.well-known/acervo-key", s.getPublicKey)

	api := e.Group("/api/v1")
	api.POST("/login", s.login)
	api.POST("/verify", s.postVerify)

	authed := api.Group("", s.authenticate)
	authed.POST("/logout", s.logout)
	authed.GET("/me", s.me)
	authed.GET("/openapi.yaml", getOpenAPI)

	authed.POST("/tokens", s.createToken)
	authed.GET("/tokens", s.listTokens)
	authed.DELETE("/tokens/:id", s.deleteToken)

	viewer := require(catalog.RoleViewer)
	authed.POST("/assets", s.uploadAsset, require(catalog.RoleContributor))
	authed.GET("/assets/:id", s.getAsset, viewer)
	authed.GET("/assets/:id/original", s.getOriginal, viewer)
	authed.HEAD("/assets/:id/original", s.getOriginal, viewer)
	authed.GET("/assets/:id/renditions/:name", s.getRendition, viewer)
	authed.HEAD("/assets/:id/renditions/:name", s.getRendition, viewer)
	authed.GET("/assets/:id/clip", s.getClip, viewer)
	authed.GET("/assets/:id/provenance", s.getProvenance, viewer)
	authed.GET("/assets/:id/similar", s.getSimilar, viewer)
	authed.GET("/search", s.search, viewer)
	authed.PATCH("/assets/:id", s.patchAsset, require(catalog.RoleContributor))
	authed.POST("/assets/batch", s.batchAssets, require(catalog.RoleContributor))
	authed.DELETE("/assets/:id", s.deleteAsset, require(catalog.RoleContributor))

	editor := require(catalog.RoleEditor)
	authed.GET("/events", s.listEvents, viewer)
	authed.POST("/events", s.createEvent, editor)
	authed.GET("/events/:id", s.getEvent, viewer)
	authed.PATCH("/events/:id", s.updateEvent, editor)
	authed.DELETE("/events/:id", s.deleteEvent, editor)
	authed.GET("/people", s.listPeople, viewer)
	authed.POST("/people", s.createPerson, editor)
	authed.GET("/people/:id", s.getPerson, viewer)
	authed.PATCH("/people/:id", s.updatePerson, editor)
	authed.DELETE("/people/:id", s.deletePerson, editor)
	authed.GET("/tags", s.listTags, viewer)
	authed.PATCH("/tags/:name", s.renameTag, editor)
	authed.DELETE("/tags/:name", s.deleteTag, editor)

	authed.GET("/collections", s.listCollections, viewer)
	authed.POST("/collections", s.createCollection, editor)
	authed.GET("/collections/:id", s.getCollection, viewer)
	authed.PATCH("/collections/:id", s.patchCollection, editor)
	authed.DELETE("/collections/:id", s.deleteCollection, editor)
	authed.POST("/assets/:id/restore", s.restoreAsset, editor)
	authed.GET("/collections/:id/zip", s.collectionZip, viewer)
	authed.GET("/shares", s.listShares, editor)
	authed.POST("/shares", s.createShare, editor)
	authed.GET("/shares/:id", s.getShare, editor)
	authed.DELETE("/shares/:id", s.revokeShare, editor)

	admin := require(catalog.RoleAdmin)
	authed.GET("/jobs", s.listJobs, admin)
	authed.GET("/users", s.listUsers, admin)
	authed.POST("/users", s.createUser, admin)
	authed.GET("/users/:id", s.getUser, admin)
	authed.PATCH("/users/:id", s.patchUser, admin)
	authed.DELETE("/users/:id/sessions", s.revokeUserSessions, admin)
	authed.GET("/audit", s.getAudit, admin)
	authed.GET("/audit/verify", s.verifyAudit, admin)
	authed.GET("/backup/catalog", s.getCatalogSnapshot, admin) // backup.go

	// The public authenticity check (verify.go, verify_page.go).
	e.GET("/verify", s.verifyPage, verifyPolicy)
	e.GET("/verify/verify.js", serveVerifyJS, verifyPolicy)
	e.GET("/verify/verify.css", serveVerifyCSS, verifyPolicy)
	e.GET("/verify/preview/:id", s.verifyPreview, verifyPolicy)

	// Share links, for people without an account (see public.go for the
	// order of checks every one of these routes makes).
	pub := e.Group("/s", sharePolicy)
	pub.GET("/_/share.css", serveShareCSS)
	pub.GET("/:token", s.sharePage)
	pub.GET("/:token/share.json", s.shareJSONView)
	pub.POST("/:token/unlock", s.unlockShare)
	pub.GET("/:token/assets/:id/renditions/:name", s.shareRendition)
	pub.HEAD("/:token/assets/:id/renditions/:name", s.shareRendition)
	pub.GET("/:token/assets/:id/original", s.shareOriginal)
	pub.HEAD("/:token/assets/:id/original", s.shareOriginal)
	pub.GET("/:token/zip", s.shareZip)

	// Issue #6: tus resumable uploads (tus.go). OPTIONS needs no session,
	// as the protocol's discovery.
	contributor := require(catalog.RoleContributor)
	api.OPTIONS("/uploads/", s.serveTus)
	api.OPTIONS("/uploads/:id", s.serveTus)
	authed.POST("/uploads/", s.serveTus, contributor)
	authed.HEAD("/uploads/:id", s.serveTus, contributor)
	authed.PATCH("/uploads/:id", s.serveTus, contributor)
	authed.DELETE("/uploads/:id", s.serveTus, contributor)

	// Issue #6: retrying a failed job from the admin page (jobs.go).
	authed.POST("/jobs/:id/retry", s.retryJob, admin)

	// Issue #6: the browser pages (pages*.go, templates in ui/). They use
	// the session cookie; signed-out visitors are sent to /login.
	e.GET("/static/*", echo.WrapHandler(http.StripPrefix("/static/", s.ui.Static())))
	e.GET("/login", s.page(s.loginPage))
	e.GET("/lang/:lang", s.setLang)
	// Not an Echo group: a group's middleware would also catch every
	// unknown path, API ones included.
	page := func(path string, h pageHandler, m ...echo.MiddlewareFunc) {
		e.GET(path, s.page(h), append([]echo.MiddlewareFunc{s.pageSession}, m...)...)
	}
	page("/", s.searchPage)
	page("/assets/:id", s.assetPage)
	page("/upload", s.uploadPage, s.pageRole(catalog.RoleContributor))
	page("/events", s.eventsPage)
	page("/events/:id", s.eventPage)
	page("/people", s.peoplePage)
	page("/people/:id", s.personPage)
	page("/timeline", s.timelinePage)
	page("/admin", s.adminPage, s.pageRole(catalog.RoleAdmin))
	page("/admin/users", s.usersPage, s.pageRole(catalog.RoleAdmin))
	page("/collections", s.collectionsPage)
	page("/collections/:id", s.collectionPage)
	page("/shares", s.sharesPage, s.pageRole(catalog.RoleEditor))
}

// securityHeaders are set on every response (DESIGN.md invariant 6): no
// sniffing, no framing, no referrer leaks of share tokens, and a strict CSP.
// HTML pages and their static files get pageCSP instead: same-origin
// scripts, styles, images, media and fetches, never 'unsafe-inline'.
//
// The keys are written in canonical form and the values share one
// allocation: this runs on every request, thumbnails included.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		csp := "default-src 'none'; frame-ancestors 'none'"
		if isPagePath(c.Request().URL.Path) {
			csp = pageCSP
		}
		v := []string{"nosniff", "DENY", "no-referrer", csp, "same-origin"}
		h := c.Response().Header()
		h["X-Content-Type-Options"] = v[0:1:1]
		h["X-Frame-Options"] = v[1:2:2]
		h["Referrer-Policy"] = v[2:3:3]
		h["Content-Security-Policy"] = v[3:4:4]
		h["Cross-Origin-Resource-Policy"] = v[4:5:5]
		return next(c)
	}
}

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) listJobs(c echo.Context) error {
	jobs, err := s.cat.Jobs(c.QueryParam("state"), 200)
	if err != nil {
		return err
	}
	byKind, err := s.cat.QueuedByKind()
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"jobs": jobs, "queued_by_kind": byKind})
}

//go:embed openapi.yaml
var openAPI []byte

// getOpenAPI serves the API contract, so clients and people read the same one.
func getOpenAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/yaml; charset=utf-8", openAPI)
}

// Routes lists every registered route as "METHOD path", sorted: the
// authorization matrix test fails on any route it does not cover.
func (s *Server) Routes() []string {
	var out []string
	for _, r := range s.echo.Routes() {
		out = append(out, r.Method+" "+r.Path)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
