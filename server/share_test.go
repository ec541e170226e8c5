package server_test

import (
	"archive/zip"
	"bytes"
	"image/jpeg"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/comsoc/acervo/catalog"
)

// journalist is a browser without an account.
func (e *env) journalist() *client {
	jar, _ := cookiejar.New(nil)
	return &client{Client: &http.Client{Jar: jar}, e: e}
}

type createdShare struct {
	ID, Token, URL string
}

func (c *client) share(t *testing.T, v map[string]any) createdShare {
	t.Helper()
	var s createdShare
	decode(t, c.sendJSON("POST", "/api/v1/shares", v), http.StatusCreated, &s)
	if s.Token == "" || !strings.HasSuffix(s.URL, "/s/"+s.Token) {
		t.Fatalf("created share = %+v", s)
	}
	return s
}

// TestShareLinkMatrix: every state of a link against every sub-route.
func TestShareLinkMatrix(t *testing.T) {
	e := start(t)
	admin := e.login()
	editor := e.loginAs("ana@comsoc.gob.mx", catalog.RoleEditor)
	gpsPhoto := withExif(t, photo(t, 640, 480, 1), "-GPSLatitude=19.4326", "-GPSLatitudeRef=N", "-GPSLongitude=99.1332", "-GPSLongitudeRef=W")
	a1 := editor.uploadSettled("plaza.jpg", gpsPhoto, map[string]string{"title": "Plaza", "credit": "Foto: Ana"})
	a2 := editor.uploadSettled("kiosco.jpg", photo(t, 640, 480, 2), nil)
	a3 := editor.uploadSettled("fuera.jpg", photo(t, 640, 480, 3), nil)
	in := func(extra map[string]any) map[string]any {
		v := map[string]any{"assets": []string{a1.ID, a2.ID}, "recipient": "Diario", "allow_download": true, "credit": "Comunicación Social"}
		for k, x := range extra {
			v[k] = x
		}
		return v
	}
	valid := editor.share(t, in(nil))
	viewOnly := editor.share(t, in(map[string]any{"allow_download": false}))
	locked := editor.share(t, in(map[string]any{"password": "secreto-123"}))
	expiresAt := time.Now().Add(1500 * time.Millisecond)
	expiring := editor.share(t, in(map[string]any{"expires_at": expiresAt}))
	revoked := editor.share(t, in(nil))
	embargoed := editor.share(t, in(map[string]any{"starts_at": time.Now().Add(time.Hour)}))
	other := editor.share(t, map[string]any{"assets": []string{a3.ID}, "recipient": "Radio", "allow_download": true})
	decode(t, editor.do("DELETE", "/api/v1/shares/"+revoked.ID, "", nil, nil), http.StatusOK, nil)

	// A thumbnail fetched while the link was open, to replay after revoking.
	j := e.journalist()
	thumb := "/s/" + valid.Token + "/assets/" + a1.ID + "/renditions/thumb.jpg"
	_, resp := j.get(thumb)
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != http.StatusOK || etag == "" {
		t.Fatalf("thumb = %d, ETag %q", resp.StatusCode, etag)
	}
	time.Sleep(time.Until(expiresAt.Add(100 * time.Millisecond))) // the expiring link is now expired

	subroutes := []string{"", "/share.json", "/assets/A/renditions/thumb.jpg", "/assets/A/renditions/preview.jpg", "/assets/A/original", "/zip"}
	for _, tc := range []struct {
		name  string
		token string
		asset string
		want  []int // one per subroute
	}{
		{"valid", valid.Token, a1.ID, []int{200, 200, 200, 200, 200, 200}},
		{"valid, asset outside the link", valid.Token, a3.ID, []int{200, 200, 404, 404, 404, 200}},
		{"view only", viewOnly.Token, a1.ID, []int{200, 200, 200, 200, 403, 403}},
		{"locked", locked.Token, a1.ID, []int{401, 401, 401, 401, 401, 401}},
		{"expired", expiring.Token, a1.ID, []int{410, 410, 410, 410, 410, 410}},
		{"revoked", revoked.Token, a1.ID, []int{410, 410, 410, 410, 410, 410}},
		{"embargoed", embargoed.Token, a1.ID, []int{403, 403, 403, 403, 403, 403}},
		{"other link's asset", other.Token, a1.ID, []int{200, 200, 404, 404, 404, 200}},
		{"unknown token", "x" + valid.Token[1:], a1.ID, []int{404, 404, 404, 404, 404, 404}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := e.journalist()
			for i, sub := range subroutes {
				path := "/s/" + tc.token + strings.ReplaceAll(sub, "/A/", "/"+tc.asset+"/")
				body, resp := j.get(path)
				if resp.StatusCode != tc.want[i] {
					t.Errorf("GET %s = %d, want %d: %.200s", sub, resp.StatusCode, tc.want[i], body)
				}
				h := resp.Header
				if h.Get("X-Robots-Tag") != "noindex, nofollow" || h.Get("Referrer-Policy") != "no-referrer" ||
					strings.Contains(h.Get("Content-Security-Policy"), "unsafe-inline") || h.Get("Content-Security-Policy") == "" {
					t.Errorf("GET %s headers: robots %q referrer %q csp %q", sub, h.Get("X-Robots-Tag"), h.Get("Referrer-Policy"), h.Get("Content-Security-Policy"))
				}
				for _, secret := range []string{"ana@comsoc.gob.mx", "19.43", "99.13", "blobs/", "derived/"} {
					if bytes.Contains(body, []byte(secret)) {
						t.Errorf("GET %s exposes %q", sub, secret)
					}
				}
			}
		})
	}

	t.Run("unlock", func(t *testing.T) {
		j := e.journalist()
		form := func(pw string) *http.Response {
			return j.do("POST", "/s/"+locked.Token+"/unlock", "application/x-www-form-urlencoded", strings.NewReader(url.Values{"password": {pw}}.Encode()), nil)
		}
		body, resp := readAll(form("incorrecta"))
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Contraseña incorrecta") {
			t.Errorf("wrong password = %d %.200s", resp.StatusCode, body)
		}
		body, resp = readAll(form("secreto-123"))
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Plaza") {
			t.Fatalf("right password = %d %.200s", resp.StatusCode, body)
		}
		for _, sub := range []string{"/assets/" + a1.ID + "/renditions/thumb.jpg", "/assets/" + a1.ID + "/original", "/share.json"} {
			if _, resp := j.get("/s/" + locked.Token + sub); resp.StatusCode != http.StatusOK {
				t.Errorf("unlocked %s = %d", sub, resp.StatusCode)
			}
		}
		// The cookie opens this link only.
		if _, resp := j.get("/s/" + valid.Token + "/assets/" + a1.ID + "/renditions/thumb.jpg"); resp.StatusCode != http.StatusOK {
			t.Errorf("valid link after unlocking another = %d", resp.StatusCode)
		}
	})

	t.Run("revoking kills fetched URLs", func(t *testing.T) {
		decode(t, editor.do("DELETE", "/api/v1/shares/"+valid.ID, "", nil, nil), http.StatusOK, nil)
		resp := j.do("GET", thumb, "", nil, map[string]string{"If-None-Match": etag})
		resp.Body.Close()
		if resp.StatusCode != http.StatusGone {
			t.Errorf("revoked thumb with its ETag = %d, want 410", resp.StatusCode)
		}
	})

	var list struct {
		Shares []struct {
			ID, State        string
			Views, Downloads int
			LastAccess       *time.Time `json:"last_access"`
			Password         bool
		}
	}
	decode(t, admin.do("GET", "/api/v1/shares", "", nil, nil), http.StatusOK, &list)
	for _, s := range list.Shares {
		switch s.ID {
		case valid.ID:
			if s.State != "revoked" || s.Views < 2 || s.Downloads < 2 || s.LastAccess == nil {
				t.Errorf("valid link listed as %+v", s)
			}
		case locked.ID:
			if !s.Password || s.Views < 1 {
				t.Errorf("locked link listed as %+v", s)
			}
		case expiring.ID:
			if s.State != "expired" {
				t.Errorf("expiring link listed as %+v", s)
			}
		case embargoed.ID:
			if s.State != "scheduled" {
				t.Errorf("embargoed link listed as %+v", s)
			}
		}
	}
}

