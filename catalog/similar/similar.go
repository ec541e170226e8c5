// Package similar is the in-memory near-duplicate index of issue #7: the
// photo, video and audio fingerprints of catalog's fingerprints bucket,
// indexed for lookup by /verify and /api/v1/assets/{id}/similar. Like the
// search index it is derived: Open builds it from the catalog, and every
// lookup first takes in the fingerprints stored since (which the worker
// writes, with an entry in a log, in the transaction that completes a
// job), so no notification can be lost.
//
// It returns asset ids whatever the asset's state: whether an asset in
// the trash may be shown is the caller's decision, made on the asset
// record when it answers, so trashing and restoring need no update here.
package similar

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/catalog/simindex"
	"github.com/comsoc/acervo/transcode"
)

// Config configures an Index.
type Config struct {
	// Catalog holds the fingerprints. Required.
	Catalog *catalog.Catalog
	// VideoSamples is how many frames of a query video are looked up to
	// find candidate videos, which are then matched frame by frame.
	// Default 32.
	VideoSamples int
	// MaxResults bounds each answer. Default 50.
	MaxResults int
	// Log receives the build summary. Default slog.Default().
	Log *slog.Logger
}

func (c *Config) withDefaults() error {
	if c.Catalog == nil {
		return errors.New("similar: Config.Catalog is required")
	}
	if c.VideoSamples <= 0 {
		c.VideoSamples = 32
	}
	if c.MaxResults <= 0 {
		c.MaxResults = 50
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return nil
}

// Match is one archived asset near a query.
type Match struct {
	AssetID string
	// Score is 1 for the same picture or sound, lower for less alike:
	// photos 1 − distance/64 (so at least 0.84), video the fraction of
	// the query's frames that match, audio 1 − the fraction of differing
	// bits (at least 0.7).
	Score float64
	// Distance is the Hamming distance of a photo's nearest hash pair.
	Distance int
	// Start and End are, for video and audio, the archived asset's times
	// at the start and end of the query.
	Start, End time.Duration
}

// Index is safe for concurrent use.
type Index struct {
	cfg Config
	// syncMu serialises reading the catalog's fingerprint log; seq is
	// the log position read up to.
	syncMu sync.Mutex
	seq    uint64
	mu     sync.RWMutex
	photos *simindex.Index // stored photo hashes (Fingerprint)
	// photoQueries holds each photo's QueryHashes, for the reverse look:
	// an archived copy with a caption bar finds its original through its
	// own query hashes, but the original finds the copy only here.
	photoQueries *simindex.Index
	frames       *simindex.Index // every frame hash of every video, by asset
	videos       map[string][]uint64
	audio        map[string][]uint32
}

// Open builds the index from every stored fingerprint.
func Open(cfg Config) (*Index, error) {
	if err := cfg.withDefaults(); err != nil {
		return nil, err
	}
	x := &Index{cfg: cfg, photos: simindex.New(), photoQueries: simindex.New(), frames: simindex.New(),
		videos: map[string][]uint64{}, audio: map[string][]uint32{}}
	start := time.Now()
	// Log position first, then everything: what is stored between the
	// two is added twice, which add makes harmless; nothing is missed.
	seq, err := cfg.Catalog.FingerprintSeq()
	if err != nil {
		return nil, fmt.Errorf("similar: build: %w", err)
	}
	x.seq = seq
	err = cfg.Catalog.EachFingerprints(func(id string, f catalog.Fingerprints) error {
		x.add(id, f)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("similar: build: %w", err)
	}
	cfg.Log.Info("similarity index built", "photo_hashes", x.photos.Len(), "videos", len(x.videos), "audio", len(x.audio), "took", time.Since(start).Round(time.Millisecond))
	return x, nil
}

// add replaces whatever id had with f.
func (x *Index) add(id string, f catalog.Fingerprints) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.photos.Remove(id)
	x.photoQueries.Remove(id)
	x.frames.Remove(id)
	delete(x.videos, id)
	delete(x.audio, id)
	if len(f.Photo) > 0 {
		x.photos.Add(id, f.Photo...)
	}
	if len(f.PhotoQuery) > 0 {
		x.photoQueries.Add(id, f.PhotoQuery...)
	}
	if len(f.Video) > 0 {
		x.frames.Add(id, f.Video...)
		x.videos[id] = f.Video
	}
	if len(f.Audio) > 0 {
		x.audio[id] = f.Audio
	}
}

// sync takes in the fingerprints stored since the last lookup.
func (x *Index) sync() error {
	x.syncMu.Lock()
	defer x.syncMu.Unlock()
	fresh, seq, err := x.cfg.Catalog.FingerprintsSince(x.seq)
	if err != nil {
		return fmt.Errorf("similar: %w", err)
	}
	x.seq = seq
	for id, f := range fresh {
		x.add(id, f)
	}
	return nil
}

// Photos returns the archived photos near a picture whose
// transcode.QueryHashes are query, nearest first.
func (x *Index) Photos(query []uint64) ([]Match, error) {
	if err := x.sync(); err != nil {
		return nil, err
	}
	x.mu.RLock()
	ms := x.photos.SearchAny(query, transcode.SimilarDistance)
	x.mu.RUnlock()
	return x.photoMatches(ms, ""), nil
}

func (x *Index) photoMatches(ms []simindex.Match, self string) []Match {
	out := make([]Match, 0, len(ms))
	for _, m := range ms {
		if m.ID != self {
			out = append(out, Match{AssetID: m.ID, Distance: m.Dist, Score: 1 - float64(m.Dist)/64})
		}
	}
	return x.top(out)
}

// Videos returns the archived videos of which a clip with these frame
// hashes (transcode.VideoHashes) is an excerpt, best first. A sample of
// the query's frames is looked up in the frame index to find candidates,
// so only videos sharing at least one frame are matched in full.
func (x *Index) Videos(query []uint64) ([]Match, error) {
	if err := x.sync(); err != nil {
		return nil, err
	}
	return x.videoMatches(query, ""), nil
}

func (x *Index) videoMatches(query []uint64, self string) []Match {
	if len(query) == 0 {
		return nil
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	step := max(1, len(query)/x.cfg.VideoSamples)
	seen := map[string]bool{}
	for i := 0; i < len(query); i += step {
		for _, m := range x.frames.Search(query[i], transcode.FrameMatchDistance) {
			seen[m.ID] = true
		}
	}
	var out []Match
	span := time.Duration(len(query)) * transcode.VideoHashInterval
	for id := range seen {
		if id == self {
			continue
		}
		sm := transcode.MatchSequences(query, x.videos[id])
		if sm.Score >= 0.5 {
			out = append(out, Match{AssetID: id, Score: sm.Score, Start: sm.Offset, End: sm.Offset + span})
		}
	}
	return x.top(out)
}

// Audio returns the archived audio (and videos' sound, when stored) of
// which a recording with this Chromaprint fingerprint is an excerpt. It
// scans every stored fingerprint: a 20-second query (160 items) is
// compared at each of the 28,800 offsets of an archived hour, 3.3 ms an
// hour on one core (measured), so a fonoteca (and the videos' sound) of up
// to about 300 hours answers within a second; past that it needs an index
// of its own, like the videos' frame index.
func (x *Index) Audio(query []uint32) ([]Match, error) {
	if err := x.sync(); err != nil {
		return nil, err
	}
	return x.audioMatches(query, ""), nil
}

func (x *Index) audioMatches(query []uint32, self string) []Match {
	if len(query) == 0 {
		return nil
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	var out []Match
	span := time.Duration(len(query)) * transcode.AudioItemInterval
	for id, fp := range x.audio {
		if id == self {
			continue
		}
		if am := transcode.MatchAudio(query, fp); am.Matches() {
			out = append(out, Match{AssetID: id, Score: 1 - am.BitErrors, Start: am.Offset, End: am.Offset + span})
		}
	}
	return x.top(out)
}

// OfAsset returns the near-duplicates of an archived asset, from its
// stored fingerprints, itself left out; none when it has no fingerprints.
func (x *Index) OfAsset(id string) ([]Match, error) {
	if err := x.sync(); err != nil {
		return nil, err
	}
	f, err := x.cfg.Catalog.Fingerprints(id)
	if errors.Is(err, catalog.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	switch {
	case len(f.Photo) > 0:
		x.mu.RLock()
		ms := append(x.photos.SearchAny(f.PhotoQuery, transcode.SimilarDistance),
			x.photoQueries.SearchAny(f.Photo, transcode.SimilarDistance)...)
		x.mu.RUnlock()
		// Nearest of the two looks per asset.
		slices.SortFunc(ms, func(a, b simindex.Match) int { return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.Dist, b.Dist)) })
		ms = slices.CompactFunc(ms, func(a, b simindex.Match) bool { return a.ID == b.ID })
		return x.photoMatches(ms, id), nil
	case len(f.Video) > 0:
		return x.windowed(id, f.Video, func(q []uint64) []Match { return x.videoMatches(q, id) }, f.Audio), nil
	case len(f.Audio) > 0:
		return x.windowed(id, nil, nil, f.Audio), nil
	}
	return nil, nil
}

// ofAssetWindows is how many stretches of an archived video or audio are
// looked up to find its near-duplicates, each ofAssetWindow long, spread
// over its length: matching the whole of an hour against every candidate
// would cost seconds, and any shared stretch of 20 s shows up in one of
// three unless the other asset is a short excerpt between them.
const (
	ofAssetWindows = 3
	ofAssetWindow  = 20 * time.Second
)

// windowed finds the near-duplicates of a video (frames, with match) and
// of its sound, or of an audio (sound only), from ofAssetWindows stretches
// of it, keeping each other asset's best. Start and End are then the
// stretch's place in the other asset.
func (x *Index) windowed(self string, frames []uint64, match func([]uint64) []Match, sound []uint32) []Match {
	best := map[string]Match{}
	keep := func(ms []Match) {
		for _, m := range ms {
			if m.AssetID != self && m.Score > best[m.AssetID].Score {
				best[m.AssetID] = m
			}
		}
	}
	for _, w := range windows(len(frames), int(ofAssetWindow/transcode.VideoHashInterval)) {
		keep(match(frames[w[0]:w[1]]))
	}
	for _, w := range windows(len(sound), int(ofAssetWindow/transcode.AudioItemInterval)) {
		keep(x.audioMatches(sound[w[0]:w[1]], self))
	}
	out := make([]Match, 0, len(best))
	for _, m := range best {
		out = append(out, m)
	}
	return x.top(out)
}

// windows returns up to ofAssetWindows [start, end) ranges of size
// items spread evenly over n (one range of all n when n is shorter).
func windows(n, size int) [][2]int {
	if n == 0 {
		return nil
	}
	if n <= size {
		return [][2]int{{0, n}}
	}
	var out [][2]int
	for i := range ofAssetWindows {
		start := (n - size) * i / (ofAssetWindows - 1)
		if len(out) == 0 || out[len(out)-1][0] != start {
			out = append(out, [2]int{start, start + size})
		}
	}
	return out
}

// top sorts best first (ties by id, for stable answers) and keeps MaxResults.
func (x *Index) top(ms []Match) []Match {
	slices.SortFunc(ms, func(a, b Match) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.AssetID, b.AssetID))
	})
	if len(ms) > x.cfg.MaxResults {
		ms = ms[:x.cfg.MaxResults]
	}
	return ms
}
