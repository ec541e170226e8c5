package catalog

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Asset kinds and statuses.
const (
	KindPhoto    = "photo"
	KindVideo    = "video"
	KindAudio    = "audio"
	KindDocument = "document"

	StatusProcessing = "processing"
	StatusReady      = "ready"
	StatusFailed     = "failed"
)

// Ref names a vocabulary entry (an event, a person) from an asset.
type Ref struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// GPS is a position in decimal degrees (WGS 84).
type GPS struct {
	Lat float64  `json:"lat"`
	Lon float64  `json:"lon"`
	Alt *float64 `json:"alt,omitempty"`
}

// Rendition is a derived file of an asset, stored under DerivedKey(id, name).
type Rendition struct {
	Width  int    `json:"width,omitempty"`
	Height int    `json:"height,omitempty"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"` // the strong ETag
	MIME   string `json:"mime"`
}

// MediaInfo is the technical metadata of video, audio and documents, as
// ffprobe, the EBU R128 meter and pdfinfo report it.
type MediaInfo struct {
	Container    string   `json:"container,omitempty"`   // ffprobe format name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
	VideoCodec   string   `json:"video_codec,omitempty"` // e.g. "h264", "hevc"
	AudioCodec   string   `json:"audio_codec,omitempty"` // e.g. "aac", "opus"
	FrameRate    float64  `json:"frame_rate,omitempty"`  // frames per second
	Bitrate      int64    `json:"bitrate,omitempty"`     // bits per second, whole file
	Channels     int      `json:"audio_channels,omitempty"`
	SampleRate   int      `json:"sample_rate,omitempty"`
	Interlaced   bool     `json:"interlaced,omitempty"`
	Rotation     int      `json:"rotation,omitempty"`      // degrees the display applies
	LoudnessLUFS *float64 `json:"loudness_lufs,omitempty"` // integrated loudness, EBU R128
	Pages        int      `json:"pages,omitempty"`         // documents
}

// Asset is one original and everything known about it. Its JSON is the
// storage format; the server shapes the API view from it.
type Asset struct {
	ID         string               `json:"id"`
	Kind       string               `json:"kind"`
	Status     string               `json:"status"`
	Error      string               `json:"error,omitempty"`
	Filename   string               `json:"filename"`
	Size       int64                `json:"size"`
	SHA256     string               `json:"sha256"`
	MIME       string               `json:"mime"`
	CapturedAt *time.Time           `json:"captured_at,omitempty"`
	UploadedAt time.Time            `json:"uploaded_at"`
	UploadedBy string               `json:"uploaded_by"` // user id
	Event      *Ref                 `json:"event,omitempty"`
	People     []Ref                `json:"people,omitempty"`
	Tags       []string             `json:"tags,omitempty"`
	Title      string               `json:"title,omitempty"`
	Caption    string               `json:"caption,omitempty"`
	Credit     string               `json:"credit,omitempty"`
	Creator    string               `json:"creator,omitempty"`
	Copyright  string               `json:"copyright,omitempty"`
	Place      string               `json:"place,omitempty"`
	Rating     int                  `json:"rating,omitempty"` // xmp:Rating 1..5; Creator, Copyright, Place (city/location) also come from IPTC/XMP
	Width      int                  `json:"width,omitempty"`
	Height     int                  `json:"height,omitempty"`
	Duration   float64              `json:"duration,omitempty"`
	Camera     string               `json:"camera,omitempty"`
	GPS        *GPS                 `json:"gps,omitempty"`
	Media      *MediaInfo           `json:"media,omitempty"`
	Renditions map[string]Rendition `json:"renditions,omitempty"`
	Text       string               `json:"text,omitempty"` // a document's words (text layer or OCR) for the index; not in the API view
	// JobIDs are the jobs that process this asset; it is ready when all are done.
	JobIDs []string `json:"job_ids,omitempty"`
	// TrashedAt marks an asset in the trash: out of search, collections and
	// share links, seen only by editors, restorable. Its files stay.
	TrashedAt *time.Time `json:"trashed_at,omitempty"`
	TrashedBy string     `json:"trashed_by,omitempty"`
}

// AddBlobIntent records, durably, that the blob with this SHA-256 is about
// to be committed to storage. If the process dies before CreateAsset, the
// recovery at start finds the intent and removes the unreferenced blob.
func (c *Catalog) AddBlobIntent(sha string) error {
	return c.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bBlobIntents).Put([]byte(sha), []byte(c.now().UTC().Format(time.RFC3339)))
	})
}

