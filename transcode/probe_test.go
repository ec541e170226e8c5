package transcode

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/comsoc/acervo/catalog"
)

// avConfig is a config for tests, with defaults and a fresh scratch folder.
func avConfig(t testing.TB) AVConfig {
	t.Helper()
	requireTools(t, "ffmpeg", "ffprobe")
	cfg := AVConfig{ScratchDir: t.TempDir()}
	if err := cfg.withDefaults(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// genMedia runs `ffmpeg -v error -y ARGS OUT` to make test media; OUT has
// no extension, like an original in storage, so ARGS must carry -f.
func genMedia(t testing.TB, out string, args ...string) string {
	t.Helper()
	requireTools(t, "ffmpeg")
	cmd := exec.Command("ffmpeg", slices.Concat([]string{"-nostdin", "-v", "error", "-y"}, args, []string{out})...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", cmd.Args, err, b)
	}
	return out
}

// ffprobeFile describes a file with a plain ffprobe (no allowlist: the
// tests inspect our own outputs).
func ffprobeFile(t testing.TB, path string) probeOutput {
	t.Helper()
	cmd := exec.Command("ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", path)
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var out probeOutput
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// streamsOf returns the streams of a codec type.
func streamsOf(p probeOutput, codecType string) []probeStream {
	var out []probeStream
	for _, s := range p.Streams {
		if s.CodecType == codecType {
			out = append(out, s)
		}
	}
	return out
}

// topLevelBoxes lists the ISO BMFF box types at the top of the file, in order.
func topLevelBoxes(t testing.TB, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var types []string
	var off int64
	for {
		var h [16]byte
		if _, err := f.ReadAt(h[:8], off); err == io.EOF {
			return types
		} else if err != nil {
			t.Fatal(err)
		}
		size := int64(binary.BigEndian.Uint32(h[:4]))
		types = append(types, string(h[4:8]))
		switch size {
		case 0:
			return types
		case 1:
			if _, err := f.ReadAt(h[8:16], off+8); err != nil {
				t.Fatal(err)
			}
			size = int64(binary.BigEndian.Uint64(h[8:16]))
		}
		if size < 8 {
			t.Fatalf("%s: box %q of size %d", path, h[4:8], size)
		}
		off += size
	}
}

// requireFaststart asserts that the index (moov) comes before the media (mdat).
func requireFaststart(t testing.TB, path string) {
	t.Helper()
	boxes := topLevelBoxes(t, path)
	moov, mdat := slices.Index(boxes, "moov"), slices.Index(boxes, "mdat")
	if moov < 0 || mdat < 0 || moov > mdat {
		t.Errorf("%s: top-level boxes %v, want moov before mdat", filepath.Base(path), boxes)
	}
}

func rendition(t testing.TB, rs []Rendition, name string) Rendition {
	t.Helper()
	for _, r := range rs {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no rendition %s in %v", name, rs)
	return Rendition{}
}

// requireOnlyRenditions asserts that the renditions are exactly names and
// are the only files in the scratch folder.
func requireOnlyRenditions(t testing.TB, cfg AVConfig, rs []Rendition, names ...string) {
	t.Helper()
	var got, files []string
	for _, r := range rs {
		got = append(got, r.Name)
		files = append(files, filepath.Base(r.Path))
		if filepath.Dir(r.Path) != cfg.ScratchDir {
			t.Errorf("%s at %s, outside ScratchDir", r.Name, r.Path)
		}
	}
	if !slices.Equal(got, names) {
		t.Errorf("renditions %v, want %v", got, names)
	}
	scratch := scratchFiles(t, cfg.ScratchDir)
	slices.Sort(scratch)
	slices.Sort(files)
	if !slices.Equal(scratch, files) {
		t.Errorf("ScratchDir holds %v, want only %v", scratch, files)
	}
}

func TestParseISO6709(t *testing.T) {
	alt := func(v float64) *float64 { return &v }
	cases := []struct {
		in   string
		want *GPS
	}{
		{"+19.4326-099.1332+2240.000/", &GPS{Lat: 19.4326, Lon: -99.1332, Alt: alt(2240)}},
		{"+19.4326-099.1332/", &GPS{Lat: 19.4326, Lon: -99.1332}},
		{"-33.8688+151.2093+058.000CRSWGS_84/", &GPS{Lat: -33.8688, Lon: 151.2093, Alt: alt(58)}},
		{"+1925.956-09907.992/", &GPS{Lat: 19 + 25.956/60, Lon: -(99 + 7.992/60)}},
		{"+192557.36-0990759.52/", &GPS{Lat: 19 + 25.0/60 + 57.36/3600, Lon: -(99 + 7.0/60 + 59.52/3600)}},
		{"+00.0000+000.0000/", nil}, // "no fix"
		{"+95.0000+010.0000/", nil},
		{"+19.4-199.1/", nil},
		{"+1975.00-09907.00/", nil}, // 75 minutes
		{"19.4326,-99.1332", nil},
		{"", nil},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := parseISO6709(tc.in)
			if ok != (tc.want != nil) {
				t.Fatalf("ok %v, want %v (%+v)", ok, tc.want != nil, got)
			}
			if !ok {
				return
			}
			if math.Abs(got.Lat-tc.want.Lat) > 1e-9 || math.Abs(got.Lon-tc.want.Lon) > 1e-9 ||
				(got.Alt == nil) != (tc.want.Alt == nil) || (got.Alt != nil && *got.Alt != *tc.want.Alt) {
				t.Errorf("got %+v (alt %v), want %+v (alt %v)", got, got.Alt, tc.want, tc.want.Alt)
			}
		})
	}
}

// TestAnalyse reads ffprobe descriptions made by hand: which streams
// decide the kind, and what the metadata becomes.
func TestAnalyse(t *testing.T) {
	cases := []struct {
		name     string
		json     string
		kind     string
		w, h     int
		rotation int
		errPerm  bool
	}{
		{name: "audio-only MP4 with cover art", kind: catalog.KindAudio, json: `{"format":{"format_name":"mov,mp4,m4a,3gp,3g2,mj2","duration":"2.0"},"streams":[
			{"index":0,"codec_name":"aac","codec_type":"audio","sample_rate":"44100","channels":2},
			{"index":1,"codec_name":"mjpeg","codec_type":"video","width":600,"height":600,"disposition":{"attached_pic":1}}]}`},
		{name: "phone portrait", kind: catalog.KindVideo, w: 1080, h: 1920, rotation: 90, json: `{"format":{"format_name":"mov,mp4,m4a,3gp,3g2,mj2","duration":"2.0"},"streams":[
			{"index":0,"codec_name":"hevc","codec_type":"video","width":1920,"height":1080,"side_data_list":[{"side_data_type":"Display Matrix","rotation":-90}]}]}`},
		{name: "old rotate tag", kind: catalog.KindVideo, w: 1080, h: 1920, rotation: 270, json: `{"format":{"format_name":"mov,mp4,m4a,3gp,3g2,mj2"},"streams":[
			{"index":0,"codec_name":"h264","codec_type":"video","width":1920,"height":1080,"tags":{"rotate":"270"}}]}`},
		{name: "anamorphic PAL", kind: catalog.KindVideo, w: 1024, h: 576, json: `{"format":{"format_name":"mpegts"},"streams":[
			{"index":0,"codec_name":"mpeg2video","codec_type":"video","width":720,"height":576,"sample_aspect_ratio":"64:45","field_order":"tt"}]}`},
		{name: "unknown codecs only", errPerm: true, json: `{"format":{"format_name":"matroska,webm"},"streams":[
			{"index":0,"codec_type":"video","width":320,"height":240},{"index":1,"codec_name":"none","codec_type":"audio","sample_rate":"8000","channels":1}]}`},
		{name: "not on the allowlist", errPerm: true, json: `{"format":{"format_name":"hls"},"streams":[{"index":0,"codec_name":"h264","codec_type":"video","width":320,"height":240}]}`},
		{name: "absurd frame size", errPerm: true, json: `{"format":{"format_name":"matroska,webm"},"streams":[
			{"index":0,"codec_name":"h264","codec_type":"video","width":65536,"height":65536}]}`},
		{name: "subtitles only", errPerm: true, json: `{"format":{"format_name":"matroska,webm"},"streams":[{"index":0,"codec_name":"ass","codec_type":"subtitle"}]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out probeOutput
			if err := json.Unmarshal([]byte(tc.json), &out); err != nil {
				t.Fatal(err)
			}
			p, err := analyse(out)
			if tc.errPerm {
				if !IsPermanent(err) {
					t.Fatalf("error %v, want a permanent one", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Kind != tc.kind || p.Width != tc.w || p.Height != tc.h || p.Rotation != tc.rotation {
				t.Errorf("kind %s %d×%d rotation %d, want %s %d×%d rotation %d", p.Kind, p.Width, p.Height, p.Rotation, tc.kind, tc.w, tc.h, tc.rotation)
			}
		})
	}
}

// TestProbeMetadata writes Apple's QuickTime keys the way an iPhone does
// and reads them back through the real ffprobe.
func TestProbeMetadata(t *testing.T) {
	cfg := avConfig(t)
	src := genMedia(t, filepath.Join(t.TempDir(), "original"),
		"-f", "lavfi", "-i", "testsrc2=s=320x240:r=30:d=1", "-f", "lavfi", "-i", "sine=d=1:sample_rate=48000",
		"-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
		"-metadata", "com.apple.quicktime.creationdate=2025-03-14T09:26:53-0600",
		"-metadata", "com.apple.quicktime.location.ISO6709=+19.4326-099.1332+2240.000/",
		"-metadata", "creation_time=2025-03-14T15:26:53Z",
		"-movflags", "use_metadata_tags", "-f", "mov")
	p, err := probeMedia(t.Context(), cfg, src)
	if err != nil {
		t.Fatal(err)
	}
	info := p.info()
	want := time.Date(2025, 3, 14, 9, 26, 53, 0, time.FixedZone("", -6*3600))
	if info.CapturedAt == nil || !info.CapturedAt.Equal(want) {
		t.Errorf("CapturedAt %v, want %v", info.CapturedAt, want)
	} else if _, off := info.CapturedAt.Zone(); off != -6*3600 {
		t.Errorf("CapturedAt offset %d, want the phone's -6 h", off)
	}
	if info.GPS == nil || math.Abs(info.GPS.Lat-19.4326) > 1e-6 || math.Abs(info.GPS.Lon+99.1332) > 1e-6 || info.GPS.Alt == nil || *info.GPS.Alt != 2240 {
		t.Errorf("GPS %+v, want 19.4326, -99.1332, 2240 m", info.GPS)
	}
	m := info.Media
	if m.VideoCodec != "h264" || m.AudioCodec != "aac" || m.Channels != 1 || m.SampleRate != 48000 ||
		math.Abs(m.FrameRate-30) > 0.01 || m.Bitrate <= 0 || m.Container != "mov,mp4,m4a,3gp,3g2,mj2" {
		t.Errorf("Media %+v", m)
	}
	if info.Kind != catalog.KindVideo || info.Width != 320 || info.Height != 240 || math.Abs(info.Duration-1) > 0.1 {
		t.Errorf("kind %s %d×%d %.3f s, want video 320×240 1 s", info.Kind, info.Width, info.Height, info.Duration)
	}
}

// TestProbeGiantFrames: an MJPEG AVI whose headers and frames declare
// 16384×16384 is refused before any frame is decoded, with the declared
// size in the reason. ffmpeg's decoder refuses the size itself and then
// reports the stream as 0×0, which alone would read "no decodable stream".
func TestProbeGiantFrames(t *testing.T) {
	cfg := avConfig(t)
	src := genMedia(t, filepath.Join(t.TempDir(), "original"), "-f", "lavfi", "-i", "testsrc=s=64x48:r=5:d=0.4",
		"-c:v", "mjpeg", "-f", "avi")
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	const giant = 16384
	put32 := func(at int) {
		binary.LittleEndian.PutUint32(b[at:], giant)
		binary.LittleEndian.PutUint32(b[at+4:], giant)
	}
	avih, strf := bytes.Index(b, []byte("avih")), bytes.Index(b, []byte("strf"))
	if avih < 0 || strf < 0 {
		t.Fatal("no avih or strf chunk in ffmpeg's AVI")
	}
	put32(avih + 8 + 32) // dwWidth, dwHeight
	put32(strf + 8 + 4)  // biWidth, biHeight
	sof := []byte{0xFF, 0xC0, 0x00, 0x11, 0x08, 0x00, 48, 0x00, 64}
	patched := bytes.ReplaceAll(b, sof, []byte{0xFF, 0xC0, 0x00, 0x11, 0x08, giant >> 8, 0, giant >> 8, 0})
	if bytes.Equal(patched, b) {
		t.Fatal("no 64×48 SOF0 in ffmpeg's MJPEG")
	}
	if err := os.WriteFile(src, patched, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = probeMedia(t.Context(), cfg, src)
	if !IsPermanent(err) || !strings.Contains(err.Error(), "16384×16384") {
		t.Fatalf("error %v, want a permanent one naming 16384×16384", err)
	}
}
