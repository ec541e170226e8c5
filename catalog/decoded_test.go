package catalog_test

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/catalog/catalogtest"
)

// The per-request reads (TokenUser, SessionUser, Files) reuse what they
// decoded before. Hammered by readers while a writer changes a role and
// moves an asset in and out of the trash, every read that ran entirely
// after one write returned and before the next began must see exactly
// that write's state: never an older one.
func TestHotReadsSeeEveryWriteAtOnce(t *testing.T) {
	c := catalogtest.Open(t, nil)
	admin, err := c.CreateUser(catalog.NewUser{Username: "admin", Password: "contraseña-larga", Role: catalog.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	u, err := c.CreateUser(catalog.NewUser{Username: "editora", Password: "contraseña-larga", Role: catalog.RoleViewer})
	if err != nil {
		t.Fatal(err)
	}
	secret, tok, err := c.CreateToken(catalog.Actor{UserID: u.ID}, "script")
	if err != nil {
		t.Fatal(err)
	}
	cookie, _, err := c.CreateSession(catalog.Actor{UserID: u.ID}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.SessionUser(cookie); err != nil {
		t.Fatal(err)
	}
	a, _, err := c.CreateAsset(newAsset(strings.Repeat("d", 64)))
	if err != nil {
		t.Fatal(err)
	}

	// version is a seqlock: odd while the writer is changing things; the
	// state of an even version v is "flipped" when (v/2) is odd.
	var version atomic.Int64
	var checked atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				v := version.Load()
				if v%2 == 1 {
					continue
				}
				flipped := (v/2)%2 == 1
				_, user, err := c.TokenUser(secret)
				if err != nil {
					errc <- err
					return
				}
				f, err := c.Files(a.ID)
				if err != nil {
					errc <- err
					return
				}
				role, trashed := user.Role, f.Trashed
				if version.Load() != v {
					continue // a write overlapped this read
				}
				if wantRole := map[bool]string{true: catalog.RoleEditor, false: catalog.RoleViewer}[flipped]; role != wantRole || trashed != flipped {
					errc <- fmt.Errorf("stale read: role %s, trashed %v; want %s, %v", role, trashed, wantRole, flipped)
					return
				}
				checked.Add(1)
			}
		})
	}
	by := catalog.Actor{UserID: admin.ID}
	allow := func(catalog.Asset) error { return nil }
	for i := range 20 {
		flip := i%2 == 0 // the state after this write
		role := map[bool]string{true: catalog.RoleEditor, false: catalog.RoleViewer}[flip]
		version.Add(1)
		if _, err := c.UpdateUser(by, u.ID, catalog.UserUpdate{Role: &role}); err != nil {
			t.Fatal(err)
		}
		if flip {
			_, err = c.TrashAsset(by, a.ID, allow)
		} else {
			_, err = c.RestoreAsset(by, a.ID)
		}
		if err != nil {
			t.Fatal(err)
		}
		version.Add(1)
		if i == 0 {
			// The session is gone with the first role change, at once.
			if _, _, err := c.SessionUser(cookie); !errors.Is(err, catalog.ErrNotFound) {
				t.Errorf("session after a role change: %v, want ErrNotFound", err)
			}
		}
		for n := checked.Load(); checked.Load() < n+4; runtime.Gosched() {
			select {
			case err := <-errc:
				t.Fatal(err)
			default:
			}
		}
	}
	close(stop)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	// And a revoked token is refused by the next read.
	if err := c.DeleteToken(by, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.TokenUser(secret); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("revoked token: %v, want ErrNotFound", err)
	}
}
