//go:build !linux

package catalog

// lowerThreadPriority does nothing where threads can't be given their own
// nice value; the gate still bounds how many goroutines do bulk work.
func lowerThreadPriority() {}
