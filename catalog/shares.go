package catalog

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

var (
	bShares        = []byte("shares")          // share id → Share
	bSharesByToken = []byte("shares_by_token") // sha256(token) → share id
)

// Share-link errors, besides ErrNotFound for an unknown token.
var (
	ErrShareGone      = errors.New("catalog: share link expired or revoked")
	ErrShareEmbargoed = errors.New("catalog: share link not open yet")
	ErrDownloadLimit  = errors.New("catalog: share link download limit reached")
)

// Share-link bounds.
const (
	DefaultShareTTL = 30 * 24 * time.Hour
	MaxShareTTL     = 366 * 24 * time.Hour
	MaxShareAssets  = MaxCollectionAssets
	minSharePass    = 6
)

// Share is a link that gives people without an account some assets: a
// selection, a collection (followed live: what the collection holds now) or
// an event (its material when the link was made, so the office knows what
// was handed over). Only the SHA-256 of its token is stored.
type Share struct {
	ID            string     `json:"id"`
	Assets        []string   `json:"assets,omitempty"`
	Collection    string     `json:"collection,omitempty"`
	Event         string     `json:"event,omitempty"`
	Title         string     `json:"title"`
	Description   string     `json:"description,omitempty"`
	Recipient     string     `json:"recipient"`
	Credit        string     `json:"credit,omitempty"`    // the line to publish with
	Watermark     string     `json:"watermark,omitempty"` // drawn on previews when set
	AllowDownload bool       `json:"allow_download"`
	MaxDownloads  int        `json:"max_downloads,omitempty"` // 0: no limit
	PasswordHash  string     `json:"password_hash,omitempty"`
	StartsAt      *time.Time `json:"starts_at,omitempty"`
	ExpiresAt     time.Time  `json:"expires_at"`
	CreatedBy     string     `json:"created_by"`
	CreatedAt     time.Time  `json:"created_at"`
	RevokedAt     *time.Time `json:"revoked_at,omitempty"`
	Views         int        `json:"views"`
	Downloads     int        `json:"downloads"`
	LastAccess    *time.Time `json:"last_access,omitempty"`
	// Public links are meant for anyone (a press release's gallery): they
	// take no password, and their token is kept (PublicToken) so the
	// verification page can point to them. Other tokens are only hashed.
	Public      bool   `json:"public,omitempty"`
	PublicToken string `json:"public_token,omitempty"`
}

// Locked reports whether the link needs a password.
func (s Share) Locked() bool { return s.PasswordHash != "" }

// Share states, as Status names them.
const (
	ShareActive    = "active"
	ShareScheduled = "scheduled" // before starts_at: under embargo
	ShareExpired   = "expired"
	ShareRevoked   = "revoked"
)

// Status names the link's state at now.
func (s Share) Status(now time.Time) string {
	switch {
	case s.RevokedAt != nil:
		return ShareRevoked
	case !now.Before(s.ExpiresAt):
		return ShareExpired
	case s.StartsAt != nil && now.Before(*s.StartsAt):
		return ShareScheduled
	}
	return ShareActive
}

// State is nil for a link open now, else ErrShareGone or ErrShareEmbargoed.
func (s Share) State(now time.Time) error {
	switch s.Status(now) {
	case ShareRevoked, ShareExpired:
		return ErrShareGone
	case ShareScheduled:
		return ErrShareEmbargoed
	}
	return nil
}

// NewShare describes a link to create: exactly one of Assets, Collection,
// Event. A zero ExpiresAt is DefaultShareTTL from now.
type NewShare struct {
	Assets             []string
	Collection, Event  string
	Title, Description string
	Recipient          string
	Credit, Watermark  string
	AllowDownload      bool
	MaxDownloads       int
	Password           string
	// Public makes a link for anyone (see Share.Public).
	Public    bool
	StartsAt  *time.Time
	ExpiresAt time.Time
}

