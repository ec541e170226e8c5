package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The tus half of the crash test: uploads sent as a resuming tus client
// would (creation, PATCHes of about a third each, HEAD then the rest after
// a cut), witnessed when the PATCH that completes them answers 2xx with
// Acervo-Asset-Id.

// tusChunks is how many PATCHes a tus upload of the crash test takes at most.
const tusChunks = 3

// postTusUpload sends u over tus, resuming u.tusPath when an earlier try
// created it. The outcome reads like a multipart one: status 201, or 200
// for a duplicate, with the asset's id, once the upload is acknowledged.
func postTusUpload(a *api, u upload, pace time.Duration) outcome {
	o := outcome{upload: u}
	size, offset := len(u.jpeg), 0
	if u.tusPath != "" {
		resp, err := tusDo(a, http.MethodHead, u.tusPath, nil, nil)
		if err != nil {
			o.err = err
			return o
		}
		switch resp.StatusCode {
		case http.StatusOK:
			if offset, err = strconv.Atoi(resp.Header.Get("Upload-Offset")); err != nil || offset > size {
				o.status, o.body = resp.StatusCode, fmt.Sprintf("HEAD: Upload-Offset %q of %d bytes", resp.Header.Get("Upload-Offset"), size)
				return o
			}
			o.resumedAt = offset
		case http.StatusNotFound:
			// Finished and removed (its answer was lost), or never resumable
			// (cut while tusd created it): start again.
			o.upload.tusPath = ""
		default:
			o.status, o.body = resp.StatusCode, "HEAD: "+readBody(resp)
			return o
		}
	}
	if o.upload.tusPath == "" {
		meta := "filename " + base64.StdEncoding.EncodeToString([]byte(u.name)) +
			",event " + base64.StdEncoding.EncodeToString([]byte(u.event))
		resp, err := tusDo(a, http.MethodPost, "/api/v1/uploads/", nil, map[string]string{
			"Upload-Length": strconv.Itoa(size), "Upload-Metadata": meta,
		})
		if err != nil {
			o.err = err
			return o
		}
		if resp.StatusCode != http.StatusCreated || !strings.HasPrefix(resp.Header.Get("Location"), "/api/v1/uploads/") {
			o.status, o.body = resp.StatusCode, "creation: Location "+resp.Header.Get("Location")+": "+readBody(resp)
			return o
		}
		o.upload.tusPath = resp.Header.Get("Location")
	}
	// An upload whose bytes all arrived before a kill gets one empty PATCH
	// at its full offset, which finishes it.
	chunk := size/tusChunks + 1
	for {
		end := min(offset+chunk, size)
		body := newPacedReader(u.jpeg[offset:end], pace*time.Duration(end-offset)/time.Duration(size))
		resp, err := tusDo(a, http.MethodPatch, o.upload.tusPath, body, map[string]string{
			"Content-Type": "application/offset+octet-stream", "Upload-Offset": strconv.Itoa(offset),
			"Content-Length": strconv.Itoa(end - offset),
		})
		if err != nil {
			o.err = err
			return o
		}
		if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Upload-Offset") != strconv.Itoa(end) {
			o.status, o.body = resp.StatusCode, fmt.Sprintf("PATCH at %d: Upload-Offset %q: %s", offset, resp.Header.Get("Upload-Offset"), readBody(resp))
			return o
		}
		if id := resp.Header.Get("Acervo-Asset-Id"); id != "" {
			o.status = http.StatusCreated
			if resp.Header.Get("Acervo-Duplicate") == "true" {
				o.status = http.StatusOK
			}
			// The header names the asset; checkWitnessed then reads its
			// sha256, filename and bytes back after each restart.
			o.asset = assetJSON{ID: id, SHA256: u.sha, Filename: u.name, Duplicate: o.status == http.StatusOK}
			return o
		}
		if end == size {
			o.status, o.body = resp.StatusCode, "the PATCH that completed the upload carried no Acervo-Asset-Id"
			return o
		}
		offset = end
	}
}

// tusDo sends one tus request and reads its answer whole: a cut body is a
// transport error like a cut connection.
func tusDo(a *api, method, path string, body io.Reader, h map[string]string) (*http.Response, error) {
	req, err := http.NewRequest(method, a.base+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Tus-Resumable", "1.0.0")
	for k, v := range h {
		if k == "Content-Length" {
			req.ContentLength, _ = strconv.ParseInt(v, 10, 64)
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(strings.NewReader(string(raw)))
	return resp, nil
}

func readBody(resp *http.Response) string {
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// checkUploadsFolder applies the rule for data/uploads after the kills:
// tus uploads that can resume stay (until UploadExpiry without progress),
// so they are not garbage; anything else is. Every entry must be an
// upload with both its bytes and a readable info, no longer than declared;
// and a complete one (every byte there, no asset committed or its answer
// lost) must be one the client still means to finish, an upload cut in the
// last round, since any other was finished by its retry.
func checkUploadsFolder(t *testing.T, data string, lastCut []upload) {
	t.Helper()
	dir := filepath.Join(data, "uploads")
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	pending := map[string]bool{}
	for _, u := range lastCut {
		if u.tusPath != "" {
			pending[filepath.Base(u.tusPath)] = true
		}
	}
	resumable := 0
	for _, e := range entries {
		id, isInfo := strings.CutSuffix(e.Name(), ".info")
		if isInfo {
			continue // looked at with its bytes
		}
		var info struct {
			ID       string
			Size     int64
			MetaData map[string]string
		}
		raw, err := os.ReadFile(filepath.Join(dir, id+".info"))
		if err == nil {
			err = json.Unmarshal(raw, &info)
		}
		st, serr := os.Stat(filepath.Join(dir, id))
		switch {
		case err != nil || serr != nil || info.ID != id:
			t.Errorf("data/uploads/%s cannot resume (info: %v; bytes: %v) yet was kept", id, err, serr)
		case st.Size() > info.Size:
			t.Errorf("data/uploads/%s (%s) holds %d bytes of %d", id, info.MetaData["filename"], st.Size(), info.Size)
		case st.Size() == info.Size && !pending[id]:
			t.Errorf("data/uploads/%s (%s) is complete but was never finished", id, info.MetaData["filename"])
		default:
			resumable++
		}
	}
	for _, e := range entries {
		if id, ok := strings.CutSuffix(e.Name(), ".info"); ok {
			if _, err := os.Stat(filepath.Join(dir, id)); err != nil {
				t.Errorf("data/uploads/%s has no bytes beside it", e.Name())
			}
		}
	}
	t.Logf("data/uploads: %d resumable tus uploads left (%d cut in the last round); nothing else", resumable, len(pending))
}
