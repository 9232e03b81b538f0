package api_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestForecastLeverPage: a manager changes one lever and sees both runs of
// the cohort forecast side by side; caseworkers may not run forecasts; a bad
// value is refused naming its field.
func TestForecastLeverPage(t *testing.T) {
	e := newEnv(t, false)
	manager := e.signIn(t, "manager")

	form := manager.must(manager.get("/forecast"), http.StatusOK)
	for _, want := range []string{`name="lever"`, `value="need_share" selected`, `name="value" inputmode="decimal" value="0.2"`, "Prognos för en kohort"} {
		if !strings.Contains(string(form.Body), want) {
			t.Errorf("the form lacks %q", want)
		}
	}
	if strings.Contains(string(form.Body), "<table>") {
		t.Error("the form alone should not run a forecast")
	}

	page := manager.must(manager.get("/forecast?calibration=goteborg&lever=need_share&value=0.9&seed=1&participants=40"), http.StatusOK)
	body := string(page.Body)
	row := func(label string) []string {
		m := regexp.MustCompile(`<th scope="row">` + regexp.QuoteMeta(label) + `</th><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no row %q in:\n%s", label, body)
		}
		return m[1:]
	}
	if p := row("Deltagare"); p[0] != "40" || p[1] != "40" || p[2] != "0" {
		t.Errorf("participants %v, want 40 in both runs", p)
	}
	if r := row("Avvisade personalåtgärder"); r[0] != "0" || r[1] != "0" {
		t.Errorf("refused staff actions %v, want none in either run", r)
	}
	ended := row("Andel av avslutade (indikatorn)")
	if ended[0] == ended[1] {
		t.Errorf("need share 0.2 → 0.9 changed nothing: %v", ended)
	}
	if !strings.Contains(body, "Andel handlingsplaner kopplade till ett rekryteringsbehov (0–1) 0.2 → 0.9") {
		t.Errorf("the heading does not say which lever changed from what to what:\n%s", body)
	}
	if !strings.Contains(body, `<svg role="img"`) {
		t.Error("no chart")
	}

	bad := manager.get("/forecast?calibration=goteborg&lever=need_share&value=1.5&participants=40")
	if bad.Status != http.StatusUnprocessableEntity || !strings.Contains(string(bad.Body), "value: ") {
		t.Errorf("need share 1.5: %d, want 422 naming the field value:\n%s", bad.Status, bad.Body)
	}
	bad = manager.get("/forecast?calibration=goteborg&lever=need_share&value=0.5&participants=5")
	if bad.Status != http.StatusUnprocessableEntity || !strings.Contains(string(bad.Body), "participants: ") {
		t.Errorf("5 participants: %d, want 422 naming the field participants", bad.Status)
	}

	coach := e.signIn(t, "coach.angered")
	coach.must(coach.get("/forecast?calibration=goteborg&lever=need_share&value=0.9&participants=40"), http.StatusForbidden)
}
