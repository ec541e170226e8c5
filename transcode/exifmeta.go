package transcode

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
)

// photoMeta is the part of exiftool's tag map that a photo's record uses.
type photoMeta struct {
	Width, Height int // as stored, before orientation; 0 when unknown
	Orientation   int // EXIF 1..8, 0 when absent or out of range
	CapturedAt    *time.Time
	CameraMake    string
	CameraModel   string
	GPS           *GPS
}

// parsePhotoMeta picks the fields of a photo from tags as ExifTool.Read
// returns them (-n -G1). Where a tag can live in several groups, the groups
// are tried in the order the EXIF standard gives them precedence; XMP is the
// fallback. Malformed values are ignored rather than failing the photo.
func parsePhotoMeta(tags map[string]any, zone *time.Location) photoMeta {
	var m photoMeta
	m.Width, _ = tagInt(tags, "File:ImageWidth", "PNG:ImageWidth", "IFD0:ImageWidth", "RIFF:ImageWidth", "VP8:ImageWidth", "VP8L:ImageWidth", "QuickTime:ImageWidth", "ExifIFD:ExifImageWidth")
	m.Height, _ = tagInt(tags, "File:ImageHeight", "PNG:ImageHeight", "IFD0:ImageHeight", "RIFF:ImageHeight", "VP8:ImageHeight", "VP8L:ImageHeight", "QuickTime:ImageHeight", "ExifIFD:ExifImageHeight")
	if o, ok := tagInt(tags, "IFD0:Orientation", "XMP-tiff:Orientation"); ok && o >= 1 && o <= 8 {
		m.Orientation = o
	}
	m.CameraMake = tagString(tags, "IFD0:Make", "XMP-tiff:Make")
	m.CameraModel = tagString(tags, "IFD0:Model", "XMP-tiff:Model")
	m.CapturedAt = parseCaptureTime(
		tagString(tags, "ExifIFD:DateTimeOriginal", "XMP-exif:DateTimeOriginal", "XMP-photoshop:DateCreated"),
		tagString(tags, "ExifIFD:SubSecTimeOriginal"),
		tagString(tags, "ExifIFD:OffsetTimeOriginal"),
		zone,
	)
	m.GPS = parseGPS(tags)
	return m
}

// parseCaptureTime reads an EXIF date ("2006:01:02 15:04:05", as exiftool
// prints it with -n; XMP forms with "-" and "T" and an inline zone are also
// accepted) plus the optional sub-second digits and "+hh:mm" offset. Without
// any offset the camera's clock is taken to be in zone (the office's own,
// where nearly every photo is taken). It returns nil for missing, zero ("0000:00:00 …") or malformed dates.
func parseCaptureTime(dt, subsec, offset string, zone *time.Location) *time.Time {
	dt = strings.TrimSpace(dt)
	if len(dt) < 19 {
		return nil
	}
	date := strings.NewReplacer(":", "-").Replace(dt[:10])
	clock, rest := dt[11:19], strings.TrimSpace(dt[19:])
	if strings.HasPrefix(rest, ".") { // inline sub-seconds (XMP)
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if subsec == "" {
			subsec = rest[1:i]
		}
		rest = rest[i:]
	}
	if offset == "" {
		offset = rest // inline zone (XMP), e.g. "-06:00" or "Z"
	}
	frac := ""
	if s := strings.TrimSpace(subsec); s != "" && strings.Trim(s, "0123456789") == "" {
		frac = "." + s
	}
	loc := zone
	if offset = strings.TrimSpace(offset); offset == "Z" {
		loc = time.UTC
	} else if offset != "" {
		off, err := time.Parse("-07:00", offset)
		if err != nil || !plausibleOffset(off) {
			return nil
		}
		_, secs := off.Zone()
		loc = time.FixedZone(offset, secs)
	}
	t, err := time.ParseInLocation("2006-01-02 15:04:05.999999999", date+" "+clock+frac, loc)
	if err != nil || t.Year() < 1800 {
		return nil
	}
	return &t
}

// plausibleOffset reports whether t's UTC offset is one a clock can have
// (real ones lie within ±14 h; ±18 h is ISO 8601's bound). time.Parse takes
// "+24:00", which JSON (RFC 3339) cannot write: the asset could not be saved.
func plausibleOffset(t time.Time) bool {
	_, secs := t.Zone()
	return secs >= -18*3600 && secs <= 18*3600
}

// parseGPS prefers exiftool's signed Composite values and falls back to the
// GPS IFD with its Ref tags. It returns nil when either coordinate is
// missing, out of range, or exactly 0,0 (a camera that had no fix).
func parseGPS(tags map[string]any) *GPS {
	lat, okLat := tagFloat(tags, "Composite:GPSLatitude")
	lon, okLon := tagFloat(tags, "Composite:GPSLongitude")
	if !okLat || !okLon {
		lat, okLat = tagFloat(tags, "GPS:GPSLatitude", "XMP-exif:GPSLatitude")
		lon, okLon = tagFloat(tags, "GPS:GPSLongitude", "XMP-exif:GPSLongitude")
		if strings.HasPrefix(strings.ToUpper(tagString(tags, "GPS:GPSLatitudeRef")), "S") {
			lat = -math.Abs(lat)
		}
		if strings.HasPrefix(strings.ToUpper(tagString(tags, "GPS:GPSLongitudeRef")), "W") {
			lon = -math.Abs(lon)
		}
	}
	if !okLat || !okLon || math.Abs(lat) > 90 || math.Abs(lon) > 180 || (lat == 0 && lon == 0) {
		return nil
	}
	g := &GPS{Lat: lat, Lon: lon}
	if alt, ok := tagFloat(tags, "Composite:GPSAltitude"); ok {
		g.Alt = &alt
	} else if alt, ok := tagFloat(tags, "GPS:GPSAltitude"); ok {
		if ref, _ := tagInt(tags, "GPS:GPSAltitudeRef"); ref == 1 {
			alt = -alt
		}
		g.Alt = &alt
	}
	return g
}

// tagString returns the first present key as text; numbers keep the digits
// exiftool printed (a Model of "100" comes back as a json.Number).
func tagString(tags map[string]any, keys ...string) string {
	for _, k := range keys {
		switch v := tags[k].(type) {
		case string:
			if s := strings.TrimSpace(v); s != "" {
				return s
			}
		case json.Number:
			return v.String()
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		}
	}
	return ""
}

func tagFloat(tags map[string]any, keys ...string) (float64, bool) {
	for _, k := range keys {
		s := tagString(tags, k)
		if s == "" {
			continue
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f, true
		}
	}
	return 0, false
}

func tagInt(tags map[string]any, keys ...string) (int, bool) {
	for _, k := range keys {
		if f, ok := tagFloat(tags, k); ok && f == math.Trunc(f) && math.Abs(f) < 1<<31 {
			return int(f), true
		}
	}
	return 0, false
}
