package transcode

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/comsoc/acervo/catalog"
)

// Examiner hashes a file someone wants checked against the archive
// (/verify), with the same hardened decoding as ingest: the type is
// sniffed from the content, pictures are decoded only in the decoding
// child (under PhotoConfig's memory limit and timeout), and video and
// audio only by ffmpeg through the runner with the format allowlist. The
// zero value works (the defaults of PhotoConfig and AVConfig).
type Examiner struct {
	Photo PhotoConfig // ScratchDir is set per call
	AV    AVConfig
	// Exif, when set, reads a picture's EXIF orientation so a phone photo
	// is hashed upright, as its archived preview was; without it the
	// picture is hashed as stored (copies that circulate usually have the
	// orientation applied and the EXIF stripped).
	Exif *ExifTool
}

// Sample is what Examine learnt of a file.
type Sample struct {
	Kind string // catalog.KindPhoto, KindVideo or KindAudio
	MIME string
	// Photo is QueryHashes of the picture.
	Photo []uint64
	// Picture is the picture at most queryLongEdge pixels long, upright
	// when Examiner.Exif could read its orientation, for DiffRegions.
	Picture image.Image
	// Video is VideoHashes; Audio is AudioFingerprint (of a video's
	// sound too, when it has any).
	Video []uint64
	Audio []uint32
}

// queryLongEdge is the size of the picture the child hands back: the
// hash works on at most trimLongEdge pixels anyway, and decoding a 12 MP
// JPEG DCT-scaled to this size is several times faster than to 2048.
const queryLongEdge = trimLongEdge

// Examine sniffs and hashes the file at path, writing temporary files in
// scratch (an existing folder) and removing them before it returns.
// Documents and anything not sniffed as photo, video or audio are
// ErrUnsupported, as are files that fail to decode; ErrTooLarge for
// pictures past PhotoConfig.MaxPixels.
func (e Examiner) Examine(ctx context.Context, path, scratch string) (Sample, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return Sample{}, err
	}
	head, err := readHead(abs)
	if err != nil {
		return Sample{}, err
	}
	kind, mime, ok := SniffMedia(head)
	if !ok || kind == catalog.KindDocument {
		return Sample{}, &kindError{kind: ErrUnsupported, msg: "not a photo, video or audio file"}
	}
	s := Sample{Kind: kind, MIME: mime}
	switch kind {
	case catalog.KindPhoto:
		s.Picture, err = e.queryPicture(ctx, abs, mime, scratch)
		if err != nil {
			return Sample{}, err
		}
		s.Photo = QueryHashes(s.Picture)
		return s, nil
	case catalog.KindVideo:
		s.Video, err = VideoHashes(ctx, e.AV, abs)
		if err == nil {
			// A video's sound is a second chance (a clip re-cut over the
			// same speech); one without sound is still a video.
			s.Audio, _ = AudioFingerprint(ctx, e.AV, abs)
			return s, nil
		}
		if !errors.Is(err, ErrUnsupported) {
			return Sample{}, err
		}
		s.Kind = catalog.KindAudio // an MP4 with only sound
		fallthrough
	case catalog.KindAudio:
		s.Audio, err = AudioFingerprint(ctx, e.AV, abs)
		if err != nil {
			return Sample{}, err
		}
	}
	return s, nil
}

func readHead(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, 512)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return head[:n], nil
}

// queryPicture has the decoding child write the picture as one JPEG of
// queryLongEdge pixels and decodes that in this process: the JPEG is the
// child's own output (cjpeg's), never the untrusted file.
func (e Examiner) queryPicture(ctx context.Context, abs, mime, scratch string) (image.Image, error) {
	cfg := e.Photo
	cfg.ScratchDir = scratch
	if err := cfg.withDefaults(); err != nil {
		return nil, err
	}
	orientation := 0
	if e.Exif != nil {
		// Metadata only, as at ingest; a file exiftool cannot read is
		// still hashed, as stored.
		if tags, err := e.Exif.Read(ctx, abs); err == nil {
			orientation = parsePhotoMeta(tags, time.UTC).Orientation
		}
	}
	out := filepath.Join(cfg.ScratchDir, randomHex()+"-")
	specs := []renditionSpec{{Name: "query.jpg", LongEdge: queryLongEdge}}
	req := childRequest{Path: abs, MIME: mime, Out: out, Orientation: orientation, MaxPixels: cfg.MaxPixels, MemoryLimit: cfg.MemoryLimit, Specs: specs}
	defer removeScratch(out, nil)
	resp, err := runPhotoChild(ctx, cfg, req)
	if err == nil {
		err = checkRenditions(resp.Renditions, out, specs)
	}
	if err != nil {
		return nil, fmt.Errorf("transcode: examine photo: %w", err)
	}
	return decodeOwnJPEG(resp.Renditions[0].Path)
}

// decodeOwnJPEG decodes a JPEG this program wrote (a rendition or the
// child's query picture) in process: its encoder is ours, so it is not
// the hostile input invariant 5 keeps out of the server.
func decodeOwnJPEG(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, err := jpeg.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("transcode: decode %s: %w", filepath.Base(path), err)
	}
	return img, nil
}

// DecodeRendition decodes a JPEG rendition of the archive (preview.jpg,
// thumb.jpg) read from r. Renditions are the worker's own output, so
// decoding them in the server's process is safe.
func DecodeRendition(r io.Reader) (image.Image, error) {
	img, err := jpeg.Decode(r)
	if err != nil {
		return nil, fmt.Errorf("transcode: decode rendition: %w", err)
	}
	return img, nil
}

// PhotoFingerprints returns the stored and query hashes of a photo from
// its preview rendition at path, the worker's own output, decoded in
// process. Both come from one gray copy (the same Fingerprint and
// QueryHashes would each make).
func PhotoFingerprints(path string) (catalog.Fingerprints, error) {
	img, err := decodeOwnJPEG(path)
	if err != nil {
		return catalog.Fingerprints{}, err
	}
	g := grayShrink(img, trimLongEdge)
	return catalog.Fingerprints{Photo: fingerprintGray(g), PhotoQuery: queryHashesGray(g)}, nil
}
