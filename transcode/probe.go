package transcode

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/comsoc/acervo/catalog"
)

// avFormats is the demuxer allowlist, by ffmpeg's short names: the
// containers of phones, cameras, drones, TV recorders, recorders and
// messaging apps. Each reads only its own file. Left out on purpose are
// demuxers that open other files or URLs (hls, dash, concat, image2
// sequences, subtitle formats with includes, playlists), raw elementary
// streams that probe unreliably, and everything else. A name matches any
// component of ffmpeg's format name: "mov" is "mov,mp4,m4a,3gp,3g2,mj2",
// "matroska" is "matroska,webm".
var avFormats = []string{
	"mov", "matroska", "mpegts", "mpeg", "avi", "flv", "asf", "mxf", // video
	"mp3", "wav", "w64", "flac", "ogg", "aac", "amr", "caf", "aiff", // audio
}

// maxProbeOutput bounds ffprobe's JSON; a real file's is a few kilobytes,
// one with thousands of streams is not media we want.
const maxProbeOutput = 1 << 20

// maxProbeFrameRate is the highest frame rate taken from a file's headers;
// past it the rate is unknown (0). High-speed cameras record 1,000 fps.
const maxProbeFrameRate = 100_000

// maxVideoPixels refuses frame sizes no camera makes (8K is 33 MP) before
// a decoder tries to allocate them.
const maxVideoPixels = 8192 * 8192

// mediaProbe is what ffprobe found, reduced to what the renders need.
type mediaProbe struct {
	path     string       // the file probed
	Demuxer  string       // the avFormats entry the file matched, for -f
	Kind     string       // catalog.KindVideo or catalog.KindAudio
	Video    *probeStream // the video stream rendered, nil for audio
	Audio    *probeStream // the audio stream rendered, nil when none
	Duration float64      // seconds; 0 when unknown
	// Width, Height are the displayed size: pixel aspect and rotation applied.
	Width, Height int
	Rotation      int // clockwise degrees the display applies: 0, 90, 180, 270
	Interlaced    bool
	FrameRate     float64
	Container     string // ffprobe's format name
	Bitrate       int64
	CapturedAt    *time.Time
	GPS           *GPS
}

// ffprobe's JSON (-show_format -show_streams). Numbers it prints as
// strings stay strings here and are parsed leniently: a hostile file can
// make any field odd.
type probeOutput struct {
	Format  probeFormat   `json:"format"`
	Streams []probeStream `json:"streams"`
}

type probeFormat struct {
	FormatName string            `json:"format_name"`
	Duration   string            `json:"duration"`
	BitRate    string            `json:"bit_rate"`
	Tags       map[string]string `json:"tags"`
}

