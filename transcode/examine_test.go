package transcode

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestExaminePhoto: a picture is hashed from the child's small copy,
// upright when exiftool reads its orientation, and matches the
// fingerprint of the same picture; other files are refused; scratch is
// left empty either way.
func TestExaminePhoto(t *testing.T) {
	requireTools(t, "exiftool", "djpeg", "cjpeg")
	dir := t.TempDir()
	scratch := t.TempDir()
	img := drawPhoto(1600, 1200)
	path := writeTestPhoto(t, dir, "foto", "jpeg", img)
	exiftoolWrite(t, path, "-n", "-Orientation=6")
	ctx := context.Background()

	s, err := Examiner{Exif: newExifTool(t)}.Examine(ctx, path, scratch)
	if err != nil {
		t.Fatal(err)
	}
	b := s.Picture.Bounds()
	if s.Kind != "photo" || b.Dx() != 768 || b.Dy() != 1024 {
		t.Errorf("sample: %s %v, want an upright photo of 768×1024", s.Kind, b)
	}
	asStored, err := Examiner{}.Examine(ctx, path, scratch)
	if err != nil {
		t.Fatal(err)
	}
	if b := asStored.Picture.Bounds(); b.Dx() != 1024 {
		t.Errorf("without exiftool: %v, want as stored (1024 wide)", b)
	}
	if d := Distance(asStored.Photo, Fingerprint(img)); d > SimilarDistance {
		t.Errorf("distance to the original's fingerprint = %d, want ≤ %d", d, SimilarDistance)
	}

	pdf := filepath.Join(dir, "doc")
	os.WriteFile(pdf, []byte("%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"), 0o644)
	if _, err := (Examiner{}).Examine(ctx, pdf, scratch); !errors.Is(err, ErrUnsupported) {
		t.Errorf("PDF: %v, want ErrUnsupported", err)
	}
	broken := filepath.Join(dir, "broken")
	os.WriteFile(broken, append([]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), make([]byte, 600)...), 0o644)
	if _, err := (Examiner{}).Examine(ctx, broken, scratch); !errors.Is(err, ErrUnsupported) {
		t.Errorf("broken JPEG: %v, want ErrUnsupported", err)
	}
	if left, _ := os.ReadDir(scratch); len(left) != 0 {
		t.Errorf("scratch holds %d files, want none", len(left))
	}
}
