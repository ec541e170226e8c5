package transcode

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/storage"
)

// Queue is the durable job queue the pool works from; *catalog.Catalog
// implements it. Defined here, where it is used, so a networked queue can
// replace it when transcoding moves to other machines.
type Queue interface {
	ClaimJob(kinds ...string) (catalog.Job, error)
	// CompleteJobWith records success; update runs in the same transaction
	// with a Vocab to link the people a file names.
	CompleteJobWith(jobID string, update func(*catalog.Asset, *catalog.Vocab) error) error
	FailJob(jobID, reason string, permanent bool) error
	// AddRenditions records renditions a running job stored before it
	// completes (a photo's thumbnail, served while the rest is made).
	AddRenditions(jobID string, rs map[string]catalog.Rendition) error
	ReleaseJob(jobID string) error
	Asset(id string) (catalog.Asset, error)
}

var _ Queue = (*catalog.Catalog)(nil)

// PoolConfig configures a Pool.
type PoolConfig struct {
	// Lanes are the kinds of jobs and how many of each run at once.
	// Default DefaultLanes().
	Lanes []Lane
	// Poll is how often idle workers look for due jobs (retries after a
	// backoff) without being notified. Default 1s.
	Poll time.Duration
	// ScratchDir holds each job's temporary files, one folder per job.
	// Required; it must be emptied at start (it lives in data/staging).
	ScratchDir string
	// Photo, AV and Document configure each kind of work; their
	// ScratchDir is set per job.
	Photo    PhotoConfig
	AV       AVConfig
	Document DocumentConfig
	// Log receives one line per finished job. Default slog.Default().
	Log *slog.Logger
}

func (c *PoolConfig) withDefaults() error {
	if c.ScratchDir == "" {
		return errors.New("transcode: PoolConfig.ScratchDir is required")
	}
	if len(c.Lanes) == 0 {
		c.Lanes = DefaultLanes()
	}
	for _, l := range c.Lanes {
		if l.Workers <= 0 || len(l.Kinds) == 0 {
			return fmt.Errorf("transcode: lane %q needs kinds and workers", l.Name)
		}
	}
	if c.Poll <= 0 {
		c.Poll = time.Second
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return nil
}

// Pool runs jobs from a Queue with a fixed number of workers.
type Pool struct {
	cfg    PoolConfig
	queue  Queue
	store  storage.Store
	exif   *ExifTool
	wakes  []chan struct{} // one per lane
	cancel context.CancelFunc
	ctx    context.Context
	wg     sync.WaitGroup
	once   sync.Once
}

// NewPool makes a pool; Start runs it.
func NewPool(cfg PoolConfig, q Queue, store storage.Store, exif *ExifTool) (*Pool, error) {
	if err := cfg.withDefaults(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.ScratchDir, 0o750); err != nil {
		return nil, fmt.Errorf("transcode: %w", err)
	}
	ctx, cancel := context.WithCancel(background(context.Background()))
	p := &Pool{cfg: cfg, queue: q, store: store, exif: exif, ctx: ctx, cancel: cancel}
	for range cfg.Lanes {
		p.wakes = append(p.wakes, make(chan struct{}, 1))
	}
	return p, nil
}

// Start launches the workers of every lane.
func (p *Pool) Start() {
	for i, lane := range p.cfg.Lanes {
		for range lane.Workers {
			p.wg.Add(1)
			go p.work(lane.Kinds, p.wakes[i])
		}
	}
}

// Notify tells the pool that a job was queued. It never blocks.
func (p *Pool) Notify() {
	for _, w := range p.wakes {
		wake(w)
	}
}

func wake(w chan struct{}) {
	select {
	case w <- struct{}{}:
	default:
	}
}

// Stop stops claiming jobs and cancels the running ones, whose child
// processes are killed; they go back to the queue without losing an
// attempt. Safe to call more than once.
func (p *Pool) Stop() {
	p.once.Do(p.cancel)
	p.wg.Wait()
}

func (p *Pool) work(kinds []string, wakeup chan struct{}) {
	defer p.wg.Done()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-wakeup:
		case <-timer.C:
		}
		for p.ctx.Err() == nil {
			job, err := p.queue.ClaimJob(kinds...)
			if errors.Is(err, catalog.ErrNoJob) {
				break
			}
			if err != nil {
				p.cfg.Log.Error("claim job", "err", err)
				break
			}
			// A job found means others may be waiting: pass the wake on.
			wake(wakeup)
			p.run(job)
		}
		timer.Reset(p.cfg.Poll)
	}
}

