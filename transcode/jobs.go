package transcode

import (
	"runtime"

	"github.com/comsoc/acervo/catalog"
)

// Job kinds. An asset's first jobs are chosen by JobsFor at upload.
const (
	JobPhoto    = "photo"
	JobVideo    = "video"
	JobAudio    = "audio"
	JobDocument = "document"
	// JobOCR reads the text of a photographed or scanned clipping with
	// tesseract, when the uploader asks for it (NewAsset.OCR): running it on
	// every event photo would triple the work for nothing.
	JobOCR = "ocr"
)

// JobsFor lists the jobs that process a new asset; n.Kind is set.
func JobsFor(n catalog.NewAsset) []string {
	switch n.Kind {
	case catalog.KindPhoto:
		if n.OCR {
			return []string{JobPhoto, JobOCR}
		}
		return []string{JobPhoto}
	case catalog.KindVideo:
		return []string{JobVideo}
	case catalog.KindAudio:
		return []string{JobAudio}
	case catalog.KindDocument:
		return []string{JobDocument}
	}
	return nil
}

// Sniff tells the asset kind and MIME type of an upload from its first
// bytes; it is the catalog.SniffFunc the ingest path uses.
func Sniff(head []byte) (kind, mime string, ok bool) { return SniffMedia(head) }

// Lane is a set of job kinds with workers of its own, so that long jobs
// of one kind never starve the others.
type Lane struct {
	Name    string
	Kinds   []string
	Workers int
}

// DefaultLanes runs one video at a time (ffmpeg already uses every core)
// beside photos, audio and documents on one worker per CPU.
func DefaultLanes() []Lane {
	return []Lane{
		// Backfilled fingerprints decode whole videos: one at a time too.
		{Name: "video", Kinds: []string{JobVideo, JobFingerprint}, Workers: 1},
		{Name: "stills-and-sound", Kinds: []string{JobPhoto, JobAudio, JobDocument, JobOCR}, Workers: runtime.NumCPU()},
	}
}
