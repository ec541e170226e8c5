package transcode

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// grayFrames decodes the video of path to 64×48 grey frames.
func grayFrames(t *testing.T, path string, frames int) [][]byte {
	t.Helper()
	args := []string{"-v", "error", "-i", path, "-map", "0:v:0", "-vf", "scale=64:48,format=gray", "-f", "rawvideo"}
	if frames > 0 {
		args = append(args, "-frames:v", "1")
	}
	out, err := exec.Command("ffmpeg", append(args, "-")...).Output()
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	var fs [][]byte
	for len(out) >= 64*48 {
		fs = append(fs, out[:64*48])
		out = out[64*48:]
	}
	return fs
}

func frameDiff(a, b []byte) float64 {
	var d float64
	for i := range a {
		d += math.Abs(float64(a[i]) - float64(b[i]))
	}
	return d / float64(len(a))
}

// countingWriter records how Clip delivered its output.
type countingWriter struct {
	bytes.Buffer
	writes int
}

func (w *countingWriter) Write(p []byte) (int, error) { w.writes++; return w.Buffer.Write(p) }

func TestClip(t *testing.T) {
	cfg := avConfig(t)
	dir := t.TempDir()
	// testsrc scrolls its gradient and counts time, so every frame differs;
	// near-lossless, so decoded frames can be compared.
	video := genMedia(t, filepath.Join(dir, "video"), "-f", "lavfi", "-i", "testsrc=s=320x240:r=25:d=5",
		"-f", "lavfi", "-i", "sine=f=1000:sample_rate=48000:d=5", "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0",
		"-g", "250", "-c:a", "aac", "-f", "mp4")
	audio := genMedia(t, filepath.Join(dir, "audio"), "-f", "lavfi", "-i", "sine=f=440:sample_rate=44100:d=5", "-c:a", "flac", "-f", "flac")
	source := grayFrames(t, video, 0)
	if len(source) != 125 {
		t.Fatalf("source has %d frames, want 125", len(source))
	}

	t.Run("video starts on the requested frame", func(t *testing.T) {
		var w countingWriter
		if err := Clip(t.Context(), cfg, ClipRequest{Src: video, Start: time.Second, End: 2500 * time.Millisecond}, &w); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "clip")
		if err := os.WriteFile(out, w.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		boxes := topLevelBoxes(t, out)
		if len(boxes) < 4 || boxes[0] != "ftyp" || boxes[1] != "moov" || !slices.Contains(boxes, "moof") {
			t.Errorf("boxes %v, want a fragmented MP4: ftyp, moov, moof…", boxes)
		}
		p := ffprobeFile(t, out)
		if d := atof(p.Format.Duration); math.Abs(d-1.5) > 0.1 {
			t.Errorf("clip lasts %.3f s, want 1.5 ± 0.1", d)
		}
		vs, as := streamsOf(p, "video"), streamsOf(p, "audio")
		if len(vs) != 1 || vs[0].CodecName != "h264" || vs[0].Width != 320 || vs[0].Height != 240 || len(as) != 1 || as[0].CodecName != "aac" {
			t.Errorf("clip streams %+v, want H.264 320×240 and AAC", p.Streams)
		}
		for _, s := range p.Streams {
			if st := atof(s.StartTime); st > 0.01 {
				t.Errorf("%s starts at %.3f s, want 0", s.CodecType, st)
			}
		}
		first := grayFrames(t, out, 1)
		best, bestDiff := -1, math.Inf(1)
		for i, f := range source {
			if d := frameDiff(first[0], f); d < bestDiff {
				best, bestDiff = i, d
			}
		}
		if best != 25 {
			t.Errorf("the clip's first frame is the source's frame %d (%.2f s), want 25 (1.00 s)", best, float64(best)/25)
		}
	})
	t.Run("audio", func(t *testing.T) {
		var w countingWriter
		if err := Clip(t.Context(), cfg, ClipRequest{Src: audio, Start: time.Second, End: 2500 * time.Millisecond, Audio: true}, &w); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "clip")
		if err := os.WriteFile(out, w.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		boxes := topLevelBoxes(t, out)
		if moofs := len(slices.DeleteFunc(slices.Clone(boxes), func(b string) bool { return b != "moof" })); moofs < 2 || boxes[1] != "moov" {
			t.Errorf("boxes %v, want an empty moov and a fragment a second", boxes)
		}
		p := ffprobeFile(t, out)
		if d := atof(p.Format.Duration); math.Abs(d-1.5) > 0.1 {
			t.Errorf("clip lasts %.3f s, want 1.5 ± 0.1", d)
		}
		if len(p.Streams) != 1 || p.Streams[0].CodecName != "aac" || p.Streams[0].Channels != 1 {
			t.Errorf("clip streams %+v, want one AAC mono stream", p.Streams)
		}
	})
	t.Run("end past the media", func(t *testing.T) {
		var w countingWriter
		if err := Clip(t.Context(), cfg, ClipRequest{Src: audio, Start: 4 * time.Second, End: time.Hour, Audio: true}, &w); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "clip")
		os.WriteFile(out, w.Bytes(), 0o644)
		if d := atof(ffprobeFile(t, out).Format.Duration); math.Abs(d-1) > 0.1 {
			t.Errorf("clip lasts %.3f s, want the last 1 s", d)
		}
	})
	t.Run("refused", func(t *testing.T) {
		cases := []struct {
			name string
			req  ClipRequest
			want error
		}{
			{"start past the end", ClipRequest{Src: video, Start: 6 * time.Second, End: 7 * time.Second}, ErrClipRange},
			{"end before start", ClipRequest{Src: video, Start: 2 * time.Second, End: time.Second}, ErrClipRange},
			{"negative start", ClipRequest{Src: video, Start: -time.Second, End: time.Second}, ErrClipRange},
			{"video of an audio file", ClipRequest{Src: audio, Start: 0, End: time.Second}, ErrUnsupported},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				var w bytes.Buffer
				err := Clip(t.Context(), cfg, tc.req, &w)
				if !errors.Is(err, tc.want) || w.Len() > 0 {
					t.Errorf("error %v after %d bytes, want %v before any", err, w.Len(), tc.want)
				}
			})
		}
	})
	t.Run("client gone", func(t *testing.T) {
		// The writer's context ends at the first bytes, as when a browser
		// closes the download: ffmpeg is killed, not left encoding.
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		w := &cancelWriter{cancel: cancel}
		err := Clip(ctx, cfg, ClipRequest{Src: video, Start: 0, End: 5 * time.Second}, w)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want context.Canceled", err)
		}
		if procs := processesWith(t, dir); len(procs) > 0 {
			t.Errorf("processes left behind: %v", procs)
		}
	})
}

