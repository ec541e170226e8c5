package transcode

import (
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"regexp"
	"strconv"
)

// Audio rendition sizes.
const (
	waveformPNGWidth, waveformPNGHeight = 1200, 200
	audioThumbWidth, audioThumbHeight   = 400, 225 // the grid's 16:9 cards
)

// renderAudio makes, under j, files out+name:
//   - audio.m4a: AAC 128k, mono for a mono source and stereo otherwise,
//     at most 48 kHz, +faststart, no metadata (a recorder's tags can hold
//     a location);
//   - waveform.json: audiowaveform/peaks.js format v2, 8 bits, about
//     waveformPoints points;
//   - waveform.png (1200×200) and thumb.jpg (400×225): the waveform drawn;
//
// and measures the integrated loudness (EBU R128) in the same decode as
// the waveform. The PCM streams from ffmpeg through waveformBuilder and is
// never held.
func renderAudio(j *avJob, p mediaProbe, out string) (avRendered, error) {
	plan := audioPlanFor(p, j.cfg.Threads, out+"audio.m4a")
	if _, err := j.ffmpeg("audio.m4a", audioProxyArgs(plan), nil); err != nil {
		return avRendered{}, err
	}
	if err := requireFile(plan.Out, "audio.m4a"); err != nil {
		return avRendered{}, err
	}
	res := avRendered{Renditions: []Rendition{{Name: "audio.m4a", Path: plan.Out, MIME: "audio/mp4"}}}

	wf, err := decodeWaveform(j, plan, p.Duration, &res)
	if err != nil {
		return avRendered{}, err
	}

	js, err := json.Marshal(wf)
	if err != nil {
		return avRendered{}, err
	}
	var pic bytes.Buffer
	if err := png.Encode(&pic, drawWaveform(wf, waveformPNGWidth, waveformPNGHeight)); err != nil {
		return avRendered{}, err
	}
	for _, f := range []struct {
		r    Rendition
		data []byte
	}{
		{Rendition{Name: "waveform.json", MIME: "application/json"}, js},
		{Rendition{Name: "waveform.png", Width: waveformPNGWidth, Height: waveformPNGHeight, MIME: "image/png"}, pic.Bytes()},
	} {
		f.r.Path = out + f.r.Name
		if err := os.WriteFile(f.r.Path, f.data, 0o644); err != nil {
			return avRendered{}, err
		}
		res.Renditions = append(res.Renditions, f.r)
	}
	if err := writeJPEG(out+"thumb.jpg", drawWaveform(wf, audioThumbWidth, audioThumbHeight)); err != nil {
		return avRendered{}, err
	}
	res.Renditions = append(res.Renditions, Rendition{Name: "thumb.jpg", Path: out + "thumb.jpg", Width: audioThumbWidth, Height: audioThumbHeight, MIME: "image/jpeg"})
	return res, nil
}

// audioPlanFor is the audio of the probed source p, to out: mono stays
// mono, anything else becomes stereo.
func audioPlanFor(p mediaProbe, threads int, out string) audioPlan {
	channels := 2
	if p.Audio.Channels == 1 {
		channels = 1
	}
	return audioPlan{
		In:     avInput{Path: p.path, Format: p.Demuxer},
		Stream: p.Audio.Index, Channels: channels, SampleRate: atoi(p.Audio.SampleRate),
		Threads: threads,
		Out:     out,
	}
}

// decodeWaveform decodes the stream of plan once, for the waveform and the
// loudness, and records the duration decoded and the loudness in res.
// duration is the probe's guess, for samples_per_pixel; when the file
// holds less than a quarter of it, it is decoded a second time.
func decodeWaveform(j *avJob, plan audioPlan, duration float64, res *avRendered) (waveform, error) {
	b := newWaveformBuilder(plan.Channels, plan.SampleRate, duration)
	stderr, err := j.ffmpeg("waveform", waveformArgs(plan), b)
	if err != nil {
		return waveform{}, err
	}
	wf := b.finish()
	if wf.Length == 0 {
		return waveform{}, unsupportedFormat("no decodable audio")
	}
	if read := b.duration(); wf.Length < waveformPoints/4 && read < duration/4 {
		// The header promised far more than the file holds (a recorder
		// cut off mid-file, or a header that lies: "10 hours" over two
		// seconds), so the points came out a few samples too coarse to
		// show anything. Decode again knowing the real length: the
		// second pass costs only what is really there.
		b = newWaveformBuilder(plan.Channels, plan.SampleRate, read)
		if stderr, err = j.ffmpeg("waveform", waveformArgs(plan), b); err != nil {
			return waveform{}, err
		}
		wf = b.finish()
	}
	res.Duration = b.duration()
	res.Loudness = parseLoudness(stderr)
	return wf, nil
}

// ebur128Integrated matches the integrated loudness of the ebur128
// filter's summary: "Integrated loudness:\n    I:  -23.0 LUFS".
var ebur128Integrated = regexp.MustCompile(`Integrated loudness:\s+I:\s+(-?[0-9]+(?:\.[0-9]+)?|-?inf|nan) LUFS`)

// parseLoudness returns the integrated loudness of the last ebur128
// summary in stderr (ffmpeg 5.1 also prints an empty one while setting up
// the filter graph), or nil when there is none. Silence reads -70 LUFS,
// the meter's floor.
func parseLoudness(stderr string) *float64 {
	m := ebur128Integrated.FindAllStringSubmatch(stderr, -1)
	if len(m) == 0 {
		return nil
	}
	v, err := strconv.ParseFloat(m[len(m)-1][1], 64)
	if err != nil || v != v || v < -200 || v > 50 {
		return nil
	}
	return &v
}
