package transcode

// The command lines of ffprobe and ffmpeg, built by pure functions so that
// testdata/av-commands.golden pins every option (TestAVCommandLines).
//
// Every run reads its input through avInput.args: only the file protocol
// (-protocol_whitelist file), only the demuxers of avFormats
// (-format_whitelist, which also binds any demuxer a demuxer might open),
// and a forced -f with the demuxer ffprobe detected, so ffmpeg never probes
// again. Paths are absolute and prefixed "file:", so no name can read as an
// option or another protocol. ffmpeg never reads stdin (-nostdin), and
// writes only files in the job's scratch folder or pipe:1.

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Encoder settings shared by proxies and clips.
const (
	proxyCRF     = 23   // x264 quality of proxies; capped by proxyMaxrate
	proxyMaxrate = "2M" // so a proxy streams on a weak connection
	proxyBufsize = "4M"
	clipCRF      = 20 // clips are downloads for editing: better quality, no cap
	aacBitrate   = "128k"
	maxFrameRate = "60" // slow-motion phone video plays at 60 fps at most
	// keyframeEvery forces a keyframe every 2 s of output: browsers seek
	// and clips start fast, fragments stay short, sprites can sample
	// keyframes only.
	keyframeEvery = "expr:gte(t,n_forced*2)"
	maxSampleRate = 48000 // AAC above it is of no use in a browser
)

// ffmpegGlobal starts every ffmpeg command line.
var ffmpegGlobal = []string{"-nostdin", "-hide_banner", "-nostats", "-loglevel", "error"}

// probeArgs describes the file at path as JSON. ffprobe never reads stdin
// (it has no -nostdin); the runner gives it /dev/null.
func probeArgs(path string) []string {
	return []string{
		"-hide_banner", "-loglevel", "error",
		"-protocol_whitelist", "file", "-format_whitelist", strings.Join(avFormats, ","),
		"-show_format", "-show_streams", "-print_format", "json",
		"-i", "file:" + path,
	}
}

// avInput is one input file as ffmpeg opens it.
type avInput struct {
	Path   string // absolute
	Format string // demuxer, an avFormats entry
	// Seek starts decoding at this time: a fast seek to the keyframe
	// before it, then exact decoding, with output timestamps from 0.
	Seek time.Duration
	// Limit reads at most this much of the input (0: all).
	Limit time.Duration
	// KeyframesOnly decodes keyframes only (-skip_frame nokey).
	KeyframesOnly bool
}

func (in avInput) args() []string {
	a := []string{"-protocol_whitelist", "file", "-format_whitelist", strings.Join(avFormats, ","), "-f", in.Format}
	if in.Format == "mov" {
		// Already ffmpeg's defaults; spelled out because they are what
		// would let a MOV read other files (external data references).
		a = append(a, "-enable_drefs", "0", "-use_absolute_path", "0")
	}
	if in.KeyframesOnly {
		a = append(a, "-skip_frame", "nokey")
	}
	if in.Seek > 0 {
		a = append(a, "-ss", ffSeconds(in.Seek))
	}
	if in.Limit > 0 {
		a = append(a, "-t", ffSeconds(in.Limit))
	}
	return append(a, "-i", "file:"+in.Path)
}

// videoFrames is how one video stream becomes frames for an encoder:
// autorotated (ffmpeg's default, which also clears the display matrix of
// the output), deinterlaced when needed, scaled to an exact even size
// with square pixels.
type videoFrames struct {
	Stream        int // input stream index
	Width, Height int // output size, even
	Deinterlace   bool
}

func (v videoFrames) filter() string {
	var f []string
	if v.Deinterlace {
		f = append(f, "bwdif=mode=send_frame:parity=auto:deint=all")
	}
	f = append(f, fmt.Sprintf("scale=%d:%d", v.Width, v.Height), "setsar=1")
	return strings.Join(f, ",")
}

