package transcode

import (
	"encoding/binary"
	"testing"
)

// ftyp builds an ISO BMFF ftyp box with the given brands.
func ftyp(major string, compatible ...string) []byte {
	b := make([]byte, 16, 16+4*len(compatible))
	binary.BigEndian.PutUint32(b, uint32(16+4*len(compatible)))
	copy(b[4:], "ftyp")
	copy(b[8:], major)
	for _, c := range compatible {
		b = append(b, c...)
	}
	return append(b, "\x00\x00\x00\x08free"...)
}

func TestSniffPhoto(t *testing.T) {
	cases := []struct {
		name   string
		head   []byte
		mime   string
		wantOK bool
	}{
		{"jpeg jfif", []byte("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00"), "image/jpeg", true},
		{"jpeg exif", []byte("\xFF\xD8\xFF\xE1\x12\x34Exif\x00\x00"), "image/jpeg", true},
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "image/png", true},
		{"tiff little-endian", []byte("II*\x00\x08\x00\x00\x00"), "image/tiff", true},
		{"tiff big-endian", []byte("MM\x00*\x00\x00\x00\x08"), "image/tiff", true},
		{"webp lossy", []byte("RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00"), "image/webp", true},
		{"webp lossless", []byte("RIFF\x24\x00\x00\x00WEBPVP8L\x18\x00\x00\x00"), "image/webp", true},
		{"webp extended", []byte("RIFF\x24\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00"), "image/webp", true},
		{"heic", ftyp("heic", "mif1", "heic"), "image/heic", true},
		{"heix", ftyp("heix", "mif1"), "image/heic", true},
		{"heim", ftyp("heim"), "image/heic", true},
		{"heis", ftyp("heis"), "image/heic", true},
		{"hevc sequence", ftyp("hevc", "msf1"), "image/heic", true},
		{"hevx", ftyp("hevx"), "image/heic", true},
		{"mif1 major, heic compatible", ftyp("mif1", "heic"), "image/heic", true},
		{"msf1 only", ftyp("msf1", "iso8"), "image/heic", true},
		{"avif", ftyp("avif", "mif1", "miaf"), "", false},
		{"mif1 with avif", ftyp("mif1", "avif", "miaf"), "", false},
		{"avis", ftyp("avis", "msf1"), "", false},
		{"mp4 video", ftyp("isom", "iso2", "avc1", "mp41"), "", false},
		{"quicktime", ftyp("qt  ", "qt  "), "", false},
		{"wav is RIFF but not WebP", []byte("RIFF\x24\x00\x00\x00WAVEfmt "), "", false},
		{"gif", []byte("GIF89a\x01\x00\x01\x00"), "", false},
		{"pdf", []byte("%PDF-1.7\n"), "", false},
		{"text", []byte("hello, world"), "", false},
		{"empty", nil, "", false},
		{"short jpeg", []byte("\xFF\xD8"), "", false},
		{"short ftyp", []byte("\x00\x00\x00\x18ftyphe"), "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mime, ok := SniffPhoto(tc.head)
			if mime != tc.mime || ok != tc.wantOK {
				t.Errorf("SniffPhoto = %q, %v; want %q, %v", mime, ok, tc.mime, tc.wantOK)
			}
		})
	}
}
