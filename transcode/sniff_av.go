package transcode

import (
	"bytes"
	"encoding/binary"
)

// The container signatures of video and audio, for mediaSignatures in
// sniff.go: ISO-BMFF brands, bare QuickTime, EBML (Matroska, WebM), MPEG
// transport and program streams, and the audio frame formats.

// ftypClass is what an ftyp box says a file is.
type ftypClass int

const (
	ftypOther     ftypClass = iota
	ftypAudio               // iTunes audio: M4A, audiobook, protected audio
	ftypQuickTime           // QuickTime movie
	ftypVideo               // MP4, 3GP and their relatives
)

// videoBrands are the ftyp brands of movie files, as cameras, phones and
// encoders write them.
var videoBrands = map[string]bool{
	"isom": true, "iso2": true, "iso3": true, "iso4": true, "iso5": true, "iso6": true,
	"iso7": true, "iso8": true, "iso9": true,
	"mp41": true, "mp42": true, "avc1": true, "dash": true,
	"3gp4": true, "3gp5": true, "3gp6": true, "3gp7": true, "3gp8": true, "3gp9": true,
	"3g2a": true, "3g2b": true, "3g2c": true, "3ge6": true, "3gg6": true,
	"mmp4": true, "XAVC": true, "MSNV": true, "M4V ": true, "M4VH": true, "M4VP": true,
	"f4v ": true, "CAEP": true, "caqv": true, "KDDI": true,
}

// classifyFtyp decides by the major brand, or, when that one is unknown, by
// the first known compatible brand. Still-image brands (HEIF, AVIF, Canon's
// CR3) anywhere in the list make it no movie.
func classifyFtyp(head []byte) ftypClass {
	brands := ftypBrands(head)
	if len(brands) == 0 {
		return ftypOther
	}
	for _, b := range brands {
		switch b {
		case "mif1", "msf1", "heic", "heix", "heim", "heis", "hevc", "hevx", "avif", "avis", "crx ":
			return ftypOther
		}
	}
	for _, b := range brands {
		switch {
		case b == "M4A " || b == "M4B " || b == "M4P ":
			return ftypAudio
		case b == "qt  ":
			return ftypQuickTime
		case videoBrands[b]:
			return ftypVideo
		}
	}
	return ftypOther
}

func ftypIs(c ftypClass) func([]byte) bool {
	return func(head []byte) bool { return classifyFtyp(head) == c }
}

// isBareQuickTime matches a QuickTime movie without an ftyp box (older
// cameras and QuickTime 7), which starts with one of its top-level atoms.
// The atom's size must be sane, and a moov must begin with a movie header.
func isBareQuickTime(head []byte) bool {
	if len(head) < 8 {
		return false
	}
	size := binary.BigEndian.Uint32(head[0:4])
	switch string(head[4:8]) {
	case "moov":
		return size >= 16 && len(head) >= 16 &&
			(string(head[12:16]) == "mvhd" || string(head[12:16]) == "cmov" || string(head[12:16]) == "prfl")
	case "mdat":
		return size == 0 || size == 1 || size >= 8 // 0: to the end, 1: 64-bit size follows
	case "wide", "free", "skip":
		// Padding before the movie: the next atom, when head holds it, must
		// be a QuickTime atom too.
		if size < 8 || size > 1<<24 {
			return false
		}
		if next := int(size); next+8 <= len(head) {
			switch string(head[next+4 : next+8]) {
			case "mdat", "moov", "wide", "free", "skip":
				return true
			}
			return false
		}
		return true
	}
	return false
}

// ebmlDocType matches an EBML (Matroska family) header. With docType "" it
// matches any Matroska file; otherwise only that DocType.
func ebmlDocType(docType string) func([]byte) bool {
	return func(head []byte) bool {
		if !bytes.HasPrefix(head, []byte("\x1A\x45\xDF\xA3")) {
			return false
		}
		if docType == "" {
			return true
		}
		got, ok := ebmlHeaderDocType(head)
		return ok && got == docType
	}
}

