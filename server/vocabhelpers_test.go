package server_test

import (
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/comsoc/acervo/catalog"
)

// loginAs creates a user with role and returns a client logged in as them.
func (e *env) loginAs(username, role string) *client {
	e.t.Helper()
	const password = "otra-contraseña-larga"
	if _, err := e.cat.CreateUser(catalog.NewUser{Username: username, Password: password, Role: role, Name: username}); err != nil {
		e.t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &client{Client: &http.Client{Jar: jar}, e: e}
	body, _ := json.Marshal(map[string]string{"username": username, "password": password})
	var out struct {
		CSRFToken string `json:"csrf_token"`
	}
	decode(e.t, c.do("POST", "/api/v1/login", "application/json", strings.NewReader(string(body)), nil), http.StatusOK, &out)
	c.csrf = out.CSRFToken
	return c
}

// sendJSON sends v as a JSON body.
func (c *client) sendJSON(method, path string, v any) *http.Response {
	c.e.t.Helper()
	body, err := json.Marshal(v)
	if err != nil {
		c.e.t.Fatal(err)
	}
	return c.do(method, path, "application/json", strings.NewReader(string(body)), nil)
}

// withExif writes metadata into a JPEG with exiftool's own arguments, e.g.
// "-charset", "iptc=latin1", "-IPTC:Caption-Abstract=…".
func withExif(t *testing.T, jpg []byte, args ...string) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "photo.jpg")
	if err := os.WriteFile(path, jpg, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("exiftool", append(append([]string{"-q", "-overwrite_original"}, args...), path)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("exiftool %q: %v: %s", args, err, out)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

type refJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// metaAsset is the descriptive part of the asset view.
type metaAsset struct {
	ID         string    `json:"id"`
	Status     string    `json:"status"`
	Error      string    `json:"error"`
	Title      string    `json:"title"`
	Caption    string    `json:"caption"`
	Credit     string    `json:"credit"`
	Creator    string    `json:"creator"`
	Copyright  string    `json:"copyright"`
	Place      string    `json:"place"`
	Rating     int       `json:"rating"`
	Tags       []string  `json:"tags"`
	People     []refJSON `json:"people"`
	Event      *refJSON  `json:"event"`
	CapturedAt *string   `json:"captured_at"`
}

func (c *client) metaAsset(id string) metaAsset {
	c.e.t.Helper()
	var a metaAsset
	decode(c.e.t, c.do("GET", "/api/v1/assets/"+id, "", nil, nil), http.StatusOK, &a)
	return a
}

// uploadSettled uploads a file and waits for its jobs, failing the test if
// the asset does not end ready.
func (c *client) uploadSettled(filename string, data []byte, fields map[string]string) metaAsset {
	c.e.t.Helper()
	var a metaAsset
	decode(c.e.t, c.upload(filename, data, fields), http.StatusCreated, &a)
	if s := c.waitSettled(a.ID); s.Status != catalog.StatusReady {
		c.e.t.Fatalf("%s ended %s: %s", filename, s.Status, s.Error)
	}
	return c.metaAsset(a.ID)
}
