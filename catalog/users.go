package catalog

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/argon2"
)

// Roles, from most to least powerful.
const (
	RoleAdmin       = "admin"
	RoleEditor      = "editor"
	RoleContributor = "contributor"
	RoleViewer      = "viewer"
)

var roleRank = map[string]int{RoleViewer: 1, RoleContributor: 2, RoleEditor: 3, RoleAdmin: 4}

// ValidRole reports whether r is one of the four roles.
func ValidRole(r string) bool { return roleRank[r] > 0 }

// User is an account. PasswordHash is never sent to clients.
type User struct {
	ID           string    `json:"id"`
	Username     string    `json:"username"`
	Name         string    `json:"name"`
	Role         string    `json:"role"`
	Area         string    `json:"area,omitempty"`
	Disabled     bool      `json:"disabled,omitempty"`
	PasswordHash string    `json:"password_hash"`
	CreatedAt    time.Time `json:"created_at"`
}

// Can reports whether the user's role is at least role.
func (u User) Can(role string) bool { return !u.Disabled && roleRank[u.Role] >= roleRank[role] }

// Argon2id parameters: OWASP's minimum (19 MiB, t=2, p=1) rounded up.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword returns an Argon2id hash in the PHC string format.
func HashPassword(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches a hash from HashPassword,
// in constant time for a given hash.
func CheckPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m > 1<<20 || t > 16 || p == 0 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// DummyPasswordCheck spends the time of one real check, so a login for an
// unknown user takes as long as one with a wrong password.
func DummyPasswordCheck(password string) {
	argon2.IDKey([]byte(password), make([]byte, 16), argonTime, argonMemory, argonThreads, argonKeyLen)
}

// NewUser describes an account to create.
type NewUser struct {
	Username, Password, Role, Name, Area string
	// By is who creates the account (the audit trail); zero for the system.
	By Actor
}

// CreateUser adds an account. Usernames are unique, case-insensitively.
func (c *Catalog) CreateUser(n NewUser) (User, error) {
	n.Username = strings.TrimSpace(n.Username)
	if n.Username == "" || len(n.Username) > 64 || strings.ContainsAny(n.Username, " \t\r\n/") {
		return User{}, fmt.Errorf("%w: el usuario debe tener de 1 a 64 caracteres sin espacios / username must be 1–64 characters without spaces", ErrInvalid)
	}
	if !ValidRole(n.Role) {
		return User{}, fmt.Errorf("%w: rol desconocido %q / unknown role", ErrInvalid, n.Role)
	}
	if len(n.Password) < 10 {
		return User{}, fmt.Errorf("%w: la contraseña necesita al menos 10 caracteres / password must have at least 10 characters", ErrInvalid)
	}
	hash, err := HashPassword(n.Password)
	if err != nil {
		return User{}, err
	}
	now := c.now().UTC()
	u := User{ID: NewID(now), Username: n.Username, Name: n.Name, Role: n.Role, Area: n.Area, PasswordHash: hash, CreatedAt: now}
	if u.Name == "" {
		u.Name = u.Username
	}
	err = c.update(func(tx *bolt.Tx) error {
		names := tx.Bucket(bUsersByName)
		key := []byte(strings.ToLower(u.Username))
		if names.Get(key) != nil {
			return fmt.Errorf("%w: el usuario %q ya existe / user already exists", ErrExists, u.Username)
		}
		if err := names.Put(key, []byte(u.ID)); err != nil {
			return err
		}
		return c.putAudited(tx, bUsers, []byte(u.ID), u, n.By, AuditEntry{Action: AuditUserCreate, Target: u.ID, Detail: u.Username + " (" + u.Role + ")"})
	})
	return u, err
}

// User returns the account with id.
func (c *Catalog) User(id string) (User, error) {
	var u User
	err := c.db.View(func(tx *bolt.Tx) error { return getJSON(tx.Bucket(bUsers), []byte(id), &u) })
	if err != nil {
		return User{}, fmt.Errorf("catalog: user %s: %w", id, err)
	}
	return u, nil
}

// UserByName returns the account with username, case-insensitively.
func (c *Catalog) UserByName(username string) (User, error) {
	var u User
	err := c.db.View(func(tx *bolt.Tx) error {
		id := tx.Bucket(bUsersByName).Get([]byte(strings.ToLower(username)))
		if id == nil {
			return ErrNotFound
		}
		return getJSON(tx.Bucket(bUsers), id, &u)
	})
	if err != nil {
		return User{}, fmt.Errorf("catalog: user %q: %w", username, err)
	}
	return u, nil
}

// CountUsers returns how many accounts exist; zero means first start.
func (c *Catalog) CountUsers() (int, error) {
	n := 0
	err := c.db.View(func(tx *bolt.Tx) error { n = tx.Bucket(bUsers).Stats().KeyN; return nil })
	return n, err
}

// SetPassword replaces a user's password and ends all their sessions.
func (c *Catalog) SetPassword(by Actor, username, password string) error {
	u, err := c.UserByName(username)
	if err != nil {
		return err
	}
	_, err = c.UpdateUser(by, u.ID, UserUpdate{Password: &password})
	return err
}

// Users lists every account, oldest first.
func (c *Catalog) Users() ([]User, error) {
	out := []User{}
	err := c.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bUsers).ForEach(func(_, v []byte) error {
			var u User
			if err := json.Unmarshal(v, &u); err != nil {
				return err
			}
			out = append(out, u)
			return nil
		})
	})
	return out, err
}

