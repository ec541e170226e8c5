package transcode

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestExifToolRead(t *testing.T) {
	et := newExifTool(t)
	dir := t.TempDir()
	path := writeTestPhoto(t, dir, "fotografía ñandú", "jpeg", drawPhoto(120, 80))
	exiftoolWrite(t, path, "-Model=100", "-Make=Sony")
	tags, err := et.Read(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tags["SourceFile"], path; got != want {
		t.Errorf("SourceFile %v, want %v", got, want)
	}
	if got, want := tags["File:ImageWidth"], json.Number("120"); got != want {
		t.Errorf("File:ImageWidth %#v, want %#v", got, want)
	}
	if got, want := tags["IFD0:Make"], "Sony"; got != want {
		t.Errorf("IFD0:Make %#v, want %#v", got, want)
	}
	if got, want := parsePhotoMeta(tags, time.UTC).CameraModel, "100"; got != want {
		t.Errorf("numeric model parsed as %q, want %q", got, want)
	}
}

func TestExifToolConcurrentReads(t *testing.T) {
	et := newExifTool(t)
	dir := t.TempDir()
	var paths []string
	for i := range 6 {
		p := writeTestPhoto(t, dir, fmt.Sprintf("photo%d", i), "png", drawPhoto(100+i, 50))
		paths = append(paths, p)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 12 {
				p := paths[(g+i)%len(paths)]
				tags, err := et.Read(t.Context(), p)
				if err != nil {
					t.Error(err)
					return
				}
				want := json.Number(fmt.Sprint(100 + (g+i)%len(paths)))
				if tags["SourceFile"] != p || tags["PNG:ImageWidth"] != want {
					t.Errorf("read %s: got SourceFile %v width %v", p, tags["SourceFile"], tags["PNG:ImageWidth"])
				}
			}
		}()
	}
	wg.Wait()
}

func TestExifToolBadPaths(t *testing.T) {
	et := newExifTool(t)
	dir := t.TempDir()
	good := writeTestPhoto(t, dir, "good", "jpeg", drawPhoto(64, 48))
	cases := []struct {
		name, path, want string
	}{
		{"newline", filepath.Join(dir, "a\nb"), "newline"},
		{"carriage return", filepath.Join(dir, "a\rb"), "newline"},
		{"missing", filepath.Join(dir, "missing"), "File not found"},
		// Would be an option if passed as it is; an absolute path is not.
		{"option-like name", "-ver", "File not found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := et.Read(t.Context(), tc.path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
			// The next file is unaffected.
			if _, err := et.Read(t.Context(), good); err != nil {
				t.Fatalf("read after a bad path: %v", err)
			}
		})
	}
}

// A read that times out kills the process; the next read starts a new one.
func TestExifToolTimeoutRestarts(t *testing.T) {
	requireTools(t, "exiftool")
	et, err := NewExifTool(ExifToolConfig{Timeout: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer et.Close()
	path := writeTestPhoto(t, t.TempDir(), "photo", "jpeg", drawPhoto(64, 48))
	if _, err := et.Read(t.Context(), path); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("error %v, want a timeout that killed exiftool", err)
	}
	et.mu.Lock()
	if et.proc != nil {
		t.Error("the process was kept after a timeout")
	}
	et.cfg.Timeout = 20 * time.Second
	et.mu.Unlock()
	if _, err := et.Read(t.Context(), path); err != nil {
		t.Fatalf("read after the restart: %v", err)
	}
}

// A process that died between reads is replaced without failing the next file.
func TestExifToolProcessDied(t *testing.T) {
	et := newExifTool(t)
	path := writeTestPhoto(t, t.TempDir(), "photo", "jpeg", drawPhoto(64, 48))
	if _, err := et.Read(t.Context(), path); err != nil {
		t.Fatal(err)
	}
	et.mu.Lock()
	pid := et.proc.cmd.Process.Pid
	et.mu.Unlock()
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if _, err := et.Read(t.Context(), path); err != nil {
		t.Fatalf("read after exiftool died: %v", err)
	}
}

func TestExifToolClose(t *testing.T) {
	requireTools(t, "exiftool")
	et, err := NewExifTool(ExifToolConfig{})
	if err != nil {
		t.Fatal(err)
	}
	path := writeTestPhoto(t, t.TempDir(), "photo", "jpeg", drawPhoto(64, 48))
	if _, err := et.Read(t.Context(), path); err != nil {
		t.Fatal(err)
	}
	pid := et.proc.cmd.Process.Pid
	if err := et.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("exiftool (pid %d) still running after Close", pid)
	}
	if _, err := et.Read(t.Context(), path); err == nil {
		t.Error("Read after Close succeeded")
	}
}

func TestNewExifToolMissingProgram(t *testing.T) {
	if _, err := NewExifTool(ExifToolConfig{Path: filepath.Join(t.TempDir(), "no-exiftool")}); err == nil {
		t.Fatal("NewExifTool with a missing program succeeded")
	}
}
