package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	tusd "github.com/tus/tusd/v2/pkg/handler"
	"golang.org/x/text/unicode/norm"
)

// FuzzTusHeaders: an Upload-Metadata header, parsed by tusd as the POST that creates an
// upload is, goes through beforeCreate. Accepted metadata holds only the fields Acervo
// reads, each valid UTF-8, NFC, trimmed and within maxFieldBytes, and the owner is the
// signed-in user whatever the client claimed; the asset it would become has a clean
// file name. Refused metadata is a 400 with the API's JSON error. And any error tusd
// writes in its own text form (status, "ERR_CODE: message") reaches the client as the
// API's JSON, 5xx ones without tusd's internal text.
func FuzzTusHeaders(f *testing.F) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	f.Add("filename "+b64("Inauguración.jpg")+",event "+b64("Informe")+",tags "+b64("parque, obra"), 400, "ERR_INVALID_OFFSET: invalid offset")
	f.Add("filename "+b64("../../x.jpg")+",acervo_owner "+b64("admin"), 404, "ERR_UPLOAD_NOT_FOUND: upload not found")
	f.Add("filename "+b64("\xff\xfe.jpg"), 500, "ERR_INTERNAL_SERVER_ERROR: open /data/uploads/abc: permission denied")
	f.Add("title "+b64(strings.Repeat("x", 100)), 413, "ERR_MAX_SIZE_EXCEEDED: maximum size exceeded")
	f.Add("filename,caption "+b64(" e\u0301 \n"), 409, "")
	f.Add("ocr dHJ1ZQ==,people "+b64("Ana,Luis"), 460, "no colon here")
	f.Add("filename !!!notbase64,  , a b c,", 503, ": \x00")
	f.Fuzz(checkTusHeaders)
}

// TestTusMetadataTooLong is FuzzTusHeaders on a value over maxFieldBytes: not a fuzz
// seed, since the fuzzer would spend its time minimising an input of 87 KB.
func TestTusMetadataTooLong(t *testing.T) {
	long := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("x", maxFieldBytes+1)))
	checkTusHeaders(t, "filename YS5qcGc=,title "+long, 413, "ERR_MAX_SIZE_EXCEEDED: maximum size exceeded")
}

func checkTusHeaders(t *testing.T, header string, status int, tusBody string) {
	user := "user-1"
	srv := &Server{cfg: Config{Log: slog.New(slog.DiscardHandler)}}
	tu := &tusUploads{s: srv}
	ctx := context.WithValue(context.Background(), tusUserKey{}, user)
	client := tusd.ParseMetadataHeader(header)
	ev := tusd.HookEvent{Context: ctx, Upload: tusd.FileInfo{Size: 1, MetaData: client}}
	_, changes, err := tu.beforeCreate(ev)
	allowed := append([]string{tusOwnerKey, "filename"}, tusFields...)
	wantRefused := false
	for _, k := range allowed[1:] {
		if v, ok := client[k]; ok && (len(v) > maxFieldBytes || !utf8.ValidString(v)) {
			wantRefused = true
		}
	}
	if err != nil {
		var te tusd.Error
		te, ok := err.(tusd.Error)
		if !ok || te.HTTPResponse.StatusCode != http.StatusBadRequest || !wantRefused {
			t.Fatalf("metadata %q refused with %v", client, err)
		}
		checkErrorJSON(t, []byte(te.HTTPResponse.Body), "invalid")
		return
	}
	if wantRefused {
		t.Fatalf("metadata %q accepted", client)
	}
	meta := changes.MetaData
	if meta[tusOwnerKey] != user {
		t.Fatalf("owner %q, want %q (client sent %q)", meta[tusOwnerKey], user, client[tusOwnerKey])
	}
	for k, v := range meta {
		if !slices.Contains(allowed, k) {
			t.Fatalf("metadata key %q kept", k)
		}
		if k != tusOwnerKey && (len(v) > maxFieldBytes || !utf8.ValidString(v) || !norm.NFC.IsNormalString(v) || v != strings.TrimSpace(v)) {
			t.Fatalf("metadata %s = %q kept as is", k, v)
		}
	}
	fields := map[string][]string{}
	for _, k := range tusFields {
		if v, ok := meta[k]; ok {
			fields[k] = []string{v}
		}
	}
	n := newAssetFrom(fields, meta["filename"], meta[tusOwnerKey])
	if n.Filename != cleanFilename(n.Filename) || n.UploadedBy != user {
		t.Fatalf("asset from metadata: filename %q, uploaded by %q", n.Filename, n.UploadedBy)
	}
	for _, l := range [][]string{n.Tags, n.People} {
		for _, s := range l {
			if s == "" || s != strings.TrimSpace(s) || strings.Contains(s, ",") {
				t.Fatalf("list entry %q", s)
			}
		}
	}

	// tusd's own error, rewritten.
	status = 400 + abs(status)%200
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPatch, tusBase+"0123456789abcdef", nil)
	w := &tusErrorWriter{ResponseWriter: rec, s: srv, req: req}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(tusBody)))
	w.WriteHeader(status)
	if tusBody != "" {
		w.Write([]byte(tusBody))
	}
	w.finishTus()
	if rec.Code != status || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") ||
		rec.Header().Get("Content-Length") != strconv.Itoa(rec.Body.Len()) {
		t.Fatalf("tusd's %d %q became %d %q (length %s, body %d bytes)", status, tusBody, rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Content-Length"), rec.Body.Len())
	}
	e := checkErrorJSON(t, rec.Body.Bytes(), "")
	if status >= 500 && (e.Code != "internal" || !strings.HasPrefix(e.Message, "Error interno / internal error (id ")) {
		t.Fatalf("tusd's %d %q shown to the client as %+v", status, tusBody, e)
	}
}

func abs(n int) int {
	if n < 0 {
		return -(n + 1)
	}
	return n
}

type errorBody struct{ Code, Message string }

// checkErrorJSON parses the API's error shape; code "" accepts any non-empty code.
func checkErrorJSON(t *testing.T, body []byte, code string) errorBody {
	t.Helper()
	var v struct{ Error errorBody }
	if err := json.Unmarshal(body, &v); err != nil || v.Error.Code == "" || v.Error.Message == "" || (code != "" && v.Error.Code != code) {
		t.Fatalf("error body %q (%v)", body, err)
	}
	return v.Error
}
