package transcode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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

// mp3Frames is two MPEG-1 layer III frames (128 kbit/s, 44.1 kHz: 417
// bytes each, the second padded to 418) of silence.
func mp3Frames() []byte {
	b := make([]byte, 417+418)
	copy(b, "\xFF\xFB\x90\x64")
	copy(b[417:], "\xFF\xFB\x92\x64")
	return b
}

// adtsFrames is two ADTS AAC frames of 20 bytes each (MPEG-4, LC, 44.1 kHz,
// stereo, no CRC).
func adtsFrames() []byte {
	frame := []byte{0xFF, 0xF1, 0x50, 0x80, 0x02, 0x9F, 0xFC}
	frame = append(frame, make([]byte, 13)...)
	return append(append([]byte{}, frame...), frame...)
}

// tsPackets is n 188-byte transport stream packets, each stride bytes apart
// from prefix bytes in (4 for M2TS).
func tsPackets(n, prefix int) []byte {
	stride := 188 + prefix
	b := make([]byte, n*stride)
	for i := 0; i < n; i++ {
		b[i*stride+prefix] = 0x47
		b[i*stride+prefix+1] = 0x40 // payload unit start, PID 0
		b[i*stride+prefix+3] = 0x10 // payload only
	}
	return b
}

// ebmlHeader is an EBML header with the given DocType, then the start of a Segment.
func ebmlHeader(docType string) []byte {
	body := []byte{0x42, 0x86, 0x81, 0x01} // EBMLVersion 1
	body = append(body, 0x42, 0x82, byte(0x80|len(docType)))
	body = append(body, docType...)
	body = append(body, 0x42, 0x87, 0x81, 0x04) // DocTypeVersion 4
	b := append([]byte{0x1A, 0x45, 0xDF, 0xA3, byte(0x80 | len(body))}, body...)
	return append(b, 0x18, 0x53, 0x80, 0x67, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF)
}

