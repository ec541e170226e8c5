package server

import (
	"context"
	"errors"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/catalog/similar"
	"github.com/comsoc/acervo/transcode"
)

// The public authenticity check of issue #7: POST /api/v1/verify takes a
// file (multipart field "file") or {"sha256": "…"} from anyone and says
// whether it is an archived original (exact), a near-duplicate of one
// (similar) or neither (none). It stores nothing it is given: the file is
// staged in VerifyConfig.StagingDir only while it is examined and removed
// on every path. Every verification is counted in /metrics
// (acervo_verifications_total) rather than written to the audit trail,
// which records what staff do, not public traffic.

// Examiner hashes a file posted to /verify; transcode.Examiner is the real
// one. It must decode untrusted media only as ingest does (invariant 5).
type Examiner interface {
	Examine(ctx context.Context, path, scratch string) (transcode.Sample, error)
}

// VerifyConfig configures the public check. Zero values take the defaults.
type VerifyConfig struct {
	// PerMinute is how many checks a client address may make a minute
	// (also the burst). Default 6.
	PerMinute int
	// MaxImageBytes and MaxAVBytes cap a posted picture and a posted
	// video or audio file. Defaults 30 MiB and 200 MiB.
	MaxImageBytes, MaxAVBytes int64
	// RestrictSimilar gives the details of a similar verdict (which asset,
	// score, regions, time range) only to signed-in users; others learn
	// the verdict alone.
	RestrictSimilar bool
	// StagingDir holds posted files while they are examined. Default
	// "verify" in the store's staging folder (emptied at start with it).
	StagingDir string
	// MaxConcurrent is how many posted files are examined at once; more
	// wait. Default 2: each decodes a picture or runs ffmpeg.
	MaxConcurrent int
}

func (c *VerifyConfig) withDefaults(store any) error {
	if c.PerMinute <= 0 {
		c.PerMinute = 6
	}
	if c.MaxImageBytes <= 0 {
		c.MaxImageBytes = 30 << 20
	}
	if c.MaxAVBytes <= 0 {
		c.MaxAVBytes = 200 << 20
	}
	if c.MaxConcurrent <= 0 {
		c.MaxConcurrent = 2
	}
	if c.StagingDir == "" {
		if sd, ok := store.(interface{ StagingDir() string }); ok {
			c.StagingDir = filepath.Join(sd.StagingDir(), "verify")
		} else {
			c.StagingDir = filepath.Join(os.TempDir(), "acervo-verify")
		}
	}
	return os.MkdirAll(c.StagingDir, 0o750)
}

// verifyAnswer is the JSON answer of /api/v1/verify.
type verifyAnswer struct {
	Match       string            `json:"match"`          // exact, similar, none
	Kind        string            `json:"kind,omitempty"` // of the file checked
	SHA256      string            `json:"sha256,omitempty"`
	Asset       *publicAssetJSON  `json:"asset,omitempty"`
	Score       float64           `json:"score,omitempty"`
	Regions     []regionJSON      `json:"regions,omitempty"`
	TimeRange   *timeRangeJSON    `json:"time_range,omitempty"`
	Provenance  map[string]any    `json:"provenance,omitempty"`
	Restricted  bool              `json:"details_restricted,omitempty"`
	Explanation map[string]string `json:"explanation"`
	TookMS      int64             `json:"took_ms"`
}

// publicAssetJSON is what anyone may learn of an archived asset: no
// uploader, no GPS, no file name or storage paths.
type publicAssetJSON struct {
	ID         string       `json:"id"`
	Kind       string       `json:"kind"`
	Title      string       `json:"title,omitempty"`
	Event      string       `json:"event,omitempty"`
	EventDate  string       `json:"event_date,omitempty"`
	CapturedAt *time.Time   `json:"captured_at,omitempty"`
	Credit     string       `json:"credit,omitempty"`
	Width      int          `json:"width,omitempty"`
	Height     int          `json:"height,omitempty"`
	Duration   float64      `json:"duration,omitempty"`
	Preview    *previewJSON `json:"preview,omitempty"`
	// PublicLinks are the open public share links that give the asset.
	PublicLinks []string `json:"public_links,omitempty"`
}

