package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/comsoc/acervo/catalog"
)

// TestImportFolderTree runs `acervo user add` and `acervo import` as an
// admin would on an old archive disk: photos in nested folders, a copy of
// one of them, a text file and a hidden trash folder. A second run after
// new files arrive imports only those (the journal), and every imported
// photo is processed before import returns.
func TestImportFolderTree(t *testing.T) {
	if testing.Short() {
		t.Skip("-short mode: builds and runs the binary")
	}
	requireTools(t, "exiftool", "djpeg")
	bin := buildAcervo(t)
	data := filepath.Join(t.TempDir(), "data")
	disk := t.TempDir()
	write := func(rel string, b []byte) {
		p := filepath.Join(disk, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		write(filepath.Join("2019", "Informe de gobierno", "foto"+string(rune('a'+i))+".jpg"), drawJPEG(uint64(100+i), 800, 600, 10, 85))
	}
	write(filepath.Join("2020", "copia.jpg"), drawJPEG(100, 800, 600, 10, 85)) // same bytes as fotoa.jpg
	write(filepath.Join("2020", "notas.txt"), []byte("lista de fotógrafos"))
	write(filepath.Join("2020", ".Trashes", "borrada.jpg"), drawJPEG(999, 200, 200, 10, 85))

	run := func(env []string, args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("acervo %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run([]string{"ACERVO_PASSWORD=contraseña-de-prueba"}, "user", "add", "admin", "--role", "admin", "--data", data)

	out := run(nil, "import", "--data", data, "--event", "Informe de gobierno 2019", disk)
	for _, want := range []string{"7 archivos", "5 nuevos", "1 duplicados", "1 omitidos", "notas.txt"} {
		if !strings.Contains(out, want) {
			t.Errorf("first import output lacks %q:\n%s", want, out)
		}
	}

	write(filepath.Join("2021", "nueva.jpg"), drawJPEG(200, 640, 480, 10, 85))
	out = run(nil, "import", "--data", data, disk)
	if !strings.Contains(out, "1 nuevos") || !strings.Contains(out, "7 ya importados") {
		t.Errorf("second import should add only the new photo:\n%s", out)
	}

	cat, err := catalog.Open(catalog.Config{Path: filepath.Join(data, "catalog.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	if err := cat.Check(); err != nil {
		t.Error(err)
	}
	n := 0
	err = cat.EachAsset(func(a catalog.Asset) error {
		n++
		if a.Status != catalog.StatusReady {
			t.Errorf("%s is %s (%s) after import returned", a.Filename, a.Status, a.Error)
		}
		if strings.HasPrefix(a.Filename, "foto") && (a.Event == nil || a.Event.Name != "Informe de gobierno 2019") {
			t.Errorf("%s event = %+v", a.Filename, a.Event)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 6 {
		t.Errorf("%d assets, want 6 (5 photos + 1 new; the copy is a duplicate)", n)
	}
}