func joinBytes(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// TestSniffMedia covers each signature with a hand-made header, and the
// refusals.
func TestSniffMedia(t *testing.T) {
	const (
		photo = "photo"
		video = "video"
		audio = "audio"
		doc   = "document"
	)
	id3 := []byte("ID3\x04\x00\x00\x00\x00\x00\x0a" + strings.Repeat("\x00", 10)) // a 20-byte tag
	junk := bytes.Repeat([]byte("G"), 600)                                        // 'G' is the TS sync byte
	brokenTS := tsPackets(3, 0)
	brokenTS[376] = 0 // no sync byte
	tsReserved := tsPackets(3, 0)
	tsReserved[188+3] = 0x00 // adaptation field control 00 is reserved
	cases := []struct {
		name       string
		head       []byte
		kind, mime string // "" when refused
	}{
		{"jpeg", []byte("\xFF\xD8\xFF\xE1\x12\x34Exif\x00\x00"), photo, "image/jpeg"},
		{"heic", ftyp("heic", "mif1", "heic"), photo, "image/heic"},
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), photo, "image/png"},

		{"mp4 isom", ftyp("isom", "isom", "iso2", "avc1", "mp41"), video, "video/mp4"},
		{"mp4 mp42", ftyp("mp42", "mp42", "isom"), video, "video/mp4"},
		{"mp4 iso5 dash", ftyp("iso5", "iso6", "dash"), video, "video/mp4"},
		{"mp4 avc1", ftyp("avc1"), video, "video/mp4"},
		{"3gp", ftyp("3gp4", "isom", "3gp4"), video, "video/mp4"},
		{"3g2", ftyp("3g2a", "3g2a"), video, "video/mp4"},
		{"sony xavc", ftyp("XAVC", "XAVC", "mp42", "iso2"), video, "video/mp4"},
		{"sony msnv", ftyp("MSNV", "MSNV", "isom"), video, "video/mp4"},
		{"m4v", ftyp("M4V ", "M4V ", "M4A ", "mp42", "isom"), video, "video/mp4"},
		{"mmp4", ftyp("mmp4", "mmp4"), video, "video/mp4"},
		{"unknown major brand, mp4 compatible", ftyp("abcd", "isom", "mp41"), video, "video/mp4"},
		{"quicktime", ftyp("qt  ", "qt  "), video, "video/quicktime"},
		{"quicktime bare moov", box("moov", box("mvhd", make([]byte, 100))), video, "video/quicktime"},
		{"quicktime wide then mdat", joinBytes(box("wide"), box("mdat", make([]byte, 100))), video, "video/quicktime"},
		{"quicktime mdat to the end", []byte("\x00\x00\x00\x00mdat\x00\x00"), video, "video/quicktime"},
		{"quicktime free then moov", joinBytes(box("free", make([]byte, 16)), box("moov", box("mvhd", make([]byte, 100)))), video, "video/quicktime"},
		{"webm", ebmlHeader("webm"), video, "video/webm"},
		{"matroska", ebmlHeader("matroska"), video, "video/x-matroska"},
		{"mpeg-ts", tsPackets(4, 0), video, "video/mp2t"},
		{"m2ts", tsPackets(4, 4), video, "video/mp2t"},
		{"mpeg-ps mpeg-2", []byte("\x00\x00\x01\xBA\x44\x00\x04\x00\x04\x01"), video, "video/mpeg"},
		{"mpeg-ps mpeg-1", []byte("\x00\x00\x01\xBA\x21\x00\x01\x00\x01\x80"), video, "video/mpeg"},
		{"avi", []byte("RIFF\x00\x10\x00\x00AVI LIST"), video, "video/x-msvideo"},

		{"m4a", ftyp("M4A ", "M4A ", "mp42", "isom"), audio, "audio/mp4"},
		{"m4b", ftyp("M4B ", "M4B ", "mp42"), audio, "audio/mp4"},
		{"mp3 id3", joinBytes(id3, mp3Frames()), audio, "audio/mpeg"},
		{"mp3 id3 with a large tag", []byte("ID3\x03\x00\x00\x00\x01\x00\x00TIT2"), audio, "audio/mpeg"},
		{"mp3 frames", mp3Frames(), audio, "audio/mpeg"},
		{"mp3 single short frame", mp3Frames()[:300], audio, "audio/mpeg"},
		{"wav", []byte("RIFF\x24\x00\x00\x00WAVEfmt "), audio, "audio/wav"},
		{"wav rf64", []byte("RF64\xFF\xFF\xFF\xFFWAVEds64"), audio, "audio/wav"},
		{"flac", []byte("fLaC\x00\x00\x00\x22"), audio, "audio/flac"},
		{"flac after id3", joinBytes(id3, []byte("fLaC\x80\x00\x00\x22")), audio, "audio/flac"},
		{"ogg", []byte("OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00"), audio, "audio/ogg"},
		{"aac adts", adtsFrames(), audio, "audio/aac"},
		{"aac adts after id3", joinBytes(id3, adtsFrames()), audio, "audio/aac"},
		{"amr", []byte("#!AMR\n\x3c"), audio, "audio/amr"},
		{"amr-wb", []byte("#!AMR-WB\n\x04"), audio, "audio/amr-wb"},
		{"caf", []byte("caff\x00\x01\x00\x00desc"), audio, "audio/x-caf"},
		{"aiff", []byte("FORM\x00\x00\x10\x00AIFFCOMM"), audio, "audio/aiff"},
		{"aifc", []byte("FORM\x00\x00\x10\x00AIFCFVER"), audio, "audio/aiff"},

		{"pdf", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), doc, "application/pdf"},
		{"pdf 2.0", []byte("%PDF-2.0\n"), doc, "application/pdf"},
		{"pdf after junk", []byte("\xEF\xBB\xBF\r\n%PDF-1.4\n"), doc, "application/pdf"},

		{"empty", nil, "", ""},
		{"html", []byte("<!DOCTYPE html><html><head><title>x</title>"), "", ""},
		{"html quoting a pdf header", []byte("<html><body>%PDF-1.4 is how a PDF starts"), "", ""},
		{"text", []byte("Boletín de prensa 42: inauguración del parque"), "", ""},
		{"text of G", junk, "", ""},
		{"json", []byte(`{"id": 1}`), "", ""},
		{"hls playlist", []byte("#EXTM3U\n#EXT-X-VERSION:3\n#EXTINF:10,\n/data/blobs/sha256/ab/cd/x\n"), "", ""},
		{"ffconcat", []byte("ffconcat version 1.0\nfile '/data/blobs/sha256/ab/cd/x'\n"), "", ""},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="10"/>`), "", ""},
		{"xml", []byte(`<?xml version="1.0"?><root/>`), "", ""},
		{"zip", []byte("PK\x03\x04\x14\x00\x00\x00"), "", ""},
		{"gzip", []byte("\x1f\x8b\x08\x00"), "", ""},
		{"elf", []byte("\x7fELF\x02\x01\x01\x00"), "", ""},
		{"windows exe", []byte("MZ\x90\x00\x03\x00\x00\x00"), "", ""},
		{"shell script", []byte("#!/bin/sh\nrm -rf /\n"), "", ""},
		{"gif", []byte("GIF89a\x01\x00\x01\x00"), "", ""},
		{"avif", ftyp("avif", "mif1", "miaf", "iso8"), "", ""},
		{"canon cr3", ftyp("crx ", "crx ", "isom"), "", ""},
		{"unknown ftyp", ftyp("abcd", "efgh"), "", ""},
		{"webp is a photo, other RIFF is not", []byte("RIFF\x24\x00\x00\x00ABCDxxxx"), "", ""},
		{"jpeg marker is no mp3 sync", []byte("\xFF\xD8\xFE\x00"), "", ""},
		{"mpeg audio reserved layer", []byte("\xFF\xF9\x90\x64"), "", ""},
		{"mp3 frame not followed by another", joinBytes(mp3Frames()[:417], []byte("not a frame")), "", ""},
		{"id3 with a bad version", []byte("ID3\x09\x00\x00\x00\x00\x00\x0a"), "", ""},
		{"adts with a bad rate", []byte{0xFF, 0xF1, 0x7C, 0x80, 0x02, 0x9F, 0xFC}, "", ""},
		{"ts with a broken third packet", brokenTS, "", ""},
		{"ts with reserved adaptation field control", tsReserved, "", ""},
		{"two ts packets only", tsPackets(2, 0), "", ""},
		{"mpeg-ps bad marker", []byte("\x00\x00\x01\xBA\x00\x00"), "", ""},
		{"moov without a movie header", box("moov", box("abcd", make([]byte, 8))), "", ""},
		{"free then text", joinBytes(box("free", make([]byte, 8)), []byte("hello world, more text")), "", ""},
		{"amr prefix alone", []byte("#!AM"), "", ""},
		{"pdf header past 512 bytes", joinBytes(bytes.Repeat([]byte(" "), 600), []byte("%PDF-1.4\n")), "", ""},
		{"pdf without a version", []byte("%PDF-x"), "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			kind, mime, ok := SniffMedia(tc.head)
			if kind != tc.kind || mime != tc.mime || ok != (tc.kind != "") {
				t.Errorf("SniffMedia = %q, %q, %v; want %q, %q, %v", kind, mime, ok, tc.kind, tc.mime, tc.kind != "")
			}
		})
	}
}

// TestSniffMediaOnlyHead checks that bytes past the first 512 never
// change the answer.
func TestSniffMediaOnlyHead(t *testing.T) {
	ts := tsPackets(6, 0)
	ts[4*188] = 0 // a broken fifth packet, past 512 bytes
	if kind, mime, ok := SniffMedia(ts); kind != "video" || mime != "video/mp2t" || !ok {
		t.Errorf("SniffMedia = %q, %q, %v; want a transport stream", kind, mime, ok)
	}
}

// sniffSample is a file for TestSniffMediaFiles, made by ffmpeg from lavfi
// sources or written by hand.
type sniffSample struct {
	name       string
	args       []string // ffmpeg output options, format included
	data       []byte   // the file itself, when not made by ffmpeg
	kind, mime string
}

// TestSniffMediaFiles sniffs real files: containers written by ffmpeg and a
// PDF, under names whose extensions lie.
func TestSniffMediaFiles(t *testing.T) {
	requireTools(t, "ffmpeg")
	lavfiVideo := []string{"-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=0.3"}
	lavfiAudio := []string{"-f", "lavfi", "-i", "sine=frequency=440:duration=0.3"}
	av := func(extra ...string) []string {
		return append(append(append([]string{}, lavfiVideo...), lavfiAudio...), extra...)
	}
	a := func(extra ...string) []string { return append(append([]string{}, lavfiAudio...), extra...) }
	v := func(extra ...string) []string { return append(append([]string{}, lavfiVideo...), extra...) }
	samples := []sniffSample{
		{name: "clip.jpg", args: av("-c:v", "libx264", "-c:a", "aac", "-f", "mp4"), kind: "video", mime: "video/mp4"},
		{name: "clip.mov", args: av("-c:v", "libx264", "-c:a", "aac", "-f", "mov"), kind: "video", mime: "video/quicktime"},
		{name: "clip.3gp", args: av("-c:v", "libx264", "-c:a", "aac", "-f", "3gp"), kind: "video", mime: "video/mp4"},
		{name: "clip.mkv", args: av("-c:v", "libx264", "-c:a", "aac", "-f", "matroska"), kind: "video", mime: "video/x-matroska"},
		{name: "clip.webm", args: av("-c:v", "libvpx", "-deadline", "realtime", "-c:a", "libopus", "-f", "webm"), kind: "video", mime: "video/webm"},
		{name: "clip.ts", args: av("-c:v", "mpeg2video", "-r", "25", "-c:a", "mp2", "-f", "mpegts"), kind: "video", mime: "video/mp2t"},
		{name: "clip.m2ts", args: av("-c:v", "libx264", "-c:a", "aac", "-f", "mpegts", "-mpegts_m2ts_mode", "1"), kind: "video", mime: "video/mp2t"},
		{name: "clip.mpg", args: av("-c:v", "mpeg1video", "-r", "25", "-c:a", "mp2", "-f", "mpeg"), kind: "video", mime: "video/mpeg"},
		{name: "clip.vob", args: av("-c:v", "mpeg2video", "-r", "25", "-c:a", "mp2", "-f", "vob"), kind: "video", mime: "video/mpeg"},
		{name: "clip.avi", args: av("-c:v", "mpeg4", "-c:a", "mp2", "-f", "avi"), kind: "video", mime: "video/x-msvideo"},
		{name: "silent.mp4", args: v("-c:v", "libx264", "-f", "mp4"), kind: "video", mime: "video/mp4"},
		{name: "voice.m4a", args: a("-c:a", "aac", "-f", "ipod"), kind: "audio", mime: "audio/mp4"},
		{name: "song.mp3", args: a("-c:a", "libmp3lame", "-f", "mp3"), kind: "audio", mime: "audio/mpeg"},
		{name: "bare.mp3", args: a("-c:a", "libmp3lame", "-id3v2_version", "0", "-write_xing", "0", "-f", "mp3"), kind: "audio", mime: "audio/mpeg"},
		{name: "layer2.mp2", args: a("-c:a", "mp2", "-b:a", "64k", "-f", "mp2"), kind: "audio", mime: "audio/mpeg"},
		{name: "take.wav", args: a("-c:a", "pcm_s16le", "-f", "wav"), kind: "audio", mime: "audio/wav"},
		{name: "take.flac", args: a("-c:a", "flac", "-f", "flac"), kind: "audio", mime: "audio/flac"},
		{name: "note.opus", args: a("-c:a", "libopus", "-f", "ogg"), kind: "audio", mime: "audio/ogg"},
		{name: "note.ogg", args: a("-c:a", "libvorbis", "-f", "ogg"), kind: "audio", mime: "audio/ogg"},
		{name: "radio.aac", args: a("-c:a", "aac", "-f", "adts"), kind: "audio", mime: "audio/aac"},
		{name: "take.aiff", args: a("-c:a", "pcm_s16be", "-f", "aiff"), kind: "audio", mime: "audio/aiff"},
		{name: "take.caf", args: a("-c:a", "pcm_s16le", "-f", "caf"), kind: "audio", mime: "audio/x-caf"},
		// ffmpeg has no AMR encoder here: a header and two NO_DATA frames.
		{name: "voice.amr", data: []byte("#!AMR\n\x7c\x7c"), kind: "audio", mime: "audio/amr"},
		{name: "bulletin.pdf", data: bulletin().bytes(), kind: "document", mime: "application/pdf"},
		{name: "page.jpg", data: []byte("<!DOCTYPE html>\n<html><body><img src=x onerror=alert(1)></body></html>\n")},
		{name: "clip.mp4", data: []byte("#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n../../../blobs/sha256/ab/cd/canary\n#EXT-X-ENDLIST\n")},
		{name: "list.mp4", data: []byte("ffconcat version 1.0\nfile /data/blobs/sha256/ab/cd/canary\n")},
	}
	dir := t.TempDir()
	for _, s := range samples {
		t.Run(s.name, func(t *testing.T) {
			path := filepath.Join(dir, s.name)
			if s.args != nil {
				args := append([]string{"-v", "error", "-nostdin", "-y"}, s.args...)
				cmd := exec.Command("ffmpeg", append(args, path)...)
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("%v: %v\n%s", cmd.Args, err, out)
				}
			} else if err := os.WriteFile(path, s.data, 0o644); err != nil {
				t.Fatal(err)
			}
			head := readSniffHead(t, path)
			kind, mime, ok := SniffMedia(head)
			if kind != s.kind || mime != s.mime || ok != (s.kind != "") {
				t.Errorf("SniffMedia = %q, %q, %v; want %q, %q, %v (head %.32q)", kind, mime, ok, s.kind, s.mime, s.kind != "", head)
			}
		})
	}
}

// readSniffHead returns the first 512 bytes of a file, as the upload path reads them.
func readSniffHead(tb testing.TB, path string) []byte {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	head := make([]byte, 512)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		tb.Fatal(err)
	}
	return head[:n]
}
