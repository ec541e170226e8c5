package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/comsoc/acervo/storage/backup"
)

// exitCode is an error that sets the exit status: 3 when a check found
// damage, so scripts tell it apart from a run that failed (1).
type exitCode struct {
	code int
	msg  string
}

func (e *exitCode) Error() string { return e.msg }

// parseInterleaved parses flags given before and after the positional
// arguments (`acervo backup DIR --data d` and `acervo backup --data d DIR`).
func parseInterleaved(fs *flag.FlagSet, args []string) []string {
	var pos []string
	for {
		fs.Parse(args)
		args = fs.Args()
		if len(args) == 0 {
			return pos
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

// source reads where the catalog comes from: the data folder, or its
// running server with an admin's token.
func source(fs *flag.FlagSet) (data, url *string) {
	data = fs.String("data", env("ACERVO_DATA", "./data"), "data folder (ACERVO_DATA)")
	url = fs.String("url", env("ACERVO_URL", "http://127.0.0.1:8080"), "the running server, asked for the catalog when it holds it (ACERVO_URL); token in ACERVO_TOKEN")
	return data, url
}

// byteBar is a progress bar on a terminal, nothing elsewhere.
func byteBar(desc string) func(done, total int64) {
	if !term.IsTerminal(int(os.Stderr.Fd())) {
		return nil
	}
	bar := progressbar.NewOptions64(-1, progressbar.OptionSetDescription(desc), progressbar.OptionShowBytes(true),
		progressbar.OptionSetWriter(os.Stderr), progressbar.OptionThrottle(200*time.Millisecond))
	return func(done, total int64) {
		bar.ChangeMax64(total)
		bar.Set64(done)
	}
}

func mbps(bytes int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(bytes) / 1e6 / d.Seconds()
}

func backupCmd(args []string) error {
	fs := flag.NewFlagSet("backup", flag.ExitOnError)
	data, url := source(fs)
	workers := fs.Int("workers", 4, "files copied at once")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	pos := parseInterleaved(fs, args)
	if len(pos) != 1 {
		return errors.New("usage: acervo backup [--data ./data] [--url URL] DIR   (token in ACERVO_TOKEN when the server runs)")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := backup.Run(ctx, backup.Config{
		Source:   backup.Source{Data: *data, URL: *url, Token: os.Getenv("ACERVO_TOKEN")},
		Dir:      pos[0],
		Workers:  *workers,
		Progress: byteBar("copiando"),
	})
	if err != nil {
		return err
	}
	if *asJSON {
		if err := json.NewEncoder(os.Stdout).Encode(rep); err != nil {
			return err
		}
	} else {
		for _, w := range rep.Warnings {
			fmt.Fprintln(os.Stderr, "aviso / warning:", w)
		}
		for _, p := range rep.Problems {
			fmt.Println(p)
		}
		from := "del archivo / from the file"
		if rep.Snapshot == backup.FromServer {
			from = "del servidor / from the server"
		}
		copied := rep.Originals.Bytes + rep.Renditions.Bytes
		fmt.Printf("copia / backup %s: %d recursos / assets; originales / originals: %d copiados / copied, %d ya estaban / already there; versiones / renditions: %d copiadas / copied, %d ya estaban / already there; %.1f MB en / in %s (%.1f MB/s); catálogo / catalog %.1f MB %s\n",
			pos[0], rep.Assets, rep.Originals.Copied, rep.Originals.Skipped, rep.Renditions.Copied, rep.Renditions.Skipped,
			float64(copied)/1e6, rep.Elapsed.Round(time.Millisecond), mbps(copied, rep.Elapsed), float64(rep.CatalogBytes)/1e6, from)
	}
	if n := len(rep.Problems); n > 0 {
		return &exitCode{3, fmt.Sprintf("%d originales dañados o ausentes no se copiaron / %d damaged or missing originals were not copied", n, n)}
	}
	return nil
}

func verifyCmd(args []string) error {
	fs := flag.NewFlagSet("verify", flag.ExitOnError)
	data, url := source(fs)
	rate := fs.Float64("rate", 50, "MB/s read at most (1 MB = 10^6 bytes); 0 = unlimited")
	workers := fs.Int("workers", 1, "originals read at once")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if pos := parseInterleaved(fs, args); len(pos) != 0 {
		return errors.New("usage: acervo verify [--data ./data] [--rate MB/s] [--json]")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := backup.Verify(ctx, backup.VerifyConfig{
		Source:   backup.Source{Data: *data, URL: *url, Token: os.Getenv("ACERVO_TOKEN")},
		Rate:     *rate * 1e6,
		Workers:  *workers,
		Progress: byteBar("verificando"),
	})
	if err != nil {
		return err
	}
	if *asJSON {
		if err := json.NewEncoder(os.Stdout).Encode(rep); err != nil {
			return err
		}
	} else {
		for _, p := range rep.Problems {
			fmt.Println(p)
		}
		counts := rep.Counts()
		var parts []string
		for _, k := range []string{backup.Mismatch, backup.Truncated, backup.Grown, backup.Missing, backup.Unreadable} {
			if counts[k] > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
			}
		}
		detail := ""
		if len(parts) > 0 {
			detail = " (" + strings.Join(parts, ", ") + ")"
		}
		fmt.Printf("verificados / verified %d originales / originals, %.1f MB en / in %s (%.1f MB/s): %d problemas / problems%s\n",
			rep.Assets, float64(rep.Bytes)/1e6, rep.Elapsed.Round(time.Millisecond), mbps(rep.Bytes, rep.Elapsed), len(rep.Problems), detail)
	}
	if n := len(rep.Problems); n > 0 {
		return &exitCode{3, fmt.Sprintf("%d originales no coinciden con el catálogo / %d originals do not match the catalog", n, n)}
	}
	return nil
}
