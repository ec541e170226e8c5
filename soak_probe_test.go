//go:build soak

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
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

// startProbe runs this test binary again as TestSoakProbe: searches per
// second, and thumbRate requests per second cycling through thumbs.
func startProbe(t *testing.T, a *api, searchRate, thumbRate int, thumbs []string) *probe {
	t.Helper()
	out := fmt.Sprintf("%s/probe-%d.json", t.TempDir(), time.Now().UnixNano())
	cmd := exec.Command(os.Args[0], "-test.run=^TestSoakProbe$", "-test.count=1")
	cmd.Env = append(os.Environ(), "ACERVO_SOAK_PROBE_OUT="+out, "ACERVO_SOAK_PROBE_BASE="+a.base,
		"ACERVO_SOAK_PROBE_TOKEN="+a.token, "ACERVO_SOAK_PROBE_SEARCHES="+strconv.Itoa(searchRate),
		"ACERVO_SOAK_PROBE_THUMBS="+strconv.Itoa(thumbRate), "ACERVO_SOAK_PROBE_THUMB_PATHS="+strings.Join(thumbs, "\n"))
	cmd.Stderr = os.Stderr
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
	b, err := os.ReadFile(p.out)
	if err == nil {
		err = json.Unmarshal(b, &r)
	}
	if err != nil {
		t.Fatalf("probe output: %v", err)
	}
	return r
}

// TestSoakProbe is the probe's body, not a test of its own: it requests
// at the rates it is given until its stdin closes, then writes its
// probeResult.
func TestSoakProbe(t *testing.T) {
	out := os.Getenv("ACERVO_SOAK_PROBE_OUT")
	if out == "" {
		t.Skip("run by TestSoakLoad in a process of its own")
	}
	searches, _ := strconv.Atoi(os.Getenv("ACERVO_SOAK_PROBE_SEARCHES"))
	thumbRate, _ := strconv.Atoi(os.Getenv("ACERVO_SOAK_PROBE_THUMBS"))
	thumbs := strings.Split(os.Getenv("ACERVO_SOAK_PROBE_THUMB_PATHS"), "\n")
	a := &api{base: os.Getenv("ACERVO_SOAK_PROBE_BASE"), token: os.Getenv("ACERVO_SOAK_PROBE_TOKEN"), hc: benchClient(256)}

	var loads []*rateLoad
	var se, th *rateLoad
	if searches > 0 {
		var mu sync.Mutex
		r := rand.New(rand.NewPCG(rand.Uint64(), 0))
		se = startRate("searches", searches, func() error {
			mu.Lock()
			rr := rand.New(rand.NewPCG(r.Uint64(), 0))
			mu.Unlock()
			return searchOnce(a, rr)
		})
		loads = append(loads, se)
	}
	if thumbRate > 0 && thumbs[0] != "" {
		var n sync.Mutex
		i := 0
		th = startRate("thumbnails", thumbRate, func() error {
			n.Lock()
			p := thumbs[i%len(thumbs)]
			i++
			n.Unlock()
			return getOK(a, p)
		})
		loads = append(loads, th)
	}
	io.Copy(io.Discard, os.Stdin) // until the parent closes it
	var res probeResult
	for _, l := range loads {
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
	b, err := json.Marshal(res)
	if err == nil {
		err = os.WriteFile(out, b, 0o600)
	}
	if err != nil {
		t.Fatal(err)
	}
}
