package transcode

import (
	"encoding/json"
	"testing"
	"time"
)

func TestParseCaptureTime(t *testing.T) {
	cdmx := time.FixedZone("", -6*3600)
	cases := []struct {
		name                string
		dt, subsec, offset  string
		want                time.Time
		wantNil, wantNoZone bool
	}{
		{name: "EXIF with offset", dt: "2025:03:14 09:26:53", offset: "-06:00", want: time.Date(2025, 3, 14, 9, 26, 53, 0, cdmx)},
		{name: "sub-seconds", dt: "2025:03:14 09:26:53", subsec: "25", offset: "-06:00", want: time.Date(2025, 3, 14, 9, 26, 53, 250_000_000, cdmx)},
		{name: "no offset is a UTC wall clock", dt: "2025:03:14 09:26:53", want: time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)},
		{name: "positive offset", dt: "2024:12:31 23:59:59", offset: "+05:30", want: time.Date(2024, 12, 31, 23, 59, 59, 0, time.FixedZone("", 5*3600+1800))},
		{name: "XMP inline zone and fraction", dt: "2025-03-14T09:26:53.5-06:00", want: time.Date(2025, 3, 14, 9, 26, 53, 500_000_000, cdmx)},
		{name: "XMP Z", dt: "2025-03-14T15:26:53Z", want: time.Date(2025, 3, 14, 15, 26, 53, 0, time.UTC)},
		{name: "zero date", dt: "0000:00:00 00:00:00", wantNil: true},
		{name: "empty", wantNil: true},
		{name: "date only", dt: "2025:03:14", wantNil: true},
		{name: "garbage", dt: "yesterday at noon, roughly", wantNil: true},
		{name: "bad offset", dt: "2025:03:14 09:26:53", offset: "CST", wantNil: true},
		{name: "non-digit sub-seconds ignored", dt: "2025:03:14 09:26:53", subsec: "ab", want: time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := parseCaptureTime(tc.dt, tc.subsec, tc.offset, time.UTC)
			if tc.wantNil {
				if got != nil {
					t.Fatalf("got %v, want nil", got)
				}
				return
			}
			if got == nil || !got.Equal(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			_, gotOff := got.Zone()
			_, wantOff := tc.want.Zone()
			if gotOff != wantOff {
				t.Errorf("zone offset %d, want %d", gotOff, wantOff)
			}
		})
	}
}

func TestParsePhotoMeta(t *testing.T) {
	n := func(s string) json.Number { return json.Number(s) }
	cases := []struct {
		name string
		tags map[string]any
		want func(t *testing.T, m photoMeta)
	}{
		{"GPS from the GPS IFD with refs", map[string]any{
			"GPS:GPSLatitude": n("33.8688"), "GPS:GPSLatitudeRef": "S",
			"GPS:GPSLongitude": n("151.2093"), "GPS:GPSLongitudeRef": "E",
			"GPS:GPSAltitude": n("12.5"), "GPS:GPSAltitudeRef": n("1"),
		}, func(t *testing.T, m photoMeta) {
			if m.GPS == nil || m.GPS.Lat != -33.8688 || m.GPS.Lon != 151.2093 || m.GPS.Alt == nil || *m.GPS.Alt != -12.5 {
				t.Errorf("GPS %+v", m.GPS)
			}
		}},
		{"composite GPS wins", map[string]any{
			"Composite:GPSLatitude": n("19.4326"), "Composite:GPSLongitude": n("-99.1332"),
			"GPS:GPSLatitude": n("1"), "GPS:GPSLongitude": n("1"),
		}, func(t *testing.T, m photoMeta) {
			if m.GPS == nil || m.GPS.Lat != 19.4326 || m.GPS.Lon != -99.1332 || m.GPS.Alt != nil {
				t.Errorf("GPS %+v", m.GPS)
			}
		}},
		{"0,0 is no fix", map[string]any{"Composite:GPSLatitude": n("0"), "Composite:GPSLongitude": n("0")},
			func(t *testing.T, m photoMeta) {
				if m.GPS != nil {
					t.Errorf("GPS %+v, want nil", m.GPS)
				}
			}},
		{"out-of-range latitude", map[string]any{"Composite:GPSLatitude": n("91"), "Composite:GPSLongitude": n("10")},
			func(t *testing.T, m photoMeta) {
				if m.GPS != nil {
					t.Errorf("GPS %+v, want nil", m.GPS)
				}
			}},
		{"orientation, camera, size", map[string]any{
			"IFD0:Orientation": n("8"), "IFD0:Make": " NIKON CORPORATION ", "IFD0:Model": "NIKON Z 6",
			"File:ImageWidth": n("6048"), "File:ImageHeight": n("4024"),
			"ExifIFD:DateTimeOriginal": "2025:01:06 18:00:00", "ExifIFD:OffsetTimeOriginal": "-06:00",
		}, func(t *testing.T, m photoMeta) {
			if m.Orientation != 8 || m.CameraMake != "NIKON CORPORATION" || m.CameraModel != "NIKON Z 6" || m.Width != 6048 || m.Height != 4024 {
				t.Errorf("meta %+v", m)
			}
			if m.CapturedAt == nil || m.CapturedAt.UTC() != time.Date(2025, 1, 7, 0, 0, 0, 0, time.UTC) {
				t.Errorf("CapturedAt %v", m.CapturedAt)
			}
		}},
		{"orientation out of range", map[string]any{"IFD0:Orientation": n("9")},
			func(t *testing.T, m photoMeta) {
				if m.Orientation != 0 {
					t.Errorf("Orientation %d, want 0", m.Orientation)
				}
			}},
		{"XMP fallbacks", map[string]any{"XMP-exif:DateTimeOriginal": "2025:02:01 10:00:00-06:00", "XMP-tiff:Make": "Apple", "XMP-tiff:Orientation": n("6")},
			func(t *testing.T, m photoMeta) {
				if m.CapturedAt == nil || m.CameraMake != "Apple" || m.Orientation != 6 {
					t.Errorf("meta %+v", m)
				}
			}},
		{"nothing", map[string]any{"SourceFile": "/x"}, func(t *testing.T, m photoMeta) {
			if m != (photoMeta{}) {
				t.Errorf("meta %+v, want zero", m)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.want(t, parsePhotoMeta(tc.tags, time.UTC)) })
	}
}

// A camera clock without an offset is read in the office's zone, not UTC.
func TestCaptureTimeWithoutOffsetUsesZone(t *testing.T) {
	mx := time.FixedZone("CST", -6*3600)
	got := parseCaptureTime("2025:03:14 11:22:33", "", "", mx)
	if got == nil {
		t.Fatal("nil time")
	}
	if want := time.Date(2025, 3, 14, 17, 22, 33, 0, time.UTC); !got.Equal(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got := parseCaptureTime("2025:03:14 11:22:33", "", "+01:00", mx); got.UTC().Hour() != 10 {
		t.Errorf("explicit offset ignored: %v", got)
	}
}
