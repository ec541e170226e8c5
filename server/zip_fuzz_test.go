package server

import (
	"archive/zip"
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/comsoc/acervo/catalog"
)

// FuzzZipNames: the entries of a collection's or a share's ZIP, named from the users'
// file names, are local names (never absolute, no separators, no ".." or leading dot),
// without control characters or characters Windows refuses, valid UTF-8, unique even on
// a case-insensitive file system, in the collection's order, and archive/zip reads them
// back as written. The ZIP's own name (a share's title) makes a sound Content-Disposition.
func FuzzZipNames(f *testing.F) {
	f.Add("foto.jpg", "FOTO.jpg", "../../x.jpg", uint8(5), "Prensa 2025/26")
	f.Add("", "...", `C:\a\b.mp4`, uint8(3), "")
	f.Add("a:b*c?.pdf", "con.txt", "x\x00y.jpg", uint8(7), "..")
	f.Add(strings.Repeat("é", 150)+".jpeg", strings.Repeat("a", 300)+".verylongextension", "nombre (2).jpg", uint8(4), "\xff")
	f.Add("01_x.jpg", "x.jpg", "x (2).jpg", uint8(9), "Informe anual")
	f.Fuzz(func(t *testing.T, a, b, c string, n uint8, title string) {
		mimes := []string{"image/jpeg", "video/mp4", "application/pdf", "", "x/unknown"}
		var assets []catalog.Asset
		for i := range int(n%12) + 1 {
			assets = append(assets, catalog.Asset{
				ID:       catalog.NewID(time.Unix(int64(i), 0)),
				Filename: []string{a, b, c}[i%3],
				MIME:     mimes[i%len(mimes)],
			})
		}
		names := zipNames(assets)
		if len(names) != len(assets) {
			t.Fatalf("%d names for %d assets", len(names), len(assets))
		}
		seen := map[string]bool{}
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for i, name := range names {
			switch {
			case !filepath.IsLocal(name) || strings.HasPrefix(name, "."):
				t.Fatalf("entry %q (from %q) is not a local name", name, assets[i].Filename)
			case strings.ContainsAny(name, `/\<>:"|?*`):
				t.Fatalf("entry %q has a separator or a character Windows refuses", name)
			case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
				t.Fatalf("entry %q has a control character", name)
			case !utf8.ValidString(name):
				t.Fatalf("entry %q is not UTF-8", name)
			case len(name) > 255:
				t.Fatalf("entry %q is %d bytes", name, len(name))
			case seen[strings.ToLower(name)]:
				t.Fatalf("entry %q twice in %q", name, names)
			case i > 0 && name <= names[i-1]:
				t.Fatalf("entries out of order: %q then %q", names[i-1], name)
			}
			seen[strings.ToLower(name)] = true
			if _, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store}); err != nil {
				t.Fatal(err)
			}
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatalf("archive/zip refuses the archive: %v", err)
		}
		for i, zf := range zr.File {
			if zf.Name != names[i] {
				t.Fatalf("entry %d reads back as %q, written %q", i, zf.Name, names[i])
			}
		}

		zt := zipTitle(title)
		if zt == "" || strings.ContainsAny(zt, `/\`) || strings.HasPrefix(zt, ".") {
			t.Fatalf("zipTitle(%q) = %q", title, zt)
		}
		checkAttachment(t, zt+".zip")
	})
}