// OrphanBlobIntents returns the intents whose blob no asset references.
// The caller deletes those blobs, then calls ClearBlobIntents.
func (c *Catalog) OrphanBlobIntents() (orphans []string, err error) {
	err = c.db.View(func(tx *bolt.Tx) error {
		bySHA := tx.Bucket(bAssetsBySHA)
		return tx.Bucket(bBlobIntents).ForEach(func(k, _ []byte) error {
			if bySHA.Get(k) == nil {
				orphans = append(orphans, string(k))
			}
			return nil
		})
	})
	return orphans, err
}

// ClearBlobIntents forgets intents, once their blobs are referenced or deleted.
func (c *Catalog) ClearBlobIntents(shas ...string) error {
	return c.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bBlobIntents)
		for _, s := range shas {
			if err := b.Delete([]byte(s)); err != nil {
				return err
			}
		}
		return nil
	})
}

// ClearAllBlobIntents forgets every intent; only Recover calls it, when no
// upload is in flight.
func (c *Catalog) ClearAllBlobIntents() error {
	return c.update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bBlobIntents); err != nil {
			return err
		}
		_, err := tx.CreateBucket(bBlobIntents)
		return err
	})
}

// Referenced reports whether an asset holds the blob with this SHA-256.
func (c *Catalog) Referenced(sha string) (bool, error) {
	found := false
	err := c.db.View(func(tx *bolt.Tx) error { found = tx.Bucket(bAssetsBySHA).Get([]byte(sha)) != nil; return nil })
	return found, err
}

// NewAsset is what an upload knows before processing.
type NewAsset struct {
	Kind, Filename, SHA256, MIME string
	Size                         int64
	UploadedBy                   string
	ClientIP                     string   // for the audit trail
	Event                        string   // event name, created if new
	People                       []string // person names, created if new
	Tags                         []string
	Title, Caption, Credit       string
	// OCR asks for the text of a photographed or scanned clipping to be
	// read (and searchable); only photos honour it.
	OCR bool
	// Jobs are the kinds of the first jobs to run, committed with the asset.
	Jobs []string
}

// CreateAsset commits a new asset, its first jobs and the vocabulary it
// names in one transaction, and clears the blob's intent. If an asset with
// the same bytes exists, it returns that one and duplicate true instead.
func (c *Catalog) CreateAsset(n NewAsset) (a Asset, duplicate bool, err error) {
	now := c.now().UTC()
	err = c.update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bBlobIntents).Delete([]byte(n.SHA256)); err != nil {
			return err
		}
		if id := tx.Bucket(bAssetsBySHA).Get([]byte(n.SHA256)); id != nil {
			duplicate = true
			return getJSON(tx.Bucket(bAssets), id, &a)
		}
		a = Asset{
			ID: NewID(now), Kind: n.Kind, Status: StatusProcessing, Filename: n.Filename, Size: n.Size,
			SHA256: n.SHA256, MIME: n.MIME, UploadedAt: now, UploadedBy: n.UploadedBy,
			Tags: cleanTags(n.Tags), Title: n.Title, Caption: n.Caption, Credit: n.Credit,
		}
		if strings.TrimSpace(n.Event) != "" {
			ref, err := ensureRef(tx, bEvents, bEventsByName, n.Event, now)
			if err != nil {
				return err
			}
			a.Event = &ref
		}
		for _, name := range n.People {
			if strings.TrimSpace(name) == "" {
				continue
			}
			ref, err := ensureRef(tx, bPeople, bPeopleByName, name, now)
			if err != nil {
				return err
			}
			if !slices.Contains(a.People, ref) {
				a.People = append(a.People, ref)
			}
		}
		for _, kind := range n.Jobs {
			j := Job{ID: NewID(now), Kind: kind, AssetID: a.ID, State: JobQueued, CreatedAt: now, UpdatedAt: now}
			if err := putJob(tx, j); err != nil {
				return err
			}
			if err := enqueue(tx, j); err != nil {
				return err
			}
			a.JobIDs = append(a.JobIDs, j.ID)
		}
		if len(a.JobIDs) == 0 {
			a.Status = StatusReady
		}
		if err := tx.Bucket(bAssetsBySHA).Put([]byte(a.SHA256), []byte(a.ID)); err != nil {
			return err
		}
		if err := markIndexDirty(tx, a.ID); err != nil {
			return err
		}
		if err := putJSON(tx.Bucket(bAssets), []byte(a.ID), a); err != nil {
			return err
		}
		return c.audit(tx, Actor{UserID: n.UploadedBy, IP: n.ClientIP}, AuditEntry{Action: AuditUpload, Asset: a.ID, Detail: a.Filename})
	})
	if err != nil {
		return Asset{}, false, fmt.Errorf("catalog: create asset: %w", err)
	}
	return a, duplicate, nil
}