type probeStream struct {
	Index        int    `json:"index"`
	CodecName    string `json:"codec_name"`
	CodecType    string `json:"codec_type"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
	SAR          string `json:"sample_aspect_ratio"`
	FieldOrder   string `json:"field_order"`
	AvgFrameRate string `json:"avg_frame_rate"`
	RFrameRate   string `json:"r_frame_rate"`
	SampleRate   string `json:"sample_rate"`
	Channels     int    `json:"channels"`
	Duration     string `json:"duration"`
	StartTime    string `json:"start_time"`
	Disposition  struct {
		AttachedPic int `json:"attached_pic"`
		StillImage  int `json:"still_image"`
	} `json:"disposition"`
	Tags     map[string]string `json:"tags"`
	SideData []struct {
		Type     string  `json:"side_data_type"`
		Rotation float64 `json:"rotation"`
	} `json:"side_data_list"`
}

// probeMedia runs ffprobe on path (absolute) within cfg.ProbeTimeout and
// reads the result. A format outside avFormats, a file ffprobe cannot read
// and a file without a decodable audio or video stream are ErrUnsupported.
func probeMedia(ctx context.Context, cfg AVConfig, path string) (mediaProbe, error) {
	j := &avJob{cfg: cfg, path: path, parent: ctx, deadline: cfg.ProbeTimeout}
	j.ctx, j.cancel = context.WithTimeout(ctx, cfg.ProbeTimeout)
	defer j.cancel()
	stdout := &boundedBuffer{max: maxProbeOutput}
	stderr, err := runCommand(j.ctx, command{Path: cfg.FFprobe, Args: probeArgs(path), Stdout: stdout, Env: avEnv(), MemoryLimit: cfg.MemoryLimit})
	var re *runError
	if errors.As(err, &re) && !re.TimedOut {
		if m := notOnWhitelist.FindStringSubmatch(re.Stderr); m != nil {
			return mediaProbe{}, unsupportedFormat("%s is not an allowed audio or video format", m[1])
		}
	}
	if err != nil {
		return mediaProbe{}, j.explain("ffprobe", err)
	}
	if stdout.overflow {
		return mediaProbe{}, unsupportedFormat("ffprobe's description is over %d bytes", maxProbeOutput)
	}
	p, err := parseProbe(stdout.buf)
	p.path = path
	if err != nil && p.Video == nil {
		if w, h, ok := refusedFrameSize(stderr); ok {
			// ffmpeg's decoders refuse a frame size past about 268 MP and
			// then report the stream as 0×0, which analyse skips: say the
			// size the file declared, not just "no decodable stream".
			err = unsupportedFormat("video frames of %d×%d are over the limit of %d pixels", w, h, maxVideoPixels)
		}
	}
	return p, err
}

// parseProbe reads ffprobe's JSON description of a file.
func parseProbe(data []byte) (mediaProbe, error) {
	var out probeOutput
	if err := json.Unmarshal(data, &out); err != nil {
		// ffprobe's JSON is sound; values out of range are the file's.
		return mediaProbe{}, unsupportedFormat("ffprobe's description is unreadable: %v", err)
	}
	return analyse(out)
}

var invalidPictureSize = regexp.MustCompile(`Picture size ([0-9]+)x([0-9]+) is invalid`)

// refusedFrameSize finds in ffmpeg's log the frame size its decoders
// refused (libavutil's av_image_check_size).
func refusedFrameSize(stderr string) (w, h int, ok bool) {
	m := invalidPictureSize.FindStringSubmatch(stderr)
	if m == nil {
		return 0, 0, false
	}
	return atoi(m[1]), atoi(m[2]), true
}

var notOnWhitelist = regexp.MustCompile(`\[([^\]@ ]+) @ 0x[0-9a-f]+\] Format not on whitelist`)

// analyse picks the streams to render and reads the metadata.
func analyse(out probeOutput) (mediaProbe, error) {
	p := mediaProbe{Container: out.Format.FormatName}
	p.Demuxer = allowedDemuxer(out.Format.FormatName)
	if p.Demuxer == "" {
		// ffprobe's whitelist refuses these first; this is the second lock.
		return p, unsupportedFormat("%q is not an allowed audio or video format", out.Format.FormatName)
	}
	for i := range out.Streams {
		s := &out.Streams[i]
		switch {
		case s.CodecName == "" || s.CodecName == "none":
			// No decoder knows it.
		case s.CodecType == "video" && p.Video == nil && s.Width > 0 && s.Height > 0 &&
			s.Disposition.AttachedPic == 0 && s.Disposition.StillImage == 0:
			p.Video = s
		case s.CodecType == "audio" && p.Audio == nil && s.Channels > 0 && atoi(s.SampleRate) > 0:
			p.Audio = s
		}
	}
	switch {
	case p.Video != nil:
		p.Kind = catalog.KindVideo
	case p.Audio != nil:
		p.Kind = catalog.KindAudio
	default:
		return p, unsupportedFormat("no decodable audio or video stream in %s", out.Format.FormatName)
	}
	p.Duration = seconds(out.Format.Duration)
	for _, s := range []*probeStream{p.Video, p.Audio} {
		if s != nil && p.Duration == 0 {
			p.Duration = seconds(s.Duration)
		}
	}
	// Converted unchecked, a bit_rate of "1e300" became a negative int64.
	if br := atof(out.Format.BitRate); br < 1<<62 {
		p.Bitrate = int64(br)
	}
	if v := p.Video; v != nil {
		if int64(v.Width)*int64(v.Height) > maxVideoPixels {
			return p, unsupportedFormat("video frames of %d×%d are over the limit of %d pixels", v.Width, v.Height, maxVideoPixels)
		}
		p.Rotation = streamRotation(v)
		p.Width, p.Height = displaySize(v.Width, v.Height, rational(v.SAR), p.Rotation)
		switch v.FieldOrder {
		case "tt", "bb", "tb", "bt":
			p.Interlaced = true
		}
		if p.FrameRate = rational(v.AvgFrameRate); p.FrameRate == 0 {
			p.FrameRate = rational(v.RFrameRate)
		}
		if p.FrameRate > maxProbeFrameRate {
			p.FrameRate = 0 // unknown: "1/1e-320" is +Inf, which the asset's JSON cannot hold
		}
	}
	p.CapturedAt = capturedAt(out.Format.Tags, p.Video, p.Audio)
	for _, k := range []string{"com.apple.quicktime.location.ISO6709", "location", "location-eng"} {
		if g, ok := parseISO6709(out.Format.Tags[k]); ok {
			p.GPS = &g
			break
		}
	}
	return p, nil
}

// info is the AVInfo of the probe, without renditions.
func (p mediaProbe) info() AVInfo {
	m := catalog.MediaInfo{
		Container:  p.Container,
		FrameRate:  math.Round(p.FrameRate*1000) / 1000,
		Bitrate:    p.Bitrate,
		Interlaced: p.Interlaced,
		Rotation:   p.Rotation,
	}
	if p.Video != nil {
		m.VideoCodec = p.Video.CodecName
	}
	if p.Audio != nil {
		m.AudioCodec = p.Audio.CodecName
		m.Channels = p.Audio.Channels
		m.SampleRate = atoi(p.Audio.SampleRate)
	}
	return AVInfo{
		Kind: p.Kind, Width: p.Width, Height: p.Height, Duration: p.Duration,
		CapturedAt: p.CapturedAt, GPS: p.GPS, Media: m,
	}
}

// allowedDemuxer returns the avFormats entry matching one of the
// comma-separated names of ffprobe's format_name, or "".
func allowedDemuxer(formatName string) string {
	for _, name := range strings.Split(formatName, ",") {
		for _, f := range avFormats {
			if name == f {
				return f
			}
		}
	}
	return ""
}

// streamRotation returns the clockwise rotation the display applies, from
// the display matrix (ffprobe reports it counter-clockwise) or, in files
// of old muxers, the "rotate" tag.
func streamRotation(s *probeStream) int {
	deg := 0.0
	found := false
	for _, sd := range s.SideData {
		if sd.Type == "Display Matrix" {
			deg, found = -sd.Rotation, true
		}
	}
	if !found {
		deg = atof(s.Tags["rotate"])
	}
	r := int(math.Round(deg/90)) * 90 % 360
	if r < 0 {
		r += 360
	}
	return r
}

// displaySize applies the sample aspect ratio (to the width, as players
// do) and a quarter-turn rotation to a stored frame size. A ratio that
// would take the frame to no pixels or past maxVideoPixels is not a real
// one and is ignored: unchecked, a SAR of "1e300:1" made the width negative.
func displaySize(w, h int, sar float64, rotation int) (int, int) {
	if sar > 0 && math.Abs(sar-1) > 1e-6 {
		if dw := math.Round(float64(w) * sar); dw >= 1 && dw*float64(h) <= maxVideoPixels {
			w = int(dw)
		}
	}
	if rotation == 90 || rotation == 270 {
		w, h = h, w
	}
	return w, h
}

// capturedAt prefers Apple's creationdate, which keeps the phone's UTC
// offset, to creation_time (UTC, and often the muxing time of an editor or
// a zero date).
func capturedAt(tags map[string]string, streams ...*probeStream) *time.Time {
	if t, err := time.Parse("2006-01-02T15:04:05-0700", tags["com.apple.quicktime.creationdate"]); err == nil && plausibleDate(t) && plausibleOffset(t) {
		return &t
	}
	cands := []string{tags["creation_time"]}
	for _, s := range streams {
		if s != nil {
			cands = append(cands, s.Tags["creation_time"])
		}
	}
	for _, c := range cands {
		if t, err := time.Parse(time.RFC3339Nano, c); err == nil && plausibleDate(t) {
			t = t.UTC()
			return &t
		}
	}
	return nil
}

// plausibleDate rejects the zero dates of QuickTime (1904) and Unix (1970)
// that muxers write when they know nothing.
func plausibleDate(t time.Time) bool {
	return t.Year() > 1970 && t.Year() < 2200
}

var iso6709 = regexp.MustCompile(`^([+-][0-9]+(?:\.[0-9]+)?)([+-][0-9]+(?:\.[0-9]+)?)([+-][0-9]+(?:\.[0-9]+)?)?(?:CRS[A-Za-z0-9_]+)?/?$`)

// parseISO6709 reads a point like "+19.4326-099.1332+2240.000/" (degrees)
// or "+1925.96-09907.99/" (degrees and minutes). Latitude and longitude
// 0,0 mean "no fix" to some cameras and are refused.
func parseISO6709(s string) (GPS, bool) {
	m := iso6709.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return GPS{}, false
	}
	lat, ok1 := iso6709Angle(m[1], 2)
	lon, ok2 := iso6709Angle(m[2], 3)
	if !ok1 || !ok2 || math.Abs(lat) > 90 || math.Abs(lon) > 180 || (lat == 0 && lon == 0) {
		return GPS{}, false
	}
	g := GPS{Lat: lat, Lon: lon}
	if m[3] != "" {
		if alt, err := strconv.ParseFloat(m[3], 64); err == nil {
			g.Alt = &alt
		}
	}
	return g, true
}

// iso6709Angle reads ±D[.d], ±DDMM[.m] or ±DDMMSS[.s] where D has degDigits
// digits (2 for latitude, 3 for longitude).
func iso6709Angle(s string, degDigits int) (float64, bool) {
	sign := 1.0
	if s[0] == '-' {
		sign = -1
	}
	intPart, frac, _ := strings.Cut(s[1:], ".")
	whole, err := strconv.Atoi(intPart)
	if err != nil || len(intPart) > 9 {
		return 0, false
	}
	var f float64
	if frac != "" {
		if f, err = strconv.ParseFloat("0."+frac, 64); err != nil {
			return 0, false
		}
	}
	switch n := len(intPart); {
	case n <= degDigits:
		return sign * (float64(whole) + f), true
	case n == degDigits+2:
		mm := float64(whole%100) + f
		return sign * (float64(whole/100) + mm/60), mm < 60
	case n == degDigits+4:
		mm, ss := whole/100%100, float64(whole%100)+f
		return sign * (float64(whole/10000) + float64(mm)/60 + ss/3600), mm < 60 && ss < 60
	}
	return 0, false
}

// rational parses ffprobe's "30000/1001" or "4:3" or "25"; 0 when invalid.
func rational(s string) float64 {
	num, den, ok := strings.Cut(s, "/")
	if !ok {
		num, den, ok = strings.Cut(s, ":")
	}
	if !ok {
		return atof(s)
	}
	n, d := atof(num), atof(den)
	if d == 0 {
		return 0
	}
	return n / d
}

// seconds parses a duration in seconds; 0 (unknown) when it is not one or
// does not fit a time.Duration (the job deadlines are computed from it).
func seconds(s string) float64 {
	if v := atof(s); v < float64(math.MaxInt64/int64(time.Second)) {
		return v
	}
	return 0
}

// atof parses a finite, non-negative number; anything else is 0.
func atof(s string) float64 {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0
	}
	return v
}

func atoi(s string) int {
	return int(min(atof(s), math.MaxInt32))
}
