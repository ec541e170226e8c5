package catalog

import (
	"strings"
	"syscall"
	"testing"
)

// Do's work runs at nice 10 on the gate's thread; the caller's thread
// keeps its own priority; a panic in the work reaches the caller.
func TestBulkGateDoRunsAtLowPriority(t *testing.T) {
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
	g.Do(func() { inside = nice() })
	if inside != bulkNice {
		t.Fatalf("work ran at nice %d, want %d", inside, bulkNice)
	}
	if n := nice(); n >= bulkNice {
		t.Fatalf("the caller's thread is at nice %d", n)
	}
	defer func() {
		if p := recover(); p == nil || !strings.Contains(p.(string), "estropeado") {
			t.Fatalf("recovered %v, want the work's panic", p)
		}
		g.Do(func() {}) // the gate's place was given back
	}()
	g.Do(func() { panic("estropeado") })
}
