package server_test

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/comsoc/acervo/catalog"
)

// Years are the office's: a photo of the last evening of 2024 in Mexico
// City (already 2025 in UTC) counts in the 2024 facet, and the dates that
// filter for 2024 find it.
func TestSearchYearsInOfficeZone(t *testing.T) {
	mx, err := time.LoadLocation("America/Mexico_City")
	if err != nil {
		t.Fatal(err)
	}
	se := newSearchEnv(t)
	c, _, _ := se.serve(catalog.IndexConfig{Poll: 20 * time.Millisecond, Zone: mx})
	var ids []string
	for i, when := range []string{"2024-12-31T22:00:00-06:00", "2025-01-01T01:00:00-06:00"} {
		var a assetJSON
		decode(t, c.upload("brindis.jpg", photo(t, 32, 32, byte(30+i)), map[string]string{"title": "Brindis"}), http.StatusCreated, &a)
		decode(t, c.sendJSON("PATCH", "/api/v1/assets/"+a.ID, map[string]any{"captured_at": when}), http.StatusOK, &a)
		ids = append(ids, a.ID)
	}
	nye, newYear := ids[0], ids[1]
	all := c.waitTotal(url.Values{"q": {"brindis"}, "to": {"2024-12-31"}}, 1)
	in2025 := c.waitTotal(url.Values{"from": {"2025-01-01"}, "to": {"2025-12-31"}}, 1) // both edits indexed
	years := map[string]int{}
	for _, f := range c.search(url.Values{"q": {"brindis"}}).Facets["year"] {
		years[f.Value] = f.Count
	}
	if years["2024"] != 1 || years["2025"] != 1 || len(years) != 2 {
		t.Errorf("year facet = %v, want 2024: 1, 2025: 1", years)
	}
	if !slices.Equal(all.ids(), []string{nye}) {
		t.Errorf("to 2024-12-31 finds %v, want %s", all.ids(), nye)
	}
	if !slices.Equal(in2025.ids(), []string{newYear}) {
		t.Errorf("2025 finds %v, want %s", in2025.ids(), newYear)
	}
}
