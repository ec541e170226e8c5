package transcode

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// PhotoConfig configures RenderPhoto. Zero fields take the defaults below;
// withDefaults checks the rest.
type PhotoConfig struct {
	// Executable is the binary re-executed as the decoding child; it must
	// call RunChild first thing in main. Default os.Executable().
	Executable string
	// MaxPixels refuses images with more pixels than this (ErrTooLarge),
	// judged from the header before decoding. Default 250_000_000.
	MaxPixels int64
	// MemoryLimit is the child's address-space limit (RLIMIT_AS) in bytes,
	// shared by the programs it runs. Default 3 GiB.
	MemoryLimit int64
	// Timeout bounds one photo, child and programs included; past it the
	// child's process group is killed. Default 2 minutes.
	Timeout time.Duration
	// ScratchDir is an existing folder where the renditions are written for
	// the caller to move into storage (Rendition.Path is absolute). Required.
	ScratchDir string
	// Zone is where a camera clock without an EXIF offset is taken to be:
	// the office's own zone. Default time.Local.
	Zone *time.Location
	// OnThumb, when set, is called with thumb.jpg as soon as the child has
	// written it, before preview.jpg is compressed, so that the caller can
	// publish the thumbnail early. It runs in a goroutine of its own while
	// the render goes on; RenderPhoto returns only after it has, and the
	// file stays in ScratchDir until then (on success it is also in
	// PhotoInfo.Renditions). It is not called when the render fails first.
	OnThumb func(Rendition)
}

func (c *PhotoConfig) withDefaults() error {
	if c.ScratchDir == "" {
		return errors.New("transcode: PhotoConfig.ScratchDir is required")
	}
	if st, err := os.Stat(c.ScratchDir); err != nil || !st.IsDir() {
		return fmt.Errorf("transcode: PhotoConfig.ScratchDir %q is not a folder", c.ScratchDir)
	}
	// Absolute, so no path handed to a program can read as an option.
	abs, err := filepath.Abs(c.ScratchDir)
	if err != nil {
		return fmt.Errorf("transcode: PhotoConfig.ScratchDir: %w", err)
	}
	c.ScratchDir = abs
	if c.Executable == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("transcode: PhotoConfig.Executable: %w", err)
		}
		c.Executable = exe
	}
	if c.MaxPixels < 0 || c.MemoryLimit < 0 || c.Timeout < 0 {
		return errors.New("transcode: PhotoConfig: MaxPixels, MemoryLimit and Timeout must not be negative")
	}
	if c.MaxPixels == 0 {
		c.MaxPixels = 250_000_000
	}
	if c.MemoryLimit == 0 {
		c.MemoryLimit = 3 << 30
	}
	if c.Timeout == 0 {
		c.Timeout = 2 * time.Minute
	}
	if c.Zone == nil {
		c.Zone = time.Local
	}
	return nil
}

// Rendition is one file made for an asset.
type Rendition struct {
	Name          string // "thumb.jpg", "preview.jpg"
	Path          string // file in ScratchDir the caller will move into storage
	Width, Height int
	MIME          string // "image/jpeg"
}

// GPS is a position in WGS 84 degrees; Alt is metres above sea level, nil
// when unknown.
type GPS struct {
	Lat, Lon float64
	Alt      *float64
}

// PhotoInfo is what the worker learns from one photo.
type PhotoInfo struct {
	Width, Height           int        // as displayed, i.e. after orientation is applied
	Orientation             int        // EXIF 1..8, 0 when absent
	CapturedAt              *time.Time // EXIF DateTimeOriginal (+ OffsetTimeOriginal / SubSecTimeOriginal when present; UTC wall clock without offset); nil if none
	CameraMake, CameraModel string
	GPS                     *GPS
	Renditions              []Rendition // largest first: preview.jpg, thumb.jpg
	// Tags are exiftool's tags of the photo (ExifTool.Read), so the caller
	// can take its descriptive metadata without reading the file again.
	Tags map[string]any
}

// Errors RenderPhoto wraps. Both are permanent (see IsPermanent): the same
// file fails the same way again.
var (
	// ErrUnsupported: not a format we decode (photo, video, audio or PDF), or corrupt or truncated.
	ErrUnsupported = errors.New("transcode: unsupported or corrupt media")
	// ErrTooLarge: more pixels than PhotoConfig.MaxPixels.
	ErrTooLarge = errors.New("transcode: image too large")
)

