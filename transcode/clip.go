package transcode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ClipRequest cuts [Start, End) of a proxy or an original.
type ClipRequest struct {
	Src        string // file path, without extension: the format is probed
	Start, End time.Duration
	Audio      bool // true: M4A (AAC) output; false: MP4 (H.264/AAC)
}

// ErrClipRange: the requested times are not inside the media (a negative
// start, an end not after the start, a start at or past the end of the
// file). The caller's mistake, not the file's: not IsPermanent.
var ErrClipRange = errors.New("transcode: clip outside the media")

// Clip writes the excerpt [req.Start, req.End) of req.Src to w as it is
// encoded: a fragmented MP4 (M4A with req.Audio) with an empty moov first,
// playable while it downloads. It starts exactly at Start, re-encoding
// from the keyframe before it rather than copying from there, and ends at
// End or at the end of the media, whichever comes first. A video keeps its
// displayed size (rotation applied, deinterlaced, square pixels, even
// sides): H.264 CRF 20 + AAC 128k stereo; audio is AAC 128k, mono or
// stereo as the source.
//
// Src is probed first, with the same allowlist as RenderAV, and ffmpeg
// runs under the same rules, with a deadline of cfg.TimeoutBase +
// cfg.TimeoutPerSecond × the clip's length. When ctx ends (the client went
// away) ffmpeg is killed. An error from w stops ffmpeg too.
//
// Errors: ErrClipRange for times outside the media; ErrUnsupported when
// Src is not allowed or has no stream of the wanted kind; any other error
// may be transient. Bytes may have been written to w before an error.
// cfg.ScratchDir is not used.
func Clip(ctx context.Context, cfg AVConfig, req ClipRequest, w io.Writer) error {
	if err := cfg.withDefaults(); err != nil {
		return err
	}
	if req.Start < 0 || req.End <= req.Start {
		return fmt.Errorf("%w: %v to %v", ErrClipRange, req.Start, req.End)
	}
	abs, err := filepath.Abs(req.Src)
	if err != nil {
		return fmt.Errorf("transcode: clip %s: %w", req.Src, err)
	}
	fail := func(err error) error {
		return fmt.Errorf("transcode: clip %s: %w", filepath.Base(abs), err)
	}
	p, err := probeMedia(ctx, cfg, abs)
	if err != nil {
		return fail(err)
	}
	end := req.End
	if p.Duration > 0 {
		dur := time.Duration(p.Duration * float64(time.Second))
		if req.Start >= dur {
			return fail(fmt.Errorf("%w: starts at %v, the media lasts %v", ErrClipRange, req.Start, dur.Round(time.Millisecond)))
		}
		end = min(end, dur)
	}
	plan := clipPlan{
		In:          avInput{Path: abs, Format: p.Demuxer, Seek: req.Start},
		Duration:    end - req.Start,
		AudioStream: -1,
		Threads:     cfg.Threads,
	}
	if p.Audio != nil {
		plan.AudioStream, plan.AudioRate = p.Audio.Index, atoi(p.Audio.SampleRate)
		plan.AudioChannels = 2
		if req.Audio && p.Audio.Channels == 1 {
			plan.AudioChannels = 1
		}
	}
	switch {
	case req.Audio && p.Audio == nil:
		return fail(unsupportedFormat("no audio stream to cut"))
	case !req.Audio && p.Video == nil:
		return fail(unsupportedFormat("no video stream to cut"))
	case !req.Audio:
		w, h := proxySize(p.Width, p.Height, max(p.Width, p.Height)) // even sides, same size
		plan.Video = &videoFrames{Stream: p.Video.Index, Width: w, Height: h, Deinterlace: p.Interlaced}
	}
	j := newAVJob(ctx, cfg, abs, plan.Duration.Seconds())
	defer j.cancel()
	if _, err := j.ffmpeg("clip", clipArgs(plan), w); err != nil {
		return fail(err)
	}
	return nil
}

// Clipper is Clip with its configuration, for a server's clip route.
type Clipper struct{ Config AVConfig }

// Clip calls the package's Clip with c.Config.
func (c Clipper) Clip(ctx context.Context, req ClipRequest, w io.Writer) error {
	return Clip(ctx, c.Config, req, w)
}

// maxClipTime bounds ParseClipTime: nothing in the archive lasts 100 hours.
const maxClipTime = 100 * time.Hour

// ParseClipTime reads a time in a media file: seconds ("12", "12.5"),
// "mm:ss[.fff]" or "hh:mm:ss[.fff]", up to nanoseconds. It refuses
// signs, exponents, NaN and infinities, minutes or seconds of 60 and more
// after a colon, and times of maxClipTime or more.
func ParseClipTime(s string) (time.Duration, error) {
	bad := func() (time.Duration, error) { return 0, fmt.Errorf("transcode: invalid time %q", s) }
	parts := strings.Split(s, ":")
	if len(parts) > 3 {
		return bad()
	}
	sec, ok := parseSeconds(parts[len(parts)-1])
	if !ok || (len(parts) > 1 && sec >= time.Minute) {
		return bad()
	}
	total := sec
	for i, unit := range []time.Duration{time.Minute, time.Hour}[:len(parts)-1] {
		field := parts[len(parts)-2-i]
		v, err := strconv.ParseUint(field, 10, 32)
		if err != nil || field == "" || field[0] == '+' || len(field) > 3 || (unit == time.Minute && len(parts) == 3 && v >= 60) {
			return bad()
		}
		total += time.Duration(v) * unit
	}
	if total >= maxClipTime {
		return bad()
	}
	return total, nil
}

// parseSeconds reads digits with an optional fraction of up to 9 digits,
// exactly (no float rounding).
func parseSeconds(s string) (time.Duration, bool) {
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" || len(whole) > 6 || (hasFrac && (frac == "" || len(frac) > 9)) {
		return 0, false
	}
	for _, r := range whole + frac {
		if r < '0' || r > '9' {
			return 0, false
		}
	}
	w, _ := strconv.ParseInt(whole, 10, 64)
	d := time.Duration(w) * time.Second
	if hasFrac {
		f, _ := strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
		d += time.Duration(f)
	}
	return d, true
}
