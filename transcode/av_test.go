package transcode

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// canary is a FIFO standing for another asset's original (named .ts, so
// that the HLS demuxer's extension check does not refuse it first). Any
// process that opens it for reading blocks until a writer comes; the
// watcher's non-blocking open for writing succeeds exactly then, so it sees
// every open, feeds the opener a marker and records it.
type canary struct {
	Path   string
	Marker string
	opened atomic.Bool
	stop   chan struct{}
	done   sync.WaitGroup
}

func newCanary(t *testing.T, dir string) *canary {
	t.Helper()
	c := &canary{Path: filepath.Join(dir, "canary.ts"), Marker: "CANARY-" + randomHex(), stop: make(chan struct{})}
	if err := unix.Mkfifo(c.Path, 0o644); err != nil {
		t.Fatal(err)
	}
	c.done.Add(1)
	go func() {
		defer c.done.Done()
		for {
			select {
			case <-c.stop:
				return
			case <-time.After(time.Millisecond):
			}
			fd, err := unix.Open(c.Path, unix.O_WRONLY|unix.O_NONBLOCK, 0)
			if err != nil {
				continue // ENXIO: no reader
			}
			c.opened.Store(true)
			unix.Write(fd, []byte(c.Marker))
			unix.Close(fd)
		}
	}()
	t.Cleanup(c.close)
	return c
}

func (c *canary) close() {
	select {
	case <-c.stop:
	default:
		close(c.stop)
	}
	c.done.Wait()
}

// wasOpened stops the watcher and tells whether anything opened the canary.
func (c *canary) wasOpened() bool {
	time.Sleep(20 * time.Millisecond) // an open in progress is seen by now
	c.close()
	return c.opened.Load()
}

// hostileFiles are originals that try to make ffmpeg read something else.
// plainFollows marks those an ffprobe without our options would follow to
// the canary (the concat demuxer's safe mode refuses absolute paths).
var hostileFiles = []struct {
	name         string
	content      func(canary string) string
	plainFollows bool
}{
	{"HLS playlist, absolute path", func(c string) string {
		return "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n" + c + "\n#EXT-X-ENDLIST\n"
	}, true},
	{"HLS playlist, relative path", func(string) string {
		return "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\ncanary.ts\n#EXT-X-ENDLIST\n"
	}, true},
	{"ffconcat, absolute path", func(c string) string { return "ffconcat version 1.0\nfile " + c + "\n" }, false},
	{"ffconcat, relative path", func(string) string { return "ffconcat version 1.0\nfile canary.ts\nduration 2\n" }, true},
	{"SDP session", func(string) string {
		return "v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 127.0.0.1\nt=0 0\nm=video 5004 RTP/AVP 96\na=rtpmap:96 H264/90000\n"
	}, false},
	{"PNG image", func(string) string {
		return "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x02\x00\x00\x00\x90\x91h6"
	}, false},
	{"text", func(string) string { return "Boletín de prensa 123/2025\n" }, false},
	{"empty", func(string) string { return "" }, false},
}

