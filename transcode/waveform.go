package transcode

import (
	"image"
	"image/color"
	"math"
)

// Waveform resolution: samples_per_pixel is chosen from the probed
// duration for about waveformPoints points; when the duration was wrong
// and the points reach twice that, neighbours are merged and
// samples_per_pixel doubles, so memory stays bounded whatever the file says.
const waveformPoints = 4000

// waveform is the audiowaveform JSON format, version 2, as peaks.js reads
// it: Data holds, for each point, for each channel, the minimum and the
// maximum of SamplesPerPixel samples, scaled to 8 bits; so
// len(Data) == Length*2*Channels.
type waveform struct {
	Version         int    `json:"version"`
	Channels        int    `json:"channels"`
	SampleRate      int    `json:"sample_rate"`
	SamplesPerPixel int    `json:"samples_per_pixel"`
	Bits            int    `json:"bits"`
	Length          int    `json:"length"`
	Data            []int8 `json:"data"` // []int8 marshals as numbers, not base64
}

// waveformBuilder is an io.Writer of interleaved unsigned 8-bit PCM (what
// waveformArgs asks ffmpeg for) that keeps only the waveform: it never
// holds the recording. Writes may split frames anywhere. Not safe for
// concurrent use.
//
// 8 bits are all the format keeps, and ffmpeg's conversion from 16-bit
// samples to 8 is the top byte, as audiowaveform's own; so the PCM pipe
// carries half the bytes for the same result.
type waveformBuilder struct {
	channels   int
	sampleRate int
	spp        int    // samples (per channel) a point
	maxPoints  int    // even; reaching it merges pairs of points
	data       []int8 // finished points
	lo, hi     []int8 // the point being built, per channel
	count      int    // frames in it
	ch         int    // channel of the next sample
	frames     int64  // total frames read
}

// newWaveformBuilder chooses samples_per_pixel for about waveformPoints
// points over duration seconds (a guess; 0 when unknown).
func newWaveformBuilder(channels, sampleRate int, duration float64) *waveformBuilder {
	spp := 256
	if est := duration * float64(sampleRate); est > 0 {
		spp = max(1, int(math.Ceil(est/waveformPoints)))
	}
	b := &waveformBuilder{channels: channels, sampleRate: sampleRate, spp: spp, maxPoints: 2 * waveformPoints,
		lo: make([]int8, channels), hi: make([]int8, channels)}
	b.resetPoint()
	return b
}

func (b *waveformBuilder) resetPoint() {
	for c := range b.lo {
		b.lo[c], b.hi[c] = math.MaxInt8, math.MinInt8
	}
	b.count = 0
}

// s8 is an unsigned 8-bit sample as a signed one.
func s8(u byte) int8 { return int8(u ^ 0x80) }

func (b *waveformBuilder) Write(p []byte) (int, error) {
	n := len(p)
	for b.ch != 0 && len(p) > 0 { // a frame split by the last Write
		b.sample(s8(p[0]))
		p = p[1:]
	}
	// Whole frames, a channel at a time up to the end of the point: the
	// hot loop, over every sample of the recording.
	frame := b.channels
	for len(p) >= frame {
		k := min(b.spp-b.count, len(p)/frame)
		for c := range b.channels {
			lo, hi := b.lo[c], b.hi[c]
			for i := c; i < k*frame; i += frame {
				v := s8(p[i])
				lo, hi = min(lo, v), max(hi, v)
			}
			b.lo[c], b.hi[c] = lo, hi
		}
		p = p[k*frame:]
		b.frames += int64(k)
		if b.count += k; b.count == b.spp {
			b.endPoint()
		}
	}
	for _, u := range p {
		b.sample(s8(u))
	}
	return n, nil
}

// sample takes one sample of the channel b.ch.
func (b *waveformBuilder) sample(v int8) {
	c := b.ch
	b.lo[c] = min(b.lo[c], v)
	b.hi[c] = max(b.hi[c], v)
	if b.ch++; b.ch < b.channels {
		return
	}
	b.ch = 0
	b.frames++
	if b.count++; b.count == b.spp {
		b.endPoint()
	}
}

// endPoint appends the point being built, merging pairs when the waveform
// has grown to maxPoints.
func (b *waveformBuilder) endPoint() {
	for c := range b.lo {
		b.data = append(b.data, b.lo[c], b.hi[c])
	}
	b.resetPoint()
	if len(b.data) < b.maxPoints*2*b.channels {
		return
	}
	stride := 2 * b.channels
	for i := 0; i < len(b.data)/(2*stride); i++ {
		a, z := b.data[2*i*stride:], b.data[(2*i+1)*stride:]
		for c := 0; c < b.channels; c++ {
			b.data[i*stride+2*c] = min(a[2*c], z[2*c])
			b.data[i*stride+2*c+1] = max(a[2*c+1], z[2*c+1])
		}
	}
	b.data = b.data[:len(b.data)/2]
	b.spp *= 2
}

// finish returns the waveform, including a last partial point.
func (b *waveformBuilder) finish() waveform {
	if b.count > 0 {
		b.endPoint()
	}
	return waveform{
		Version: 2, Channels: b.channels, SampleRate: b.sampleRate, SamplesPerPixel: b.spp, Bits: 8,
		Length: len(b.data) / (2 * b.channels), Data: b.data,
	}
}

// duration is the audio read, in seconds.
func (b *waveformBuilder) duration() float64 {
	return float64(b.frames) / float64(max(b.sampleRate, 1))
}

// Waveform picture colours: Acervo's ink on paper.
var (
	waveBackground = color.RGBA{0xf5, 0xf5, 0xf4, 0xff}
	waveInk        = color.RGBA{0x1d, 0x4e, 0x89, 0xff}
	waveAxis       = color.RGBA{0xc8, 0xc8, 0xc6, 0xff}
)

// maxWaveGain bounds how much a quiet recording is enlarged to fill the
// picture, so that hiss in a silent file stays a thin line.
const maxWaveGain = 8

// drawWaveform draws wf's envelope (all channels together) on a w×h
// picture, centred, enlarged to the loudest point up to maxWaveGain.
func drawWaveform(wf waveform, w, h int) *image.Paletted {
	img := image.NewPaletted(image.Rect(0, 0, w, h), color.Palette{waveBackground, waveInk, waveAxis})
	mid := h / 2
	for x := 0; x < w; x++ {
		img.SetColorIndex(x, mid, 2)
	}
	if wf.Length == 0 || wf.Channels == 0 {
		return img
	}
	peak := 1
	for _, v := range wf.Data {
		peak = max(peak, abs8(v))
	}
	gain := min(128/float64(peak), maxWaveGain)
	stride := 2 * wf.Channels
	for x := 0; x < w; x++ {
		i0 := x * wf.Length / w
		i1 := max((x+1)*wf.Length/w, i0+1)
		lo, hi := 127, -128
		for i := i0; i < i1 && i < wf.Length; i++ {
			for c := 0; c < wf.Channels; c++ {
				lo = min(lo, int(wf.Data[i*stride+2*c]))
				hi = max(hi, int(wf.Data[i*stride+2*c+1]))
			}
		}
		if lo > hi {
			continue
		}
		y0 := mid - int(math.Round(float64(hi)*gain*float64(mid)/128))
		y1 := mid - int(math.Round(float64(lo)*gain*float64(mid)/128))
		for y := max(y0, 0); y <= min(y1, h-1); y++ {
			img.SetColorIndex(x, y, 1)
		}
	}
	return img
}

func abs8(v int8) int {
	if v < 0 {
		return -int(v)
	}
	return int(v)
}
