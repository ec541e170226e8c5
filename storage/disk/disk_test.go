package disk_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/comsoc/acervo/storage"
	"github.com/comsoc/acervo/storage/disk"
	"github.com/comsoc/acervo/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Test(t, func(t *testing.T) storage.Store {
		s, err := disk.New(disk.Config{Root: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestLink: a file on the store's file system is staged by a link, not a
// copy: the committed object is the same file, and the original path is
// left as it was after Commit or Abort. On another file system Link says
// so with ErrNotLinkable, for the caller to copy.
func TestLink(t *testing.T) {
	root := t.TempDir()
	s, err := disk.New(disk.Config{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(root, "uploads-upload")
	if err := os.WriteFile(src, []byte("bytes of a finished upload"), 0o664); err != nil {
		t.Fatal(err)
	}
	key, _ := storage.BlobKey(strings.Repeat("ab", 32))
	w, err := s.Link(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("more")); err == nil {
		t.Error("Write to a linked object succeeded")
	}
	if err := w.Commit(key); err != nil {
		t.Fatal(err)
	}
	p, _ := s.LocalPath(key)
	a, _ := os.Stat(src)
	b, err := os.Stat(p)
	if err != nil || !os.SameFile(a, b) {
		t.Errorf("committed object is not the linked file: %v", err)
	}
	if b != nil && b.Mode().Perm() != 0o600 {
		t.Errorf("object mode %v, want 0600", b.Mode().Perm())
	}

	w, err = s.Link(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(src); err != nil {
		t.Errorf("Abort removed the linked file: %v", err)
	}
	if left, _ := os.ReadDir(filepath.Join(root, "staging")); len(left) != 0 {
		t.Errorf("staging holds %d entries after Abort", len(left))
	}

	other, err := os.CreateTemp("/dev/shm", "acervo-link-test-*")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("/dev/shm is needed to test a link across file systems: %v", err)
		}
		t.Skip("no /dev/shm to test a link across file systems")
	}
	other.Close()
	defer os.Remove(other.Name())
	if _, err := s.Link(context.Background(), other.Name()); !errors.Is(err, storage.ErrNotLinkable) {
		t.Errorf("Link across file systems: err %v, want storage.ErrNotLinkable", err)
	}
}