// TestHostileFilesRefused gives RenderAV and Clip files that would make
// an unrestricted ffmpeg open another file, under the name x.mp4: each is
// refused as a permanent "unsupported format", nothing opens the canary,
// and nothing is written.
func TestHostileFilesRefused(t *testing.T) {
	requireTools(t, "ffmpeg", "ffprobe")
	for _, tc := range hostileFiles {
		t.Run(tc.name, func(t *testing.T) {
			cfg := avConfig(t)
			write := func() (string, *canary) {
				dir := t.TempDir()
				c := newCanary(t, dir)
				path := filepath.Join(dir, "x.mp4")
				if err := os.WriteFile(path, []byte(tc.content(c.Path)), 0o644); err != nil {
					t.Fatal(err)
				}
				return path, c
			}
			if tc.plainFollows {
				// The control: the watcher sees what an unrestricted ffprobe does.
				path, c := write()
				exec.Command("ffprobe", "-v", "quiet", "-i", path).Run()
				if !c.wasOpened() {
					t.Fatal("control: a plain ffprobe did not open the canary; the test cannot see opens")
				}
			}
			path, c := write()
			_, err := RenderAV(t.Context(), cfg, path)
			if !IsPermanent(err) || !strings.Contains(err.Error(), "unsupported format") {
				t.Errorf("RenderAV error %v, want a permanent unsupported format", err)
			}
			t.Logf("RenderAV: %v", err)
			var clip bytes.Buffer
			for _, audio := range []bool{false, true} {
				err = Clip(t.Context(), cfg, ClipRequest{Src: path, Start: 0, End: time.Second, Audio: audio}, &clip)
				if !errors.Is(err, ErrUnsupported) {
					t.Errorf("Clip error %v, want ErrUnsupported", err)
				}
			}
			if c.wasOpened() {
				t.Error("the canary was opened")
			}
			if clip.Len() > 0 {
				t.Errorf("Clip wrote %d bytes", clip.Len())
			}
			if files := scratchFiles(t, cfg.ScratchDir); len(files) != 0 {
				t.Errorf("ScratchDir holds %v", files)
			}
			for _, f := range []string{path} {
				if b, _ := os.ReadFile(f); strings.Contains(string(b), c.Marker) {
					t.Errorf("%s holds the canary's marker", f)
				}
			}
			if strings.Contains(err.Error(), c.Marker) {
				t.Errorf("error %q holds the canary's marker", err)
			}
		})
	}
}

// TestRenderAVDeadline gives a two-minute video a deadline far too short:
// the render fails as retryable, and no ffmpeg is left running.
func TestRenderAVDeadline(t *testing.T) {
	cfg := avConfig(t)
	dir := t.TempDir()
	src := genMedia(t, filepath.Join(dir, "long"), "-f", "lavfi", "-i", "testsrc=s=320x240:r=25:d=120",
		"-c:v", "mpeg2video", "-q:v", "20", "-f", "mpegts")
	cfg.TimeoutBase, cfg.TimeoutPerSecond = 500*time.Millisecond, time.Nanosecond
	start := time.Now()
	_, err := RenderAV(t.Context(), cfg, src)
	if err == nil || IsPermanent(err) || !strings.Contains(err.Error(), "took longer than") {
		t.Fatalf("error %v, want a retryable deadline error", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("returned after %v", d)
	}
	if procs := processesWith(t, dir); len(procs) > 0 {
		t.Errorf("processes left behind: %v", procs)
	}
	if files := scratchFiles(t, cfg.ScratchDir); len(files) != 0 {
		t.Errorf("ScratchDir holds %v", files)
	}
}

// processesWith lists the live (not zombie) processes whose command line
// mentions s.
func processesWith(t *testing.T, s string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !strings.Contains(string(cmdline), s) {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if strings.Contains(string(stat), ") Z") {
			continue
		}
		out = append(out, e.Name()+": "+strings.ReplaceAll(string(cmdline), "\x00", " "))
	}
	return out
}

// TestAVMemoryLimit checks that the limit reaches ffprobe and ffmpeg: in
// 16 MiB of address space they cannot even load their libraries, and the
// job fails as retryable (the machine's fault, not the file's).
func TestAVMemoryLimit(t *testing.T) {
	cfg := avConfig(t)
	src := genMedia(t, filepath.Join(t.TempDir(), "original"), lavfiAV("testsrc2=s=320x240:r=25:d=1", "libx264", "aac", "mp4")...)
	cfg.MemoryLimit = 16 << 20
	_, err := RenderAV(t.Context(), cfg, src)
	if err == nil || IsPermanent(err) {
		t.Fatalf("error %v, want a retryable failure", err)
	}
	if files := scratchFiles(t, cfg.ScratchDir); len(files) != 0 {
		t.Errorf("ScratchDir holds %v", files)
	}
}
