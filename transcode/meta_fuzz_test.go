package transcode

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/comsoc/acervo/catalog"
)

// FuzzExifMeta feeds exiftool output (-json -n -G1, as ExifTool.Read reads it) through
// what a photo's record and its descriptive metadata take from it. Whatever a file
// says: the orientation is an EXIF one, GPS is on the globe, a capture time can be
// stored (its JSON encodes), and descriptive text is NFC, valid UTF-8, trimmed, without
// control characters and within its bounds, lists de-duplicated and capped.
// testdata/fuzz/FuzzExifMeta holds exiftool's real output for a JPEG with EXIF, XMP,
// IPTC and GPS.
func FuzzExifMeta(f *testing.F) {
	for _, s := range []string{
		`[{"SourceFile":"/x.jpg","IFD0:Orientation":6,"ExifIFD:DateTimeOriginal":"2025:03:01 10:00:00","ExifIFD:SubSecTimeOriginal":"25","ExifIFD:OffsetTimeOriginal":"-06:00","Composite:GPSLatitude":19.43,"Composite:GPSLongitude":-99.13,"Composite:GPSAltitude":2240}]`,
		`[{"XMP-exif:DateTimeOriginal":"2025-03-01T10:00:00.5Z","GPS:GPSLatitude":19.43,"GPS:GPSLatitudeRef":"S","GPS:GPSLongitude":99.13,"GPS:GPSLongitudeRef":"W","GPS:GPSAltitude":10,"GPS:GPSAltitudeRef":1}]`,
		`[{"XMP-dc:Title":"Inauguracio\u0301n\u0007 ","IPTC:Caption-Abstract":"InauguraciÃ³n del aÃ±o","XMP-dc:Subject":["Niños","niños",2025,["x"]],"XMP-iptcExt:PersonInImage":"Ana","XMP-xmp:Rating":-1}]`,
		`[{"PDF:Keywords":"parque, cabildo; obra","IPTC:Sub-location":"Parque Central","IPTC:City":"Mérida","Keys:CreationDate":"2024:12:31 23:59:59-06:00"}]`,
		`[{"QuickTime:CreateDate":"0000:00:00 00:00:00","IFD0:Model":100,"IFD0:Make":"  "}]`,
		`[{"ExifTool:Error":"File format error"}]`,
		`[]`, `[{},{}]`, ``, `{"a":1}`,
	} {
		f.Add([]byte(s))
	}
	zone := time.FixedZone("CST", -6*3600)
	f.Fuzz(func(t *testing.T, out []byte) {
		tags, err := decodeExifOutput("/fuzz.jpg", out, nil)
		if err != nil {
			return
		}
		m := parsePhotoMeta(tags, zone)
		if m.Orientation < 0 || m.Orientation > 8 {
			t.Fatalf("orientation %d", m.Orientation)
		}
		checkGPS(t, m.GPS)
		checkStorableTime(t, m.CapturedAt)
		for _, s := range []string{m.CameraMake, m.CameraModel} {
			if s != strings.TrimSpace(s) {
				t.Fatalf("camera %q not trimmed", s)
			}
		}

		d := parseDescriptive(tags, zone)
		for _, c := range []struct {
			s     string
			limit int
		}{{d.Title, maxDescTitle}, {d.Caption, maxDescCaption}, {d.Creator, maxDescShort}, {d.Credit, maxDescShort}, {d.Copyright, maxDescShort}, {d.Place, maxDescShort}} {
			checkDescText(t, c.s, c.limit)
		}
		for _, l := range [][]string{d.Keywords, d.People} {
			if len(l) > maxDescList {
				t.Fatalf("%d entries, over %d", len(l), maxDescList)
			}
			seen := map[string]bool{}
			for _, s := range l {
				checkDescText(t, s, maxDescShort)
				if s == "" || seen[strings.ToLower(s)] {
					t.Fatalf("empty or repeated entry %q in %q", s, l)
				}
				seen[strings.ToLower(s)] = true
			}
		}
		if d.Rating < 0 || d.Rating > 5 {
			t.Fatalf("rating %d", d.Rating)
		}
		checkGPS(t, d.GPS)
		checkStorableTime(t, d.CapturedAt)
	})
}

func checkDescText(t *testing.T, s string, limit int) {
	t.Helper()
	switch {
	case len(s) > limit:
		t.Fatalf("%d bytes, over %d: %q", len(s), limit, s)
	case !utf8.ValidString(s) || strings.ContainsRune(s, utf8.RuneError):
		t.Fatalf("not valid UTF-8: %q", s)
	case !norm.NFC.IsNormalString(s):
		t.Fatalf("not NFC: %q", s)
	case s != strings.TrimSpace(s):
		t.Fatalf("not trimmed: %q", s)
	case strings.ContainsFunc(s, func(r rune) bool { return r != '\n' && unicode.IsControl(r) }):
		t.Fatalf("control character in %q", s)
	}
}

