package ui

import (
	"html/template"
	"reflect"
	"strings"
)

// funcs are the template helpers. They take no language: messages and
// dates go through the page's Localizer (.L).
func (u *UI) funcs() template.FuncMap {
	return template.FuncMap{
		"static":   u.staticURL,
		"duration": Duration,
		"join":     strings.Join,
		// first returns the first non-empty string: a title, else a caption…
		"first": func(vals ...string) string {
			for _, v := range vals {
				if strings.TrimSpace(v) != "" {
					return v
				}
			}
			return ""
		},
		"add": func(a, b int) int { return a + b },
		// rendition is a map entry, or nil when absent: {{with index …}}
		// on a map of structs would be a zero struct, which is true.
		"rendition": func(m any, name string) any {
			v := reflect.ValueOf(m)
			if v.Kind() != reflect.Map {
				return nil
			}
			e := v.MapIndex(reflect.ValueOf(name))
			if !e.IsValid() {
				return nil
			}
			return e.Interface()
		},
	}
}
