package catalog_test

import (
	"context"
	"crypto/rand"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/catalog/catalogtest"
)

// openIndex opens a real index on t.TempDir() over cat, closed on cleanup.
func openIndex(t testing.TB, cat *catalog.Catalog, path string) *catalog.Index {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "index")
	}
	x, err := catalog.OpenIndex(catalog.IndexConfig{Path: path, Catalog: cat, Poll: 20 * time.Millisecond, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := x.Close(); err != nil {
			t.Errorf("close index: %v", err)
		}
	})
	waitSearchable(t, x)
	return x
}

// fixture is an asset to create; Captured sets its capture time.
type fixture struct {
	catalog.NewAsset
	Captured time.Time
}

// addAssets commits fixtures to the catalog and returns their ids.
func addAssets(t testing.TB, cat *catalog.Catalog, fs ...fixture) []string {
	t.Helper()
	var ids []string
	for _, f := range fs {
		n := f.NewAsset
		n.SHA256 = rand.Text() + rand.Text() // unique bytes stand-in
		if n.Kind == "" {
			n.Kind = catalog.KindPhoto
		}
		if n.Filename == "" {
			n.Filename = "img.jpg"
		}
		if !f.Captured.IsZero() {
			n.Jobs = []string{"meta"}
		}
		a, _, err := cat.CreateAsset(n)
		if err != nil {
			t.Fatal(err)
		}
		if !f.Captured.IsZero() {
			j, err := cat.ClaimJob("meta")
			if err != nil {
				t.Fatal(err)
			}
			captured := f.Captured
			if err := cat.CompleteJob(j.ID, func(a *catalog.Asset) error { a.CapturedAt = &captured; return nil }); err != nil {
				t.Fatal(err)
			}
		}
		ids = append(ids, a.ID)
	}
	return ids
}

func itoa(n int) string {
	return strings.TrimLeft(strings.Replace(time.Duration(n).String(), "ns", "", 1), " ")
}

