package catalog

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/text/unicode/norm"
)

// Tags are free words on assets, with no record of their own: the list and
// the counts come from the assets. They are matched case-insensitively
// (tagKey), as an asset's tags are de-duplicated (cleanTags).

func tagKey(t string) string { return strings.ToLower(norm.NFC.String(strings.TrimSpace(t))) }

// TagCount is a tag and how many assets carry it.
type TagCount struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// Tags lists the tags in use with their counts, most used first, then
// alphabetically; a tag spelled in several cases shows the first spelling
// seen. It scans the assets.
func (c *Catalog) Tags() ([]TagCount, error) {
	byKey := map[string]*TagCount{}
	var order []string
	err := c.EachAsset(func(a Asset) error {
		for _, t := range a.Tags {
			k := tagKey(t)
			if tc, ok := byKey[k]; ok {
				tc.Count++
				continue
			}
			byKey[k] = &TagCount{Name: t, Count: 1}
			order = append(order, k)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: tags: %w", err)
	}
	out := make([]TagCount, 0, len(order))
	for _, k := range order {
		out = append(out, *byKey[k])
	}
	slices.SortStableFunc(out, func(a, b TagCount) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(foldName(a.Name), foldName(b.Name))
	})
	return out, nil
}

// RenameTag replaces the tag old (case-insensitively) by new on every asset
// that has it, merging where an asset already has new; new == "" removes
// the tag. It returns how many assets changed, ErrNotFound when none has
// old, ErrInvalid for a bad new name. The changed assets are reindexed.
func (c *Catalog) RenameTag(by Actor, old, new string) (int, error) {
	if new != "" {
		new = cleanText(new, maxNameBytes)
		if new == "" || strings.ContainsAny(new, "\n\t") {
			return 0, fmt.Errorf("catalog: rename tag: %w: la etiqueta debe ser de una línea / tag must be one line", ErrInvalid)
		}
	}
	oldKey := tagKey(old)
	n := 0
	err := c.update(func(tx *bolt.Tx) error {
		var changed []Asset
		err := tx.Bucket(bAssets).ForEach(func(_, v []byte) error {
			var a Asset
			if err := json.Unmarshal(v, &a); err != nil {
				return err
			}
			i := slices.IndexFunc(a.Tags, func(t string) bool { return tagKey(t) == oldKey })
			if i < 0 {
				return nil
			}
			if new == "" {
				a.Tags = slices.Delete(a.Tags, i, i+1)
			} else {
				a.Tags[i] = new
			}
			a.Tags = cleanTags(a.Tags)
			changed = append(changed, a)
			return nil
		})
		if err != nil {
			return err
		}
		if len(changed) == 0 {
			return ErrNotFound
		}
		for _, a := range changed {
			if err := putJSON(tx.Bucket(bAssets), []byte(a.ID), a); err != nil {
				return err
			}
			if err := markIndexDirty(tx, a.ID); err != nil {
				return err
			}
		}
		n = len(changed)
		action, detail := AuditTagRename, old+" → "+new
		if new == "" {
			action, detail = AuditTagDelete, old
		}
		return c.audit(tx, by, AuditEntry{Action: action, Target: old, Detail: fmt.Sprintf("%s (%d assets)", detail, n)})
	})
	if err != nil {
		return 0, fmt.Errorf("catalog: rename tag %q: %w", old, err)
	}
	return n, nil
}
