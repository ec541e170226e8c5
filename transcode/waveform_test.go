package transcode

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// pcm encodes interleaved samples as unsigned 8-bit PCM.
func pcm(samples ...int8) []byte {
	b := make([]byte, len(samples))
	for i, s := range samples {
		b[i] = byte(s) ^ 0x80
	}
	return b
}

func TestWaveformBuilder(t *testing.T) {
	t.Run("stereo points, writes split anywhere", func(t *testing.T) {
		// 5 frames of L, R at 2 frames a point: points {f0,f1}, {f2,f3}, {f4}.
		data := pcm(
			3, -128,
			-8, 127,
			1, 0,
			-2, 2,
			-1, 0,
		)
		for _, chunk := range []int{1, 3, 7, len(data)} {
			b := &waveformBuilder{channels: 2, sampleRate: 8000, spp: 2, maxPoints: 100, lo: make([]int8, 2), hi: make([]int8, 2)}
			b.resetPoint()
			for i := 0; i < len(data); i += chunk {
				b.Write(data[i:min(i+chunk, len(data))])
			}
			wf := b.finish()
			want := []int8{-8, 3, -128, 127, -2, 1, 0, 2, -1, -1, 0, 0} // min,max of L then of R, per point
			if wf.Length != 3 || !slices.Equal(wf.Data, want) || b.frames != 5 {
				t.Errorf("chunks of %d: length %d data %v frames %d, want 3 %v 5", chunk, wf.Length, wf.Data, b.frames, want)
			}
		}
	})
	t.Run("merges points when the duration was wrong", func(t *testing.T) {
		b := newWaveformBuilder(1, 1000, 1) // 1 s guessed: spp 1
		if b.spp != 1 {
			t.Fatalf("spp %d, want 1", b.spp)
		}
		samples := make([]int8, 20000) // really 20 s
		for i := range samples {
			samples[i] = int8(i%200 - 100)
		}
		b.Write(pcm(samples...))
		wf := b.finish()
		if wf.Length > 2*waveformPoints || wf.Length < waveformPoints || wf.SamplesPerPixel*wf.Length < 20000 || wf.SamplesPerPixel*(wf.Length-1) >= 20000 {
			t.Errorf("length %d at %d samples a point for 20000 samples", wf.Length, wf.SamplesPerPixel)
		}
		// Point i covers samples [i*spp, (i+1)*spp): check one against the ramp.
		i := 3
		lo, hi := samples[i*wf.SamplesPerPixel], samples[(i+1)*wf.SamplesPerPixel-1]
		if got := wf.Data[2*i : 2*i+2]; got[0] != lo || got[1] != hi {
			t.Errorf("point %d = %v, want %d, %d", i, got, lo, hi)
		}
	})
	t.Run("JSON", func(t *testing.T) {
		b := newWaveformBuilder(1, 44100, 0)
		b.Write(pcm(-128, 127))
		got, err := json.Marshal(b.finish())
		if err != nil {
			t.Fatal(err)
		}
		want := `{"version":2,"channels":1,"sample_rate":44100,"samples_per_pixel":256,"bits":8,"length":1,"data":[-128,127]}`
		if string(got) != want {
			t.Errorf("got %s, want %s", got, want)
		}
	})
}

// TestWaveformDecode checks ffmpeg's side of the waveform on 16-bit
// samples chosen around the byte boundaries: each 8-bit value is the top
// byte (v >> 8, rounding down), as audiowaveform computes it.
func TestWaveformDecode(t *testing.T) {
	cfg := avConfig(t)
	in := []int16{0, 255, 256, -1, -256, -257, 32767, -32768, 1000, -1000}
	raw := make([]byte, 2*len(in))
	for i, v := range in {
		binary.LittleEndian.PutUint16(raw[2*i:], uint16(v))
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pcm"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	src := genMedia(t, filepath.Join(dir, "wav"), "-f", "s16le", "-ar", "8000", "-ac", "1", "-i", filepath.Join(dir, "pcm"), "-c:a", "pcm_s16le", "-f", "wav")
	p, err := probeMedia(t.Context(), cfg, src)
	if err != nil {
		t.Fatal(err)
	}
	j := newAVJob(t.Context(), cfg, src, p.Duration)
	defer j.cancel()
	b := &waveformBuilder{channels: 1, sampleRate: 8000, spp: 1, maxPoints: 100, lo: make([]int8, 1), hi: make([]int8, 1)}
	b.resetPoint()
	if _, err := j.ffmpeg("waveform", waveformArgs(audioPlanFor(p, 0, "")), b); err != nil {
		t.Fatal(err)
	}
	wf := b.finish()
	var got, want []int8
	for i, v := range in {
		want = append(want, int8(v>>8))
		if 2*i < len(wf.Data) {
			got = append(got, wf.Data[2*i])
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("8-bit samples %v, want %v", got, want)
	}
}

func TestDrawWaveform(t *testing.T) {
	wf := waveform{Channels: 1, Length: 4, Data: []int8{0, 0, -64, 64, -16, 16, 0, 0}}
	img := drawWaveform(wf, 4, 101)
	// Column 1 is the loudest (gain 2: ±64 fills the picture); column 0 is
	// silence, only the centre line.
	inked := func(x int) (n int) {
		for y := 0; y < 101; y++ {
			if img.ColorIndexAt(x, y) == 1 {
				n++
			}
		}
		return n
	}
	if n := inked(1); n < 99 {
		t.Errorf("loudest column has %d inked pixels, want the full height", n)
	}
	if n := inked(2); n < 20 || n > 30 {
		t.Errorf("quarter column has %d inked pixels, want about 25", n)
	}
	if n := inked(0); n > 1 {
		t.Errorf("silent column has %d inked pixels", n)
	}
}
