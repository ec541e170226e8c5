package server_test

import (
	"net/http"
	"net/http/cookiejar"
	"slices"
	"strings"
	"testing"

	"github.com/comsoc/acervo/catalog"
)

// principal is someone calling the API, with the rank of their role:
// 0 anonymous or disabled, then viewer, contributor, editor, admin.
type principal struct {
	name string
	rank int
	c    *client
}

var rank = map[string]int{"": 0, catalog.RoleViewer: 1, catalog.RoleContributor: 2, catalog.RoleEditor: 3, catalog.RoleAdmin: 4}

// authzCase is one request to a route and the least role that may make it.
// own marks a contributor's own asset: contributors pass there and get 403
// on everyone else's.
type authzCase struct {
	path, body string
	min        string
	own        bool
	// page marks a browser page: below its role a signed-out visitor is
	// sent to /login (303) instead of getting 401.
	page bool
}

// publicRoutes need no account: they are tested by the share-link matrix
// and the health checks, not here.
var publicRoutes = []string{
	"GET /healthz", "GET /metrics", "POST /api/v1/login", "GET /s/_/share.css", "GET /.well-known/acervo-key",
	"POST /api/v1/verify", "GET /verify", "GET /verify/verify.js", "GET /verify/verify.css", "GET /verify/preview/:id", // verify_test.go
	"GET /s/:token", "GET /s/:token/share.json", "POST /s/:token/unlock", "GET /s/:token/zip",
	"GET /s/:token/assets/:id/original", "HEAD /s/:token/assets/:id/original",
	"GET /s/:token/assets/:id/renditions/:name", "HEAD /s/:token/assets/:id/renditions/:name",
	"echo_route_not_found /api/v1", "echo_route_not_found /api/v1/*", "echo_route_not_found /s", "echo_route_not_found /s/*",
	"GET /static/*", "GET /login", "GET /lang/:lang", "OPTIONS /api/v1/uploads/", "OPTIONS /api/v1/uploads/:id",
}

