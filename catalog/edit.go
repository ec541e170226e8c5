package catalog

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/text/unicode/norm"
)

// MaxBatch is the most assets one EditAssets call changes: a large event's
// photos fit, and one transaction stays short.
const MaxBatch = 1000

// Bounds of the free-text fields of an asset.
const (
	maxTitleBytes   = 500
	maxCaptionBytes = 8000
)

// AssetEdit is a change to assets. Nil fields are left alone. Event is an
// event id, "" to unlink. Tags and People replace the lists (people by id);
// the Add and Remove lists then change them. Unknown event or person ids are
// ErrInvalid. Tags are matched case-insensitively (see cleanTags).
type AssetEdit struct {
	Title, Caption, Credit *string
	// CapturedAt sets the capture time; ClearCapturedAt removes it.
	CapturedAt      *time.Time
	ClearCapturedAt bool
	Event           *string
	Tags            *[]string
	People          *[]string
	AddTags         []string
	RemoveTags      []string
	AddPeople       []string
	RemovePeople    []string
}

// EditAssets applies e to every asset in ids in one transaction: all change
// or none. allow is asked about each asset before anything is written (the
// caller's permission check; return an ErrForbidden error to refuse). It
// fails with ErrNotFound if an id is missing, ErrInvalid on bad input or
// more than MaxBatch ids. Changed assets are marked for reindexing.
func (c *Catalog) EditAssets(by Actor, ids []string, e AssetEdit, allow func(Asset) error) ([]Asset, error) {
	ids = dedupe(ids)
	if len(ids) == 0 || len(ids) > MaxBatch {
		return nil, fmt.Errorf("catalog: edit assets: %w: entre 1 y %d ids / between 1 and %d ids", ErrInvalid, MaxBatch, MaxBatch)
	}
	out := make([]Asset, 0, len(ids))
	err := c.update(func(tx *bolt.Tx) error {
		for _, id := range ids {
			var a Asset
			if err := getJSON(tx.Bucket(bAssets), []byte(id), &a); err != nil {
				return fmt.Errorf("asset %s: %w", id, err)
			}
			if allow != nil {
				if err := allow(a); err != nil {
					return err
				}
			}
			out = append(out, a)
		}
		for i := range out {
			if err := applyEdit(tx, &out[i], e); err != nil {
				return err
			}
			if err := putJSON(tx.Bucket(bAssets), []byte(out[i].ID), out[i]); err != nil {
				return err
			}
			if err := c.audit(tx, by, AuditEntry{Action: AuditEdit, Asset: out[i].ID, Detail: e.summary()}); err != nil {
				return err
			}
		}
		return markIndexDirty(tx, ids...)
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: edit assets: %w", err)
	}
	return out, nil
}

// summary names the fields an edit touches, for the audit trail.
func (e AssetEdit) summary() string {
	var parts []string
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"title", e.Title != nil}, {"caption", e.Caption != nil}, {"credit", e.Credit != nil},
		{"captured_at", e.CapturedAt != nil || e.ClearCapturedAt}, {"event", e.Event != nil},
		{"tags", e.Tags != nil || len(e.AddTags)+len(e.RemoveTags) > 0},
		{"people", e.People != nil || len(e.AddPeople)+len(e.RemovePeople) > 0},
	} {
		if f.set {
			parts = append(parts, f.name)
		}
	}
	return strings.Join(parts, ", ")
}

func applyEdit(tx *bolt.Tx, a *Asset, e AssetEdit) error {
	if e.Title != nil {
		a.Title = cleanText(*e.Title, maxTitleBytes)
	}
	if e.Caption != nil {
		a.Caption = cleanText(*e.Caption, maxCaptionBytes)
	}
	if e.Credit != nil {
		a.Credit = cleanText(*e.Credit, maxNameBytes)
	}
	if e.ClearCapturedAt {
		a.CapturedAt = nil
	} else if e.CapturedAt != nil {
		t := *e.CapturedAt
		a.CapturedAt = &t
	}
	if e.Event != nil {
		a.Event = nil
		if *e.Event != "" {
			ref, err := refByID(tx, bEvents, "event", *e.Event)
			if err != nil {
				return err
			}
			a.Event = &ref
		}
	}
	if e.Tags != nil {
		a.Tags = nil
	}
	a.Tags = cleanTags(append(append([]string{}, a.Tags...), cleanTexts(e.Tags, e.AddTags)...))
	for _, t := range e.RemoveTags {
		a.Tags = slices.DeleteFunc(a.Tags, func(x string) bool { return strings.EqualFold(x, strings.TrimSpace(t)) })
	}
	if len(a.Tags) == 0 {
		a.Tags = nil
	}
	if e.People != nil {
		a.People = nil
	}
	add := append([]string{}, e.AddPeople...)
	if e.People != nil {
		add = append(append([]string{}, *e.People...), add...)
	}
	for _, id := range add {
		ref, err := refByID(tx, bPeople, "person", id)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(a.People, func(r Ref) bool { return r.ID == ref.ID }) {
			a.People = append(a.People, ref)
		}
	}
	for _, id := range e.RemovePeople {
		a.People = slices.DeleteFunc(a.People, func(r Ref) bool { return r.ID == id })
	}
	if len(a.People) == 0 {
		a.People = nil
	}
	return nil
}

func cleanTexts(replace *[]string, add []string) []string {
	var out []string
	if replace != nil {
		out = append(out, *replace...)
	}
	out = append(out, add...)
	for i, t := range out {
		out[i] = cleanText(t, maxNameBytes)
	}
	return out
}

func dedupe(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if id = strings.TrimSpace(id); id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// cleanText is how free text is stored: NFC, trimmed, control characters
// other than newline and tab removed, at most limit bytes (cut at a rune).
func cleanText(s string, limit int) string {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, norm.NFC.String(s))
	s = strings.TrimSpace(s)
	for len(s) > limit {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return strings.TrimSpace(s)
}