// waitIndexed waits until the catalog has nothing left to index.
func waitIndexed(t testing.TB, cat *catalog.Catalog) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := cat.IndexBacklog()
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("index backlog still %d", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitSearchable waits until a rebuild is over.
func waitSearchable(t testing.TB, x *catalog.Index) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for x.Rebuilding() {
		if time.Now().After(deadline) {
			t.Fatal("index still rebuilding")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func search(t *testing.T, x *catalog.Index, r catalog.SearchRequest) catalog.SearchResult {
	t.Helper()
	res, err := x.Search(context.Background(), r)
	if err != nil {
		t.Fatalf("search %+v: %v", r, err)
	}
	return res
}

func TestSearchSpanish(t *testing.T) {
	cat := catalogtest.Open(t, nil)
	x := openIndex(t, cat, "")
	ids := addAssets(t, cat,
		fixture{NewAsset: catalog.NewAsset{Title: "Inauguración del parque lineal"}},
		fixture{NewAsset: catalog.NewAsset{Title: "Informe del año 2024"}},
		fixture{NewAsset: catalog.NewAsset{Caption: "Vista del ano del río", Filename: "rio.jpg"}},
		fixture{NewAsset: catalog.NewAsset{Caption: "Un parque y una vía lineal nueva"}},
		fixture{NewAsset: catalog.NewAsset{Title: "Entrega de patrullas", People: []string{"José Martínez"}, Event: "Feria del Libro", Tags: []string{"Seguridad"}}},
		fixture{NewAsset: catalog.NewAsset{Title: "Visita de François Müller"}},
	)
	inaug, anio, ano, lineal, patrullas, francois := ids[0], ids[1], ids[2], ids[3], ids[4], ids[5]
	waitIndexed(t, cat)
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{"inauguracion", []string{inaug}},
		{"Inauguración", []string{inaug}},
		{"INAUGURACIONES", []string{inaug}},
		{"inaguración", []string{inaug}}, // one typo
		{"inaguracoin", []string{inaug}}, // two edits in a long word
		{"año", []string{anio}},
		{"ano", []string{ano}},
		{`"parque lineal"`, []string{inaug}},
		{"parque lineal", []string{inaug, lineal}},
		{"jose martinez", []string{patrullas}},
		{"feria libro", []string{patrullas}},
		{"seguridad", []string{patrullas}},
		{"francois muller", []string{francois}},
		{"rio.jpg", []string{ano}},
		{"parque patrullas", nil},
		{"de la", nil},
		{"xyz*", nil},
	} {
		t.Run(tc.q, func(t *testing.T) {
			res := search(t, x, catalog.SearchRequest{Q: tc.q})
			got := slices.Clone(res.IDs)
			slices.Sort(got)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
			if res.Total != len(tc.want) {
				t.Errorf("total %d, want %d", res.Total, len(tc.want))
			}
		})
	}
}

func TestSearchFiltersFacetsSort(t *testing.T) {
	cat := catalogtest.Open(t, nil)
	x := openIndex(t, cat, "")
	d := func(y int, m time.Month) time.Time { return time.Date(y, m, 10, 12, 0, 0, 0, time.UTC) }
	ids := addAssets(t, cat,
		fixture{NewAsset: catalog.NewAsset{Title: "Parque uno", Event: "Inauguración", People: []string{"Ana", "Luis"}, Tags: []string{"Obras"}}, Captured: d(2023, 5)},
		fixture{NewAsset: catalog.NewAsset{Title: "Parque dos", Event: "Inauguración", People: []string{"Ana"}, Tags: []string{"obras", "Verde"}}, Captured: d(2024, 1)},
		fixture{NewAsset: catalog.NewAsset{Title: "Parque tres", Kind: catalog.KindVideo, People: []string{"Luis"}}, Captured: d(2025, 3)},
		fixture{NewAsset: catalog.NewAsset{Title: "Boletín", Kind: catalog.KindDocument}}, // date = upload time (now)
	)
	waitIndexed(t, cat)
	a1, err := cat.Asset(ids[0])
	if err != nil {
		t.Fatal(err)
	}
	event, ana, luis := a1.Event.ID, a1.People[0].ID, a1.People[1].ID
	from, to := d(2024, 1), d(2025, 1)
	for _, tc := range []struct {
		name string
		req  catalog.SearchRequest
		want []string // in order
	}{
		{"all newest first", catalog.SearchRequest{}, []string{ids[3], ids[2], ids[1], ids[0]}},
		{"captured ascending", catalog.SearchRequest{Sort: "captured_at"}, []string{ids[0], ids[1], ids[2], ids[3]}},
		{"uploaded newest", catalog.SearchRequest{Sort: "-uploaded_at"}, []string{ids[3], ids[2], ids[1], ids[0]}},
		{"kind", catalog.SearchRequest{Kind: catalog.KindVideo}, []string{ids[2]}},
		{"event", catalog.SearchRequest{Event: event, Sort: "captured_at"}, []string{ids[0], ids[1]}},
		{"person", catalog.SearchRequest{Person: luis, Sort: "captured_at"}, []string{ids[0], ids[2]}},
		{"person and text", catalog.SearchRequest{Q: "parque", Person: ana, Sort: "-captured_at"}, []string{ids[1], ids[0]}},
		{"tag ignores case", catalog.SearchRequest{Tag: "OBRAS", Sort: "captured_at"}, []string{ids[0], ids[1]}},
		{"date range", catalog.SearchRequest{From: &from, To: &to}, []string{ids[1]}},
		{"text in event name", catalog.SearchRequest{Q: "inauguracion", Sort: "captured_at"}, []string{ids[0], ids[1]}},
		{"page 2", catalog.SearchRequest{Sort: "captured_at", Page: 2, PerPage: 3}, []string{ids[3]}},
		{"newest, page 1 of 1", catalog.SearchRequest{PerPage: 1}, []string{ids[3]}},
		{"newest, page 2 of 1", catalog.SearchRequest{PerPage: 1, Page: 2}, []string{ids[2]}},
		{"newest, page 4 of 1", catalog.SearchRequest{PerPage: 1, Page: 4}, []string{ids[0]}},
		{"newest photos, page 2 of 1", catalog.SearchRequest{Kind: catalog.KindPhoto, PerPage: 1, Page: 2}, []string{ids[0]}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := search(t, x, tc.req)
			if !slices.Equal(res.IDs, tc.want) {
				t.Errorf("got %v, want %v", res.IDs, tc.want)
			}
		})
	}
	for _, r := range []catalog.SearchRequest{{PerPage: 1}, {PerPage: 1}, {Kind: catalog.KindPhoto, PerPage: 1}} {
		total := search(t, x, r).Total
		if want := map[string]int{"": 4, catalog.KindPhoto: 2}[r.Kind]; total != want {
			t.Errorf("%+v: total %d, want %d (the whole set, not the newest window)", r, total, want)
		}
	}

	res := search(t, x, catalog.SearchRequest{Q: "parque"})
	if got, want := res.Total, 3; got != want {
		t.Fatalf("total %d, want %d", got, want)
	}
	find := func(facet, value string) catalog.FacetCount {
		for _, f := range res.Facets[facet] {
			if f.Value == value {
				return f
			}
		}
		t.Errorf("facet %s has no %q: %+v", facet, value, res.Facets[facet])
		return catalog.FacetCount{}
	}
	for _, tc := range []struct {
		facet, value, label string
		count               int
	}{
		{"kind", "photo", "", 2}, {"kind", "video", "", 1},
		{"event", event, "Inauguración", 2},
		{"person", ana, "Ana", 2}, {"person", luis, "Luis", 2},
		{"tag", "obras", "", 2}, {"tag", "verde", "", 1},
		{"year", "2023", "", 1}, {"year", "2024", "", 1}, {"year", "2025", "", 1},
	} {
		f := find(tc.facet, tc.value)
		if f.Count != tc.count || f.Label != tc.label {
			t.Errorf("facet %s %s = %+v, want count %d label %q", tc.facet, tc.value, f, tc.count, tc.label)
		}
	}
}

func TestSearchCaps(t *testing.T) {
	cat := catalogtest.Open(t, nil)
	x := openIndex(t, cat, "")
	for _, tc := range []struct {
		name string
		req  catalog.SearchRequest
	}{
		{"query too long", catalog.SearchRequest{Q: strings.Repeat("a", catalog.MaxQueryBytes+1)}},
		{"too many terms", catalog.SearchRequest{Q: strings.Repeat("parque ", catalog.MaxQueryTerms+1)}},
		{"too many phrase words", catalog.SearchRequest{Q: `"` + strings.Repeat("parque ", catalog.MaxQueryTerms+1) + `"`}},
		{"per_page too big", catalog.SearchRequest{PerPage: catalog.MaxPerPage + 1}},
		{"negative page", catalog.SearchRequest{Page: -1}},
		{"too deep", catalog.SearchRequest{Page: 51, PerPage: 200}},
		{"unknown sort", catalog.SearchRequest{Sort: "size"}},
		{"unknown kind", catalog.SearchRequest{Kind: "hologram"}},
		{"bad utf-8", catalog.SearchRequest{Q: "\xff"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := x.Search(context.Background(), tc.req)
			if !errors.Is(err, catalog.ErrInvalid) {
				t.Errorf("got %v, want ErrInvalid", err)
			}
		})
	}
	// At the limits, and hostile-looking text, are fine.
	for _, q := range []string{strings.Repeat("inauguración ", catalog.MaxQueryTerms), `a* ?b [c] {d} /e.*/ ~f +g -h "i`} {
		if _, err := x.Search(context.Background(), catalog.SearchRequest{Q: q, Page: 50, PerPage: 200}); err != nil {
			t.Errorf("search %q: %v", q, err)
		}
	}
}

// A crash after the catalog commit but before indexing leaves the asset
// marked dirty; the next start indexes it.
func TestIndexDrainsDirtyOnStart(t *testing.T) {
	cat := catalogtest.Open(t, nil)
	path := filepath.Join(t.TempDir(), "index")
	x, err := catalog.OpenIndex(catalog.IndexConfig{Path: path, Catalog: cat, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	waitSearchable(t, x)
	if err := x.Close(); err != nil { // the indexer is gone: as good as a crash
		t.Fatal(err)
	}
	id := addAssets(t, cat, fixture{NewAsset: catalog.NewAsset{Title: "Rueda de prensa"}})[0]
	if n, _ := cat.IndexBacklog(); n != 1 {
		t.Fatalf("backlog %d, want 1", n)
	}
	x = openIndex(t, cat, path)
	if x.Rebuilding() {
		t.Fatal("a current index should not be rebuilt")
	}
	waitIndexed(t, cat)
	if got := search(t, x, catalog.SearchRequest{Q: "prensa"}).IDs; !slices.Equal(got, []string{id}) {
		t.Errorf("got %v, want %v", got, []string{id})
	}
}

func TestIndexRebuilds(t *testing.T) {
	for _, tc := range []struct {
		name  string
		spoil func(t *testing.T, path string)
	}{
		{"deleted", func(t *testing.T, path string) { removeAll(t, path) }},
		{"corrupt", func(t *testing.T, path string) { corrupt(t, path) }},
		{"older mapping", func(t *testing.T, path string) { setVersion(t, path, "0") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cat := catalogtest.Open(t, nil)
			path := filepath.Join(t.TempDir(), "index")
			x, err := catalog.OpenIndex(catalog.IndexConfig{Path: path, Catalog: cat, Log: quiet})
			if err != nil {
				t.Fatal(err)
			}
			ids := addAssets(t, cat,
				fixture{NewAsset: catalog.NewAsset{Title: "Inauguración del mercado"}},
				fixture{NewAsset: catalog.NewAsset{Title: "Inauguración de la escuela"}},
			)
			waitIndexed(t, cat)
			if err := x.Close(); err != nil {
				t.Fatal(err)
			}
			tc.spoil(t, path)

			hold := make(chan struct{})
			x, err = catalog.OpenIndex(catalog.IndexConfig{Path: path, Catalog: cat, HoldRebuild: hold, Poll: 20 * time.Millisecond, Log: quiet})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { x.Close() })
			if _, err := x.Search(context.Background(), catalog.SearchRequest{Q: "inauguracion"}); !errors.Is(err, catalog.ErrReindexing) {
				t.Fatalf("search while rebuilding: got %v, want ErrReindexing", err)
			}
			// Writes keep working and are indexed after the rebuild.
			ids = append(ids, addAssets(t, cat, fixture{NewAsset: catalog.NewAsset{Title: "Inauguración del puente"}})...)
			close(hold)
			waitSearchable(t, x)
			waitIndexed(t, cat)
			got := search(t, x, catalog.SearchRequest{Q: "inauguracion"}).IDs
			slices.Sort(got)
			slices.Sort(ids)
			if !slices.Equal(got, ids) {
				t.Errorf("after rebuild got %v, want %v", got, ids)
			}
		})
	}
}

func TestRebuildIndexOffline(t *testing.T) {
	cat := catalogtest.Open(t, nil)
	path := filepath.Join(t.TempDir(), "index")
	ids := addAssets(t, cat,
		fixture{NewAsset: catalog.NewAsset{Title: "Concierto en la plaza"}},
		fixture{NewAsset: catalog.NewAsset{Title: "Concierto sinfónico"}},
	)
	done := 0
	if err := catalog.RebuildIndex(context.Background(), catalog.IndexConfig{Path: path, Catalog: cat, Log: quiet}, func(n int) { done = n }); err != nil {
		t.Fatal(err)
	}
	if done != 2 {
		t.Errorf("progress %d, want 2", done)
	}
	if n, _ := cat.IndexBacklog(); n != 0 {
		t.Errorf("backlog %d after reindex", n)
	}
	x := openIndex(t, cat, path)
	if x.Rebuilding() {
		t.Fatal("a rebuilt index should open as current")
	}
	got := search(t, x, catalog.SearchRequest{Q: "concierto"}).IDs
	slices.Sort(got)
	slices.Sort(ids)
	if !slices.Equal(got, ids) {
		t.Errorf("got %v, want %v", got, ids)
	}
}

// The whole archive's facets are reused between searches, but never across
// a change to the index.
func TestEmptySearchFacetsFollowChanges(t *testing.T) {
	cat := catalogtest.Open(t, nil)
	x := openIndex(t, cat, "")
	count := func(kind string) int {
		for _, f := range search(t, x, catalog.SearchRequest{}).Facets["kind"] {
			if f.Value == kind {
				return f.Count
			}
		}
		return 0
	}
	addAssets(t, cat, fixture{NewAsset: catalog.NewAsset{Title: "Uno"}})
	waitIndexed(t, cat)
	if got := count(catalog.KindPhoto); got != 1 {
		t.Fatalf("photos %d, want 1", got)
	}
	if got := count(catalog.KindPhoto); got != 1 { // from the cache
		t.Fatalf("photos %d, want 1", got)
	}
	addAssets(t, cat, fixture{NewAsset: catalog.NewAsset{Title: "Dos"}}, fixture{NewAsset: catalog.NewAsset{Title: "Tres", Kind: catalog.KindAudio}})
	waitIndexed(t, cat)
	if got, want := []int{count(catalog.KindPhoto), count(catalog.KindAudio)}, []int{2, 1}; !slices.Equal(got, want) {
		t.Errorf("photos, audio = %v, want %v", got, want)
	}
}

func TestSearchTimeout(t *testing.T) {
	cat := catalogtest.Open(t, nil)
	x, err := catalog.OpenIndex(catalog.IndexConfig{Path: filepath.Join(t.TempDir(), "index"), Catalog: cat, SearchTimeout: time.Nanosecond, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	waitSearchable(t, x)
	if _, err := x.Search(context.Background(), catalog.SearchRequest{Q: "parque"}); !errors.Is(err, catalog.ErrSearchTimeout) {
		t.Errorf("got %v, want ErrSearchTimeout", err)
	}
}
