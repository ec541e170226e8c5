package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// buildAcervo builds the real binary, the one users run, from the repo root.
func buildAcervo(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "acervo")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// serverProc is one run of `acervo serve` on the test's data folder.
type serverProc struct {
	base string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // from Wait, valid once done is closed
}

// startServer starts `acervo serve` on a free port and waits until it
// answers /healthz. The process is killed at cleanup whatever happens.
func startServer(t *testing.T, bin, data string, logs *lockedBuffer) *serverProc {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(bin, "serve", "--addr", addr, "--data", data)
	cmd.Env = append(os.Environ(), "ACERVO_ADMIN_PASSWORD="+crashAdminPass, "ACERVO_WORKERS=2")
	fmt.Fprintf(logs, "=== acervo serve --addr %s\n", addr)
	cmd.Stdout, cmd.Stderr = logs, logs
	// If the test binary itself dies, take the server with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("start acervo: %v", err)
	}
	s := &serverProc{base: "http://" + addr, cmd: cmd, done: make(chan struct{})}
	go func() { s.err = cmd.Wait(); close(s.done) }()
	t.Cleanup(s.kill)

	deadline := time.Now().Add(serverStartLimit)
	for {
		select {
		case <-s.done:
			t.Fatalf("acervo serve exited before answering: %v", s.err)
		default:
		}
		resp, err := http.Get(s.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("acervo serve did not answer /healthz within %v (last: %v)", serverStartLimit, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// state says whether the process still runs, for failures that look like
// a dead server.
func (s *serverProc) state() string {
	select {
	case <-s.done:
		return fmt.Sprintf("exited: %v (%v)", s.err, s.cmd.ProcessState)
	default:
		return "running"
	}
}

// kill sends SIGKILL and waits for the process to be gone. Safe to repeat.
func (s *serverProc) kill() {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Kill()
	<-s.done
}

// stop asks for a graceful shutdown, as systemd or Ctrl-C would, and
// expects a clean exit.
func (s *serverProc) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-s.done:
		if s.err != nil {
			t.Fatalf("acervo serve after SIGTERM: %v", s.err)
		}
	case <-time.After(45 * time.Second):
		t.Fatal("acervo serve did not exit within 45s of SIGTERM")
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// createToken logs in as admin with the session cookie and CSRF token and
// makes a bearer token, used from then on: it lives in the catalog, so it
// keeps working across kills and restarts.
func createToken(t *testing.T, hc *http.Client, base string) string {
	t.Helper()
	resp, err := hc.Post(base+"/api/v1/login", "application/json",
		strings.NewReader(`{"username":"admin","password":"`+crashAdminPass+`"}`))
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	var login struct {
		CSRF string `json:"csrf_token"`
	}
	decodeResponse(t, resp, http.StatusOK, &login)

	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/tokens", strings.NewReader(`{"name":"crash"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", login.CSRF)
	for _, ck := range resp.Cookies() {
		req.AddCookie(ck)
	}
	resp, err = hc.Do(req)
	if err != nil {
		t.Fatalf("create token: %v", err)
	}
	var tok struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	decodeResponse(t, resp, http.StatusCreated, &tok)
	if tok.Token == "" || tok.ID == "" {
		t.Fatalf("create token: got id %q, token %q", tok.ID, tok.Token)
	}
	return tok.Token
}

func decodeResponse(t *testing.T, resp *http.Response, want int, v any) {
	t.Helper()
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, want, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("%s %s: %v: %s", resp.Request.Method, resp.Request.URL.Path, err, body)
	}
}

// api calls one running server with the bearer token.
type api struct {
	base, token string
	hc          *http.Client
}

func (a *api) get(path string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, a.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	return a.hc.Do(req)
}

// getJSON fetches path and decodes a 200 answer into v.
func (a *api) getJSON(path string, v any) error {
	resp, err := a.get(path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d: %s", path, resp.StatusCode, body)
	}
	return json.Unmarshal(body, v)
}

// lockedBuffer collects the output of every server run; exec copies stdout
// and stderr from separate goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// resultRow appends one tab-separated row to the file named by
// ACERVO_BENCH_RESULTS (scripts/bench, scripts/soak assemble the table from
// it) and logs it either way, so a bare `go test -v` shows the figure too.
func resultRow(t testing.TB, cols ...string) {
	t.Helper()
	line := strings.Join(cols, "\t")
	t.Logf("result: %s", line)
	path := os.Getenv("ACERVO_BENCH_RESULTS")
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := fmt.Fprintln(f, line); err != nil {
		t.Fatal(err)
	}
}
