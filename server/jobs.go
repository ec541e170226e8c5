package server

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// retryJob answers POST /api/v1/jobs/{id}/retry (admins): a failed job is
// queued again with its attempts reset, for when the cause was fixed. A job
// that is not failed is 400; an unknown one 404.
func (s *Server) retryJob(c echo.Context) error {
	j, err := s.cat.RetryJob(c.Param("id"))
	if err != nil {
		return err
	}
	if s.notifier != nil {
		s.notifier.Notify()
	}
	return c.JSON(http.StatusOK, j)
}
