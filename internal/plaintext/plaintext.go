// Package plaintext checks free text from outside (names, IDs, CSV fields)
// before it is stored: PostgreSQL stores neither NUL nor invalid UTF-8, and
// a control character in a name or an ID is always a mistake at the source.
package plaintext

import (
	"unicode"
	"unicode/utf8"
)

// Problem says what is wrong with s, or "" when nothing is. The reason
// never repeats the value, which may be personal data.
func Problem(s string) string {
	if !utf8.ValidString(s) {
		return "is not UTF-8 text"
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "contains a control character (such as NUL, a tab or a line break); remove it"
		}
	}
	return ""
}
