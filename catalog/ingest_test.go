package catalog

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
)

const chunk = 1 << 20

// TestCopyChunked: the copy writes exactly the bytes it read, in order,
// whatever the sizes of the source's reads, in writes of a whole buffer.
func TestCopyChunked(t *testing.T) {
	for _, size := range []int{0, 1, 511, chunk - 1, chunk, 3*chunk + 12345} {
		src := make([]byte, size)
		for i := range src {
			src[i] = byte(rand.Uint32())
		}
		var dst bytes.Buffer
		h := sha256.New()
		n, err := copyChunked(io.MultiWriter(&dst, h), iotest.HalfReader(bytes.NewReader(src)), make([]byte, chunk))
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		want := sha256.Sum256(src)
		if n != int64(size) || !bytes.Equal(dst.Bytes(), src) || !bytes.Equal(h.Sum(nil), want[:]) {
			t.Errorf("size %d: copied %d bytes, equal %v, hash equal %v", size, n, bytes.Equal(dst.Bytes(), src), bytes.Equal(h.Sum(nil), want[:]))
		}
	}
}

// TestCopyChunkedErrors: a body cut short is an error, not a short file,
// and a failed write stops the copy without reading the rest.
func TestCopyChunkedErrors(t *testing.T) {
	cut := io.MultiReader(bytes.NewReader(make([]byte, 5*chunk/2)), iotest.ErrReader(io.ErrUnexpectedEOF))
	if _, err := copyChunked(io.Discard, cut, make([]byte, chunk)); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("cut body: err %v, want io.ErrUnexpectedEOF", err)
	}

	full := errors.New("disk full")
	w := &failAfter{left: 2 * chunk, err: full}
	src := &countingReader{left: 1 << 30}
	_, err := copyChunked(w, src, make([]byte, chunk))
	if !errors.Is(err, full) {
		t.Errorf("failed write: err %v, want %v", err, full)
	}
	if read := 1<<30 - src.left; read > 3*chunk {
		t.Errorf("read %d bytes after the write failed at %d", read, 2*chunk)
	}
}

type failAfter struct {
	left int
	err  error
}

func (w *failAfter) Write(p []byte) (int, error) {
	if len(p) > w.left {
		return 0, w.err
	}
	w.left -= len(p)
	return len(p), nil
}

type countingReader struct{ left int }

func (r *countingReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	n := min(len(p), r.left)
	r.left -= n
	return n, nil
}
