package server

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/comsoc/acervo/catalog"
)

// searchJSON is the answer of GET /api/v1/search (DESIGN.md).
type searchJSON struct {
	Total   int                             `json:"total"`
	Page    int                             `json:"page"`
	PerPage int                             `json:"per_page"`
	Hits    []assetJSON                     `json:"hits"`
	Facets  map[string][]catalog.FacetCount `json:"facets"`
}

// search answers GET /api/v1/search: q, kind, event, person, tag, from, to
// (RFC 3339, or YYYY-MM-DD in Config.Zone, both inclusive), sort, page,
// per_page. Invalid parameters are 400; while the index is rebuilt, 503
// with code "reindexing".
func (s *Server) search(c echo.Context) error {
	if s.cfg.Search == nil {
		return errorf(http.StatusServiceUnavailable, "search_unavailable", "La búsqueda no está disponible en este servidor / search is not enabled on this server")
	}
	p := c.QueryParams()
	req := catalog.SearchRequest{
		Q: p.Get("q"), Kind: p.Get("kind"), Event: p.Get("event"), Person: p.Get("person"), Tag: p.Get("tag"),
		Sort: p.Get("sort"),
	}
	var err error
	if req.Page, err = intParam(p.Get("page")); err != nil {
		return errorf(http.StatusBadRequest, "invalid", "page debe ser un número / page must be a number")
	}
	if req.PerPage, err = intParam(p.Get("per_page")); err != nil {
		return errorf(http.StatusBadRequest, "invalid", "per_page debe ser un número / per_page must be a number")
	}
	if req.From, err = s.timeParam(p.Get("from"), false); err != nil {
		return errorf(http.StatusBadRequest, "invalid", "from debe ser una fecha AAAA-MM-DD o RFC 3339 / from must be YYYY-MM-DD or RFC 3339")
	}
	if req.To, err = s.timeParam(p.Get("to"), true); err != nil {
		return errorf(http.StatusBadRequest, "invalid", "to debe ser una fecha AAAA-MM-DD o RFC 3339 / to must be YYYY-MM-DD or RFC 3339")
	}
	res, err := s.cfg.Search.Search(c.Request().Context(), req)
	switch {
	case errors.Is(err, catalog.ErrReindexing):
		c.Response().Header().Set("Retry-After", "30")
		return errorf(http.StatusServiceUnavailable, "reindexing", "Se está reconstruyendo el índice de búsqueda; intente en unos minutos / the search index is being rebuilt, try again in a few minutes")
	case errors.Is(err, catalog.ErrSearchTimeout):
		return errorf(http.StatusServiceUnavailable, "search_timeout", "La búsqueda tardó demasiado; afínela / the search took too long, narrow it")
	case err != nil:
		return err
	}
	assets, err := s.cat.AssetsByID(res.IDs)
	if err != nil {
		return err
	}
	out := searchJSON{Total: res.Total, Page: res.Page, PerPage: res.PerPage, Hits: make([]assetJSON, 0, len(assets)), Facets: res.Facets}
	for _, a := range assets {
		out.Hits = append(out.Hits, s.assetView(a))
	}
	return c.JSON(http.StatusOK, out)
}

func intParam(v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	return strconv.Atoi(v)
}

// timeParam parses a from/to bound. A bare date is a whole day in the
// office's zone: as "to" it includes that day. An instant as "to" is
// included too (the catalog's To is exclusive).
func (s *Server) timeParam(v string, upper bool) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	if d, err := time.ParseInLocation(time.DateOnly, v, s.cfg.Zone); err == nil {
		if upper {
			d = d.AddDate(0, 0, 1)
		}
		return &d, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil, err
	}
	if upper {
		t = t.Add(time.Nanosecond)
	}
	return &t, nil
}
