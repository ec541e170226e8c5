package transcode

import (
	"context"
	"os"
	"path/filepath"
)

// OCRImage reads the text of a photo — a clipping someone photographed or
// scanned — with tesseract, under cfg's timeout and memory limit. HEIC is
// first converted to JPEG, which tesseract's image library can't read.
// Like a PDF's text, the text is a bonus: a tool that fails gives "" and
// no error, so a photo with nothing readable is still a ready photo. The
// error is only the job's own context ending.
func OCRImage(ctx context.Context, cfg DocumentConfig, mime, path string) (string, error) {
	if err := cfg.withDefaults(); err != nil {
		return "", err
	}
	src := path
	if mime == "image/heic" {
		out := filepath.Join(cfg.ScratchDir, randomHex()+"-ocr.jpg")
		defer os.Remove(out)
		tctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
		_, err := runCommand(tctx, command{Path: heifConvertProgram, Args: heifConvertArgs(path, out, heifIntermediateQuality), MemoryLimit: cfg.MemoryLimit})
		cancel()
		if err != nil {
			return "", ctx.Err()
		}
		src = out
	}
	text := runForText(ctx, cfg, command{Path: cfg.Tesseract, Args: ocrImageArgs(src, cfg.OCRLanguage), Env: tesseractEnv()})
	return text, ctx.Err()
}

// ocrImageArgs is the tesseract command line for a photo: its resolution
// comes from the file (or tesseract's estimate), unlike a rendered page.
func ocrImageArgs(path, lang string) []string {
	return []string{path, "-", "-l", lang, "--psm", "3"}
}