// ebmlHeaderDocType reads the DocType element (0x4282) of the EBML header at
// the start of head.
func ebmlHeaderDocType(head []byte) (string, bool) {
	p := 4
	size, n, ok := ebmlVint(head[p:], false)
	if !ok {
		return "", false
	}
	p += n
	end := len(head)
	if size >= 0 && size < int64(end-p) {
		end = p + int(size)
	}
	for p < end {
		id, n, ok := ebmlVint(head[p:end], true)
		if !ok {
			return "", false
		}
		p += n
		size, n, ok := ebmlVint(head[p:end], false)
		if !ok || size < 0 || size > int64(end-p-n) {
			return "", false
		}
		p += n
		if id == 0x4282 {
			return string(head[p : p+int(size)]), true
		}
		p += int(size)
	}
	return "", false
}

// ebmlVint decodes an EBML variable-length integer: an element ID (keeping
// its length marker, as IDs are written) or a size (-1 for "unknown").
func ebmlVint(b []byte, isID bool) (v int64, n int, ok bool) {
	if len(b) == 0 || b[0] == 0 {
		return 0, 0, false
	}
	n = 1
	for mask := byte(0x80); b[0]&mask == 0; mask >>= 1 {
		n++
	}
	if n > 8 || (isID && n > 4) || len(b) < n {
		return 0, 0, false
	}
	v = int64(b[0])
	if !isID {
		v &= int64(0xFF >> n)
	}
	allOnes := v == int64(0xFF>>n)
	for i := 1; i < n; i++ {
		v = v<<8 | int64(b[i])
		allOnes = allOnes && b[i] == 0xFF
	}
	if !isID && allOnes {
		return -1, n, true
	}
	return v, n, true
}

// isMPEGTS matches an MPEG transport stream of packets of packetSize bytes,
// each with its 0x47 sync byte at offset within the packet: every packet
// start head holds must have one and a valid adaptation field control
// (not the reserved 00), and there must be at least three, so that text
// ('G' is 0x47) does not pass for one.
func isMPEGTS(packetSize, offset int) func([]byte) bool {
	return func(head []byte) bool {
		n := 0
		for p := offset; p+4 <= len(head); p += packetSize {
			if head[p] != 0x47 || head[p+3]&0x30 == 0 {
				return false
			}
			n++
		}
		return n >= 3
	}
}

// isMPEGPS matches an MPEG program stream pack header, MPEG-2 ('01' marker
// bits) or MPEG-1 ('0010').
func isMPEGPS(head []byte) bool {
	return len(head) >= 5 && bytes.HasPrefix(head, []byte("\x00\x00\x01\xBA")) &&
		(head[4]&0xC0 == 0x40 || head[4]&0xF0 == 0x20)
}

// id3Len returns the length of a leading ID3v2 tag, 0 when there is none.
func id3Len(head []byte) int {
	if len(head) < 10 || string(head[0:3]) != "ID3" || head[3] < 2 || head[3] > 4 || head[4] == 0xFF {
		return 0
	}
	n := 0
	for _, b := range head[6:10] { // synchsafe: 7 bits a byte
		if b&0x80 != 0 {
			return 0
		}
		n = n<<7 | int(b)
	}
	n += 10
	if head[5]&0x10 != 0 { // footer present
		n += 10
	}
	return n
}

// afterID3 applies match to what follows a leading ID3v2 tag, or to head
// when there is none. Taggers put ID3 before FLAC and AAC streams too.
func afterID3(match func([]byte) bool) func([]byte) bool {
	return func(head []byte) bool {
		n := id3Len(head)
		if n == 0 {
			return match(head)
		}
		return n < len(head) && match(head[n:])
	}
}

// isFLAC matches "fLaC" followed by the STREAMINFO metadata block.
func isFLAC(head []byte) bool {
	return len(head) >= 5 && string(head[0:4]) == "fLaC" && head[4]&0x7F == 0
}

