// Package disk is the local file system backend of storage.Store. Objects
// live under Root at their key; staged writes go to Root/staging on the same
// file system, so Commit is fsync, rename and a directory fsync.
package disk

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/comsoc/acervo/storage"
)

var (
	_ storage.Store         = (*Store)(nil)
	_ storage.Cleaner       = (*Store)(nil)
	_ storage.LocalPather   = (*Store)(nil)
	_ storage.Linker        = (*Store)(nil)
	_ storage.SpaceReporter = (*Store)(nil)
	_ storage.OSFiler       = object{}
)

// Config configures a Store.
type Config struct {
	// Root is the data folder; objects go under Root/blobs and Root/derived.
	// Required.
	Root string
	// Staging is where writes are staged before Commit. Default Root/staging.
	// It must be on the same file system as Root so Commit can rename.
	Staging string
}

func (c *Config) withDefaults() error {
	if c.Root == "" {
		return errors.New("disk: Config.Root is required")
	}
	c.Root = filepath.Clean(c.Root)
	if c.Staging == "" {
		c.Staging = filepath.Join(c.Root, "staging")
	}
	return nil
}

// Store keeps objects as files. Safe for concurrent use.
type Store struct {
	cfg Config
	// dirs remembers directories already created and fsynced, so hot paths
	// skip MkdirAll's stats.
	dirs sync.Map
}

// New opens (creating if needed) a Store rooted at cfg.Root.
func New(cfg Config) (*Store, error) {
	if err := cfg.withDefaults(); err != nil {
		return nil, err
	}
	for _, d := range []string{cfg.Root, cfg.Staging} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("disk: %w", err)
		}
	}
	return &Store{cfg: cfg}, nil
}

// StagingDir is where staged writes live. Workers may use it for scratch
// files too: CleanStaging empties it at start.
func (s *Store) StagingDir() string { return s.cfg.Staging }

func (s *Store) path(key string) (string, error) {
	if !storage.ValidKey(key) {
		return "", fmt.Errorf("%w: %q", storage.ErrBadKey, key)
	}
	// A valid key is clean, relative and free of "..": joined without
	// filepath.Join's second cleaning pass, on every file served.
	return s.cfg.Root + string(filepath.Separator) + filepath.FromSlash(key), nil
}

// LocalPath returns the file holding key. The file may not exist.
func (s *Store) LocalPath(key string) (string, error) { return s.path(key) }

// Create stages a new object in a temporary file under Staging.
func (s *Store) Create(ctx context.Context) (storage.Writer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(s.cfg.Staging, "put-*")
	if err != nil {
		return nil, fmt.Errorf("disk: stage: %w", noSpace(err))
	}
	return &writer{s: s, f: f}, nil
}

type writer struct {
	s    *Store
	f    *os.File
	done bool
	// synced, for a linked file, delivers the result of the fsync Link
	// started; nil for a written one.
	synced chan error
}

func (w *writer) Write(p []byte) (int, error) {
	if w.synced != nil {
		return 0, errors.New("disk: write to a linked file")
	}
	n, err := w.f.Write(p)
	return n, noSpace(err)
}

// noSpace marks a full disk or quota as storage.ErrNoSpace, keeping the
// cause, so the server can answer 507 instead of 500.
func noSpace(err error) error {
	if err != nil && (errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)) {
		return fmt.Errorf("%w: %w", storage.ErrNoSpace, err)
	}
	return err
}

// FreeBytes is what an unprivileged process may still write on Root's
// file system.
func (s *Store) FreeBytes() (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(s.cfg.Root, &st); err != nil {
		return 0, fmt.Errorf("disk: statfs: %w", err)
	}
	return int64(st.Bavail) * st.Bsize, nil
}

func (w *writer) Commit(key string) (err error) {
	if w.done {
		return errors.New("disk: writer already finished")
	}
	w.done = true
	tmp := w.f.Name()
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	dst, err := w.s.path(key)
	if err != nil {
		w.f.Close()
		return err
	}
	sync := w.f.Sync
	if w.synced != nil {
		sync = func() error { return <-w.synced }
	}
	if err := sync(); err != nil {
		w.f.Close()
		return fmt.Errorf("disk: sync %s: %w", key, noSpace(err))
	}
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("disk: close %s: %w", key, noSpace(err))
	}
	dir := filepath.Dir(dst)
	if err := w.s.mkdirAll(dir); err != nil {
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("disk: commit %s: %w", key, err)
	}
	return syncDir(dir)
}

func (w *writer) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	if w.synced != nil {
		<-w.synced
	}
	w.f.Close()
	if err := os.Remove(w.f.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("disk: abort: %w", err)
	}
	return nil
}

