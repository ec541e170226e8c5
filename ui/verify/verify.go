// Package verify is the public authenticity check page, /verify: Spanish,
// no account, a file picker whose script (verify.js, same origin, no
// inline code) posts the file to /api/v1/verify and shows the verdict
// beside the official preview. The file is sent only to this server.
package verify

import (
	"embed"
	"html/template"
	"io"
)

//go:embed page.html verify.js verify.css
var files embed.FS

var page = template.Must(template.ParseFS(files, "page.html"))

// JS and CSS are the page's script and stylesheet, served beside it.
var (
	JS, _  = files.ReadFile("verify.js")
	CSS, _ = files.ReadFile("verify.css")
)

// Page is what the page says about the check's limits.
type Page struct {
	MaxImageMB, MaxAVMB int64
	KeyURL              string // the instance's public key
	Signing             bool   // whether exact answers carry a signed manifest
}

// Render writes the page.
func Render(w io.Writer, p Page) error { return page.Execute(w, p) }
