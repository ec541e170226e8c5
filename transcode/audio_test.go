package transcode

import (
	"encoding/binary"
	"encoding/json"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/comsoc/acervo/catalog"
)

// audioSources are generated recordings as they reach the fonoteca.
var audioSources = []struct {
	name     string
	args     []string
	speech   string // instead of args: Spanish text spoken by espeak-ng into a WAV
	channels int    // of audio.m4a and the waveform
	rate     int    // of audio.m4a
	duration float64
	codec    string
	// loudness is the expected integrated loudness in LUFS, NaN to only
	// require a plausible value.
	loudness float64
}{
	{
		// A 1 kHz sine of amplitude 0.5 reads 20·log10(0.5) − 3.01 ≈ −9.0 LUFS
		// (K-weighting is about flat at 1 kHz).
		name: "WAV sine at -6 dBFS", args: []string{"-f", "lavfi", "-i", "aevalsrc=0.5*sin(2*PI*1000*t):s=44100:d=3", "-c:a", "pcm_s16le", "-f", "wav"},
		channels: 1, rate: 44100, duration: 3, codec: "pcm_s16le", loudness: -9.03,
	},
	{
		name: "MP3 stereo", args: []string{"-f", "lavfi", "-i", "sine=f=440:sample_rate=44100:d=3", "-ac", "2", "-c:a", "libmp3lame", "-b:a", "128k", "-f", "mp3"},
		channels: 2, rate: 44100, duration: 3, codec: "mp3", loudness: math.NaN(),
	},
	{
		name: "M4A AAC", args: []string{"-f", "lavfi", "-i", "anoisesrc=d=3:c=pink:r=48000:a=0.3", "-ac", "2", "-c:a", "aac", "-f", "ipod"},
		channels: 2, rate: 48000, duration: 3, codec: "aac", loudness: math.NaN(),
	},
	{
		name: "FLAC 96 kHz 5.1", args: []string{"-f", "lavfi", "-i", "sine=f=440:sample_rate=96000:d=2", "-af", "pan=5.1|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0", "-c:a", "flac", "-f", "flac"},
		channels: 2, rate: 48000, duration: 2, codec: "flac", loudness: math.NaN(),
	},
	{
		// WhatsApp's voice notes: mono Opus in Ogg, 16 kHz input.
		name: "voice note Opus in Ogg", args: []string{"-f", "lavfi", "-i", "anoisesrc=d=2:c=brown:r=16000:a=0.2", "-c:a", "libopus", "-b:a", "24k", "-ac", "1", "-f", "ogg"},
		channels: 1, rate: 48000, duration: 2, codec: "opus", loudness: math.NaN(),
	},
	{
		name: "audio-only MP4 with cover art",
		args: []string{"-f", "lavfi", "-i", "sine=f=440:sample_rate=44100:d=2", "-f", "lavfi", "-i", "color=red:s=64x64:d=1",
			"-map", "0:a", "-map", "1:v", "-frames:v", "1", "-c:a", "aac", "-c:v", "mjpeg", "-disposition:v:0", "attached_pic", "-f", "mp4"},
		channels: 1, rate: 44100, duration: 2, codec: "aac", loudness: math.NaN(),
	},
	{
		name: "Spanish speech", speech: "Buenos días. La presidenta municipal inauguró hoy el parque de la colonia Centro.",
		channels: 1, rate: 22050, codec: "pcm_s16le", loudness: math.NaN(),
	},
}

