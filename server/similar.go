package server

import (
	"math"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/catalog/similar"
)

// Near-duplicates inside the archive (issue #7). They are computed when
// asked, not stored when a fingerprint is: the index answers in
// microseconds, and a stored list would go stale — an original uploaded
// after its copy would never appear on the copy, and trashing either
// would leave a dangling entry.

// nearDuplicateJSON is one near-duplicate of an asset.
type nearDuplicateJSON struct {
	ID    string  `json:"id"`
	Kind  string  `json:"kind"`
	Title string  `json:"title,omitempty"`
	Score float64 `json:"score"`
	// Start and End (seconds) are, for video and audio, where a stretch
	// of this asset lies in the other one.
	Start *float64 `json:"start,omitempty"`
	End   *float64 `json:"end,omitempty"`
	URL   string   `json:"url"`
}

// nearDuplicates lists the near-duplicates of a outside the trash; nil
// without a similarity index.
func (s *Server) nearDuplicates(a catalog.Asset) ([]nearDuplicateJSON, error) {
	if s.cfg.Similar == nil {
		return nil, nil
	}
	ms, err := s.cfg.Similar.OfAsset(a.ID)
	if err != nil {
		return nil, err
	}
	out := []nearDuplicateJSON{}
	for _, m := range ms {
		o, err := s.cat.Asset(m.AssetID)
		if err != nil || o.TrashedAt != nil {
			continue
		}
		out = append(out, nearDuplicateView(o, m))
	}
	return out, nil
}

func nearDuplicateView(o catalog.Asset, m similar.Match) nearDuplicateJSON {
	d := nearDuplicateJSON{ID: o.ID, Kind: o.Kind, Title: o.Title, Score: math.Round(m.Score*1000) / 1000, URL: "/api/v1/assets/" + o.ID}
	if o.Kind != catalog.KindPhoto && m.End > 0 {
		start, end := m.Start.Seconds(), m.End.Seconds()
		d.Start, d.End = &start, &end
	}
	return d
}

// getSimilar: GET /api/v1/assets/{id}/similar (viewer+).
func (s *Server) getSimilar(c echo.Context) error {
	if s.cfg.Similar == nil {
		return errorf(http.StatusServiceUnavailable, "no_similarity_index", "La búsqueda de parecidos no está activa / similarity search is off")
	}
	a, err := s.visibleAsset(c)
	if err != nil {
		return err
	}
	ds, err := s.nearDuplicates(a)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"asset": a.ID, "similar": ds})
}
