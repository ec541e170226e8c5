// Package catalog is Acervo's source of truth: users, sessions, tokens,
// assets and the durable job queue, in one bbolt file. Every state change
// that must survive a crash is one bbolt transaction, so an asset and the
// jobs that will process it are committed together or not at all.
package catalog

import (
	"bytes"
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Errors callers test with errors.Is.
var (
	ErrNotFound  = errors.New("catalog: not found")
	ErrExists    = errors.New("catalog: already exists")
	ErrNoJob     = errors.New("catalog: no job ready")
	ErrForbidden = errors.New("catalog: forbidden")
	ErrInvalid   = errors.New("catalog: invalid")
)

var (
	bUsers       = []byte("users")         // user id → User
	bUsersByName = []byte("users_by_name") // lower-case username → user id
	bSessions    = []byte("sessions")      // sha256(session secret) → Session
	bTokens      = []byte("tokens")        // sha256(token) → Token
	bTokensByID  = []byte("tokens_by_id")  // token id → sha256(token)
	bAssets      = []byte("assets")        // asset id → Asset
	bAssetsBySHA = []byte("assets_by_sha") // sha256 hex → asset id
	bJobs        = []byte("jobs")          // job id → Job (all states, history)
	bJobsPending = []byte("jobs_pending")  // job id → job kind: queued, in id (time) order
	bJobsRunning = []byte("jobs_running")  // job id → nil: claimed by a worker
	bBlobIntents = []byte("blob_intents")  // sha256 hex → time: blob being committed
	bMeta        = []byte("meta")
	allBuckets   = [][]byte{bUsers, bUsersByName, bSessions, bTokens, bTokensByID, bAssets, bAssetsBySHA, bJobs, bJobsPending, bJobsRunning, bBlobIntents, bMeta, bEvents, bEventsByName, bPeople, bPeopleByName, bIndexDirty, bAudit, bCollections, bShares, bSharesByToken, bFingerprints, bFingerprintsLog}
	// schemaVersion 2 keys event and person names folded (accents, case,
	// spaces; ñ kept); catalogs of version 1 are rekeyed once at open.
	schemaVersion = []byte("2")
)

// Config configures a Catalog.
type Config struct {
	// Path of the bbolt file. Required (conventionally <data>/catalog.db).
	Path string
	// LockTimeout is how long Open waits for another process holding the
	// file. Default 2s: a second server on the same data folder fails fast.
	LockTimeout time.Duration
	// Now returns the current time. Default time.Now; tests pin it.
	Now func() time.Time
}

func (c *Config) withDefaults() error {
	if c.Path == "" {
		return errors.New("catalog: Config.Path is required")
	}
	if c.LockTimeout == 0 {
		c.LockTimeout = 2 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// Catalog is safe for concurrent use.
type Catalog struct {
	db  *bolt.DB
	now func() time.Time
	// Decoded records of the per-request reads (decoded.go): checked
	// against the stored bytes on every use, so never stale.
	tokens   *decodedCache[Token]
	sessions *decodedCache[Session]
	users    *decodedCache[User]
	files    *decodedCache[AssetFiles]
	// writes counts committed write transactions (update); the caches
	// use it to know nothing was written since they last looked.
	writes atomic.Uint64
}

// update is db.Update for every write of the catalog: it counts the
// transaction in writes once committed, before returning, so a read that
// starts after any write returned sees the counter moved. Never write
// with c.db.Update directly (TestEveryWriteIsCounted).
func (c *Catalog) update(fn func(*bolt.Tx) error) error {
	return c.db.Update(func(tx *bolt.Tx) error {
		tx.OnCommit(c.committed)
		return fn(tx)
	})
}

func (c *Catalog) committed() { c.writes.Add(1) }

// Open opens or creates the catalog file.
func Open(cfg Config) (*Catalog, error) {
	if err := cfg.withDefaults(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(cfg.Path), 0o750); err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	db, err := bolt.Open(cfg.Path, 0o600, &bolt.Options{Timeout: cfg.LockTimeout})
	if err != nil {
		return nil, fmt.Errorf("catalog: open %s: %w", cfg.Path, err)
	}
	var stored []byte
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		stored = bytes.Clone(tx.Bucket(bMeta).Get([]byte("schema")))
		// The fingerprint log only tells indexes built since this open
		// what is new; each is built from the whole bucket.
		if err := tx.DeleteBucket(bFingerprintsLog); err != nil {
			return err
		}
		_, err := tx.CreateBucket(bFingerprintsLog)
		return err
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("catalog: init: %w", err)
	}
	c := &Catalog{db: db, now: cfg.Now,
		tokens: newDecodedCache[Token](), sessions: newDecodedCache[Session](),
		users: newDecodedCache[User](), files: newDecodedCache[AssetFiles]()}
	if err := c.migrate(stored); err != nil {
		db.Close()
		return nil, err
	}
	return c, nil
}

// migrate brings a catalog written by an older Acervo to schemaVersion;
// stored is nil for a new catalog.
func (c *Catalog) migrate(stored []byte) error {
	if bytes.Equal(stored, schemaVersion) {
		return nil
	}
	if stored != nil && string(stored) < "2" {
		if err := c.RekeyVocabularies(); err != nil {
			return fmt.Errorf("catalog: migrate to schema 2: %w", err)
		}
	}
	return c.update(func(tx *bolt.Tx) error { return tx.Bucket(bMeta).Put([]byte("schema"), schemaVersion) })
}

// Close closes the database file.
func (c *Catalog) Close() error { return c.db.Close() }

// Check runs bbolt's consistency check and returns the first problem found.
func (c *Catalog) Check() error {
	return c.db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return fmt.Errorf("catalog: check: %w", err)
		}
		return nil
	})
}

var idEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// NewID returns a 26-character id: 48 bits of milliseconds then 80 random
// bits, so ids sort by creation time (the job queue relies on it) and never
// collide in practice.
func NewID(now time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	if _, err := rand.Read(b[6:]); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return idEncoding.EncodeToString(b[:])
}

func getJSON(b *bolt.Bucket, key []byte, v any) error {
	data := b.Get(key)
	if data == nil {
		return ErrNotFound
	}
	return json.Unmarshal(data, v)
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}

// Secret returns the instance's 32-byte secret called name, made at random
// the first time it is asked for and kept in the catalog: keys for
// signatures the server checks itself (share unlock cookies).
func (c *Catalog) Secret(name string) ([]byte, error) {
	key := []byte("secret:" + name)
	var out []byte
	err := c.db.View(func(tx *bolt.Tx) error { out = bytes.Clone(tx.Bucket(bMeta).Get(key)); return nil })
	if err != nil || out != nil {
		return out, err
	}
	err = c.update(func(tx *bolt.Tx) error {
		if out = bytes.Clone(tx.Bucket(bMeta).Get(key)); out != nil {
			return nil // made meanwhile
		}
		out = make([]byte, 32)
		if _, err := rand.Read(out); err != nil {
			return err
		}
		return tx.Bucket(bMeta).Put(key, out)
	})
	return out, err
}
