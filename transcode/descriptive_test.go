package transcode

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseDescriptive(t *testing.T) {
	mexico := time.FixedZone("CST", -6*3600)
	tests := []struct {
		name string
		tags string // exiftool -json -n -G1 object
		want Descriptive
	}{
		{
			name: "XMP wins over IPTC",
			tags: `{"XMP-dc:Title":"Título XMP","IPTC:ObjectName":"Título IPTC","XMP-dc:Description":"Desc XMP","IPTC:Caption-Abstract":"Desc IPTC",
				"XMP-dc:Creator":["Ana Pérez"],"IPTC:By-line":"Otro","XMP-photoshop:Credit":"Comunicación Social","IPTC:Credit":"x",
				"XMP-dc:Rights":"© Municipio","IPTC:CopyrightNotice":"y","XMP-photoshop:City":"Mérida","IPTC:City":"z","XMP-xmp:Rating":4}`,
			want: Descriptive{Title: "Título XMP", Caption: "Desc XMP", Creator: "Ana Pérez", Credit: "Comunicación Social",
				Copyright: "© Municipio", Place: "Mérida", Rating: 4},
		},
		{
			name: "IPTC alone, lists as string or array",
			tags: `{"IPTC:Headline":"Titular","IPTC:Keywords":"parque","XMP-iptcExt:PersonInImage":["Luis","luis"," Ana "],
				"IPTC:Sub-location":"Parque Central","IPTC:City":"Mérida"}`,
			want: Descriptive{Title: "Titular", Keywords: []string{"parque"}, People: []string{"Luis", "Ana"}, Place: "Parque Central, Mérida"},
		},
		{
			name: "keywords array, XMP first",
			tags: `{"XMP-dc:Subject":["Niños","Año Nuevo",2025],"IPTC:Keywords":["otra"]}`,
			want: Descriptive{Keywords: []string{"Niños", "Año Nuevo", "2025"}},
		},
		{
			name: "NFD to NFC, controls removed, UTF-8 read as Latin-1 repaired",
			tags: `{"XMP-dc:Title":"Inauguracio\u0301n\u0007 ","IPTC:Caption-Abstract":"InauguraciÃ³n del aÃ±o"}`,
			want: Descriptive{Title: "Inauguración", Caption: "Inauguración del año"},
		},
		{
			name: "Latin-1 decoded by exiftool is left alone",
			tags: `{"IPTC:Caption-Abstract":"Año Nuevo en Mérida"}`,
			want: Descriptive{Caption: "Año Nuevo en Mérida"},
		},
		{
			name: "PDF keywords in one string",
			tags: `{"PDF:Title":"Boletín 45","PDF:Author":"Comunicación Social","PDF:Subject":"Obras","PDF:Keywords":"parque, cabildo; obra"}`,
			want: Descriptive{Title: "Boletín 45", Creator: "Comunicación Social", Caption: "Obras", Keywords: []string{"parque", "cabildo", "obra"}},
		},
		{
			name: "rating out of range and rejected",
			tags: `{"XMP-xmp:Rating":-1}`,
			want: Descriptive{},
		},
		{
			name: "audio ID3 and PDF fields",
			tags: `{"ID3v2_3:Title":"Boletín 12","ID3v2_3:Artist":"Radio Municipal","ID3v2_3:Comment":"Entrevista"}`,
			want: Descriptive{Title: "Boletín 12", Creator: "Radio Municipal", Caption: "Entrevista"},
		},
		{
			name: "QuickTime creation date with offset and GPS",
			tags: `{"Keys:CreationDate":"2025:03:01 10:20:30-06:00","Composite:GPSLatitude":20.97,"Composite:GPSLongitude":-89.62}`,
			want: Descriptive{CapturedAt: ptrTime(time.Date(2025, 3, 1, 10, 20, 30, 0, time.FixedZone("", -6*3600))), GPS: &GPS{Lat: 20.97, Lon: -89.62}},
		},
		{
			name: "QuickTime CreateDate is UTC",
			tags: `{"QuickTime:CreateDate":"2025:03:01 16:20:30"}`,
			want: Descriptive{CapturedAt: ptrTime(time.Date(2025, 3, 1, 16, 20, 30, 0, time.UTC))},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dec := json.NewDecoder(strings.NewReader(tc.tags))
			dec.UseNumber()
			var tags map[string]any
			if err := dec.Decode(&tags); err != nil {
				t.Fatal(err)
			}
			got := parseDescriptive(tags, mexico)
			if (got.CapturedAt == nil) != (tc.want.CapturedAt == nil) || (got.CapturedAt != nil && !got.CapturedAt.Equal(*tc.want.CapturedAt)) {
				t.Errorf("CapturedAt = %v, want %v", got.CapturedAt, tc.want.CapturedAt)
			}
			got.CapturedAt, tc.want.CapturedAt = nil, nil
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestDescTextBoundsLength(t *testing.T) {
	s := descText(strings.Repeat("ñ", 300), maxDescShort)
	if len(s) > maxDescShort || !strings.HasPrefix(s, "ñ") || strings.ContainsRune(s, '\uFFFD') {
		t.Errorf("descText cut badly: %d bytes", len(s))
	}
}

func ptrTime(t time.Time) *time.Time { return &t }
