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

// withCheck completes ten digits written as YYMMDD?NNN (? a separator or
// nothing, century digits allowed in front) with their Luhn digit.
func withCheck(s string) string {
	digits := strings.NewReplacer("-", "", "+", "").Replace(s)
	return s + string(CheckDigit(digits[len(digits)-9:]))
}

// Skatteverket: the birth number is 001–999.
func TestParseSerialNumber000(t *testing.T) {
	for _, in := range []string{withCheck("19811218-000"), withCheck("19811218000"), withCheck("811218-000"), withCheck("19701063-000")} {
		_, err := Parse(in, now)
		if !errors.Is(err, ErrSerial) {
			t.Errorf("%s: got %v, want ErrSerial", in, err)
		}
	}
	// 001 and 999 are the ends of the range.
	for _, in := range []string{withCheck("19811218-001"), withCheck("19811218-999")} {
		if _, err := Parse(in, now); err != nil {
			t.Errorf("%s: %v", in, err)
		}
	}
}

// The 10-digit forms: "-" below 100 this year, "+" from the year the person
// turns 100; the century follows from the separator and today.
func TestParseTenDigitForms(t *testing.T) {
	cases := []struct {
		in, canonical string
		coord         bool
		want          error
	}{
		{in: "811218-9876", canonical: "19811218-9876"},
		{in: "811218+9876", canonical: "18811218-9876"},
		{in: withCheck("000229-123"), canonical: withCheck("20000229-123")},
		{in: withCheck("000229+123"), want: ErrDate}, // 1900 was no leap year
		{in: withCheck("261122-123"), canonical: withCheck("20261122-123")},
		{in: withCheck("261123-123"), want: ErrFuture},                      // tomorrow
		{in: withCheck("261231+123"), canonical: withCheck("19261231-123")}, // turns 100 this year: already "+"
		{in: withCheck("270101-123"), canonical: withCheck("19270101-123")}, // 99 this year
		{in: withCheck("270101+123"), want: ErrDate},                        // would be 1827
		{in: "701063-2391", canonical: "19701063-2391", coord: true},
		{in: "701063+2391", canonical: "18701063-2391", coord: true},
		{in: "8112189876", want: ErrFormat}, // no separator: the century is unknown
		{in: "811218*9876", want: ErrFormat},
		{in: "811218-987", want: ErrFormat},
	}
	for _, c := range cases {
		n, err := Parse(c.in, now)
		if c.want != nil {
			if !errors.Is(err, c.want) {
				t.Errorf("%s: got %v, want %v", c.in, err, c.want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if n.Canonical != c.canonical || n.Coordination != c.coord {
			t.Errorf("%s: got %s coord=%v, want %s coord=%v", c.in, n.Canonical, n.Coordination, c.canonical, c.coord)
		}
		if !strings.HasPrefix(n.BirthDate.Format("20060102"), n.Canonical[:4]) {
			t.Errorf("%s: birth %s does not match %s", c.in, n.BirthDate.Format(time.DateOnly), n.Canonical)
		}
	}
	// Around New Year the same digits change century: 26 means 2026 on
	// 1 January 2026, and 1926 with "+".
	newYear := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	if n, err := Parse(withCheck("260101-123"), newYear); err != nil || n.Canonical[:4] != "2026" {
		t.Errorf("new year: %v %v", n.Canonical, err)
	}
	if n, err := Parse(withCheck("260101+123"), newYear); err != nil || n.Canonical[:4] != "1926" {
		t.Errorf("new year +: %v %v", n.Canonical, err)
	}
}

// A co-ordination number (day + 60) is valid in every written form.
func TestParseCoordinationEveryForm(t *testing.T) {
	for _, in := range []string{"19701063-2391", "197010632391", "701063-2391"} {
		n, err := Parse(in, now)
		if err != nil || !n.Coordination || n.Canonical != "19701063-2391" || n.BirthDate.Format(time.DateOnly) != "1970-10-03" {
			t.Errorf("%s: %+v %v", in, n, err)
		}
	}
	for _, in := range []string{withCheck("19700292-123"), withCheck("700292-123")} { // 32 February
		if _, err := Parse(in, now); !errors.Is(err, ErrDate) {
			t.Errorf("%s: got %v, want ErrDate", in, err)
		}
	}
}

// Every refusal says what is wrong without repeating the number.
func TestParseErrorsSayWhat(t *testing.T) {
	for in, want := range map[string]string{
		"8112189876":                   "separator",
		"19811318-9876":                "month",
		withCheck("19810230-123"):      "day",
		withCheck("19811218-000"):      "001–999",
		"19811218-9875":                "check digit",
		"1981121-89876":                "digits",
		"19811218-98765":               "characters",
		withCheck("19811218+123")[:13]: "12-digit",
	} {
		_, err := Parse(in, now)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want it to mention %q", in, err, want)
		}
		if err != nil && (strings.Contains(err.Error(), in) || strings.Contains(err.Error(), "811218")) {
			t.Errorf("%s: the error repeats the number: %v", in, err)
		}
	}
}
