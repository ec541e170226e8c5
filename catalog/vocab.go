package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/text/unicode/norm"
)

// Vocabularies: events and people that assets refer to, and the tags they
// carry. Assets store a Ref (id and name) so a read needs no join; renaming
// an entry rewrites the refs of its assets in the same transaction and
// marks them for reindexing (see rewriteRefs).
//
// Names are unique under foldName (case, accents and spacing folded, ñ kept
// apart from n): "Inauguración del Parque" and "inauguracion del  parque"
// are one event. The *_by_name buckets map folded names (and, for people,
// folded aliases) to ids.
var (
	bEvents       = []byte("events")         // event id → Event
	bEventsByName = []byte("events_by_name") // foldName(name) → event id
	bPeople       = []byte("people")         // person id → Person
	bPeopleByName = []byte("people_by_name") // foldName(name or alias) → person id
)

// maxNameBytes bounds vocabulary names, aliases and tags.
const maxNameBytes = 200

// foldName is the key names are unique under: NFC, lower case, accents
// removed except the tilde of ñ (año is not ano), whitespace collapsed.
func foldName(s string) string {
	var b strings.Builder
	for _, r := range norm.NFC.String(s) {
		r = unicode.ToLower(r)
		if r == 'ñ' {
			b.WriteRune(r)
			continue
		}
		for _, d := range norm.NFD.String(string(r)) {
			if !unicode.Is(unicode.Mn, d) {
				b.WriteRune(d)
			}
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// FoldName exposes foldName for callers that compare names the way the
// vocabularies do (tests, the search analyzer's expectations).
func FoldName(s string) string { return foldName(s) }

// cleanName returns a name as stored: NFC, control characters removed,
// whitespace collapsed. It fails with ErrInvalid when empty or too long.
func cleanName(what, s string) (string, error) {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, norm.NFC.String(s))
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "", fmt.Errorf("%w: %s: el nombre está vacío / name is empty", ErrInvalid, what)
	}
	if len(s) > maxNameBytes {
		return "", fmt.Errorf("%w: %s: el nombre pasa de %d bytes / name longer than %d bytes", ErrInvalid, what, maxNameBytes, maxNameBytes)
	}
	return s, nil
}

// claimName indexes name under id in byName. It fails with ErrExists when
// the folded name belongs to another entry.
func claimName(tx *bolt.Tx, byName []byte, id, what, name string) error {
	key := []byte(foldName(name))
	if owner := tx.Bucket(byName).Get(key); owner != nil && string(owner) != id {
		return fmt.Errorf("%w: %s %q ya existe / is already taken", ErrExists, what, name)
	}
	return tx.Bucket(byName).Put(key, []byte(id))
}

// releaseName removes name from byName if it points at id.
func releaseName(tx *bolt.Tx, byName []byte, id, name string) error {
	key := []byte(foldName(name))
	if owner := tx.Bucket(byName).Get(key); owner != nil && string(owner) == id {
		return tx.Bucket(byName).Delete(key)
	}
	return nil
}

// ensureRef finds the entry named name (or, for people, with that alias)
// accent- and case-insensitively, or creates it with just a name.
func ensureRef(tx *bolt.Tx, items, byName []byte, name string, now time.Time) (Ref, error) {
	name, err := cleanName("vocabulary", name)
	if err != nil {
		return Ref{}, err
	}
	if id := tx.Bucket(byName).Get([]byte(foldName(name))); id != nil {
		var e struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		}
		if err := getJSON(tx.Bucket(items), id, &e); err != nil {
			return Ref{}, err
		}
		return Ref{ID: e.ID, Name: e.Name}, nil
	}
	id := NewID(now)
	var entry any = Event{ID: id, Name: name, CreatedAt: now}
	if bytes.Equal(items, bPeople) {
		entry = Person{ID: id, Name: name, Aliases: []string{}, CreatedAt: now}
	}
	if err := claimName(tx, byName, id, "name", name); err != nil {
		return Ref{}, err
	}
	return Ref{ID: id, Name: name}, putJSON(tx.Bucket(items), []byte(id), entry)
}

// refByID returns the ref of an existing entry, ErrInvalid when there is
// none (a client naming an unknown id made a bad request, not a missing page).
func refByID(tx *bolt.Tx, items []byte, what, id string) (Ref, error) {
	var e struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	if err := getJSON(tx.Bucket(items), []byte(id), &e); err != nil {
		return Ref{}, fmt.Errorf("%w: no existe %s con id %q / no %s with id %q", ErrInvalid, what, id, what, id)
	}
	return Ref{ID: e.ID, Name: e.Name}, nil
}

