package server

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/ui"
)

// gridPerPage is how many cards a page of the grid holds; the infinite
// scroll fetches the next ones as a fragment.
const gridPerPage = 48

// gridData is a page of search hits as cards, with the URLs of the next
// page: Next for people without JavaScript, NextFragment for the scroll.
type gridData struct {
	Hits               []assetJSON
	Total              int
	Next, NextFragment string
}

type facetLink struct {
	Label, Href string
	Count       int
	Active      bool
}

type facetGroup struct {
	Title  string
	Values []facetLink
}

type activeFilter struct{ Group, Label, Href string }

type sortOption struct {
	Value, Label string
	Selected     bool
}

type searchPageData struct {
	gridData
	Q, Kind, Event, Person, Tag, From, To, Sort string
	Sorts                                       []sortOption
	Facets                                      []facetGroup
	Active                                      []activeFilter
	Error                                       string
}

// runGrid searches with the page's query parameters (those of GET
// /api/v1/search) and returns the cards and the raw facets.
func (s *Server) runGrid(c echo.Context, q url.Values, basePath string) (gridData, map[string][]catalog.FacetCount, error) {
	if s.cfg.Search == nil {
		return gridData{}, nil, errorf(503, "search_unavailable", "La búsqueda no está disponible / search is not enabled")
	}
	req := catalog.SearchRequest{Q: q.Get("q"), Kind: q.Get("kind"), Event: q.Get("event"), Person: q.Get("person"), Tag: q.Get("tag"),
		Sort: q.Get("sort"), PerPage: gridPerPage}
	req.Page, _ = strconv.Atoi(q.Get("page"))
	req.Page = max(req.Page, 1)
	var err error
	if req.From, err = s.timeParam(q.Get("from"), false); err != nil {
		return gridData{}, nil, errorf(400, "invalid", "Fecha inválida / invalid date")
	}
	if req.To, err = s.timeParam(q.Get("to"), true); err != nil {
		return gridData{}, nil, errorf(400, "invalid", "Fecha inválida / invalid date")
	}
	res, err := s.cfg.Search.Search(c.Request().Context(), req)
	if err != nil {
		return gridData{}, nil, err
	}
	assets, err := s.cat.AssetsByID(res.IDs)
	if err != nil {
		return gridData{}, nil, err
	}
	g := gridData{Total: res.Total}
	for _, a := range assets {
		g.Hits = append(g.Hits, s.assetView(a))
	}
	if req.Page*gridPerPage < res.Total && (req.Page+1)*gridPerPage <= catalog.MaxSearchWindow {
		next := cloneValues(q)
		next.Set("page", strconv.Itoa(req.Page+1))
		next.Del("fragment")
		g.Next = basePath + "?" + next.Encode()
		next.Set("fragment", "1")
		g.NextFragment = "/?" + next.Encode()
	}
	return g, res.Facets, nil
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// searchPage is the home page: search box, filters, facets and the grid.
// With fragment=1 it answers only the next cards, for the infinite scroll.
func (s *Server) searchPage(c echo.Context, p *ui.Page) (string, error) {
	q := c.QueryParams()
	p.Title, p.Nav = p.L.T("search.title"), "search"
	g, facets, err := s.runGrid(c, q, "/")
	d := &searchPageData{Q: q.Get("q"), Kind: q.Get("kind"), Event: q.Get("event"), Person: q.Get("person"),
		Tag: q.Get("tag"), From: q.Get("from"), To: q.Get("to"), Sort: q.Get("sort")}
	p.Data = d
	var ae *apiError
	switch {
	case errors.As(err, &ae) && ae.Status < 500, errors.Is(err, catalog.ErrInvalid), errors.Is(err, catalog.ErrReindexing), errors.Is(err, catalog.ErrSearchTimeout):
		d.Error = p.L.Pick(publicMessage(err))
		if ae != nil {
			d.Error = p.L.Pick(ae.Message)
		}
	case err != nil:
		return "", err
	}
	d.gridData = g
	if q.Get("fragment") == "1" {
		return "search#cards", nil
	}
	for _, o := range []struct{ v, label string }{
		{"", "search.sort.relevance"}, {catalog.SortCapturedDesc, "search.sort.newest"},
		{catalog.SortCapturedAsc, "search.sort.oldest"}, {catalog.SortUploadedNewest, "search.sort.uploaded"},
	} {
		d.Sorts = append(d.Sorts, sortOption{Value: o.v, Label: o.label, Selected: o.v == d.Sort})
	}
	d.Facets, d.Active = s.facetLinks(p.L, q, facets)
	return "search", nil
}

// facetLinks turns facet counts into links that add (or, when active,
// remove) one filter, and lists the active filters as removable chips.
func (s *Server) facetLinks(l *ui.Localizer, q url.Values, facets map[string][]catalog.FacetCount) ([]facetGroup, []activeFilter) {
	with := func(key, value string) string {
		v := cloneValues(q)
		v.Del("page")
		v.Del("fragment")
		if value == "" {
			v.Del(key)
		} else {
			v.Set(key, value)
		}
		if key == "year" {
			v.Del("year")
			v.Set("from", value+"-01-01")
			v.Set("to", value+"-12-31")
		}
		if len(v) == 0 {
			return "/"
		}
		return "/?" + v.Encode()
	}
	var groups []facetGroup
	var active []activeFilter
	for _, key := range []string{"kind", "event", "person", "tag", "year"} {
		g := facetGroup{Title: "facet." + key}
		for _, f := range facets[key] {
			label := f.Label
			if label == "" {
				label = f.Value
			}
			if key == "kind" {
				label = l.T("kind." + f.Value)
			}
			on := key != "year" && q.Get(key) == f.Value
			if key == "year" {
				on = q.Get("from") == f.Value+"-01-01" && q.Get("to") == f.Value+"-12-31"
			}
			href := with(key, f.Value)
			if on {
				href = with(key, "")
				if key == "year" {
					v := cloneValues(q)
					v.Del("from")
					v.Del("to")
					href = "/?" + v.Encode()
				} else {
					active = append(active, activeFilter{Group: "facet." + key, Label: label, Href: href})
				}
			}
			g.Values = append(g.Values, facetLink{Label: label, Href: href, Count: f.Count, Active: on})
		}
		groups = append(groups, g)
	}
	for _, key := range []string{"q", "from", "to"} {
		if v := q.Get(key); v != "" {
			active = append(active, activeFilter{Group: "facet." + key, Label: v, Href: with(key, "")})
		}
	}
	return groups, active
}

type monthCount struct {
	Month   int
	Count   int
	Href    string
	Samples []assetJSON
}

type timelineData struct {
	Years  []catalog.FacetCount
	Year   string
	Months []monthCount
}

// timelinePage lists the years with material and, for one year (the
// latest by default), its months with counts and a few thumbnails.
func (s *Server) timelinePage(c echo.Context, p *ui.Page) (string, error) {
	p.Title, p.Nav = p.L.T("timeline.title"), "timeline"
	if s.cfg.Search == nil {
		return "", errorf(503, "search_unavailable", "La búsqueda no está disponible / search is not enabled")
	}
	ctx := c.Request().Context()
	all, err := s.cfg.Search.Search(ctx, catalog.SearchRequest{PerPage: 1})
	if err != nil {
		return "", err
	}
	d := &timelineData{Years: all.Facets["year"]}
	p.Data = d
	if len(d.Years) == 0 {
		return "timeline", nil
	}
	d.Year = c.QueryParam("year")
	year, err := strconv.Atoi(d.Year)
	if err != nil {
		latest := 0
		for _, y := range d.Years {
			if n, err := strconv.Atoi(y.Value); err == nil && n > latest {
				latest = n
			}
		}
		year, d.Year = latest, strconv.Itoa(latest)
	}
	for m := 1; m <= 12; m++ {
		from := time.Date(year, time.Month(m), 1, 0, 0, 0, 0, s.cfg.Zone)
		to := from.AddDate(0, 1, 0)
		res, err := s.cfg.Search.Search(ctx, catalog.SearchRequest{From: &from, To: &to, PerPage: 4, Sort: catalog.SortCapturedAsc})
		if err != nil {
			return "", err
		}
		mc := monthCount{Month: m, Count: res.Total,
			Href: fmt.Sprintf("/?from=%s&to=%s&sort=captured_at", from.Format(time.DateOnly), to.AddDate(0, 0, -1).Format(time.DateOnly))}
		assets, err := s.cat.AssetsByID(res.IDs)
		if err != nil {
			return "", err
		}
		for _, a := range assets {
			mc.Samples = append(mc.Samples, s.assetView(a))
		}
		d.Months = append(d.Months, mc)
	}
	return "timeline", nil
}
