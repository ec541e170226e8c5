package transcode

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestFrameHashCommandLine pins the argv of the frame sampling run and
// checks the rules of invariant 5 on it.
func TestFrameHashCommandLine(t *testing.T) {
	const blob = "/data/blobs/sha256/ab/cd/abcdef0123456789"
	var b strings.Builder
	for _, p := range []frameHashPlan{
		{In: avInput{Path: blob, Format: "mov"}, Stream: 0},
		{In: avInput{Path: blob, Format: "mpegts"}, Stream: 1},
	} {
		fmt.Fprintf(&b, "# frame hashes: %s, stream %d\nffmpeg %s\n", p.In.Format, p.Stream, strings.Join(frameHashArgs(p), " "))
	}
	checkGolden(t, "vhash-commands.golden", b.String())

	args := frameHashArgs(frameHashPlan{In: avInput{Path: blob, Format: "mov"}})
	for _, want := range []string{"-nostdin", "-protocol_whitelist file", "-format_whitelist " + strings.Join(avFormats, ","), "-f mov", "-enable_drefs 0", "-i file:" + blob} {
		if !strings.Contains(strings.Join(args, " "), want) {
			t.Errorf("no %q in %v", want, args)
		}
	}
	if out := args[len(args)-1]; out != "pipe:1" {
		t.Errorf("writes %q, want pipe:1 only", out)
	}
}

// makeVideo runs ffmpeg to write a test video to dir/name.
func makeVideo(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	out := filepath.Join(dir, name)
	full := append([]string{"-nostdin", "-hide_banner", "-loglevel", "error", "-y"}, args...)
	full = append(full, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", out)
	if b, err := exec.Command("ffmpeg", full...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, b)
	}
	return out
}

// TestVideoExcerptFound generates a 2-minute video whose frames change all
// the time (a moving test pattern, a box wandering over it, the hue
// turning), cuts a 20-second excerpt at 47 s re-encoded at 426×240 with a
// worse CRF, as a copy on social media would be, and checks that the
// excerpt is found at 47 s ± 1 s, and that an unrelated video is not.
func TestVideoExcerptFound(t *testing.T) {
	requireTools(t, "ffmpeg", "ffprobe")
	dir := t.TempDir()
	archived := makeVideo(t, dir, "archived.mp4", "-f", "lavfi", "-i",
		"testsrc2=s=480x270:r=10:d=120,hue=h=t*7[t];color=c=white:s=120x120:r=10:d=120[b];"+
			"[t][b]overlay=x='mod(t*23,360)':y='75+75*sin(t/3)'", "-crf", "23")
	excerpt := makeVideo(t, dir, "excerpt.mp4", "-ss", "47", "-i", archived, "-t", "20", "-vf", "scale=426:240", "-crf", "35")
	unrelated := makeVideo(t, dir, "unrelated.mp4", "-f", "lavfi", "-i",
		"gradients=s=320x180:r=10:d=30:speed=0.03:seed=77[g];mandelbrot=s=320x180:r=10[m];[g][m]blend=all_mode=average:shortest=1",
		"-t", "30", "-crf", "28")

	ctx := context.Background()
	hashes := func(path string) []uint64 {
		hs, err := VideoHashes(ctx, AVConfig{}, path)
		if err != nil {
			t.Fatal(err)
		}
		return hs
	}
	a, q, u := hashes(archived), hashes(excerpt), hashes(unrelated)
	if got, want := len(a), 120*videoHashFPS; got < want-1 || got > want+1 {
		t.Errorf("archived video: %d frame hashes, want %d", got, want)
	}
	if got, want := len(q), 20*videoHashFPS; got < want-1 || got > want+1 {
		t.Errorf("excerpt: %d frame hashes, want %d", got, want)
	}

	m := MatchSequences(q, a)
	t.Logf("excerpt: offset %v, score %.2f", m.Offset, m.Score)
	if d := m.Offset - 47*time.Second; d < -time.Second || d > time.Second {
		t.Errorf("excerpt found at %v, want 47s ± 1s", m.Offset)
	}
	if m.Score < 0.9 {
		t.Errorf("excerpt score %.2f, want ≥ 0.9", m.Score)
	}
	mu := MatchSequences(u, a)
	t.Logf("unrelated: offset %v, score %.2f", mu.Offset, mu.Score)
	if mu.Score >= 0.5 {
		t.Errorf("unrelated video matched at %v with score %.2f", mu.Offset, mu.Score)
	}
}

func TestVideoHashesRefusesAudio(t *testing.T) {
	requireTools(t, "ffmpeg", "ffprobe")
	dir := t.TempDir()
	out := filepath.Join(dir, "tone.wav")
	if b, err := exec.Command("ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "sine=d=1", out).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if _, err := VideoHashes(context.Background(), AVConfig{}, out); !IsPermanent(err) {
		t.Errorf("audio file: err = %v, want a permanent error", err)
	}
}

func TestMatchSequencesEdges(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	a := make([]uint64, 6) // random: about 32 bits apart, never within FrameMatchDistance
	for i := range a {
		a[i] = rng.Uint64()
	}
	cases := []struct {
		name   string
		q      []uint64
		offset time.Duration
		score  float64
	}{
		{"empty query", nil, 0, 0},
		{"exact middle", a[2:4], time.Second, 1},
		{"overhanging the end", []uint64{a[5], ^a[5]}, 2500 * time.Millisecond, 0.5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := MatchSequences(tc.q, a)
			if m.Offset != tc.offset || m.Score != tc.score {
				t.Errorf("got %+v, want offset %v score %v", m, tc.offset, tc.score)
			}
		})
	}
	if m := MatchSequences(slices.Clone(a), nil); m.Score != 0 {
		t.Errorf("empty archive: %+v", m)
	}
}