// Vocab resolves names to vocabulary refs inside one write transaction; the
// pool's results use it to link the people and events a file names. It is
// valid only during the callback it is passed to.
type Vocab struct {
	tx  *bolt.Tx
	now time.Time
}

// Person returns the person with this name or alias (accent- and
// case-insensitively), creating one when none matches.
func (v *Vocab) Person(name string) (Ref, error) {
	return ensureRef(v.tx, bPeople, bPeopleByName, name, v.now)
}

// Event returns the event with this name, creating one when none matches.
func (v *Vocab) Event(name string) (Ref, error) {
	return ensureRef(v.tx, bEvents, bEventsByName, name, v.now)
}

// CompleteJobWith is CompleteJob for results that name vocabulary entries:
// update runs in the job's transaction with a Vocab bound to it, so an
// asset and the people its file names are committed together.
func (c *Catalog) CompleteJobWith(jobID string, update func(*Asset, *Vocab) error) error {
	err := c.finishJob(jobID, func(tx *bolt.Tx, j *Job, a *Asset) error {
		j.State, j.Error = JobDone, ""
		if update == nil {
			return nil
		}
		return update(a, &Vocab{tx: tx, now: c.now().UTC()})
	})
	if err != nil {
		return fmt.Errorf("catalog: complete job %s: %w", jobID, err)
	}
	return nil
}

// rewriteRefs changes, in every asset that refers to the entry id, the ref
// to name, or removes it when name is "". It returns how many assets refer
// to id and marks the changed ones for reindexing. With dryRun it only
// counts. Assets are scanned (vocabulary edits are rare; the 26-character
// id is looked for in the raw JSON before anything is decoded).
func rewriteRefs(tx *bolt.Tx, id, name string, dryRun bool) (int, error) {
	type change struct {
		key []byte
		a   Asset
	}
	var changes []change
	needle := []byte(`"` + id + `"`)
	err := tx.Bucket(bAssets).ForEach(func(k, v []byte) error {
		if !bytes.Contains(v, needle) {
			return nil
		}
		var a Asset
		if err := json.Unmarshal(v, &a); err != nil {
			return err
		}
		hit := false
		if a.Event != nil && a.Event.ID == id {
			hit = true
			if name == "" {
				a.Event = nil
			} else {
				a.Event.Name = name
			}
		}
		for i := 0; i < len(a.People); i++ {
			if a.People[i].ID != id {
				continue
			}
			hit = true
			if name == "" {
				a.People = slices.Delete(a.People, i, i+1)
				i--
			} else {
				a.People[i].Name = name
			}
		}
		if hit {
			changes = append(changes, change{append([]byte(nil), k...), a})
		}
		return nil
	})
	if err != nil || dryRun {
		return len(changes), err
	}
	for _, ch := range changes {
		if err := putJSON(tx.Bucket(bAssets), ch.key, ch.a); err != nil {
			return 0, err
		}
		if err := markIndexDirty(tx, ch.a.ID); err != nil {
			return 0, err
		}
	}
	return len(changes), nil
}

// RekeyVocabularies rebuilds the events_by_name and people_by_name indexes
// from the entries, under foldName. Catalogs written before names were
// folded keyed them by lower case only, so an accented name would not be
// found by its unaccented spelling (and could be created twice). It is
// idempotent and cheap (vocabularies are small); call it once at open.
// When two entries fold to the same name, the older keeps it.
func (c *Catalog) RekeyVocabularies() error {
	err := c.update(func(tx *bolt.Tx) error {
		for _, v := range []struct{ items, byName []byte }{{bEvents, bEventsByName}, {bPeople, bPeopleByName}} {
			if err := tx.DeleteBucket(v.byName); err != nil {
				return err
			}
			idx, err := tx.CreateBucket(v.byName)
			if err != nil {
				return err
			}
			err = tx.Bucket(v.items).ForEach(func(k, data []byte) error {
				var e struct {
					Name    string   `json:"name"`
					Aliases []string `json:"aliases"`
				}
				if err := json.Unmarshal(data, &e); err != nil {
					return err
				}
				for _, n := range append([]string{e.Name}, e.Aliases...) {
					key := []byte(foldName(n))
					if len(key) > 0 && idx.Get(key) == nil { // ids sort by age: the older wins
						if err := idx.Put(key, append([]byte(nil), k...)); err != nil {
							return err
						}
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: rekey vocabularies: %w", err)
	}
	return nil
}