func checkGPS(t *testing.T, g *GPS) {
	t.Helper()
	if g == nil {
		return
	}
	if math.IsNaN(g.Lat) || math.IsNaN(g.Lon) || math.Abs(g.Lat) > 90 || math.Abs(g.Lon) > 180 || (g.Lat == 0 && g.Lon == 0) {
		t.Fatalf("GPS %v,%v", g.Lat, g.Lon)
	}
	if g.Alt != nil && (math.IsNaN(*g.Alt) || math.IsInf(*g.Alt, 0)) {
		t.Fatalf("altitude %v", *g.Alt)
	}
	if _, err := json.Marshal(g); err != nil {
		t.Fatalf("GPS %+v cannot be stored: %v", g, err)
	}
}

// checkStorableTime: a time that reaches an asset must survive the catalog's JSON.
func checkStorableTime(t *testing.T, tm *time.Time) {
	t.Helper()
	if tm == nil {
		return
	}
	b, err := json.Marshal(tm)
	if err != nil {
		t.Fatalf("time %v cannot be stored: %v", tm, err)
	}
	var back time.Time
	if err := json.Unmarshal(b, &back); err != nil || !back.Equal(*tm) {
		t.Fatalf("time %v stored as %s reads back as %v (%v)", tm, b, back, err)
	}
}

// FuzzProbeJSON feeds ffprobe descriptions (-show_format -show_streams -print_format
// json) to the parser the video and audio jobs rely on. An accepted file has an allowed
// demuxer, a video or audio stream of that kind, a positive display size within the
// frame limit, a quarter-turn rotation, finite non-negative duration, frame rate and
// bitrate, GPS on the globe, a storable capture time, and an AVInfo that encodes to
// JSON (it goes into the asset's record). testdata/fuzz/FuzzProbeJSON holds ffprobe's
// real output for a small MP4 and MP3.
func FuzzProbeJSON(f *testing.F) {
	for _, s := range []string{
		`{"format":{"format_name":"mov,mp4,m4a,3gp,3g2,mj2","duration":"2.0","bit_rate":"800000","tags":{"com.apple.quicktime.creationdate":"2025-03-01T10:00:00-0600","com.apple.quicktime.location.ISO6709":"+19.4326-099.1332+2240.000/"}},"streams":[
			{"index":0,"codec_name":"hevc","codec_type":"video","width":1920,"height":1080,"avg_frame_rate":"30000/1001","side_data_list":[{"side_data_type":"Display Matrix","rotation":-90}]},
			{"index":1,"codec_name":"aac","codec_type":"audio","sample_rate":"48000","channels":2}]}`,
		`{"format":{"format_name":"mpegts"},"streams":[{"index":0,"codec_name":"mpeg2video","codec_type":"video","width":720,"height":576,"sample_aspect_ratio":"64:45","field_order":"tt","r_frame_rate":"25/1","tags":{"creation_time":"2024-01-02T03:04:05.000000Z"}}]}`,
		`{"format":{"format_name":"matroska,webm"},"streams":[{"index":0,"codec_name":"h264","codec_type":"video","width":320,"height":240,"tags":{"rotate":"-450"}}]}`,
		`{"format":{"format_name":"wav","duration":"-1"},"streams":[{"index":0,"codec_name":"pcm_s16le","codec_type":"audio","sample_rate":"44100","channels":1,"duration":"1e308"}]}`,
		`{"format":{"format_name":"hls"},"streams":[]}`,
		`{"format":{"format_name":"mov"},"streams":[{"codec_name":"h264","codec_type":"video","width":65536,"height":65536}]}`,
		`{}`, `null`, `[`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := parseProbe(data)
		if err != nil {
			return
		}
		if !slices.Contains(avFormats, p.Demuxer) || allowedDemuxer(p.Container) != p.Demuxer {
			t.Fatalf("demuxer %q for format %q", p.Demuxer, p.Container)
		}
		switch p.Kind {
		case catalog.KindVideo:
			if p.Video == nil || p.Width <= 0 || p.Height <= 0 || int64(p.Width)*int64(p.Height) > maxVideoPixels {
				t.Fatalf("video of display size %d×%d", p.Width, p.Height)
			}
		case catalog.KindAudio:
			if p.Audio == nil || p.Video != nil {
				t.Fatal("audio kind without an audio stream, or with a video one")
			}
		default:
			t.Fatalf("kind %q", p.Kind)
		}
		if p.Rotation%90 != 0 || p.Rotation < 0 || p.Rotation >= 360 {
			t.Fatalf("rotation %d", p.Rotation)
		}
		for name, v := range map[string]float64{"duration": p.Duration, "frame rate": p.FrameRate, "bitrate": float64(p.Bitrate)} {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				t.Fatalf("%s %v", name, v)
			}
		}
		if p.Duration*float64(time.Second) >= math.MaxInt64 {
			t.Fatalf("duration %v s does not fit a time.Duration", p.Duration)
		}
		checkGPS(t, p.GPS)
		checkStorableTime(t, p.CapturedAt)
		if _, err := json.Marshal(p.info()); err != nil {
			t.Fatalf("AVInfo cannot be stored: %v", err)
		}
	})
}
