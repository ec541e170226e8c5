package server

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/comsoc/acervo/catalog"
)

// auditFilter reads user, asset, action, from, to (dates in the office's
// zone or RFC 3339, both inclusive), before and limit.
func (s *Server) auditFilter(c echo.Context) (catalog.AuditFilter, error) {
	p := c.QueryParams()
	f := catalog.AuditFilter{User: p.Get("user"), Asset: p.Get("asset"), Action: p.Get("action")}
	from, err := s.timeParam(p.Get("from"), false)
	if err != nil {
		return f, errorf(http.StatusBadRequest, "invalid", "from debe ser una fecha AAAA-MM-DD o RFC 3339 / from must be YYYY-MM-DD or RFC 3339")
	}
	to, err := s.timeParam(p.Get("to"), true)
	if err != nil {
		return f, errorf(http.StatusBadRequest, "invalid", "to debe ser una fecha AAAA-MM-DD o RFC 3339 / to must be YYYY-MM-DD or RFC 3339")
	}
	if from != nil {
		f.From = *from
	}
	if to != nil {
		f.To = *to
	}
	if v := p.Get("before"); v != "" {
		if f.Before, err = strconv.ParseUint(v, 10, 64); err != nil {
			return f, errorf(http.StatusBadRequest, "invalid", "before debe ser un número / before must be a number")
		}
	}
	if f.Limit, err = intParam(p.Get("limit")); err != nil {
		return f, errorf(http.StatusBadRequest, "invalid", "limit debe ser un número / limit must be a number")
	}
	return f, nil
}

// getAudit: GET /api/v1/audit (admins), newest first, paged by "before";
// format=csv exports every matching entry as a spreadsheet-safe CSV.
func (s *Server) getAudit(c echo.Context) error {
	f, err := s.auditFilter(c)
	if err != nil {
		return err
	}
	if c.QueryParam("format") == "csv" {
		return s.exportAudit(c, f)
	}
	entries, next, err := s.cat.AuditLog(f)
	if err != nil {
		return err
	}
	out := map[string]any{"entries": entries}
	if next != 0 {
		out["next_before"] = next
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) exportAudit(c echo.Context, f catalog.AuditFilter) error {
	h := c.Response().Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", attachment("auditoria-acervo.csv"))
	c.Response().WriteHeader(http.StatusOK)
	w := csv.NewWriter(c.Response())
	w.Write([]string{"seq", "time", "user", "ip", "action", "asset", "target", "detail", "hash"})
	f.Limit = 1000
	for {
		entries, next, err := s.cat.AuditLog(f)
		if err != nil {
			return err // the header is sent: the cut CSV shows the failure
		}
		for _, e := range entries {
			w.Write(csvSafe(strconv.FormatUint(e.Seq, 10), e.Time.Format(timeFormat), e.User, e.IP, e.Action, e.Asset, e.Target, e.Detail, e.Hash))
		}
		w.Flush()
		if err := w.Error(); err != nil || next == 0 || c.Request().Context().Err() != nil {
			return err
		}
		f.Before = next
	}
}

// csvSafe defuses cells a spreadsheet would run as a formula (a user's
// name or a title can start with "=").
func csvSafe(cells ...string) []string {
	for i, v := range cells {
		if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
			cells[i] = "'" + v
		}
	}
	return cells
}

// verifyAudit: GET /api/v1/audit/verify (admins) recomputes the hash chain.
func (s *Server) verifyAudit(c echo.Context) error {
	n, err := s.cat.VerifyAudit()
	out := map[string]any{"ok": err == nil, "entries": n}
	if broken, ok := err.(*catalog.AuditBroken); ok {
		out["broken_at"], out["reason"] = broken.Seq, broken.Reason
	} else if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}