// CreateShare makes a link and returns its token, shown this once.
func (c *Catalog) CreateShare(by Actor, n NewShare) (token string, s Share, err error) {
	now := c.now().UTC()
	targets := 0
	for _, set := range []bool{len(n.Assets) > 0, n.Collection != "", n.Event != ""} {
		if set {
			targets++
		}
	}
	if targets != 1 {
		return "", Share{}, fmt.Errorf("%w: comparta exactamente uno: assets, collection o event / share exactly one of assets, collection or event", ErrInvalid)
	}
	if n.ExpiresAt.IsZero() {
		n.ExpiresAt = now.Add(DefaultShareTTL)
	}
	switch {
	case !n.ExpiresAt.After(now):
		return "", Share{}, fmt.Errorf("%w: expires_at debe estar en el futuro / expires_at must be in the future", ErrInvalid)
	case n.ExpiresAt.After(now.Add(MaxShareTTL)):
		return "", Share{}, fmt.Errorf("%w: un enlace dura como máximo un año / a link lasts at most a year", ErrInvalid)
	case n.StartsAt != nil && !n.StartsAt.Before(n.ExpiresAt):
		return "", Share{}, fmt.Errorf("%w: starts_at debe ser anterior a expires_at / starts_at must come before expires_at", ErrInvalid)
	case n.MaxDownloads < 0:
		return "", Share{}, fmt.Errorf("%w: max_downloads no puede ser negativo / max_downloads can't be negative", ErrInvalid)
	case n.Public && n.Password != "":
		return "", Share{}, fmt.Errorf("%w: un enlace público no lleva contraseña / a public link takes no password", ErrInvalid)
	case n.Password != "" && len([]rune(n.Password)) < minSharePass:
		return "", Share{}, fmt.Errorf("%w: la contraseña del enlace necesita al menos %d caracteres / a link password needs at least %d characters", ErrInvalid, minSharePass, minSharePass)
	}
	s = Share{
		ID: NewID(now), Collection: n.Collection, Event: n.Event,
		Title: cleanText(n.Title, maxNameBytes), Description: cleanText(n.Description, maxDescriptionBytes),
		Recipient: cleanText(n.Recipient, maxNameBytes), Credit: cleanText(n.Credit, maxNameBytes),
		Watermark: cleanText(n.Watermark, 100), AllowDownload: n.AllowDownload, MaxDownloads: n.MaxDownloads,
		ExpiresAt: n.ExpiresAt.UTC(), CreatedBy: by.UserID, CreatedAt: now,
	}
	if s.Recipient == "" {
		return "", Share{}, fmt.Errorf("%w: diga para quién es el enlace (recipient) / say who the link is for (recipient)", ErrInvalid)
	}
	if n.StartsAt != nil {
		t := n.StartsAt.UTC()
		s.StartsAt = &t
	}
	if n.Password != "" {
		if s.PasswordHash, err = HashPassword(n.Password); err != nil {
			return "", Share{}, err
		}
	}
	if n.Event != "" {
		// Outside the write transaction: a scan of every asset.
		if s.Assets, err = c.eventAssets(n.Event); err != nil {
			return "", Share{}, err
		}
	}
	token = newSecret()
	if n.Public {
		s.Public, s.PublicToken = true, token
	}
	err = c.update(func(tx *bolt.Tx) error {
		if err := s.resolve(tx, n.Assets); err != nil {
			return err
		}
		if err := tx.Bucket(bSharesByToken).Put(secretKey(token), []byte(s.ID)); err != nil {
			return err
		}
		return c.putAudited(tx, bShares, []byte(s.ID), s, by, AuditEntry{Action: AuditShareCreate, Target: s.ID, Detail: fmt.Sprintf("%s → %s", s.Title, s.Recipient)})
	})
	if err != nil {
		return "", Share{}, fmt.Errorf("catalog: create share: %w", err)
	}
	return token, s, nil
}

// resolve checks the share's target and fills its title.
func (s *Share) resolve(tx *bolt.Tx, selection []string) error {
	switch {
	case s.Collection != "":
		var col Collection
		if err := getJSON(tx.Bucket(bCollections), []byte(s.Collection), &col); err != nil {
			return fmt.Errorf("%w: no existe la colección %q / no collection %q", ErrInvalid, s.Collection, s.Collection)
		}
		s.Title = cmpOr(s.Title, col.Name)
		s.Description = cmpOr(s.Description, col.Description)
		return nil
	case s.Event != "":
		var e Event
		if err := getJSON(tx.Bucket(bEvents), []byte(s.Event), &e); err != nil {
			return fmt.Errorf("%w: no existe el evento %q / no event %q", ErrInvalid, s.Event, s.Event)
		}
		s.Title = cmpOr(s.Title, e.Name)
		s.Description = cmpOr(s.Description, e.Description)
	default:
		s.Assets = dedupe(selection)
		for _, id := range s.Assets {
			if tx.Bucket(bAssets).Get([]byte(id)) == nil {
				return fmt.Errorf("%w: no existe el archivo %q / no asset %q", ErrInvalid, id, id)
			}
		}
		s.Title = cmpOr(s.Title, "Material de Comunicación Social")
	}
	if len(s.Assets) > MaxShareAssets {
		return fmt.Errorf("%w: un enlace da como máximo %d archivos / a link gives at most %d assets", ErrInvalid, MaxShareAssets, MaxShareAssets)
	}
	return nil
}

func cmpOr(a, b string) string {
	if strings.TrimSpace(a) != "" {
		return a
	}
	return b
}

// eventAssets lists the assets of an event, oldest capture first.
func (c *Catalog) eventAssets(eventID string) ([]string, error) {
	var found []Asset
	err := c.EachAsset(func(a Asset) error {
		if a.Event != nil && a.Event.ID == eventID {
			found = append(found, a)
		}
		return nil
	})
	slices.SortStableFunc(found, func(a, b Asset) int { return a.sortTime().Compare(b.sortTime()) })
	ids := make([]string, len(found))
	for i, a := range found {
		ids[i] = a.ID
	}
	return ids, err
}