// TestAuthorizationMatrix builds the route list from the server's own
// routes and fails on any route that is neither public nor in the matrix.
// Every principal calls every route: below the route's role the answer is
// 401 (anonymous, disabled) or 403, never a 2xx; at or above it, never
// 401, 403 or 5xx. A state change with the session cookie but without the
// CSRF header is 403 on every route.
func TestAuthorizationMatrix(t *testing.T) {
	e := start(t)
	admin := e.login()
	viewer := e.loginAs("lectora", catalog.RoleViewer)
	contributor := e.loginAs("fotografo", catalog.RoleContributor)
	editor := e.loginAs("editora", catalog.RoleEditor)
	victim, _ := e.cat.CreateUser(catalog.NewUser{Username: "victima", Password: "contraseña-larga", Role: catalog.RoleViewer})

	// A disabled user keeps a bearer token from before; it must not work.
	gone, _ := e.cat.CreateUser(catalog.NewUser{Username: "baja", Password: "contraseña-larga", Role: catalog.RoleAdmin})
	goneToken, _, _ := e.cat.CreateToken(catalog.Actor{UserID: gone.ID}, "script")
	disabled := true
	if _, err := e.cat.UpdateUser(catalog.Actor{}, gone.ID, catalog.UserUpdate{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	anon := &client{Client: &http.Client{Jar: jar}, e: e}

	upload := func(c *client, seed byte, fields map[string]string) string {
		var a assetJSON
		decode(t, c.upload("foto.jpg", photo(t, 64, 48, seed), fields), http.StatusCreated, &a)
		return a.ID
	}
	other := upload(admin, 1, map[string]string{"tags": "parque,borrar", "event": "Informe", "people": "Alcaldesa"})
	otherDel := upload(admin, 2, nil)
	own := upload(contributor, 3, nil)
	ownDel := upload(contributor, 4, nil)
	admin.waitSettled(other)
	id := func(path string, v any) string {
		var out struct{ ID string }
		decode(t, admin.sendJSON("POST", path, v), http.StatusCreated, &out)
		return out.ID
	}
	event := id("/api/v1/events", map[string]string{"name": "Evento"})
	eventDel := id("/api/v1/events", map[string]string{"name": "Evento a borrar"})
	person := id("/api/v1/people", map[string]string{"name": "Persona"})
	personDel := id("/api/v1/people", map[string]string{"name": "Persona a borrar"})
	col := id("/api/v1/collections", map[string]any{"name": "Kit", "add": []string{other}})
	colDel := id("/api/v1/collections", map[string]any{"name": "Kit a borrar"})
	share := id("/api/v1/shares", map[string]any{"assets": []string{other}, "recipient": "Diario"})
	shareDel := id("/api/v1/shares", map[string]any{"assets": []string{other}, "recipient": "Radio"})
	token := id("/api/v1/tokens", map[string]string{"name": "del admin"})

	viewerOnly, contributorUp, editorUp, adminOnly := catalog.RoleViewer, catalog.RoleContributor, catalog.RoleEditor, catalog.RoleAdmin
	matrix := map[string][]authzCase{
		"GET /api/v1/me":                           {{path: "/api/v1/me", min: viewerOnly}},
		"GET /api/v1/openapi.yaml":                 {{path: "/api/v1/openapi.yaml", min: viewerOnly}},
		"POST /api/v1/logout":                      {{path: "/api/v1/logout", min: viewerOnly}},
		"POST /api/v1/tokens":                      {{path: "/api/v1/tokens", body: `{"name":"x"}`, min: viewerOnly}},
		"GET /api/v1/tokens":                       {{path: "/api/v1/tokens", min: viewerOnly}},
		"DELETE /api/v1/tokens/:id":                {{path: "/api/v1/tokens/" + token, min: viewerOnly}}, // others' tokens are 404
		"POST /api/v1/assets":                      {{path: "/api/v1/assets", min: contributorUp}},
		"GET /api/v1/assets/:id":                   {{path: "/api/v1/assets/" + other, min: viewerOnly}},
		"GET /api/v1/assets/:id/original":          {{path: "/api/v1/assets/" + other + "/original", min: viewerOnly}},
		"HEAD /api/v1/assets/:id/original":         {{path: "/api/v1/assets/" + other + "/original", min: viewerOnly}},
		"GET /api/v1/assets/:id/renditions/:name":  {{path: "/api/v1/assets/" + other + "/renditions/thumb.jpg", min: viewerOnly}},
		"HEAD /api/v1/assets/:id/renditions/:name": {{path: "/api/v1/assets/" + other + "/renditions/thumb.jpg", min: viewerOnly}},
		"GET /api/v1/assets/:id/clip":              {{path: "/api/v1/assets/" + other + "/clip?start=0&end=1", min: viewerOnly}},
		"GET /api/v1/search":                       {{path: "/api/v1/search?q=parque", min: viewerOnly}},
		"GET /api/v1/assets/:id/provenance":        {{path: "/api/v1/assets/" + other + "/provenance", min: viewerOnly}},
		"GET /api/v1/assets/:id/similar":           {{path: "/api/v1/assets/" + other + "/similar", min: viewerOnly}},
		"PATCH /api/v1/assets/:id": {
			{path: "/api/v1/assets/" + own, body: `{"title":"propio"}`, min: contributorUp, own: true},
			{path: "/api/v1/assets/" + other, body: `{"title":"ajeno"}`, min: editorUp},
		},
		"DELETE /api/v1/assets/:id": {
			{path: "/api/v1/assets/" + ownDel, min: contributorUp, own: true},
			{path: "/api/v1/assets/" + otherDel, min: editorUp},
		},
		"POST /api/v1/assets/:id/restore": {{path: "/api/v1/assets/" + otherDel + "/restore", min: editorUp}},
		"POST /api/v1/assets/batch": {
			{path: "/api/v1/assets/batch", body: `{"ids":["` + own + `"],"add":{"tags":["mío"]}}`, min: contributorUp, own: true},
			{path: "/api/v1/assets/batch", body: `{"ids":["` + own + `","` + other + `"],"add":{"tags":["x"]}}`, min: editorUp},
		},
		"GET /api/v1/events":                {{path: "/api/v1/events", min: viewerOnly}},
		"POST /api/v1/events":               {{path: "/api/v1/events", body: `{"name":"Nuevo evento"}`, min: editorUp}},
		"GET /api/v1/events/:id":            {{path: "/api/v1/events/" + event, min: viewerOnly}},
		"PATCH /api/v1/events/:id":          {{path: "/api/v1/events/" + event, body: `{"place":"Zócalo"}`, min: editorUp}},
		"DELETE /api/v1/events/:id":         {{path: "/api/v1/events/" + eventDel, min: editorUp}},
		"GET /api/v1/people":                {{path: "/api/v1/people", min: viewerOnly}},
		"POST /api/v1/people":               {{path: "/api/v1/people", body: `{"name":"Nueva persona"}`, min: editorUp}},
		"GET /api/v1/people/:id":            {{path: "/api/v1/people/" + person, min: viewerOnly}},
		"PATCH /api/v1/people/:id":          {{path: "/api/v1/people/" + person, body: `{"role":"Cargo"}`, min: editorUp}},
		"DELETE /api/v1/people/:id":         {{path: "/api/v1/people/" + personDel, min: editorUp}},
		"GET /api/v1/tags":                  {{path: "/api/v1/tags", min: viewerOnly}},
		"PATCH /api/v1/tags/:name":          {{path: "/api/v1/tags/parque", body: `{"name":"parques"}`, min: editorUp}},
		"DELETE /api/v1/tags/:name":         {{path: "/api/v1/tags/borrar", min: editorUp}},
		"GET /api/v1/collections":           {{path: "/api/v1/collections", min: viewerOnly}},
		"POST /api/v1/collections":          {{path: "/api/v1/collections", body: `{"name":"Otra"}`, min: editorUp}},
		"GET /api/v1/collections/:id":       {{path: "/api/v1/collections/" + col, min: viewerOnly}},
		"PATCH /api/v1/collections/:id":     {{path: "/api/v1/collections/" + col, body: `{"description":"d"}`, min: editorUp}},
		"DELETE /api/v1/collections/:id":    {{path: "/api/v1/collections/" + colDel, min: editorUp}},
		"GET /api/v1/collections/:id/zip":   {{path: "/api/v1/collections/" + col + "/zip", min: viewerOnly}},
		"GET /api/v1/shares":                {{path: "/api/v1/shares", min: editorUp}},
		"POST /api/v1/shares":               {{path: "/api/v1/shares", body: `{"assets":["` + other + `"],"recipient":"TV"}`, min: editorUp}},
		"GET /api/v1/shares/:id":            {{path: "/api/v1/shares/" + share, min: editorUp}},
		"DELETE /api/v1/shares/:id":         {{path: "/api/v1/shares/" + shareDel, min: editorUp}},
		"GET /api/v1/jobs":                  {{path: "/api/v1/jobs", min: adminOnly}},
		"GET /api/v1/users":                 {{path: "/api/v1/users", min: adminOnly}},
		"POST /api/v1/users":                {{path: "/api/v1/users", body: `{"username":"nueva","password":"contraseña-larga","role":"viewer"}`, min: adminOnly}},
		"GET /api/v1/users/:id":             {{path: "/api/v1/users/" + victim.ID, min: adminOnly}},
		"PATCH /api/v1/users/:id":           {{path: "/api/v1/users/" + victim.ID, body: `{"area":"Prensa"}`, min: adminOnly}},
		"DELETE /api/v1/users/:id/sessions": {{path: "/api/v1/users/" + victim.ID + "/sessions", min: adminOnly}},
		"GET /api/v1/audit":                 {{path: "/api/v1/audit", min: adminOnly}},
		"GET /api/v1/audit/verify":          {{path: "/api/v1/audit/verify", min: adminOnly}},
		"GET /api/v1/backup/catalog":        {{path: "/api/v1/backup/catalog", min: adminOnly}},
		"POST /api/v1/jobs/:id/retry":       {{path: "/api/v1/jobs/nope/retry", min: adminOnly}},
		"POST /api/v1/uploads/":             {{path: "/api/v1/uploads/", min: contributorUp}},
		"HEAD /api/v1/uploads/:id":          {{path: "/api/v1/uploads/nope", min: contributorUp}},
		"PATCH /api/v1/uploads/:id":         {{path: "/api/v1/uploads/nope", min: contributorUp}},
		"DELETE /api/v1/uploads/:id":        {{path: "/api/v1/uploads/nope", min: contributorUp}},
		"GET /":                             {{path: "/?q=parque", min: viewerOnly, page: true}},
		"GET /assets/:id":                   {{path: "/assets/" + other, min: viewerOnly, page: true}},
		"GET /upload":                       {{path: "/upload", min: contributorUp, page: true}},
		"GET /events":                       {{path: "/events", min: viewerOnly, page: true}},
		"GET /events/:id":                   {{path: "/events/" + event, min: viewerOnly, page: true}},
		"GET /people":                       {{path: "/people", min: viewerOnly, page: true}},
		"GET /people/:id":                   {{path: "/people/" + person, min: viewerOnly, page: true}},
		"GET /timeline":                     {{path: "/timeline", min: viewerOnly, page: true}},
		"GET /admin":                        {{path: "/admin", min: adminOnly, page: true}},
		"GET /admin/users":                  {{path: "/admin/users", min: adminOnly, page: true}},
		"GET /collections":                  {{path: "/collections", min: viewerOnly, page: true}},
		"GET /collections/:id":              {{path: "/collections/" + col, min: viewerOnly, page: true}},
		"GET /shares":                       {{path: "/shares", min: editorUp, page: true}},
	}

	routes := e.api.Routes()
	for _, r := range routes {
		if _, ok := matrix[r]; !ok && !slices.Contains(publicRoutes, r) {
			t.Errorf("route %s is neither public nor in the authorization matrix", r)
		}
	}
	for r := range matrix {
		if !slices.Contains(routes, r) {
			t.Errorf("matrix lists %s, which the server does not have", r)
		}
	}
	// Logout ends the session the other routes need: it goes last.
	slices.SortFunc(routes, func(a, b string) int {
		return cmpBool(strings.HasSuffix(a, "/logout"), strings.HasSuffix(b, "/logout"))
	})

	principals := []principal{
		{"anonymous", 0, anon},
		{"disabled", 0, &client{Client: &http.Client{}, e: e, token: goneToken}},
		{"viewer", 1, viewer}, {"contributor", 2, contributor}, {"editor", 3, editor}, {"admin", 4, admin},
	}
	noCSRF := &client{Client: admin.Client, e: e} // the admin's cookie, without the header
	for _, r := range routes {
		method := strings.Fields(r)[0]
		for _, tc := range matrix[r] {
			if method != "GET" && method != "HEAD" {
				expectError(t, noCSRF.do(method, tc.path, "application/json", strings.NewReader(tc.body), nil), http.StatusForbidden, "csrf")
			}
			for _, p := range principals {
				contentType := ""
				if tc.body != "" {
					contentType = "application/json"
				}
				c := p.c
				if tc.page { // see the redirect to /login instead of following it
					stay := *p.c.Client
					stay.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
					c = &client{Client: &stay, e: e, csrf: p.c.csrf, token: p.c.token}
				}
				resp := c.do(method, tc.path, contentType, strings.NewReader(tc.body), map[string]string{"Accept": "text/html"})
				resp.Body.Close()
				allowed := p.rank >= rank[tc.min] || (tc.own && p.name == "contributor")
				got := resp.StatusCode
				switch {
				case tc.page && !allowed && p.rank == 0:
					if got != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
						t.Errorf("page %s as %s = %d to %q, want 303 to /login", tc.path, p.name, got, resp.Header.Get("Location"))
					}
				case !allowed && p.rank == 0 && got != http.StatusUnauthorized:
					t.Errorf("%s %s as %s = %d, want 401", method, tc.path, p.name, got)
				case !allowed && p.rank > 0 && got != http.StatusForbidden:
					t.Errorf("%s %s as %s = %d, want 403", method, tc.path, p.name, got)
				case allowed && (got == http.StatusUnauthorized || got == http.StatusForbidden || got >= 500):
					t.Errorf("%s %s as %s = %d, want it allowed", method, tc.path, p.name, got)
				}
			}
		}
	}
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// TestObjectsOthersMayNotKnow: what a principal may not know exists is
// 404, not 403: another user's token, a trashed asset for a viewer.
func TestObjectsOthersMayNotKnow(t *testing.T) {
	e := start(t)
	admin := e.login()
	viewer := e.loginAs("lectora", catalog.RoleViewer)
	var tok struct{ ID string }
	decode(t, admin.sendJSON("POST", "/api/v1/tokens", map[string]string{"name": "admin"}), http.StatusCreated, &tok)
	expectError(t, viewer.do("DELETE", "/api/v1/tokens/"+tok.ID, "", nil, nil), http.StatusNotFound, "not_found")

	var a assetJSON
	decode(t, admin.upload("foto.jpg", photo(t, 64, 48, 9), nil), http.StatusCreated, &a)
	decode(t, admin.do("DELETE", "/api/v1/assets/"+a.ID, "", nil, nil), http.StatusNoContent, nil)
	for _, path := range []string{"", "/original", "/renditions/thumb.jpg"} {
		expectError(t, viewer.do("GET", "/api/v1/assets/"+a.ID+path, "", nil, nil), http.StatusNotFound, "not_found")
	}
	var seen struct {
		TrashedAt *string `json:"trashed_at"`
	}
	decode(t, admin.do("GET", "/api/v1/assets/"+a.ID, "", nil, nil), http.StatusOK, &seen)
	if seen.TrashedAt == nil {
		t.Error("an editor sees a trashed asset without trashed_at")
	}
	decode(t, admin.do("POST", "/api/v1/assets/"+a.ID+"/restore", "", nil, nil), http.StatusOK, nil)
	decode(t, viewer.do("GET", "/api/v1/assets/"+a.ID, "", nil, nil), http.StatusOK, nil)
}
