package transcode

// Video near-duplicates for issue #7: a video is a sequence of frame
// pHashes, sampled at videoHashFPS, and a clip found on social media
// matches an archived video when most of its frames are near the archived
// frames at one time offset. ffmpeg does the sampling and the reduction to
// 32×32 gray (area averaging, like the pictures' hash), so no frame larger
// than 1 KiB ever reaches this process; hashing is the pictures' DCT.

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"time"
)

// videoHashFPS is how many frames a second are hashed: enough to place a
// 20-second excerpt to within a second, few enough that an hour is 7,200
// hashes (57 KiB).
const videoHashFPS = 2

// VideoHashInterval is the time between two of VideoHashes' frames.
const VideoHashInterval = time.Second / videoHashFPS

// FrameMatchDistance is the largest Hamming distance at which a query
// frame counts as the archived frame at the same offset. Re-encoding at a
// quarter of the resolution and a worse CRF moves a frame by a few bits;
// SimilarDistance is kept for whole pictures, whose transformations are
// harsher.
const FrameMatchDistance = 10

// frameHashPlan is the frames of one video stream as 32×32 gray bytes on
// stdout, videoHashFPS a second.
type frameHashPlan struct {
	In     avInput
	Stream int // input stream index
}

func frameHashArgs(p frameHashPlan) []string {
	// fps first, so only sampled frames are scaled; setsar so the
	// scaler does not keep a source's pixel aspect; the area scaler
	// averages, as the pictures' hash does.
	vf := fmt.Sprintf("fps=%d,scale=%d:%d:flags=area,setsar=1,format=gray", videoHashFPS, hashSide, hashSide)
	return slices.Concat(ffmpegGlobal, p.In.args(), mapStream(p.Stream),
		[]string{"-an", "-sn", "-dn", "-vf", vf, "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1"})
}

// VideoHashes returns the frame hashes of the video at src, videoHashFPS
// a second from its start. It runs under cfg's limits and deadline as
// RenderAV does; a file without video is ErrUnsupported.
func VideoHashes(ctx context.Context, cfg AVConfig, src string) ([]uint64, error) {
	if err := cfg.withDefaults(); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(src)
	if err != nil {
		return nil, fmt.Errorf("transcode: video hashes %s: %w", src, err)
	}
	fail := func(err error) error {
		return fmt.Errorf("transcode: video hashes %s: %w", filepath.Base(abs), err)
	}
	p, err := probeMedia(ctx, cfg, abs)
	if err != nil {
		return nil, fail(err)
	}
	if p.Video == nil {
		return nil, fail(unsupportedFormat("no video stream"))
	}
	j := newAVJob(ctx, cfg, abs, p.Duration)
	defer j.cancel()
	fh := &frameHasher{}
	if _, err := j.ffmpeg("frame hashes", frameHashArgs(frameHashPlan{
		In: avInput{Path: abs, Format: p.Demuxer}, Stream: p.Video.Index}), fh); err != nil {
		return nil, fail(err)
	}
	return fh.hashes, nil
}

// frameHasher hashes each whole 32×32 gray frame written to it; a partial
// frame at the end is dropped.
type frameHasher struct {
	partial []byte
	hashes  []uint64
}

const frameBytes = hashSide * hashSide

func (f *frameHasher) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		take := min(frameBytes-len(f.partial), len(p))
		f.partial = append(f.partial, p[:take]...)
		p = p[take:]
		if len(f.partial) == frameBytes {
			f.hashes = append(f.hashes, hashGrayFrame(f.partial))
			f.partial = f.partial[:0]
		}
	}
	return n, nil
}

// hashGrayFrame returns the pHash of one hashSide×hashSide gray frame.
func hashGrayFrame(pix []byte) uint64 {
	g := &grayImage{W: hashSide, H: hashSide, Pix: make([]float32, frameBytes)}
	for i, v := range pix {
		g.Pix[i] = float32(v)
	}
	return hashFromCoeffs(dctLow(g)).plain
}

// SequenceMatch is where a query clip best fits in an archived video.
type SequenceMatch struct {
	// Offset is the archived video's time at the query's first frame;
	// negative when the query starts before the video.
	Offset time.Duration
	// Score is the fraction of the query's frames within
	// FrameMatchDistance of the archived frame at that offset.
	Score float64
}

// MatchSequences slides query along archive, videoHashFPS hashes a second
// each, over every offset at which at least half of the query overlaps
// the archive, and returns the offset with the most query frames within
// FrameMatchDistance of their counterpart (the earliest of equals). A
// score of 0.5 or more means the query is an excerpt of the archive; two
// empty sequences score 0.
func MatchSequences(query, archive []uint64) SequenceMatch {
	var best SequenceMatch
	bestHits := -1
	if len(query) == 0 || len(archive) == 0 {
		return best
	}
	half := len(query) / 2
	for off := -half; off <= len(archive)-(len(query)-half); off++ {
		hits := 0
		for i, q := range query {
			if j := off + i; j >= 0 && j < len(archive) && Hamming(q, archive[j]) <= FrameMatchDistance {
				hits++
			}
		}
		if hits > bestHits {
			bestHits = hits
			best = SequenceMatch{
				Offset: time.Duration(off) * time.Second / videoHashFPS,
				Score:  float64(hits) / float64(len(query)),
			}
		}
	}
	return best
}
