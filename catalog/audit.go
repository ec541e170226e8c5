package catalog

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Actor is who makes a change, for the audit trail: a signed-in user and
// the client address. The zero Actor is the system itself (the command
// line, the first start).
type Actor struct {
	UserID string
	IP     string
}

// Audit actions. Prefixes group them: a filter "share" matches share.*.
const (
	AuditLogin           = "login"
	AuditLoginFailed     = "login.failed"
	AuditLogout          = "logout"
	AuditUpload          = "asset.upload"
	AuditEdit            = "asset.edit"
	AuditDelete          = "asset.delete"
	AuditRestore         = "asset.restore"
	AuditDownload        = "asset.download"
	AuditEventCreate     = "event.create"
	AuditEventUpdate     = "event.update"
	AuditEventDelete     = "event.delete"
	AuditPersonCreate    = "person.create"
	AuditPersonUpdate    = "person.update"
	AuditPersonDelete    = "person.delete"
	AuditTagRename       = "tag.rename"
	AuditTagDelete       = "tag.delete"
	AuditCollection      = "collection.create"
	AuditCollectionEdit  = "collection.update"
	AuditCollectionDel   = "collection.delete"
	AuditShareCreate     = "share.create"
	AuditShareView       = "share.view"
	AuditShareDownload   = "share.download"
	AuditShareUnlockFail = "share.unlock_failed"
	AuditShareRevoke     = "share.revoke"
	AuditUserCreate      = "user.create"
	AuditUserUpdate      = "user.update"
	AuditUserPassword    = "user.password"
	AuditUserSessions    = "user.sessions_revoked"
	AuditTokenCreate     = "token.create"
	AuditTokenDelete     = "token.delete"
	AuditBackup          = "backup.catalog" // a snapshot of the catalog was taken (acervo backup, acervo verify)
)

var bAudit = []byte("audit") // big-endian sequence → AuditEntry

// AuditEntry is one line of the audit trail. Each entry's Hash covers its
// own fields and the previous entry's hash, so editing or removing a past
// entry breaks the chain from there on (VerifyAudit finds where).
type AuditEntry struct {
	Seq    uint64    `json:"seq"`
	Time   time.Time `json:"time"`
	UserID string    `json:"user_id,omitempty"`
	User   string    `json:"user,omitempty"` // the username at the time
	IP     string    `json:"ip,omitempty"`
	Action string    `json:"action"`
	Asset  string    `json:"asset,omitempty"`
	Target string    `json:"target,omitempty"` // the user, event, person, tag, collection or share acted on
	Detail string    `json:"detail,omitempty"`
	Prev   string    `json:"prev"`
	Hash   string    `json:"hash"`
}

