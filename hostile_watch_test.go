package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
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

// What watches the hostile corpus run: the canary (inotify), the
// listener, the server's children, and the row for scripts/soak.

// serverChildren lists the live processes whose parent is pid, but for the
// one exiftool -stay_open the server keeps for metadata: every decoder and
// ffmpeg must be gone once the jobs are settled.
func serverChildren(pid int) []string {
	entries, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range entries {
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces, so split after ')'.
		s := string(stat)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		var state string
		var ppid int
		fmt.Sscanf(s[i+1:], " %s %d", &state, &ppid)
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if ppid == pid && state != "Z" && !bytes.Contains(cmdline, []byte("exiftool\x00-stay_open\x00True")) {
			out = append(out, strings.TrimSpace(s[:i+1])+": "+strings.ReplaceAll(string(cmdline), "\x00", " "))
		}
	}
	return out
}

func filesUnder(t *testing.T, root string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func canaryToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// silentFLAC is two seconds of 8 kHz mono silence, for the file that
// claims ten hours.
func silentFLAC(t *testing.T, dir string) []byte {
	t.Helper()
	out := filepath.Join(dir, "silencio.flac")
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono",
		"-t", "2", "-c:a", "flac", "-y", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// countingListener accepts and drops connections, counting them.
type countingListener struct {
	addr  string
	conns atomic.Int64
}

func listenCounting(t *testing.T) *countingListener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &countingListener{addr: ln.Addr().String()}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			l.conns.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return l
}

// controlWatchers proves the watchers can fail: a plain ffprobe, without
// Acervo's options, given the two playlists of the corpus, opens the
// canary, and connects to the listener once http is allowed (ffmpeg's
// default for a local playlist is file and crypto only; for one fetched
// over http, http too). Both counts are then reset.
func controlWatchers(t *testing.T, dir, secret string, lis *countingListener, tg corpusTargets) {
	t.Helper()
	w := watchFolder(t, secret)
	for name, pl := range map[string][]byte{
		"control-archivo.m3u8": hlsPlaylist("file://" + tg.canary),
		"control-http.m3u8":    hlsPlaylist(tg.http + "/segmento.ts"),
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pl, 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		exec.CommandContext(ctx, "ffprobe", "-v", "quiet", "-protocol_whitelist", "file,crypto,data,http,tcp", "-i", p).Run()
		cancel()
	}
	if reads := w.stop(); len(reads) == 0 {
		t.Fatal("control: a plain ffprobe of an HLS playlist opened the canary unseen; the watch cannot see reads")
	}
	if lis.conns.Swap(0) == 0 {
		t.Fatal("control: a plain ffprobe of an HLS playlist did not connect to the listener; the check cannot see connections")
	}
}

// folderWatch records every open and read in one folder (inotify
// IN_OPEN|IN_ACCESS on the folder reports those of the files in it, and
// opens of the folder itself), whoever the process.
type folderWatch struct {
	fd     int
	mu     sync.Mutex
	events []string
	quit   chan struct{}
	done   chan struct{}
}

func watchFolder(t *testing.T, dir string) *folderWatch {
	t.Helper()
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		t.Fatalf("inotify: %v", err)
	}
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_OPEN|unix.IN_ACCESS); err != nil {
		unix.Close(fd)
		t.Fatalf("inotify watch %s: %v", dir, err)
	}
	w := &folderWatch{fd: fd, quit: make(chan struct{}), done: make(chan struct{})}
	go w.run()
	t.Cleanup(func() { w.stop() })
	return w
}

func (w *folderWatch) run() {
	defer close(w.done)
	buf := make([]byte, 64<<10)
	for {
		// Read what is queued before looking at quit, so that events
		// from just before stop are kept.
		fds := []unix.PollFd{{Fd: int32(w.fd), Events: unix.POLLIN}}
		unix.Poll(fds, 50)
		n, err := unix.Read(w.fd, buf)
		if err == nil {
			w.record(buf[:n])
			continue
		}
		select {
		case <-w.quit:
			return
		default:
		}
	}
}

func (w *folderWatch) record(b []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(b) >= unix.SizeofInotifyEvent {
		// struct inotify_event: wd, mask, cookie, len, then the name.
		mask := binary.NativeEndian.Uint32(b[4:])
		end := unix.SizeofInotifyEvent + int(binary.NativeEndian.Uint32(b[12:]))
		if end > len(b) {
			return
		}
		name := strings.TrimRight(string(b[unix.SizeofInotifyEvent:end]), "\x00")
		what := "open"
		if mask&unix.IN_ACCESS != 0 {
			what = "read"
		}
		if name == "" {
			name = "(the folder)"
		}
		w.events = append(w.events, what+" "+name)
		b = b[end:]
	}
}

// stop ends the watch and returns what it saw. Safe to repeat.
func (w *folderWatch) stop() []string {
	select {
	case <-w.quit:
	default:
		close(w.quit)
		<-w.done
		unix.Close(w.fd)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.events
}
