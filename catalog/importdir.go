package catalog

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// ImportOptions configures ImportDir.
type ImportOptions struct {
	// Dir is the folder tree to import. Required.
	Dir string
	// JournalDir keeps one journal per imported folder, so an interrupted
	// import resumes without re-reading files already done. Required
	// (conventionally <data>/imports).
	JournalDir string
	// Template gives every imported asset its uploader, event, tags…
	Template NewAsset
	// Progress, if set, is called after each file with the running totals.
	Progress func(ImportStats)
}

// ImportStats counts an import's files.
type ImportStats struct {
	Files, Bytes                    int64 // in the tree
	Done, DoneBytes                 int64 // looked at so far
	Added, Duplicates, Skipped, Bad int64
	Resumed                         int64 // done in an earlier run, per the journal
}

// ImportFile is one file that could not be imported, and why.
type ImportFile struct {
	Path   string
	Reason string
}

// ImportDir ingests every regular file under opts.Dir through in: photos
// become assets, duplicates are skipped, other files are reported. Hidden
// files and folders (.DS_Store, .Trashes) are ignored and symlinks are not
// followed, so an archive disk can't lead the import elsewhere.
func (in *Ingester) ImportDir(ctx context.Context, opts ImportOptions) (ImportStats, []ImportFile, error) {
	var st ImportStats
	root, err := filepath.Abs(opts.Dir)
	if err != nil {
		return st, nil, err
	}
	type item struct {
		rel  string
		size int64
		mod  int64
	}
	var items []item
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && p != root {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		items = append(items, item{rel: rel, size: info.Size(), mod: info.ModTime().UnixNano()})
		st.Files++
		st.Bytes += info.Size()
		return nil
	})
	if err != nil {
		return st, nil, fmt.Errorf("catalog: import: %w", err)
	}
	sort.Slice(items, func(i, j int) bool { return items[i].rel < items[j].rel })

	if err := os.MkdirAll(opts.JournalDir, 0o750); err != nil {
		return st, nil, err
	}
	sum := sha256.Sum256([]byte(root))
	journalPath := filepath.Join(opts.JournalDir, hex.EncodeToString(sum[:8])+".journal")
	done, err := readJournal(journalPath)
	if err != nil {
		return st, nil, err
	}
	journal, err := os.OpenFile(journalPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return st, nil, err
	}
	defer journal.Close()

	var bad []ImportFile
	for _, it := range items {
		if err := ctx.Err(); err != nil {
			return st, bad, err
		}
		entry := journalEntry(it.rel, it.size, it.mod)
		if done[entry] {
			st.Resumed++
		} else {
			outcome, reason := in.importFile(ctx, filepath.Join(root, it.rel), opts.Template)
			switch outcome {
			case "added":
				st.Added++
			case "duplicate":
				st.Duplicates++
			case "skipped":
				st.Skipped++
				bad = append(bad, ImportFile{Path: it.rel, Reason: reason})
			default:
				st.Bad++
				bad = append(bad, ImportFile{Path: it.rel, Reason: reason})
			}
			// Only files that are settled go in the journal; failures are
			// tried again on the next run.
			if outcome != "failed" {
				if _, err := journal.WriteString(entry + "\n"); err != nil {
					return st, bad, err
				}
			}
		}
		st.Done++
		st.DoneBytes += it.size
		if opts.Progress != nil {
			opts.Progress(st)
		}
	}
	return st, bad, journal.Sync()
}

func (in *Ingester) importFile(ctx context.Context, path string, tmpl NewAsset) (outcome, reason string) {
	f, err := os.Open(path)
	if err != nil {
		return "failed", err.Error()
	}
	defer f.Close()
	n := tmpl
	n.Filename = filepath.Base(path)
	_, dup, err := in.Ingest(ctx, f, n)
	switch {
	case errors.Is(err, ErrUnsupportedMedia):
		return "skipped", "no es una foto admitida / not a supported photo"
	case err != nil:
		return "failed", err.Error()
	case dup:
		return "duplicate", ""
	}
	return "added", ""
}

// journalEntry identifies a file version: a changed file is imported again.
func journalEntry(rel string, size, mod int64) string {
	return strconv.Quote(rel) + "\t" + strconv.FormatInt(size, 10) + "\t" + strconv.FormatInt(mod, 10)
}

func readJournal(path string) (map[string]bool, error) {
	done := map[string]bool{}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return done, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		done[sc.Text()] = true
	}
	return done, sc.Err()
}