func readAll(resp *http.Response) (string, *http.Response) {
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b), resp
}

// TestShareDownloadLimitRace: 50 parallel downloads on a limit of 10 give
// exactly 10 files.
func TestShareDownloadLimitRace(t *testing.T) {
	e := start(t)
	admin := e.login()
	a := admin.uploadSettled("foto.jpg", photo(t, 320, 240, 5), nil)
	s := admin.share(t, map[string]any{"assets": []string{a.ID}, "recipient": "Agencia", "allow_download": true, "max_downloads": 10})
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			resp, err := http.Get(e.srv.URL + "/s/" + s.Token + "/assets/" + a.ID + "/original")
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			mu.Lock()
			codes[resp.StatusCode]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if codes[200] != 10 || codes[403] != 40 {
		t.Errorf("statuses = %v, want 10×200 and 40×403", codes)
	}
	expectError(t, e.journalist().do("GET", "/s/"+s.Token+"/zip", "", nil, nil), http.StatusForbidden, "download_limit")
}

// TestZipDownloads: a link's ZIP and a collection's ZIP hold the exact
// originals under safe, unique, ordered names, and unzip accepts them.
func TestZipDownloads(t *testing.T) {
	requireTools(t, "unzip")
	e := start(t)
	admin := e.login()
	p1, p2, p3 := photo(t, 320, 240, 6), photo(t, 320, 240, 7), photo(t, 320, 240, 8)
	a1 := admin.uploadSettled("Inauguración.jpg", p1, map[string]string{"title": "Corte de listón", "credit": "Foto: Luis"})
	a2 := admin.uploadSettled("inauguración.jpg", p2, nil) // same name, other case
	a3 := admin.uploadSettled(`..\..\etc\pass:wd?.jpg`, p3, nil)
	want := map[string][]byte{"1_Inauguración.jpg": p1, "2_inauguración.jpg": p2, "3_pass_wd_.jpg": p3}

	check := func(t *testing.T, body []byte, names []string) {
		t.Helper()
		zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
		if err != nil {
			t.Fatalf("zip: %v", err)
		}
		var got []string
		for _, f := range zr.File {
			got = append(got, f.Name)
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			data, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatalf("%s: %v", f.Name, err)
			}
			if w, ok := want[f.Name]; ok && !bytes.Equal(data, w) {
				t.Errorf("%s differs from the original", f.Name)
			}
			if f.Name == "CREDITOS.txt" && !strings.Contains(string(data), "Foto: Luis") {
				t.Errorf("CREDITOS.txt = %q", data)
			}
		}
		if !slices.Equal(got, names) {
			t.Errorf("entries = %q, want %q", got, names)
		}
		path := filepath.Join(t.TempDir(), "a.zip")
		os.WriteFile(path, body, 0o600)
		if out, err := exec.Command("unzip", "-t", path).CombinedOutput(); err != nil {
			t.Errorf("unzip -t: %v\n%s", err, out)
		}
	}
	ids := []string{a1.ID, a2.ID, a3.ID}
	s := admin.share(t, map[string]any{"assets": ids, "recipient": "Diario", "allow_download": true, "title": "Kit: inauguración/2025"})
	body, resp := e.journalist().get("/s/" + s.Token + "/zip")
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Disposition"), "Kit_ inauguraci") {
		t.Fatalf("share zip = %d, %q", resp.StatusCode, resp.Header.Get("Content-Disposition"))
	}
	check(t, body, []string{"1_Inauguración.jpg", "2_inauguración.jpg", "3_pass_wd_.jpg", "CREDITOS.txt"})

	var col struct{ ID string }
	decode(t, admin.sendJSON("POST", "/api/v1/collections", map[string]any{"name": "Informe", "add": ids}), http.StatusCreated, &col)
	order := []string{a3.ID, a1.ID}
	decode(t, admin.sendJSON("PATCH", "/api/v1/collections/"+col.ID, map[string]any{"assets": order}), http.StatusOK, nil)
	body, resp = admin.get("/api/v1/collections/" + col.ID + "/zip")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("collection zip = %d", resp.StatusCode)
	}
	want["2_Inauguración.jpg"], want["1_pass_wd_.jpg"] = p1, p3
	check(t, body, []string{"1_pass_wd_.jpg", "2_Inauguración.jpg"})
}

