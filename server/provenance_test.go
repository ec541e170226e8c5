package server_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/comsoc/acervo/server"
)

// TestSignedProvenance: a journalist checks an asset's manifest offline
// with the published key, and one changed byte fails the check.
func TestSignedProvenance(t *testing.T) {
	e := start(t)
	admin := e.login()
	var ev struct{ ID string }
	decode(t, admin.sendJSON("POST", "/api/v1/events", map[string]string{"name": "Informe de gobierno", "date": "2026-09-01", "place": "Teatro de la Ciudad"}), http.StatusCreated, &ev)
	a := admin.uploadSettled("informe.jpg", photo(t, 320, 240, 3), map[string]string{"event": "Informe de gobierno", "credit": "Foto: Ana"})

	var key struct {
		KeyID     string `json:"key_id"`
		PublicKey string `json:"public_key"`
	}
	decode(t, e.journalist().do("GET", "/.well-known/acervo-key", "", nil, nil), http.StatusOK, &key)
	pub, err := base64.StdEncoding.DecodeString(key.PublicKey)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		t.Fatalf("public key %q: %v", key.PublicKey, err)
	}
	var p struct{ Payload, Signature string }
	body := readBody(t, admin.do("GET", "/api/v1/assets/"+a.ID+"/provenance", "", nil, nil))
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	sig, err := base64.StdEncoding.DecodeString(p.Signature)
	if err != nil || !ed25519.Verify(pub, []byte(p.Payload), sig) {
		t.Fatalf("signature does not verify: %s", body)
	}
	var m struct {
		KeyID string `json:"key_id"`
		Asset struct {
			SHA256, Credit string
			UploadedBy     struct{ Name string } `json:"uploaded_by"`
			Event          struct{ Name, Date, Place string }
		}
	}
	json.Unmarshal([]byte(p.Payload), &m)
	var full assetJSON
	decode(t, admin.do("GET", "/api/v1/assets/"+a.ID, "", nil, nil), http.StatusOK, &full)
	if m.KeyID != key.KeyID || m.Asset.SHA256 != full.SHA256 || m.Asset.Credit != "Foto: Ana" ||
		m.Asset.Event.Name != "Informe de gobierno" || m.Asset.Event.Place != "Teatro de la Ciudad" || m.Asset.UploadedBy.Name == "" {
		t.Errorf("manifest = %s", p.Payload)
	}
	for i := range []int{0, len(p.Payload) / 2, len(p.Payload) - 2} {
		tampered := []byte(p.Payload)
		tampered[i] ^= 1
		if ed25519.Verify(pub, tampered, sig) {
			t.Errorf("a manifest with byte %d changed still verifies", i)
		}
	}
}

func readBody(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s = %d %s", resp.Request.URL.Path, resp.StatusCode, buf.Bytes())
	}
	return buf.Bytes()
}

// TestSigningKeyPersists: the key made on first start is the one loaded
// after, and only its owner can read it.
func TestSigningKeyPersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "ed25519.pem")
	k1, err := server.LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := server.LoadOrCreateKey(path)
	if err != nil || !k1.Equal(k2) {
		t.Fatalf("reloaded key differs (%v)", err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	os.WriteFile(path, []byte("not a key"), 0o600)
	if _, err := server.LoadOrCreateKey(path); err == nil {
		t.Error("a corrupt key file was accepted (a new key would silently replace the published one)")
	}
}
