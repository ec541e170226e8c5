package server_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/catalog/catalogtest"
	"github.com/comsoc/acervo/server"
	"github.com/comsoc/acervo/storage/disk"
	"github.com/comsoc/acervo/transcode"
)

type searchAnswer struct {
	Total   int `json:"total"`
	Page    int `json:"page"`
	PerPage int `json:"per_page"`
	Hits    []struct {
		ID     string `json:"id"`
		Title  string `json:"title"`
		Status string `json:"status"`
		Event  *struct{ ID, Name string }
		People []struct{ ID, Name string }
	} `json:"hits"`
	Facets map[string][]struct {
		Value, Label string
		Count        int
	} `json:"facets"`
}

func (a searchAnswer) ids() []string {
	var out []string
	for _, h := range a.Hits {
		out = append(out, h.ID)
	}
	slices.Sort(out)
	return out
}

func (c *client) search(params url.Values) searchAnswer {
	c.e.t.Helper()
	var out searchAnswer
	decode(c.e.t, c.do("GET", "/api/v1/search?"+params.Encode(), "", nil, nil), http.StatusOK, &out)
	return out
}

// waitTotal polls until a search has want hits: indexing is asynchronous.
func (c *client) waitTotal(params url.Values, want int) searchAnswer {
	c.e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		a := c.search(params)
		if a.Total == want || time.Now().After(deadline) {
			return a
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func sorted(ids ...string) []string { s := slices.Clone(ids); slices.Sort(s); return s }

func TestSearchThroughTheAPI(t *testing.T) {
	e := start(t)
	c := e.login()
	var ids []string
	for i, fields := range []map[string]string{
		{"title": "Inauguración del parque lineal", "event": "Inauguración Parque Lineal", "tags": "Obras, Parques", "people": "Clara Brugada", "caption": "La alcaldesa corta el listón"},
		{"title": "Informe del año", "event": "Informe Anual", "tags": "Informe", "people": "Clara Brugada, Pedro Páramo"},
		{"title": "Vista del ano", "caption": "El río y un parque", "tags": "río"},
	} {
		var a assetJSON
		decode(t, c.upload("foto.jpg", photo(t, 64, 48, byte(i*40+1)), fields), http.StatusCreated, &a)
		c.waitSettled(a.ID)
		ids = append(ids, a.ID)
	}
	inaug, informe, ano := ids[0], ids[1], ids[2]
	all := c.waitTotal(url.Values{}, 3)
	if all.Total != 3 {
		t.Fatalf("search finds %d of 3 uploads", all.Total)
	}
	var clara, event string
	for _, f := range all.Facets["person"] {
		if f.Label == "Clara Brugada" {
			clara = f.Value
			if f.Count != 2 {
				t.Errorf("person facet Clara Brugada count %d, want 2", f.Count)
			}
		}
	}
	for _, f := range all.Facets["event"] {
		if f.Label == "Inauguración Parque Lineal" {
			event = f.Value
		}
	}
	if clara == "" || event == "" {
		t.Fatalf("facets lack labelled person or event: %+v", all.Facets)
	}
	today := time.Now().UTC().Format(time.DateOnly)
	for _, tc := range []struct {
		name   string
		params url.Values
		want   []string
	}{
		{"without accent", url.Values{"q": {"inauguracion"}}, []string{inaug}},
		{"plural", url.Values{"q": {"inauguraciones"}}, []string{inaug}},
		{"typo", url.Values{"q": {"inaguración"}}, []string{inaug}},
		{"año is not ano", url.Values{"q": {"año"}}, []string{informe}},
		{"ano is not año", url.Values{"q": {"ano"}}, []string{ano}},
		{"phrase", url.Values{"q": {`"parque lineal"`}}, []string{inaug}},
		{"words anywhere", url.Values{"q": {"parque"}}, []string{inaug, ano}},
		{"caption", url.Values{"q": {"liston"}}, []string{inaug}},
		{"person name", url.Values{"q": {"pedro paramo"}}, []string{informe}},
		{"person filter", url.Values{"person": {clara}}, []string{inaug, informe}},
		{"event filter", url.Values{"event": {event}}, []string{inaug}},
		{"tag filter ignores case", url.Values{"tag": {"OBRAS"}}, []string{inaug}},
		{"kind", url.Values{"kind": {"photo"}}, []string{inaug, informe, ano}},
		{"kind none", url.Values{"kind": {"video"}}, nil},
		{"today", url.Values{"from": {today}, "to": {today}}, []string{inaug, informe, ano}},
		{"long ago", url.Values{"from": {"2000-01-01"}, "to": {"2000-12-31T23:59:59Z"}}, nil},
		{"text and person", url.Values{"q": {"informe"}, "person": {clara}}, []string{informe}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := c.search(tc.params)
			if !slices.Equal(got.ids(), sorted(tc.want...)) || got.Total != len(tc.want) {
				t.Errorf("got %d %v, want %v", got.Total, got.ids(), sorted(tc.want...))
			}
		})
	}

	page := c.search(url.Values{"sort": {"uploaded_at"}, "per_page": {"1"}, "page": {"2"}})
	if page.Total != 3 || page.Page != 2 || page.PerPage != 1 || len(page.Hits) != 1 || page.Hits[0].ID != informe {
		t.Errorf("page 2 of 1 newest first = %+v, want %s", page, informe)
	}
	if h := page.Hits[0]; h.Title != "Informe del año" || len(h.People) != 2 || h.Event == nil || h.Event.Name != "Informe Anual" {
		t.Errorf("hit is not the asset view: %+v", h)
	}
	oldest := c.search(url.Values{"sort": {"captured_at"}})
	if got := []string{oldest.Hits[0].ID, oldest.Hits[2].ID}; !slices.Equal(got, []string{inaug, ano}) {
		t.Errorf("oldest first = %v", got)
	}

	for _, params := range []url.Values{
		{"per_page": {"500"}},
		{"page": {"abc"}},
		{"page": {"0"}, "per_page": {"-1"}},
		{"page": {"1000"}, "per_page": {"200"}},
		{"from": {"ayer"}},
		{"sort": {"tamaño"}},
		{"kind": {"holograma"}},
		{"q": {strings.Repeat("palabra ", 70)}},
		{"q": {strings.Repeat("a ", 17)}},
	} {
		expectError(t, c.do("GET", "/api/v1/search?"+params.Encode(), "", nil, nil), http.StatusBadRequest, "invalid")
	}
	anon := &client{Client: http.DefaultClient, e: e}
	expectError(t, anon.do("GET", "/api/v1/search?q=parque", "", nil, nil), http.StatusUnauthorized, "unauthorized")
}

// searchEnv is a server without transcoding over one catalog and store,
// whose index the test opens and closes to play crashes and restarts.
type searchEnv struct {
	t     *testing.T
	data  string
	cat   *catalog.Catalog
	store *disk.Store
}

func newSearchEnv(t *testing.T) *searchEnv {
	data := t.TempDir()
	store, err := disk.New(disk.Config{Root: data})
	if err != nil {
		t.Fatal(err)
	}
	cat := catalogtest.Open(t, nil)
	if _, err := cat.CreateUser(catalog.NewUser{Username: "admin", Password: adminPassword, Role: catalog.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	return &searchEnv{t: t, data: data, cat: cat, store: store}
}

// serve opens the index with cfg (Path and Catalog filled in) and serves
// it, in cfg.Zone; stop closes the server and the index, as a process exit would.
func (se *searchEnv) serve(cfg catalog.IndexConfig) (c *client, idx *catalog.Index, stop func()) {
	t := se.t
	t.Helper()
	cfg.Path, cfg.Catalog = filepath.Join(se.data, "index"), se.cat
	idx, err := catalog.OpenIndex(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ing := &catalog.Ingester{Catalog: se.cat, Store: se.store, Sniff: transcode.Sniff, JobsFor: transcode.JobsFor}
	s, err := server.New(server.Config{Catalog: se.cat, Store: se.store, Ingester: ing, Search: idx, Zone: cfg.Zone})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			srv.Close()
			if err := idx.Close(); err != nil {
				t.Error(err)
			}
		}
	}
	t.Cleanup(stop)
	e := &env{t: t, srv: srv, data: se.data, cat: se.cat, idx: idx}
	return e.login(), idx, stop
}

func waitRebuilt(t *testing.T, idx *catalog.Index) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for idx.Rebuilding() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
}

// While the index is rebuilt, search answers 503 "reindexing" and uploads
// keep working; when the rebuild is done, everything is found.
func TestSearchAnswers503WhileReindexing(t *testing.T) {
	se := newSearchEnv(t)
	hold := make(chan struct{})
	c, idx, _ := se.serve(catalog.IndexConfig{HoldRebuild: hold, Poll: 20 * time.Millisecond})

	resp := c.do("GET", "/api/v1/search?q=parque", "", nil, nil)
	if got := resp.Header.Get("Retry-After"); got == "" {
		t.Error("503 without Retry-After")
	}
	expectError(t, resp, http.StatusServiceUnavailable, "reindexing")
	var a assetJSON
	decode(t, c.upload("parque.jpg", photo(t, 32, 32, 7), map[string]string{"title": "Parque nuevo"}), http.StatusCreated, &a)

	close(hold)
	waitRebuilt(t, idx)
	if got := c.waitTotal(url.Values{"q": {"parque"}}, 1); !slices.Equal(got.ids(), []string{a.ID}) {
		t.Errorf("after rebuild got %v, want %s", got.ids(), a.ID)
	}
}

// An upload committed but not yet indexed when the server dies is found
// after a restart; a deleted index folder is rebuilt complete on start.
func TestSearchSurvivesCrashAndLostIndex(t *testing.T) {
	se := newSearchEnv(t)
	// An indexer that never wakes up on its own plays the server killed
	// between the bbolt commit and the index update.
	c, _, stop := se.serve(catalog.IndexConfig{Poll: time.Hour})
	var ids []string
	for i, title := range []string{"Desfile cívico", "Desfile deportivo"} {
		var a assetJSON
		decode(t, c.upload("desfile.jpg", photo(t, 32, 32, byte(10+i)), map[string]string{"title": title}), http.StatusCreated, &a)
		ids = append(ids, a.ID)
	}
	if got := c.search(url.Values{"q": {"desfile"}}); got.Total != 0 {
		t.Fatalf("the stalled indexer indexed %d assets; the test proves nothing", got.Total)
	}
	stop()

	c, _, stop = se.serve(catalog.IndexConfig{Poll: 20 * time.Millisecond})
	if got := c.waitTotal(url.Values{"q": {"desfile"}}, 2); !slices.Equal(got.ids(), sorted(ids...)) {
		t.Fatalf("after restart got %v, want %v", got.ids(), sorted(ids...))
	}
	stop()

	if err := os.RemoveAll(filepath.Join(se.data, "index")); err != nil {
		t.Fatal(err)
	}
	c, idx, _ := se.serve(catalog.IndexConfig{Poll: 20 * time.Millisecond})
	waitRebuilt(t, idx)
	if got := c.search(url.Values{"q": {"desfile"}}); !slices.Equal(got.ids(), sorted(ids...)) {
		t.Errorf("after deleting the index got %v, want %v", got.ids(), sorted(ids...))
	}
}