func TestRenderAVAudio(t *testing.T) {
	for _, tc := range audioSources {
		t.Run(tc.name, func(t *testing.T) {
			cfg := avConfig(t)
			src := filepath.Join(t.TempDir(), "original")
			if tc.speech != "" {
				requireTools(t, "espeak-ng")
				wav := src + ".wav" // espeak-ng writes by name; stored originals have none
				if b, err := exec.Command("espeak-ng", "-v", "es-419", "-w", wav, tc.speech).CombinedOutput(); err != nil {
					t.Fatalf("espeak-ng: %v\n%s", err, b)
				}
				if err := os.Rename(wav, src); err != nil {
					t.Fatal(err)
				}
			} else {
				genMedia(t, src, tc.args...)
			}
			info, err := RenderAV(t.Context(), cfg, src)
			if err != nil {
				t.Fatal(err)
			}
			if info.Kind != catalog.KindAudio || info.Width != 0 || info.Height != 0 {
				t.Errorf("kind %s %d×%d, want audio", info.Kind, info.Width, info.Height)
			}
			if tc.duration > 0 && math.Abs(info.Duration-tc.duration) > 0.1 {
				t.Errorf("duration %.3f, want %.3f", info.Duration, tc.duration)
			}
			if info.Media.AudioCodec != tc.codec || info.Media.VideoCodec != "" || info.Media.SampleRate <= 0 || info.Media.Channels <= 0 {
				t.Errorf("Media %+v, want audio codec %s", info.Media, tc.codec)
			}
			l := info.Media.LoudnessLUFS
			switch {
			case l == nil:
				t.Error("no loudness")
			case math.IsNaN(tc.loudness) && (*l < -60 || *l > 0):
				t.Errorf("loudness %.1f LUFS, implausible", *l)
			case !math.IsNaN(tc.loudness) && math.Abs(*l-tc.loudness) > 0.5:
				t.Errorf("loudness %.1f LUFS, want %.1f ± 0.5", *l, tc.loudness)
			}
			requireOnlyRenditions(t, cfg, info.Renditions, "audio.m4a", "waveform.json", "waveform.png", "thumb.jpg")

			m4a := rendition(t, info.Renditions, "audio.m4a")
			p := ffprobeFile(t, m4a.Path)
			as := streamsOf(p, "audio")
			if len(as) != 1 || len(p.Streams) != 1 || as[0].CodecName != "aac" || as[0].Channels != tc.channels || atoi(as[0].SampleRate) != tc.rate {
				t.Errorf("audio.m4a streams %+v, want one AAC stream, %d channels at %d Hz", p.Streams, tc.channels, tc.rate)
			}
			if d := atof(p.Format.Duration); math.Abs(d-info.Duration) > 0.1 {
				t.Errorf("audio.m4a lasts %.3f s, want %.3f ± 0.1", d, info.Duration)
			}
			if m4a.MIME != "audio/mp4" {
				t.Errorf("audio.m4a MIME %q", m4a.MIME)
			}
			requireFaststart(t, m4a.Path)

			wf := checkWaveformJSON(t, rendition(t, info.Renditions, "waveform.json").Path)
			if wf.Channels != tc.channels || wf.Length < 100 || wf.Length > 2*waveformPoints {
				t.Errorf("waveform: %d channels, length %d", wf.Channels, wf.Length)
			}
			if d := float64(wf.Length*wf.SamplesPerPixel) / float64(wf.SampleRate); math.Abs(d-info.Duration) > float64(wf.SamplesPerPixel)/float64(wf.SampleRate)+0.1 {
				t.Errorf("waveform covers %.3f s, want %.3f", d, info.Duration)
			}
			var peak int
			for _, v := range wf.Data {
				peak = max(peak, abs8(v))
			}
			if peak < 10 {
				t.Errorf("waveform peak %d: flat", peak)
			}
			pic := rendition(t, info.Renditions, "waveform.png")
			f, err := os.Open(pic.Path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			img, err := png.Decode(f)
			if err != nil {
				t.Fatal(err)
			}
			if s := img.Bounds().Size(); s.X != 1200 || s.Y != 200 || pic.Width != 1200 || pic.Height != 200 || pic.MIME != "image/png" {
				t.Errorf("waveform.png %v, reported %d×%d %s", s, pic.Width, pic.Height, pic.MIME)
			}
			checkJPEG(t, rendition(t, info.Renditions, "thumb.jpg"), 400, 225)
		})
	}
}

// checkWaveformJSON checks the audiowaveform v2 format the way a client
// reading it with peaks.js relies on.
func checkWaveformJSON(t *testing.T, path string) waveform {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatalf("waveform.json: %v", err)
	}
	for _, k := range []string{"version", "channels", "sample_rate", "samples_per_pixel", "bits", "length", "data"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("waveform.json lacks %q", k)
		}
	}
	data, ok := raw["data"].([]any)
	if !ok {
		t.Fatalf("waveform.json data is %T, want an array", raw["data"])
	}
	num := func(k string) int { v, _ := raw[k].(float64); return int(v) }
	if num("version") != 2 || num("bits") != 8 || num("channels") < 1 || num("sample_rate") <= 0 || num("samples_per_pixel") < 1 {
		t.Errorf("waveform.json header %v", raw)
	}
	if got, want := len(data), num("length")*2*num("channels"); got != want {
		t.Errorf("len(data) = %d, want length*2*channels = %d", got, want)
	}
	var wf waveform
	if err := json.Unmarshal(b, &wf); err != nil { // int8: fails when a value is outside -128..127
		t.Fatalf("waveform.json values: %v", err)
	}
	for i := 0; i+1 < len(wf.Data); i += 2 {
		if wf.Data[i] > wf.Data[i+1] {
			t.Fatalf("point %d: min %d > max %d", i/2, wf.Data[i], wf.Data[i+1])
		}
	}
	return wf
}

