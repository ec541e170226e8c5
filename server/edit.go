package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/comsoc/acervo/catalog"
)

// Asset edits: PATCH /api/v1/assets/{id} and POST /api/v1/assets/batch.
// Editors and admins edit any asset, contributors only those they uploaded
// (403 otherwise; in a batch, 403 if any one is not theirs), viewers none.
// People are given by id (GET /api/v1/people); events by id or null. A batch
// is one transaction: a missing id (404), a bad value (400) or a refused
// asset (403) applies nothing.

// editBodyLimit fits MaxBatch ids and generous tag lists.
const editBodyLimit = 1 << 20

// assetFields are the settable fields of PATCH and of a batch's "set".
// Event and CapturedAt are raw so that null (clear) differs from absent.
type assetFields struct {
	Title      *string         `json:"title"`
	Caption    *string         `json:"caption"`
	Credit     *string         `json:"credit"`
	CapturedAt json.RawMessage `json:"captured_at"`
	Event      json.RawMessage `json:"event"`
}

type patchRequest struct {
	assetFields
	Tags   *[]string `json:"tags"`
	People *[]string `json:"people"`
}

type listsRequest struct {
	Tags   []string `json:"tags"`
	People []string `json:"people"`
}

type batchRequest struct {
	IDs    []string     `json:"ids"`
	Set    assetFields  `json:"set"`
	Add    listsRequest `json:"add"`
	Remove listsRequest `json:"remove"`
}

func (f assetFields) edit() (catalog.AssetEdit, error) {
	e := catalog.AssetEdit{Title: f.Title, Caption: f.Caption, Credit: f.Credit}
	if isNull(f.CapturedAt) {
		e.ClearCapturedAt = true
	} else if len(f.CapturedAt) > 0 {
		var s string
		if err := json.Unmarshal(f.CapturedAt, &s); err != nil {
			return e, errorf(http.StatusBadRequest, "invalid", "captured_at debe ser RFC 3339 / captured_at must be an RFC 3339 time")
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return e, errorf(http.StatusBadRequest, "invalid", "captured_at debe ser RFC 3339 / captured_at must be an RFC 3339 time")
		}
		e.CapturedAt = &t
	}
	if isNull(f.Event) {
		none := ""
		e.Event = &none
	} else if len(f.Event) > 0 {
		var id string
		if err := json.Unmarshal(f.Event, &id); err != nil || id == "" {
			return e, errorf(http.StatusBadRequest, "invalid", "event debe ser un id o null / event must be an id or null")
		}
		e.Event = &id
	}
	return e, nil
}

func isNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }

// mayEdit is the permission check EditAssets runs on each asset.
func mayEdit(u catalog.User) func(catalog.Asset) error {
	return func(a catalog.Asset) error {
		if u.Can(catalog.RoleEditor) || (u.Can(catalog.RoleContributor) && a.UploadedBy == u.ID) {
			return nil
		}
		return fmt.Errorf("%w: asset %s", catalog.ErrForbidden, a.ID)
	}
}

func (s *Server) patchAsset(c echo.Context) error {
	var req patchRequest
	if err := decodeJSON(c, &req, editBodyLimit); err != nil {
		return err
	}
	e, err := req.edit()
	if err != nil {
		return err
	}
	e.Tags, e.People = req.Tags, req.People
	assets, err := s.cat.EditAssets(actor(c), []string{c.Param("id")}, e, mayEdit(currentUser(c)))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.assetView(assets[0]))
}

func (s *Server) batchAssets(c echo.Context) error {
	var req batchRequest
	if err := decodeJSON(c, &req, editBodyLimit); err != nil {
		return err
	}
	if len(req.IDs) == 0 || len(req.IDs) > catalog.MaxBatch {
		return errorf(http.StatusBadRequest, "invalid", "ids: entre 1 y %d / between 1 and %d ids", catalog.MaxBatch, catalog.MaxBatch)
	}
	e, err := req.Set.edit()
	if err != nil {
		return err
	}
	e.AddTags, e.AddPeople = req.Add.Tags, req.Add.People
	e.RemoveTags, e.RemovePeople = req.Remove.Tags, req.Remove.People
	assets, err := s.cat.EditAssets(actor(c), req.IDs, e, mayEdit(currentUser(c)))
	if err != nil {
		return err
	}
	views := make([]assetJSON, 0, len(assets))
	for _, a := range assets {
		views = append(views, s.assetView(a))
	}
	return c.JSON(http.StatusOK, map[string]any{"updated": len(views), "assets": views})
}