// TestShareWatermark: previews of a watermarked link are marked, same size.
func TestShareWatermark(t *testing.T) {
	e := start(t)
	admin := e.login()
	a := admin.uploadSettled("foto.jpg", photo(t, 1200, 800, 4), nil)
	plain := admin.share(t, map[string]any{"assets": []string{a.ID}, "recipient": "A"})
	marked := admin.share(t, map[string]any{"assets": []string{a.ID}, "recipient": "B", "watermark": "Comunicación Social"})
	j := e.journalist()
	p, _ := j.get("/s/" + plain.Token + "/assets/" + a.ID + "/renditions/preview.jpg")
	m, resp := j.get("/s/" + marked.Token + "/assets/" + a.ID + "/renditions/preview.jpg")
	if resp.StatusCode != http.StatusOK || bytes.Equal(p, m) {
		t.Fatalf("watermarked preview = %d, identical %v", resp.StatusCode, bytes.Equal(p, m))
	}
	pi, err1 := jpeg.DecodeConfig(bytes.NewReader(p))
	mi, err2 := jpeg.DecodeConfig(bytes.NewReader(m))
	if err1 != nil || err2 != nil || pi.Width != mi.Width || pi.Height != mi.Height {
		t.Errorf("sizes %v %v (%v %v)", pi, mi, err1, err2)
	}
}

