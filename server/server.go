// Package server is Acervo's HTTP face: sessions and tokens, the JSON API,
// and file serving. It is the only package that imports Echo; nothing
// imports it. Handlers are grouped by resource; routes.go lists them all.
package server

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/catalog/similar"
	"github.com/comsoc/acervo/storage"
	"github.com/comsoc/acervo/transcode"
	"github.com/comsoc/acervo/ui"
)

// Notifier is told when new jobs are queued (the transcode pool).
type Notifier interface{ Notify() }

// Config configures the server. Zero values take the documented defaults.
type Config struct {
	// Catalog, Store and Ingester are required.
	Catalog  *catalog.Catalog
	Store    storage.Store
	Ingester *catalog.Ingester
	// Jobs is notified after uploads; optional.
	Jobs Notifier
	// Clips cuts video and audio excerpts; without it the clip route
	// answers 501.
	Clips Clipper
	// MaxClips is how many clips are encoded at once; more wait their
	// turn. Default 2: each is a live ffmpeg encode.
	MaxClips int
	// SessionTTL is how long a login lasts. Default 14 days: editors work
	// from one browser and hate logging in every morning.
	SessionTTL time.Duration
	// SecureCookies marks the session cookie Secure. Set it when served
	// over HTTPS (directly or behind a TLS proxy).
	SecureCookies bool
	// TrustedProxies are the networks whose X-Forwarded-For is believed
	// for the client address (login throttling, audit). Default none: the
	// client address is the TCP peer's.
	TrustedProxies []*net.IPNet
	// UploadIdleTimeout aborts an upload whose body sends nothing for this
	// long, freeing its staging. Default 2 minutes. Long uploads are fine;
	// stalled ones are not.
	UploadIdleTimeout time.Duration
	// UploadMinRate, in bytes per second, is the least an upload must
	// average over each UploadIdleTimeout window, or it is cut like an
	// idle one. Default 2 KiB/s (a 20 MB photo in under 3 hours; anything
	// slower is an attack or a link no upload survives); negative: none.
	UploadMinRate int64
	// MinFreeBytes is the room an upload must leave free on the store's
	// disk (stores that report it, storage.SpaceReporter): an upload whose
	// Content-Length would cross it is refused with 507 before its body is
	// read, so the catalog, the index and renditions always have room.
	// Default 256 MiB; negative means no reserve.
	MinFreeBytes int64
	// Log receives errors with their ids. Default slog.Default().
	Log *slog.Logger
	// Search is the search index; without it GET /api/v1/search answers 503.
	Search *catalog.Index
	// Zone is the office's time zone, for search dates without a time.
	// Default UTC.
	Zone *time.Location
	// PublicURL is how people outside reach this server (scheme, host,
	// optional path prefix, no trailing slash), for share-link URLs. Default:
	// the scheme and host of the request that creates the link.
	PublicURL string
	// SigningKey signs provenance manifests (see LoadOrCreateKey); without
	// it the provenance routes answer 501 and 404.
	SigningKey ed25519.PrivateKey
	// Similar is the near-duplicate index; without it
	// /api/v1/assets/{id}/similar answers 503 and /verify finds exact
	// matches only.
	Similar *similar.Index
	// Examine hashes files posted to /verify. Default transcode.Examiner{}
	// (the photo child is this executable; see transcode.RunChild).
	Examine Examiner
	// Verify configures the public check.
	Verify VerifyConfig
	// UploadsDir holds tus uploads in progress (data/uploads). It must not
	// be the staging folder, which is emptied at start: tus uploads resume
	// across restarts. Without it the tus routes answer 501.
	UploadsDir string
	// UploadMaxSize bounds one tus upload. Default 50 GiB: a long event
	// recorded in 4K.
	UploadMaxSize int64
	// UploadExpiry removes tus uploads that received nothing for this long.
	// Default 24 hours: a photographer resumes the next morning at worst.
	UploadExpiry time.Duration
	// HotCacheBytes is the memory kept for small renditions (thumbnails,
	// waveforms) served over and over; see hotcache.go. Default 64 MiB,
	// about two thousand thumbnails; negative: none.
	HotCacheBytes int64
}

