package server_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/comsoc/acervo/catalog"
)

func TestPatchAndBatchEdits(t *testing.T) {
	e := start(t)
	admin := e.login()
	contributor := e.loginAs("fotografa", catalog.RoleContributor)
	viewer := e.loginAs("lector", catalog.RoleViewer)

	mine := contributor.uploadSettled("mia.jpg", photo(t, 32, 32, 21), map[string]string{"tags": "parque"})
	theirs := admin.uploadSettled("ajena.jpg", photo(t, 32, 32, 22), nil)
	var ev eventJSON
	decode(t, admin.sendJSON("POST", "/api/v1/events", map[string]string{"name": "Informe de Gobierno", "date": "2025-09-01"}), http.StatusCreated, &ev)
	var ana, luis refJSON
	decode(t, admin.sendJSON("POST", "/api/v1/people", map[string]string{"name": "Ana Martínez"}), http.StatusCreated, &ana)
	decode(t, admin.sendJSON("POST", "/api/v1/people", map[string]string{"name": "Luis Núñez"}), http.StatusCreated, &luis)

	// PATCH: contributors edit their own, nobody else's; viewers nothing.
	var got metaAsset
	decode(t, contributor.sendJSON("PATCH", "/api/v1/assets/"+mine.ID, map[string]any{
		"title": "Informe", "caption": "Mensaje del informe", "credit": "Comunicación Social",
		"captured_at": "2025-09-01T18:30:00-06:00", "event": ev.ID, "tags": []string{"Informe", "informe", "Cabildo"}, "people": []string{ana.ID},
	}), http.StatusOK, &got)
	if got.Title != "Informe" || got.Caption != "Mensaje del informe" || got.Credit != "Comunicación Social" ||
		got.Event == nil || got.Event.ID != ev.ID || !slices.Equal(got.Tags, []string{"Informe", "Cabildo"}) ||
		len(got.People) != 1 || got.People[0] != ana {
		t.Errorf("patched = %+v", got)
	}
	if got.CapturedAt == nil {
		t.Fatal("captured_at not set")
	}
	if ts, err := time.Parse(time.RFC3339, *got.CapturedAt); err != nil || !ts.Equal(time.Date(2025, 9, 2, 0, 30, 0, 0, time.UTC)) {
		t.Errorf("captured_at = %s", *got.CapturedAt)
	}
	expectError(t, contributor.sendJSON("PATCH", "/api/v1/assets/"+theirs.ID, map[string]any{"title": "x"}), http.StatusForbidden, "forbidden")
	expectError(t, viewer.sendJSON("PATCH", "/api/v1/assets/"+mine.ID, map[string]any{"title": "x"}), http.StatusForbidden, "forbidden")
	expectError(t, admin.sendJSON("PATCH", "/api/v1/assets/nope", map[string]any{"title": "x"}), http.StatusNotFound, "not_found")
	expectError(t, admin.sendJSON("PATCH", "/api/v1/assets/"+mine.ID, map[string]any{"captured_at": "ayer"}), http.StatusBadRequest, "invalid")
	expectError(t, admin.sendJSON("PATCH", "/api/v1/assets/"+mine.ID, map[string]any{"people": []string{"nope"}}), http.StatusBadRequest, "invalid")
	expectError(t, admin.sendJSON("PATCH", "/api/v1/assets/"+mine.ID, map[string]any{"event": "nope"}), http.StatusBadRequest, "invalid")
	// null clears; absent fields stay.
	decode(t, admin.sendJSON("PATCH", "/api/v1/assets/"+mine.ID, map[string]any{"event": nil, "captured_at": nil}), http.StatusOK, &got)
	if got.Event != nil || got.CapturedAt != nil || got.Title != "Informe" {
		t.Errorf("after clearing = %+v", got)
	}

	// Batch: all or nothing.
	batch := func(c *client, ids []string) *http.Response {
		return c.sendJSON("POST", "/api/v1/assets/batch", map[string]any{
			"ids":    ids,
			"set":    map[string]any{"event": ev.ID, "credit": "Foto: Municipio"},
			"add":    map[string]any{"tags": []string{"Informe 2025"}, "people": []string{luis.ID}},
			"remove": map[string]any{"tags": []string{"CABILDO"}, "people": []string{ana.ID}},
		})
	}
	expectError(t, batch(admin, []string{mine.ID, theirs.ID, "nope"}), http.StatusNotFound, "not_found")
	expectError(t, batch(contributor, []string{mine.ID, theirs.ID}), http.StatusForbidden, "forbidden")
	expectError(t, batch(viewer, []string{mine.ID}), http.StatusForbidden, "forbidden")
	if a := admin.metaAsset(mine.ID); a.Event != nil || a.Credit != "Comunicación Social" || len(a.People) != 1 {
		t.Fatalf("a refused batch changed the asset: %+v", a)
	}
	var out struct {
		Updated int         `json:"updated"`
		Assets  []metaAsset `json:"assets"`
	}
	decode(t, batch(admin, []string{mine.ID, theirs.ID}), http.StatusOK, &out)
	if out.Updated != 2 {
		t.Fatalf("updated = %d", out.Updated)
	}
	for _, id := range []string{mine.ID, theirs.ID} {
		a := admin.metaAsset(id)
		if a.Event == nil || a.Event.Name != "Informe de Gobierno" || a.Credit != "Foto: Municipio" ||
			!slices.Contains(a.Tags, "Informe 2025") || slices.Contains(a.Tags, "Cabildo") ||
			len(a.People) != 1 || a.People[0] != luis {
			t.Errorf("after batch %s = %+v", id, a)
		}
	}
	decode(t, contributor.sendJSON("POST", "/api/v1/assets/batch", map[string]any{"ids": []string{mine.ID}, "set": map[string]any{"title": "Mía"}}), http.StatusOK, nil)

	ids := make([]string, catalog.MaxBatch+1)
	for i := range ids {
		ids[i] = mine.ID + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676))
	}
	expectError(t, admin.sendJSON("POST", "/api/v1/assets/batch", map[string]any{"ids": ids}), http.StatusBadRequest, "invalid")
	expectError(t, admin.sendJSON("POST", "/api/v1/assets/batch", map[string]any{"ids": []string{}}), http.StatusBadRequest, "invalid")
}
