package identity

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

var canonicalForm = regexp.MustCompile(`^\d{8}-\d{4}$`)

// FuzzParse: no input panics; an accepted number is canonical, parses to
// itself in its 12- and 10-digit forms, has a birth number 001–999 and a
// past birth date; a refusal never repeats the input. The seed corpus is
// testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	today := time.Date(2026, 11, 22, 15, 4, 5, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Parse(s, today)
		if err != nil {
			if t := strings.TrimSpace(s); len(t) >= 6 && strings.Contains(err.Error(), t) {
				panic("the error repeats the input: " + err.Error())
			}
			return
		}
		if !canonicalForm.MatchString(n.Canonical) {
			t.Fatalf("%q: canonical %q", s, n.Canonical)
		}
		if n.Canonical[9:12] == "000" || n.BirthDate.After(today) || n.BirthDate.Year() < 1870 {
			t.Fatalf("%q accepted: %+v", s, n)
		}
		again, err := Parse(n.Canonical, today)
		if err != nil || again != n {
			t.Fatalf("%q: canonical %q parses to %+v, %v", s, n.Canonical, again, err)
		}
		sep := "-"
		if today.Year()-n.BirthDate.Year() >= 100 {
			sep = "+"
		}
		ten := n.Canonical[2:8] + sep + n.Canonical[9:]
		if short, err := Parse(ten, today); err != nil || short != n {
			t.Fatalf("%q: the 10-digit form %q parses to %+v, %v", s, ten, short, err)
		}
	})
}
