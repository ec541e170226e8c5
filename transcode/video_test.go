package transcode

import (
	"bufio"
	"bytes"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/comsoc/acervo/catalog"
)

// videoSources are generated test videos: args for genMedia, and what a
// user of the archive relies on for each.
var videoSources = []struct {
	name string
	args []string
	// then re-muxes the first output with these args (for rotation).
	then         []string
	w, h         int // displayed
	proxyW, prxH int
	rotation     int
	interlaced   bool
	audio        bool
	duration     float64
	codec        string
}{
	{
		// ffmpeg 5.1 has no -display_rotation; a stream-copy remux with the
		// rotate tag writes the display matrix, which ffprobe reports as
		// 90° counter-clockwise: the display turns it 270° clockwise.
		name: "phone H.264 MOV rotated",
		args: lavfiAV("testsrc2=s=960x540:r=30:d=2", "libx264", "aac", "mp4"),
		then: []string{"-c", "copy", "-metadata:s:v:0", "rotate=90", "-f", "mov"},
		w:    540, h: 960, proxyW: 540, prxH: 960, rotation: 270, audio: true, duration: 2, codec: "h264",
	},
	{
		name: "HEVC MP4",
		args: lavfiAV("testsrc2=s=640x360:r=25:d=2", "libx265", "aac", "mp4"),
		w:    640, h: 360, proxyW: 640, prxH: 360, audio: true, duration: 2, codec: "hevc",
	},
	{
		name: "1080p camera",
		args: lavfiAV("testsrc2=s=1920x1080:r=25:d=2", "libx264", "aac", "mp4"),
		w:    1920, h: 1080, proxyW: 1280, prxH: 720, audio: true, duration: 2, codec: "h264",
	},
	{
		// A PAL broadcast recording: interlaced, 16:9 anamorphic pixels.
		name: "interlaced anamorphic MPEG-2 TS",
		args: []string{"-f", "lavfi", "-i", "testsrc2=s=720x576:r=50:d=2", "-f", "lavfi", "-i", "sine=d=2:sample_rate=48000",
			"-vf", "tinterlace=interleave_top,fieldorder=tff,setsar=64/45", "-flags", "+ilme+ildct",
			"-c:v", "mpeg2video", "-b:v", "4M", "-c:a", "mp2", "-f", "mpegts"},
		w: 1024, h: 576, proxyW: 1024, prxH: 576, interlaced: true, audio: true, duration: 2, codec: "mpeg2video",
	},
	{
		name: "WebM VP9 Opus",
		args: []string{"-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=2", "-f", "lavfi", "-i", "sine=d=2:sample_rate=48000",
			"-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k", "-c:a", "libopus", "-f", "webm"},
		w: 320, h: 240, proxyW: 320, prxH: 240, audio: true, duration: 2, codec: "vp9",
	},
	{
		name: "half a second",
		args: lavfiAV("testsrc2=s=320x240:r=25:d=0.5", "libx264", "aac", "mp4"),
		w:    320, h: 240, proxyW: 320, prxH: 240, audio: true, duration: 0.5, codec: "h264",
	},
	{
		name: "no audio, odd size",
		args: []string{"-f", "lavfi", "-i", "testsrc2=s=322x242:r=25:d=1", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p", "-f", "mp4"},
		w:    322, h: 242, proxyW: 322, prxH: 242, duration: 1, codec: "h264",
	},
	{
		// Black long enough to fill the thumbnail filter's whole window
		// from 10 % of the way in: only skipping dark frames finds a poster.
		name: "three black seconds first",
		args: []string{"-f", "lavfi", "-i", "color=black:s=320x240:r=25:d=3[b];testsrc2=s=320x240:r=25:d=1[v];[b][v]concat=n=2:v=1:a=0",
			"-c:v", "libx264", "-preset", "ultrafast", "-f", "mp4"},
		w: 320, h: 240, proxyW: 320, prxH: 240, duration: 4, codec: "h264",
	},
}

// lavfiAV is a video of src with a 1 kHz tone, encoded fast.
func lavfiAV(src, vcodec, acodec, format string) []string {
	a := []string{"-f", "lavfi", "-i", src, "-f", "lavfi", "-i", "sine=f=1000:sample_rate=44100:d=" + src[strings.LastIndex(src, "=")+1:],
		"-c:v", vcodec, "-pix_fmt", "yuv420p", "-c:a", acodec, "-shortest"}
	switch vcodec {
	case "libx264":
		a = append(a, "-preset", "ultrafast")
	case "libx265":
		a = append(a, "-preset", "ultrafast", "-x265-params", "log-level=error")
	}
	return append(a, "-f", format)
}

func TestRenderAVVideo(t *testing.T) {
	for _, tc := range videoSources {
		t.Run(tc.name, func(t *testing.T) {
			cfg := avConfig(t)
			src := genMedia(t, filepath.Join(t.TempDir(), "original"), tc.args...)
			if tc.then != nil {
				src = genMedia(t, filepath.Join(t.TempDir(), "original"), append([]string{"-i", src}, tc.then...)...)
			}
			info, err := RenderAV(t.Context(), cfg, src)
			if err != nil {
				t.Fatal(err)
			}
			if info.Kind != catalog.KindVideo || info.Width != tc.w || info.Height != tc.h {
				t.Errorf("%s %d×%d, want video %d×%d", info.Kind, info.Width, info.Height, tc.w, tc.h)
			}
			if math.Abs(info.Duration-tc.duration) > 0.1 {
				t.Errorf("duration %.3f s, want %.3f", info.Duration, tc.duration)
			}
			m := info.Media
			if m.VideoCodec != tc.codec || m.Interlaced != tc.interlaced || m.Rotation != tc.rotation || m.FrameRate <= 0 || (m.AudioCodec != "") != tc.audio {
				t.Errorf("Media %+v, want codec %s, interlaced %v, rotation %d, audio %v", m, tc.codec, tc.interlaced, tc.rotation, tc.audio)
			}
			requireOnlyRenditions(t, cfg, info.Renditions, "proxy.mp4", "poster.jpg", "thumb.jpg", "sprite.jpg", "sprite.vtt")
			proxyDuration := checkProxy(t, rendition(t, info.Renditions, "proxy.mp4"), tc.proxyW, tc.prxH, tc.audio, info.Duration)
			poster := checkJPEG(t, rendition(t, info.Renditions, "poster.jpg"), tc.proxyW, tc.prxH)
			if y := meanLuma(poster); y < 60 {
				t.Errorf("poster mean luma %.0f: a dark frame", y)
			}
			tw, th := fitLongEdge(tc.proxyW, tc.prxH, 400)
			checkJPEG(t, rendition(t, info.Renditions, "thumb.jpg"), tw, th)
			checkSprite(t, rendition(t, info.Renditions, "sprite.jpg"), rendition(t, info.Renditions, "sprite.vtt"), proxyDuration)
		})
	}
}

// checkProxy asserts what a browser needs of proxy.mp4 and returns its
// duration.
func checkProxy(t *testing.T, r Rendition, w, h int, audio bool, duration float64) float64 {
	t.Helper()
	if r.Width != w || r.Height != h || r.MIME != "video/mp4" {
		t.Errorf("proxy reported %d×%d %s, want %d×%d video/mp4", r.Width, r.Height, r.MIME, w, h)
	}
	p := ffprobeFile(t, r.Path)
	vs, as := streamsOf(p, "video"), streamsOf(p, "audio")
	if len(vs) != 1 {
		t.Fatalf("proxy has %d video streams", len(vs))
	}
	v := vs[0]
	if v.CodecName != "h264" || v.Width != w || v.Height != h || v.Width%2 != 0 || v.Height%2 != 0 || min(v.Width, v.Height) > 720 {
		t.Errorf("proxy video %s %d×%d, want h264 %d×%d (even, short edge ≤ 720)", v.CodecName, v.Width, v.Height, w, h)
	}
	if sar := rational(v.SAR); sar != 0 && sar != 1 {
		t.Errorf("proxy pixel aspect %s, want square", v.SAR)
	}
	if len(v.SideData) > 0 || v.Tags["rotate"] != "" {
		for _, sd := range v.SideData {
			if sd.Type == "Display Matrix" && sd.Rotation != 0 {
				t.Errorf("proxy keeps a display rotation of %v°", sd.Rotation)
			}
		}
		if v.Tags["rotate"] != "" && v.Tags["rotate"] != "0" {
			t.Errorf("proxy keeps rotate=%s", v.Tags["rotate"])
		}
	}
	if audio {
		if len(as) != 1 || as[0].CodecName != "aac" || as[0].Channels != 2 {
			t.Errorf("proxy audio %+v, want one AAC stereo stream", as)
		}
	} else if len(as) != 0 {
		t.Errorf("proxy has %d audio streams, want none", len(as))
	}
	d := atof(p.Format.Duration)
	if math.Abs(d-duration) > 0.1 {
		t.Errorf("proxy lasts %.3f s, want %.3f ± 0.1", d, duration)
	}
	requireFaststart(t, r.Path)
	return d
}

func checkJPEG(t *testing.T, r Rendition, w, h int) image.Image {
	t.Helper()
	img := decodeJPEGFile(t, r.Path)
	if got := img.Bounds().Size(); got.X != w || got.Y != h || r.Width != w || r.Height != h || r.MIME != "image/jpeg" {
		t.Errorf("%s: file %v, reported %d×%d %s, want %d×%d image/jpeg", r.Name, got, r.Width, r.Height, r.MIME, w, h)
	}
	return img
}

// meanLuma is the mean of 0.299 R + 0.587 G + 0.114 B, 0–255.
func meanLuma(img image.Image) float64 {
	b := img.Bounds()
	var sum float64
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			sum += (0.299*float64(r) + 0.587*float64(g) + 0.114*float64(bl)) / 257
		}
	}
	return sum / float64(b.Dx()*b.Dy())
}