func (p *Pool) run(job catalog.Job) {
	start := time.Now()
	update, err := p.do(p.ctx, job)
	if p.ctx.Err() != nil {
		// Shutting down: back to the queue, attempt not counted. If even
		// that fails, the recovery at the next start requeues it.
		if err := p.queue.ReleaseJob(job.ID); err != nil {
			p.cfg.Log.Warn("release job at shutdown", "job", job.ID, "err", err)
		}
		return
	}
	log := p.cfg.Log.With("job", job.ID, "kind", job.Kind, "asset", job.AssetID, "attempt", job.Attempts, "took", time.Since(start).Round(time.Millisecond))
	if err != nil {
		permanent := IsPermanent(err)
		log.Warn("job failed", "permanent", permanent, "err", err)
		if ferr := p.queue.FailJob(job.ID, err.Error(), permanent); ferr != nil {
			log.Error("record job failure", "err", ferr)
		}
		return
	}
	if err := p.queue.CompleteJobWith(job.ID, update); err != nil {
		log.Error("record job result", "err", err)
		return
	}
	log.Info("job done")
}

// do runs one job and returns how to apply its results to the asset.
func (p *Pool) do(ctx context.Context, job catalog.Job) (func(*catalog.Asset, *catalog.Vocab) error, error) {
	asset, err := p.queue.Asset(job.AssetID)
	if err != nil {
		return nil, err
	}
	scratch := filepath.Join(p.cfg.ScratchDir, job.ID)
	if err := os.MkdirAll(scratch, 0o750); err != nil {
		return nil, err
	}
	defer os.RemoveAll(scratch)
	if job.Kind == JobFingerprint {
		return p.backfill(ctx, asset, scratch)
	}
	src, err := p.localOriginal(ctx, asset, scratch)
	if err != nil {
		return nil, err
	}
	// A photo's thumbnail is stored and recorded as soon as it exists, so
	// it is served while the preview, fingerprints and metadata are made.
	// If that fails it is simply stored with the rest.
	early := map[string]catalog.Rendition{}
	onThumb := func(r Rendition) {
		stored, err := p.storeRenditions(ctx, asset.ID, []Rendition{r})
		if err == nil {
			err = p.queue.AddRenditions(job.ID, stored)
		}
		if err != nil {
			if ctx.Err() == nil {
				p.cfg.Log.Warn("early thumbnail not recorded; it comes with the rest", "job", job.ID, "asset", asset.ID, "err", err)
			}
			return
		}
		early[r.Name] = stored[r.Name]
	}
	rs, apply, tags, err := p.render(ctx, job.Kind, asset.MIME, scratch, src, onThumb)
	if err != nil {
		return nil, err
	}
	fp := p.fingerprint(ctx, job, src, rs)
	var desc Descriptive
	switch {
	case tags != nil: // the render already read them
		desc = parseDescriptive(tags, p.cfg.Photo.Zone)
	case job.Kind != JobOCR: // an OCR job's photo job reads them
		desc = p.descriptive(ctx, src)
	}
	rest := make([]Rendition, 0, len(rs))
	for _, r := range rs {
		if _, ok := early[r.Name]; !ok {
			rest = append(rest, r)
		}
	}
	stored, err := p.storeRenditions(ctx, asset.ID, rest)
	if err != nil {
		return nil, err
	}
	maps.Copy(stored, early)
	return func(a *catalog.Asset, v *catalog.Vocab) error {
		apply(a)
		a.Renditions = mergeRenditions(a.Renditions, stored)
		if !fp.Empty() {
			if err := v.PutFingerprints(a.ID, fp); err != nil {
				return err
			}
		}
		return applyDescriptive(a, v, desc)
	}, nil
}

// render does the kind's work on the original at src (of type mime), writing into
// scratch, and returns the renditions, how to record what it learnt, and
// exiftool's tags when it read them anyway (photos). A photo's thumbnail
// goes to onThumb as soon as it is written (PhotoConfig.OnThumb).
func (p *Pool) render(ctx context.Context, kind, mime, scratch, src string, onThumb func(Rendition)) ([]Rendition, func(*catalog.Asset), map[string]any, error) {
	switch kind {
	case JobPhoto:
		cfg := p.cfg.Photo
		cfg.ScratchDir = scratch
		cfg.OnThumb = onThumb
		info, err := RenderPhoto(ctx, cfg, p.exif, src)
		return info.Renditions, func(a *catalog.Asset) { applyPhotoInfo(a, info) }, info.Tags, err
	case JobVideo, JobAudio:
		cfg := p.cfg.AV
		cfg.ScratchDir = scratch
		info, err := RenderAV(ctx, cfg, src)
		return info.Renditions, func(a *catalog.Asset) { applyAVInfo(a, info) }, nil, err
	case JobDocument:
		cfg := p.cfg.Document
		cfg.ScratchDir = scratch
		info, err := RenderDocument(ctx, cfg, src)
		return info.Renditions, func(a *catalog.Asset) { applyDocumentInfo(a, info) }, nil, err
	case JobOCR:
		cfg := p.cfg.Document
		cfg.ScratchDir = scratch
		text, err := OCRImage(ctx, cfg, mime, src)
		return nil, func(a *catalog.Asset) { a.Text = text }, nil, err
	}
	return nil, nil, nil, fmt.Errorf("%w: unknown job kind %q", ErrUnsupported, kind)
}

