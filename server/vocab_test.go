package server_test

import (
	"net/http"
	"testing"

	"github.com/comsoc/acervo/catalog"
)

type eventJSON struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Date        string `json:"date"`
	EndDate     string `json:"end_date"`
	Place       string `json:"place"`
	Description string `json:"description"`
}

func TestEventsAndPeopleCRUD(t *testing.T) {
	e := start(t)
	admin := e.login()
	editor := e.loginAs("editora", catalog.RoleEditor)
	contributor := e.loginAs("fotografo", catalog.RoleContributor)
	viewer := e.loginAs("lector", catalog.RoleViewer)

	var ev eventJSON
	decode(t, editor.sendJSON("POST", "/api/v1/events", map[string]string{
		"name": "Inauguración del Parque", "date": "2025-03-01", "end_date": "2025-03-02", "place": "Mérida", "description": "Corte de listón",
	}), http.StatusCreated, &ev)
	if ev.ID == "" || ev.Name != "Inauguración del Parque" || ev.EndDate != "2025-03-02" || ev.Place != "Mérida" {
		t.Fatalf("created %+v", ev)
	}
	expectError(t, admin.sendJSON("POST", "/api/v1/events", map[string]string{"name": "inauguracion del  PARQUE"}), http.StatusConflict, "exists")
	expectError(t, admin.sendJSON("POST", "/api/v1/events", map[string]string{"name": "Otro", "date": "01/03/2025"}), http.StatusBadRequest, "invalid")
	expectError(t, admin.sendJSON("POST", "/api/v1/events", map[string]string{"name": "Otro", "date": "2025-03-02", "end_date": "2025-03-01"}), http.StatusBadRequest, "invalid")
	expectError(t, admin.sendJSON("POST", "/api/v1/events", map[string]string{"name": " "}), http.StatusBadRequest, "invalid")
	expectError(t, admin.do("GET", "/api/v1/events/nope", "", nil, nil), http.StatusNotFound, "not_found")
	expectError(t, admin.sendJSON("PATCH", "/api/v1/events/nope", map[string]string{"place": "x"}), http.StatusNotFound, "not_found")

	// Viewers and contributors read but do not manage.
	var list struct{ Events []eventJSON }
	decode(t, viewer.do("GET", "/api/v1/events", "", nil, nil), http.StatusOK, &list)
	if len(list.Events) != 1 || list.Events[0] != ev {
		t.Errorf("list = %+v", list.Events)
	}
	expectError(t, viewer.sendJSON("POST", "/api/v1/events", map[string]string{"name": "x"}), http.StatusForbidden, "forbidden")
	expectError(t, contributor.sendJSON("PATCH", "/api/v1/events/"+ev.ID, map[string]string{"name": "x"}), http.StatusForbidden, "forbidden")
	expectError(t, contributor.do("DELETE", "/api/v1/events/"+ev.ID, "", nil, nil), http.StatusForbidden, "forbidden")

	// An upload naming the event without accents joins it; a rename shows
	// on the asset; deleting needs force while assets use it.
	var a metaAsset
	decode(t, contributor.upload("a.jpg", photo(t, 32, 32, 9), map[string]string{"event": "INAUGURACION DEL PARQUE"}), http.StatusCreated, &a)
	if a.Event == nil || a.Event.ID != ev.ID {
		t.Fatalf("upload event = %+v, want %s", a.Event, ev.ID)
	}
	contributor.waitSettled(a.ID)
	var renamed eventJSON
	decode(t, editor.sendJSON("PATCH", "/api/v1/events/"+ev.ID, map[string]string{"name": "Reapertura del Parque"}), http.StatusOK, &renamed)
	if renamed.Name != "Reapertura del Parque" || renamed.Date != "2025-03-01" || renamed.Place != "Mérida" {
		t.Errorf("renamed = %+v: other fields must stay", renamed)
	}
	if got := admin.metaAsset(a.ID); got.Event == nil || got.Event.Name != "Reapertura del Parque" {
		t.Errorf("asset event after rename = %+v", got.Event)
	}
	expectError(t, editor.do("DELETE", "/api/v1/events/"+ev.ID, "", nil, nil), http.StatusConflict, "exists")
	decode(t, editor.do("DELETE", "/api/v1/events/"+ev.ID+"?force=true", "", nil, nil), http.StatusNoContent, nil)
	if got := admin.metaAsset(a.ID); got.Event != nil {
		t.Errorf("forced delete left %+v on the asset", got.Event)
	}

	// People: aliases unique across people, accent-insensitively.
	var p struct {
		ID      string   `json:"id"`
		Name    string   `json:"name"`
		Role    string   `json:"role"`
		Aliases []string `json:"aliases"`
	}
	decode(t, editor.sendJSON("POST", "/api/v1/people", map[string]any{"name": "Guadalupe Pérez", "role": "Presidenta municipal", "aliases": []string{"Lupita"}}), http.StatusCreated, &p)
	if p.Role != "Presidenta municipal" || len(p.Aliases) != 1 {
		t.Errorf("person = %+v", p)
	}
	expectError(t, editor.sendJSON("POST", "/api/v1/people", map[string]any{"name": "LUPITA"}), http.StatusConflict, "exists")
	expectError(t, editor.sendJSON("POST", "/api/v1/people", map[string]any{"name": "Otra", "aliases": []string{"guadalupe perez"}}), http.StatusConflict, "exists")
	expectError(t, viewer.sendJSON("POST", "/api/v1/people", map[string]any{"name": "Otra"}), http.StatusForbidden, "forbidden")
	decode(t, editor.sendJSON("PATCH", "/api/v1/people/"+p.ID, map[string]any{"aliases": []string{"Lupita", "La Presidenta"}}), http.StatusOK, &p)
	if len(p.Aliases) != 2 || p.Name != "Guadalupe Pérez" {
		t.Errorf("patched person = %+v", p)
	}
	var b metaAsset
	decode(t, contributor.upload("b.jpg", photo(t, 32, 32, 10), map[string]string{"people": "la presidenta", "tags": "Parque, cabildo"}), http.StatusCreated, &b)
	if len(b.People) != 1 || b.People[0].ID != p.ID {
		t.Errorf("upload people = %+v, want by alias %s", b.People, p.ID)
	}
	contributor.waitSettled(b.ID)
	expectError(t, editor.do("DELETE", "/api/v1/people/"+p.ID, "", nil, nil), http.StatusConflict, "exists")
	expectError(t, editor.do("DELETE", "/api/v1/people/nope", "", nil, nil), http.StatusNotFound, "not_found")

	var tags struct {
		Tags []struct {
			Name  string
			Count int
		}
	}
	decode(t, viewer.do("GET", "/api/v1/tags", "", nil, nil), http.StatusOK, &tags)
	if len(tags.Tags) != 2 || tags.Tags[0].Count != 1 {
		t.Errorf("tags = %+v", tags.Tags)
	}

	// Tags: rename (merging case-insensitively) and delete, by editors.
	var c metaAsset
	decode(t, contributor.upload("c.jpg", photo(t, 32, 32, 11), map[string]string{"tags": "año nuevo, parque"}), http.StatusCreated, &c)
	contributor.waitSettled(c.ID)
	expectError(t, viewer.sendJSON("PATCH", "/api/v1/tags/parque", map[string]string{"name": "x"}), http.StatusForbidden, "forbidden")
	expectError(t, editor.sendJSON("PATCH", "/api/v1/tags/nada", map[string]string{"name": "x"}), http.StatusNotFound, "not_found")
	decode(t, editor.sendJSON("PATCH", "/api/v1/tags/a%C3%B1o%20nuevo", map[string]string{"name": "Parque"}), http.StatusOK, nil)
	if got := admin.metaAsset(c.ID); len(got.Tags) != 1 || got.Tags[0] != "Parque" {
		t.Errorf("after merge tags = %q, want [Parque]", got.Tags)
	}
	decode(t, editor.do("DELETE", "/api/v1/tags/CABILDO", "", nil, nil), http.StatusNoContent, nil)
	decode(t, viewer.do("GET", "/api/v1/tags", "", nil, nil), http.StatusOK, &tags)
	if len(tags.Tags) != 1 || tags.Tags[0].Name != "Parque" || tags.Tags[0].Count != 2 {
		t.Errorf("tags after rename and delete = %+v", tags.Tags)
	}
}
