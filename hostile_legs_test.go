package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// The other two doors of the hostile corpus: the public check and tus.

// verifyCounts are the answers of /verify to the corpus.
type verifyCounts struct{ refused, answered int }

// verifyCorpus sends every file to the public check. Files that fail or
// are refused at upload must be refused with a JSON 4xx here too; real
// photos, video and audio get an answer (none: nothing is archived yet).
func verifyCorpus(t *testing.T, a *api, srv *serverProc, pid int, corpus []hostileFile) (n verifyCounts) {
	t.Helper()
	for _, f := range corpus {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		fw, _ := mw.CreateFormFile("file", f.name)
		fw.Write(f.data)
		mw.Close()
		resp, err := a.hc.Post(a.base+"/api/v1/verify", mw.FormDataContentType(), &body)
		if err != nil {
			t.Fatalf("verify %s: %v", f.name, err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var ans struct {
			Match string `json:"match"`
			Error struct{ Code, Message string }
		}
		json.Unmarshal(raw, &ans)
		// /verify checks photos, video and audio: a PDF is refused there.
		answerable := f.want == wantSafe && !strings.HasSuffix(f.name, ".pdf")
		switch {
		case resp.StatusCode == http.StatusOK && answerable && ans.Match == "none":
			n.answered++
		case resp.StatusCode >= 400 && resp.StatusCode < 500 && !answerable && strings.Contains(ans.Error.Message, " / "):
			n.refused++
		default:
			t.Errorf("verify %s (%s): %d %s; want %s", f.name, f.what,
				resp.StatusCode, raw, map[bool]string{true: "200 none", false: "a bilingual JSON 4xx"}[answerable])
		}
		t.Logf("verify %s: %d %s%s", f.name, resp.StatusCode, ans.Match, ans.Error.Code)
		if err := sameHealthyServer(a, srv, pid); err != nil {
			t.Fatalf("after verifying %s: %v", f.name, err)
		}
	}
	return n
}

// tusCorpus sends the files refused at upload again over tus, the
// resumable path the upload page uses: each must be refused there too
// with a bilingual JSON 4xx (at its first bytes, or at its end when it
// is shorter than the sniffer's 512), and none may complete.
func tusCorpus(t *testing.T, a *api, srv *serverProc, pid int, corpus []hostileFile) (refused int) {
	t.Helper()
	do := func(method, url string, body []byte, h map[string]string) (*http.Response, []byte) {
		req, _ := http.NewRequest(method, url, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+a.token)
		req.Header.Set("Tus-Resumable", "1.0.0")
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := a.hc.Do(req)
		if err != nil {
			t.Fatalf("tus %s %s: %v", method, url, err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp, raw
	}
	for _, f := range corpus {
		if f.want != wantRefused {
			continue
		}
		resp, raw := do(http.MethodPost, a.base+"/api/v1/uploads/", nil, map[string]string{
			"Upload-Length":   strconv.Itoa(len(f.data)),
			"Upload-Metadata": "filename " + base64.StdEncoding.EncodeToString([]byte(f.name)),
		})
		if resp.StatusCode == http.StatusCreated && len(f.data) > 0 {
			resp, raw = do(http.MethodPatch, a.base+resp.Header.Get("Location"), f.data, map[string]string{
				"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream",
			})
		}
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		json.Unmarshal(raw, &e)
		if resp.StatusCode < 400 || resp.StatusCode >= 500 || !strings.Contains(e.Error.Message, " / ") || resp.Header.Get("Acervo-Asset-Id") != "" {
			t.Errorf("tus %s (%s): %d %s, want a bilingual JSON 4xx", f.name, f.what, resp.StatusCode, raw)
		} else {
			refused++
		}
		if err := sameHealthyServer(a, srv, pid); err != nil {
			t.Fatalf("after tus %s: %v", f.name, err)
		}
	}
	return refused
}
