package server

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

type tokenRequest struct {
	Name string `json:"name"`
}

// createToken makes a bearer token for the current user. The secret is in
// this response only; the catalog keeps its hash.
func (s *Server) createToken(c echo.Context) error {
	var in tokenRequest
	if err := decodeJSON(c, &in, 4<<10); err != nil {
		return err
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		return errorf(http.StatusBadRequest, "invalid", "Ponga un nombre al token / name the token")
	}
	secret, t, err := s.cat.CreateToken(actor(c), in.Name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"id": t.ID, "name": t.Name, "token": secret, "created_at": t.CreatedAt})
}

func (s *Server) listTokens(c echo.Context) error {
	tokens, err := s.cat.Tokens(currentUser(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"tokens": tokens})
}

func (s *Server) deleteToken(c echo.Context) error {
	if err := s.cat.DeleteToken(actor(c), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
