package catalog_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/comsoc/acervo/catalog"
	"github.com/comsoc/acervo/catalog/catalogtest"
)

func TestRetryFailedJob(t *testing.T) {
	c := catalogtest.Open(t, nil)
	a, _, err := c.CreateAsset(newAsset(strings.Repeat("c", 64)))
	if err != nil {
		t.Fatal(err)
	}
	j, err := c.ClaimJob()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.RetryJob(j.ID); !errors.Is(err, catalog.ErrInvalid) {
		t.Errorf("retry of a running job = %v, want ErrInvalid", err)
	}
	if err := c.FailJob(j.ID, "exiftool missing", true); err != nil {
		t.Fatal(err)
	}
	if a, _ = c.Asset(a.ID); a.Status != catalog.StatusFailed {
		t.Fatalf("asset = %s, want failed", a.Status)
	}
	got, err := c.RetryJob(j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != catalog.JobQueued || got.Attempts != 0 || got.Error != "" {
		t.Errorf("retried job = %+v, want queued with no attempts or error", got)
	}
	if a, _ = c.Asset(a.ID); a.Status != catalog.StatusProcessing || a.Error != "" {
		t.Errorf("asset after retry = %s %q, want processing", a.Status, a.Error)
	}
	again, err := c.ClaimJob()
	if err != nil || again.ID != j.ID || again.Attempts != 1 {
		t.Errorf("claim after retry = %+v %v, want the same job at attempt 1", again, err)
	}
	if _, err := c.RetryJob("nope"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("retry of an unknown job = %v, want ErrNotFound", err)
	}
}
