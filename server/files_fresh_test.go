package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/comsoc/acervo/catalog"
)

// The file routes answer from records the catalog keeps decoded between
// requests (catalog/decoded.go). Every change to who may see what must
// still hold from the very next request: each case below warms that cache
// with the same request first, makes the change over the API, and checks
// the next request at once, through the real HTTP server.
func TestFileRoutesSeeEveryChangeOnTheNextRequest(t *testing.T) {
	e := start(t)
	admin := e.login()
	var a assetJSON
	decode(t, admin.upload("fresco.jpg", photo(t, 640, 480, 41), nil), http.StatusCreated, &a)
	if a = admin.waitSettled(a.ID); a.Status != catalog.StatusReady || a.Renditions["thumb.jpg"].URL == "" {
		t.Fatalf("asset = %+v, want ready with a thumbnail", a)
	}
	thumb := a.Renditions["thumb.jpg"].URL
	original := "/api/v1/assets/" + a.ID + "/original"

	// status GETs path twice (the first fills the cache, the second is
	// answered from it) and checks both answers.
	status := func(who *client, path string, want int, when string) {
		t.Helper()
		for i := range 2 {
			resp := who.do("GET", path, "", nil, nil)
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Fatalf("%s: GET %s (request %d) = %d, want %d", when, path, i+1, resp.StatusCode, want)
			}
		}
	}
	bearer := func(c *client, name string) *client {
		t.Helper()
		var tok struct{ ID, Token string }
		decode(t, c.sendJSON("POST", "/api/v1/tokens", map[string]string{"name": name}), http.StatusCreated, &tok)
		return &client{Client: http.DefaultClient, e: e, token: tok.Token}
	}
	userID := func(c *client) string {
		t.Helper()
		var me struct{ User struct{ ID string } }
		decode(t, c.do("GET", "/api/v1/me", "", nil, nil), http.StatusOK, &me)
		return me.User.ID
	}
	patchUser := func(id string, patch map[string]any) {
		t.Helper()
		decode(t, admin.sendJSON("PATCH", "/api/v1/users/"+id, patch), http.StatusOK, nil)
	}

	t.Run("revoked token", func(t *testing.T) {
		viewer := e.loginAs("lector-token", catalog.RoleViewer)
		script := bearer(viewer, "miniaturas")
		status(script, thumb, http.StatusOK, "before")
		var list struct{ Tokens []struct{ ID string } }
		decode(t, viewer.do("GET", "/api/v1/tokens", "", nil, nil), http.StatusOK, &list)
		decode(t, viewer.do("DELETE", "/api/v1/tokens/"+list.Tokens[0].ID, "", nil, nil), http.StatusNoContent, nil)
		expectError(t, script.do("GET", thumb, "", nil, nil), http.StatusUnauthorized, "unauthorized")
	})

	t.Run("logged-out session replayed", func(t *testing.T) {
		viewer := e.loginAs("lector-sesion", catalog.RoleViewer)
		status(viewer, thumb, http.StatusOK, "before")
		// Keep the cookie the logout answer makes the jar forget.
		u := e.srv.URL + "/"
		req, _ := http.NewRequest("GET", u, nil)
		for _, ck := range viewer.Jar.Cookies(req.URL) {
			req.AddCookie(ck)
		}
		cookie := req.Header.Get("Cookie")
		decode(t, viewer.do("POST", "/api/v1/logout", "", nil, nil), http.StatusNoContent, nil)
		replay := &client{Client: http.DefaultClient, e: e}
		expectError(t, replay.do("GET", thumb, "", nil, map[string]string{"Cookie": cookie}), http.StatusUnauthorized, "unauthorized")
	})

	t.Run("signed out everywhere", func(t *testing.T) {
		viewer := e.loginAs("lector-revocado", catalog.RoleViewer)
		status(viewer, thumb, http.StatusOK, "before")
		decode(t, admin.do("DELETE", "/api/v1/users/"+userID(viewer)+"/sessions", "", nil, nil), http.StatusNoContent, nil)
		expectError(t, viewer.do("GET", thumb, "", nil, nil), http.StatusUnauthorized, "unauthorized")
	})

	t.Run("password changed", func(t *testing.T) {
		viewer := e.loginAs("lector-clave", catalog.RoleViewer)
		status(viewer, thumb, http.StatusOK, "before")
		patchUser(userID(viewer), map[string]any{"password": "una-clave-nueva-larga"})
		expectError(t, viewer.do("GET", thumb, "", nil, nil), http.StatusUnauthorized, "unauthorized")
	})

	t.Run("disabled user", func(t *testing.T) {
		viewer := e.loginAs("lector-baja", catalog.RoleViewer)
		script := bearer(viewer, "baja")
		id := userID(viewer)
		status(viewer, thumb, http.StatusOK, "before, session")
		status(script, thumb, http.StatusOK, "before, token")
		patchUser(id, map[string]any{"disabled": true})
		expectError(t, script.do("GET", thumb, "", nil, nil), http.StatusUnauthorized, "unauthorized")
		expectError(t, viewer.do("GET", thumb, "", nil, nil), http.StatusUnauthorized, "unauthorized")
		patchUser(id, map[string]any{"disabled": false})
		status(script, thumb, http.StatusOK, "enabled again, token")
	})

	t.Run("trash and restore", func(t *testing.T) {
		viewer := e.loginAs("lector-papelera", catalog.RoleViewer)
		script := bearer(viewer, "papelera")
		editor := e.loginAs("editora-papelera", catalog.RoleEditor)
		editorScript := bearer(editor, "papelera")
		status(script, thumb, http.StatusOK, "before")
		status(script, original, http.StatusOK, "before, original")
		status(editorScript, thumb, http.StatusOK, "before, editor")
		decode(t, editor.do("DELETE", "/api/v1/assets/"+a.ID, "", nil, nil), http.StatusNoContent, nil)
		expectError(t, script.do("GET", thumb, "", nil, nil), http.StatusNotFound, "not_found")
		expectError(t, viewer.do("GET", thumb, "", nil, nil), http.StatusNotFound, "not_found")
		expectError(t, script.do("GET", original, "", nil, nil), http.StatusNotFound, "not_found")
		// Editors still see what is in the trash.
		status(editorScript, thumb, http.StatusOK, "in the trash, editor")

		t.Run("editor demoted", func(t *testing.T) {
			id := userID(editor)
			patchUser(id, map[string]any{"role": catalog.RoleViewer})
			// Her token lives on with the new role; a new role ends sessions.
			expectError(t, editorScript.do("GET", thumb, "", nil, nil), http.StatusNotFound, "not_found")
			expectError(t, editor.do("GET", thumb, "", nil, nil), http.StatusUnauthorized, "unauthorized")
			patchUser(id, map[string]any{"role": catalog.RoleEditor})
			status(editorScript, thumb, http.StatusOK, "promoted again")
		})

		decode(t, admin.do("POST", "/api/v1/assets/"+a.ID+"/restore", "", nil, nil), http.StatusOK, nil)
		status(script, thumb, http.StatusOK, "restored")
	})

	t.Run("unknown asset and rendition", func(t *testing.T) {
		expectError(t, admin.do("GET", strings.Replace(thumb, "thumb.jpg", "nada.jpg", 1), "", nil, nil), http.StatusNotFound, "not_found")
		expectError(t, admin.do("GET", "/api/v1/assets/00000000000000000000000000/renditions/thumb.jpg", "", nil, nil), http.StatusNotFound, "not_found")
	})
}
