// Package share is the public page of a share link, the one journalists
// open without an account: Spanish, readable on a phone, and free of
// scripts, so its Content-Security-Policy can forbid them outright.
package share

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"time"
)

//go:embed *.html share.css
var files embed.FS

var pages = template.Must(template.ParseFS(files, "*.html"))

// CSS is the page's stylesheet, served at CSSPath.
var CSS, _ = files.ReadFile("share.css")

// CSSPath is where the server serves CSS.
const CSSPath = "/s/_/share.css"

// Page is what the share page shows. URLs are the link's own routes, so
// every file fetched goes through the link's checks.
type Page struct {
	Title, Description, Credit string
	Expires                    string // a Spanish date
	Watermarked                bool
	ZipURL                     string // empty when downloads are not allowed
	DownloadsLeft              int    // -1: no limit
	Items                      []Item
}

// Item is one asset on the page.
type Item struct {
	Kind                     string // photo, video, audio, document
	Title, Caption, Credit   string
	Date, Duration, Filename string
	Thumb, Preview, Poster   string
	Proxy, Audio, Download   string
	Width, Height            int
}

// Alt is the image's text alternative: its title, else its file name.
func (i Item) Alt() string {
	if i.Title != "" {
		return i.Title
	}
	return i.Filename
}

// Locked is the password form of a protected link.
type Locked struct {
	Action string // the unlock URL
	Failed bool
}

// Message is a page that says why the link shows nothing.
type Message struct {
	Title, Text string
}

// Render writes the named template ("page", "locked" or "message").
func Render(w io.Writer, name string, data any) error {
	return pages.ExecuteTemplate(w, name, data)
}

var months = [...]string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"}

// Date writes t as Mexican Spanish does: "26 de noviembre de 2026".
func Date(t time.Time) string {
	return fmt.Sprintf("%d de %s de %d", t.Day(), months[t.Month()-1], t.Year())
}

// DateTime adds the time of day: "26 de noviembre de 2026, 17:30".
func DateTime(t time.Time) string {
	return Date(t) + t.Format(", 15:04")
}
