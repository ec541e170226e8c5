package server_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/comsoc/acervo/server"
)

// browser is a headless Chromium on a fresh profile, with Spanish as the
// browser's language, driving Acervo's pages.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string
	out  string // screenshots
}

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	requireTools(t, "chromium")
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath("chromium"), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "es-MX"), chromedp.Flag("accept-lang", "es-MX,es"),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancel = context.WithTimeout(ctx, 8*time.Minute)
	t.Cleanup(cancel)
	out := os.Getenv("ACERVO_TEST_OUT")
	if out == "" {
		out = filepath.Join("..", "test-output")
	}
	out = filepath.Join(out, "screenshots")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, ctx: ctx, base: base, out: out}
}

func (b *browser) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatal(err)
	}
}

func (b *browser) open(path string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.base+path), chromedp.WaitReady("body"))
}

// eval evaluates js, awaiting a promise, and returns its value.
func eval[T any](b *browser, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("%s: %v", js, err)
	}
	return v
}

// with returns the browser reporting to t (a subtest).
func (b *browser) with(t *testing.T) *browser {
	c := *b
	c.t = t
	return &c
}

// until evaluates js every 100 ms until it is truthy. Errors while the
// page navigates count as not yet.
func (b *browser) until(what, js string, timeout time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool]("!!("+js+")"))
		if err == nil && ok {
			return
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	state, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.location.href + "\n" + document.body.innerText.slice(0, 2000)`))
	b.t.Fatalf("waiting for %s (last error %v)\npage: %s", what, last, state)
}

// shot saves a full-page screenshot under the output folder.
func (b *browser) shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.out, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot %s.png", name)
}

// tusWatch is a server in front of Acervo's handler that records the tus
// requests and, when slow is set, reads PATCH bodies at about 400 KB/s, so
// a test can pause an upload midway.
type tusWatch struct {
	mu   sync.Mutex
	reqs []tusReq
	slow atomic.Bool
	read atomic.Int64 // PATCH body bytes read while slow
	// dropAfter, when set, cuts the connection of the next PATCH after
	// that many body bytes, as a dropped mobile connection would.
	dropAfter atomic.Int64
}

type connKey struct{}

type tusReq struct {
	Method, Path string
	Offset       int
}

func (w *tusWatch) requests() []tusReq {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]tusReq(nil), w.reqs...)
}

func (w *tusWatch) reset() {
	w.mu.Lock()
	w.reqs = nil
	w.mu.Unlock()
}

func (w *tusWatch) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/v1/uploads/") && r.Method != http.MethodOptions {
			off, _ := strconv.Atoi(r.Header.Get("Upload-Offset"))
			w.mu.Lock()
			w.reqs = append(w.reqs, tusReq{r.Method, r.URL.Path, off})
			w.mu.Unlock()
			if r.Method == http.MethodPatch && w.slow.Load() {
				r.Body = &slowBody{ReadCloser: r.Body, w: w}
			}
			if r.Method != http.MethodPatch {
				// only PATCH bodies are cut
			} else if n := w.dropAfter.Swap(0); n > 0 {
				r.Body = &dropBody{ReadCloser: r.Body, conn: r.Context().Value(connKey{}).(net.Conn), left: n}
			}
		}
		h.ServeHTTP(rw, r)
	})
}

type slowBody struct {
	io.ReadCloser
	w *tusWatch
}

func (s *slowBody) Read(p []byte) (int, error) {
	if len(p) > 16<<10 {
		p = p[:16<<10]
	}
	time.Sleep(40 * time.Millisecond)
	n, err := s.ReadCloser.Read(p)
	s.w.read.Add(int64(n))
	return n, err
}

// dropBody closes the client's connection after left bytes.
type dropBody struct {
	io.ReadCloser
	conn net.Conn
	left int64
}

func (d *dropBody) Read(p []byte) (int, error) {
	if d.left <= 0 {
		d.conn.Close()
		return 0, io.ErrUnexpectedEOF
	}
	if int64(len(p)) > d.left {
		p = p[:d.left]
	}
	n, err := d.ReadCloser.Read(p)
	d.left -= int64(n)
	return n, err
}

// watchedServer serves a second Acervo server on e's data, behind a tusWatch.
func watchedServer(t *testing.T, e *env) (*httptest.Server, *tusWatch) {
	t.Helper()
	s, err := server.New(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := &tusWatch{}
	srv := httptest.NewUnstartedServer(w.wrap(s.Handler()))
	srv.Config.ConnContext = func(ctx context.Context, c net.Conn) context.Context { return context.WithValue(ctx, connKey{}, c) }
	srv.Start()
	t.Cleanup(func() { srv.Close(); s.Close() })
	return srv, w
}
