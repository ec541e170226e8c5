package catalog

import "syscall"

// bulkNice is the priority of the bulk threads: at nice 10 a thread gets
// about a tenth of a processor that a nice-0 thread also wants.
const bulkNice = 10

// lowerThreadPriority sets the calling thread's nice value (on Linux,
// setpriority with a thread id applies to that thread alone). Raising it
// needs no privilege; should it fail, the thread just keeps its priority.
func lowerThreadPriority() {
	syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), bulkNice)
}
