package transcode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/comsoc/acervo/catalog"
)

// AVConfig configures RenderAV and Clip. Zero fields take the defaults
// below; withDefaults checks the rest.
type AVConfig struct {
	// FFmpeg and FFprobe are the programs, looked up in PATH when they have
	// no slash. Default "ffmpeg" and "ffprobe".
	FFmpeg, FFprobe string
	// ScratchDir is an existing folder where RenderAV writes the renditions
	// for the caller to move into storage (Rendition.Path is absolute). The
	// pool makes one per job. Required by RenderAV; Clip does not use it.
	ScratchDir string
	// MemoryLimit caps the address space (RLIMIT_AS) of every ffmpeg and
	// ffprobe run, in bytes. Default 2 GiB.
	MemoryLimit int64
	// ProbeTimeout bounds one ffprobe run. Default 30 s.
	ProbeTimeout time.Duration
	// The renditions of one file (or one clip) must be done within
	// TimeoutBase + TimeoutPerSecond × its duration, or ffmpeg is killed
	// and the job fails as retryable: a long recording gets time in
	// proportion, a hostile file that decodes forever does not.
	// Defaults 60 s and 3 s (a one-hour video gets about three hours: the
	// worst case of a 4K HEVC source on two cores).
	TimeoutBase      time.Duration
	TimeoutPerSecond time.Duration
	// Threads is ffmpeg's -threads for encoders. Default 0: ffmpeg decides.
	Threads int
}

// truncatedBy is how much shorter than the header says the decoded media
// must be to count as truncated; encoder padding makes small differences.
const truncatedBy = 0.5

// maxDeadlineMedia bounds the duration a file's header may claim for its
// deadline: a header saying "100 years" must not buy 300 years of CPU.
const maxDeadlineMedia = 12 * time.Hour

func (c *AVConfig) withDefaults() error {
	if c.FFmpeg == "" {
		c.FFmpeg = "ffmpeg"
	}
	if c.FFprobe == "" {
		c.FFprobe = "ffprobe"
	}
	if c.MemoryLimit < 0 || c.ProbeTimeout < 0 || c.TimeoutBase < 0 || c.TimeoutPerSecond < 0 || c.Threads < 0 {
		return errors.New("transcode: AVConfig: limits, timeouts and Threads must not be negative")
	}
	if c.MemoryLimit == 0 {
		c.MemoryLimit = 2 << 30
	}
	if c.ProbeTimeout == 0 {
		c.ProbeTimeout = 30 * time.Second
	}
	if c.TimeoutBase == 0 {
		c.TimeoutBase = 60 * time.Second
	}
	if c.TimeoutPerSecond == 0 {
		c.TimeoutPerSecond = 3 * time.Second
	}
	if c.ScratchDir != "" {
		// Absolute, so no path handed to ffmpeg can read as an option.
		abs, err := filepath.Abs(c.ScratchDir)
		if err != nil {
			return fmt.Errorf("transcode: AVConfig.ScratchDir: %w", err)
		}
		if st, err := os.Stat(abs); err != nil || !st.IsDir() {
			return fmt.Errorf("transcode: AVConfig.ScratchDir %q is not a folder", c.ScratchDir)
		}
		c.ScratchDir = abs
	}
	return nil
}

// deadline is the time allowed for media of the given duration in seconds.
func (c *AVConfig) deadline(seconds float64) time.Duration {
	d := time.Duration(max(seconds, 0) * float64(time.Second))
	d = min(d, maxDeadlineMedia)
	return c.TimeoutBase + time.Duration(d.Seconds()*float64(c.TimeoutPerSecond))
}

// AVInfo is what RenderAV learns from one video or audio file.
type AVInfo struct {
	// Kind is catalog.KindVideo or catalog.KindAudio as the streams say,
	// not the container: an MP4 with only sound (or sound and cover art)
	// is audio.
	Kind          string
	Width, Height int     // displayed size of a video: pixel aspect and rotation applied
	Duration      float64 // seconds
	// CapturedAt is the container's com.apple.quicktime.creationdate (with
	// the phone's offset) or else creation_time (UTC); nil when absent.
	CapturedAt *time.Time
	GPS        *GPS // ISO 6709 location tag when present
	Media      catalog.MediaInfo
	Renditions []Rendition // video: proxy.mp4, poster.jpg, thumb.jpg, sprite.jpg, sprite.vtt; audio: audio.m4a, waveform.json, waveform.png, thumb.jpg
}