// proxyPlan is one proxy.mp4: H.264 High + AAC stereo, capped bitrate,
// +faststart, the whole duration.
type proxyPlan struct {
	In          avInput
	Video       videoFrames
	AudioStream int // -1: no audio
	AudioRate   int // the source's sample rate
	Threads     int
	Out         string
}

func proxyArgs(p proxyPlan) []string {
	a := slices.Concat(ffmpegGlobal, p.In.args(), mapStream(p.Video.Stream))
	if p.AudioStream >= 0 {
		a = append(a, mapStream(p.AudioStream)...)
	}
	a = append(a, "-sn", "-dn", "-map_metadata", "-1", "-map_chapters", "-1", "-vf", p.Video.filter())
	a = append(a, x264Args(proxyCRF, true)...)
	if p.AudioStream >= 0 {
		a = append(a, aacArgs(2, p.AudioRate)...)
	}
	a = append(a, threadArgs(p.Threads)...)
	return append(a, "-max_muxing_queue_size", "1024", "-movflags", "+faststart", "-f", "mp4", "file:"+p.Out)
}

// posterPlan is one poster.jpg. With Pick, dark frames are skipped and the
// most representative of posterFrames is kept (ffmpeg's thumbnail filter);
// without, the first frame is.
type posterPlan struct {
	In    avInput
	Video videoFrames
	Pick  bool
	Out   string
}

// Poster picking: frames whose mean luma (limited range, 16 is black) is
// at most posterMinLuma are skipped; the thumbnail filter compares
// posterFrames frames (2 s at 25 fps) and keeps the one nearest their
// average histogram.
const (
	posterMinLuma = 32
	posterFrames  = 50
	posterQuality = "3" // mjpeg qscale, 2 (best) to 31
	spriteQuality = "5"
)

func posterArgs(p posterPlan) []string {
	vf := p.Video.filter()
	if p.Pick {
		vf += fmt.Sprintf(",signalstats,metadata=select:key=lavfi.signalstats.YAVG:value=%d:function=greater,thumbnail=%d", posterMinLuma, posterFrames)
	}
	return slices.Concat(ffmpegGlobal, p.In.args(), mapStream(p.Video.Stream),
		[]string{"-vf", vf, "-frames:v", "1", "-q:v", posterQuality, "-f", "mjpeg", "file:" + p.Out})
}

// spritePlan is one sprite.jpg of the layout's tiles, read from a proxy.
type spritePlan struct {
	In     avInput
	Layout spriteLayout
	Out    string
}

func spriteArgs(p spritePlan) []string {
	l := p.Layout
	// fps emits the frame at the start of each interval: tile i shows time
	// i × Interval, where cue i of sprite.vtt starts.
	vf := fmt.Sprintf("fps=fps=%d/%s,scale=%d:%d,setsar=1,tile=%dx%d:nb_frames=%d",
		l.Tiles, strconv.FormatFloat(l.Duration, 'f', 3, 64), l.TileW, l.TileH, l.Cols, l.Rows, l.Tiles)
	return slices.Concat(ffmpegGlobal, p.In.args(),
		[]string{"-map", "0:v:0", "-vf", vf, "-frames:v", "1", "-q:v", spriteQuality, "-f", "mjpeg", "file:" + p.Out})
}

// audioPlan is one audio stream as audio.m4a (Out) or as the waveform's
// PCM: Channels is 1 for a mono source, else 2.
type audioPlan struct {
	In         avInput
	Stream     int
	Channels   int
	SampleRate int // the source's
	Threads    int
	Out        string
}

func audioProxyArgs(p audioPlan) []string {
	a := slices.Concat(ffmpegGlobal, p.In.args(), mapStream(p.Stream),
		[]string{"-vn", "-sn", "-dn", "-map_metadata", "-1", "-map_chapters", "-1"},
		aacArgs(p.Channels, p.SampleRate), threadArgs(p.Threads))
	return append(a, "-movflags", "+faststart", "-f", "mp4", "file:"+p.Out)
}

