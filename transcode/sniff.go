package transcode

import (
	"bytes"
	"encoding/binary"

	"github.com/comsoc/acervo/catalog"
)

// sniffLen is how much of a file the sniffers look at: the upload path hands
// over exactly this much, and a decision must not depend on whether the
// caller had more.
const sniffLen = 512

// photoSignature is one way to recognise a photo format from its first bytes.
type photoSignature struct {
	MIME  string
	Match func(head []byte) bool
}

// photoSignatures lists the photo formats RenderPhoto decodes, in the order they are tried.
var photoSignatures = []photoSignature{
	{MIME: "image/jpeg", Match: prefix("\xFF\xD8\xFF")},
	{MIME: "image/png", Match: prefix("\x89PNG\r\n\x1a\n")},
	{MIME: "image/tiff", Match: prefix("II*\x00")},
	{MIME: "image/tiff", Match: prefix("MM\x00*")},
	{MIME: "image/webp", Match: isWebP},
	{MIME: "image/heic", Match: isHEIC},
}

// SniffPhoto reports the MIME type of a photo from its first bytes (512 are
// enough) and whether it is a format RenderPhoto decodes: image/jpeg,
// image/png, image/tiff, image/webp or image/heic. File names are never
// consulted: originals are stored without them.
func SniffPhoto(head []byte) (mime string, ok bool) {
	for _, s := range photoSignatures {
		if s.Match(head) {
			return s.MIME, true
		}
	}
	return "", false
}

// mediaSignature is one way to recognise a video, audio or document format.
type mediaSignature struct {
	Kind  string // catalog.KindVideo, KindAudio or KindDocument
	MIME  string
	Match func(head []byte) bool
}

// mediaSignatures lists the non-photo formats the pipeline accepts, tried in
// order after the photo formats. Each looks for more than a magic number
// where a short one could occur by chance (MPEG audio, MPEG-TS, QuickTime
// atoms), so text and markup never match. The kind is a first guess: ffprobe
// decides later whether an Ogg or MP4 file holds video or only audio.
var mediaSignatures = []mediaSignature{
	// ISO BMFF / QuickTime with an ftyp box: the brands decide.
	{Kind: catalog.KindAudio, MIME: "audio/mp4", Match: ftypIs(ftypAudio)},
	{Kind: catalog.KindVideo, MIME: "video/quicktime", Match: ftypIs(ftypQuickTime)},
	{Kind: catalog.KindVideo, MIME: "video/mp4", Match: ftypIs(ftypVideo)},
	{Kind: catalog.KindVideo, MIME: "video/quicktime", Match: isBareQuickTime},
	{Kind: catalog.KindVideo, MIME: "video/webm", Match: ebmlDocType("webm")},
	{Kind: catalog.KindVideo, MIME: "video/x-matroska", Match: ebmlDocType("")},
	{Kind: catalog.KindVideo, MIME: "video/mp2t", Match: isMPEGTS(188, 0)},
	{Kind: catalog.KindVideo, MIME: "video/mp2t", Match: isMPEGTS(192, 4)}, // M2TS: 4-byte timecode before each packet
	{Kind: catalog.KindVideo, MIME: "video/mpeg", Match: isMPEGPS},
	{Kind: catalog.KindVideo, MIME: "video/x-msvideo", Match: riff("AVI ")},

	{Kind: catalog.KindAudio, MIME: "audio/flac", Match: afterID3(isFLAC)},
	{Kind: catalog.KindAudio, MIME: "audio/aac", Match: afterID3(isADTS)},
	{Kind: catalog.KindAudio, MIME: "audio/mpeg", Match: isMP3},
	{Kind: catalog.KindAudio, MIME: "audio/wav", Match: riff("WAVE")},
	{Kind: catalog.KindAudio, MIME: "audio/ogg", Match: prefix("OggS\x00")},
	{Kind: catalog.KindAudio, MIME: "audio/amr", Match: prefix("#!AMR\n")},
	{Kind: catalog.KindAudio, MIME: "audio/amr-wb", Match: prefix("#!AMR-WB\n")},
	{Kind: catalog.KindAudio, MIME: "audio/x-caf", Match: prefix("caff\x00\x01")},
	{Kind: catalog.KindAudio, MIME: "audio/aiff", Match: isAIFF},

	{Kind: catalog.KindDocument, MIME: "application/pdf", Match: isPDF},
}

// SniffMedia tells the asset kind (catalog.KindPhoto, KindVideo, KindAudio or
// KindDocument) and MIME type of a file from its first 512 bytes; later bytes
// are ignored and a shorter file is fine. Photo formats are tried first, as
// SniffPhoto. Anything else, including HTML, XML and SVG, text, HLS
// playlists, ffconcat lists, archives and executables, is refused (ok false).
// File names are never consulted: an MP4 named x.jpg is a video.
func SniffMedia(head []byte) (kind, mime string, ok bool) {
	head = head[:min(len(head), sniffLen)]
	if mime, ok := SniffPhoto(head); ok {
		return catalog.KindPhoto, mime, true
	}
	for _, s := range mediaSignatures {
		if s.Match(head) {
			return s.Kind, s.MIME, true
		}
	}
	return "", "", false
}

func prefix(p string) func([]byte) bool {
	return func(head []byte) bool { return bytes.HasPrefix(head, []byte(p)) }
}

// riff matches a RIFF file of the given form type ("WAVE", "AVI "). WAV also
// comes as RF64 and BW64 when over 4 GiB.
func riff(form string) func([]byte) bool {
	return func(head []byte) bool {
		if len(head) < 12 || string(head[8:12]) != form {
			return false
		}
		switch string(head[0:4]) {
		case "RIFF":
			return true
		case "RF64", "BW64":
			return form == "WAVE"
		}
		return false
	}
}

func isWebP(head []byte) bool {
	return len(head) >= 16 && string(head[0:4]) == "RIFF" && string(head[8:12]) == "WEBP" &&
		(string(head[12:16]) == "VP8 " || string(head[12:16]) == "VP8L" || string(head[12:16]) == "VP8X")
}

// ftypBrands returns the major brand and then the compatible brands of a
// leading ftyp box, as far as head holds them; nil when there is none.
func ftypBrands(head []byte) []string {
	if len(head) < 16 || string(head[4:8]) != "ftyp" {
		return nil
	}
	size := int(binary.BigEndian.Uint32(head[0:4]))
	if size < 16 {
		return nil
	}
	size = min(size, len(head))
	brands := []string{string(head[8:12])} // major brand, then compatible ones after minor_version
	for i := 16; i+4 <= size; i += 4 {
		brands = append(brands, string(head[i:i+4]))
	}
	return brands
}

// isHEIC looks at the leading ftyp box. An HEVC brand (heic, heix, heim, heis,
// hevc, hevx) decides yes; otherwise an AVIF brand decides no, since AVIF is
// not supported yet; otherwise the generic HEIF brands mif1/msf1 decide yes.
func isHEIC(head []byte) bool {
	generic, avif := false, false
	for _, b := range ftypBrands(head) {
		switch b {
		case "heic", "heix", "heim", "heis", "hevc", "hevx":
			return true
		case "mif1", "msf1":
			generic = true
		case "avif", "avis":
			avif = true
		}
	}
	return generic && !avif
}
