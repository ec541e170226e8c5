package catalog

import (
	"io"
	"runtime"
)

// BulkGate bounds and deprioritises the processing of upload bytes
// (hashing them, writing them to staging). The server makes one of
// GOMAXPROCS-1 places, at least 1, and gives Go that many processors more
// (main.go); a nil gate bounds nothing.
//
// A burst of uploads is dozens of goroutines each ready to burn a
// processor hashing and copying, and Go's scheduler gives a search or a
// thumbnail request queued behind them a turn only every few milliseconds
// each: on two cores, fifty uploads made searches tens of times slower.
// So the work goes through a few places, and BulkGate.Go runs it on the
// gate's own OS threads at nice 10: Go's scheduler cannot rank goroutines,
// but Linux ranks threads, and a request people wait on then takes the processor from an
// upload's hashing as soon as it needs it. Uploads are bound by the disk
// more than by the processor, so this costs them little when the machine
// is busy and nothing when it is not. The gate is never held while waiting
// on the network, so a slow client cannot hold it.
type BulkGate struct {
	slots chan struct{}
	work  chan func()
	quit  chan struct{} // closed by Close
}

// NewBulkGate returns a gate that lets n goroutines through at once, with
// n threads of its own for Go.
func NewBulkGate(n int) *BulkGate {
	n = max(1, n)
	g := &BulkGate{slots: make(chan struct{}, n), work: make(chan func()), quit: make(chan struct{})}
	for range n {
		go g.thread()
	}
	return g
}

// thread serves Go on an OS thread of its own at low priority. It stays
// locked to it: when Close ends it, the thread goes too, priority and all.
func (g *BulkGate) thread() {
	runtime.LockOSThread()
	lowerThreadPriority()
	for {
		select {
		case f := <-g.work:
			f()
		case <-g.quit:
			return
		}
	}
}

// Close stops the gate's threads; Go then runs work on the caller's.
func (g *BulkGate) Close() {
	if g != nil {
		close(g.quit)
	}
}

// Go hands f to one of the gate's threads, to run holding a place,
// waiting only for a thread to take it, and returns a channel that receives what f panicked with (nil when
// it returned) once it is done; the caller works on meanwhile. With a nil
// gate, f runs before Go returns.
func (g *BulkGate) Go(f func()) <-chan any {
	done := make(chan any, 1)
	task := func() {
		g.Enter()
		defer g.Leave()
		defer func() { done <- recover() }()
		f()
	}
	if g == nil {
		task()
		return done
	}
	select {
	case g.work <- task:
	case <-g.quit:
		task()
	}
	return done
}

// Enter waits for a place, for callers that must do the work on their own
// goroutine (see Reader).
func (g *BulkGate) Enter() {
	if g != nil {
		g.slots <- struct{}{}
	}
}

// Leave gives the place back.
func (g *BulkGate) Leave() {
	if g != nil {
		<-g.slots
	}
}

// Reader returns r gated for a caller that copies it itself (tusd): the
// gate is held while the caller processes what Read returned, from the end
// of one Read to the start of the next, or to Done. Reading from the
// network happens outside it. Done must be called once the copying is
// over, by the goroutine that reads. The caller's goroutine does the work,
// at normal priority: only the place is bounded.
func (g *BulkGate) Reader(r io.Reader) *GatedReader { return &GatedReader{r: r, g: g} }

// GatedReader is what BulkGate.Reader returns.
type GatedReader struct {
	r    io.Reader
	g    *BulkGate
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
