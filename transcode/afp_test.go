package transcode

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFingerprintCommandLine(t *testing.T) {
	const blob = "/data/blobs/sha256/ab/cd/abcdef0123456789"
	var b strings.Builder
	for _, p := range []fingerprintPlan{
		{In: avInput{Path: blob, Format: "mp3"}, Stream: 0},
		{In: avInput{Path: blob, Format: "mov"}, Stream: 1},
	} {
		fmt.Fprintf(&b, "# audio fingerprint: %s, stream %d\nffmpeg %s\n", p.In.Format, p.Stream, strings.Join(fingerprintArgs(p), " "))
	}
	checkGolden(t, "afp-commands.golden", b.String())
	args := strings.Join(fingerprintArgs(fingerprintPlan{In: avInput{Path: blob, Format: "wav"}}), " ")
	for _, want := range []string{"-nostdin", "-protocol_whitelist file", "-format_whitelist " + strings.Join(avFormats, ","), "-f wav", "-i file:" + blob, "pipe:1"} {
		if !strings.Contains(args, want) {
			t.Errorf("no %q in %s", want, args)
		}
	}
}

// speechText returns about words words of Spanish press-office prose, the
// same for the same seed.
func speechText(seed uint64, words int) string {
	rng := rand.New(rand.NewPCG(seed, 9))
	subjects := []string{"La alcaldesa", "El secretario de obras", "La dirección de cultura", "El cabildo", "La comisión de agua", "El director de transporte"}
	verbs := []string{"inauguró", "presentó", "anunció", "supervisó", "recorrió", "entregó"}
	objects := []string{"el parque central", "la nueva biblioteca", "el mercado municipal", "las obras del drenaje", "la ciclovía del norte", "el centro de salud", "las becas escolares"}
	tails := []string{"ante vecinos de la colonia", "con una inversión de %d millones de pesos", "el día %d de marzo", "en compañía de %d funcionarios", "después de %d meses de trabajo"}
	var b strings.Builder
	for n := 0; n < words; {
		tail := tails[rng.IntN(len(tails))]
		if strings.Contains(tail, "%d") {
			tail = fmt.Sprintf(tail, 2+rng.IntN(97))
		}
		s := fmt.Sprintf("%s %s %s %s. ", subjects[rng.IntN(len(subjects))], verbs[rng.IntN(len(verbs))],
			objects[rng.IntN(len(objects))], tail)
		b.WriteString(s)
		n += len(strings.Fields(s))
	}
	return b.String()
}

// makeSpeech writes dir/name: espeak-ng speaking text with voice, mixed
// with quiet pink noise (so pauses are not silence), cut to seconds.
func makeSpeech(t *testing.T, dir, name, voice, text string, seconds int) string {
	t.Helper()
	wav := filepath.Join(dir, name+"-voice.wav")
	if b, err := exec.Command("espeak-ng", "-v", voice, "-s", "160", "-w", wav, text).CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng: %v\n%s", err, b)
	}
	out := filepath.Join(dir, name)
	args := []string{"-nostdin", "-hide_banner", "-loglevel", "error", "-i", wav,
		"-f", "lavfi", "-i", fmt.Sprintf("anoisesrc=c=pink:r=22050:a=0.02:seed=%d:d=%d", len(name), seconds),
		"-filter_complex", "[0]apad[v];[v][1]amix=inputs=2:duration=shortest", "-t", fmt.Sprint(seconds), "-c:a", "pcm_s16le", out}
	if b, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, b)
	}
	return out
}

// TestAudioExcerptFound speaks two minutes of generated press-office
// prose, cuts 20 s at 47 s re-encoded as 64 kb/s MP3, as a radio clip
// would be, and checks that it is found at 47 s ± 1 s, and that other
// speech (another text and voice) is not.
func TestAudioExcerptFound(t *testing.T) {
	requireTools(t, "ffmpeg", "ffprobe", "espeak-ng")
	dir := t.TempDir()
	archived := makeSpeech(t, dir, "archived.wav", "es", speechText(1, 380), 120)
	excerpt := filepath.Join(dir, "excerpt.mp3")
	if b, err := exec.Command("ffmpeg", "-nostdin", "-loglevel", "error", "-ss", "47", "-i", archived, "-t", "20",
		"-c:a", "libmp3lame", "-b:a", "64k", "-ar", "22050", excerpt).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	unrelated := makeSpeech(t, dir, "unrelated.wav", "es-419+f3", speechText(2, 80), 30)

	ctx := context.Background()
	fp := func(path string) []uint32 {
		items, err := AudioFingerprint(ctx, AVConfig{}, path)
		if err != nil {
			t.Fatal(err)
		}
		return items
	}
	a, q, u := fp(archived), fp(excerpt), fp(unrelated)
	if min := int(110 * time.Second / chromaprintItem); len(a) < min {
		t.Errorf("archived: %d items, want ≥ %d", len(a), min)
	}

	m := MatchAudio(q, a)
	t.Logf("excerpt: offset %v, bit errors %.3f", m.Offset, m.BitErrors)
	if d := m.Offset - 47*time.Second; d < -time.Second || d > time.Second {
		t.Errorf("excerpt found at %v, want 47s ± 1s", m.Offset)
	}
	if !m.Matches() {
		t.Errorf("excerpt: bit errors %.3f, want ≤ %.2f", m.BitErrors, AudioMatchBitErrors)
	}
	mu := MatchAudio(u, a)
	t.Logf("unrelated: offset %v, bit errors %.3f", mu.Offset, mu.BitErrors)
	if mu.Matches() {
		t.Errorf("unrelated speech matched at %v with bit errors %.3f", mu.Offset, mu.BitErrors)
	}
}

func TestMatchAudioEmpty(t *testing.T) {
	if m := MatchAudio(nil, []uint32{1, 2}); m.Matches() || m.BitErrors != 1 {
		t.Errorf("empty query: %+v", m)
	}
}
