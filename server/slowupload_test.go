package server_test

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/comsoc/acervo/server"
	"github.com/comsoc/acervo/storage/disk"
)

// TestSlowUploadsAreCut: an upload that stalls, or trickles below the
// minimum rate, is cut with 400 upload_interrupted and its staging freed,
// while a normal upload on the same server goes through.
func TestSlowUploadsAreCut(t *testing.T) {
	root := t.TempDir()
	store, err := disk.New(disk.Config{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	e := bare(t, root, store, server.Config{UploadIdleTimeout: time.Second, UploadMinRate: 16 << 10})
	c := e.login()
	staging := filepath.Join(root, "staging")

	for _, tc := range []struct {
		name  string
		every time.Duration // one KiB each; 0: nothing after the photo's head
	}{
		{"stalled", 0},
		{"trickling 10 KiB/s", 100 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pr, pw := io.Pipe()
			stop := make(chan struct{})
			go func() {
				defer pw.Close()
				fmt.Fprint(pw, "--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\n\r\n")
				pw.Write(photo(t, 64, 48, 9))
				for tc.every > 0 {
					select {
					case <-stop:
						return
					case <-time.After(tc.every):
					}
					if _, err := pw.Write(make([]byte, 1024)); err != nil {
						return
					}
				}
				<-stop
			}()
			start := time.Now()
			resp := c.do("POST", "/api/v1/assets", "multipart/form-data; boundary=x", pr, nil)
			close(stop)
			expectError(t, resp, http.StatusBadRequest, "upload_interrupted")
			// Cut after a window or two, not when the client gives up.
			if took := time.Since(start); took > 20*time.Second {
				t.Errorf("cut after %v", took)
			}
			assertNoFiles(t, staging)
		})
	}
	decode(t, c.upload("normal.jpg", padded(t, 5, 4<<20), nil), http.StatusCreated, &assetJSON{})
}
