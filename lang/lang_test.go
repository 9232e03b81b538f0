package lang

import (
	"testing"
	"time"
)

func TestMessagesAndFormats(t *testing.T) {
	sv, en := New(Swedish), New(English)
	if got := sv.T("layout.caseload"); got != "Ärenden" {
		t.Errorf("sv layout.caseload = %q", got)
	}
	if got := en.T("layout.caseload"); got != "Caseload" {
		t.Errorf("en layout.caseload = %q", got)
	}
	if got := sv.T("layout.people", "Count", 1240); got != "1\u00a0240 personer" {
		t.Errorf("sv plural = %q", got)
	}
	if got := en.T("layout.people", "Count", 1); got != "1 person" {
		t.Errorf("en plural = %q", got)
	}
	if got := sv.T("no.such.key"); got != "no.such.key" {
		t.Errorf("missing key = %q, want the key itself", got)
	}
	if got := sv.Percent(60, 0); got != "60\u00a0%" {
		t.Errorf("sv percent = %q", got)
	}
	if got := en.Percent(59.84, 1); got != "59.8%" {
		t.Errorf("en percent = %q", got)
	}
	if got := sv.Time(time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC)); got != "2026-12-01 07:00" {
		t.Errorf("Stockholm time = %q", got)
	}
	if got := sv.Time(time.Date(2026, 7, 1, 5, 0, 0, 0, time.UTC)); got != "2026-07-01 07:00" {
		t.Errorf("Stockholm summer time = %q", got)
	}
}

func TestPick(t *testing.T) {
	for _, c := range []struct{ setting, accept, want string }{
		{"", "", Swedish},
		{"", "en-GB,en;q=0.9", English},
		{"sv", "en-GB", Swedish},
		{"en", "sv-SE", English},
		{"fi", "de-DE", Swedish},
		{"", "de-DE,en;q=0.5", English},
	} {
		if got := Pick(c.setting, c.accept); got != c.want {
			t.Errorf("Pick(%q, %q) = %q, want %q", c.setting, c.accept, got, c.want)
		}
	}
}

// Every key one language defines, the other defines too.
func TestCataloguesDefineTheSameKeys(t *testing.T) {
	for _, a := range Supported {
		for _, b := range Supported {
			for _, k := range Keys(a) {
				if !Has(b, k) {
					t.Errorf("%q is in the %s catalogue but not in %s", k, a, b)
				}
			}
		}
	}
}

// The plan checker writes English; the plan builder shows it in Swedish.
func TestPlanCheckerMessagesInSwedish(t *testing.T) {
	sv := New(Swedish)
	for in, want := range map[string]string{
		"course 1480-KOCK-01 is given in municipality 1480, not in the participant's municipality 1488": "kursen 1480-KOCK-01 ges i kommun 1480, inte i deltagarens kommun 1488",
		"steps[1] takes its employer from the recruitment need: choose an open need":                    "steg 1 tar sin arbetsgivare från rekryteringsbehovet: välj ett öppet behov",
		"recruitment need need-1 has no open positions":                                                 "rekryteringsbehovet need-1 har inga lediga platser",
	} {
		if got := sv.Message(in); got != want {
			t.Errorf("Message(%q) = %q, want %q", in, got, want)
		}
	}
}
