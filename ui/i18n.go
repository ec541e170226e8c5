package ui

import (
	"fmt"
	"math"
	"strings"
	"time"

	"golang.org/x/text/language"
)

// Languages of the interface. Spanish (Mexico) is the default: the office
// works in Spanish; English is there for visitors and the odd consultant.
const (
	Spanish = "es"
	English = "en"
)

// LangCookie remembers the language chosen with the switch.
const LangCookie = "acervo_lang"

var matcher = language.NewMatcher([]language.Tag{language.MustParse("es-MX"), language.English})

// Lang picks the language: the switch's cookie when set, else the
// browser's Accept-Language, else Spanish.
func Lang(cookie, acceptLanguage string) string {
	if cookie == Spanish || cookie == English {
		return cookie
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return Spanish
	}
	_, i, conf := matcher.Match(tags...)
	if i == 1 && conf >= language.High {
		return English
	}
	return Spanish
}

// Localizer speaks one language. Keys missing from a catalog fall back to
// Spanish, then to the key itself (ui_test.go checks none are missing).
type Localizer struct {
	Lang string
	msgs map[string]string
	zone *time.Location
}

// NewLocalizer returns the localizer of lang (Spanish unless "en"), whose
// dates are shown in zone (UTC when nil).
func NewLocalizer(lang string, zone *time.Location) *Localizer {
	if zone == nil {
		zone = time.UTC
	}
	if lang == English {
		return &Localizer{Lang: English, msgs: messagesEN, zone: zone}
	}
	return &Localizer{Lang: Spanish, msgs: messagesES, zone: zone}
}

// HTMLLang is the lang attribute of the page.
func (l *Localizer) HTMLLang() string {
	if l.Lang == English {
		return "en"
	}
	return "es-MX"
}

// T translates key; with args, the message is a fmt format.
func (l *Localizer) T(key string, args ...any) string {
	msg, ok := l.msgs[key]
	if !ok {
		if msg, ok = messagesES[key]; !ok {
			msg = key
		}
	}
	if len(args) > 0 {
		return fmt.Sprintf(msg, args...)
	}
	return msg
}

// N is T for a count: key+".one" when n is 1, else key, formatted with n.
func (l *Localizer) N(key string, n int) string {
	if n == 1 {
		return l.T(key+".one", n)
	}
	return l.T(key, n)
}

// Pick chooses this language's half of the API's bilingual messages,
// written "español / English"; other messages are returned whole.
func (l *Localizer) Pick(msg string) string {
	es, en, ok := strings.Cut(msg, " / ")
	if !ok || strings.Contains(en, " / ") {
		return msg
	}
	if l.Lang == English {
		return en
	}
	return es
}

// JS is the subset of messages the JavaScript islands need (keys starting
// with "js."), for a JSON data block.
func (l *Localizer) JS() map[string]string {
	out := map[string]string{}
	for k := range messagesES {
		if rest, ok := strings.CutPrefix(k, "js."); ok {
			out[rest] = l.T(k)
		}
	}
	return out
}

// Date formats a time as a day in the office's zone: "26 nov 2026".
func (l *Localizer) Date(t any) string {
	tm, ok := asTime(t)
	if !ok {
		return ""
	}
	tm = tm.In(l.zone)
	return fmt.Sprintf("%d %s %d", tm.Day(), l.T(fmt.Sprintf("month.short.%d", tm.Month())), tm.Year())
}

// DateTime adds the time of day, 24-hour: "26 nov 2026, 14:05".
func (l *Localizer) DateTime(t any) string {
	tm, ok := asTime(t)
	if !ok {
		return ""
	}
	return l.Date(tm) + ", " + tm.In(l.zone).Format("15:04")
}

// Month names a month: "noviembre 2026".
func (l *Localizer) Month(year, month int) string {
	return fmt.Sprintf("%s %d", l.T(fmt.Sprintf("month.%d", month)), year)
}

// MonthName names a month alone: "noviembre".
func (l *Localizer) MonthName(month int) string { return l.T(fmt.Sprintf("month.%d", month)) }

func asTime(t any) (time.Time, bool) {
	switch v := t.(type) {
	case time.Time:
		return v, !v.IsZero()
	case *time.Time:
		if v == nil || v.IsZero() {
			return time.Time{}, false
		}
		return *v, true
	}
	return time.Time{}, false
}

// Bytes formats a size with the decimal separator of the language.
func (l *Localizer) Bytes(n int64) string {
	units := []string{"B", "KB", "MB", "GB", "TB"}
	f := float64(n)
	i := 0
	for f >= 1000 && i < len(units)-1 {
		f /= 1000
		i++
	}
	s := fmt.Sprintf("%.1f", f)
	if i == 0 {
		s = fmt.Sprintf("%d", n)
	}
	if l.Lang == Spanish {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s + " " + units[i]
}

// Duration formats seconds as m:ss or h:mm:ss.
func Duration(sec float64) string {
	if sec <= 0 || math.IsNaN(sec) {
		return ""
	}
	s := int(math.Round(sec))
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
