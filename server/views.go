package server

import (
	"net/url"
	"time"

	"github.com/comsoc/acervo/catalog"
)

// The API shapes of DESIGN.md. Views are built from catalog records so
// storage details (job ids, password hashes, blob keys) never leak.

type userJSON struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Name     string `json:"name"`
	Role     string `json:"role"`
	Area     string `json:"area,omitempty"`
}

func userView(u catalog.User) userJSON {
	return userJSON{ID: u.ID, Username: u.Username, Name: u.Name, Role: u.Role, Area: u.Area}
}

type renditionJSON struct {
	URL    string `json:"url"`
	Width  int    `json:"width,omitempty"`
	Height int    `json:"height,omitempty"`
	Size   int64  `json:"size"`
	MIME   string `json:"mime"`
}

type uploaderJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Area string `json:"area,omitempty"`
}

type assetJSON struct {
	ID         string                   `json:"id"`
	Kind       string                   `json:"kind"`
	Status     string                   `json:"status"`
	Error      string                   `json:"error,omitempty"`
	Filename   string                   `json:"filename"`
	Size       int64                    `json:"size"`
	SHA256     string                   `json:"sha256"`
	MIME       string                   `json:"mime"`
	CapturedAt *time.Time               `json:"captured_at"`
	UploadedAt time.Time                `json:"uploaded_at"`
	UploadedBy *uploaderJSON            `json:"uploaded_by"`
	Event      *catalog.Ref             `json:"event"`
	People     []catalog.Ref            `json:"people"`
	Tags       []string                 `json:"tags"`
	Title      string                   `json:"title"`
	Caption    string                   `json:"caption"`
	Credit     string                   `json:"credit"`
	Creator    string                   `json:"creator"`
	Copyright  string                   `json:"copyright"`
	Place      string                   `json:"place"`
	Rating     int                      `json:"rating"`
	Width      int                      `json:"width,omitempty"`
	Height     int                      `json:"height,omitempty"`
	Duration   float64                  `json:"duration,omitempty"`
	Camera     string                   `json:"camera,omitempty"`
	GPS        *catalog.GPS             `json:"gps"`
	Media      *catalog.MediaInfo       `json:"media"`
	Renditions map[string]renditionJSON `json:"renditions"`
	URL        string                   `json:"url"`
	Original   string                   `json:"original_url"`
	Duplicate  bool                     `json:"duplicate,omitempty"`
	TrashedAt  *time.Time               `json:"trashed_at,omitempty"`
	// NearDuplicates are set on the single-asset view only (see similar.go).
	NearDuplicates []nearDuplicateJSON `json:"near_duplicates,omitempty"`
}

func (s *Server) assetView(a catalog.Asset) assetJSON {
	base := "/api/v1/assets/" + a.ID
	v := assetJSON{
		ID: a.ID, Kind: a.Kind, Status: a.Status, Error: a.Error, Filename: a.Filename, Size: a.Size,
		SHA256: a.SHA256, MIME: a.MIME, CapturedAt: a.CapturedAt, UploadedAt: a.UploadedAt,
		Event: a.Event, People: a.People, Tags: a.Tags, Title: a.Title, Caption: a.Caption, Credit: a.Credit,
		Creator: a.Creator, Copyright: a.Copyright, Place: a.Place, Rating: a.Rating,
		Width: a.Width, Height: a.Height, Duration: a.Duration, Camera: a.Camera, GPS: a.GPS, Media: a.Media,
		Renditions: map[string]renditionJSON{}, URL: base, Original: base + "/original", TrashedAt: a.TrashedAt,
	}
	if v.People == nil {
		v.People = []catalog.Ref{}
	}
	if v.Tags == nil {
		v.Tags = []string{}
	}
	if u, err := s.cat.User(a.UploadedBy); err == nil {
		v.UploadedBy = &uploaderJSON{ID: u.ID, Name: u.Name, Area: u.Area}
	}
	for name, r := range a.Renditions {
		v.Renditions[name] = renditionJSON{
			URL:   renditionURL(a.ID, name, r),
			Width: r.Width, Height: r.Height, Size: r.Size, MIME: r.MIME,
		}
	}
	return v
}

// renditionURL is where a rendition is served. The version in the URL
// changes when the rendition is remade, so the year-long browser cache
// never serves a stale one.
func renditionURL(assetID, name string, r catalog.Rendition) string {
	return "/api/v1/assets/" + assetID + "/renditions/" + url.PathEscape(name) + "?v=" + r.SHA256[:12]
}
