package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/comsoc/acervo/catalog"
)

type collectionRequest struct {
	Name        *string   `json:"name"`
	Description *string   `json:"description"`
	Assets      *[]string `json:"assets"` // the whole list, in order: reorders
	Add         []string  `json:"add"`
	Remove      []string  `json:"remove"`
}

func (r collectionRequest) change() catalog.CollectionChange {
	return catalog.CollectionChange{Name: r.Name, Description: r.Description, Assets: r.Assets, Add: r.Add, Remove: r.Remove}
}

type collectionJSON struct {
	catalog.Collection
	Count int         `json:"count"`
	Items []assetJSON `json:"items,omitempty"` // on GET of one collection
	ZIP   string      `json:"zip_url"`
}

func collectionView(col catalog.Collection) collectionJSON {
	return collectionJSON{Collection: col, Count: len(col.AssetIDs), ZIP: "/api/v1/collections/" + col.ID + "/zip"}
}

func (s *Server) listCollections(c echo.Context) error {
	cols, err := s.cat.Collections()
	if err != nil {
		return err
	}
	out := make([]collectionJSON, len(cols))
	for i, col := range cols {
		out[i] = collectionView(col)
	}
	return c.JSON(http.StatusOK, map[string]any{"collections": out})
}

// getCollection answers the collection with its assets, in order.
func (s *Server) getCollection(c echo.Context) error {
	col, assets, err := s.collectionAssets(c)
	if err != nil {
		return err
	}
	v := collectionView(col)
	v.Items = make([]assetJSON, len(assets))
	for i, a := range assets {
		v.Items[i] = s.assetView(a)
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Server) createCollection(c echo.Context) error {
	var in collectionRequest
	if err := decodeJSON(c, &in, 1<<20); err != nil {
		return err
	}
	col, err := s.cat.CreateCollection(actor(c), in.change())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, collectionView(col))
}

// patchCollection renames, describes, adds, removes and reorders.
func (s *Server) patchCollection(c echo.Context) error {
	var in collectionRequest
	if err := decodeJSON(c, &in, 1<<20); err != nil {
		return err
	}
	col, err := s.cat.UpdateCollection(actor(c), c.Param("id"), in.change())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, collectionView(col))
}

func (s *Server) deleteCollection(c echo.Context) error {
	if err := s.cat.DeleteCollection(actor(c), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// collectionZip streams the originals of a collection, in its order. It is
// audited as one download naming the collection.
func (s *Server) collectionZip(c echo.Context) error {
	col, assets, err := s.collectionAssets(c)
	if err != nil {
		return err
	}
	if err := s.cat.Audit(actor(c), catalog.AuditEntry{Action: catalog.AuditDownload, Target: col.ID, Detail: "ZIP: " + col.Name}); err != nil {
		return err
	}
	return s.streamZip(c, zipTitle(col.Name), assets, "")
}

// collectionAssets loads the collection named in the URL and its assets in
// order, leaving out those in the trash.
func (s *Server) collectionAssets(c echo.Context) (catalog.Collection, []catalog.Asset, error) {
	col, err := s.cat.Collection(c.Param("id"))
	if err != nil {
		return col, nil, err
	}
	assets, err := s.liveAssets(col.AssetIDs)
	return col, assets, err
}
