package transcode

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

// stderrTailBytes bounds how much of a program's stderr is kept for error
// messages: enough for the last lines of a decoder's complaint, never a
// megabyte of warnings.
const stderrTailBytes = 4096

// command is one run of an external program by runCommand.
type command struct {
	Path   string    // the program; looked up in PATH when it has no slash
	Args   []string  // arguments after the program name
	Env    []string  // environment; nil means the parent's
	Stdin  io.Reader // nil means /dev/null
	Stdout io.Writer // nil means discarded
	// GoProgram drops Go stack dumps from the kept stderr, keeping the
	// "panic:" or "fatal error:" line: a runtime crash prints every
	// goroutine even with GOTRACEBACK=none, and an admin wants the cause.
	GoProgram bool
	// MemoryLimit, when positive, caps the process's address space
	// (RLIMIT_AS) right after it starts, before it has read its input:
	// a hostile file can exhaust the child's memory, never the server's.
	MemoryLimit int64
}

// runError is a run that did not end with exit status 0.
type runError struct {
	Program  string
	ExitCode int            // -1 when the program did not exit on its own
	Signal   syscall.Signal // the signal that ended it, 0 if none
	TimedOut bool           // the context ended first and the process group was killed
	Stderr   string         // bounded tail of its stderr, trimmed
	Err      error          // the underlying error from os/exec or the context
}

func (e *runError) Error() string {
	var b strings.Builder
	b.WriteString(filepath.Base(e.Program))
	switch {
	case e.TimedOut:
		fmt.Fprintf(&b, ": killed: %v", e.Err)
	case e.Signal != 0:
		fmt.Fprintf(&b, ": killed by signal %d (%v)", int(e.Signal), e.Signal)
		if e.Signal == syscall.SIGKILL {
			b.WriteString(", perhaps out of memory")
		}
	case e.ExitCode >= 0:
		fmt.Fprintf(&b, ": exit status %d", e.ExitCode)
	default:
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if e.Stderr != "" {
		fmt.Fprintf(&b, "; stderr: %s", e.Stderr)
	}
	return b.String()
}

func (e *runError) Unwrap() error { return e.Err }

// jobNice is the priority of the job pool's children (ffmpeg, the photo
// child, pdftoppm, tesseract…): that of the upload threads
// (catalog.BulkGate), below the server's requests, because renditions can
// wait a moment while a search or a page cannot. Alone on the machine
// they run at full speed all the same.
const jobNice = 10

type backgroundKey struct{}

// background marks ctx as the job pool's: commands started with it run at
// jobNice. Clips and /verify run for someone waiting, at normal priority.
func background(ctx context.Context) context.Context {
	return context.WithValue(ctx, backgroundKey{}, true)
}

// runCommand runs c to completion in its own process group. When ctx ends
// first, the whole group is killed with SIGKILL (so grandchildren die too) and
// the error reports TimedOut. The process also gets SIGKILL if this process
// dies. Any failure is a *runError carrying the last stderrTailBytes of stderr;
// on success the stderr tail is returned for callers that inspect warnings.
func runCommand(ctx context.Context, c command) (stderr string, err error) {
	p, err := startCommand(ctx, c)
	if err != nil {
		return "", err
	}
	return p.wait()
}

// process is a command started by startCommand.
type process struct {
	ctx  context.Context
	cmd  *exec.Cmd
	tail *tailBuffer
}

// startCommand starts c as runCommand would and returns without waiting, for
// callers that must close their copy of a pipe (an *os.File Stdout) after the
// start. Call wait exactly once.
func startCommand(ctx context.Context, c command) (*process, error) {
	tail := &tailBuffer{max: stderrTailBytes}
	cmd := exec.CommandContext(ctx, c.Path, c.Args...)
	cmd.Env = c.Env
	cmd.Stdin = c.Stdin
	cmd.Stdout = c.Stdout
	cmd.Stderr = tail
	if c.GoProgram {
		cmd.Stderr = &goTraceFilter{w: tail}
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// A grandchild that outlives its parent could hold stdout open forever.
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		re := &runError{Program: c.Path, ExitCode: -1, Err: err}
		if ctx.Err() != nil {
			re.TimedOut, re.Err = true, ctx.Err()
		}
		return nil, re
	}
	if ctx.Value(backgroundKey{}) != nil {
		// The whole group, every thread of every process in it (Linux);
		// threads and children made later inherit it. Best effort: a
		// job at normal priority is only slower for others.
		syscall.Setpriority(syscall.PRIO_PGRP, cmd.Process.Pid, jobNice)
	}
	if c.MemoryLimit > 0 {
		lim := &unix.Rlimit{Cur: uint64(c.MemoryLimit), Max: uint64(c.MemoryLimit)}
		if err := unix.Prlimit(cmd.Process.Pid, unix.RLIMIT_AS, lim, nil); err != nil {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			cmd.Wait()
			return nil, &runError{Program: c.Path, ExitCode: -1, Err: fmt.Errorf("set memory limit: %w", err)}
		}
	}
	return &process{ctx: ctx, cmd: cmd, tail: tail}, nil
}

// wait waits for the process to end; see runCommand for the results.
func (p *process) wait() (stderr string, err error) {
	err = p.cmd.Wait()
	stderr = p.tail.String()
	if err == nil {
		return stderr, nil
	}
	re := &runError{Program: p.cmd.Path, ExitCode: -1, Stderr: stderr, Err: err}
	if p.ctx.Err() != nil {
		re.TimedOut = true
		re.Err = p.ctx.Err()
		return stderr, re
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			re.Signal = ws.Signal()
		} else {
			re.ExitCode = ee.ExitCode()
		}
	}
	return stderr, re
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu        sync.Mutex
	max       int
	buf       []byte
	truncated bool
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(p)
	if len(p) >= t.max {
		t.truncated = t.truncated || len(t.buf) > 0 || len(p) > t.max
		t.buf = append(t.buf[:0], p[len(p)-t.max:]...)
		return n, nil
	}
	if over := len(t.buf) + len(p) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
		t.truncated = true
	}
	t.buf = append(t.buf, p...)
	return n, nil
}

