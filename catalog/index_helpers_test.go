package catalog_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/blevesearch/bleve/v2"
)

// quiet drops the index's log lines.
var quiet = slog.New(slog.DiscardHandler)

func removeAll(t *testing.T, path string) {
	t.Helper()
	if err := os.RemoveAll(path); err != nil {
		t.Fatal(err)
	}
}

// corrupt overwrites the index's metadata so Bleve cannot open it.
func corrupt(t *testing.T, path string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(path, "index_meta.json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// setVersion stamps the index with another mapping version.
func setVersion(t *testing.T, path, v string) {
	t.Helper()
	idx, err := bleve.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := idx.SetInternal([]byte("acervo_mapping_version"), []byte(v)); err != nil {
		t.Fatal(err)
	}
	if err := idx.Close(); err != nil {
		t.Fatal(err)
	}
}
