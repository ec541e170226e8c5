//go:build soak

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The load soak runs as three processes besides the server, one per kind
// of user, so that each is timed by its own scheduler and not by another
// kind's work:
//
//   - the probe (this file): people searching and browsing thumbnails, at
//     fixed rates, timed; at normal priority, mostly asleep;
//   - the uploaders (startUploaders): fifty photographers sending big
//     files and checking them back, at nice 10: they stand in for fifty
//     other computers, whose processors are not the server's;
//   - the test itself, which starts them and samples the server's memory.
//
// When the fifty uploads ran in the test process, their generating,
// hashing and comparing took a processor of this two-core machine at the
// same priority as the server, and the search figure measured that.

// probeResult is what a probe measured.
type probeResult struct {
	Searches   []time.Duration `json:"searches"`
	Thumbs     []time.Duration `json:"thumbs"`
	SearchErrs int64           `json:"search_errors"`
	ThumbErrs  int64           `json:"thumb_errors"`
	FirstErr   string          `json:"first_error,omitempty"`
}

// probe is a child process issuing requests at fixed rates.
type probe struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   string
}

// startProbe runs TestSoakProbe in a process of its own: searches per
// second, and thumbRate requests per second cycling through thumbs.
func startProbe(t *testing.T, a *api, searchRate, thumbRate int, thumbs []string) *probe {
	t.Helper()
	cmd, out := helperProcess(t, "TestSoakProbe", nil, "ACERVO_SOAK_PROBE_BASE="+a.base,
		"ACERVO_SOAK_PROBE_TOKEN="+a.token, "ACERVO_SOAK_PROBE_SEARCHES="+strconv.Itoa(searchRate),
		"ACERVO_SOAK_PROBE_THUMBS="+strconv.Itoa(thumbRate), "ACERVO_SOAK_PROBE_THUMB_PATHS="+strings.Join(thumbs, "\n"))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return &probe{cmd: cmd, stdin: stdin, out: out}
}

// Stop ends the probe and returns what it measured.
func (p *probe) Stop(t *testing.T) probeResult {
	t.Helper()
	p.stdin.Close()
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("probe: %v", err)
	}
	var r probeResult
	readResult(t, p.out, &r)
	return r
}

// TestSoakProbe is the probe's body, run by startProbe; started by go test
// it does nothing. It requests at the rates it is given until its stdin
// closes, then writes its probeResult.
func TestSoakProbe(t *testing.T) {
	out := os.Getenv("ACERVO_SOAK_OUT")
	if out == "" {
		return // a helper process, like os/exec's TestHelperProcess
	}
	searches, _ := strconv.Atoi(os.Getenv("ACERVO_SOAK_PROBE_SEARCHES"))
	thumbRate, _ := strconv.Atoi(os.Getenv("ACERVO_SOAK_PROBE_THUMBS"))
	thumbs := strings.Split(os.Getenv("ACERVO_SOAK_PROBE_THUMB_PATHS"), "\n")
	a := &api{base: os.Getenv("ACERVO_SOAK_PROBE_BASE"), token: os.Getenv("ACERVO_SOAK_PROBE_TOKEN"), hc: benchClient(256)}

	th, se := thumbsAndSearches(a, thumbs, thumbRate, searches)
	io.Copy(io.Discard, os.Stdin) // until the parent closes it
	var res probeResult
	for _, l := range []*rateLoad{se, th} {
		if l == nil {
			continue
		}
		lat := l.Stop()
		if e := l.firstErr.Load(); e != nil && res.FirstErr == "" {
			res.FirstErr = fmt.Sprint(e)
		}
		if l == se {
			res.Searches, res.SearchErrs = lat, l.errs.Load()
		} else {
			res.Thumbs, res.ThumbErrs = lat, l.errs.Load()
		}
	}
	writeResult(t, out, res)
}

// helperProcess prepares this test binary to run again as the test named
// run, after the command prefix if any (e.g. nice -n 10), with env added
// to this process's. The child writes its result, JSON, to the returned
// path (ACERVO_SOAK_OUT): writeResult there, readResult here.
func helperProcess(t *testing.T, run string, prefix []string, env ...string) (*exec.Cmd, string) {
	t.Helper()
	out := fmt.Sprintf("%s/%s-%d.json", t.TempDir(), run, time.Now().UnixNano())
	argv := append(prefix, os.Args[0], "-test.run=^"+run+"$", "-test.count=1", "-test.timeout=0")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(append(os.Environ(), "ACERVO_SOAK_OUT="+out), env...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd, out
}

func writeResult(t *testing.T, path string, v any) {
	b, err := json.Marshal(v)
	if err == nil {
		err = os.WriteFile(path, b, 0o600)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func readResult(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		t.Fatalf("helper process output %s: %v", path, err)
	}
}
