package transcode

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestAVCommandLines pins the exact argv of every ffprobe and ffmpeg run.
// Run with -update after a deliberate change and review the diff.
func TestAVCommandLines(t *testing.T) {
	const (
		blob    = "/data/blobs/sha256/ab/cd/abcdef0123456789"
		scratch = "/data/staging/job1/0a1b2c3d-"
	)
	var b strings.Builder
	line := func(title, program string, args []string) {
		fmt.Fprintf(&b, "# %s\n%s %s\n", title, program, strings.Join(args, " "))
	}
	line("probe", "ffprobe", probeArgs(blob))

	mov := avInput{Path: blob, Format: "mov"}
	ts := avInput{Path: blob, Format: "mpegts"}
	line("proxy: rotated phone MOV, 1080×1920 displayed", "ffmpeg", proxyArgs(proxyPlan{
		In: mov, Video: videoFrames{Stream: 0, Width: 720, Height: 1280}, AudioStream: 1, AudioRate: 48000, Out: scratch + "proxy.mp4"}))
	line("proxy: interlaced TS, 96 kHz audio first, 2 threads", "ffmpeg", proxyArgs(proxyPlan{
		In: ts, Video: videoFrames{Stream: 1, Width: 1024, Height: 576, Deinterlace: true}, AudioStream: 0, AudioRate: 96000, Threads: 2, Out: scratch + "proxy.mp4"}))
	line("proxy: no audio", "ffmpeg", proxyArgs(proxyPlan{
		In: avInput{Path: blob, Format: "matroska"}, Video: videoFrames{Stream: 0, Width: 640, Height: 360}, AudioStream: -1, Out: scratch + "proxy.mp4"}))

	proxy := avInput{Path: scratch + "proxy.mp4", Format: "mov"}
	frames := videoFrames{Stream: 0, Width: 1280, Height: 720}
	window := proxy
	window.Seek, window.Limit = 6*time.Second, 12*time.Second
	line("poster: 60 s video", "ffmpeg", posterArgs(posterPlan{In: window, Video: frames, Pick: true, Out: scratch + "poster.jpg"}))
	line("poster: first frame", "ffmpeg", posterArgs(posterPlan{In: proxy, Video: frames, Out: scratch + "poster.jpg"}))

	short := spriteLayoutFor(60.021, 1280, 720)
	line("sprite: 60 s", "ffmpeg", spriteArgs(spritePlan{In: proxy, Layout: short, Out: scratch + "sprite.jpg"}))
	long := spriteLayoutFor(3600.5, 720, 1280)
	keyframes := proxy
	keyframes.KeyframesOnly = long.Interval >= spriteKeyframeInterval
	line("sprite: one hour, portrait", "ffmpeg", spriteArgs(spritePlan{In: keyframes, Layout: long, Out: scratch + "sprite.jpg"}))

	voice := audioPlan{In: avInput{Path: blob, Format: "ogg"}, Stream: 0, Channels: 1, SampleRate: 48000, Out: scratch + "audio.m4a"}
	wav := audioPlan{In: avInput{Path: blob, Format: "wav"}, Stream: 0, Channels: 2, SampleRate: 96000, Threads: 1, Out: scratch + "audio.m4a"}
	line("audio.m4a: voice note", "ffmpeg", audioProxyArgs(voice))
	line("audio.m4a: 96 kHz WAV", "ffmpeg", audioProxyArgs(wav))
	line("waveform: voice note", "ffmpeg", waveformArgs(voice))
	line("waveform: 96 kHz WAV", "ffmpeg", waveformArgs(wav))

	clipIn := mov
	clipIn.Seek = 61500 * time.Millisecond
	line("clip: video from 1:01.5, 30 s", "ffmpeg", clipArgs(clipPlan{
		In: clipIn, Duration: 30 * time.Second, Video: &videoFrames{Stream: 0, Width: 1280, Height: 720}, AudioStream: 1, AudioChannels: 2, AudioRate: 48000}))
	audioIn := avInput{Path: blob, Format: "mp3", Seek: 90 * time.Second}
	line("clip: audio, mono", "ffmpeg", clipArgs(clipPlan{In: audioIn, Duration: 12500 * time.Millisecond, AudioStream: 0, AudioChannels: 1, AudioRate: 44100}))

	checkGolden(t, "av-commands.golden", b.String())
}

// TestAVCommandRules checks the rules of invariant 5 on every command line
// a render or clip can build, whatever the golden file says.
func TestAVCommandRules(t *testing.T) {
	in := avInput{Path: "/x/original", Format: "mov", Seek: time.Second}
	plans := map[string][]string{
		"proxy":    proxyArgs(proxyPlan{In: in, Video: videoFrames{Width: 2, Height: 2}, AudioStream: -1, Out: "/s/p"}),
		"poster":   posterArgs(posterPlan{In: in, Video: videoFrames{Width: 2, Height: 2}, Pick: true, Out: "/s/p"}),
		"sprite":   spriteArgs(spritePlan{In: in, Layout: spriteLayoutFor(1, 2, 2), Out: "/s/p"}),
		"audio":    audioProxyArgs(audioPlan{In: in, Channels: 1, SampleRate: 8000, Out: "/s/p"}),
		"waveform": waveformArgs(audioPlan{In: in, Channels: 1, SampleRate: 8000}),
		"clip":     clipArgs(clipPlan{In: in, Duration: time.Second, AudioStream: 0, AudioChannels: 1}),
	}
	for name, args := range plans {
		t.Run(name, func(t *testing.T) {
			if !slices.Contains(args, "-nostdin") || !slices.Contains(args, "-hide_banner") {
				t.Errorf("no -nostdin/-hide_banner: %v", args)
			}
			i := slices.Index(args, "-i")
			if i < 0 || args[i+1] != "file:/x/original" || slices.Index(args[i+1:], "-i") >= 0 {
				t.Fatalf("want exactly one input, file:/x/original: %v", args)
			}
			opts := strings.Join(args[:i], " ")
			for _, want := range []string{"-protocol_whitelist file", "-format_whitelist " + strings.Join(avFormats, ","), "-f mov", "-enable_drefs 0"} {
				if !strings.Contains(opts, want) {
					t.Errorf("input options %q lack %q", opts, want)
				}
			}
			out := args[len(args)-1]
			if !strings.HasPrefix(out, "file:/s/") && out != "pipe:1" {
				t.Errorf("output %q, want a scratch file or pipe:1", out)
			}
		})
	}
}
