package transcode

// Audio near-duplicates for issue #7: an audio stream's Chromaprint
// fingerprint (the AcoustID algorithm), which ffmpeg computes with its
// chromaprint muxer, is a sequence of 32-bit items, one every
// chromaprintItem; an excerpt (a radio clip of a press conference, a
// re-encoded voice note) matches where its items differ from the archived
// ones in few bits. Unrelated audio differs in about half of them.

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/bits"
	"path/filepath"
	"slices"
	"time"
)

// chromaprintItem is the time between fingerprint items: Chromaprint's
// frames of 4096 samples at 11,025 Hz advance by a third of a frame.
const chromaprintItem = 4096 / 3 * time.Second / 11025

// AudioItemInterval is the time between two of AudioFingerprint's items.
const AudioItemInterval = chromaprintItem

// AudioMatchBitErrors is the largest fraction of differing bits at which
// a query's fingerprint counts as an excerpt of an archived one. A lossy
// re-encode differs in 5–20 % of bits; unrelated audio in about 50 %.
const AudioMatchBitErrors = 0.3

// fingerprintPlan is one audio stream's raw Chromaprint on stdout.
type fingerprintPlan struct {
	In     avInput
	Stream int // input stream index
}

func fingerprintArgs(p fingerprintPlan) []string {
	// Mono: Chromaprint downmixes anyway, and the muxer takes at most
	// two channels. Algorithm 1 is Chromaprint's default (TEST2), the
	// one AcoustID uses; spelled out so an ffmpeg with another default
	// cannot make stored fingerprints incomparable.
	return slices.Concat(ffmpegGlobal, p.In.args(), mapStream(p.Stream),
		[]string{"-vn", "-sn", "-dn", "-ac", "1", "-f", "chromaprint", "-fp_format", "raw", "-algorithm", "1", "pipe:1"})
}

// AudioFingerprint returns the Chromaprint items of the audio stream of
// the file at src (of a video too). It runs under cfg's limits and
// deadline as RenderAV does; a file without audio is ErrUnsupported.
func AudioFingerprint(ctx context.Context, cfg AVConfig, src string) ([]uint32, error) {
	if err := cfg.withDefaults(); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(src)
	if err != nil {
		return nil, fmt.Errorf("transcode: audio fingerprint %s: %w", src, err)
	}
	fail := func(err error) error {
		return fmt.Errorf("transcode: audio fingerprint %s: %w", filepath.Base(abs), err)
	}
	p, err := probeMedia(ctx, cfg, abs)
	if err != nil {
		return nil, fail(err)
	}
	if p.Audio == nil {
		return nil, fail(unsupportedFormat("no audio stream"))
	}
	j := newAVJob(ctx, cfg, abs, p.Duration)
	defer j.cancel()
	// 12 hours at 8 items a second is 1.4 MB.
	out := &boundedBuffer{max: int(maxDeadlineMedia/chromaprintItem+1) * 4}
	if _, err := j.ffmpeg("audio fingerprint", fingerprintArgs(fingerprintPlan{
		In: avInput{Path: abs, Format: p.Demuxer}, Stream: p.Audio.Index}), out); err != nil {
		return nil, fail(err)
	}
	if out.overflow {
		return nil, fail(unsupportedFormat("fingerprint longer than any archived media"))
	}
	// The muxer writes the items in the machine's byte order, and runs on
	// this machine.
	items := make([]uint32, len(out.buf)/4)
	for i := range items {
		items[i] = binary.NativeEndian.Uint32(out.buf[4*i:])
	}
	return items, nil
}

// AudioMatch is where a query fingerprint best fits in an archived one.
type AudioMatch struct {
	// Offset is the archived audio's time at the query's start; negative
	// when the query starts before it.
	Offset time.Duration
	// BitErrors is the fraction of differing bits over the overlap at
	// Offset: near 0 for the same audio, near 0.5 for unrelated audio, 1
	// when nothing could be compared.
	BitErrors float64
}

// Matches reports whether m says the query is an excerpt.
func (m AudioMatch) Matches() bool { return m.BitErrors <= AudioMatchBitErrors }

// MatchAudio slides query along archive over every offset at which at
// least half of the query overlaps, and returns the offset with the fewest
// differing bits per compared item (the earliest of equals).
func MatchAudio(query, archive []uint32) AudioMatch {
	best := AudioMatch{BitErrors: 1}
	if len(query) == 0 || len(archive) == 0 {
		return best
	}
	half := len(query) / 2
	for off := -half; off <= len(archive)-(len(query)-half); off++ {
		lo, hi := max(0, -off), min(len(query), len(archive)-off)
		errs := 0
		for i := lo; i < hi; i++ {
			errs += bits.OnesCount32(query[i] ^ archive[off+i])
		}
		if ber := float64(errs) / float64(32*(hi-lo)); ber < best.BitErrors {
			best = AudioMatch{Offset: time.Duration(off) * chromaprintItem, BitErrors: ber}
		}
	}
	return best
}
