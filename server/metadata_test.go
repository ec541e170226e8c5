package server_test

import (
	"net/http"
	"slices"
	"testing"
)

// Photographers' IPTC/XMP lands on the asset: each field, accents, Latin-1
// IIM, XMP over IPTC, keywords as tags, people matched by alias without
// accents, and what the uploader typed wins.
func TestFileMetadataLandsOnTheAsset(t *testing.T) {
	e := start(t)
	c := e.login()
	var mayor refJSON
	decode(t, c.sendJSON("POST", "/api/v1/people", map[string]any{
		"name": "Guadalupe Pérez", "role": "Presidenta municipal", "aliases": []string{"Lupita Pérez"},
	}), http.StatusCreated, &mayor)

	a := c.uploadSettled("a.jpg", withExif(t, photo(t, 64, 48, 1),
		"-charset", "iptc=latin1", // IIM bytes in Latin-1, no CodedCharacterSet
		"-IPTC:Caption-Abstract=Inauguración del parque en Año Nuevo",
		"-IPTC:ObjectName=Título IPTC", "-XMP-dc:Title=Inauguración del Parque de la Paz",
		"-IPTC:Keywords=Niños", "-IPTC:Keywords=Parque", "-IPTC:Keywords=niños",
		"-IPTC:By-line=José Núñez", "-XMP-photoshop:Credit=Comunicación Social",
		"-IPTC:CopyrightNotice=© Municipio de Mérida",
		"-XMP-photoshop:City=Mérida", "-XMP-iptcCore:Location=Parque de la Paz",
		"-XMP-iptcExt:PersonInImage=lupita perez", "-XMP-iptcExt:PersonInImage=Ana Martínez",
		"-XMP-xmp:Rating=4",
	), nil)
	checks := []struct{ field, got, want string }{
		{"title (XMP wins)", a.Title, "Inauguración del Parque de la Paz"},
		{"caption (Latin-1 IIM)", a.Caption, "Inauguración del parque en Año Nuevo"},
		{"creator", a.Creator, "José Núñez"},
		{"credit", a.Credit, "Comunicación Social"},
		{"copyright", a.Copyright, "© Municipio de Mérida"},
		{"place", a.Place, "Parque de la Paz, Mérida"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %q, want %q", ch.field, ch.got, ch.want)
		}
	}
	if a.Rating != 4 {
		t.Errorf("rating = %d, want 4", a.Rating)
	}
	if !slices.Equal(a.Tags, []string{"Niños", "Parque"}) {
		t.Errorf("tags = %q, want [Niños Parque]", a.Tags)
	}
	if len(a.People) != 2 || a.People[0] != mayor || a.People[1].Name != "Ana Martínez" {
		t.Errorf("people = %+v, want the mayor (by alias) then Ana Martínez", a.People)
	}

	// The new person is a vocabulary entry, and a second file naming her
	// without accents links the same one.
	var people struct{ People []refJSON }
	decode(t, c.do("GET", "/api/v1/people", "", nil, nil), http.StatusOK, &people)
	if len(people.People) != 2 {
		t.Errorf("people = %+v, want 2", people.People)
	}
	b := c.uploadSettled("b.jpg", withExif(t, photo(t, 64, 48, 2),
		"-charset", "iptc=utf8", // UTF-8 IIM without saying so: read as Latin-1, repaired
		"-IPTC:Caption-Abstract=Caption IPTC", "-XMP-dc:Description=Descripción XMP",
		"-IPTC:Credit=Crédito IPTC", "-IPTC:City=Mérida", "-IPTC:Headline=Señal",
		"-XMP-iptcExt:PersonInImage=ANA MARTINEZ", "-IPTC:Keywords=Año Nuevo",
	), map[string]string{"title": "Título del fotógrafo", "tags": "año nuevo, Cabildo"})
	if b.Title != "Título del fotógrafo" || b.Caption != "Descripción XMP" || b.Credit != "Crédito IPTC" || b.Place != "Mérida" {
		t.Errorf("b = %+v: want the uploader's title, XMP caption, IPTC credit and city", b)
	}
	if !slices.Equal(b.Tags, []string{"año nuevo", "Cabildo"}) {
		t.Errorf("b tags = %q: keywords merge case-insensitively with the uploader's", b.Tags)
	}
	if len(b.People) != 1 || b.People[0] != a.People[1] {
		t.Errorf("b people = %+v, want %+v", b.People, a.People[1])
	}
	c3 := c.uploadSettled("c.jpg", withExif(t, photo(t, 64, 48, 3),
		"-charset", "iptc=utf8", "-IPTC:Caption-Abstract=Inauguración del año"), nil)
	if c3.Caption != "Inauguración del año" {
		t.Errorf("UTF-8 IIM caption = %q", c3.Caption)
	}
}

// Video and audio carry titles too: MP4 item lists and ID3 tags fill the
// asset like a photo's XMP does.
func TestVideoAndAudioTagsLandOnTheAsset(t *testing.T) {
	e := start(t)
	requireTools(t, "ffmpeg", "ffprobe")
	c := e.login()
	video := generate(t, "v.mp4", "-f", "lavfi", "-i", "testsrc2=s=160x120:r=10:d=1", "-c:v", "libx264", "-pix_fmt", "yuv420p",
		"-metadata", "title=Informe en video", "-metadata", "artist=Cámara Núñez", "-metadata", "copyright=© Municipio")
	v := c.uploadSettled("v.mp4", video, nil)
	if v.Title != "Informe en video" || v.Creator != "Cámara Núñez" || v.Copyright != "© Municipio" {
		t.Errorf("video = %+v", v)
	}
	audio := generate(t, "a.mp3", "-f", "lavfi", "-i", "sine=f=300:d=1", "-c:a", "libmp3lame",
		"-metadata", "title=Boletín de radio", "-metadata", "artist=Radio Municipal")
	a := c.uploadSettled("a.mp3", audio, map[string]string{"title": "Boletín 12"})
	if a.Title != "Boletín 12" || a.Creator != "Radio Municipal" {
		t.Errorf("audio = %+v: want the uploader's title and the ID3 artist", a)
	}
}