var vttCue = regexp.MustCompile(`^(\d\d):(\d\d):(\d\d)\.(\d\d\d) --> (\d\d):(\d\d):(\d\d)\.(\d\d\d)$`)
var vttXYWH = regexp.MustCompile(`^sprite\.jpg#xywh=(\d+),(\d+),(\d+),(\d+)$`)

// checkSprite asserts that the cues cover the proxy's [0, duration) back
// to back and point inside the sprite.
func checkSprite(t *testing.T, sprite, vtt Rendition, duration float64) {
	t.Helper()
	img := checkJPEG(t, sprite, sprite.Width, sprite.Height)
	if vtt.MIME != "text/vtt" {
		t.Errorf("sprite.vtt MIME %q", vtt.MIME)
	}
	b, err := os.ReadFile(vtt.Path)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	if !sc.Scan() || sc.Text() != "WEBVTT" {
		t.Fatalf("sprite.vtt does not start with WEBVTT:\n%s", b)
	}
	ms := func(m []string) float64 {
		h, _ := strconv.Atoi(m[0])
		mi, _ := strconv.Atoi(m[1])
		s, _ := strconv.Atoi(m[2])
		f, _ := strconv.Atoi(m[3])
		return float64(h*3600+mi*60+s) + float64(f)/1000
	}
	next, cues := 0.0, 0
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		m := vttCue.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("sprite.vtt: unexpected line %q", line)
		}
		start, end := ms(m[1:5]), ms(m[5:9])
		if math.Abs(start-next) > 0.0011 || end <= start {
			t.Errorf("cue %d: %s, want a start at %.3f", cues, line, next)
		}
		next = end
		if !sc.Scan() {
			t.Fatal("sprite.vtt: cue without a payload")
		}
		x := vttXYWH.FindStringSubmatch(sc.Text())
		if x == nil {
			t.Fatalf("sprite.vtt: payload %q", sc.Text())
		}
		var v [4]int
		for i := range v {
			v[i], _ = strconv.Atoi(x[i+1])
		}
		if v[2] <= 0 || v[3] <= 0 || v[0]+v[2] > img.Bounds().Dx() || v[1]+v[3] > img.Bounds().Dy() {
			t.Errorf("cue %d: tile %v outside the %v sprite", cues, v, img.Bounds().Size())
		}
		cues++
	}
	if cues == 0 || math.Abs(next-duration) > 0.0011 {
		t.Errorf("%d cues ending at %.3f, want cues up to %.3f", cues, next, duration)
	}
}