func (c *Config) withDefaults() error {
	if c.Catalog == nil || c.Store == nil || c.Ingester == nil {
		return errors.New("server: Config needs Catalog, Store and Ingester")
	}
	if c.SessionTTL <= 0 {
		c.SessionTTL = 14 * 24 * time.Hour
	}
	if c.UploadIdleTimeout <= 0 {
		c.UploadIdleTimeout = 2 * time.Minute
	}
	if c.UploadMinRate == 0 {
		c.UploadMinRate = 2 << 10
	} else if c.UploadMinRate < 0 {
		c.UploadMinRate = 0
	}
	if c.MinFreeBytes == 0 {
		c.MinFreeBytes = 256 << 20
	} else if c.MinFreeBytes < 0 {
		c.MinFreeBytes = 0
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.MaxClips <= 0 {
		c.MaxClips = 2
	}
	if c.Zone == nil {
		c.Zone = time.UTC
	}
	if c.Examine == nil {
		c.Examine = transcode.Examiner{}
	}
	if c.UploadMaxSize <= 0 {
		c.UploadMaxSize = 50 << 30
	}
	if c.UploadExpiry <= 0 {
		c.UploadExpiry = 24 * time.Hour
	}
	if c.HotCacheBytes == 0 {
		c.HotCacheBytes = 64 << 20
	}
	return c.Verify.withDefaults(c.Store)
}

// Server holds the handlers' dependencies.
type Server struct {
	cfg     Config
	cat     *catalog.Catalog
	store   storage.Store
	echo    *echo.Echo
	limiter *loginLimiter
	// unlockLimiter throttles share-link password guesses; unlockKey signs
	// the cookie of an unlocked link (see unlockValue).
	unlockLimiter *loginLimiter
	unlockKey     []byte
	// watermarkSlots bounds watermarked previews drawn at once (each holds
	// a decoded 2048 px image).
	watermarkSlots chan struct{}
	metrics        *metrics
	notifier       Notifier
	// clipSlots holds one token per clip being encoded.
	clipSlots chan struct{}
	// verifyLimit throttles /verify per client; verifySlots holds one
	// token per posted file being examined.
	verifyLimit *tokenBuckets
	verifySlots chan struct{}
	// tus serves resumable uploads; nil without Config.UploadsDir.
	tus *tusUploads
	// ui renders the browser pages.
	ui *ui.UI
	// backupSlot holds a token while a catalog snapshot is taken.
	backupSlot chan struct{}
	// hot keeps small renditions in memory; nil when disabled.
	hot *hotCache
}

// New builds the server and its routes.
func New(cfg Config) (*Server, error) {
	var err error
	if err = cfg.withDefaults(); err != nil {
		return nil, err
	}
	s := &Server{
		cfg: cfg, cat: cfg.Catalog, store: cfg.Store,
		limiter: newLoginLimiter(), unlockLimiter: newLoginLimiter(), metrics: &metrics{},
		watermarkSlots: make(chan struct{}, 2),
		notifier:       cfg.Jobs, clipSlots: make(chan struct{}, cfg.MaxClips),
		verifyLimit: newTokenBuckets(cfg.Verify.PerMinute), verifySlots: make(chan struct{}, cfg.Verify.MaxConcurrent),
		backupSlot: make(chan struct{}, 1),
		hot:        newHotCache(cfg.HotCacheBytes),
	}
	// Read once: every request to a locked share link checks its cookie.
	if s.unlockKey, err = cfg.Catalog.Secret("share-unlock"); err != nil {
		return nil, err
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	// Deliberately: without trusted proxies, the client is the TCP peer and
	// X-Forwarded-For is ignored, so it can't be forged to dodge throttling.
	if len(cfg.TrustedProxies) == 0 {
		e.IPExtractor = echo.ExtractIPDirect()
	} else {
		opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
		for _, n := range cfg.TrustedProxies {
			opts = append(opts, echo.TrustIPRange(n))
		}
		e.IPExtractor = echo.ExtractIPFromXFFHeader(opts...)
	}
	s.echo = e
	if s.ui, err = ui.New(); err != nil {
		return nil, err
	}
	if cfg.UploadsDir != "" {
		t, err := s.newTus()
		if err != nil {
			return nil, fmt.Errorf("server: tus uploads: %w", err)
		}
		s.tus = t
	}
	s.routes()
	return s, nil
}

// Close stops the server's background work (the sweeper of abandoned tus
// uploads). Call it once, after the HTTP server has shut down.
func (s *Server) Close() error {
	if s.tus != nil {
		s.tus.close()
	}
	return nil
}

// Handler returns the root http.Handler.
func (s *Server) Handler() http.Handler { return s.echo }

// HTTPServer returns an http.Server for addr with the timeouts Acervo
// needs: a bound on slow headers, none on whole requests, because a 10 GB
// upload on a weak connection can take hours (idle uploads are cut by
// UploadIdleTimeout instead).
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           s.echo,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.cfg.Log.Handler(), slog.LevelWarn),
	}
}

