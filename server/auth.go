package server

import (
	"crypto/subtle"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/comsoc/acervo/catalog"
)

const (
	sessionCookie = "acervo_session"
	csrfHeader    = "X-CSRF-Token"
	ctxUser       = "acervo.user"
	ctxSession    = "acervo.session"
)

// authenticate resolves the bearer token or session cookie to a user.
// Requests with neither get 401. Cookie-authenticated requests that change
// state must carry the session's CSRF token; bearer requests need not,
// because browsers never attach bearer tokens on their own.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if h := req.Header.Get("Authorization"); h != "" {
			secret, ok := strings.CutPrefix(h, "Bearer ")
			if !ok {
				return errorf(http.StatusUnauthorized, "unauthorized", "Use Authorization: Bearer <token>")
			}
			_, user, err := s.cat.TokenUser(strings.TrimSpace(secret))
			if err != nil {
				return errorf(http.StatusUnauthorized, "unauthorized", "Token inválido o revocado / invalid or revoked token")
			}
			c.Set(ctxUser, user)
			return next(c)
		}
		ck, err := req.Cookie(sessionCookie)
		if err != nil || ck.Value == "" {
			return errorf(http.StatusUnauthorized, "unauthorized", "Inicie sesión / sign in required")
		}
		sess, user, err := s.cat.SessionUser(ck.Value)
		if err != nil {
			return errorf(http.StatusUnauthorized, "unauthorized", "La sesión expiró / session expired")
		}
		if !safeMethod(req.Method) {
			got := req.Header.Get(csrfHeader)
			if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRFToken)) != 1 {
				return errorf(http.StatusForbidden, "csrf", "Falta el token CSRF / missing or wrong X-CSRF-Token")
			}
		}
		c.Set(ctxUser, user)
		c.Set(ctxSession, sess)
		return next(c)
	}
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// require lets through only users whose role is at least role.
func require(role string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !currentUser(c).Can(role) {
				return errorf(http.StatusForbidden, "forbidden", "Su rol no permite esta acción / your role does not allow this")
			}
			return next(c)
		}
	}
}

func currentUser(c echo.Context) catalog.User {
	u, _ := c.Get(ctxUser).(catalog.User)
	return u
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// login checks a password and starts a session. It only takes JSON, which a
// cross-site form cannot send, and refuses a foreign Origin: together they
// stop login CSRF without a token the client could not have yet.
func (s *Server) login(c echo.Context) error {
	req := c.Request()
	if mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type")); mt != "application/json" {
		return errorf(http.StatusUnsupportedMediaType, "json_required", "Envíe JSON / send application/json")
	}
	if !sameOrigin(req) {
		return errorf(http.StatusForbidden, "csrf", "Origen no permitido / cross-origin login refused")
	}
	var in loginRequest
	if err := decodeJSON(c, &in, 4<<10); err != nil {
		return err
	}
	ip := c.RealIP()
	if !s.limiter.allow(in.Username, ip) {
		c.Response().Header().Set("Retry-After", "60")
		return errorf(http.StatusTooManyRequests, "throttled", "Demasiados intentos; espere un minuto / too many attempts, wait a minute")
	}
	user, err := s.cat.UserByName(in.Username)
	if err != nil {
		catalog.DummyPasswordCheck(in.Password)
	}
	if err != nil || user.Disabled || !catalog.CheckPassword(user.PasswordHash, in.Password) {
		s.limiter.fail(in.Username, ip)
		name := in.Username
		if len(name) > 64 {
			name = name[:64]
		}
		if err := s.cat.Audit(catalog.Actor{UserID: user.ID, IP: ip}, catalog.AuditEntry{Action: catalog.AuditLoginFailed, Detail: strings.ToValidUTF8(name, "?")}); err != nil {
			return err
		}
		return errorf(http.StatusUnauthorized, "bad_credentials", "Usuario o contraseña incorrectos / wrong username or password")
	}
	s.limiter.succeed(in.Username, ip)
	secret, sess, err := s.cat.CreateSession(catalog.Actor{UserID: user.ID, IP: ip}, s.cfg.SessionTTL)
	if err != nil {
		return err
	}
	c.SetCookie(&http.Cookie{
		Name: sessionCookie, Value: secret, Path: "/", Expires: sess.ExpiresAt,
		HttpOnly: true, Secure: s.cfg.SecureCookies || req.TLS != nil, SameSite: http.SameSiteLaxMode,
	})
	return c.JSON(http.StatusOK, map[string]any{"user": userView(user), "csrf_token": sess.CSRFToken})
}

// sameOrigin accepts requests without Origin (curl, scripts) and those
// whose Origin host is the Host they were sent to.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

func (s *Server) logout(c echo.Context) error {
	if ck, err := c.Request().Cookie(sessionCookie); err == nil {
		if err := s.cat.DeleteSession(actor(c), ck.Value); err != nil {
			return err
		}
	}
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) me(c echo.Context) error {
	out := map[string]any{"user": userView(currentUser(c))}
	if sess, ok := c.Get(ctxSession).(catalog.Session); ok {
		out["csrf_token"] = sess.CSRFToken
	}
	return c.JSON(http.StatusOK, out)
}

// loginLimiter throttles password guessing per account and per client
// address: after maxFails failures in window, further tries wait.
type loginLimiter struct {
	mu    sync.Mutex
	fails map[string][]time.Time
}

const (
	loginMaxFails = 10
	loginWindow   = 5 * time.Minute
)

func newLoginLimiter() *loginLimiter { return &loginLimiter{fails: map[string][]time.Time{}} }

func limiterKeys(user, ip string) []string {
	return []string{"u:" + strings.ToLower(user), "ip:" + ip}
}

func (l *loginLimiter) allow(user, ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	cutoff := time.Now().Add(-loginWindow)
	for _, k := range limiterKeys(user, ip) {
		recent := l.fails[k][:0]
		for _, t := range l.fails[k] {
			if t.After(cutoff) {
				recent = append(recent, t)
			}
		}
		if len(recent) == 0 {
			delete(l.fails, k)
			continue
		}
		l.fails[k] = recent
		if len(recent) >= loginMaxFails {
			return false
		}
	}
	return true
}

func (l *loginLimiter) fail(user, ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range limiterKeys(user, ip) {
		l.fails[k] = append(l.fails[k], time.Now())
	}
}

func (l *loginLimiter) succeed(user, _ string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, "u:"+strings.ToLower(user))
}

// actor is who makes a request, for the audit trail.
func actor(c echo.Context) catalog.Actor {
	return catalog.Actor{UserID: currentUser(c).ID, IP: c.RealIP()}
}
