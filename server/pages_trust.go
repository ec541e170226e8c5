package server

import (
	"github.com/labstack/echo/v4"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/ui"
)

// Pages of issue #5 for the browser: collections, share links and user
// accounts. Their islands (ui/static/trust.js) call the JSON API.

type collectionCard struct {
	catalog.Collection
	Count int
	Cover string
}

func (s *Server) thumbURL(id string) string {
	a, err := s.cat.Asset(id)
	if err != nil || a.TrashedAt != nil {
		return ""
	}
	if r, ok := a.Renditions["thumb.jpg"]; ok {
		return renditionURL(a.ID, "thumb.jpg", r)
	}
	return ""
}

// collectionsPage lists collections; editors also get the form for a new one.
func (s *Server) collectionsPage(c echo.Context, p *ui.Page) (string, error) {
	cols, err := s.cat.Collections()
	if err != nil {
		return "", err
	}
	cards := make([]collectionCard, len(cols))
	for i, col := range cols {
		cards[i] = collectionCard{Collection: col, Count: len(col.AssetIDs)}
		if len(col.AssetIDs) > 0 {
			cards[i].Cover = s.thumbURL(col.AssetIDs[0])
		}
	}
	p.Title, p.Nav = p.L.T("collections.title"), "collections"
	p.Data = struct {
		Collections []collectionCard
		CanEdit     bool
	}{cards, currentUser(c).Can(catalog.RoleEditor)}
	return "collections", nil
}

// collectionPage shows a collection's assets in order, its ZIP, and for
// editors the reorder and remove buttons and the share form.
func (s *Server) collectionPage(c echo.Context, p *ui.Page) (string, error) {
	col, assets, err := s.collectionAssets(c)
	if err != nil {
		return "", err
	}
	items := make([]assetJSON, len(assets))
	for i, a := range assets {
		items[i] = s.assetView(a)
	}
	p.Title, p.Nav = col.Name, "collections"
	p.Data = struct {
		Collection catalog.Collection
		Items      []assetJSON
		CanEdit    bool
		Share      shareForm
	}{col, items, currentUser(c).Can(catalog.RoleEditor), shareForm{Target: "collection", ID: col.ID}}
	return "collection", nil
}

// shareForm is what the share form partial needs: what it shares.
type shareForm struct {
	Target string // assets, collection or event
	ID     string
}

// sharesPage lists every share link with its use, for editors.
func (s *Server) sharesPage(c echo.Context, p *ui.Page) (string, error) {
	shares, err := s.cat.Shares()
	if err != nil {
		return "", err
	}
	views := make([]shareJSON, len(shares))
	creator := s.userRefs()
	for i, sh := range shares {
		views[i] = s.shareView(sh, creator)
	}
	p.Title, p.Nav = p.L.T("shares.title"), "shares"
	p.Data = struct{ Shares []shareJSON }{views}
	return "shares", nil
}

// usersPage lists the accounts for admins, with their roles and state.
func (s *Server) usersPage(c echo.Context, p *ui.Page) (string, error) {
	users, err := s.cat.Users()
	if err != nil {
		return "", err
	}
	p.Title, p.Nav = p.L.T("users.title"), "users"
	p.Data = struct {
		Users []catalog.User
		Me    string
		Roles []string
	}{users, currentUser(c).ID, []string{catalog.RoleViewer, catalog.RoleContributor, catalog.RoleEditor, catalog.RoleAdmin}}
	return "users", nil
}
