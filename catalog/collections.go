package catalog

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

var bCollections = []byte("collections") // collection id → Collection

// MaxCollectionAssets bounds a collection: a year's report or a large press
// kit fits, and a ZIP of it stays one download.
const MaxCollectionAssets = 5000

// Collection is an ordered, named set of assets: a press kit, the annual
// government report.
type Collection struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	AssetIDs    []string  `json:"assets"`
	CreatedBy   string    `json:"created_by"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// CollectionChange edits a collection. Nil fields are left alone. Assets
// replaces the whole list in the given order (this is how to reorder); Add
// appends assets not yet in it; Remove takes assets out. Unknown asset ids
// are ErrInvalid.
type CollectionChange struct {
	Name, Description *string
	Assets            *[]string
	Add, Remove       []string
}

// CreateCollection adds a collection; ch.Name is required.
func (c *Catalog) CreateCollection(by Actor, ch CollectionChange) (Collection, error) {
	if ch.Name == nil {
		return Collection{}, fmt.Errorf("catalog: create collection: %w: la colección necesita un nombre / name is required", ErrInvalid)
	}
	now := c.now().UTC()
	col := Collection{ID: NewID(now), AssetIDs: []string{}, CreatedBy: by.UserID, CreatedAt: now, UpdatedAt: now}
	err := c.update(func(tx *bolt.Tx) error {
		if err := col.apply(tx, ch); err != nil {
			return err
		}
		return c.putAudited(tx, bCollections, []byte(col.ID), col, by, AuditEntry{Action: AuditCollection, Target: col.ID, Detail: col.Name})
	})
	if err != nil {
		return Collection{}, fmt.Errorf("catalog: create collection: %w", err)
	}
	return col, nil
}

// UpdateCollection applies ch to the collection id.
func (c *Catalog) UpdateCollection(by Actor, id string, ch CollectionChange) (Collection, error) {
	var col Collection
	err := c.update(func(tx *bolt.Tx) error {
		if err := getJSON(tx.Bucket(bCollections), []byte(id), &col); err != nil {
			return err
		}
		if err := col.apply(tx, ch); err != nil {
			return err
		}
		col.UpdatedAt = c.now().UTC()
		return c.putAudited(tx, bCollections, []byte(id), col, by, AuditEntry{Action: AuditCollectionEdit, Target: id, Detail: fmt.Sprintf("%s (%d assets)", col.Name, len(col.AssetIDs))})
	})
	if err != nil {
		return Collection{}, fmt.Errorf("catalog: update collection %s: %w", id, err)
	}
	return col, nil
}

func (col *Collection) apply(tx *bolt.Tx, ch CollectionChange) error {
	if ch.Name != nil {
		name := cleanText(*ch.Name, maxNameBytes)
		if name == "" || strings.ContainsAny(name, "\n\t") {
			return fmt.Errorf("%w: la colección necesita un nombre de una línea / a collection needs a one-line name", ErrInvalid)
		}
		col.Name = name
	}
	if ch.Description != nil {
		col.Description = cleanText(*ch.Description, maxDescriptionBytes)
	}
	if ch.Assets != nil {
		col.AssetIDs = []string{}
	}
	var add []string
	if ch.Assets != nil {
		add = append(add, *ch.Assets...)
	}
	add = append(add, ch.Add...)
	assets := tx.Bucket(bAssets)
	for _, id := range add {
		id = strings.TrimSpace(id)
		if assets.Get([]byte(id)) == nil {
			return fmt.Errorf("%w: no existe el archivo %q / no asset %q", ErrInvalid, id, id)
		}
		if !slices.Contains(col.AssetIDs, id) {
			col.AssetIDs = append(col.AssetIDs, id)
		}
	}
	col.AssetIDs = slices.DeleteFunc(col.AssetIDs, func(id string) bool { return slices.Contains(ch.Remove, id) })
	if len(col.AssetIDs) > MaxCollectionAssets {
		return fmt.Errorf("%w: una colección tiene como máximo %d archivos / a collection holds at most %d assets", ErrInvalid, MaxCollectionAssets, MaxCollectionAssets)
	}
	return nil
}

// Collection returns the collection with id.
func (c *Catalog) Collection(id string) (Collection, error) {
	var col Collection
	err := c.db.View(func(tx *bolt.Tx) error { return getJSON(tx.Bucket(bCollections), []byte(id), &col) })
	if err != nil {
		return Collection{}, fmt.Errorf("catalog: collection %s: %w", id, err)
	}
	return col, nil
}

// Collections lists every collection, most recently changed first.
func (c *Catalog) Collections() ([]Collection, error) {
	out := []Collection{}
	err := c.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bCollections).ForEach(func(_, v []byte) error {
			var col Collection
			if err := json.Unmarshal(v, &col); err != nil {
				return err
			}
			out = append(out, col)
			return nil
		})
	})
	slices.SortStableFunc(out, func(a, b Collection) int { return b.UpdatedAt.Compare(a.UpdatedAt) })
	return out, err
}

// DeleteCollection removes a collection (not its assets). Share links to
// it stop working: they answer as revoked.
func (c *Catalog) DeleteCollection(by Actor, id string) error {
	err := c.update(func(tx *bolt.Tx) error {
		var col Collection
		if err := getJSON(tx.Bucket(bCollections), []byte(id), &col); err != nil {
			return err
		}
		if err := tx.Bucket(bCollections).Delete([]byte(id)); err != nil {
			return err
		}
		return c.audit(tx, by, AuditEntry{Action: AuditCollectionDel, Target: id, Detail: col.Name})
	})
	if err != nil {
		return fmt.Errorf("catalog: delete collection %s: %w", id, err)
	}
	return nil
}
