// Package storage defines where Acervo keeps bytes: originals, addressed by
// their SHA-256, and the renditions derived from them, addressed by asset and
// name. The interface is small on purpose so that an S3-compatible backend can
// slot in beside the local disk one without touching handlers or workers.
package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// ErrNotFound is returned by Open, Stat and Delete when no object has the key.
var ErrNotFound = errors.New("storage: not found")

// ErrNoSpace is returned by Writer.Write and Commit when the backend has
// no room left for the bytes (a full disk or quota). The staged bytes are
// the caller's to Abort, as after any error.
var ErrNoSpace = errors.New("storage: no space left")

// ErrBadKey is returned when a key is not one of the shapes made by BlobKey or
// DerivedKey. Keys never come from users unchecked.
var ErrBadKey = errors.New("storage: bad key")

// Store keeps immutable objects under keys. Writes are staged and become
// visible, durably, only on Commit. Implementations are safe for concurrent use.
type Store interface {
	// Create starts a new staged object. The caller must call exactly one of
	// Commit or Abort on the returned Writer.
	Create(ctx context.Context) (Writer, error)
	// Open returns the object for reading. The caller closes it.
	Open(ctx context.Context, key string) (Object, error)
	// Stat returns the object's size and modification time.
	Stat(ctx context.Context, key string) (Info, error)
	// Delete removes the object; a missing object is ErrNotFound.
	Delete(ctx context.Context, key string) error
	// Walk calls fn for every committed key that starts with prefix, in no
	// particular order. It stops at the first error fn returns.
	Walk(ctx context.Context, prefix string, fn func(key string) error) error
}

// Writer stages one object. Bytes written are not visible until Commit.
type Writer interface {
	io.Writer
	// Commit makes the staged bytes durable under key, replacing any object
	// already there, and returns only once they would survive a crash.
	Commit(key string) error
	// Abort discards the staged bytes. It is safe after Commit (a no-op).
	Abort() error
}

// Object is a committed object opened for reading; Seek makes Range
// requests cheap.
type Object interface {
	io.ReadSeekCloser
	Info() Info
}

// Info describes a committed object.
type Info struct {
	Size    int64
	ModTime time.Time
}

// Cleaner is an optional ability: backends that stage bytes on disk remove
// staging left behind by a crash. Called once at start, before any Create.
type Cleaner interface {
	CleanStaging() (removed int, err error)
}

// SpaceReporter is an optional ability: backends with a finite local disk
// say how many bytes can still be written, so uploads that cannot fit are
// refused before their body is read.
type SpaceReporter interface {
	FreeBytes() (int64, error)
}

// Linker is an optional ability: backends on the local file system stage a
// file that already lies on their disk (a finished resumable upload) by
// linking it rather than copying its bytes, so a 4 GB upload is written once.
type Linker interface {
	// Link stages the file at path and leaves path as it is; the file must
	// not change afterwards. The Writer takes no writes: its Commit makes
	// the bytes durable under key, its Abort drops the staged link. It
	// returns ErrNotLinkable when the file is on another file system or
	// this one has no hard links: copy the bytes then.
	Link(ctx context.Context, path string) (Writer, error)
}

// ErrNotLinkable is returned by Linker.Link when the file cannot be linked.
var ErrNotLinkable = errors.New("storage: cannot link the file into the store")

// OSFiler is an optional ability of an Object kept in a local file: the
// open file itself, so the server can copy it to the socket with
// sendfile(2), which net/http does only for an *os.File. The Object still
// owns it: close the Object, not the file.
type OSFiler interface {
	OSFile() *os.File
}

// LocalPather is an optional ability: backends on the local file system give
// the path of an object so child processes (ffmpeg, djpeg) can read it
// directly instead of through a pipe.
type LocalPather interface {
	LocalPath(key string) (string, error)
}

// The shapes of keys' parts, checked by hand rather than with regular
// expressions because every file served checks them (twice: the handler
// builds the key, the store validates it). storage_test.go holds them to
// the expressions they replace: hexSum ^[0-9a-f]{64}$, assetID
// ^[0-9a-z]{8,40}$, renditionName ^[a-z0-9][a-z0-9_.-]{0,63}$.

func hexSum(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func assetID(s string) bool {
	if len(s) < 8 || len(s) > 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}

func renditionName(s string) bool {
	if len(s) < 1 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if '0' <= c && c <= '9' || 'a' <= c && c <= 'z' {
			continue
		}
		if i > 0 && (c == '_' || c == '.' || c == '-') {
			continue
		}
		return false
	}
	return true
}

// BlobKey is the key of an original: its SHA-256 in lower-case hex, fanned
// out so no directory grows past 65,536 entries. Originals carry no name or
// extension (DESIGN.md invariant 4).
func BlobKey(sha256hex string) (string, error) {
	if !hexSum(sha256hex) {
		return "", fmt.Errorf("%w: sha256 %q", ErrBadKey, sha256hex)
	}
	return "blobs/sha256/" + sha256hex[0:2] + "/" + sha256hex[2:4] + "/" + sha256hex, nil
}

// DerivedKey is the key of a rendition of an asset, e.g. derived/<id>/thumb.jpg.
func DerivedKey(asset, name string) (string, error) {
	if !assetID(asset) || !renditionName(name) || name == "." || name == ".." {
		return "", fmt.Errorf("%w: rendition %q of %q", ErrBadKey, name, asset)
	}
	return "derived/" + asset + "/" + name, nil
}

// ValidKey reports whether key has one of the shapes BlobKey or DerivedKey make.
func ValidKey(key string) bool {
	if len(key) == len("blobs/sha256/ab/cd/")+64 && key[:13] == "blobs/sha256/" {
		sum := key[len(key)-64:]
		k, err := BlobKey(sum)
		return err == nil && k == key
	}
	if len(key) > 8 && key[:8] == "derived/" {
		rest := key[8:]
		for i := 0; i < len(rest); i++ {
			if rest[i] == '/' {
				k, err := DerivedKey(rest[:i], rest[i+1:])
				return err == nil && k == key
			}
		}
	}
	return false
}