func (e AuditEntry) digest() string {
	e.Hash = ""
	data, _ := json.Marshal(e) // a struct of strings and a time: never fails
	h := sha256.New()
	h.Write([]byte(e.Prev))
	h.Write([]byte{'\n'})
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// audit appends an entry in tx, so it commits or rolls back with the change
// it records. It fills Seq, Time, User, Prev and Hash.
func (c *Catalog) audit(tx *bolt.Tx, by Actor, e AuditEntry) error {
	b := tx.Bucket(bAudit)
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	e.Seq, e.Time, e.UserID, e.IP = seq, c.now().UTC(), by.UserID, by.IP
	if by.UserID != "" && e.User == "" {
		var u User
		if getJSON(tx.Bucket(bUsers), []byte(by.UserID), &u) == nil {
			e.User = u.Username
		}
	}
	if _, last := b.Cursor().Last(); last != nil {
		var prev AuditEntry
		if err := json.Unmarshal(last, &prev); err != nil {
			return fmt.Errorf("audit: last entry: %w", err)
		}
		e.Prev = prev.Hash
	}
	e.Hash = e.digest()
	return putJSON(b, seqKey(seq), e)
}

// putAudited writes a record and its audit entry in tx: the shape of
// every audited change.
func (c *Catalog) putAudited(tx *bolt.Tx, bucket, key []byte, v any, by Actor, e AuditEntry) error {
	if err := putJSON(tx.Bucket(bucket), key, v); err != nil {
		return err
	}
	return c.audit(tx, by, e)
}

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// Audit records something that changes no other record: a failed login, a
// download, a refused unlock.
func (c *Catalog) Audit(by Actor, e AuditEntry) error {
	return c.update(func(tx *bolt.Tx) error { return c.audit(tx, by, e) })
}

// AuditFilter selects audit entries. Empty fields match everything. User
// matches the user id or the username; Action matches itself and, as a
// prefix before a dot, its group ("share" matches "share.view").
type AuditFilter struct {
	User, Asset, Action string
	From, To            time.Time // To is exclusive
	// Before pages backwards: only entries with Seq < Before (0: from the newest).
	Before uint64
	// Limit caps the entries returned. Default 100, at most 1000.
	Limit int
}

func (f AuditFilter) match(e AuditEntry) bool {
	if f.User != "" && f.User != e.UserID && !strings.EqualFold(f.User, e.User) {
		return false
	}
	if f.Asset != "" && f.Asset != e.Asset {
		return false
	}
	if f.Action != "" && f.Action != e.Action && !strings.HasPrefix(e.Action, f.Action+".") {
		return false
	}
	if !f.From.IsZero() && e.Time.Before(f.From) {
		return false
	}
	return f.To.IsZero() || e.Time.Before(f.To)
}

// AuditLog returns matching entries, newest first, and the Before value of
// the next page (0 when there is none).
func (c *Catalog) AuditLog(f AuditFilter) (entries []AuditEntry, next uint64, err error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	f.Limit = min(f.Limit, 1000)
	entries = []AuditEntry{}
	err = c.db.View(func(tx *bolt.Tx) error {
		cur := tx.Bucket(bAudit).Cursor()
		var k, v []byte
		if f.Before > 0 {
			cur.Seek(seqKey(f.Before))
			k, v = cur.Prev()
		} else {
			k, v = cur.Last()
		}
		for ; k != nil; k, v = cur.Prev() {
			var e AuditEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			if !f.From.IsZero() && e.Time.Before(f.From) {
				break // entries are in time order
			}
			if !f.match(e) {
				continue
			}
			if len(entries) == f.Limit {
				next = entries[len(entries)-1].Seq
				break
			}
			entries = append(entries, e)
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("catalog: audit log: %w", err)
	}
	return entries, next, nil
}

// AuditBroken is the first entry whose hash does not match its contents or
// whose link to the previous entry is wrong.
type AuditBroken struct {
	Seq    uint64
	Reason string
}

func (b *AuditBroken) Error() string {
	return fmt.Sprintf("catalog: audit chain broken at entry %d: %s", b.Seq, b.Reason)
}

// VerifyAudit walks the whole trail and recomputes the chain. It returns
// the number of entries checked and an *AuditBroken error at the first
// entry edited, removed or reordered.
func (c *Catalog) VerifyAudit() (int, error) {
	n := 0
	err := c.db.View(func(tx *bolt.Tx) error {
		prev, prevSeq := "", uint64(0)
		return tx.Bucket(bAudit).ForEach(func(k, v []byte) error {
			seq := binary.BigEndian.Uint64(k)
			var e AuditEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return &AuditBroken{seq, "unreadable entry"}
			}
			switch {
			case e.Seq != seq:
				return &AuditBroken{seq, "entry moved"}
			case seq != prevSeq+1:
				return &AuditBroken{seq, fmt.Sprintf("entries %d to %d missing", prevSeq+1, seq-1)}
			case e.Prev != prev:
				return &AuditBroken{seq, "link to the previous entry does not match"}
			case e.digest() != e.Hash:
				return &AuditBroken{seq, "contents changed after they were written"}
			}
			// Re-marshal must give the stored bytes, else a field the
			// struct doesn't know was added.
			if again, _ := json.Marshal(e); !bytes.Equal(again, v) {
				return &AuditBroken{seq, "unknown fields added"}
			}
			prev, prevSeq = e.Hash, seq
			n++
			return nil
		})
	})
	return n, err
}