// waveformArgs decodes the stream once into two branches: unsigned 8-bit
// PCM at the source's rate on stdout for the waveform, and the EBU R128
// meter, whose summary ffmpeg logs at level info on stderr at the end
// (framelog=verbose keeps the per-frame lines out).
func waveformArgs(p audioPlan) []string {
	layout := "stereo"
	if p.Channels == 1 {
		layout = "mono"
	}
	graph := fmt.Sprintf("[0:%d]asplit=2[wave][loud];[loud]ebur128=framelog=verbose,anullsink;"+
		"[wave]aformat=sample_fmts=u8:sample_rates=%d:channel_layouts=%s[pcm]", p.Stream, p.SampleRate, layout)
	return slices.Concat([]string{"-nostdin", "-hide_banner", "-nostats", "-loglevel", "info"}, p.In.args(),
		[]string{"-filter_complex", graph, "-map", "[pcm]", "-c:a", "pcm_u8", "-f", "u8", "pipe:1"})
}

// clipPlan is one excerpt on stdout as fragmented MP4, playable while it
// downloads. In.Seek is its start; Video nil makes an M4A.
type clipPlan struct {
	In            avInput
	Duration      time.Duration
	Video         *videoFrames
	AudioStream   int // -1: none
	AudioChannels int
	AudioRate     int
	Threads       int
}

func clipArgs(p clipPlan) []string {
	a := slices.Concat(ffmpegGlobal, p.In.args(), []string{"-t", ffSeconds(p.Duration)})
	if p.Video != nil {
		a = append(a, mapStream(p.Video.Stream)...)
	}
	if p.AudioStream >= 0 {
		a = append(a, mapStream(p.AudioStream)...)
	}
	a = append(a, "-sn", "-dn", "-map_metadata", "-1", "-map_chapters", "-1")
	if p.Video != nil {
		a = append(a, "-vf", p.Video.filter())
		a = append(a, x264Args(clipCRF, false)...)
		// No B-frames: a fragmented MP4 has no edit list to hide their
		// delay, and the clip would start two frames late.
		a = append(a, "-bf", "0")
	}
	if p.AudioStream >= 0 {
		a = append(a, aacArgs(p.AudioChannels, p.AudioRate)...)
	}
	a = append(a, threadArgs(p.Threads)...)
	if p.Video != nil {
		// A fragment per keyframe, so one every 2 s.
		a = append(a, "-movflags", "frag_keyframe+empty_moov+default_base_moof")
	} else {
		// frag_keyframe cuts audio-only files just once, at the end.
		a = append(a, "-movflags", "empty_moov+default_base_moof", "-frag_duration", "1000000")
	}
	return append(a, "-f", "mp4", "pipe:1")
}

func x264Args(crf int, capped bool) []string {
	a := []string{"-c:v", "libx264", "-preset", "veryfast", "-crf", strconv.Itoa(crf)}
	if capped {
		a = append(a, "-maxrate", proxyMaxrate, "-bufsize", proxyBufsize)
	}
	return append(a, "-profile:v", "high", "-pix_fmt", "yuv420p", "-force_key_frames", keyframeEvery, "-fpsmax", maxFrameRate)
}

func aacArgs(channels, sampleRate int) []string {
	a := []string{"-c:a", "aac", "-b:a", aacBitrate, "-ac", strconv.Itoa(channels)}
	if sampleRate > maxSampleRate {
		a = append(a, "-ar", strconv.Itoa(maxSampleRate))
	}
	return a
}

func mapStream(i int) []string { return []string{"-map", "0:" + strconv.Itoa(i)} }

func threadArgs(n int) []string {
	if n <= 0 {
		return nil
	}
	return []string{"-threads", strconv.Itoa(n)}
}

// ffSeconds formats d for ffmpeg, to the millisecond.
func ffSeconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64)
}
