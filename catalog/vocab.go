package catalog

import (
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Vocabularies: events and people that assets refer to. The search issue
// grows them (dates, places, aliases, accent-insensitive matching); for now
// an upload naming an event or person finds it by name or creates it.
var (
	bEvents       = []byte("events")
	bEventsByName = []byte("events_by_name")
	bPeople       = []byte("people")
	bPeopleByName = []byte("people_by_name")
)

type vocabEntry struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

func ensureRef(tx *bolt.Tx, items, byName []byte, name string, now time.Time) (Ref, error) {
	name = strings.Join(strings.Fields(name), " ")
	if len(name) > 200 {
		return Ref{}, fmt.Errorf("%w: name longer than 200 bytes", ErrInvalid)
	}
	key := []byte(strings.ToLower(name))
	if id := tx.Bucket(byName).Get(key); id != nil {
		var e vocabEntry
		if err := getJSON(tx.Bucket(items), id, &e); err != nil {
			return Ref{}, err
		}
		return Ref{ID: e.ID, Name: e.Name}, nil
	}
	e := vocabEntry{ID: NewID(now), Name: name, CreatedAt: now}
	if err := tx.Bucket(byName).Put(key, []byte(e.ID)); err != nil {
		return Ref{}, err
	}
	return Ref{ID: e.ID, Name: e.Name}, putJSON(tx.Bucket(items), []byte(e.ID), e)
}
