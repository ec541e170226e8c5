package server

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/comsoc/acervo/catalog"
)

type shareRequest struct {
	Assets        []string   `json:"assets"`
	Collection    string     `json:"collection"`
	Event         string     `json:"event"`
	Title         string     `json:"title"`
	Description   string     `json:"description"`
	Recipient     string     `json:"recipient"`
	Credit        string     `json:"credit"`
	Watermark     string     `json:"watermark"`
	AllowDownload bool       `json:"allow_download"`
	MaxDownloads  int        `json:"max_downloads"`
	Password      string     `json:"password"`
	Public        bool       `json:"public"`
	StartsAt      *time.Time `json:"starts_at"`
	ExpiresAt     *time.Time `json:"expires_at"`
}

// shareJSON is a link as editors see it; never its token or password.
type shareJSON struct {
	ID            string     `json:"id"`
	URL           string     `json:"url,omitempty"` // only when just created
	Token         string     `json:"token,omitempty"`
	Title         string     `json:"title"`
	Description   string     `json:"description,omitempty"`
	Recipient     string     `json:"recipient"`
	Assets        []string   `json:"assets,omitempty"`
	Collection    string     `json:"collection,omitempty"`
	Event         string     `json:"event,omitempty"`
	Credit        string     `json:"credit,omitempty"`
	Watermark     string     `json:"watermark,omitempty"`
	AllowDownload bool       `json:"allow_download"`
	MaxDownloads  int        `json:"max_downloads"`
	Password      bool       `json:"password"`
	Public        bool       `json:"public"`
	StartsAt      *time.Time `json:"starts_at"`
	ExpiresAt     time.Time  `json:"expires_at"`
	CreatedAt     time.Time  `json:"created_at"`
	CreatedBy     *userRef   `json:"created_by"`
	RevokedAt     *time.Time `json:"revoked_at"`
	State         string     `json:"state"` // active, scheduled, expired, revoked
	Views         int        `json:"views"`
	Downloads     int        `json:"downloads"`
	LastAccess    *time.Time `json:"last_access"`
}

type userRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// userRefs looks users up by id once each, for a list of records that
// name them (a user makes many links).
func (s *Server) userRefs() func(id string) *userRef {
	seen := map[string]*userRef{}
	return func(id string) *userRef {
		if r, ok := seen[id]; ok {
			return r
		}
		var r *userRef
		if u, err := s.cat.User(id); err == nil {
			r = &userRef{u.ID, u.Name}
		}
		seen[id] = r
		return r
	}
}

// shareView is a link as editors see it; creator names its maker (userRefs).
func (s *Server) shareView(sh catalog.Share, creator func(string) *userRef) shareJSON {
	v := shareJSON{
		ID: sh.ID, Title: sh.Title, Description: sh.Description, Recipient: sh.Recipient,
		Assets: sh.Assets, Collection: sh.Collection, Event: sh.Event, Credit: sh.Credit, Watermark: sh.Watermark,
		AllowDownload: sh.AllowDownload, MaxDownloads: sh.MaxDownloads, Password: sh.Locked(),
		StartsAt: sh.StartsAt, ExpiresAt: sh.ExpiresAt, CreatedAt: sh.CreatedAt, RevokedAt: sh.RevokedAt,
		Views: sh.Views, Downloads: sh.Downloads, LastAccess: sh.LastAccess, State: sh.Status(time.Now()), Public: sh.Public,
	}
	if sh.Public { // its token is kept, so its URL can be listed
		v.URL = "/s/" + sh.PublicToken
	}
	v.CreatedBy = creator(sh.CreatedBy)
	return v
}

// createShare: POST /api/v1/shares (editors). The answer carries the token
// and the URL once; the catalog keeps only the token's hash.
func (s *Server) createShare(c echo.Context) error {
	var in shareRequest
	if err := decodeJSON(c, &in, 256<<10); err != nil {
		return err
	}
	n := catalog.NewShare{
		Assets: in.Assets, Collection: in.Collection, Event: in.Event, Title: in.Title, Description: in.Description,
		Recipient: in.Recipient, Credit: in.Credit, Watermark: in.Watermark, AllowDownload: in.AllowDownload,
		MaxDownloads: in.MaxDownloads, Password: in.Password, StartsAt: in.StartsAt, Public: in.Public,
	}
	if in.ExpiresAt != nil {
		n.ExpiresAt = *in.ExpiresAt
	}
	token, sh, err := s.cat.CreateShare(actor(c), n)
	if err != nil {
		return err
	}
	v := s.shareView(sh, s.userRefs())
	v.Token, v.URL = token, s.publicURL(c, "/s/"+token)

	return c.JSON(http.StatusCreated, v)
}

// publicURL makes an absolute URL for people outside: PublicURL when
// configured, else the scheme and host the request came in on.
func (s *Server) publicURL(c echo.Context, path string) string {
	if s.cfg.PublicURL != "" {
		return s.cfg.PublicURL + path
	}
	return c.Scheme() + "://" + c.Request().Host + path
}

func (s *Server) listShares(c echo.Context) error {
	shares, err := s.cat.Shares()
	if err != nil {
		return err
	}
	out := make([]shareJSON, len(shares))
	creator := s.userRefs()
	for i, sh := range shares {
		out[i] = s.shareView(sh, creator)
	}
	return c.JSON(http.StatusOK, map[string]any{"shares": out})
}

func (s *Server) getShare(c echo.Context) error {
	sh, err := s.cat.Share(c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.shareView(sh, s.userRefs()))
}

// revokeShare: DELETE /api/v1/shares/{id}. Every URL under the link stops
// working at once, including renditions a browser fetched before.
func (s *Server) revokeShare(c echo.Context) error {
	sh, err := s.cat.RevokeShare(actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.shareView(sh, s.userRefs()))
}
