package catalog

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// TrashAsset moves an asset to the trash after allow agrees (the caller's
// permission check). The index drops it; its files and record stay until
// an admin purges it, so a mistaken delete is undone with RestoreAsset.
func (c *Catalog) TrashAsset(by Actor, id string, allow func(Asset) error) (Asset, error) {
	return c.setTrashed(by, id, true, allow)
}

// RestoreAsset takes an asset out of the trash.
func (c *Catalog) RestoreAsset(by Actor, id string) (Asset, error) {
	return c.setTrashed(by, id, false, nil)
}

func (c *Catalog) setTrashed(by Actor, id string, trash bool, allow func(Asset) error) (Asset, error) {
	var a Asset
	err := c.update(func(tx *bolt.Tx) error {
		if err := getJSON(tx.Bucket(bAssets), []byte(id), &a); err != nil {
			return err
		}
		if allow != nil {
			if err := allow(a); err != nil {
				return err
			}
		}
		if (a.TrashedAt != nil) == trash {
			return nil // already there
		}
		action := AuditRestore
		if trash {
			now := c.now().UTC()
			a.TrashedAt, a.TrashedBy, action = &now, by.UserID, AuditDelete
		} else {
			a.TrashedAt, a.TrashedBy = nil, ""
		}
		if err := putJSON(tx.Bucket(bAssets), []byte(id), a); err != nil {
			return err
		}
		if err := markIndexDirty(tx, id); err != nil {
			return err
		}
		return c.audit(tx, by, AuditEntry{Action: action, Asset: id, Detail: a.Filename})
	})
	if err != nil {
		return Asset{}, fmt.Errorf("catalog: trash asset %s: %w", id, err)
	}
	return a, nil
}