// RenderAV probes the file at path and makes the renditions of its kind
// (see renderVideo and renderAudio for each one's contract).
//
// path is an original stored without an extension: its format is what
// ffprobe detects, and only the demuxers of avFormats may open it (see
// ffmpeg.go for every option ffmpeg runs with). Each ffmpeg and ffprobe run
// has its own process group, cfg.MemoryLimit and a deadline; the whole
// render must end within cfg.TimeoutBase + cfg.TimeoutPerSecond × the
// duration. The renditions are new files in cfg.ScratchDir owned by the
// caller; on error none is left there.
//
// Errors wrap ErrUnsupported (IsPermanent) when the file is at fault: a
// format outside the allowlist (HLS playlists, concat lists, images…),
// a file ffprobe cannot read (say, a truncated MP4 whose index was at the
// end), or no decodable audio or video stream. A run past its deadline,
// killed, or failing for other reasons is retryable. Safe for concurrent use.
func RenderAV(ctx context.Context, cfg AVConfig, path string) (AVInfo, error) {
	if err := cfg.withDefaults(); err != nil {
		return AVInfo{}, err
	}
	if cfg.ScratchDir == "" {
		return AVInfo{}, errors.New("transcode: AVConfig.ScratchDir is required")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return AVInfo{}, fmt.Errorf("transcode: media %s: %w", path, err)
	}
	fail := func(what string, err error) (AVInfo, error) {
		return AVInfo{}, fmt.Errorf("transcode: %s %s: %w", what, filepath.Base(abs), err)
	}
	p, err := probeMedia(ctx, cfg, abs)
	if err != nil {
		return fail("media", err)
	}
	j := newAVJob(ctx, cfg, abs, p.Duration)
	defer j.cancel()
	out := filepath.Join(cfg.ScratchDir, randomHex()+"-")
	var res avRendered
	if p.Kind == catalog.KindVideo {
		res, err = renderVideo(j, p, out)
	} else {
		res, err = renderAudio(j, p, out)
	}
	keep := make([]string, 0, len(res.Renditions))
	for _, r := range res.Renditions {
		keep = append(keep, r.Path)
	}
	if err != nil {
		keep = nil
	}
	removeScratch(out, keep)
	if err != nil {
		return fail(p.Kind, err)
	}
	info := p.info()
	if res.Duration > 0 && (info.Duration == 0 || res.Duration < info.Duration-truncatedBy) {
		// A truncated file's header promises more than there is: the
		// asset lasts what its renditions hold.
		info.Duration = res.Duration
	}
	info.Media.LoudnessLUFS = res.Loudness
	info.Renditions = res.Renditions
	return info, nil
}

// avJob is one render or clip: the caller's context, the deadline derived
// from the media's duration, and the runs made under it.
type avJob struct {
	cfg      AVConfig
	path     string          // the input, for tidier error messages
	parent   context.Context // the caller's: its end means "stop", not "too slow"
	ctx      context.Context // parent with the deadline
	cancel   context.CancelFunc
	deadline time.Duration
}

func newAVJob(ctx context.Context, cfg AVConfig, path string, seconds float64) *avJob {
	d := cfg.deadline(seconds)
	jctx, cancel := context.WithTimeout(ctx, d)
	return &avJob{cfg: cfg, path: path, parent: ctx, ctx: jctx, cancel: cancel, deadline: d}
}

// ffmpeg runs ffmpeg with args under the job's deadline and memory limit,
// stdout to w (nil: discarded). step names the rendition in errors. On
// success it returns ffmpeg's stderr tail for callers that parse it.
func (j *avJob) ffmpeg(step string, args []string, w io.Writer) (string, error) {
	stderr, err := runCommand(j.ctx, command{Path: j.cfg.FFmpeg, Args: args, Stdout: w, Env: avEnv(), MemoryLimit: j.cfg.MemoryLimit})
	if err != nil {
		return stderr, j.explain(step, err)
	}
	return stderr, nil
}

// explain turns a failed run into an error for admins: stopped by the
// caller, past the deadline (retryable), the file's fault (ErrUnsupported),
// or anything else (retryable).
func (j *avJob) explain(step string, err error) error {
	var re *runError
	if !errors.As(err, &re) {
		return fmt.Errorf("%s: %w", step, err)
	}
	switch {
	case re.TimedOut && j.parent.Err() != nil:
		return fmt.Errorf("%s: stopped: %w", step, j.parent.Err())
	case re.TimedOut:
		return fmt.Errorf("%s: took longer than %v, the limit for this file; %s was killed", step, j.deadline.Round(time.Millisecond), filepath.Base(re.Program))
	case re.Signal == 0 && re.ExitCode > 0 && fileFault(re.Stderr):
		return unsupportedFormat("%s: %s", step, cleanStderr(re.Stderr, j.path))
	}
	re.Stderr = cleanStderr(re.Stderr, j.path)
	return fmt.Errorf("%s: %w", step, re)
}

// avEnv is the environment of ffmpeg and ffprobe: the server's, with
// glibc's malloc arenas limited so that many decoder threads do not
// reserve address space (RLIMIT_AS counts reservations, not use).
func avEnv() []string {
	return append(os.Environ(), "MALLOC_ARENA_MAX=2")
}

// fileFaults are stderr lines of ffmpeg and ffprobe that mean the file
// itself cannot be read, so a retry would fail the same way.
var fileFaults = []string{
	"Invalid data found when processing input",
	"Format not on whitelist",
	"moov atom not found",
	"could not find codec parameters",
	"does not contain any stream",
	"Decoding requested, but no decoder found",
	"End of file",
}

func fileFault(stderr string) bool {
	for _, f := range fileFaults {
		if strings.Contains(stderr, f) {
			return true
		}
	}
	return false
}

var ffmpegContext = regexp.MustCompile(`\[([^\]@]+) @ 0x[0-9a-f]+\] ?`)

// cleanStderr shortens ffmpeg's log lines for humans: "[mov,mp4,… @
// 0x55d…] moov atom not found" becomes "mov,mp4,…: moov atom not found",
// and the long input path becomes "input".
func cleanStderr(s, path string) string {
	s = ffmpegContext.ReplaceAllString(s, "$1: ")
	if path != "" {
		s = strings.ReplaceAll(s, "file:"+path, "input")
		s = strings.ReplaceAll(s, path, "input")
	}
	s = strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " | ")), " ")
	return strings.TrimSpace(s)
}

// unsupportedFormat is an ErrUnsupported whose message starts
// "unsupported format: ".
func unsupportedFormat(format string, args ...any) error {
	return &kindError{kind: ErrUnsupported, msg: "unsupported format: " + fmt.Sprintf(format, args...)}
}
