// Command acervo is the media archive of a press office: one binary that
// serves the archive, imports old ones and manages users. main.go is the
// only place that reads flags and the environment; it builds each part's
// Config and wires the parts together.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	_ "time/tzdata"

	"github.com/schollz/progressbar/v3"
	bolt "go.etcd.io/bbolt/errors"
	"golang.org/x/term"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/catalog/similar"
	"github.com/comsoc/acervo/server"
	"github.com/comsoc/acervo/storage/disk"
	"github.com/comsoc/acervo/transcode"
)

const usage = `acervo — archivo de medios / media archive

  acervo serve [--addr :8080] [--data ./data]    serve the archive
  acervo import [--data ./data] [flags] DIR       ingest a folder tree of photos
  acervo reindex [--data ./data]                  rebuild the search index from the catalog (server stopped)
  acervo user add USERNAME [--role R] [--name N]  create a user (password from ACERVO_PASSWORD or prompt)
  acervo user passwd USERNAME                     change a password
  acervo backup [--data ./data] [--url U] DIR     copy the data folder into DIR, also while serving;
                                                  again into DIR: only what is new; exit 3 on damage
  acervo verify [--data ./data] [--rate 50]       re-hash every original (MB/s; 0 = unlimited);
                                                  exit 3 on damage; --json for scripts

Environment: ACERVO_ADDR, ACERVO_DATA, ACERVO_WORKERS, ACERVO_ADMIN_PASSWORD,
ACERVO_TRUSTED_PROXIES (comma-separated CIDRs), ACERVO_SECURE_COOKIES=1,
ACERVO_PUBLIC_URL (how people outside reach the server, for share links),
ACERVO_TZ (the office's zone: camera clocks without an offset, search dates and
the year facet; default America/Mexico_City),
ACERVO_VERIFY_PER_MINUTE (public /verify checks per client a minute; default 6),
ACERVO_VERIFY_RESTRICT_SIMILAR=1 (details of "similar" verdicts to signed-in users only),
ACERVO_UPLOAD_IDLE_TIMEOUT (cut an upload that sends nothing this long; default 2m),
ACERVO_UPLOAD_MIN_RATE (bytes/s an upload must average over that window; default 2048),
ACERVO_MIN_FREE_MB (disk left free for the catalog and renditions; uploads that would
cross it get 507; default 256).
Backup and verify while acervo serve runs ask it for the catalog: ACERVO_TOKEN (an
admin's bearer token), ACERVO_URL (default http://127.0.0.1:8080).
`

func main() {
	// Decoding children re-execute this binary; they never get past here.
	if transcode.RunChild() {
		return
	}
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "import":
		err = importCmd(os.Args[2:])
	case "reindex":
		err = reindexCmd(os.Args[2:])
	case "user":
		err = userCmd(os.Args[2:])
	case "backup":
		err = backupCmd(os.Args[2:])
	case "verify":
		err = verifyCmd(os.Args[2:])
	case "-h", "--help", "help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "acervo: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "acervo:", err)
		var ec *exitCode
		if errors.As(err, &ec) {
			os.Exit(ec.code)
		}
		os.Exit(1)
	}
}

func env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func envInt(key string, def int) int {
	var n int
	if _, err := fmt.Sscan(env(key, ""), &n); err == nil {
		return n
	}
	return def
}

// hotCacheBytes turns ACERVO_HOT_CACHE_MB into server.Config's field, where
// 0 would mean the default: here 0 (or less) turns the cache off.
func hotCacheBytes(mb int) int64 {
	if mb <= 0 {
		return -1
	}
	return int64(mb) << 20
}

// archive is the opened data folder: what serve and import share.
type archive struct {
	data  string
	store *disk.Store
	cat   *catalog.Catalog
	ing   *catalog.Ingester
	exif  *transcode.ExifTool
	pool  *transcode.Pool
	av    transcode.AVConfig // shared by jobs and clips
}

// zone is where camera clocks without an offset are: the office's zone,
// from ACERVO_TZ (default America/Mexico_City; the tz database is embedded
// so a bare server without tzdata still knows it).
func zone() (*time.Location, error) {
	name := env("ACERVO_TZ", "America/Mexico_City")
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("ACERVO_TZ %q: %w", name, err)
	}
	return loc, nil
}