// TestAuditThroughTheAPI: what happened is in the trail, which verifies,
// filters and exports as CSV.
func TestAuditThroughTheAPI(t *testing.T) {
	e := start(t)
	admin := e.login()
	a := admin.uploadSettled("=HYPERLINK(evil).jpg", photo(t, 64, 48, 3), nil)
	s := admin.share(t, map[string]any{"assets": []string{a.ID}, "recipient": "Diario", "allow_download": true})
	e.journalist().get("/s/" + s.Token)
	e.journalist().get("/s/" + s.Token + "/assets/" + a.ID + "/original")
	admin.get("/api/v1/assets/" + a.ID + "/original")
	decode(t, admin.do("DELETE", "/api/v1/shares/"+s.ID, "", nil, nil), http.StatusOK, nil)
	bad := e.journalist()
	bad.do("POST", "/api/v1/login", "application/json", strings.NewReader(`{"username":"admin","password":"mala"}`), nil).Body.Close()

	var out struct {
		Entries []catalog.AuditEntry
	}
	decode(t, admin.do("GET", "/api/v1/audit", "", nil, nil), http.StatusOK, &out)
	var actions []string
	for _, en := range out.Entries {
		actions = append(actions, en.Action)
	}
	for _, want := range []string{"login", "asset.upload", "share.create", "share.view", "share.download", "asset.download", "share.revoke", "login.failed", "user.create"} {
		if !slices.Contains(actions, want) {
			t.Errorf("audit lacks %s: %v", want, actions)
		}
	}
	decode(t, admin.do("GET", "/api/v1/audit?action=share&asset="+a.ID, "", nil, nil), http.StatusOK, &out)
	if len(out.Entries) != 1 || out.Entries[0].Action != "share.download" {
		t.Errorf("share entries about the asset = %+v", out.Entries)
	}
	var v struct {
		OK      bool
		Entries int
	}
	decode(t, admin.do("GET", "/api/v1/audit/verify", "", nil, nil), http.StatusOK, &v)
	if !v.OK || v.Entries < 9 {
		t.Errorf("verify = %+v", v)
	}
	csv, resp := admin.get("/api/v1/audit?format=csv")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(csv), "seq,time,user,ip,action") ||
		!strings.Contains(string(csv), "'=HYPERLINK") {
		t.Errorf("csv = %d %.300s", resp.StatusCode, csv)
	}
}

// TestLoginThrottleIgnoresSpoofedForwardedFor: without trusted proxies a
// client can't dodge the per-address limit by inventing X-Forwarded-For.
func TestLoginThrottleIgnoresSpoofedForwardedFor(t *testing.T) {
	e := start(t)
	c := e.journalist()
	try := func(i int) int {
		body := `{"username":"nadie` + string(rune('a'+i)) + `","password":"mala-contraseña"}`
		resp := c.do("POST", "/api/v1/login", "application/json", strings.NewReader(body), map[string]string{"X-Forwarded-For": "203.0.113." + string(rune('0'+i%10)), "X-Real-IP": "198.51.100.9"})
		resp.Body.Close()
		return resp.StatusCode
	}
	for i := range 10 {
		if got := try(i); got != http.StatusUnauthorized {
			t.Fatalf("attempt %d = %d, want 401", i, got)
		}
	}
	if got := try(11); got != http.StatusTooManyRequests {
		t.Errorf("11th attempt from the same address with a new X-Forwarded-For = %d, want 429", got)
	}
	// The real admin, from another account but the same address, waits too.
	resp := c.do("POST", "/api/v1/login", "application/json", strings.NewReader(`{"username":"admin","password":"`+adminPassword+`"}`), nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("login from a throttled address = %d, want 429", resp.StatusCode)
	}
}