type previewJSON struct {
	URL    string `json:"url"`
	Width  int    `json:"width,omitempty"`
	Height int    `json:"height,omitempty"`
}

// regionJSON is a rectangle of the official preview where the file checked differs.
type regionJSON struct {
	X int `json:"x"`
	Y int `json:"y"`
	W int `json:"w"`
	H int `json:"h"`
}

// timeRangeJSON is where in the official video or audio the file checked lies, in seconds.
type timeRangeJSON struct {
	Start float64 `json:"start"`
	End   float64 `json:"end"`
}

var explanations = map[string]map[string]string{
	"exact": {
		"es": "Este archivo es idéntico, byte por byte, a un original del acervo de Comunicación Social: no fue alterado desde que se archivó. Prueba que es el archivo oficial; no prueba que el contexto en que circula (fecha, lugar, pie de foto) sea el correcto: compárelo con los datos oficiales de abajo. El manifiesto firmado se comprueba sin conexión con la clave pública del servidor.",
		"en": "This file is byte-for-byte identical to an original in the press office archive: it has not been altered since it was archived. It proves the file is the official one; it does not prove that the context it circulates with (date, place, caption) is right: compare it with the official facts below. The signed manifest can be checked offline with the server's public key.",
	},
	"similar": {
		"es": "Este archivo se parece a un original del acervo, pero no es idéntico: pudo ser recomprimido, redimensionado, recortado, retocado o editado. Prueba que deriva de material oficial o se le parece mucho; no prueba que sea auténtico ni que no haya sido manipulado: revise las zonas marcadas y el intervalo de tiempo, y compare con el original.",
		"en": "This file resembles an original in the archive but is not identical: it may have been re-encoded, resized, cropped, retouched or edited. It shows the file derives from, or closely resembles, official material; it does not prove it is authentic or unaltered: check the highlighted regions and time range against the original.",
	},
	"none": {
		"es": "No se encontró en el acervo un archivo igual ni parecido. Esto no prueba que sea falso: puede ser auténtico pero no estar archivado, o estar tan alterado que ya no se reconoce. Tampoco prueba que sea verdadero.",
		"en": "No identical or similar file was found in the archive. This does not prove it is fake: it may be authentic but not archived, or altered beyond recognition. Nor does it prove it is genuine.",
	},
	"restricted": {
		"es": "Este archivo se parece a un original del acervo, pero no es idéntico. Los detalles de la coincidencia solo se muestran al personal con cuenta.",
		"en": "This file resembles an original in the archive but is not identical. The details of the match are shown to signed-in staff only.",
	},
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// postVerify: POST /api/v1/verify, public and rate-limited.
func (s *Server) postVerify(c echo.Context) error {
	start := time.Now()
	if ok, wait := s.verifyLimit.take(c.RealIP()); !ok {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		return errorf(http.StatusTooManyRequests, "rate_limited", "Demasiadas verificaciones; espere un momento / too many checks, wait a moment")
	}
	mt, params, _ := mime.ParseMediaType(c.Request().Header.Get("Content-Type"))
	var (
		ans verifyAnswer
		err error
	)
	switch mt {
	case "application/json":
		ans, err = s.verifySHA(c)
	case "multipart/form-data":
		ans, err = s.verifyUpload(c, params["boundary"])
	default:
		err = errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "Envíe el archivo como multipart (campo file) o JSON {\"sha256\"} / send multipart field file or JSON {\"sha256\"}")
	}
	if err != nil {
		s.metrics.verifyRefused.Add(1)
		return err
	}
	s.metrics.observeVerify(ans.Match)
	ans.Explanation = explanations[ans.Match]
	if ans.Restricted {
		ans.Explanation = explanations["restricted"]
	}
	ans.TookMS = time.Since(start).Milliseconds()
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, ans)
}