// lanes gives the stills-and-sound lane n workers (0: one per CPU) and
// keeps videos to one at a time, or ACERVO_VIDEO_WORKERS.
func lanes(n int) []transcode.Lane {
	l := transcode.DefaultLanes()
	for i := range l {
		switch {
		case l[i].Name == "video":
			l[i].Workers = max(envInt("ACERVO_VIDEO_WORKERS", l[i].Workers), 1)
		case n > 0:
			l[i].Workers = n
		}
	}
	return l
}

func openArchive(data string, workers int, log *slog.Logger) (*archive, error) {
	loc, err := zone()
	if err != nil {
		return nil, err
	}
	store, err := disk.New(disk.Config{Root: data})
	if err != nil {
		return nil, err
	}
	cat, err := catalog.Open(catalog.Config{Path: filepath.Join(data, "catalog.db")})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("the catalog in %s is in use: is acervo serve running on this data folder? Stop it first", data)
	}
	if err != nil {
		return nil, err
	}
	a := &archive{data: data, store: store, cat: cat}
	a.ing = &catalog.Ingester{Catalog: cat, Store: store, Sniff: transcode.Sniff, JobsFor: transcode.JobsFor}
	summary, err := a.ing.Recover(context.Background())
	if err != nil {
		cat.Close()
		return nil, fmt.Errorf("recover: %w", err)
	}
	log.Info("recovered", "summary", summary)
	a.exif, err = transcode.NewExifTool(transcode.ExifToolConfig{})
	if err != nil {
		cat.Close()
		return nil, err
	}
	a.pool, err = transcode.NewPool(transcode.PoolConfig{
		Lanes:      lanes(workers),
		ScratchDir: filepath.Join(store.StagingDir(), "jobs"),
		Photo:      transcode.PhotoConfig{Zone: loc},
		AV:         a.av,
		Log:        log,
	}, cat, store, a.exif)
	if err != nil {
		a.exif.Close()
		cat.Close()
		return nil, err
	}
	a.pool.Start()
	return a, nil
}

