package catalog_test

import (
	"errors"
	"testing"
	"time"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/catalog/catalogtest"
)

// FuzzTokenLookup: a bearer token, a session cookie and a share link's token are looked
// up by what a client sends. Garbage, and near misses of a real secret (a byte changed,
// one cut off or added, the case flipped), are ErrNotFound, never a panic or another
// error; only the exact secret opens its token, session or share.
func FuzzTokenLookup(f *testing.F) {
	cat := catalogtest.Open(f, nil)
	u, err := cat.CreateUser(catalog.NewUser{Username: "fuzz", Password: "una contraseña larga", Role: catalog.RoleEditor})
	if err != nil {
		f.Fatal(err)
	}
	by := catalog.Actor{UserID: u.ID}
	token, _, err := cat.CreateToken(by, "fuzz")
	if err != nil {
		f.Fatal(err)
	}
	session, _, err := cat.CreateSession(by, time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	ids := addAssets(f, cat, fixture{NewAsset: catalog.NewAsset{Title: "uno"}})
	shareToken, share, err := cat.CreateShare(by, catalog.NewShare{Assets: ids, Title: "prensa", Recipient: "Diario"})
	if err != nil {
		f.Fatal(err)
	}

	f.Add("", []byte{})
	f.Add("acv_", []byte{0, 0, 0, 1})
	f.Add(token[:len(token)-1], []byte{0x20})
	f.Add(token+" ", []byte{0xff})
	f.Add("Bearer "+token, []byte{})
	f.Add("\x00acv_"+token[4:], []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01})
	f.Add(string(make([]byte, 4096)), []byte("longer than the secret, so one byte is added"))

	secrets := []struct {
		name, secret string
		lookup       func(string) (string, error) // the user or share id the secret opens
		want         string
	}{
		{"token", token, func(s string) (string, error) { _, u, err := cat.TokenUser(s); return u.ID, err }, u.ID},
		{"session", session, func(s string) (string, error) { _, u, err := cat.SessionUser(s); return u.ID, err }, u.ID},
		{"share", shareToken, func(s string) (string, error) { sh, err := cat.ShareByToken(s); return sh.ID, err }, share.ID},
	}
	f.Fuzz(func(t *testing.T, garbage string, flip []byte) {
		for _, s := range secrets {
			// flip XORs the secret's bytes (extra ones are appended, a trailing 0x20
			// also drops the last byte), the near miss of a leaked or mistyped secret.
			near := []byte(s.secret)
			for i, b := range flip {
				if i < len(near) {
					near[i] ^= b
				} else {
					near = append(near, b)
				}
			}
			if len(flip) == 1 && flip[0] == 0x20 {
				near = near[:len(near)-1]
			}
			for _, candidate := range []string{garbage, string(near)} {
				id, err := s.lookup(candidate)
				switch {
				case candidate == s.secret:
					if err != nil || id != s.want {
						t.Fatalf("%s: the real secret gives %q, %v", s.name, id, err)
					}
				case !errors.Is(err, catalog.ErrNotFound):
					t.Fatalf("%s: %q (not the secret) gives %q, %v", s.name, candidate, id, err)
				}
			}
		}
	})
}
