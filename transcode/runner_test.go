package transcode

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestTailBuffer(t *testing.T) {
	cases := []struct {
		name   string
		max    int
		writes []string
		want   string
	}{
		{"fits", 100, []string{"line one\n", "line two\n"}, "line one\nline two"},
		{"keeps the tail in whole lines", 14, []string{"first line\n", "second\nthird\n"}, "…second\nthird"},
		{"one huge write", 8, []string{"aaaaaaaaaaaa\nbbbbbbb"}, "…bbbbbbb"},
		{"invalid UTF-8", 100, []string{"bad \xff byte"}, "bad \uFFFD byte"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := &tailBuffer{max: tc.max}
			for _, w := range tc.writes {
				b.Write([]byte(w))
			}
			if got := b.String(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestGoTraceFilter(t *testing.T) {
	crash := "runtime: out of memory: cannot allocate 50331648-byte block\nfatal error: out of memory\n\n" +
		"runtime stack:\nruntime.throw({0x5, 0x1})\n\t/usr/local/go/src/runtime/panic.go:1 +0x1\n\n" +
		"goroutine 1 gp=0x1 m=0 [running]:\nmain.main()\n\t/x/main.go:3 +0x1\n"
	tail := &tailBuffer{max: 4096}
	f := &goTraceFilter{w: tail}
	for _, chunk := range strings.SplitAfter(crash, "o") { // lines split across writes
		f.Write([]byte(chunk))
	}
	want := "runtime: out of memory: cannot allocate 50331648-byte block\nfatal error: out of memory\n\n[Go stack trace omitted]"
	if got := tail.String(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestRunCommand(t *testing.T) {
	t.Run("exit status and stderr", func(t *testing.T) {
		_, err := runCommand(t.Context(), command{Path: "sh", Args: []string{"-c", "echo oops >&2; exit 3"}})
		var re *runError
		if !errors.As(err, &re) || re.ExitCode != 3 || re.Stderr != "oops" || re.TimedOut {
			t.Fatalf("error %#v", err)
		}
		if got, want := err.Error(), "sh: exit status 3; stderr: oops"; got != want {
			t.Errorf("message %q, want %q", got, want)
		}
	})
	t.Run("signal", func(t *testing.T) {
		_, err := runCommand(t.Context(), command{Path: "sh", Args: []string{"-c", "kill -SEGV $$"}})
		var re *runError
		if !errors.As(err, &re) || re.Signal != syscall.SIGSEGV {
			t.Fatalf("error %v, want a SIGSEGV", err)
		}
	})
	t.Run("timeout kills the process group", func(t *testing.T) {
		// The grandchild writes its pid, then would outlive sh.
		pidFile := filepath.Join(t.TempDir(), "pid")
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := runCommand(ctx, command{Path: "sh", Args: []string{"-c", "sleep 30 & echo $! > " + pidFile + "; wait"}})
		var re *runError
		if !errors.As(err, &re) || !re.TimedOut {
			t.Fatalf("error %v, want a timeout", err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("took %v to return", d)
		}
		b, err := os.ReadFile(pidFile)
		if err != nil {
			t.Fatal(err)
		}
		pid := 0
		for _, c := range strings.TrimSpace(string(b)) {
			pid = pid*10 + int(c-'0')
		}
		time.Sleep(100 * time.Millisecond)
		// Reaped by init or still a zombie, it must not be running.
		if stat, err := os.ReadFile(filepath.Join("/proc", strings.TrimSpace(string(b)), "stat")); err == nil && !strings.Contains(string(stat), ") Z") {
			t.Errorf("grandchild sleep (pid %d) still running: %s", pid, stat)
		}
	})
	t.Run("missing program", func(t *testing.T) {
		_, err := runCommand(t.Context(), command{Path: filepath.Join(t.TempDir(), "nothing")})
		var re *runError
		if !errors.As(err, &re) || re.TimedOut {
			t.Fatalf("error %v", err)
		}
	})
}

// The job pool's commands run at jobNice, every process of their group;
// others keep the server's priority.
func TestBackgroundCommandsRunAtLowPriority(t *testing.T) {
	niceOf := func(ctx context.Context) string {
		t.Helper()
		var out bytes.Buffer
		// The pause lets the priority be set after the start; the child
		// of sh shows the whole group got it.
		if _, err := runCommand(ctx, command{Path: "sh", Args: []string{"-c", "sleep 0.3; nice"}, Stdout: &out}); err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(out.String())
	}
	own := niceOf(context.Background())
	if got := niceOf(background(context.Background())); got != strconv.Itoa(jobNice) {
		t.Errorf("a job's command ran at nice %s, want %d", got, jobNice)
	}
	if own == strconv.Itoa(jobNice) {
		t.Errorf("a command outside the job pool ran at nice %s too", own)
	}
}