// TestRenderAVTruncated cuts originals at 60 % of their bytes, as an
// interrupted copy would: a transport stream still has its first part,
// an MP4 that kept its index at the end has nothing usable.
func TestRenderAVTruncated(t *testing.T) {
	dir := t.TempDir()
	ts := genMedia(t, filepath.Join(dir, "ts"), lavfiAV("testsrc2=s=320x240:r=25:d=4", "libx264", "aac", "mpegts")...)
	mp4 := genMedia(t, filepath.Join(dir, "mp4"), lavfiAV("testsrc2=s=320x240:r=25:d=4", "libx264", "aac", "mp4")...)
	faststart := genMedia(t, filepath.Join(dir, "faststart"), "-i", mp4, "-c", "copy", "-movflags", "+faststart", "-f", "mp4")
	if boxes := topLevelBoxes(t, mp4); boxes[len(boxes)-1] != "moov" {
		t.Fatalf("test MP4 boxes %v, want the index at the end", boxes)
	}
	truncate := func(path string) string {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		out := path + "-60"
		if err := os.WriteFile(out, b[:len(b)*6/10], 0o644); err != nil {
			t.Fatal(err)
		}
		return out
	}
	t.Run("transport stream", func(t *testing.T) {
		cfg := avConfig(t)
		info, err := RenderAV(t.Context(), cfg, truncate(ts))
		if err != nil {
			t.Fatal(err)
		}
		if info.Duration < 1 || info.Duration > 3.5 {
			t.Errorf("duration %.3f, want what is left of 4 s", info.Duration)
		}
		checkProxy(t, rendition(t, info.Renditions, "proxy.mp4"), 320, 240, true, info.Duration)
	})
	t.Run("MP4 with the index first", func(t *testing.T) {
		cfg := avConfig(t)
		info, err := RenderAV(t.Context(), cfg, truncate(faststart))
		if err != nil {
			t.Fatal(err)
		}
		if info.Duration < 1 || info.Duration > 3.5 {
			t.Errorf("duration %.3f, want what is left of 4 s, not what the index promises", info.Duration)
		}
		checkProxy(t, rendition(t, info.Renditions, "proxy.mp4"), 320, 240, true, info.Duration)
	})
	t.Run("MP4 with the index at the end", func(t *testing.T) {
		cfg := avConfig(t)
		_, err := RenderAV(t.Context(), cfg, truncate(mp4))
		if !IsPermanent(err) || !strings.Contains(err.Error(), "unsupported format") || !strings.Contains(err.Error(), "moov atom not found") {
			t.Fatalf("error %v, want a permanent unsupported format saying moov atom not found", err)
		}
		if files := scratchFiles(t, cfg.ScratchDir); len(files) != 0 {
			t.Errorf("ScratchDir holds %v after a failure", files)
		}
	})
}