// Link stages the file at path by a hard link in Staging, so Commit is
// the same fsync, rename and directory fsync as for written bytes, and a
// crash before it leaves path whole (CleanStaging removes only the link).
// The fsync starts at once, on its own goroutine: the caller is meant to
// read the file meanwhile (to hash it), and Commit waits for it.
func (s *Store) Link(ctx context.Context, path string) (storage.Writer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var rnd [12]byte
	rand.Read(rnd[:])
	name := filepath.Join(s.cfg.Staging, "link-"+hex.EncodeToString(rnd[:]))
	if err := os.Link(path, name); err != nil {
		if errors.Is(err, syscall.EXDEV) || errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EMLINK) ||
			errors.Is(err, syscall.ENOTSUP) || errors.Is(err, syscall.EOPNOTSUPP) {
			return nil, fmt.Errorf("%w: %w", storage.ErrNotLinkable, err)
		}
		return nil, fmt.Errorf("disk: link: %w", noSpace(err))
	}
	f, err := os.Open(name) // fsync needs no write access
	if err == nil {
		// Blobs are the server's alone, whatever mode the file was made with.
		err = f.Chmod(0o600)
	}
	if err != nil {
		if f != nil {
			f.Close()
		}
		os.Remove(name)
		return nil, fmt.Errorf("disk: link: %w", err)
	}
	w := &writer{s: s, f: f, synced: make(chan error, 1)}
	go func() { w.synced <- noSpace(f.Sync()) }()
	return w, nil
}

// mkdirAll creates dir and fsyncs each new directory's parent, so a new
// fan-out folder survives a crash along with the file renamed into it.
func (s *Store) mkdirAll(dir string) error {
	if _, ok := s.dirs.Load(dir); ok {
		return nil
	}
	if _, err := os.Stat(dir); err == nil {
		s.dirs.Store(dir, struct{}{})
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != dir && parent != s.cfg.Root {
		if err := s.mkdirAll(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o750); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("disk: mkdir: %w", noSpace(err))
	}
	if err := syncDir(parent); err != nil {
		return err
	}
	s.dirs.Store(dir, struct{}{})
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("disk: sync dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("disk: sync dir %s: %w", dir, err)
	}
	return nil
}

type object struct {
	*os.File
	info storage.Info
}

func (o object) Info() storage.Info { return o.info }

func (o object) OSFile() *os.File { return o.File }

// Open opens the object at key.
func (s *Store) Open(ctx context.Context, key string) (storage.Object, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, notFound(key, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("disk: stat %s: %w", key, err)
	}
	return object{File: f, info: storage.Info{Size: st.Size(), ModTime: st.ModTime()}}, nil
}

// Stat describes the object at key.
func (s *Store) Stat(ctx context.Context, key string) (storage.Info, error) {
	p, err := s.path(key)
	if err != nil {
		return storage.Info{}, err
	}
	st, err := os.Stat(p)
	if err != nil {
		return storage.Info{}, notFound(key, err)
	}
	return storage.Info{Size: st.Size(), ModTime: st.ModTime()}, nil
}

// Delete removes the object at key and syncs its directory.
func (s *Store) Delete(ctx context.Context, key string) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil {
		return notFound(key, err)
	}
	return syncDir(filepath.Dir(p))
}

// Walk visits every committed key under prefix ("blobs/", "derived/<id>/", "").
func (s *Store) Walk(ctx context.Context, prefix string, fn func(key string) error) error {
	for _, top := range []string{"blobs", "derived"} {
		root := filepath.Join(s.cfg.Root, top)
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
			if d.IsDir() {
				return ctx.Err()
			}
			rel, err := filepath.Rel(s.cfg.Root, p)
			if err != nil {
				return err
			}
			key := filepath.ToSlash(rel)
			if !strings.HasPrefix(key, prefix) || !storage.ValidKey(key) {
				return nil
			}
			return fn(key)
		})
		if err != nil {
			return fmt.Errorf("disk: walk: %w", err)
		}
	}
	return nil
}

// CleanStaging removes everything under Staging: uploads and scratch files
// a crash left behind. Nothing in staging was ever acknowledged.
func (s *Store) CleanStaging() (int, error) {
	entries, err := os.ReadDir(s.cfg.Staging)
	if err != nil {
		return 0, fmt.Errorf("disk: clean staging: %w", err)
	}
	n := 0
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(s.cfg.Staging, e.Name())); err != nil {
			return n, fmt.Errorf("disk: clean staging: %w", err)
		}
		n++
	}
	return n, syncDir(s.cfg.Staging)
}

func notFound(key string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s", storage.ErrNotFound, key)
	}
	return fmt.Errorf("disk: %s: %w", key, err)
}
