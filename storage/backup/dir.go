package backup

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// The backup's folder: made, locked and written to atomically.

// copyKey copies the provenance signing key: without it, manifests signed
// after a restore would not match the published public key.
func copyKey(data, dir string, rep *Report) error {
	const rel = "keys/ed25519.pem"
	b, err := os.ReadFile(filepath.Join(data, rel))
	if errors.Is(err, fs.ErrNotExist) {
		rep.Warnings = append(rep.Warnings, "no signing key "+rel+" in the data folder (acervo serve makes it at its first start)")
		return nil
	}
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return writeFileAtomic(filepath.Join(dir, rel), b, 0o600)
}

// prepareDir creates dir, refuses one that overlaps data or is in use,
// and locks it against a second backup and a server started on it until
// unlock is called.
func prepareDir(data, dir string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	a, err := filepath.EvalSymlinks(data)
	if err != nil {
		return nil, fmt.Errorf("backup: data folder: %w", err)
	}
	b, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if a, b = filepath.Clean(a), filepath.Clean(b); within(b, a) || within(a, b) {
		return nil, fmt.Errorf("backup: %s and the data folder %s overlap: back up to another folder", dir, data)
	}
	d, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if err := syscall.Flock(int(d.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		d.Close()
		return nil, fmt.Errorf("backup: another acervo backup is writing to %s", dir)
	}
	unlock = func() { d.Close() }
	// A server on the backup holds its catalog with bbolt's flock.
	c, err := os.Open(filepath.Join(dir, "catalog.db"))
	if err == nil {
		if err := syscall.Flock(int(c.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			c.Close()
			d.Close()
			return nil, fmt.Errorf("backup: %s is in use (acervo serve --data %s?): stop it first", dir, dir)
		}
		unlock = func() { c.Close(); d.Close() }
	}
	return unlock, nil
}

// within reports whether path is root or inside it.
func within(path, root string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && (rel == "." || (rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))))
}

// writeFileAtomic writes data to path through a temporary file in the same
// folder: write, fsync, rename, fsync the folder.
func writeFileAtomic(path string, data []byte, mode os.FileMode) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(mode); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	ok = true
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("backup: sync %s: %w", dir, err)
	}
	return nil
}
