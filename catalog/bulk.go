package catalog

import (
	"io"
)

// BulkGate bounds how many goroutines process upload bytes (hash them,
// write them to staging) at the same moment. The server makes one of
// GOMAXPROCS-1, at least 1; a nil gate bounds nothing.
//
// A burst of uploads is dozens of goroutines each ready to burn a
// processor hashing and copying, and Go's scheduler gives a search or a
// thumbnail request queued behind them a turn only every few
// milliseconds each: on two cores, fifty uploads made searches tens of
// times slower. Uploads are bound by the disk more than by the processor,
// so queueing their processing costs them little, and it keeps a
// processor free for the requests people are waiting on. The gate is
// never held while waiting on the network, so a slow client cannot hold
// it.
type BulkGate chan struct{}

// NewBulkGate returns a gate that lets n goroutines through at once.
func NewBulkGate(n int) BulkGate { return make(BulkGate, max(1, n)) }

// Enter waits for a place.
func (g BulkGate) Enter() {
	if g != nil {
		g <- struct{}{}
	}
}

// Leave gives the place back.
func (g BulkGate) Leave() {
	if g != nil {
		<-g
	}
}

// Reader returns r gated for a caller that copies it itself (tusd): the
// gate is held while the caller processes what Read returned, from the end
// of one Read to the start of the next, or to Done. Reading from the
// network happens outside it. Done must be called once the copying is
// over, by the goroutine that reads.
func (g BulkGate) Reader(r io.Reader) *GatedReader { return &GatedReader{r: r, g: g} }

// GatedReader is what BulkGate.Reader returns.
type GatedReader struct {
	r    io.Reader
	g    BulkGate
	held bool
}

func (r *GatedReader) Read(p []byte) (int, error) {
	r.Done()
	n, err := r.r.Read(p)
	if n > 0 {
		r.g.Enter()
		r.held = true
	}
	return n, err
}

// Done gives the gate back if held.
func (r *GatedReader) Done() {
	if r.held {
		r.held = false
		r.g.Leave()
	}
}