// String returns the tail as trimmed, valid UTF-8, prefixed with "…" when
// earlier output was dropped.
func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := strings.ToValidUTF8(string(t.buf), "\uFFFD")
	if t.truncated {
		// Drop a partial first line or rune; the reader wants whole lines.
		if i := strings.IndexByte(s, '\n'); i >= 0 && i < len(s)-1 {
			s = s[i+1:]
		}
		for len(s) > 0 && !utf8.RuneStart(s[0]) {
			s = s[1:]
		}
		s = "…" + s
	}
	return strings.TrimSpace(s)
}

// boundedBuffer collects up to max bytes and reports whether more arrived.
type boundedBuffer struct {
	max      int
	buf      []byte
	overflow bool
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	if room := b.max - len(b.buf); len(p) > room {
		b.buf = append(b.buf, p[:max(room, 0)]...)
		b.overflow = true
		return len(p), nil
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

// goTraceFilter passes lines to w, except the stack traces of a Go crash:
// from a line starting "goroutine " or "runtime stack:" up to the next
// "panic:" or "fatal error:" line.
type goTraceFilter struct {
	w       io.Writer
	partial []byte
	inTrace bool
}

func (f *goTraceFilter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if len(f.partial) < 4096 {
				f.partial = append(f.partial, p...)
			}
			break
		}
		line := append(f.partial, p[:i+1]...)
		f.partial = f.partial[:0]
		p = p[i+1:]
		switch {
		case bytes.HasPrefix(line, []byte("panic:")) || bytes.HasPrefix(line, []byte("fatal error:")):
			f.inTrace = false
		case bytes.HasPrefix(line, []byte("goroutine ")) || bytes.HasPrefix(line, []byte("runtime stack:")):
			if !f.inTrace {
				f.w.Write([]byte("[Go stack trace omitted]\n"))
			}
			f.inTrace = true
		}
		if !f.inTrace {
			f.w.Write(line)
		}
	}
	return n, nil
}
