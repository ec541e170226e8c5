// Command tusput uploads one file to Acervo over tus 1.0, as scripts/bench-upload's
// resumable row: a creation, then PATCHes of -chunk MiB each, each with its
// Content-Length, over one keep-alive connection. It prints the final status, the
// seconds from the creation to the answer of the last PATCH (which the server sends
// once the original is durable and its asset committed), the asset's id and whether
// it was a duplicate:
//
//	tusput -url http://127.0.0.1:8080 -token acv_… -file big.jpg [-chunk 128] [-name big.jpg]
//	204 12.345 01jx… false
//
// It is a benchmark client, not a general one: it does not resume after an error.
package main

import (
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"
)

func main() {
	base := flag.String("url", "", "the server's base URL")
	token := flag.String("token", "", "an API token (Authorization: Bearer)")
	file := flag.String("file", "", "the file to upload")
	chunk := flag.Int64("chunk", 128, "MiB per PATCH")
	name := flag.String("name", "", "the filename metadata (default: the file's base name)")
	flag.Parse()
	if *base == "" || *token == "" || *file == "" || *chunk <= 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*base, *token, *file, *name, *chunk<<20); err != nil {
		fmt.Fprintln(os.Stderr, "tusput:", err)
		os.Exit(1)
	}
}

func run(base, token, file, name string, chunk int64) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if name == "" {
		name = st.Name()
	}
	hc := &http.Client{Timeout: 30 * time.Minute}
	do := func(method, u string, body io.Reader, n int64, h map[string]string) (*http.Response, error) {
		req, err := http.NewRequest(method, u, body)
		if err != nil {
			return nil, err
		}
		req.ContentLength = n
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Tus-Resumable", "1.0.0")
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return nil, fmt.Errorf("%s %s: HTTP %d: %s", method, u, resp.StatusCode, msg)
		}
		return resp, nil
	}

	start := time.Now()
	resp, err := do(http.MethodPost, base+"/api/v1/uploads/", nil, 0, map[string]string{
		"Upload-Length":   strconv.FormatInt(st.Size(), 10),
		"Upload-Metadata": "filename " + base64.StdEncoding.EncodeToString([]byte(name)),
	})
	if err != nil {
		return err
	}
	loc, err := url.Parse(base + "/api/v1/uploads/")
	if err != nil {
		return err
	}
	if loc, err = loc.Parse(resp.Header.Get("Location")); err != nil {
		return fmt.Errorf("creation: Location %q: %w", resp.Header.Get("Location"), err)
	}
	for off := int64(0); off < st.Size(); {
		n := min(chunk, st.Size()-off)
		resp, err = do(http.MethodPatch, loc.String(), io.NewSectionReader(f, off, n), n, map[string]string{
			"Content-Type":  "application/offset+octet-stream",
			"Upload-Offset": strconv.FormatInt(off, 10),
		})
		if err != nil {
			return err
		}
		if got := resp.Header.Get("Upload-Offset"); got != strconv.FormatInt(off+n, 10) {
			return fmt.Errorf("PATCH at %d: Upload-Offset %q, want %d", off, got, off+n)
		}
		off += n
	}
	id := resp.Header.Get("Acervo-Asset-Id")
	if id == "" {
		return fmt.Errorf("the last PATCH answered %d without Acervo-Asset-Id", resp.StatusCode)
	}
	fmt.Printf("%d %.3f %s %s\n", resp.StatusCode, time.Since(start).Seconds(), id, resp.Header.Get("Acervo-Duplicate"))
	return nil
}
