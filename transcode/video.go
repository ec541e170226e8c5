package transcode

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"os"
	"time"

	"golang.org/x/image/draw"
)

// Video rendition sizes.
const (
	proxyShortEdge  = 720 // proxy and poster: at most 720p, never enlarged
	spriteTileWidth = 160
	spriteMaxTiles  = 100
	spriteCols      = 10
	// spriteMinInterval: short videos get a tile a second, not 100 tiles
	// of nearly the same frame.
	spriteMinInterval = 1.0
	// spriteKeyframeInterval: from this many seconds a tile, sprites decode
	// only the proxy's keyframes (one every 2 s), which is plenty close.
	spriteKeyframeInterval = 4.0
)

// avRendered is what a renderer made.
type avRendered struct {
	Renditions []Rendition
	Duration   float64  // as measured on the output, seconds
	Loudness   *float64 // integrated loudness (audio), LUFS
}

// renderVideo makes, under j, files out+name:
//   - proxy.mp4: H.264 High yuv420p + AAC stereo 128k (no audio track when
//     the source has none), short edge at most 720 px, even sides, square
//     pixels, rotation applied and no display matrix left, deinterlaced
//     (bwdif) when ffprobe reports a field order, CRF 23 capped at 2 Mb/s,
//     a keyframe every 2 s, +faststart, the whole duration;
//   - poster.jpg at the proxy's size: the most representative of the first
//     non-dark frames from 10 % of the way in, or the first frame when
//     there are none (very short or dark clips);
//   - thumb.jpg: the poster at 400 px on the long edge;
//   - sprite.jpg + sprite.vtt: up to 100 tiles 160 px wide in rows of 10
//     (a single row for short videos), at regular intervals of at least
//     1 s, and WebVTT cues covering the proxy's whole duration, each
//     pointing at its tile with #xywh=.
//
// The source is decoded once, for the proxy; poster and sprite are read
// from the proxy, our own file.
func renderVideo(j *avJob, p mediaProbe, out string) (avRendered, error) {
	proxy := proxyPlanFor(p, j.cfg.Threads, out+"proxy.mp4")
	w, h := proxy.Video.Width, proxy.Video.Height
	if _, err := j.ffmpeg("proxy.mp4", proxyArgs(proxy), nil); err != nil {
		return avRendered{}, err
	}
	// What was really encoded: a truncated or lying file may hold less
	// than its header says, and everything after follows the proxy.
	pp, err := probeOwn(j, proxy.Out)
	if err != nil {
		return avRendered{}, err
	}
	if pp.Video == nil || pp.Duration <= 0 {
		return avRendered{}, unsupportedFormat("no decodable video frames")
	}
	res := avRendered{Duration: pp.Duration}
	res.Renditions = append(res.Renditions, Rendition{Name: "proxy.mp4", Path: proxy.Out, Width: w, Height: h, MIME: "video/mp4"})

	poster, err := makePoster(j, pp, videoFrames{Stream: pp.Video.Index, Width: w, Height: h}, out+"poster.jpg")
	if err != nil {
		return avRendered{}, err
	}
	res.Renditions = append(res.Renditions, poster)
	thumb, err := makeVideoThumb(poster.Path, out+"thumb.jpg")
	if err != nil {
		return avRendered{}, err
	}
	res.Renditions = append(res.Renditions, thumb)

	layout := spriteLayoutFor(pp.Duration, w, h)
	sprite := spritePlan{
		In:     avInput{Path: proxy.Out, Format: pp.Demuxer, KeyframesOnly: layout.Interval >= spriteKeyframeInterval},
		Layout: layout,
		Out:    out + "sprite.jpg",
	}
	if _, err := j.ffmpeg("sprite.jpg", spriteArgs(sprite), nil); err != nil {
		return avRendered{}, err
	}
	if err := requireFile(sprite.Out, "sprite.jpg"); err != nil {
		return avRendered{}, err
	}
	vtt := out + "sprite.vtt"
	if err := os.WriteFile(vtt, spriteVTT(layout, "sprite.jpg"), 0o644); err != nil {
		return avRendered{}, err
	}
	res.Renditions = append(res.Renditions,
		Rendition{Name: "sprite.jpg", Path: sprite.Out, Width: layout.Cols * layout.TileW, Height: layout.Rows * layout.TileH, MIME: "image/jpeg"},
		Rendition{Name: "sprite.vtt", Path: vtt, MIME: "text/vtt"})
	return res, nil
}

// proxyPlanFor is the proxy of the probed source p, written to out.
func proxyPlanFor(p mediaProbe, threads int, out string) proxyPlan {
	w, h := proxySize(p.Width, p.Height, proxyShortEdge)
	plan := proxyPlan{
		In:          avInput{Path: p.path, Format: p.Demuxer},
		Video:       videoFrames{Stream: p.Video.Index, Width: w, Height: h, Deinterlace: p.Interlaced},
		AudioStream: -1,
		Threads:     threads,
		Out:         out,
	}
	if p.Audio != nil {
		plan.AudioStream, plan.AudioRate = p.Audio.Index, atoi(p.Audio.SampleRate)
	}
	return plan
}

// probeOwn probes a file the job made.
func probeOwn(j *avJob, path string) (mediaProbe, error) {
	p, err := probeMedia(j.ctx, j.cfg, path)
	if err != nil && !IsPermanent(err) {
		return p, err
	}
	if err != nil {
		// Our encoder wrote something unreadable: nothing decodable came in.
		return p, unsupportedFormat("no decodable frames (%v)", err)
	}
	return p, nil
}