func (a *archive) close() {
	a.pool.Stop()
	a.exif.Close()
	a.cat.Close()
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	addr := fs.String("addr", env("ACERVO_ADDR", ":8080"), "listen address (ACERVO_ADDR)")
	data := fs.String("data", env("ACERVO_DATA", "./data"), "data folder (ACERVO_DATA)")
	workers := fs.Int("workers", envInt("ACERVO_WORKERS", 0), "workers for photos, audio and documents; 0 = one per CPU (ACERVO_WORKERS); videos run one at a time (ACERVO_VIDEO_WORKERS)")
	proxies := fs.String("trusted-proxies", env("ACERVO_TRUSTED_PROXIES", ""), "CIDRs whose X-Forwarded-For is trusted (ACERVO_TRUSTED_PROXIES)")
	secure := fs.Bool("secure-cookies", env("ACERVO_SECURE_COOKIES", "") == "1", "mark cookies Secure, for HTTPS (ACERVO_SECURE_COOKIES=1)")
	fs.Parse(args)
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	nets, err := parseCIDRs(*proxies)
	if err != nil {
		return err
	}
	var idleTimeout time.Duration // zero: the server's default
	if v := env("ACERVO_UPLOAD_IDLE_TIMEOUT", ""); v != "" {
		if idleTimeout, err = time.ParseDuration(v); err != nil || idleTimeout <= 0 {
			return fmt.Errorf("ACERVO_UPLOAD_IDLE_TIMEOUT %q: want a duration like 2m", v)
		}
	}
	minFree := int64(envInt("ACERVO_MIN_FREE_MB", 0)) << 20 // zero: the server's default
	a, err := openArchive(*data, *workers, log)
	if err != nil {
		return err
	}
	defer a.close()
	// Uploads hash and write on all processors but one, on threads of low
	// priority, so searches and pages stay quick during a burst of them
	// (catalog.BulkGate). Go gets a processor more for each of those
	// threads: one the kernel sets aside for a search must not leave Go
	// without a free processor to run that search on.
	procs := runtime.GOMAXPROCS(0)
	bulk := max(1, procs-1)
	a.ing.Bulk = catalog.NewBulkGate(bulk)
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(procs + bulk)
	}
	if err := firstStart(a.cat); err != nil {
		return err
	}
	loc, err := zone()
	if err != nil {
		return err
	}
	// The index is derived (DESIGN.md invariant 2): opening it repairs what
	// a crash left unindexed, or rebuilds it in the background.
	idx, err := catalog.OpenIndex(catalog.IndexConfig{Path: filepath.Join(*data, "index"), Catalog: a.cat, Zone: loc, Log: log})
	if err != nil {
		return err
	}
	defer func() {
		if err := idx.Close(); err != nil {
			log.Error("close search index", "err", err)
		}
	}()
	// Like the search index, the similarity index is derived: built from
	// the catalog's fingerprints at every start. Assets archived before
	// fingerprints existed get theirs from a backfill queued once.
	sim, err := similar.Open(similar.Config{Catalog: a.cat, Log: log})
	if err != nil {
		return err
	}
	if n, err := a.cat.QueueFingerprintBackfill(transcode.JobFingerprint); err != nil {
		return err
	} else if n > 0 {
		log.Info("fingerprint backfill queued", "assets", n)
		a.pool.Notify()
	}
	key, err := server.LoadOrCreateKey(filepath.Join(*data, "keys", "ed25519.pem"))
	if err != nil {
		return err
	}
	srv, err := server.New(server.Config{
		Similar: sim, Examine: transcode.Examiner{Photo: transcode.PhotoConfig{Zone: loc}, AV: a.av, Exif: a.exif},
		Verify: server.VerifyConfig{
			PerMinute:       envInt("ACERVO_VERIFY_PER_MINUTE", 0),
			RestrictSimilar: env("ACERVO_VERIFY_RESTRICT_SIMILAR", "") == "1",
		},
		Catalog: a.cat, Store: a.store, Ingester: a.ing, Jobs: a.pool, Clips: transcode.Clipper{Config: a.av},
		SecureCookies: *secure, TrustedProxies: nets, Log: log, Search: idx, Zone: loc,
		UploadIdleTimeout: idleTimeout, MinFreeBytes: minFree, UploadMinRate: int64(envInt("ACERVO_UPLOAD_MIN_RATE", 0)),
		PublicURL: strings.TrimSuffix(env("ACERVO_PUBLIC_URL", ""), "/"), SigningKey: key,
		UploadsDir:    filepath.Join(*data, "uploads"),
		HotCacheBytes: hotCacheBytes(envInt("ACERVO_HOT_CACHE_MB", 64)),
	})
	if err != nil {
		return err
	}
	defer srv.Close()
	if dbg := env("ACERVO_DEBUG_ADDR", ""); dbg != "" {
		go serveDebug(dbg, log)
	}
	hs := srv.HTTPServer(*addr)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Printf("Acervo: http://%s/  (datos / data: %s)\n", displayAddr(ln.Addr()), *data)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// serveDebug serves Go's profiles (net/http/pprof, with block and mutex
// sampling on) at addr, apart from the API: for measuring a live server
// (ACERVO_DEBUG_ADDR, off by default; keep it on loopback, it has no
// authentication).
func serveDebug(addr string, log *slog.Logger) {
	runtime.SetBlockProfileRate(int(time.Millisecond))
	runtime.SetMutexProfileFraction(10)
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	log.Info("debug profiles", "addr", addr)
	log.Error("debug listener stopped", "err", http.ListenAndServe(addr, mux))
}

func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

func parseCIDRs(s string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		_, n, err := net.ParseCIDR(part)
		if err != nil {
			return nil, fmt.Errorf("trusted proxies: %w", err)
		}
		out = append(out, n)
	}
	return out, nil
}

