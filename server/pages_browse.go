package server

import (
	"net/url"
	"path/filepath"
	"slices"
	"sort"

	"github.com/labstack/echo/v4"
	"golang.org/x/sys/unix"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/ui"
)

// uploadChunkSize is the tus chunk the upload page sends per PATCH: small
// enough that a dropped connection loses little and proxies with body
// limits pass it, big enough that requests don't dominate.
const uploadChunkSize = 8 << 20

type personOption struct {
	ID, Name string
	Selected bool
}

type assetPageData struct {
	Asset   assetJSON
	Text    string
	CanEdit bool
	Events  []catalog.Event
	People  []personOption
	// Editors add the asset to collections and share it.
	CanShare    bool
	Collections []catalog.Collection
	Share       shareForm
}

// assetPage shows one asset: its viewer (zoomable photo, video or audio
// player with in/out clip, PDF page), downloads, metadata and, for those
// allowed, the edit form (asset.js sends PATCH /api/v1/assets/{id}).
func (s *Server) assetPage(c echo.Context, p *ui.Page) (string, error) {
	a, err := s.visibleAsset(c)
	if err != nil {
		return "", err
	}
	v := s.assetView(a)
	if a.Status == catalog.StatusReady {
		if v.NearDuplicates, err = s.nearDuplicates(a); err != nil {
			return "", err
		}
	}
	d := &assetPageData{Asset: v, CanEdit: mayEdit(currentUser(c))(a) == nil,
		CanShare: currentUser(c).Can(catalog.RoleEditor), Share: shareForm{Target: "assets", ID: a.ID}}
	if d.CanShare {
		if d.Collections, err = s.cat.Collections(); err != nil {
			return "", err
		}
	}
	if a.Kind == catalog.KindDocument {
		d.Text = a.Text
	}
	if d.CanEdit {
		if d.Events, err = s.cat.Events(); err != nil {
			return "", err
		}
		people, err := s.cat.People()
		if err != nil {
			return "", err
		}
		for _, pe := range people {
			on := slices.ContainsFunc(a.People, func(r catalog.Ref) bool { return r.ID == pe.ID })
			d.People = append(d.People, personOption{ID: pe.ID, Name: pe.Name, Selected: on})
		}
	}
	p.Title, p.Data = firstNonEmpty(a.Title, a.Filename), d
	return "asset", nil
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// uploadPage is the batch upload form; upload.js sends the files over tus.
func (s *Server) uploadPage(c echo.Context, p *ui.Page) (string, error) {
	events, err := s.cat.Events()
	if err != nil {
		return "", err
	}
	people, err := s.cat.People()
	if err != nil {
		return "", err
	}
	p.Title, p.Nav = p.L.T("upload.title"), "upload"
	p.Data = struct {
		Events    []catalog.Event
		People    []catalog.Person
		Credit    string
		ChunkSize int
	}{events, people, currentUser(c).Name, uploadChunkSize}
	return "upload", nil
}

type entryCard struct {
	ID, Name, Date, Place, Role, Cover string
	Count                              int
}

// facetCounts is the number of assets per event or person, from one
// unfiltered search's facets.
func (s *Server) facetCounts(c echo.Context, facet string) map[string]int {
	out := map[string]int{}
	if s.cfg.Search == nil {
		return out
	}
	res, err := s.cfg.Search.Search(c.Request().Context(), catalog.SearchRequest{PerPage: 1})
	if err != nil {
		return out
	}
	for _, f := range res.Facets[facet] {
		out[f.Value] = f.Count
	}
	return out
}

// cover is the thumbnail of the first asset matching req, or "".
func (s *Server) cover(c echo.Context, req catalog.SearchRequest) string {
	if s.cfg.Search == nil {
		return ""
	}
	req.PerPage, req.Sort = 1, catalog.SortCapturedAsc
	res, err := s.cfg.Search.Search(c.Request().Context(), req)
	if err != nil || len(res.IDs) == 0 {
		return ""
	}
	a, err := s.cat.Asset(res.IDs[0])
	if err != nil {
		return ""
	}
	return s.assetView(a).Renditions["thumb.jpg"].URL
}

func (s *Server) eventsPage(c echo.Context, p *ui.Page) (string, error) {
	events, err := s.cat.Events()
	if err != nil {
		return "", err
	}
	counts := s.facetCounts(c, "event")
	var cards []entryCard
	for _, e := range events {
		cards = append(cards, entryCard{ID: e.ID, Name: e.Name, Date: e.Date, Place: e.Place, Count: counts[e.ID],
			Cover: s.cover(c, catalog.SearchRequest{Event: e.ID})})
	}
	sort.SliceStable(cards, func(i, j int) bool { return cards[i].Date > cards[j].Date })
	p.Title, p.Nav, p.Data = p.L.T("events.title"), "events", struct{ Events []entryCard }{cards}
	return "events", nil
}

// eventPage is all the material of one event, with its cover, date and place.
func (s *Server) eventPage(c echo.Context, p *ui.Page) (string, error) {
	e, err := s.cat.Event(c.Param("id"))
	if err != nil {
		return "", err
	}
	q := cloneValues(c.QueryParams())
	q.Set("event", e.ID)
	q.Set("sort", catalog.SortCapturedAsc)
	g, _, err := s.runGrid(c, q, "/events/"+url.PathEscape(e.ID))
	if err != nil {
		return "", err
	}
	cover := ""
	if len(g.Hits) > 0 {
		cover = g.Hits[0].Renditions["preview.jpg"].URL
		if cover == "" {
			cover = g.Hits[0].Renditions["poster.jpg"].URL
		}
	}
	p.Title, p.Nav = e.Name, "events"
	p.Data = struct {
		gridData
		Event catalog.Event
		Cover string
	}{g, e, cover}
	return "event", nil
}

func (s *Server) peoplePage(c echo.Context, p *ui.Page) (string, error) {
	people, err := s.cat.People()
	if err != nil {
		return "", err
	}
	counts := s.facetCounts(c, "person")
	var cards []entryCard
	for _, pe := range people {
		cards = append(cards, entryCard{ID: pe.ID, Name: pe.Name, Role: pe.Role, Count: counts[pe.ID],
			Cover: s.cover(c, catalog.SearchRequest{Person: pe.ID})})
	}
	p.Title, p.Nav, p.Data = p.L.T("people.title"), "people", struct{ People []entryCard }{cards}
	return "people", nil
}

func (s *Server) personPage(c echo.Context, p *ui.Page) (string, error) {
	pe, err := s.cat.Person(c.Param("id"))
	if err != nil {
		return "", err
	}
	q := cloneValues(c.QueryParams())
	q.Set("person", pe.ID)
	if q.Get("sort") == "" {
		q.Set("sort", catalog.SortCapturedDesc)
	}
	g, _, err := s.runGrid(c, q, "/people/"+url.PathEscape(pe.ID))
	if err != nil {
		return "", err
	}
	p.Title, p.Nav = pe.Name, "people"
	p.Data = struct {
		gridData
		Person catalog.Person
	}{g, pe}
	return "person", nil
}

type kindCount struct {
	Kind  string
	Count int
}

type diskUsage struct{ Free, Total int64 }

type adminData struct {
	Queued, Running     int
	ByKind              []kindCount
	Failed              []catalog.Job
	Disk                *diskUsage
	TusInProgress       int
	IndexOK, Rebuilding bool
	Indexed             uint64
}

// adminPage shows the job queue by kind, failed jobs with their reasons,
// the data disk, uploads in progress and the search index.
func (s *Server) adminPage(c echo.Context, p *ui.Page) (string, error) {
	d := &adminData{}
	var err error
	if d.Queued, d.Running, err = s.cat.QueueDepth(); err != nil {
		return "", err
	}
	byKind, err := s.cat.QueuedByKind()
	if err != nil {
		return "", err
	}
	for k, n := range byKind {
		d.ByKind = append(d.ByKind, kindCount{k, n})
	}
	sort.Slice(d.ByKind, func(i, j int) bool { return d.ByKind[i].Kind < d.ByKind[j].Kind })
	if d.Failed, err = s.cat.Jobs(catalog.JobFailed, 200); err != nil {
		return "", err
	}
	if dir := s.cfg.UploadsDir; dir != "" {
		var st unix.Statfs_t
		if unix.Statfs(dir, &st) == nil {
			d.Disk = &diskUsage{Free: int64(st.Bavail) * st.Bsize, Total: int64(st.Blocks) * st.Bsize}
		}
		infos, _ := filepath.Glob(filepath.Join(dir, "*.info"))
		d.TusInProgress = len(infos)
	}
	if x := s.cfg.Search; x != nil {
		d.Rebuilding = x.Rebuilding()
		if n, err := x.DocCount(); err == nil {
			d.IndexOK, d.Indexed = true, n
		}
	}
	p.Title, p.Nav, p.Data = p.L.T("admin.title"), "admin", d
	return "admin", nil
}