func TestParseLoudness(t *testing.T) {
	stderr := "[Parsed_ebur128_1 @ 0x1] Summary:\n\n  Integrated loudness:\n    I:         -70.0 LUFS\n    Threshold:   0.0 LUFS\n" +
		"size=     431kB time=00:00:05.00\n[Parsed_ebur128_1 @ 0x2] Summary:\n\n  Integrated loudness:\n    I:         -23.4 LUFS\n    Threshold: -33.5 LUFS\n\n  Loudness range:\n    LRA:   0.0 LU\n"
	if l := parseLoudness(stderr); l == nil || *l != -23.4 {
		t.Errorf("got %v, want -23.4 (the last summary)", l)
	}
	if l := parseLoudness("no summary"); l != nil {
		t.Errorf("got %v, want nil", *l)
	}
}

// TestRenderAVAudioLyingDuration: a FLAC whose STREAMINFO claims ten hours
// but holds two seconds is an asset of two seconds with a waveform of as
// many points as any two-second recording, not one point ten hours wide.
func TestRenderAVAudioLyingDuration(t *testing.T) {
	cfg := avConfig(t)
	src := genMedia(t, filepath.Join(t.TempDir(), "original"), "-f", "lavfi", "-i", "sine=f=440:sample_rate=8000:d=2", "-c:a", "flac", "-f", "flac")
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	const samples = 10 * 3600 * 8000
	si := b[8:] // STREAMINFO, after "fLaC" and its block header
	si[13] = si[13]&0xF0 | byte(samples>>32)&0x0F
	binary.BigEndian.PutUint32(si[14:], samples)
	if err := os.WriteFile(src, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if p, err := probeMedia(t.Context(), cfg, src); err != nil || p.Duration < 35000 {
		t.Fatalf("probe: duration %v, %v; the control wants ffprobe to believe the 10 h", p.Duration, err)
	}
	info, err := RenderAV(t.Context(), cfg, src)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(info.Duration-2) > 0.1 {
		t.Errorf("duration %v s, want 2", info.Duration)
	}
	wf := checkWaveformJSON(t, rendition(t, info.Renditions, "waveform.json").Path)
	if wf.Length < waveformPoints/2 {
		t.Errorf("waveform of %d points (%d samples each), want about %d", wf.Length, wf.SamplesPerPixel, waveformPoints)
	}
}
