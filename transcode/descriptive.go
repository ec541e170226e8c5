package transcode

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/comsoc/acervo/catalog"
)

// Descriptive is what photographers and producers wrote into a file: IPTC
// and XMP in photos, QuickTime/MP4 and ID3 tags, a PDF's info. Strings are
// NFC, trimmed, without control characters and bounded; lists are
// de-duplicated. Zero values mean absent.
type Descriptive struct {
	Title, Caption   string
	Keywords         []string
	Creator, Credit  string
	Copyright, Place string
	People           []string // XMP-iptcExt:PersonInImage
	Rating           int      // XMP-xmp:Rating 1..5; 0 when absent, unrated or rejected (-1)
	CapturedAt       *time.Time
	GPS              *GPS
}

// Bounds for what a file may put in the catalog.
const (
	maxDescTitle   = 500
	maxDescCaption = 8000
	maxDescShort   = 200 // names, credit, place, one keyword
	maxDescList    = 100 // keywords or people
)

// Tag precedence: XMP first, then IPTC-IIM (whose legacy charset makes it
// the less trustworthy copy), then the container's own tags. exiftool's -G1
// groups name the XMP namespace (XMP-dc, XMP-photoshop…) and IIM as "IPTC".
var (
	titleTags     = []string{"XMP-dc:Title", "XMP-photoshop:Headline", "IPTC:ObjectName", "IPTC:Headline", "QuickTime:Title", "ItemList:Title", "UserData:Title", "Keys:Title", "ID3v2_4:Title", "ID3v2_3:Title", "ID3v2_2:Title", "ID3v1:Title", "Vorbis:Title", "PDF:Title"}
	captionTags   = []string{"XMP-dc:Description", "IPTC:Caption-Abstract", "ExifIFD:UserComment", "IFD0:ImageDescription", "QuickTime:Description", "ItemList:Description", "Keys:Description", "UserData:Description", "ID3v2_4:Comment", "ID3v2_3:Comment", "ID3v2_2:Comment", "ID3v1:Comment", "Vorbis:Comment", "PDF:Subject"}
	keywordTags   = []string{"XMP-dc:Subject", "IPTC:Keywords", "XMP-pdf:Keywords", "PDF:Keywords", "ItemList:Keyword", "Keys:Keywords"}
	creatorTags   = []string{"XMP-dc:Creator", "IPTC:By-line", "IFD0:Artist", "QuickTime:Artist", "ItemList:Artist", "Keys:Artist", "ID3v2_4:Artist", "ID3v2_3:Artist", "ID3v2_2:Artist", "ID3v1:Artist", "Vorbis:Artist", "PDF:Author"}
	creditTags    = []string{"XMP-photoshop:Credit", "IPTC:Credit"}
	copyrightTags = []string{"XMP-dc:Rights", "IPTC:CopyrightNotice", "IFD0:Copyright", "QuickTime:Copyright", "ItemList:Copyright", "Keys:Copyright", "ID3v2_4:Copyright", "ID3v2_3:Copyright"}
	cityTags      = []string{"XMP-photoshop:City", "IPTC:City"}
	locationTags  = []string{"XMP-iptcCore:Location", "IPTC:Sub-location"}
	peopleTags    = []string{"XMP-iptcExt:PersonInImage"}
	qtDateTags    = []string{"Keys:CreationDate", "QuickTime:CreationDate", "ItemList:ContentCreateDate"} // carry their offset
)

// parseDescriptive picks the descriptive fields from tags as ExifTool.Read
// returns them (-json -n -G1). Place is "Location, City" when both exist.
// Capture time and GPS are read from QuickTime tags only (photos have theirs
// from EXIF); a camera's zero date is ignored.
func parseDescriptive(tags map[string]any, zone *time.Location) Descriptive {
	d := Descriptive{
		Title:     descText(firstText(tags, titleTags), maxDescTitle),
		Caption:   descText(firstText(tags, captionTags), maxDescCaption),
		Creator:   descText(strings.Join(firstList(tags, creatorTags), ", "), maxDescShort),
		Credit:    descText(firstText(tags, creditTags), maxDescShort),
		Copyright: descText(firstText(tags, copyrightTags), maxDescShort),
		Keywords:  cleanList(splitKeywords(firstList(tags, keywordTags))),
		People:    cleanList(firstList(tags, peopleTags)),
	}
	city := descText(firstText(tags, cityTags), maxDescShort)
	loc := descText(firstText(tags, locationTags), maxDescShort)
	switch {
	case loc != "" && city != "" && !strings.Contains(strings.ToLower(loc), strings.ToLower(city)):
		d.Place = descText(loc+", "+city, maxDescShort)
	case loc != "":
		d.Place = loc
	default:
		d.Place = city
	}
	if r, ok := tagInt(tags, "XMP-xmp:Rating"); ok && r >= 1 && r <= 5 {
		d.Rating = r
	}
	if dt := firstText(tags, qtDateTags); dt != "" {
		d.CapturedAt = parseCaptureTime(dt, "", "", zone)
	} else if dt := firstText(tags, []string{"QuickTime:CreateDate"}); dt != "" {
		// QuickTime's own timestamps are UTC by the specification.
		d.CapturedAt = parseCaptureTime(dt, "", "Z", zone)
	}
	if _, ok := tags["Composite:GPSLatitude"]; ok {
		if _, photo := tags["GPS:GPSLatitude"]; !photo {
			d.GPS = parseGPS(tags)
		}
	}
	return d
}