// TestSessionCookieFlags: HttpOnly and SameSite=Lax always, Secure over TLS.
func TestSessionCookieFlags(t *testing.T) {
	e := start(t)
	tlsSrv := httptestTLS(t, e)
	for _, tc := range []struct {
		base   string
		client *http.Client
		secure bool
	}{{e.srv.URL, http.DefaultClient, false}, {tlsSrv.URL, tlsSrv.Client(), true}} {
		resp, err := tc.client.Post(tc.base+"/api/v1/login", "application/json", strings.NewReader(`{"username":"admin","password":"`+adminPassword+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		cookies := resp.Cookies()
		if len(cookies) != 1 || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteLaxMode || cookies[0].Secure != tc.secure {
			t.Errorf("%s: cookies = %+v, want HttpOnly, Lax, Secure %v", tc.base, cookies, tc.secure)
		}
	}
}

func httptestTLS(t *testing.T, e *env) *httptest.Server {
	s := httptest.NewTLSServer(e.srv.Config.Handler)
	t.Cleanup(s.Close)
	return s
}

// TestZip64: an original past 4 GiB streams into a ZIP that archive/zip
// and unzip read whole (zip64 records). The file is sparse: no 4 GiB of
// real media is written, but every byte goes through the ZIP writer.
func TestZip64(t *testing.T) {
	requireTools(t, "unzip")
	e := start(t)
	admin := e.login()
	const size = 4<<30 + 12345
	sha := strings.Repeat("ab", 32)
	path := filepath.Join(e.data, "blobs", "sha256", sha[:2], sha[2:4], sha)
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(size)
	f.Close()
	a, _, err := e.cat.CreateAsset(catalog.NewAsset{Kind: catalog.KindVideo, Filename: "grande.mov", SHA256: sha, MIME: "video/quicktime", Size: size})
	if err != nil {
		t.Fatal(err)
	}
	var col struct{ ID string }
	decode(t, admin.sendJSON("POST", "/api/v1/collections", map[string]any{"name": "Grande", "add": []string{a.ID}}), http.StatusCreated, &col)
	began := time.Now()
	resp := admin.do("GET", "/api/v1/collections/"+col.ID+"/zip", "", nil, nil)
	defer resp.Body.Close()
	out := filepath.Join(t.TempDir(), "grande.zip")
	zf, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := copySparse(zf, resp.Body); err != nil {
		t.Fatal(err)
	}
	zf.Close()
	t.Logf("4 GiB ZIP streamed in %v", time.Since(began))
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatalf("archive/zip: %v", err)
	}
	defer zr.Close()
	if len(zr.File) != 1 || zr.File[0].Name != "1_grande.mov" || zr.File[0].UncompressedSize64 != size {
		t.Fatalf("entries = %+v", zr.File)
	}
	// archive/zip checks the CRC at the end of the entry; unzip lists
	// the zip64 central directory (its -t CRC pass over 4 GiB is slow).
	rc, err := zr.File[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	if n, err := io.Copy(io.Discard, rc); err != nil || n != size {
		t.Errorf("read back %d bytes: %v", n, err)
	}
	rc.Close()
	if out, err := exec.Command("unzip", "-l", out).CombinedOutput(); err != nil || !strings.Contains(string(out), "4294979641") {
		t.Errorf("unzip -l: %v\n%s", err, out)
	}
}

// copySparse writes r to f, seeking over all-zero blocks so the file stays
// as sparse as the blob it came from.
func copySparse(f *os.File, r io.Reader) error {
	buf, zero := make([]byte, 1<<20), make([]byte, 1<<20)
	var n int64
	for {
		k, err := io.ReadFull(r, buf)
		if k > 0 {
			if bytes.Equal(buf[:k], zero[:k]) {
				_, serr := f.Seek(int64(k), io.SeekCurrent)
				if serr != nil {
					return serr
				}
			} else if _, werr := f.Write(buf[:k]); werr != nil {
				return werr
			}
			n += int64(k)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return f.Truncate(n)
		}
		if err != nil {
			return err
		}
	}
}
