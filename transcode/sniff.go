package transcode

import (
	"bytes"
	"encoding/binary"
)

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

func prefix(p string) func([]byte) bool {
	return func(head []byte) bool { return bytes.HasPrefix(head, []byte(p)) }
}

func isWebP(head []byte) bool {
	return len(head) >= 16 && string(head[0:4]) == "RIFF" && string(head[8:12]) == "WEBP" &&
		(string(head[12:16]) == "VP8 " || string(head[12:16]) == "VP8L" || string(head[12:16]) == "VP8X")
}

// isHEIC looks at the leading ftyp box. An HEVC brand (heic, heix, heim, heis,
// hevc, hevx) decides yes; otherwise an AVIF brand decides no, since AVIF is
// not supported yet; otherwise the generic HEIF brands mif1/msf1 decide yes.
func isHEIC(head []byte) bool {
	if len(head) < 16 || string(head[4:8]) != "ftyp" {
		return false
	}
	size := int(binary.BigEndian.Uint32(head[0:4]))
	if size < 16 {
		return false
	}
	size = min(size, len(head))
	brands := []string{string(head[8:12])} // major brand, then compatible ones after minor_version
	for i := 16; i+4 <= size; i += 4 {
		brands = append(brands, string(head[i:i+4]))
	}
	generic, avif := false, false
	for _, b := range brands {
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
