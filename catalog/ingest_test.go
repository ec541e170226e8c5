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

// gates are the two ways copyPipelined runs: on the caller's goroutine
// (no gate) and on a gate's threads, overlapping reads and writes.
func gates(t *testing.T) map[string]*BulkGate {
	g := NewBulkGate(1)
	t.Cleanup(g.Close)
	return map[string]*BulkGate{"no gate": nil, "gate": g}
}

// TestCopyPipelined: the copy writes exactly the bytes it read, in order,
// whatever the sizes of the source's reads.
func TestCopyPipelined(t *testing.T) {
	for name, g := range gates(t) {
		for _, size := range []int{0, 1, 511, chunk - 1, chunk, 3*chunk + 12345} {
			src := make([]byte, size)
			for i := range src {
				src[i] = byte(rand.Uint32())
			}
			var dst bytes.Buffer
			h := sha256.New()
			n, err := copyPipelined(g, io.MultiWriter(&dst, h), iotest.HalfReader(bytes.NewReader(src)))
			if err != nil {
				t.Fatalf("%s, size %d: %v", name, size, err)
			}
			want := sha256.Sum256(src)
			if n != int64(size) || !bytes.Equal(dst.Bytes(), src) || !bytes.Equal(h.Sum(nil), want[:]) {
				t.Errorf("%s, size %d: copied %d bytes, equal %v, hash equal %v", name, size, n, bytes.Equal(dst.Bytes(), src), bytes.Equal(h.Sum(nil), want[:]))
			}
		}
	}
}

// TestCopyPipelinedErrors: a body cut short is an error, not a short
// file, and a failed write stops the copy without reading the rest.
func TestCopyPipelinedErrors(t *testing.T) {
	for name, g := range gates(t) {
		cut := io.MultiReader(bytes.NewReader(make([]byte, 5*chunk/2)), iotest.ErrReader(io.ErrUnexpectedEOF))
		if _, err := copyPipelined(g, io.Discard, cut); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%s, cut body: err %v, want io.ErrUnexpectedEOF", name, err)
		}

		full := errors.New("disk full")
		w := &failAfter{left: 2 * chunk, err: full}
		src := &countingReader{left: 1 << 30}
		_, err := copyPipelined(g, w, src)
		if !errors.Is(err, full) {
			t.Errorf("%s, failed write: err %v, want %v", name, err, full)
		}
		if read := 1<<30 - src.left; read > 3*chunk {
			t.Errorf("%s: read %d bytes after the write failed at %d", name, read, 2*chunk)
		}
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
