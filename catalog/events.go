package catalog

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Event is an occasion assets belong to. Date and EndDate are calendar
// days ("2006-01-02", the office's own), EndDate only for multi-day events.
type Event struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Date        string    `json:"date,omitempty"`
	EndDate     string    `json:"end_date,omitempty"`
	Place       string    `json:"place,omitempty"`
	Description string    `json:"description,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

// EventFields creates or changes an event: nil fields are left as they are
// (on create: empty). Name is required on create.
type EventFields struct {
	Name, Date, EndDate, Place, Description *string
}

const maxDescriptionBytes = 4000

// Events lists every event, newest date first, then by name.
func (c *Catalog) Events() ([]Event, error) {
	out := []Event{}
	err := c.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bEvents).ForEach(func(_, v []byte) error {
			var e Event
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			out = append(out, e)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: events: %w", err)
	}
	slices.SortFunc(out, func(a, b Event) int {
		if a.Date != b.Date {
			return strings.Compare(b.Date, a.Date)
		}
		return strings.Compare(foldName(a.Name), foldName(b.Name))
	})
	return out, nil
}

// Event returns the event with id, or ErrNotFound.
func (c *Catalog) Event(id string) (Event, error) {
	var e Event
	err := c.db.View(func(tx *bolt.Tx) error { return getJSON(tx.Bucket(bEvents), []byte(id), &e) })
	if err != nil {
		return Event{}, fmt.Errorf("catalog: event %s: %w", id, err)
	}
	return e, nil
}

// CreateEvent adds an event. Errors: ErrInvalid (no name, bad dates),
// ErrExists (the folded name is taken).
func (c *Catalog) CreateEvent(by Actor, f EventFields) (Event, error) {
	if f.Name == nil {
		return Event{}, fmt.Errorf("catalog: create event: %w: el evento necesita un nombre / name is required", ErrInvalid)
	}
	now := c.now().UTC()
	e := Event{ID: NewID(now), CreatedAt: now}
	err := c.update(func(tx *bolt.Tx) error {
		if err := e.apply(f); err != nil {
			return err
		}
		if err := claimName(tx, bEventsByName, e.ID, "event", e.Name); err != nil {
			return err
		}
		return c.putAudited(tx, bEvents, []byte(e.ID), e, by, AuditEntry{Action: AuditEventCreate, Target: e.ID, Detail: e.Name})
	})
	if err != nil {
		return Event{}, fmt.Errorf("catalog: create event: %w", err)
	}
	return e, nil
}

// UpdateEvent changes an event. A new name is shown by its assets at once:
// their refs are rewritten and reindexed in the same transaction.
func (c *Catalog) UpdateEvent(by Actor, id string, f EventFields) (Event, error) {
	var e Event
	err := c.update(func(tx *bolt.Tx) error {
		if err := getJSON(tx.Bucket(bEvents), []byte(id), &e); err != nil {
			return err
		}
		old := e.Name
		if err := e.apply(f); err != nil {
			return err
		}
		if e.Name != old {
			if err := releaseName(tx, bEventsByName, id, old); err != nil {
				return err
			}
			if err := claimName(tx, bEventsByName, id, "event", e.Name); err != nil {
				return err
			}
			if _, err := rewriteRefs(tx, id, e.Name, false); err != nil {
				return err
			}
		}
		return c.putAudited(tx, bEvents, []byte(id), e, by, AuditEntry{Action: AuditEventUpdate, Target: id, Detail: e.Name})
	})
	if err != nil {
		return Event{}, fmt.Errorf("catalog: update event %s: %w", id, err)
	}
	return e, nil
}

// DeleteEvent removes an event. When assets belong to it, it fails with
// ErrExists unless force, which unlinks them (they keep everything else).
func (c *Catalog) DeleteEvent(by Actor, id string, force bool) error {
	err := c.update(func(tx *bolt.Tx) error {
		var e Event
		if err := getJSON(tx.Bucket(bEvents), []byte(id), &e); err != nil {
			return err
		}
		if err := deleteEntry(tx, bEvents, bEventsByName, id, []string{e.Name}, force); err != nil {
			return err
		}
		return c.audit(tx, by, AuditEntry{Action: AuditEventDelete, Target: id, Detail: e.Name})
	})
	if err != nil {
		return fmt.Errorf("catalog: delete event %s: %w", id, err)
	}
	return nil
}

// deleteEntry removes a vocabulary entry and its names after checking (or,
// with force, removing) the assets' refs to it.
func deleteEntry(tx *bolt.Tx, items, byName []byte, id string, names []string, force bool) error {
	n, err := rewriteRefs(tx, id, "", !force)
	if err != nil {
		return err
	}
	if n > 0 && !force {
		return fmt.Errorf("%w: %d archivos lo usan; borre con force=true para desvincularlos / %d assets refer to it; delete with force=true to unlink them", ErrExists, n, n)
	}
	for _, name := range names {
		if err := releaseName(tx, byName, id, name); err != nil {
			return err
		}
	}
	return tx.Bucket(items).Delete([]byte(id))
}

func (e *Event) apply(f EventFields) error {
	if f.Name != nil {
		name, err := cleanName("event", *f.Name)
		if err != nil {
			return err
		}
		e.Name = name
	}
	for _, d := range []struct {
		in  *string
		out *string
		key string
	}{{f.Date, &e.Date, "date"}, {f.EndDate, &e.EndDate, "end_date"}} {
		if d.in == nil {
			continue
		}
		v := strings.TrimSpace(*d.in)
		if v != "" {
			if _, err := time.Parse(time.DateOnly, v); err != nil {
				return fmt.Errorf("%w: %s debe ser AAAA-MM-DD / %s must be YYYY-MM-DD", ErrInvalid, d.key, d.key)
			}
		}
		*d.out = v
	}
	if e.EndDate != "" && (e.Date == "" || e.EndDate < e.Date) {
		return fmt.Errorf("%w: end_date necesita una date igual o anterior / end_date needs a date on or before it", ErrInvalid)
	}
	if f.Place != nil {
		e.Place = cleanText(*f.Place, maxNameBytes)
	}
	if f.Description != nil {
		e.Description = cleanText(*f.Description, maxDescriptionBytes)
	}
	return nil
}
