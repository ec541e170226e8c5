package server

import (
	"mime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzFilename: what a client sends as a file name (multipart filename, tus metadata)
// is kept as a bare name: valid UTF-8, no path separators, no control characters,
// never "." or "..", at most 255 bytes, never empty. Every Content-Disposition built
// from a name, clean or not (downloads, clips, ZIPs of collections and shares), has no
// control characters and parses back, with mime.ParseMediaType, to exactly that name.
func FuzzFilename(f *testing.F) {
	for _, s := range []string{
		"Inauguración del parque.jpg", "foto.JPG", "", " ", "..", ".", "../../etc/passwd",
		`C:\Users\ana\Fotos\evento.heic`, "a/b/c.mp4", "informe\r\nX-Injected: 1.pdf",
		"reunión: 10:30 @ sala=2.mov", "100% \"real\"; final.jpg", "e\u0301xito.png",
		"\x00\x7f\u200b\ufeff.jpg", strings.Repeat("ñ", 200) + ".jpg", "\xff\xfe bad utf8.jpg",
		"=?UTF-8?B?Zm90by5qcGc=?=", "name*=UTF-8''x.jpg",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		name := cleanFilename(raw)
		switch {
		case name == "" || name == "." || name == "..":
			t.Fatalf("cleanFilename(%q) = %q", raw, name)
		case len(name) > 255:
			t.Fatalf("cleanFilename(%q) is %d bytes", raw, len(name))
		case !utf8.ValidString(name):
			t.Fatalf("cleanFilename(%q) = %q: not UTF-8", raw, name)
		case strings.ContainsAny(name, `/\`):
			t.Fatalf("cleanFilename(%q) = %q: a path", raw, name)
		case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
			t.Fatalf("cleanFilename(%q) = %q: control character", raw, name)
		}
		if again := cleanFilename(name); again != name {
			t.Fatalf("cleanFilename not idempotent: %q → %q → %q", raw, name, again)
		}
		checkAttachment(t, name)
		checkAttachment(t, raw)
		checkAttachment(t, clipName(name, 65500*time.Millisecond, 92*time.Second)+".mp4")
	})
}

// checkAttachment: the header carries no control characters and parses back to name.
func checkAttachment(t *testing.T, name string) {
	t.Helper()
	v := attachment(name)
	if strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r >= 0x7f }) {
		t.Fatalf("attachment(%q) = %q: not printable ASCII", name, v)
	}
	disp, params, err := mime.ParseMediaType(v)
	if err != nil || disp != "attachment" {
		t.Fatalf("attachment(%q) = %q: ParseMediaType: %q, %v", name, v, disp, err)
	}
	if params["filename"] != name {
		t.Fatalf("attachment(%q) = %q reads back as %q", name, v, params["filename"])
	}
}