// verifySHA answers {"sha256": "…"}: exact or none, nothing to compare.
func (s *Server) verifySHA(c echo.Context) (verifyAnswer, error) {
	var in struct {
		SHA256 string `json:"sha256"`
	}
	if err := decodeJSON(c, &in, 4<<10); err != nil {
		return verifyAnswer{}, err
	}
	sum := strings.ToLower(strings.TrimSpace(in.SHA256))
	if !sha256Hex.MatchString(sum) {
		return verifyAnswer{}, errorf(http.StatusBadRequest, "invalid", "sha256 debe ser 64 dígitos hexadecimales / sha256 must be 64 hex digits")
	}
	return s.exactOrNone(c, sum)
}

// exactOrNone answers exact when the bytes with this SHA-256 are an
// archived original outside the trash.
func (s *Server) exactOrNone(c echo.Context, sum string) (verifyAnswer, error) {
	a, err := s.cat.AssetBySHA256(sum)
	if errors.Is(err, catalog.ErrNotFound) || (err == nil && a.TrashedAt != nil) {
		return verifyAnswer{Match: "none", SHA256: sum}, nil
	}
	if err != nil {
		return verifyAnswer{}, err
	}
	ans := verifyAnswer{Match: "exact", SHA256: sum, Kind: a.Kind, Score: 1, Asset: s.publicAsset(c, a)}
	if s.cfg.SigningKey != nil {
		if ans.Provenance, err = s.signedManifest(c, a, true); err != nil {
			return verifyAnswer{}, err
		}
	}
	return ans, nil
}

// verifyUpload stages the posted file, answers exact by its hash, else
// examines it and looks it up in the similarity index.
func (s *Server) verifyUpload(c echo.Context, boundary string) (verifyAnswer, error) {
	cfg := s.cfg.Verify
	body := http.MaxBytesReader(c.Response(), c.Request().Body, cfg.MaxAVBytes+1<<20)
	mr := multipart.NewReader(body, boundary)
	var part *multipart.Part
	for {
		p, err := mr.NextPart()
		if err != nil {
			if tooLarge(err) {
				return verifyAnswer{}, verifyTooLarge()
			}
			return verifyAnswer{}, errorf(http.StatusBadRequest, "no_file", "Falta el archivo (campo file) / missing field file")
		}
		if p.FormName() == "file" {
			part = p
			break
		}
	}
	st, err := s.stageVerify(part)
	if err != nil {
		return verifyAnswer{}, err
	}
	defer os.Remove(st.path)
	if ans, err := s.exactOrNone(c, st.sha); err != nil || ans.Match == "exact" {
		return ans, err
	}
	ans := verifyAnswer{Match: "none", SHA256: st.sha, Kind: st.kind}
	if s.cfg.Similar == nil {
		return ans, nil
	}
	sample, err := s.examine(c.Request().Context(), st.path)
	if err != nil {
		return verifyAnswer{}, err
	}
	ans.Kind = sample.Kind
	m, a, ok, err := s.bestMatch(sample)
	if err != nil || !ok {
		return ans, err
	}
	ans.Match = "similar"
	if s.cfg.Verify.RestrictSimilar && !s.signedIn(c) {
		ans.Restricted = true
		return ans, nil
	}
	ans.Asset, ans.Score = s.publicAsset(c, a), math.Round(m.Score*1000)/1000
	if sample.Kind == catalog.KindPhoto {
		ans.Regions = s.diffRegions(c.Request().Context(), a, sample)
	} else {
		ans.TimeRange = &timeRangeJSON{Start: max(0, m.Start.Seconds()), End: m.End.Seconds()}
	}
	return ans, nil
}