func (a Asset) sortTime() time.Time {
	if a.CapturedAt != nil {
		return *a.CapturedAt
	}
	return a.UploadedAt
}

// ShareByToken finds the link a token opens, whatever its state.
func (c *Catalog) ShareByToken(token string) (Share, error) {
	var s Share
	err := c.db.View(func(tx *bolt.Tx) error {
		id := tx.Bucket(bSharesByToken).Get(secretKey(token))
		if id == nil {
			return ErrNotFound
		}
		return getJSON(tx.Bucket(bShares), id, &s)
	})
	if err != nil {
		return Share{}, fmt.Errorf("catalog: share: %w", err)
	}
	return s, nil
}

// Share returns a link by id.
func (c *Catalog) Share(id string) (Share, error) {
	var s Share
	err := c.db.View(func(tx *bolt.Tx) error { return getJSON(tx.Bucket(bShares), []byte(id), &s) })
	if err != nil {
		return Share{}, fmt.Errorf("catalog: share %s: %w", id, err)
	}
	return s, nil
}

// Shares lists every link, newest first.
func (c *Catalog) Shares() ([]Share, error) {
	out := []Share{}
	err := c.db.View(func(tx *bolt.Tx) error {
		cur := tx.Bucket(bShares).Cursor()
		for k, v := cur.Last(); k != nil; k, v = cur.Prev() {
			var s Share
			if err := json.Unmarshal(v, &s); err != nil {
				return err
			}
			out = append(out, s)
		}
		return nil
	})
	return out, err
}

// RevokeShare ends a link now; every URL under it stops working.
func (c *Catalog) RevokeShare(by Actor, id string) (Share, error) {
	var s Share
	err := c.update(func(tx *bolt.Tx) error {
		if err := getJSON(tx.Bucket(bShares), []byte(id), &s); err != nil {
			return err
		}
		if s.RevokedAt != nil {
			return nil
		}
		now := c.now().UTC()
		s.RevokedAt = &now
		return c.putAudited(tx, bShares, []byte(id), s, by, AuditEntry{Action: AuditShareRevoke, Target: id, Detail: s.Title + " → " + s.Recipient})
	})
	if err != nil {
		return Share{}, fmt.Errorf("catalog: revoke share %s: %w", id, err)
	}
	return s, nil
}

// ShareAssets returns the asset ids a link gives now, in order.
// ErrShareGone when its collection was deleted.
func (c *Catalog) ShareAssets(s Share) ([]string, error) {
	if s.Collection == "" {
		return s.Assets, nil
	}
	col, err := c.Collection(s.Collection)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrShareGone
	}
	return col.AssetIDs, err
}

// ShareUse is one use of a link to count: a page view or a download.
type ShareUse struct {
	Download bool
	Asset    string // the asset downloaded, "" for a ZIP or a view
	Detail   string
}

// UseShare counts a view or a download of the link id and audits it, after
// checking, in the same transaction, that the link is still open and, for
// a download, allowed and under its limit: concurrent downloads never pass
// MaxDownloads. Errors: ErrShareGone, ErrShareEmbargoed, ErrForbidden
// (downloads not allowed), ErrDownloadLimit.
func (c *Catalog) UseShare(by Actor, id string, use ShareUse) (Share, error) {
	var s Share
	err := c.update(func(tx *bolt.Tx) error {
		if err := getJSON(tx.Bucket(bShares), []byte(id), &s); err != nil {
			return err
		}
		now := c.now().UTC()
		if err := s.State(now); err != nil {
			return err
		}
		action := AuditShareView
		if use.Download {
			action = AuditShareDownload
			if !s.AllowDownload {
				return ErrForbidden
			}
			if s.MaxDownloads > 0 && s.Downloads >= s.MaxDownloads {
				return ErrDownloadLimit
			}
			s.Downloads++
		} else {
			s.Views++
		}
		s.LastAccess = &now
		return c.putAudited(tx, bShares, []byte(id), s, by, AuditEntry{Action: action, Target: id, Asset: use.Asset, Detail: cmpOr(use.Detail, s.Recipient)})
	})
	if err != nil {
		return Share{}, fmt.Errorf("catalog: use share %s: %w", id, err)
	}
	return s, nil
}

// PublicSharesOf lists the open public links that give the asset id, for
// the verification page to point to. It scans the links: there are a few
// thousand at most, and only public ones are looked into.
func (c *Catalog) PublicSharesOf(id string) ([]Share, error) {
	var out []Share
	now := c.now()
	err := c.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bShares).ForEach(func(_, v []byte) error {
			var s Share
			if err := json.Unmarshal(v, &s); err != nil {
				return err
			}
			if !s.Public || s.State(now) != nil {
				return nil
			}
			ids := s.Assets
			if s.Collection != "" {
				var col Collection
				if getJSON(tx.Bucket(bCollections), []byte(s.Collection), &col) != nil {
					return nil
				}
				ids = col.AssetIDs
			}
			if slices.Contains(ids, id) {
				out = append(out, s)
			}
			return nil
		})
	})
	return out, err
}
