package catalog

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Person is someone assets show. Role is the person's post (cargo), e.g.
// "Presidenta municipal". Aliases are other names the person goes by in
// files and uploads ("Lupita Pérez"); name and aliases are all unique across
// people under foldName, so a name never matches two people.
type Person struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Role      string    `json:"role,omitempty"`
	Aliases   []string  `json:"aliases"`
	CreatedAt time.Time `json:"created_at"`
}

// PersonFields creates or changes a person: nil fields are left as they are
// (on create: empty); Aliases replaces the list. Name is required on create.
type PersonFields struct {
	Name, Role *string
	Aliases    *[]string
}

const maxAliases = 50

// People lists every person by name.
func (c *Catalog) People() ([]Person, error) {
	out := []Person{}
	err := c.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bPeople).ForEach(func(_, v []byte) error {
			var p Person
			if err := json.Unmarshal(v, &p); err != nil {
				return err
			}
			out = append(out, p.withDefaults())
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: people: %w", err)
	}
	slices.SortFunc(out, func(a, b Person) int { return strings.Compare(foldName(a.Name), foldName(b.Name)) })
	return out, nil
}

// Person returns the person with id, or ErrNotFound.
func (c *Catalog) Person(id string) (Person, error) {
	var p Person
	err := c.db.View(func(tx *bolt.Tx) error { return getJSON(tx.Bucket(bPeople), []byte(id), &p) })
	if err != nil {
		return Person{}, fmt.Errorf("catalog: person %s: %w", id, err)
	}
	return p.withDefaults(), nil
}

// CreatePerson adds a person. Errors: ErrInvalid, ErrExists (the name or an
// alias is another person's name or alias).
func (c *Catalog) CreatePerson(by Actor, f PersonFields) (Person, error) {
	if f.Name == nil {
		return Person{}, fmt.Errorf("catalog: create person: %w: la persona necesita un nombre / name is required", ErrInvalid)
	}
	now := c.now().UTC()
	p := Person{ID: NewID(now), Aliases: []string{}, CreatedAt: now}
	err := c.update(func(tx *bolt.Tx) error {
		if err := p.apply(f); err != nil {
			return err
		}
		for _, n := range p.names() {
			if err := claimName(tx, bPeopleByName, p.ID, "person", n); err != nil {
				return err
			}
		}
		return c.putAudited(tx, bPeople, []byte(p.ID), p, by, AuditEntry{Action: AuditPersonCreate, Target: p.ID, Detail: p.Name})
	})
	if err != nil {
		return Person{}, fmt.Errorf("catalog: create person: %w", err)
	}
	return p, nil
}

// UpdatePerson changes a person; a new name is rewritten into the refs of
// the assets that show the person, which are reindexed.
func (c *Catalog) UpdatePerson(by Actor, id string, f PersonFields) (Person, error) {
	var p Person
	err := c.update(func(tx *bolt.Tx) error {
		if err := getJSON(tx.Bucket(bPeople), []byte(id), &p); err != nil {
			return err
		}
		oldName, oldNames := p.Name, p.names()
		if err := p.apply(f); err != nil {
			return err
		}
		for _, n := range oldNames {
			if err := releaseName(tx, bPeopleByName, id, n); err != nil {
				return err
			}
		}
		for _, n := range p.names() {
			if err := claimName(tx, bPeopleByName, id, "person", n); err != nil {
				return err
			}
		}
		if p.Name != oldName {
			if _, err := rewriteRefs(tx, id, p.Name, false); err != nil {
				return err
			}
		}
		return c.putAudited(tx, bPeople, []byte(id), p, by, AuditEntry{Action: AuditPersonUpdate, Target: id, Detail: p.Name})
	})
	if err != nil {
		return Person{}, fmt.Errorf("catalog: update person %s: %w", id, err)
	}
	return p.withDefaults(), nil
}

// DeletePerson removes a person. When assets show them, it fails with
// ErrExists unless force, which removes the person from those assets.
func (c *Catalog) DeletePerson(by Actor, id string, force bool) error {
	err := c.update(func(tx *bolt.Tx) error {
		var p Person
		if err := getJSON(tx.Bucket(bPeople), []byte(id), &p); err != nil {
			return err
		}
		if err := deleteEntry(tx, bPeople, bPeopleByName, id, p.names(), force); err != nil {
			return err
		}
		return c.audit(tx, by, AuditEntry{Action: AuditPersonDelete, Target: id, Detail: p.Name})
	})
	if err != nil {
		return fmt.Errorf("catalog: delete person %s: %w", id, err)
	}
	return nil
}

func (p Person) names() []string { return append([]string{p.Name}, p.Aliases...) }

func (p Person) withDefaults() Person {
	if p.Aliases == nil {
		p.Aliases = []string{}
	}
	return p
}

func (p *Person) apply(f PersonFields) error {
	if f.Name != nil {
		name, err := cleanName("person", *f.Name)
		if err != nil {
			return err
		}
		p.Name = name
	}
	if f.Role != nil {
		p.Role = cleanText(*f.Role, maxNameBytes)
	}
	if f.Aliases != nil {
		if len(*f.Aliases) > maxAliases {
			return fmt.Errorf("%w: como máximo %d alias / at most %d aliases", ErrInvalid, maxAliases, maxAliases)
		}
		p.Aliases = []string{}
		seen := map[string]bool{foldName(p.Name): true}
		for _, a := range *f.Aliases {
			a, err := cleanName("alias", a)
			if err != nil {
				return err
			}
			if k := foldName(a); !seen[k] {
				seen[k] = true
				p.Aliases = append(p.Aliases, a)
			}
		}
	}
	// A rename onto one of the person's own aliases drops that alias.
	p.Aliases = slices.DeleteFunc(p.Aliases, func(a string) bool { return foldName(a) == foldName(p.Name) })
	return nil
}
