package identity

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

func TestParseValid(t *testing.T) {
	cases := []struct {
		in    string
		coord bool
		birth string
	}{
		{"19811218-9876", false, "1981-12-18"}, // Skatteverket's documented example
		{"198112189876", false, "1981-12-18"},
		{"20000229-1235", false, "2000-02-29"},
		{"19701063-2391", true, "1970-10-03"}, // co-ordination number: day + 60
	}
	for _, c := range cases {
		n, err := Parse(c.in, now)
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if n.Coordination != c.coord || n.BirthDate.Format("2006-01-02") != c.birth {
			t.Errorf("%s: got coord=%v birth=%s", c.in, n.Coordination, n.BirthDate.Format("2006-01-02"))
		}
		if len(n.Canonical) != 13 || n.Canonical[8] != '-' {
			t.Errorf("%s: canonical %q", c.in, n.Canonical)
		}
	}
}

func TestParseInvalid(t *testing.T) {
	cases := []struct {
		in   string
		want error
	}{
		{"19811218-9875", ErrCheckDigit},
		{"19810230-1234", ErrDate},
		{"19811318-9876", ErrDate},
		{"19701093-2391", ErrDate}, // day 33 after removing 60
		{"8112189876", ErrFormat},
		{"19811218+9876", ErrFormat},
		{"1981121A-9876", ErrFormat},
		{"20991218-9876", ErrFuture},
	}
	for _, c := range cases {
		_, err := Parse(c.in, now)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.in, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), c.in[:8]) {
			t.Errorf("%s: error message leaks the number: %v", c.in, err)
		}
	}
}

func TestCheckDigitRoundTrip(t *testing.T) {
	nine := "811218987"
	if d := CheckDigit(nine); d != '6' {
		t.Fatalf("check digit %c, want 6", d)
	}
}

func TestAgeOn(t *testing.T) {
	n, err := Parse("20000229-1235", now)
	if err != nil {
		t.Fatal(err)
	}
	if a := n.AgeOn(time.Date(2024, 2, 28, 0, 0, 0, 0, time.UTC)); a != 23 {
		t.Errorf("age %d, want 23", a)
	}
	if a := n.AgeOn(time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)); a != 24 {
		t.Errorf("age %d, want 24", a)
	}
}
