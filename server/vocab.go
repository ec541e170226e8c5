package server

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/comsoc/acervo/catalog"
)

// Vocabulary handlers: events, people and tags (DESIGN.md). Viewers read;
// editors and admins change (routes.go). Names are unique accent- and
// case-insensitively (409 exists); deleting an entry that assets use is 409
// unless ?force=true, which unlinks it from them.

// vocabBodyLimit bounds a vocabulary entry's JSON body.
const vocabBodyLimit = 64 << 10

type eventRequest struct {
	Name        *string `json:"name"`
	Date        *string `json:"date"`
	EndDate     *string `json:"end_date"`
	Place       *string `json:"place"`
	Description *string `json:"description"`
}

func (r eventRequest) fields() catalog.EventFields {
	return catalog.EventFields{Name: r.Name, Date: r.Date, EndDate: r.EndDate, Place: r.Place, Description: r.Description}
}

type personRequest struct {
	Name    *string   `json:"name"`
	Role    *string   `json:"role"`
	Aliases *[]string `json:"aliases"`
}

func (r personRequest) fields() catalog.PersonFields {
	return catalog.PersonFields{Name: r.Name, Role: r.Role, Aliases: r.Aliases}
}

func (s *Server) listEvents(c echo.Context) error {
	events, err := s.cat.Events()
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"events": events})
}

func (s *Server) getEvent(c echo.Context) error {
	e, err := s.cat.Event(c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, e)
}

func (s *Server) createEvent(c echo.Context) error {
	var req eventRequest
	if err := decodeJSON(c, &req, vocabBodyLimit); err != nil {
		return err
	}
	e, err := s.cat.CreateEvent(actor(c), req.fields())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, e)
}

func (s *Server) updateEvent(c echo.Context) error {
	var req eventRequest
	if err := decodeJSON(c, &req, vocabBodyLimit); err != nil {
		return err
	}
	e, err := s.cat.UpdateEvent(actor(c), c.Param("id"), req.fields())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, e)
}

func (s *Server) deleteEvent(c echo.Context) error {
	if err := s.cat.DeleteEvent(actor(c), c.Param("id"), c.QueryParam("force") == "true"); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) listPeople(c echo.Context) error {
	people, err := s.cat.People()
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"people": people})
}

func (s *Server) getPerson(c echo.Context) error {
	p, err := s.cat.Person(c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (s *Server) createPerson(c echo.Context) error {
	var req personRequest
	if err := decodeJSON(c, &req, vocabBodyLimit); err != nil {
		return err
	}
	p, err := s.cat.CreatePerson(actor(c), req.fields())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, p)
}

func (s *Server) updatePerson(c echo.Context) error {
	var req personRequest
	if err := decodeJSON(c, &req, vocabBodyLimit); err != nil {
		return err
	}
	p, err := s.cat.UpdatePerson(actor(c), c.Param("id"), req.fields())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (s *Server) deletePerson(c echo.Context) error {
	if err := s.cat.DeletePerson(actor(c), c.Param("id"), c.QueryParam("force") == "true"); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) listTags(c echo.Context) error {
	tags, err := s.cat.Tags()
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"tags": tags})
}

// tagParam is the tag named in the path, percent-decoded once whatever
// Echo did with the escaped path.
func tagParam(c echo.Context) string {
	raw := c.Param("name")
	if strings.Contains(c.Request().URL.EscapedPath(), raw) {
		if s, err := url.PathUnescape(raw); err == nil {
			raw = s
		}
	}
	return raw
}

// renameTag renames or merges a tag on every asset: {"name": "new"}.
func (s *Server) renameTag(c echo.Context) error {
	old := tagParam(c)
	var req struct {
		Name string `json:"name"`
	}
	if err := decodeJSON(c, &req, vocabBodyLimit); err != nil {
		return err
	}
	if strings.TrimSpace(req.Name) == "" {
		return errorf(http.StatusBadRequest, "invalid", "Falta el nombre / name is required")
	}
	n, err := s.cat.RenameTag(actor(c), old, req.Name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"name": req.Name, "assets": n})
}

// deleteTag removes a tag from every asset.
func (s *Server) deleteTag(c echo.Context) error {
	old := tagParam(c)
	if _, err := s.cat.RenameTag(actor(c), old, ""); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
