package server

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/comsoc/acervo/catalog"
)

// LoadOrCreateKey returns the instance's Ed25519 signing key from path (a
// PKCS #8 PEM file), creating it on first start with an atomic, fsynced
// write readable only by the owner. Losing it means manifests signed
// before can still be checked against the published public key, but no new
// ones match it: it belongs in the backups.
func LoadOrCreateKey(path string) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		block, _ := pem.Decode(data)
		if block == nil {
			return nil, fmt.Errorf("server: signing key %s: not PEM", path)
		}
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("server: signing key %s: %w", path, err)
		}
		key, ok := k.(ed25519.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("server: signing key %s: not Ed25519", path)
		}
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("server: signing key: %w", err)
	}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})); err != nil {
		return nil, fmt.Errorf("server: signing key: %w", err)
	}
	return key, nil
}

func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err = f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// keyID names a public key: the first 16 hex digits of its SHA-256.
func keyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// getPublicKey: GET /.well-known/acervo-key, public. Anyone checks a
// manifest offline with it: ed25519.Verify(public_key, payload, signature).
func (s *Server) getPublicKey(c echo.Context) error {
	if s.cfg.SigningKey == nil {
		return errorf(http.StatusNotFound, "not_found", "Este servidor no firma / this server signs nothing")
	}
	pub := s.cfg.SigningKey.Public().(ed25519.PublicKey)
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	c.Response().Header().Set("Access-Control-Allow-Origin", "*")
	return c.JSON(http.StatusOK, map[string]string{
		"algorithm": "Ed25519", "key_id": keyID(pub),
		"public_key":     base64.StdEncoding.EncodeToString(pub),
		"public_key_pem": string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
	})
}

// manifest is what the office vouches for about an asset.
type manifest struct {
	Type     string        `json:"type"`
	Issuer   string        `json:"issuer"`
	KeyID    string        `json:"key_id"`
	IssuedAt time.Time     `json:"issued_at"`
	Asset    manifestAsset `json:"asset"`
}

type manifestAsset struct {
	ID         string          `json:"id"`
	SHA256     string          `json:"sha256"`
	Size       int64           `json:"size"`
	Kind       string          `json:"kind"`
	MIME       string          `json:"mime"`
	Filename   string          `json:"filename"`
	Title      string          `json:"title,omitempty"`
	Credit     string          `json:"credit,omitempty"`
	CapturedAt *time.Time      `json:"captured_at"`
	UploadedAt time.Time       `json:"uploaded_at"`
	UploadedBy *manifestPerson `json:"uploaded_by"`
	Event      *manifestEvent  `json:"event"`
}

// manifestPerson is who uploaded an asset, as the public may read it: a
// display name and an area, never an account id, username or e-mail.
type manifestPerson struct {
	Name string `json:"name"`
	Area string `json:"area,omitempty"`
}

type manifestEvent struct {
	Name  string `json:"name"`
	Date  string `json:"date,omitempty"`
	Place string `json:"place,omitempty"`
}

// signedManifest builds and signs the manifest of a. The payload is the
// exact signed bytes, so a checker needs no canonical JSON. A public
// manifest (the anonymous /verify answer) leaves out who uploaded it (a
// display name may be an e-mail address) and the original file name.
func (s *Server) signedManifest(c echo.Context, a catalog.Asset, public bool) (map[string]any, error) {
	pub := s.cfg.SigningKey.Public().(ed25519.PublicKey)
	m := manifest{
		Type: "acervo-provenance/1", Issuer: s.publicURL(c, ""), KeyID: keyID(pub), IssuedAt: time.Now().UTC().Truncate(time.Second),
		Asset: manifestAsset{
			ID: a.ID, SHA256: a.SHA256, Size: a.Size, Kind: a.Kind, MIME: a.MIME, Filename: a.Filename,
			Title: a.Title, Credit: a.Credit, CapturedAt: a.CapturedAt, UploadedAt: a.UploadedAt,
		},
	}
	if public {
		m.Asset.Filename = "" // a user's file name can say more than the office means to
	}
	if u, err := s.cat.User(a.UploadedBy); err == nil && !public {
		m.Asset.UploadedBy = &manifestPerson{Name: u.Name, Area: u.Area}
	}
	if a.Event != nil {
		m.Asset.Event = &manifestEvent{Name: a.Event.Name}
		if ev, err := s.cat.Event(a.Event.ID); err == nil {
			m.Asset.Event.Date, m.Asset.Event.Place = ev.Date, ev.Place
		}
	}
	payload, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	sig := ed25519.Sign(s.cfg.SigningKey, payload)
	return map[string]any{
		"manifest": m, "payload": string(payload), "algorithm": "Ed25519", "key_id": m.KeyID,
		"signature": base64.StdEncoding.EncodeToString(sig), "public_key_url": s.publicURL(c, "/.well-known/acervo-key"),
	}, nil
}

// getProvenance: GET /api/v1/assets/{id}/provenance (viewer+), the signed
// manifest of an asset for a journalist to check offline.
func (s *Server) getProvenance(c echo.Context) error {
	if s.cfg.SigningKey == nil {
		return errorf(http.StatusNotImplemented, "not_signing", "Este servidor no firma / this server signs nothing")
	}
	a, err := s.visibleAsset(c)
	if err != nil {
		return err
	}
	out, err := s.signedManifest(c, a, false)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}