// UserUpdate changes an account; nil fields are left alone.
type UserUpdate struct {
	Name, Area, Role *string
	Disabled         *bool
	Password         *string
}

// UpdateUser changes an account. A new password, a disable or a role change
// ends the user's sessions (they sign in again with what they may now do).
// The last enabled admin can't be demoted or disabled: ErrInvalid.
func (c *Catalog) UpdateUser(by Actor, id string, up UserUpdate) (User, error) {
	var hash string
	if up.Password != nil {
		if len(*up.Password) < 10 {
			return User{}, fmt.Errorf("%w: la contraseña necesita al menos 10 caracteres / password must have at least 10 characters", ErrInvalid)
		}
		var err error
		if hash, err = HashPassword(*up.Password); err != nil {
			return User{}, err
		}
	}
	if up.Role != nil && !ValidRole(*up.Role) {
		return User{}, fmt.Errorf("%w: rol desconocido %q / unknown role", ErrInvalid, *up.Role)
	}
	var u User
	err := c.update(func(tx *bolt.Tx) error {
		if err := getJSON(tx.Bucket(bUsers), []byte(id), &u); err != nil {
			return err
		}
		wasAdmin := u.Can(RoleAdmin)
		var changes []string
		endSessions := false
		if up.Name != nil && strings.TrimSpace(*up.Name) != u.Name {
			u.Name = strings.TrimSpace(*up.Name)
			changes = append(changes, "name")
		}
		if up.Area != nil && strings.TrimSpace(*up.Area) != u.Area {
			u.Area = strings.TrimSpace(*up.Area)
			changes = append(changes, "area: "+u.Area)
		}
		if up.Role != nil && *up.Role != u.Role {
			changes = append(changes, "role: "+u.Role+" → "+*up.Role)
			u.Role, endSessions = *up.Role, true
		}
		if up.Disabled != nil && *up.Disabled != u.Disabled {
			u.Disabled = *up.Disabled
			changes = append(changes, map[bool]string{true: "disabled", false: "enabled"}[u.Disabled])
			endSessions = endSessions || u.Disabled
		}
		action := AuditUserUpdate
		if hash != "" {
			u.PasswordHash, endSessions = hash, true
			if len(changes) == 0 {
				action = AuditUserPassword
			}
			changes = append(changes, "password")
		}
		if wasAdmin && !u.Can(RoleAdmin) {
			n, err := enabledAdmins(tx)
			if err != nil {
				return err
			}
			if n <= 1 {
				return fmt.Errorf("%w: el último administrador activo no puede perder su rol ni desactivarse / the last enabled admin can't be demoted or disabled", ErrInvalid)
			}
		}
		if len(changes) == 0 {
			return nil
		}
		if err := putJSON(tx.Bucket(bUsers), []byte(id), u); err != nil {
			return err
		}
		if endSessions {
			if err := deleteSessionsOf(tx, u.ID); err != nil {
				return err
			}
		}
		return c.audit(tx, by, AuditEntry{Action: action, Target: u.ID, Detail: u.Username + ": " + strings.Join(changes, ", ")})
	})
	if err != nil {
		return User{}, fmt.Errorf("catalog: update user %s: %w", id, err)
	}
	return u, nil
}

func enabledAdmins(tx *bolt.Tx) (int, error) {
	n := 0
	err := tx.Bucket(bUsers).ForEach(func(_, v []byte) error {
		var u User
		if err := json.Unmarshal(v, &u); err != nil {
			return err
		}
		if u.Can(RoleAdmin) {
			n++
		}
		return nil
	})
	return n, err
}

// RevokeSessions signs a user out of every browser.
func (c *Catalog) RevokeSessions(by Actor, userID string) error {
	return c.update(func(tx *bolt.Tx) error {
		var u User
		if err := getJSON(tx.Bucket(bUsers), []byte(userID), &u); err != nil {
			return fmt.Errorf("catalog: user %s: %w", userID, err)
		}
		if err := deleteSessionsOf(tx, userID); err != nil {
			return err
		}
		return c.audit(tx, by, AuditEntry{Action: AuditUserSessions, Target: userID, Detail: u.Username})
	})
}
