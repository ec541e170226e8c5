package transcode

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The AV benchmarks time Acervo's own path (probe, argv, runner, the Go
// side of the waveform and of clips). scripts/bench-av runs them on its
// inputs through these variables and times the same ffmpeg command lines
// from the shell; unset, each makes a small input of its own.
//
//	ACERVO_BENCH_AV_VIDEO    a video for BenchmarkProxy
//	ACERVO_BENCH_AV_AUDIO    a recording for BenchmarkWaveform
//	ACERVO_BENCH_AV_CLIPSRC  a proxy for BenchmarkClip (cut from 25 % to 75 %)
//	ACERVO_BENCH_AV_SCRATCH  where BenchmarkProxy writes proxy.mp4, and the
//	                         benchmarks the argv of their ffmpeg runs
//	                         (proxy.argv, waveform.argv, NUL-separated)
//	                         for the shell to run; kept afterwards

// BenchmarkProxy makes proxy.mp4 as renderVideo does: ffprobe, then the
// proxy's ffmpeg run. It reports the speed as a multiple of real time.
func BenchmarkProxy(b *testing.B) {
	cfg := benchAVConfig(b)
	src := benchInput(b, "ACERVO_BENCH_AV_VIDEO", lavfiAV("testsrc2=s=1920x1080:r=30:d=10", "libx264", "aac", "mp4"))
	out := filepath.Join(cfg.ScratchDir, "proxy.mp4")
	p, err := probeMedia(b.Context(), cfg, src)
	if err != nil {
		b.Fatal(err)
	}
	argv := strings.Join(append([]string{cfg.FFmpeg}, proxyArgs(proxyPlanFor(p, cfg.Threads, out))...), "\x00")
	if err := os.WriteFile(filepath.Join(cfg.ScratchDir, "proxy.argv"), []byte(argv), 0o644); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		os.Remove(out) // ffmpeg without -y refuses to overwrite
		p, err := probeMedia(b.Context(), cfg, src)
		if err != nil {
			b.Fatal(err)
		}
		j := newAVJob(b.Context(), cfg, src, p.Duration)
		if _, err := j.ffmpeg("proxy.mp4", proxyArgs(proxyPlanFor(p, cfg.Threads, out)), nil); err != nil {
			b.Fatal(err)
		}
		j.cancel()
	}
	b.ReportMetric(p.Duration*float64(b.N)/b.Elapsed().Seconds(), "x-realtime")
}

// BenchmarkWaveform decodes a recording into waveform.json and its
// loudness, as renderAudio does (without audio.m4a).
func BenchmarkWaveform(b *testing.B) {
	cfg := benchAVConfig(b)
	src := benchInput(b, "ACERVO_BENCH_AV_AUDIO", []string{"-f", "lavfi", "-i", "anoisesrc=c=pink:r=48000:a=0.2:d=120", "-ac", "2", "-c:a", "flac", "-f", "flac"})
	if p, err := probeMedia(b.Context(), cfg, src); err == nil {
		argv := strings.Join(append([]string{cfg.FFmpeg}, waveformArgs(audioPlanFor(p, 0, ""))...), "\x00")
		if err := os.WriteFile(filepath.Join(cfg.ScratchDir, "waveform.argv"), []byte(argv), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	var seconds float64
	for b.Loop() {
		p, err := probeMedia(b.Context(), cfg, src)
		if err != nil {
			b.Fatal(err)
		}
		j := newAVJob(b.Context(), cfg, src, p.Duration)
		var res avRendered
		if _, err := decodeWaveform(j, audioPlanFor(p, 0, ""), p.Duration, &res); err != nil {
			b.Fatal(err)
		}
		j.cancel()
		if res.Loudness == nil {
			b.Fatal("no loudness")
		}
		seconds = res.Duration
	}
	b.ReportMetric(seconds*float64(b.N)/b.Elapsed().Seconds(), "x-realtime")
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/op")
}

// BenchmarkClip cuts the middle half of a proxy (30 s of a 60 s one) and
// reports the time to Clip's first write: what a browser waits before the
// download starts, less the network.
func BenchmarkClip(b *testing.B) {
	cfg := benchAVConfig(b)
	src := benchInput(b, "ACERVO_BENCH_AV_CLIPSRC", lavfiAV("testsrc2=s=1280x720:r=30:d=20", "libx264", "aac", "mp4"))
	p, err := probeMedia(b.Context(), cfg, src)
	if err != nil {
		b.Fatal(err)
	}
	d := time.Duration(p.Duration * float64(time.Second))
	var first time.Duration
	for b.Loop() {
		w := &firstWriteTimer{start: time.Now()}
		if err := Clip(b.Context(), cfg, ClipRequest{Src: src, Start: d / 4, End: d * 3 / 4}, w); err != nil {
			b.Fatal(err)
		}
		first += w.first
	}
	b.ReportMetric(float64(first.Milliseconds())/float64(b.N), "ms-first-byte")
}

type firstWriteTimer struct {
	start time.Time
	once  sync.Once
	first time.Duration
}

func (w *firstWriteTimer) Write(p []byte) (int, error) {
	w.once.Do(func() { w.first = time.Since(w.start) })
	return len(p), nil
}

func benchAVConfig(b *testing.B) AVConfig {
	b.Helper()
	requireTools(b, "ffmpeg", "ffprobe")
	cfg := AVConfig{ScratchDir: os.Getenv("ACERVO_BENCH_AV_SCRATCH")}
	if cfg.ScratchDir == "" {
		cfg.ScratchDir = b.TempDir()
	}
	if err := cfg.withDefaults(); err != nil {
		b.Fatal(err)
	}
	return cfg
}

// benchInput is the file named by the variable env, or one made with args.
func benchInput(b *testing.B, env string, args []string) string {
	b.Helper()
	if p := os.Getenv(env); p != "" {
		return p
	}
	return genMedia(b, filepath.Join(b.TempDir(), "input"), args...)
}