type cancelWriter struct{ cancel context.CancelFunc }

func (w *cancelWriter) Write(p []byte) (int, error) { w.cancel(); return len(p), nil }

func TestParseClipTime(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration // -1: invalid
	}{
		{"0", 0},
		{"12", 12 * time.Second},
		{"12.5", 12500 * time.Millisecond},
		{"12.000000001", 12*time.Second + 1},
		{"01:02", 62 * time.Second},
		{"90:00", 90 * time.Minute},
		{"1:02:03.456", time.Hour + 2*time.Minute + 3456*time.Millisecond},
		{"00:00:00.000", 0},
		{"99:59:59.999", 100*time.Hour - time.Millisecond},
		{"100:00:00", -1},
		{"360000", -1},
		{"-1", -1},
		{"+1", -1},
		{"1e3", -1},
		{"NaN", -1},
		{"Inf", -1},
		{"0x10", -1},
		{"", -1},
		{" 1", -1},
		{"1.", -1},
		{".5", -1},
		{"1.0000000001", -1},
		{"1:60", -1},
		{"1:60:00", -1},
		{"1:-5", -1},
		{"1::5", -1},
		{"1:2:3:4", -1},
		{"12,5", -1},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseClipTime(tc.in)
			if tc.want < 0 {
				if err == nil {
					t.Errorf("got %v, want an error", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}