func TestProxySize(t *testing.T) {
	cases := []struct{ w, h, ww, wh int }{
		{1920, 1080, 1280, 720},
		{1080, 1920, 720, 1280},
		{3840, 2160, 1280, 720},
		{1440, 1080, 960, 720},
		{1280, 720, 1280, 720},
		{640, 360, 640, 360},
		{321, 241, 320, 240},   // never enlarged; even
		{1000, 1001, 720, 720}, // 720.7 rounds to 720
		{4096, 2160, 1366, 720},
		{1, 1, 2, 2},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%dx%d", tc.w, tc.h), func(t *testing.T) {
			if w, h := proxySize(tc.w, tc.h, 720); w != tc.ww || h != tc.wh {
				t.Errorf("proxySize = %d×%d, want %d×%d", w, h, tc.ww, tc.wh)
			}
		})
	}
}

func TestSpriteLayout(t *testing.T) {
	cases := []struct {
		duration          float64
		w, h              int
		tiles, cols, rows int
		tw, th            int
	}{
		{0.5, 320, 240, 1, 1, 1, 160, 120},
		{5, 1280, 720, 5, 5, 1, 160, 90},
		{60, 1280, 720, 60, 10, 6, 160, 90},
		{3600, 1280, 720, 100, 10, 10, 160, 90},
		{23.2, 720, 1280, 20, 10, 2, 160, 284}, // whole rows
		{10, 200, 1000, 10, 10, 1, 64, 320},    // very tall: height bounded
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%gs/%dx%d", tc.duration, tc.w, tc.h), func(t *testing.T) {
			l := spriteLayoutFor(tc.duration, tc.w, tc.h)
			if l.Tiles != tc.tiles || l.Cols != tc.cols || l.Rows != tc.rows || l.TileW != tc.tw || l.TileH != tc.th {
				t.Errorf("layout %+v, want %d tiles %dx%d of %d×%d", l, tc.tiles, tc.cols, tc.rows, tc.tw, tc.th)
			}
		})
	}
	got := string(spriteVTT(spriteLayoutFor(2.5, 320, 240), "sprite.jpg"))
	want := "WEBVTT\n\n00:00:00.000 --> 00:00:00.833\nsprite.jpg#xywh=0,0,160,120\n\n" +
		"00:00:00.833 --> 00:00:01.667\nsprite.jpg#xywh=160,0,160,120\n\n00:00:01.667 --> 00:00:02.500\nsprite.jpg#xywh=320,0,160,120\n"
	if got != want {
		t.Errorf("sprite.vtt:\n%s\nwant:\n%s", got, want)
	}
}
