package transcode

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ExifToolConfig configures an ExifTool.
type ExifToolConfig struct {
	// Path is the exiftool program. Default "exiftool" (looked up in PATH).
	Path string
	// Timeout bounds the reading of one file; past it the process is killed
	// and restarted on the next call. Default 20s.
	Timeout time.Duration
}

func (c *ExifToolConfig) withDefaults() error {
	if c.Path == "" {
		c.Path = "exiftool"
	}
	if c.Timeout < 0 {
		return fmt.Errorf("transcode: ExifToolConfig.Timeout %v is negative", c.Timeout)
	}
	if c.Timeout == 0 {
		c.Timeout = 20 * time.Second
	}
	return nil
}

// exiftoolArgs are the options every read shares: JSON with numeric values
// (-n) and family-1 group prefixes ("ExifIFD:DateTimeOriginal"), UTF-8 file
// names, and files over 2 GB.
var exiftoolArgs = []string{
	"-stay_open", "True", "-@", "-",
	"-common_args", "-json", "-n", "-G1", "-charset", "filename=utf8", "-api", "largefilesupport=1",
}

// ExifTool is one long-running `exiftool -stay_open True -@ -` process that
// reads metadata, one file at a time. It is safe for concurrent use: calls
// are serialised. When a read times out or the process dies, the process
// (its whole process group) is killed, that read fails, and the next call
// starts a new process.
type ExifTool struct {
	cfg ExifToolConfig

	mu     sync.Mutex
	proc   *exiftoolProc // nil until the first read, and after a failure
	seq    int           // the number of the last -execute, to match {readyN}
	closed bool
}

type exiftoolProc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr *bufio.Reader
}

// NewExifTool checks that the program exists and returns a wrapper that
// starts it on first use. Close it when done.
func NewExifTool(cfg ExifToolConfig) (*ExifTool, error) {
	if err := cfg.withDefaults(); err != nil {
		return nil, err
	}
	if _, err := exec.LookPath(cfg.Path); err != nil {
		return nil, fmt.Errorf("transcode: exiftool: %w", err)
	}
	return &ExifTool{cfg: cfg}, nil
}

// Read returns all tags of the file at path as exiftool's JSON reports them
// with -n -G1: keys are "Group:Tag" (plus "SourceFile"), numbers are
// json.Number, lists are []any. Errors that exiftool reports about the file
// itself are not Go errors: they appear as the "ExifTool:Error" tag. The
// error is non-nil when the path is unusable (it must not contain a newline)
// or the process failed or timed out; only this call fails then.
func (e *ExifTool) Read(ctx context.Context, path string) (map[string]any, error) {
	if strings.ContainsAny(path, "\n\r") {
		return nil, fmt.Errorf("transcode: exiftool: path %q contains a newline", path)
	}
	abs, err := filepath.Abs(path) // a leading "/" keeps it from reading as an option or comment
	if err != nil {
		return nil, fmt.Errorf("transcode: exiftool: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()

	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, errors.New("transcode: exiftool: closed")
	}
	var out, stderr []byte
	for attempt := 0; ; attempt++ {
		fresh := e.proc == nil
		if fresh {
			if e.proc, err = startExifTool(e.cfg.Path); err != nil {
				return nil, err
			}
		}
		e.seq++
		out, stderr, err = e.proc.exec(ctx, e.seq, abs)
		if err == nil {
			break
		}
		e.proc.kill()
		e.proc = nil
		// A process that died while idle is not this file's fault: retry
		// once with a new one. A timeout, or a fresh process dying, is.
		if fresh || attempt > 0 || ctx.Err() != nil {
			return nil, fmt.Errorf("transcode: exiftool %s: %w", abs, err)
		}
	}
	return decodeExifOutput(abs, out, stderr)
}

// decodeExifOutput reads exiftool's answer about the file at abs: a JSON
// array of one object, numbers kept as json.Number.
func decodeExifOutput(abs string, out, stderr []byte) (map[string]any, error) {
	var tags []map[string]any
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	if len(bytes.TrimSpace(out)) == 0 {
		return nil, fmt.Errorf("transcode: exiftool %s: no metadata: %s", abs, firstLine(stderr))
	}
	if err := dec.Decode(&tags); err != nil || len(tags) != 1 {
		return nil, fmt.Errorf("transcode: exiftool %s: unexpected output (%v): %.200q", abs, err, out)
	}
	return tags[0], nil
}

// Close stops the process, waiting a moment for it to exit cleanly.
func (e *ExifTool) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	if e.proc == nil {
		return nil
	}
	p := e.proc
	e.proc = nil
	_, _ = io.WriteString(p.stdin, "-stay_open\nFalse\n")
	_ = p.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(5 * time.Second):
		p.kill()
		return errors.New("transcode: exiftool: did not exit; killed")
	}
}

func startExifTool(path string) (*exiftoolProc, error) {
	cmd := exec.Command(path, exiftoolArgs...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("transcode: start exiftool: %w", err)
	}
	return &exiftoolProc{cmd: cmd, stdin: stdin, stdout: bufio.NewReader(stdout), stderr: bufio.NewReader(stderr)}, nil
}

// exec runs one command: the file argument, then "-echo4 {readyN}" so that
// stderr is delimited like stdout, then "-execute<N>". It reads both streams
// up to their {readyN} line.
func (p *exiftoolProc) exec(ctx context.Context, n int, path string) (stdout, stderr []byte, err error) {
	ready := "{ready" + strconv.Itoa(n) + "}"
	type result struct {
		b   []byte
		err error
	}
	outc, errc := make(chan result, 1), make(chan result, 1)
	go func() { b, err := readUntil(p.stdout, ready); outc <- result{b, err} }()
	go func() { b, err := readUntil(p.stderr, ready); errc <- result{b, err} }()
	if _, err := fmt.Fprintf(p.stdin, "%s\n-echo4\n%s\n-execute%d\n", path, ready, n); err != nil {
		return nil, nil, fmt.Errorf("write command: %w", err)
	}
	var out, serr result
	for got := 0; got < 2; got++ {
		select {
		case out = <-outc:
		case serr = <-errc:
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("killed: %w", ctx.Err())
		}
	}
	if out.err != nil || serr.err != nil {
		return nil, nil, fmt.Errorf("process died: %v; stderr: %s", errors.Join(out.err, serr.err), firstLine(serr.b))
	}
	return out.b, serr.b, nil
}

// maxExifToolOutput bounds one file's JSON (a few MB covers huge maker notes).
const maxExifToolOutput = 64 << 20

// readUntil returns what r yields before the line marker, without it.
func readUntil(r *bufio.Reader, marker string) ([]byte, error) {
	var buf []byte
	for {
		line, err := r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			buf = append(buf, line...)
		} else if err != nil {
			return append(buf, line...), err
		} else if strings.TrimRight(string(line), "\r\n") == marker {
			return buf, nil
		} else {
			buf = append(buf, line...)
		}
		if len(buf) > maxExifToolOutput {
			return buf[:1024], fmt.Errorf("output over %d bytes", maxExifToolOutput)
		}
	}
}

// kill ends the process group and reaps the process; the readers blocked in
// exec see EOF and return.
func (p *exiftoolProc) kill() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	_ = p.stdin.Close()
	go func() { _ = p.cmd.Wait() }()
}

func firstLine(b []byte) string {
	s := strings.TrimSpace(strings.ToValidUTF8(string(b), "\uFFFD"))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 500 {
		s = s[:500] + "…"
	}
	return s
}
