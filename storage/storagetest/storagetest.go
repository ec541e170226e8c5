// Package storagetest is the conformance suite every storage.Store backend
// passes, one line per backend (like Perkeep's blobserver/storagetest).
package storagetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"sort"
	"testing"

	"github.com/comsoc/acervo/storage"
)

// Test runs the suite against a fresh, empty store from newStore.
func Test(t *testing.T, newStore func(t *testing.T) storage.Store) {
	ctx := context.Background()

	t.Run("CommitThenOpen", func(t *testing.T) {
		s := newStore(t)
		data := bytes.Repeat([]byte("acervo "), 100000)
		key := blobKey(t, data)
		put(t, s, key, data)
		obj, err := s.Open(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		defer obj.Close()
		if got, want := obj.Info().Size, int64(len(data)); got != want {
			t.Errorf("size = %d, want %d", got, want)
		}
		if _, err := obj.Seek(7, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(obj)
		if err != nil || !bytes.Equal(got, data[7:]) {
			t.Errorf("read after seek: %d bytes, err %v", len(got), err)
		}
	})
	t.Run("AbortLeavesNothing", func(t *testing.T) {
		s := newStore(t)
		w, err := s.Create(ctx)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("half an upload"))
		if err := w.Abort(); err != nil {
			t.Fatal(err)
		}
		if keys := walk(t, s, ""); len(keys) != 0 {
			t.Errorf("keys after abort = %v", keys)
		}
		if c, ok := s.(storage.Cleaner); ok {
			if n, err := c.CleanStaging(); err != nil || n != 0 {
				t.Errorf("staging after abort: %d entries, err %v", n, err)
			}
		}
	})
	t.Run("UncommittedInvisible", func(t *testing.T) {
		s := newStore(t)
		w, _ := s.Create(ctx)
		w.Write([]byte("x"))
		defer w.Abort()
		if keys := walk(t, s, ""); len(keys) != 0 {
			t.Errorf("staged object visible: %v", keys)
		}
	})
	t.Run("ReplaceDerived", func(t *testing.T) {
		s := newStore(t)
		key := derivedKey(t, "01abcdefgh", "thumb.jpg")
		put(t, s, key, []byte("old"))
		put(t, s, key, []byte("new"))
		if got := read(t, s, key); string(got) != "new" {
			t.Errorf("after replace: %q", got)
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		s := newStore(t)
		key := blobKey(t, []byte("absent"))
		if _, err := s.Open(ctx, key); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Open = %v, want ErrNotFound", err)
		}
		if _, err := s.Stat(ctx, key); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Stat = %v, want ErrNotFound", err)
		}
		if err := s.Delete(ctx, key); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Delete = %v, want ErrNotFound", err)
		}
	})
	t.Run("BadKeys", func(t *testing.T) {
		s := newStore(t)
		for _, key := range []string{"../etc/passwd", "blobs/sha256/zz", "derived/x/../../y", "derived/01abcdefgh/.."} {
			if _, err := s.Open(ctx, key); !errors.Is(err, storage.ErrBadKey) {
				t.Errorf("Open(%q) = %v, want ErrBadKey", key, err)
			}
		}
	})
	t.Run("WalkAndDelete", func(t *testing.T) {
		s := newStore(t)
		a := blobKey(t, []byte("a"))
		b := derivedKey(t, "01abcdefgh", "preview.jpg")
		put(t, s, a, []byte("a"))
		put(t, s, b, []byte("b"))
		if got := walk(t, s, ""); len(got) != 2 {
			t.Errorf("walk all = %v", got)
		}
		if got := walk(t, s, "blobs/"); len(got) != 1 || got[0] != a {
			t.Errorf("walk blobs/ = %v", got)
		}
		if err := s.Delete(ctx, a); err != nil {
			t.Fatal(err)
		}
		if got := walk(t, s, "blobs/"); len(got) != 0 {
			t.Errorf("after delete = %v", got)
		}
	})
}

func blobKey(t *testing.T, data []byte) string {
	t.Helper()
	h := sha256.Sum256(data)
	key, err := storage.BlobKey(hex.EncodeToString(h[:]))
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func derivedKey(t *testing.T, asset, name string) string {
	t.Helper()
	key, err := storage.DerivedKey(asset, name)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func put(t *testing.T, s storage.Store, key string, data []byte) {
	t.Helper()
	w, err := s.Create(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(key); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, s storage.Store, key string) []byte {
	t.Helper()
	obj, err := s.Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	b, err := io.ReadAll(obj)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func walk(t *testing.T, s storage.Store, prefix string) []string {
	t.Helper()
	var keys []string
	if err := s.Walk(context.Background(), prefix, func(k string) error { keys = append(keys, k); return nil }); err != nil {
		t.Fatal(err)
	}
	sort.Strings(keys)
	return keys
}