// firstStart creates the admin account on an empty catalog, with the
// password from ACERVO_ADMIN_PASSWORD or a generated one printed once.
func firstStart(cat *catalog.Catalog) error {
	n, err := cat.CountUsers()
	if err != nil || n > 0 {
		return err
	}
	password := os.Getenv("ACERVO_ADMIN_PASSWORD")
	generated := password == ""
	if generated {
		b := make([]byte, 15)
		rand.Read(b)
		password = base64.RawURLEncoding.EncodeToString(b)
	}
	if _, err := cat.CreateUser(catalog.NewUser{Username: "admin", Password: password, Role: catalog.RoleAdmin, Name: "Administrador"}); err != nil {
		return fmt.Errorf("create admin: %w", err)
	}
	if generated {
		fmt.Printf("\nPrimer inicio / first start — usuario: admin  contraseña / password: %s\n(se muestra una sola vez / shown only once)\n\n", password)
	} else {
		fmt.Println("Primer inicio / first start — usuario admin creado con ACERVO_ADMIN_PASSWORD")
	}
	return nil
}

func importCmd(args []string) error {
	fs := flag.NewFlagSet("import", flag.ExitOnError)
	data := fs.String("data", env("ACERVO_DATA", "./data"), "data folder (ACERVO_DATA)")
	workers := fs.Int("workers", envInt("ACERVO_WORKERS", 0), "transcoding workers; 0 = one per CPU")
	user := fs.String("user", "admin", "account recorded as uploader")
	event := fs.String("event", "", "event for every imported photo")
	tags := fs.String("tags", "", "comma-separated tags for every imported photo")
	credit := fs.String("credit", "", "credit line for every imported photo")
	noWait := fs.Bool("no-wait", false, "don't wait for thumbnails; the server makes them later")
	ocr := fs.Bool("ocr", false, "read the text of every photo with tesseract (scanned clippings)")
	fs.Parse(args)
	if fs.NArg() != 1 {
		return errors.New("usage: acervo import [flags] DIR")
	}
	dir := fs.Arg(0)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("%s is not a folder", dir)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := openArchive(*data, *workers, log)
	if err != nil {
		return err
	}
	defer a.close()
	u, err := a.cat.UserByName(*user)
	if err != nil {
		return fmt.Errorf("user %q: %w (run acervo serve once to create admin, or acervo user add)", *user, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	bar := progressbar.NewOptions64(-1, progressbar.OptionSetDescription("importando"), progressbar.OptionShowBytes(true),
		progressbar.OptionSetWriter(os.Stderr), progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionShowCount())
	stats, bad, err := a.ing.ImportDir(ctx, catalog.ImportOptions{
		Dir: dir, JournalDir: filepath.Join(*data, "imports"),
		Template: catalog.NewAsset{UploadedBy: u.ID, Event: *event, Tags: splitList(*tags), Credit: *credit, OCR: *ocr},
		Progress: func(s catalog.ImportStats) {
			bar.ChangeMax64(s.Bytes)
			bar.Set64(s.DoneBytes)
			a.pool.Notify()
		},
	})
	bar.Finish()
	fmt.Fprintf(os.Stderr, "\n%d archivos / files: %d nuevos / added, %d duplicados / duplicates, %d ya importados / already imported, %d omitidos / skipped, %d con error / failed\n",
		stats.Files, stats.Added, stats.Duplicates, stats.Resumed, stats.Skipped, stats.Bad)
	for i, b := range bad {
		if i == 20 {
			fmt.Fprintf(os.Stderr, "  … y %d más / and %d more\n", len(bad)-20, len(bad)-20)
			break
		}
		fmt.Fprintf(os.Stderr, "  %s: %s\n", b.Path, b.Reason)
	}
	if err != nil {
		return err
	}
	if *noWait {
		return nil
	}
	return waitForJobs(ctx, a.cat)
}

// waitForJobs shows the processing of queued jobs until none remain.
func waitForJobs(ctx context.Context, cat *catalog.Catalog) error {
	queued, running, err := cat.QueueDepth()
	if err != nil || queued+running == 0 {
		return err
	}
	total := int64(queued + running)
	bar := progressbar.NewOptions64(total, progressbar.OptionSetDescription("miniaturas"), progressbar.OptionSetWriter(os.Stderr), progressbar.OptionShowCount())
	for {
		q, r, err := cat.QueueDepth()
		if err != nil {
			return err
		}
		bar.Set64(total - int64(q+r))
		if q+r == 0 {
			bar.Finish()
			fmt.Fprintln(os.Stderr)
			failed, _ := cat.Jobs(catalog.JobFailed, 1000)
			if len(failed) > 0 {
				fmt.Fprintf(os.Stderr, "%d trabajos fallaron (ver /api/v1/jobs?state=failed) / jobs failed\n", len(failed))
			}
			return nil
		}
		select {
		case <-ctx.Done():
			fmt.Fprintln(os.Stderr, "\ninterrumpido: los trabajos pendientes siguen en la cola / interrupted: pending jobs stay queued")
			return nil
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// reindexCmd rebuilds the search index from the catalog. It opens the
// catalog, so the server must be stopped; the server also rebuilds by
// itself when the index is missing, corrupt or of an older mapping.
func reindexCmd(args []string) error {
	fs := flag.NewFlagSet("reindex", flag.ExitOnError)
	data := fs.String("data", env("ACERVO_DATA", "./data"), "data folder (ACERVO_DATA)")
	fs.Parse(args)
	cat, err := catalog.Open(catalog.Config{Path: filepath.Join(*data, "catalog.db")})
	if errors.Is(err, bolt.ErrTimeout) {
		return fmt.Errorf("the catalog in %s is in use: is acervo serve running on this data folder? Stop it first", *data)
	}
	if err != nil {
		return err
	}
	defer cat.Close()
	loc, err := zone()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	bar := progressbar.NewOptions64(-1, progressbar.OptionSetDescription("indexando"), progressbar.OptionSetWriter(os.Stderr),
		progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionShowCount())
	start, done := time.Now(), 0
	err = catalog.RebuildIndex(ctx, catalog.IndexConfig{Path: filepath.Join(*data, "index"), Catalog: cat, Zone: loc, Log: log}, func(n int) {
		done = n
		bar.Set(n)
	})
	bar.Finish()
	if err != nil {
		return fmt.Errorf("reindex (the server rebuilds it on its next start): %w", err)
	}
	fmt.Fprintf(os.Stderr, "\n%d recursos indexados / assets indexed en / in %s\n", done, time.Since(start).Round(time.Second))
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func userCmd(args []string) error {
	if len(args) < 2 || (args[0] != "add" && args[0] != "passwd") {
		return errors.New("usage: acervo user add USERNAME [--role R] [--name N] [--area A] | acervo user passwd USERNAME")
	}
	fs := flag.NewFlagSet("user", flag.ExitOnError)
	data := fs.String("data", env("ACERVO_DATA", "./data"), "data folder (ACERVO_DATA)")
	role := fs.String("role", catalog.RoleViewer, "admin, editor, contributor or viewer")
	name := fs.String("name", "", "full name")
	area := fs.String("area", "", "area or department")
	fs.Parse(args[2:])
	username := args[1]
	cat, err := catalog.Open(catalog.Config{Path: filepath.Join(*data, "catalog.db")})
	if errors.Is(err, bolt.ErrTimeout) {
		return fmt.Errorf("the catalog in %s is in use by acervo serve; stop it, or use the API (POST /api/v1/users)", *data)
	}
	if err != nil {
		return err
	}
	defer cat.Close()
	password, err := readPassword()
	if err != nil {
		return err
	}
	if args[0] == "passwd" {
		if err := cat.SetPassword(catalog.Actor{}, username, password); err != nil {
			return err
		}
		fmt.Println("contraseña cambiada / password changed; sesiones cerradas / sessions ended")
		return nil
	}
	u, err := cat.CreateUser(catalog.NewUser{Username: username, Password: password, Role: *role, Name: *name, Area: *area})
	if err != nil {
		return err
	}
	fmt.Printf("usuario creado / user created: %s (%s)\n", u.Username, u.Role)
	return nil
}

// readPassword takes ACERVO_PASSWORD, or asks twice on a terminal, or
// reads one line from a pipe.
func readPassword() (string, error) {
	if p := os.Getenv("ACERVO_PASSWORD"); p != "" {
		return p, nil
	}
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return "", errors.New("no password on stdin (or set ACERVO_PASSWORD)")
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	fmt.Fprint(os.Stderr, "Contraseña / password: ")
	p1, err := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return "", err
	}
	fmt.Fprint(os.Stderr, "Repita / again: ")
	p2, err := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return "", err
	}
	if string(p1) != string(p2) {
		return "", errors.New("passwords differ")
	}
	return string(p1), nil
}