// bestMatch returns the best near-duplicate outside the trash.
func (s *Server) bestMatch(sample transcode.Sample) (similar.Match, catalog.Asset, bool, error) {
	var lists [][]similar.Match
	switch sample.Kind {
	case catalog.KindPhoto:
		ms, err := s.cfg.Similar.Photos(sample.Photo)
		if err != nil {
			return similar.Match{}, catalog.Asset{}, false, err
		}
		lists = append(lists, ms)
	default:
		if len(sample.Video) > 0 {
			ms, err := s.cfg.Similar.Videos(sample.Video)
			if err != nil {
				return similar.Match{}, catalog.Asset{}, false, err
			}
			lists = append(lists, ms)
		}
		if len(sample.Audio) > 0 {
			ms, err := s.cfg.Similar.Audio(sample.Audio)
			if err != nil {
				return similar.Match{}, catalog.Asset{}, false, err
			}
			lists = append(lists, ms)
		}
	}
	for _, ms := range lists {
		for _, m := range ms {
			a, err := s.cat.Asset(m.AssetID)
			if err == nil && a.TrashedAt == nil {
				return m, a, true, nil
			}
		}
	}
	return similar.Match{}, catalog.Asset{}, false, nil
}

// diffRegions compares the checked picture with the official thumbnail and
// returns where they differ in the official preview's coordinates. A
// failure here costs the highlight, not the verdict.
func (s *Server) diffRegions(ctx context.Context, a catalog.Asset, sample transcode.Sample) []regionJSON {
	prev, ok := a.Renditions["preview.jpg"]
	if !ok || sample.Picture == nil {
		return nil
	}
	_, key, err := rendition(a, "thumb.jpg")
	if err != nil {
		return nil
	}
	obj, err := s.store.Open(ctx, key)
	if err != nil {
		return nil
	}
	defer obj.Close()
	official, err := transcode.DecodeRendition(obj)
	if err != nil {
		s.cfg.Log.Warn("verify: official thumbnail", "asset", a.ID, "err", err)
		return nil
	}
	out := []regionJSON{}
	for _, r := range transcode.DiffRegions(official, sample.Picture, prev.Width, prev.Height) {
		out = append(out, regionJSON{X: r.Min.X, Y: r.Min.Y, W: r.Dx(), H: r.Dy()})
	}
	return out
}

// publicAsset is the asset's public facts and a short-lived link to its preview.
func (s *Server) publicAsset(c echo.Context, a catalog.Asset) *publicAssetJSON {
	p := &publicAssetJSON{ID: a.ID, Kind: a.Kind, Title: a.Title, CapturedAt: a.CapturedAt, Credit: a.Credit,
		Width: a.Width, Height: a.Height, Duration: a.Duration}
	if a.Event != nil {
		p.Event = a.Event.Name
		if ev, err := s.cat.Event(a.Event.ID); err == nil {
			p.EventDate = ev.Date
		}
	}
	if shares, err := s.cat.PublicSharesOf(a.ID); err == nil {
		for _, sh := range shares {
			p.PublicLinks = append(p.PublicLinks, s.publicURL(c, "/s/"+sh.PublicToken))
		}
	}
	if name, r, ok := verifyPreviewRendition(a); ok {
		if u, err := s.previewURL(a.ID, time.Now().Add(verifyPreviewTTL)); err == nil {
			p.Preview = &previewJSON{URL: u, Width: r.Width, Height: r.Height}
		} else {
			s.cfg.Log.Warn("verify: preview link", "asset", a.ID, "rendition", name, "err", err)
		}
	}
	return p
}

// signedIn reports whether the request carries a valid session or token.
// /verify is public, so it is asked only to decide how much to say.
func (s *Server) signedIn(c echo.Context) bool {
	req := c.Request()
	if h := req.Header.Get("Authorization"); h != "" {
		secret, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return false
		}
		_, _, err := s.cat.TokenUser(strings.TrimSpace(secret))
		return err == nil
	}
	ck, err := req.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return false
	}
	_, _, err = s.cat.SessionUser(ck.Value)
	return err == nil
}
