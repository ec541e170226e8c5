package catalog

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Session is a browser login. Only the SHA-256 of its secret is stored, so a
// copy of the database does not hand out live sessions.
type Session struct {
	UserID    string    `json:"user_id"`
	CSRFToken string    `json:"csrf_token"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Token is a bearer token for scripts, stored as the SHA-256 of its secret.
type Token struct {
	ID        string    `json:"id"`
	UserID    string    `json:"user_id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// tokenPrefix marks Acervo tokens so secret scanners and people recognise them.
const tokenPrefix = "acv_"

func newSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func secretKey(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// CreateSession logs by.UserID in for ttl and returns the secret for the
// cookie. The login is audited with the session.
func (c *Catalog) CreateSession(by Actor, ttl time.Duration) (secret string, s Session, err error) {
	now := c.now().UTC()
	secret = newSecret()
	s = Session{UserID: by.UserID, CSRFToken: newSecret(), CreatedAt: now, ExpiresAt: now.Add(ttl)}
	err = c.update(func(tx *bolt.Tx) error {
		if err := putJSON(tx.Bucket(bSessions), secretKey(secret), s); err != nil {
			return err
		}
		return c.audit(tx, by, AuditEntry{Action: AuditLogin})
	})
	return secret, s, err
}

// SessionUser resolves a cookie secret to its live session and enabled user.
func (c *Catalog) SessionUser(secret string) (Session, User, error) {
	s, u, err := withUser(c, c.sessions, bSessions, secretKey(secret), func(s Session) string { return s.UserID })
	if err == nil && (!c.now().Before(s.ExpiresAt) || u.Disabled) {
		err = ErrNotFound
	}
	if err != nil {
		return Session{}, User{}, fmt.Errorf("catalog: session: %w", err)
	}
	return s, u, nil
}

// withUser reads the record at key in bucket and the user it names, for
// every request's token or session: through the decoded caches, and
// without a read transaction when nothing was written since they last
// looked (decoded.go).
func withUser[R any](c *Catalog, cache *decodedCache[R], bucket, key []byte, userOf func(R) string) (r R, u User, err error) {
	writes := c.writes.Load()
	var ok bool
	if r, ok = cache.fresh(string(key), writes); ok {
		if u, ok = c.users.fresh(userOf(r), writes); ok {
			return r, u, nil
		}
	}
	err = c.db.View(func(tx *bolt.Tx) (err error) {
		if r, err = getCached(cache, tx.Bucket(bucket), key, writes, decodeJSON[R]); err != nil {
			return err
		}
		u, err = getCached(c.users, tx.Bucket(bUsers), []byte(userOf(r)), writes, decodeJSON[User])
		return err
	})
	return r, u, err
}

// DeleteSession logs a session out. Unknown secrets are not an error.
func (c *Catalog) DeleteSession(by Actor, secret string) error {
	return c.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bSessions)
		if b.Get(secretKey(secret)) == nil {
			return nil
		}
		if err := b.Delete(secretKey(secret)); err != nil {
			return err
		}
		return c.audit(tx, by, AuditEntry{Action: AuditLogout})
	})
}

// deleteSessionsOf ends every session of a user (password change, disable).
func deleteSessionsOf(tx *bolt.Tx, userID string) error {
	b := tx.Bucket(bSessions)
	var doomed [][]byte
	err := b.ForEach(func(k, v []byte) error {
		var s Session
		if err := json.Unmarshal(v, &s); err != nil {
			return err
		}
		if s.UserID == userID {
			doomed = append(doomed, bytes.Clone(k))
		}
		return nil
	})
	for _, k := range doomed {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return err
}

// CreateToken makes a bearer token for by.UserID. The secret is returned once.
func (c *Catalog) CreateToken(by Actor, name string) (secret string, t Token, err error) {
	userID := by.UserID
	if len(name) > 100 {
		return "", Token{}, fmt.Errorf("%w: el nombre del token es demasiado largo / token name too long", ErrInvalid)
	}
	now := c.now().UTC()
	secret = tokenPrefix + newSecret()
	t = Token{ID: NewID(now), UserID: userID, Name: name, CreatedAt: now}
	err = c.update(func(tx *bolt.Tx) error {
		key := secretKey(secret)
		if err := tx.Bucket(bTokensByID).Put([]byte(t.ID), key); err != nil {
			return err
		}
		if err := putJSON(tx.Bucket(bTokens), key, t); err != nil {
			return err
		}
		return c.audit(tx, by, AuditEntry{Action: AuditTokenCreate, Target: t.ID, Detail: name})
	})
	return secret, t, err
}

// TokenUser resolves a bearer secret to its token and enabled user.
func (c *Catalog) TokenUser(secret string) (Token, User, error) {
	t, u, err := withUser(c, c.tokens, bTokens, secretKey(secret), func(t Token) string { return t.UserID })
	if err == nil && u.Disabled {
		err = ErrNotFound
	}
	if err != nil {
		return Token{}, User{}, fmt.Errorf("catalog: token: %w", err)
	}
	return t, u, nil
}

// Tokens lists a user's tokens (never their secrets), oldest first.
func (c *Catalog) Tokens(userID string) ([]Token, error) {
	out := []Token{}
	err := c.db.View(func(tx *bolt.Tx) error {
		tokens := tx.Bucket(bTokens)
		return tx.Bucket(bTokensByID).ForEach(func(id, key []byte) error {
			var t Token
			if err := json.Unmarshal(tokens.Get(key), &t); err != nil {
				return err
			}
			if t.UserID == userID {
				out = append(out, t)
			}
			return nil
		})
	})
	return out, err
}

// DeleteToken revokes a token. Only its owner or an admin may; to anyone
// else the token does not exist.
func (c *Catalog) DeleteToken(by Actor, id string) error {
	return c.update(func(tx *bolt.Tx) error {
		var user User
		if err := getJSON(tx.Bucket(bUsers), []byte(by.UserID), &user); err != nil {
			return fmt.Errorf("catalog: token %s: %w", id, ErrNotFound)
		}
		key := tx.Bucket(bTokensByID).Get([]byte(id))
		if key == nil {
			return fmt.Errorf("catalog: token %s: %w", id, ErrNotFound)
		}
		var t Token
		if err := getJSON(tx.Bucket(bTokens), key, &t); err != nil {
			return err
		}
		if t.UserID != user.ID && !user.Can(RoleAdmin) {
			return fmt.Errorf("catalog: token %s: %w", id, ErrNotFound)
		}
		if err := tx.Bucket(bTokens).Delete(key); err != nil {
			return err
		}
		if err := tx.Bucket(bTokensByID).Delete([]byte(id)); err != nil {
			return err
		}
		return c.audit(tx, by, AuditEntry{Action: AuditTokenDelete, Target: id, Detail: t.Name})
	})
}
