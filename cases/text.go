package cases

import (
	"unicode"
	"unicode/utf8"
)

// TextProblem says what is wrong with a free-text field, or "" when nothing
// is: PostgreSQL stores neither NUL nor invalid UTF-8, and control
// characters in a name or an ID are always a mistake in the source file.
// The reason never repeats the value.
func TextProblem(s string) string {
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