// makePoster writes the poster, picking a frame from a window after 10 %
// of the proxy's duration, or its first frame when the window yields none.
func makePoster(j *avJob, pp mediaProbe, frames videoFrames, out string) (Rendition, error) {
	start := time.Duration(pp.Duration * 0.1 * float64(time.Second))
	window := time.Duration(min(max(pp.Duration*0.2, 10), 120) * float64(time.Second))
	in := avInput{Path: pp.path, Format: pp.Demuxer, Seek: start, Limit: window}
	if _, err := j.ffmpeg("poster.jpg", posterArgs(posterPlan{In: in, Video: frames, Pick: true, Out: out}), nil); err != nil {
		return Rendition{}, err
	}
	if requireFile(out, "poster.jpg") != nil {
		in.Seek, in.Limit = 0, 0
		if _, err := j.ffmpeg("poster.jpg", posterArgs(posterPlan{In: in, Video: frames, Out: out}), nil); err != nil {
			return Rendition{}, err
		}
		if err := requireFile(out, "poster.jpg"); err != nil {
			return Rendition{}, err
		}
	}
	return Rendition{Name: "poster.jpg", Path: out, Width: frames.Width, Height: frames.Height, MIME: "image/jpeg"}, nil
}

// makeVideoThumb scales the poster (our own JPEG, at most 720p) to
// thumbLongEdge in Go.
func makeVideoThumb(poster, out string) (Rendition, error) {
	b, err := os.ReadFile(poster)
	if err != nil {
		return Rendition{}, err
	}
	src, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		return Rendition{}, fmt.Errorf("thumb.jpg: reading the poster: %w", err)
	}
	w, h := fitLongEdge(src.Bounds().Dx(), src.Bounds().Dy(), thumbLongEdge)
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
	if err := writeJPEG(out, dst); err != nil {
		return Rendition{}, fmt.Errorf("thumb.jpg: %w", err)
	}
	return Rendition{Name: "thumb.jpg", Path: out, Width: w, Height: h, MIME: "image/jpeg"}, nil
}

// thumbLongEdge matches the photos' thumb.jpg.
const thumbLongEdge = 400

func writeJPEG(path string, img image.Image) error {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// requireFile checks that ffmpeg wrote a non-empty file; it exits 0 with
// nothing written when no frame reached the output.
func requireFile(path, name string) error {
	st, err := os.Stat(path)
	if err == nil && st.Mode().IsRegular() && st.Size() > 0 {
		return nil
	}
	os.Remove(path)
	if err == nil || errors.Is(err, os.ErrNotExist) {
		return unsupportedFormat("no decodable frames for %s", name)
	}
	return err
}

// proxySize fits a displayed size so its short edge is at most short,
// never enlarging, with even sides (H.264 4:2:0 needs them) of at least 2.
func proxySize(w, h, short int) (int, int) {
	if w <= 0 || h <= 0 {
		return 2, 2
	}
	if s := min(w, h); s > short {
		f := float64(short) / float64(s)
		if w < h {
			return short &^ 1, max(2, 2*int(math.Round(float64(h)*f/2)))
		}
		return max(2, 2*int(math.Round(float64(w)*f/2))), short &^ 1
	}
	return max(2, w&^1), max(2, h&^1)
}

// spriteLayout places the sprite's tiles: tile i shows the frame at
// i × Interval and sits at column i%Cols, row i/Cols.
type spriteLayout struct {
	Tiles, Cols, Rows int
	TileW, TileH      int
	Interval          float64 // seconds a tile stands for
	Duration          float64 // seconds, the last cue's end
}

func spriteLayoutFor(duration float64, w, h int) spriteLayout {
	n := int(math.Min(math.Ceil(duration/spriteMinInterval), spriteMaxTiles))
	n = max(n, 1)
	if n > spriteCols {
		n -= n % spriteCols // whole rows: ffmpeg leaves empty cells unpainted
	}
	l := spriteLayout{Tiles: n, Cols: min(n, spriteCols), Duration: duration, Interval: duration / float64(n)}
	l.Rows = (n + l.Cols - 1) / l.Cols
	l.TileW = spriteTileWidth
	l.TileH = max(2, 2*int(math.Round(float64(spriteTileWidth)*float64(h)/float64(max(w, 1))/2)))
	if l.TileH > 2*spriteTileWidth { // very tall video: bound the height instead
		l.TileH = 2 * spriteTileWidth
		l.TileW = max(2, 2*int(math.Round(float64(l.TileH)*float64(w)/float64(max(h, 1))/2)))
	}
	return l
}

// spriteVTT is the WebVTT of the layout: one cue per tile, back to back
// from 0 to the duration, each "image#xywh=x,y,w,h".
func spriteVTT(l spriteLayout, image string) []byte {
	var b bytes.Buffer
	b.WriteString("WEBVTT\n")
	for i := 0; i < l.Tiles; i++ {
		start, end := float64(i)*l.Interval, float64(i+1)*l.Interval
		if i == l.Tiles-1 {
			end = l.Duration
		}
		fmt.Fprintf(&b, "\n%s --> %s\n%s#xywh=%d,%d,%d,%d\n", vttTime(start), vttTime(end), image,
			i%l.Cols*l.TileW, i/l.Cols*l.TileH, l.TileW, l.TileH)
	}
	return b.Bytes()
}

// vttTime formats seconds as WebVTT's hh:mm:ss.ttt.
func vttTime(s float64) string {
	ms := int64(math.Round(s * 1000))
	return fmt.Sprintf("%02d:%02d:%02d.%03d", ms/3600000, ms/60000%60, ms/1000%60, ms%1000)
}
