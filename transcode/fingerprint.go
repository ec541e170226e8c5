package transcode

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/storage"
)

// JobFingerprint makes the fingerprints of an asset processed before
// fingerprints existed; main queues one per such asset once
// (catalog.QueueFingerprintBackfill). New assets get theirs from their
// photo, video or audio job.
const JobFingerprint = "fingerprint"

// fingerprint makes the fingerprints of what a job just rendered: a
// photo's from its preview (our own JPEG, decoded in process), a video's
// frame hashes from its proxy (smaller to decode than the original, same
// pictures), an audio's Chromaprint from the original. Fingerprints are
// an extra: when they fail the job still succeeds, logged, and the asset
// is simply not found by /verify's similar search.
func (p *Pool) fingerprint(ctx context.Context, job catalog.Job, src string, rs []Rendition) catalog.Fingerprints {
	var (
		f   catalog.Fingerprints
		err error
	)
	path := func(name string) string {
		for _, r := range rs {
			if r.Name == name {
				return r.Path
			}
		}
		return src
	}
	switch job.Kind {
	case JobPhoto:
		f, err = PhotoFingerprints(path("preview.jpg"))
	case JobVideo:
		f.Video, err = VideoHashes(ctx, p.cfg.AV, path("proxy.mp4"))
		// The sound too, so a radio clip of a press conference finds its
		// video; a video without sound has none, which is no failure. A
		// "video" that turned out to be sound only has just this.
		audio, aerr := AudioFingerprint(ctx, p.cfg.AV, src)
		if aerr == nil {
			f.Audio = audio
		}
		if err != nil && aerr == nil {
			err = nil
		}
	case JobAudio:
		f.Audio, err = AudioFingerprint(ctx, p.cfg.AV, src)
	}
	if err != nil && ctx.Err() == nil {
		p.cfg.Log.Warn("fingerprint failed; the asset will not be found as similar", "job", job.ID, "asset", job.AssetID, "err", err)
	}
	return f
}

// backfill is a JobFingerprint: the fingerprints of a ready asset from its
// stored preview (photos) or original (video, audio).
func (p *Pool) backfill(ctx context.Context, a catalog.Asset, scratch string) (func(*catalog.Asset, *catalog.Vocab) error, error) {
	var (
		f   catalog.Fingerprints
		err error
	)
	switch a.Kind {
	case catalog.KindPhoto:
		var prev string
		if prev, err = p.localDerived(ctx, a.ID, "preview.jpg", scratch); err == nil {
			f, err = PhotoFingerprints(prev)
		}
	case catalog.KindVideo, catalog.KindAudio:
		var src string
		if src, err = p.localOriginal(ctx, a, scratch); err != nil {
			return nil, err
		}
		var aerr error
		f.Audio, aerr = AudioFingerprint(ctx, p.cfg.AV, src)
		if a.Kind == catalog.KindVideo {
			f.Video, err = VideoHashes(ctx, p.cfg.AV, src)
		} else {
			err = aerr
		}
	default:
		return nil, &kindError{kind: ErrUnsupported, msg: "no fingerprint for " + a.Kind}
	}
	if err != nil {
		return nil, err
	}
	return func(a *catalog.Asset, v *catalog.Vocab) error { return v.PutFingerprints(a.ID, f) }, nil
}

// localDerived returns a file path of a stored rendition, copied into
// scratch when the store is not on local disk.
func (p *Pool) localDerived(ctx context.Context, assetID, name, scratch string) (string, error) {
	key, err := storage.DerivedKey(assetID, name)
	if err != nil {
		return "", err
	}
	if lp, ok := p.store.(storage.LocalPather); ok {
		return lp.LocalPath(key)
	}
	obj, err := p.store.Open(ctx, key)
	if err != nil {
		return "", fmt.Errorf("transcode: %s of %s: %w", name, assetID, err)
	}
	defer obj.Close()
	path := filepath.Join(scratch, name)
	out, err := os.Create(path)
	if err != nil {
		return "", err
	}
	if _, err := out.ReadFrom(obj); err != nil {
		out.Close()
		return "", err
	}
	return path, out.Close()
}