// IsPermanent reports whether err is a property of the file, so retrying the
// job cannot help. Timeouts, killed or crashed children, and exiftool
// failures are not permanent.
func IsPermanent(err error) bool {
	return errors.Is(err, ErrUnsupported) || errors.Is(err, ErrTooLarge)
}

// kindError is an error of one of the sentinel kinds with a message for
// humans; it prints the message alone and matches its kind with errors.Is.
type kindError struct {
	kind error
	msg  string
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

// maxChildResponse bounds the child's stdout; a response is a few hundred bytes.
const maxChildResponse = 1 << 20

// RenderPhoto reads metadata and makes thumb.jpg (400 px long edge) and
// preview.jpg (2048 px long edge, never upscaled: a smaller image keeps its
// size) of the photo at path, orientation applied.
//
// The file's type is sniffed from its content (originals have no extension).
// The EXIF orientation is applied to every format but HEIC, whose own
// transforms (irot/imir) libheif applies instead; PhotoInfo.Orientation
// reports the EXIF value either way.
// Metadata comes from et; pixels are decoded only in a child process (see
// RunChild) with cfg's memory limit and timeout. The renditions are new
// files in cfg.ScratchDir, owned by the caller. On error nothing is left in
// ScratchDir. Errors wrap ErrUnsupported or ErrTooLarge when the file is at
// fault (IsPermanent); other errors may succeed on retry. Safe for
// concurrent use.
func RenderPhoto(ctx context.Context, cfg PhotoConfig, et *ExifTool, path string) (PhotoInfo, error) {
	if err := cfg.withDefaults(); err != nil {
		return PhotoInfo{}, err
	}
	if et == nil {
		return PhotoInfo{}, errors.New("transcode: RenderPhoto needs an ExifTool")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return PhotoInfo{}, fmt.Errorf("transcode: photo %s: %w", path, err)
	}
	fail := func(err error) (PhotoInfo, error) {
		return PhotoInfo{}, fmt.Errorf("transcode: photo %s: %w", filepath.Base(abs), err)
	}
	mime, err := sniffFile(abs)
	if err != nil {
		return fail(err)
	}
	tags, err := et.Read(ctx, abs)
	if err != nil {
		return fail(err)
	}
	meta := parsePhotoMeta(tags, cfg.Zone)

	out := filepath.Join(cfg.ScratchDir, randomHex()+"-")
	req := childRequest{Path: abs, MIME: mime, Out: out, Orientation: meta.Orientation, MaxPixels: cfg.MaxPixels, MemoryLimit: cfg.MemoryLimit, Early: cfg.OnThumb != nil}
	resp, err := runPhotoChild(ctx, cfg, req)
	keep := make([]string, 0, len(resp.Renditions))
	for _, r := range resp.Renditions {
		keep = append(keep, r.Path)
	}
	if err == nil {
		err = checkRenditions(resp.Renditions, out, req.specs())
	}
	if err != nil {
		keep = nil
	}
	removeScratch(out, keep)
	if err != nil {
		return fail(err)
	}
	return PhotoInfo{
		Width: resp.Width, Height: resp.Height,
		Orientation: meta.Orientation,
		CapturedAt:  meta.CapturedAt,
		CameraMake:  meta.CameraMake, CameraModel: meta.CameraModel,
		GPS:        meta.GPS,
		Tags:       tags,
		Renditions: resp.Renditions,
	}, nil
}

// sniffFile returns the photo MIME type of the file's first 512 bytes.
func sniffFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	head := make([]byte, 512)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", err
	}
	mime, ok := SniffPhoto(head[:n])
	if !ok {
		return "", &kindError{kind: ErrUnsupported, msg: "not a JPEG, PNG, TIFF, WebP or HEIC photo (unrecognised content)"}
	}
	return mime, nil
}