// firstText returns the first tag present, a list joined with "; ".
func firstText(tags map[string]any, keys []string) string {
	for _, k := range keys {
		if l := tagList(tags[k]); len(l) > 0 {
			return strings.Join(l, "; ")
		}
	}
	return ""
}

// firstList returns the first tag present as a list.
func firstList(tags map[string]any, keys []string) []string {
	for _, k := range keys {
		if l := tagList(tags[k]); len(l) > 0 {
			return l
		}
	}
	return nil
}

// tagList reads a value exiftool gives as a string, a number or an array
// of them (a keyword list with one entry comes as a plain string). A lone
// string is not split on commas: a caption may contain them.
func tagList(v any) []string {
	switch v := v.(type) {
	case string:
		if s := strings.TrimSpace(v); s != "" {
			return []string{s}
		}
	case json.Number:
		return []string{v.String()}
	case float64:
		return []string{strconv.FormatFloat(v, 'f', -1, 64)}
	case []any:
		var out []string
		for _, e := range v {
			out = append(out, tagList(e)...)
		}
		return out
	}
	return nil
}

// splitKeywords splits a keyword list that came as one string, as PDF
// Keywords and some MP4 tags do ("parque, cabildo; obra"). IPTC and XMP
// keywords arrive as arrays and are kept whole.
func splitKeywords(in []string) []string {
	if len(in) != 1 {
		return in
	}
	return strings.FieldsFunc(in[0], func(r rune) bool { return r == ',' || r == ';' })
}

func cleanList(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range in {
		s = descText(s, maxDescShort)
		if k := strings.ToLower(s); s != "" && !seen[k] && len(out) < maxDescList {
			seen[k] = true
			out = append(out, s)
		}
	}
	return out
}

// descText normalises one value: mis-decoded UTF-8 repaired, NFC, control
// characters (except newline) removed, trimmed, at most limit bytes.
func descText(s string, limit int) string {
	s = norm.NFC.String(fixMojibake(s))
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n':
			return r
		case r == '\t' || r == '\r':
			return ' '
		case unicode.IsControl(r) || r == utf8.RuneError || r == '\uFEFF':
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	for len(s) > limit {
		_, size := utf8.DecodeLastRuneInString(s)
		s = strings.TrimSpace(s[:len(s)-size])
	}
	return s
}

// fixMojibake undoes UTF-8 read as Latin-1: exiftool reads IPTC-IIM without
// a CodedCharacterSet as Latin-1 (right for old cameras and Photoshop), but
// many tools write UTF-8 there without saying so, which comes out as
// "InauguraciÃ³n". When every rune fits in a byte and those bytes are valid
// UTF-8 with at least one multi-byte sequence, the bytes were UTF-8.
func fixMojibake(s string) string {
	b := make([]byte, 0, len(s))
	multi := false
	for _, r := range s {
		if r > 0xFF {
			return s
		}
		if r >= 0x80 {
			multi = true
		}
		b = append(b, byte(r))
	}
	if !multi || !utf8.Valid(b) {
		return s
	}
	return string(b)
}

// descriptive reads the descriptive metadata of the original at src. It is
// best effort: a file exiftool cannot read still gets its renditions, so a
// failure is logged and yields nothing. exiftool runs as a child process
// with a timeout (DESIGN.md invariant 5).
func (p *Pool) descriptive(ctx context.Context, src string) Descriptive {
	if p.exif == nil {
		return Descriptive{}
	}
	tags, err := p.exif.Read(ctx, src)
	if err != nil {
		p.cfg.Log.Warn("descriptive metadata unreadable", "err", err)
		return Descriptive{}
	}
	return parseDescriptive(tags, p.cfg.Photo.Zone)
}

// applyDescriptive merges a file's metadata into its asset. What people
// typed wins: the file only fills empty fields. Keywords are added to the
// tags (case-insensitive de-duplication happens in the catalog's edits and
// here); people named in the file are linked, matched to existing people
// by name or alias accent-insensitively, or created. Capture time and GPS
// fill only what the technical probe left empty.
func applyDescriptive(a *catalog.Asset, v *catalog.Vocab, d Descriptive) error {
	fill := func(dst *string, src string) {
		if *dst == "" {
			*dst = src
		}
	}
	fill(&a.Title, d.Title)
	fill(&a.Caption, d.Caption)
	fill(&a.Credit, d.Credit)
	fill(&a.Creator, d.Creator)
	fill(&a.Copyright, d.Copyright)
	fill(&a.Place, d.Place)
	if a.Rating == 0 {
		a.Rating = d.Rating
	}
	for _, k := range d.Keywords {
		if !slices.ContainsFunc(a.Tags, func(t string) bool { return strings.EqualFold(t, k) }) {
			a.Tags = append(a.Tags, k)
		}
	}
	for _, name := range d.People {
		ref, err := v.Person(name)
		if errors.Is(err, catalog.ErrInvalid) {
			continue // a name the file got wrong must not lose the job's results
		}
		if err != nil {
			return fmt.Errorf("transcode: link person %q: %w", name, err)
		}
		if !slices.ContainsFunc(a.People, func(r catalog.Ref) bool { return r.ID == ref.ID }) {
			a.People = append(a.People, ref)
		}
	}
	if a.CapturedAt == nil && d.CapturedAt != nil {
		a.CapturedAt = d.CapturedAt
	}
	if a.GPS == nil && d.GPS != nil {
		a.GPS = &catalog.GPS{Lat: d.GPS.Lat, Lon: d.GPS.Lon, Alt: d.GPS.Alt}
	}
	return nil
}
