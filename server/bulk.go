package server

import (
	"io"
	"runtime"
	"sync"
)

// bulkGate bounds how many goroutines move upload bytes (hash them, write
// them to staging) at the same moment: GOMAXPROCS-1, at least one.
//
// A burst of uploads is dozens of goroutines each ready to burn a
// processor on hashing and copying, and Go's scheduler gives a search or a
// thumbnail request waiting behind them a turn only every few
// milliseconds each: on a two-core machine fifty uploads made searches
// fifty times slower. Uploads are bound by the disk, not by the
// processor, so queueing their processing costs them nothing measurable,
// and it keeps a processor free for the requests people are waiting on.
// The gate is never held while waiting on the network, so a slow client
// cannot hold it.
type bulkGate chan struct{}

func newBulkGate() bulkGate { return make(bulkGate, max(1, runtime.GOMAXPROCS(0)-1)) }

func (g bulkGate) enter() { g <- struct{}{} }
func (g bulkGate) leave() { <-g }

// gatedReader holds the gate while its caller processes what Read
// returned: from the end of one Read to the start of the next (or Done).
// Reads from the network happen outside it. For bodies handed to code that
// copies them itself (tusd).
type gatedReader struct {
	r    io.Reader
	g    bulkGate
	mu   sync.Mutex // Done may come from another goroutine than Read
	held bool
}

func (g bulkGate) reader(r io.Reader) *gatedReader { return &gatedReader{r: r, g: g} }

func (r *gatedReader) Read(p []byte) (int, error) {
	r.Done()
	n, err := r.r.Read(p)
	if n > 0 {
		r.g.enter()
		r.mu.Lock()
		r.held = true
		r.mu.Unlock()
	}
	return n, err
}

// Done releases the gate if held. Call it when the copying is over.
func (r *gatedReader) Done() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.held {
		r.held = false
		r.g.leave()
	}
}
