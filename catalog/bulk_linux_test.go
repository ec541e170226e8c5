package catalog

import (
	"syscall"
	"testing"
)

// Go's work runs at nice 10 on the gate's thread; the caller's thread
// keeps its own priority; a panic in the work comes back on Go's channel.
func TestBulkGateGoRunsAtLowPriority(t *testing.T) {
	g := NewBulkGate(1)
	defer g.Close()
	nice := func() int {
		// The raw system call answers 20 - nice.
		p, err := syscall.Getpriority(syscall.PRIO_PROCESS, syscall.Gettid())
		if err != nil {
			t.Fatal(err)
		}
		return 20 - p
	}
	var inside int
	<-g.Go(func() { inside = nice() })
	if inside != bulkNice {
		t.Fatalf("work ran at nice %d, want %d", inside, bulkNice)
	}
	if n := nice(); n >= bulkNice {
		t.Fatalf("the caller's thread is at nice %d", n)
	}
	if p := <-g.Go(func() { panic("estropeado") }); p != "estropeado" {
		t.Fatalf("the work's panic reached the caller as %v", p)
	}
	<-g.Go(func() {}) // the gate's place was given back
}
