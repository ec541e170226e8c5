package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/comsoc/acervo/catalog"
)

// adminUserJSON is an account as admins see it: with its state, never its
// password hash.
type adminUserJSON struct {
	userJSON
	Disabled  bool   `json:"disabled"`
	CreatedAt string `json:"created_at"`
}

func adminUserView(u catalog.User) adminUserJSON {
	return adminUserJSON{userJSON: userView(u), Disabled: u.Disabled, CreatedAt: u.CreatedAt.Format(timeFormat)}
}

const timeFormat = "2006-01-02T15:04:05Z07:00"

func (s *Server) listUsers(c echo.Context) error {
	users, err := s.cat.Users()
	if err != nil {
		return err
	}
	out := make([]adminUserJSON, len(users))
	for i, u := range users {
		out[i] = adminUserView(u)
	}
	return c.JSON(http.StatusOK, map[string]any{"users": out})
}

func (s *Server) getUser(c echo.Context) error {
	u, err := s.cat.User(c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, adminUserView(u))
}

type newUserRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Role     string `json:"role"`
	Name     string `json:"name"`
	Area     string `json:"area"`
}

// createUser: POST /api/v1/users (admins). The role is required: nobody
// gets more than the admin chose by accident of a default.
func (s *Server) createUser(c echo.Context) error {
	var in newUserRequest
	if err := decodeJSON(c, &in, 8<<10); err != nil {
		return err
	}
	u, err := s.cat.CreateUser(catalog.NewUser{Username: in.Username, Password: in.Password, Role: in.Role, Name: in.Name, Area: in.Area, By: actor(c)})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, adminUserView(u))
}

type userPatch struct {
	Name     *string `json:"name"`
	Area     *string `json:"area"`
	Role     *string `json:"role"`
	Disabled *bool   `json:"disabled"`
	Password *string `json:"password"`
}

// patchUser: PATCH /api/v1/users/{id} (admins) renames, moves to another
// area, re-roles, disables or resets the password. Re-roling, disabling and
// a new password end the user's sessions.
func (s *Server) patchUser(c echo.Context) error {
	var in userPatch
	if err := decodeJSON(c, &in, 8<<10); err != nil {
		return err
	}
	u, err := s.cat.UpdateUser(actor(c), c.Param("id"), catalog.UserUpdate{
		Name: in.Name, Area: in.Area, Role: in.Role, Disabled: in.Disabled, Password: in.Password,
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, adminUserView(u))
}

// revokeUserSessions: DELETE /api/v1/users/{id}/sessions signs the user out
// everywhere (a lost phone, a suspicion).
func (s *Server) revokeUserSessions(c echo.Context) error {
	if err := s.cat.RevokeSessions(actor(c), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