// runPhotoChild runs the decoding child for req within cfg.Timeout. With
// req.Early, cfg.OnThumb gets the smallest rendition when the child reports
// it, and has returned when runPhotoChild does.
func runPhotoChild(ctx context.Context, cfg PhotoConfig, req childRequest) (childResponse, error) {
	reqJSON, err := json.Marshal(req)
	if err != nil {
		return childResponse{}, err
	}
	env := append(os.Environ(),
		childEnvVar+"="+childEnvValue,
		childRequestVar+"="+string(reqJSON),
		"GOTRACEBACK=none", // a crash reports its cause, not every goroutine
	)
	tctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	stdout := &childStdout{boundedBuffer: boundedBuffer{max: maxChildResponse}}
	var early sync.WaitGroup
	if req.Early && cfg.OnThumb != nil {
		specs := req.specs()
		stdout.early = func(r Rendition) {
			if checkRenditions([]Rendition{r}, req.Out, specs[len(specs)-1:]) == nil {
				early.Go(func() { cfg.OnThumb(r) })
			}
		}
	}
	_, runErr := runCommand(tctx, command{Path: cfg.Executable, Args: []string{childArg}, Env: env, Stdout: stdout, GoProgram: true})
	early.Wait()

	var resp childResponse
	parsed := !stdout.overflow && json.Unmarshal(stdout.last(), &resp) == nil && resp.Early == nil
	var re *runError
	switch {
	case errors.As(runErr, &re) && re.TimedOut:
		if ctx.Err() != nil {
			return childResponse{}, fmt.Errorf("decoding child stopped: %w", ctx.Err())
		}
		return childResponse{}, fmt.Errorf("decoding took longer than %v; child killed%s", cfg.Timeout, stderrSuffix(re.Stderr))
	case parsed && resp.Error != nil:
		switch resp.Error.Kind {
		case "unsupported":
			return childResponse{}, &kindError{kind: ErrUnsupported, msg: resp.Error.Message}
		case "too_large":
			return childResponse{}, &kindError{kind: ErrTooLarge, msg: resp.Error.Message}
		}
		return childResponse{}, fmt.Errorf("decoding child: %s", resp.Error.Message)
	case runErr != nil:
		return childResponse{}, fmt.Errorf("decoding child failed: %w", runErr)
	case !parsed:
		return childResponse{}, fmt.Errorf("decoding child: unreadable response %.200q", stdout.buf)
	}
	return resp, nil
}

// childStdout collects the child's stdout and hands the first early line
// it finds to early: the response proper is the last line.
type childStdout struct {
	boundedBuffer
	early     func(Rendition) // nil once called
	lineStart int
}

func (w *childStdout) Write(p []byte) (int, error) {
	n, err := w.boundedBuffer.Write(p)
	for w.early != nil {
		i := bytes.IndexByte(w.buf[w.lineStart:], '\n')
		if i < 0 {
			break
		}
		line := w.buf[w.lineStart : w.lineStart+i]
		w.lineStart += i + 1
		var m childResponse
		if json.Unmarshal(line, &m) == nil && m.Early != nil {
			w.early(*m.Early)
			w.early = nil
		}
	}
	return n, err
}

// last returns the last line written.
func (w *childStdout) last() []byte {
	b := bytes.TrimRight(w.buf, "\n")
	return b[bytes.LastIndexByte(b, '\n')+1:]
}

func stderrSuffix(s string) string {
	if s == "" {
		return ""
	}
	return "; stderr: " + s
}

// checkRenditions makes sure the child reported exactly the expected files
// under out, so the caller never moves a file it did not ask for.
func checkRenditions(rs []Rendition, out string, specs []renditionSpec) error {
	if len(rs) != len(specs) {
		return fmt.Errorf("decoding child returned %d renditions, want %d", len(rs), len(specs))
	}
	for i, r := range rs {
		if r.Name != specs[i].Name || r.Path != out+r.Name || r.Width <= 0 || r.Height <= 0 {
			return fmt.Errorf("decoding child returned an unexpected rendition %q at %q", r.Name, r.Path)
		}
		if st, err := os.Stat(r.Path); err != nil || !st.Mode().IsRegular() || st.Size() == 0 {
			return fmt.Errorf("decoding child did not write %s", r.Name)
		}
	}
	return nil
}

// removeScratch removes every file under the prefix out except keep: the
// leftovers of a failed or killed child, or its intermediates.
func removeScratch(out string, keep []string) {
	matches, _ := filepath.Glob(globEscape(out) + "*")
	for _, p := range matches {
		if !slices.Contains(keep, p) {
			os.Remove(p)
		}
	}
}

// globEscape quotes the glob metacharacters in a literal path.
func globEscape(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', '\\':
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return string(b)
}

// randomHex names one render's scratch files.
func randomHex() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