// Asset returns the asset with id.
func (c *Catalog) Asset(id string) (Asset, error) {
	var a Asset
	err := c.db.View(func(tx *bolt.Tx) error { return getJSON(tx.Bucket(bAssets), []byte(id), &a) })
	if err != nil {
		return Asset{}, fmt.Errorf("catalog: asset %s: %w", id, err)
	}
	return a, nil
}

// AssetFiles is what serving an asset's files needs, and all that the read
// behind every thumbnail, preview and original served decodes. Its
// renditions are shared with other readers: look them up, never change them.
type AssetFiles struct {
	ID, SHA256, MIME, Filename string
	// Trashed: the asset is in the trash (see Asset.TrashedAt).
	Trashed    bool
	renditions map[string]Rendition
}

// Rendition returns the derived file called name, if it is made.
func (f AssetFiles) Rendition(name string) (Rendition, bool) {
	r, ok := f.renditions[name]
	return r, ok
}

// Files returns what serving the files of asset id needs. It is as fresh as
// Asset, for a fraction of the cost: an unchanged record is not decoded
// again, nor read again while nothing was written (decoded.go).
func (c *Catalog) Files(id string) (AssetFiles, error) {
	writes := c.writes.Load()
	f, ok := c.files.fresh(id, writes)
	if ok {
		return f, nil
	}
	err := c.db.View(func(tx *bolt.Tx) (err error) {
		f, err = getCached(c.files, tx.Bucket(bAssets), []byte(id), writes, decodeAssetFiles)
		return err
	})
	if err != nil {
		return AssetFiles{}, fmt.Errorf("catalog: asset %s: %w", id, err)
	}
	return f, nil
}

// decodeAssetFiles decodes only the fields of an asset record that
// AssetFiles holds; encoding/json skips the rest.
func decodeAssetFiles(raw []byte) (AssetFiles, error) {
	var a struct {
		ID         string               `json:"id"`
		SHA256     string               `json:"sha256"`
		MIME       string               `json:"mime"`
		Filename   string               `json:"filename"`
		Renditions map[string]Rendition `json:"renditions"`
		TrashedAt  *time.Time           `json:"trashed_at"`
	}
	if err := json.Unmarshal(raw, &a); err != nil {
		return AssetFiles{}, err
	}
	return AssetFiles{ID: a.ID, SHA256: a.SHA256, MIME: a.MIME, Filename: a.Filename,
		Trashed: a.TrashedAt != nil, renditions: a.Renditions}, nil
}

// AssetBySHA256 returns the asset holding the given bytes.
func (c *Catalog) AssetBySHA256(sha string) (Asset, error) {
	var a Asset
	err := c.db.View(func(tx *bolt.Tx) error {
		id := tx.Bucket(bAssetsBySHA).Get([]byte(sha))
		if id == nil {
			return ErrNotFound
		}
		return getJSON(tx.Bucket(bAssets), id, &a)
	})
	if err != nil {
		return Asset{}, fmt.Errorf("catalog: asset sha256 %s: %w", sha, err)
	}
	return a, nil
}

// EachAsset calls fn for every asset in id order, inside one read
// transaction: fn must not call back into the catalog's write methods.
func (c *Catalog) EachAsset(fn func(Asset) error) error {
	return c.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bAssets).ForEach(func(_, v []byte) error {
			var a Asset
			if err := json.Unmarshal(v, &a); err != nil {
				return err
			}
			return fn(a)
		})
	})
}

func cleanTags(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range in {
		t = strings.TrimSpace(t)
		if t == "" || len(t) > 100 || seen[strings.ToLower(t)] {
			continue
		}
		seen[strings.ToLower(t)] = true
		out = append(out, t)
	}
	return out
}
