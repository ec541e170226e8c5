package catalog

import (
	"errors"
	"fmt"
	"io"
	"os"

	bolt "go.etcd.io/bbolt"
)

// Backups: the catalog is the one file whose copy must be taken at one
// moment. Blobs and renditions are committed before the records that name
// them (DESIGN.md invariant 1), so a snapshot of the catalog plus the files
// it names, copied afterwards, is a whole data folder.

// Snapshot writes a consistent copy of the whole catalog to w, as it was
// when one read transaction began, and returns the bytes written (bbolt's
// Tx.WriteTo). Writers go on meanwhile, except that a writer which must
// grow the file waits for the transaction to end, so w should be fast
// (a local file, not a client's socket). The copy is a bbolt file that
// Open and OpenReadOnly accept.
func (c *Catalog) Snapshot(w io.Writer) (n int64, err error) {
	err = c.db.View(func(tx *bolt.Tx) error {
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("catalog: snapshot: %w", err)
	}
	return n, nil
}

// Path is the catalog's file.
func (c *Catalog) Path() string { return c.db.Path() }

// OpenReadOnly opens an existing catalog file for reading only: a snapshot
// or a backup's catalog, or a stopped server's. It neither creates buckets
// nor migrates, and it takes bbolt's shared lock, so it waits LockTimeout
// (then fails with bbolt's ErrTimeout) while a server holds the file. A
// missing file is an error wrapping fs.ErrNotExist. Only reads work on the
// result (EachAsset, Check, VerifyAudit, Snapshot…).
func OpenReadOnly(cfg Config) (*Catalog, error) {
	if err := cfg.withDefaults(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(cfg.Path); err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	db, err := bolt.Open(cfg.Path, 0o600, &bolt.Options{Timeout: cfg.LockTimeout, ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("catalog: open %s: %w", cfg.Path, err)
	}
	c := &Catalog{db: db, now: cfg.Now}
	if err := c.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bAssets) == nil {
			return errors.New("no assets bucket: not an Acervo catalog")
		}
		return nil
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("catalog: %s: %w", cfg.Path, err)
	}
	return c, nil
}
