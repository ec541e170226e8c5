package catalog

import (
	"errors"
	"hash"
	"io"
	"sync"
)

// Buffers of the staging pipeline: enough in flight that the socket, the
// hash and the disk each have one to work on, small enough that fifty
// concurrent uploads stay within the server's memory budget.
const (
	stageBufSize = 1 << 20
	stageBufs    = 4
)

var stageBufPool = sync.Pool{New: func() any { return new([stageBufSize]byte) }}

// stageCopy copies src to w while hashing it into h, in three stages on
// their own goroutines: reading, hashing and writing each get a buffer
// while the others work on theirs. One goroutine doing all three left the
// socket unread while it hashed and wrote, so the client stalled; SHA-256
// and the copy into the page cache are each about a quarter of an
// upload's CPU. Every buffer is filled before it moves on (a multipart
// part yields about 4 KB per Read), so writes and hashes are 1 MB at a
// time. It returns the bytes read; on a read error or a write error
// nothing more is written and the first error is returned. Unlike
// io.ReadFull, a source's own io.ErrUnexpectedEOF (a body cut short) is
// an error, a clean EOF is not.
func stageCopy(w io.Writer, h hash.Hash, src io.Reader) (int64, error) {
	free := make(chan *[stageBufSize]byte, stageBufs)
	for range stageBufs {
		free <- stageBufPool.Get().(*[stageBufSize]byte)
	}
	type chunk struct {
		buf *[stageBufSize]byte
		n   int
	}
	toHash := make(chan chunk, stageBufs)
	toWrite := make(chan chunk, stageBufs)
	var werr error
	writeFailed := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(toWrite)
		for c := range toHash {
			h.Write(c.buf[:c.n])
			toWrite <- c
		}
	})
	wg.Go(func() {
		for c := range toWrite {
			if werr == nil {
				if _, err := w.Write(c.buf[:c.n]); err != nil {
					werr = err
					close(writeFailed)
				}
			}
			free <- c.buf
		}
	})

	var total int64
	var rerr error
read:
	for rerr == nil {
		var buf *[stageBufSize]byte
		select {
		case buf = <-free:
		case <-writeFailed:
			break read
		}
		n := 0
		for n < len(buf) && rerr == nil {
			var m int
			m, rerr = src.Read(buf[n:])
			n += m
		}
		total += int64(n)
		if n == 0 {
			free <- buf
			continue
		}
		toHash <- chunk{buf, n}
	}
	close(toHash)
	wg.Wait()
	close(free)
	for buf := range free {
		stageBufPool.Put(buf)
	}
	switch {
	case werr != nil:
		return total, werr
	case errors.Is(rerr, io.EOF):
		return total, nil
	default:
		return total, rerr
	}
}