// isMP3 matches an ID3v2 tag, or an MPEG audio frame header confirmed by
// the next frame's header when head holds it. (ID3 before FLAC or AAC is
// recognised earlier; ffprobe judges whatever else follows a tag.)
func isMP3(head []byte) bool {
	if id3Len(head) > 0 {
		return true
	}
	size, ok := mpegAudioFrame(head)
	if !ok {
		return false
	}
	if size+4 <= len(head) {
		_, ok = mpegAudioFrame(head[size:])
	}
	return ok
}

// mpegAudioBitrates are kbit/s by [MPEG-1][layer 1..3][bitrate index];
// MPEG-2 and 2.5 share a table.
var mpegAudioBitrates = [2][4][16]int{
	{ // MPEG-2 and 2.5
		1: {0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256, 0},
		2: {0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0},
		3: {0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0},
	},
	{ // MPEG-1
		1: {0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448, 0},
		2: {0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 0},
		3: {0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0},
	},
}

// mpegAudioFrame parses an MPEG audio (layer I–III) frame header and returns
// the frame's length. Free-format frames (bitrate index 0) are refused: they
// are rare, and without a length nothing confirms them.
func mpegAudioFrame(b []byte) (size int, ok bool) {
	if len(b) < 4 || b[0] != 0xFF || b[1]&0xE0 != 0xE0 {
		return 0, false
	}
	version := (b[1] >> 3) & 3   // 0: MPEG-2.5, 1: reserved, 2: MPEG-2, 3: MPEG-1
	layerBits := (b[1] >> 1) & 3 // 1: layer III, 2: layer II, 3: layer I; 0 is ADTS
	bitrateIdx := b[2] >> 4
	rateIdx := (b[2] >> 2) & 3
	if version == 1 || layerBits == 0 || bitrateIdx == 0 || bitrateIdx == 15 || rateIdx == 3 || b[3]&3 == 2 {
		return 0, false
	}
	layer := 4 - int(layerBits)
	mpeg1 := 0
	if version == 3 {
		mpeg1 = 1
	}
	rate := [3]int{44100, 48000, 32000}[rateIdx]
	switch version {
	case 2:
		rate /= 2
	case 0:
		rate /= 4
	}
	bitrate := mpegAudioBitrates[mpeg1][layer][bitrateIdx] * 1000
	padding := int(b[2]>>1) & 1
	switch {
	case layer == 1:
		size = (12*bitrate/rate + padding) * 4
	case layer == 3 && mpeg1 == 0:
		size = 72*bitrate/rate + padding
	default:
		size = 144*bitrate/rate + padding
	}
	return size, size > 4
}

// isADTS matches an AAC ADTS frame header (sync, layer 0, a valid sampling
// rate and frame length) confirmed by the next frame's when head holds it.
func isADTS(head []byte) bool {
	size, ok := adtsFrame(head)
	if !ok {
		return false
	}
	if size+7 <= len(head) {
		_, ok = adtsFrame(head[size:])
	}
	return ok
}

func adtsFrame(b []byte) (size int, ok bool) {
	if len(b) < 7 || b[0] != 0xFF || b[1]&0xF6 != 0xF0 {
		return 0, false
	}
	if (b[2]>>2)&0xF > 12 { // sampling frequency index
		return 0, false
	}
	size = int(b[3]&3)<<11 | int(b[4])<<3 | int(b[5]>>5)
	return size, size >= 7
}

func isAIFF(head []byte) bool {
	return len(head) >= 12 && string(head[0:4]) == "FORM" &&
		(string(head[8:12]) == "AIFF" || string(head[8:12]) == "AIFC")
}

// isPDF matches "%PDF-" and a version digit. Readers accept the header
// anywhere in the first 1024 bytes; here it must lie in the first 512, after
// junk that holds no '<', so an HTML or SVG page quoting a PDF header is no
// PDF.
func isPDF(head []byte) bool {
	i := bytes.Index(head, []byte("%PDF-"))
	return i >= 0 && i+5 < len(head) && head[i+5] >= '1' && head[i+5] <= '9' &&
		!bytes.ContainsRune(head[:i], '<')
}
