package transcode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// maxMetaBox bounds how much of a HEIF "meta" box is read to find the image
// size; real ones are a few KB to a few hundred KB (EXIF, XMP, grid layout).
const maxMetaBox = 16 << 20

// heifSize returns the largest image spatial extent ("ispe") declared in a
// HEIF file: for a grid image that is the full grid, larger than its tiles and
// thumbnails. It reads only box headers and the meta box, so the pixel limit
// can be checked before libheif allocates anything.
func heifSize(r io.ReadSeeker) (w, h int, err error) {
	var off int64
	for {
		typ, size, hdr, err := readBoxHeader(r, off)
		if err != nil {
			return 0, 0, fmt.Errorf("no meta box: %w", err)
		}
		if typ == "meta" {
			if size > maxMetaBox || size < hdr+4 {
				return 0, 0, fmt.Errorf("meta box of %d bytes", size)
			}
			body := make([]byte, size-hdr)
			if _, err := r.Seek(off+hdr, io.SeekStart); err != nil {
				return 0, 0, err
			}
			if _, err := io.ReadFull(r, body); err != nil {
				return 0, 0, fmt.Errorf("meta box: %w", err)
			}
			w, h = largestISPE(body[4:]) // skip version and flags
			if w == 0 || h == 0 {
				return 0, 0, errors.New("no image size (ispe) in meta box")
			}
			return w, h, nil
		}
		if size == 0 { // box runs to the end of the file
			return 0, 0, errors.New("no meta box")
		}
		off += size
	}
}

// readBoxHeader reads the ISO BMFF box header at off: type, total size (0 =
// to end of file) and header length.
func readBoxHeader(r io.ReadSeeker, off int64) (typ string, size, hdr int64, err error) {
	if _, err := r.Seek(off, io.SeekStart); err != nil {
		return "", 0, 0, err
	}
	var b [16]byte
	if _, err := io.ReadFull(r, b[:8]); err != nil {
		return "", 0, 0, err
	}
	size, hdr, typ = int64(binary.BigEndian.Uint32(b[:4])), 8, string(b[4:8])
	if size == 1 {
		if _, err := io.ReadFull(r, b[8:16]); err != nil {
			return "", 0, 0, err
		}
		size, hdr = int64(binary.BigEndian.Uint64(b[8:16])), 16
	}
	if size != 0 && size < hdr {
		return "", 0, 0, fmt.Errorf("box %q of size %d", typ, size)
	}
	return typ, size, hdr, nil
}

// largestISPE walks meta's children down iprp/ipco and returns the ispe with
// the most pixels.
func largestISPE(meta []byte) (w, h int) {
	var walk func(b []byte, depth int)
	walk = func(b []byte, depth int) {
		for len(b) >= 8 {
			size := int(binary.BigEndian.Uint32(b[:4]))
			typ := string(b[4:8])
			if size < 8 || size > len(b) {
				return
			}
			body := b[8:size]
			switch {
			case (typ == "iprp" || typ == "ipco") && depth < 3:
				walk(body, depth+1)
			case typ == "ispe" && len(body) >= 12:
				bw := int(binary.BigEndian.Uint32(body[4:8]))
				bh := int(binary.BigEndian.Uint32(body[8:12]))
				if int64(bw)*int64(bh) > int64(w)*int64(h) {
					w, h = bw, bh
				}
			}
			b = b[size:]
		}
	}
	walk(meta, 0)
	return w, h
}
