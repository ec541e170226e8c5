//go:build soak

package main

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The search latency of the load soak is timed from a process of its own.
//
// The load itself (fifty uploads generated, hashed, re-downloaded and
// hashed again) keeps the test process's processors busy, and a search
// timed from there waits for its own process's scheduler as much as for
// the server: that measured the load generator. People searching during a
// burst of uploads sit at other computers; a separate process, mostly
// asleep, is the closer stand-in on one machine.

// searchProbe is a child process issuing searches at a fixed rate.
type searchProbe struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   string
}

// startSearchProbe runs this test binary again as TestSoakSearchProbe.
func startSearchProbe(t *testing.T, a *api, perSec int) *searchProbe {
	t.Helper()
	out := fmt.Sprintf("%s/probe-%d.txt", t.TempDir(), time.Now().UnixNano())
	cmd := exec.Command(os.Args[0], "-test.run=^TestSoakSearchProbe$", "-test.count=1")
	cmd.Env = append(os.Environ(), "ACERVO_SOAK_PROBE_OUT="+out, "ACERVO_SOAK_PROBE_BASE="+a.base,
		"ACERVO_SOAK_PROBE_TOKEN="+a.token, "ACERVO_SOAK_PROBE_RATE="+strconv.Itoa(perSec))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return &searchProbe{cmd: cmd, stdin: stdin, out: out}
}

// Stop ends the probe and returns its latencies, errors and first error.
func (p *searchProbe) Stop(t *testing.T) (lat []time.Duration, errs int, firstErr string) {
	t.Helper()
	p.stdin.Close()
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("search probe: %v", err)
	}
	f, err := os.Open(p.out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "error "):
			errs++
			if firstErr == "" {
				firstErr = strings.TrimPrefix(line, "error ")
			}
		default:
			us, err := strconv.ParseInt(line, 10, 64)
			if err != nil {
				t.Fatalf("search probe output %q", line)
			}
			lat = append(lat, time.Duration(us)*time.Microsecond)
		}
	}
	return lat, errs, firstErr
}

// TestSoakSearchProbe is the probe's body, not a test of its own: it
// searches at ACERVO_SOAK_PROBE_RATE per second until its stdin closes,
// then writes one line per search (microseconds, or "error …").
func TestSoakSearchProbe(t *testing.T) {
	out := os.Getenv("ACERVO_SOAK_PROBE_OUT")
	if out == "" {
		t.Skip("run by TestSoakLoad in a process of its own")
	}
	rate, _ := strconv.Atoi(os.Getenv("ACERVO_SOAK_PROBE_RATE"))
	a := &api{base: os.Getenv("ACERVO_SOAK_PROBE_BASE"), token: os.Getenv("ACERVO_SOAK_PROBE_TOKEN"), hc: benchClient(64)}
	r := rand.New(rand.NewPCG(rand.Uint64(), 0))
	var mu = make(chan struct{}, 1)
	l := startRate("searches", max(rate, 1), func() error {
		mu <- struct{}{}
		rr := rand.New(rand.NewPCG(r.Uint64(), 0))
		<-mu
		return searchOnce(a, rr)
	})
	io.Copy(io.Discard, os.Stdin) // until the parent closes it
	lat := l.Stop()
	var b strings.Builder
	for _, d := range lat {
		fmt.Fprintf(&b, "%d\n", d.Microseconds())
	}
	for range l.errs.Load() {
		fmt.Fprintf(&b, "error %v\n", l.firstErr.Load())
	}
	if err := os.WriteFile(out, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}