// localOriginal returns a file path of the original for child processes:
// the stored file itself on local disk, else a copy in scratch.
func (p *Pool) localOriginal(ctx context.Context, a catalog.Asset, scratch string) (string, error) {
	key, err := storage.BlobKey(a.SHA256)
	if err != nil {
		return "", err
	}
	if lp, ok := p.store.(storage.LocalPather); ok {
		return lp.LocalPath(key)
	}
	obj, err := p.store.Open(ctx, key)
	if err != nil {
		return "", err
	}
	defer obj.Close()
	path := filepath.Join(scratch, "original")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(f, obj); err != nil {
		f.Close()
		return "", err
	}
	return path, f.Close()
}

// storeRenditions commits each rendition file to storage under its derived key.
func (p *Pool) storeRenditions(ctx context.Context, assetID string, rs []Rendition) (map[string]catalog.Rendition, error) {
	out := make(map[string]catalog.Rendition, len(rs))
	for _, r := range rs {
		key, err := storage.DerivedKey(assetID, r.Name)
		if err != nil {
			return nil, err
		}
		size, sum, err := p.put(ctx, key, r.Path)
		if err != nil {
			return nil, fmt.Errorf("transcode: store %s: %w", r.Name, err)
		}
		out[r.Name] = catalog.Rendition{Width: r.Width, Height: r.Height, Size: size, SHA256: sum, MIME: r.MIME}
	}
	return out, nil
}

func (p *Pool) put(ctx context.Context, key, path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	w, err := p.store.Create(ctx)
	if err != nil {
		return 0, "", err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), f)
	if err != nil {
		w.Abort()
		return 0, "", err
	}
	if err := w.Commit(key); err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

func mergeRenditions(old, add map[string]catalog.Rendition) map[string]catalog.Rendition {
	if old == nil {
		old = make(map[string]catalog.Rendition, len(add))
	}
	for k, v := range add {
		old[k] = v
	}
	return old
}

// applyPhotoInfo records what the photo's headers say. Capture time and
// position only fill what is empty: an editor may have corrected them
// while the job ran, and people win over files.
func applyPhotoInfo(a *catalog.Asset, info PhotoInfo) {
	a.Width, a.Height = info.Width, info.Height
	// Capture time keeps the camera's offset when EXIF has one: editors
	// think in the local time of the event.
	if a.CapturedAt == nil {
		a.CapturedAt = info.CapturedAt
	}
	a.Camera = cameraName(info.CameraMake, info.CameraModel)
	if a.GPS == nil && info.GPS != nil {
		a.GPS = &catalog.GPS{Lat: info.GPS.Lat, Lon: info.GPS.Lon, Alt: info.GPS.Alt}
	}
}

// applyDocumentInfo records a PDF's page count and text and, when the
// asset has none yet, its title and creation date.
func applyDocumentInfo(a *catalog.Asset, info DocumentInfo) {
	a.Width, a.Height = info.Width, info.Height
	a.Media = &catalog.MediaInfo{Pages: info.Pages}
	a.Text = info.Text
	if a.Title == "" {
		a.Title = info.Title
	}
	if a.CapturedAt == nil {
		a.CapturedAt = info.CreatedAt
	}
}

// applyAVInfo records what ffprobe found. The kind follows the streams:
// an MP4 holding only sound is audio, whatever its container says. Like
// photos, capture time and position fill only what is empty.
func applyAVInfo(a *catalog.Asset, info AVInfo) {
	if info.Kind != "" {
		a.Kind = info.Kind
	}
	a.Width, a.Height, a.Duration = info.Width, info.Height, info.Duration
	if a.CapturedAt == nil {
		a.CapturedAt = info.CapturedAt
	}
	if a.GPS == nil && info.GPS != nil {
		a.GPS = &catalog.GPS{Lat: info.GPS.Lat, Lon: info.GPS.Lon, Alt: info.GPS.Alt}
	}
	media := info.Media
	a.Media = &media
}

// cameraName joins make and model the way people say it: "Canon EOS R5",
// not "Canon Canon EOS R5".
func cameraName(make, model string) string {
	make, model = strings.TrimSpace(make), strings.TrimSpace(model)
	switch {
	case make == "":
		return model
	case model == "":
		return make
	case strings.HasPrefix(strings.ToLower(model), strings.ToLower(strings.Fields(make)[0])):
		return model
	}
	return make + " " + model
}
