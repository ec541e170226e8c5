package disk_test

import (
	"testing"

	"github.com/comsoc/acervo/storage"
	"github.com/comsoc/acervo/storage/disk"
	"github.com/comsoc/acervo/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Test(t, func(t *testing.T) storage.Store {
		s, err := disk.New(disk.Config{Root: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
