package server

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"
)

// decodeJSON reads a JSON body of at most limit bytes into v, answering 400
// or 413 with a clear message on bad input.
func decodeJSON(c echo.Context, v any, limit int64) error {
	body := http.MaxBytesReader(c.Response(), c.Request().Body, limit)
	dec := json.NewDecoder(body)
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return errorf(http.StatusRequestEntityTooLarge, "too_large", "El cuerpo es demasiado grande / body too large")
		}
		if errors.Is(err, io.EOF) {
			return errorf(http.StatusBadRequest, "invalid_json", "Falta el cuerpo JSON / empty body")
		}
		return errorf(http.StatusBadRequest, "invalid_json", "JSON inválido / invalid JSON")
	}
	return nil
}