// apiError is an error with the status and code a client sees.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

func errorf(status int, code, format string, args ...any) error {
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// handleError maps every error to the JSON shape of DESIGN.md. Internal
// errors are logged with an id and never shown to the client.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	if wantsPage(c) {
		s.renderPageError(c, s.newPage(c), err)
		return
	}
	var ae *apiError
	var he *echo.HTTPError
	switch {
	case errors.As(err, &ae):
	case errors.Is(err, storage.ErrNoSpace), errors.Is(err, syscall.ENOSPC):
		// Also bbolt's ENOSPC: the transaction failed whole, nothing was acknowledged.
		s.cfg.Log.Warn("no space left for a request", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
		ae = &apiError{http.StatusInsufficientStorage, "insufficient_storage", "No hay espacio en el archivo; avise al administrador / the archive's disk is full"}
	case errors.Is(err, catalog.ErrNotFound), errors.Is(err, storage.ErrNotFound):
		ae = &apiError{http.StatusNotFound, "not_found", "No existe / not found"}
	case errors.Is(err, catalog.ErrInvalid):
		ae = &apiError{http.StatusBadRequest, "invalid", publicMessage(err)}
	case errors.Is(err, catalog.ErrExists):
		ae = &apiError{http.StatusConflict, "exists", publicMessage(err)}
	case errors.Is(err, catalog.ErrShareGone):
		ae = &apiError{http.StatusGone, "gone", "El enlace expiró o fue revocado / this link has expired or was revoked"}
	case errors.Is(err, catalog.ErrShareEmbargoed):
		ae = &apiError{http.StatusForbidden, "embargoed", "El material de este enlace aún no está disponible / this link is not open yet"}
	case errors.Is(err, catalog.ErrDownloadLimit):
		ae = &apiError{http.StatusForbidden, "download_limit", "Se alcanzó el límite de descargas de este enlace / this link's download limit is reached"}
	case errors.Is(err, catalog.ErrForbidden):
		ae = &apiError{http.StatusForbidden, "forbidden", "No tiene permiso / forbidden"}
	case errors.As(err, &he):
		ae = &apiError{he.Code, codeFor(he.Code), http.StatusText(he.Code)}
	default:
		id := catalog.NewID(time.Now())
		s.cfg.Log.Error("request failed", "error_id", id, "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
		ae = &apiError{http.StatusInternalServerError, "internal", "Error interno / internal error (id " + id + ")"}
	}
	body := map[string]any{"error": map[string]string{"code": ae.Code, "message": ae.Message}}
	if c.Request().Method == http.MethodHead {
		c.NoContent(ae.Status)
		return
	}
	c.JSON(ae.Status, body)
}

// publicMessage strips the package prefixes from a catalog validation
// error, which is written for users.
func publicMessage(err error) string {
	msg := err.Error()
	for _, p := range []string{"catalog: invalid: ", "catalog: already exists: "} {
		if i := strings.Index(msg, p); i >= 0 {
			return msg[i+len(p):]
		}
	}
	return msg
}

func codeFor(status int) string {
	switch status {
	case http.StatusNotFound:
		return "not_found"
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusRequestEntityTooLarge:
		return "too_large"
	case http.StatusTooManyRequests:
		return "rate_limited"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	}
	if status >= 500 {
		return "internal"
	}
	return "bad_request"
}
