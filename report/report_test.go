package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/pathways-se/pathways/pathway"
)

func yes() *bool { b := true; return &b }
func no() *bool  { b := false; return &b }

func lasted(o pathway.Outcome) *pathway.Outcome {
	o.FollowUps = []pathway.FollowUp{{Day: 30, StillThere: true}}
	return &o
}

func TestCountsFollowsTheNationalDefinition(t *testing.T) {
	end := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	regular := pathway.Outcome{Kind: pathway.OutcomeWork, EmployerKind: pathway.EmployerRegular, EmploymentForm: pathway.EmploymentUnsubsidised}
	subsidised := pathway.Outcome{Kind: pathway.OutcomeSubsidisedWork, EmployerKind: pathway.EmployerRegular, EmploymentForm: pathway.EmploymentSubsidised, Subsidy: "nystartsjobb"}
	municipal := pathway.Outcome{Kind: pathway.OutcomeSubsidisedWork, EmployerKind: pathway.EmployerMunicipalMeasure, EmploymentForm: pathway.EmploymentSubsidised, Subsidy: "kommunal arbetsmarknadsanställning"}
	komvux := &pathway.Outcome{Kind: pathway.OutcomeStudies, StudyForm: pathway.StudyKomvux, StudentFinance: yes()}
	course := &pathway.Outcome{Kind: pathway.OutcomeStudies, StudyForm: pathway.StudyOther, StudentFinance: no()}
	unknownFinance := &pathway.Outcome{Kind: pathway.OutcomeStudies, StudyForm: pathway.StudyOther}
	notYetFollowed := regular
	stillThere90 := regular
	stillThere90.FollowUps = []pathway.FollowUp{{Day: 30, StillThere: true}, {Day: 90, StillThere: false}}
	early := regular
	early.FollowUps = []pathway.FollowUp{{Day: 14, StillThere: true}}
	for _, c := range []struct {
		name string
		p    Participant
		want Count
	}{
		{"regular job that lasted a month", Participant{EndedAt: end, Outcome: lasted(regular)}, Count{Ended: true, Work: true}},
		{"regular job left before day 90 still lasted a month", Participant{EndedAt: end, Outcome: &stillThere90}, Count{Ended: true, Work: true}},
		{"regular job without a month's follow-up", Participant{EndedAt: end, Outcome: &notYetFollowed}, Count{Ended: true}},
		{"a follow-up before day 30 is not a month", Participant{EndedAt: end, Outcome: &early}, Count{Ended: true}},
		{"subsidised job on the regular market", Participant{EndedAt: end, Outcome: lasted(subsidised)}, Count{Ended: true, Work: true}},
		{"the municipality's own labour-market job", Participant{EndedAt: end, Outcome: lasted(municipal)}, Count{Ended: true}},
		{"Komvux with student finance", Participant{EndedAt: end, Outcome: komvux}, Count{Ended: true, Studies: true}},
		{"course without student finance", Participant{EndedAt: end, Outcome: course}, Count{Ended: true}},
		{"studies with student finance not given", Participant{EndedAt: end, Outcome: unknownFinance}, Count{Ended: true}},
		{"time limit", Participant{EndedAt: end, ClosureReason: pathway.CloseTimeLimit}, Count{Ended: true}},
		{"moved", Participant{EndedAt: end, ClosureReason: pathway.CloseMoved}, Count{Ended: true}},
		{"still active with a lasting job is not counted yet", Participant{Outcome: lasted(regular)}, Count{}},
	} {
		if got := c.p.Counts(); got != c.want {
			t.Errorf("%s: Counts() = %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestWilson(t *testing.T) {
	for _, c := range []struct {
		k, n   int
		lo, hi float64
	}{
		{0, 10, 0, 0.2775},
		{10, 10, 0.7225, 1},
		{5, 10, 0.2366, 0.7634},
		{288, 1240, 0.2096, 0.2566},
	} {
		lo, hi := Wilson(c.k, c.n)
		if math.Abs(lo-c.lo) > 0.0005 || math.Abs(hi-c.hi) > 0.0005 {
			t.Errorf("Wilson(%d, %d) = %.4f–%.4f, want %.4f–%.4f", c.k, c.n, lo, hi, c.lo, c.hi)
		}
	}
	if lo, hi := Wilson(0, 0); lo != 0 || hi != 1 {
		t.Errorf("Wilson(0, 0) = %v–%v, want 0–1", lo, hi)
	}
}

func TestPeriods(t *testing.T) {
	for s, want := range map[string]string{
		"2026":                   "2026 2026-01-01 2027-01-01 4",
		"2026-H2":                "2026-H2 2026-07-01 2027-01-01 2",
		"2026-Q2":                "2026-Q2 2026-04-01 2026-07-01 3",
		"2026-05":                "2026-05 2026-05-01 2026-06-01 1",
		"2026-02-15..2026-03-10": "2026-02-15–2026-03-10 2026-02-15 2026-03-11 2",
		"2025-11-01..2026-12-31": "2025-11-01–2026-12-31 2025-11-01 2027-01-01 5",
	} {
		p, err := ParsePeriod(s)
		if err != nil {
			t.Fatalf("ParsePeriod(%q): %v", s, err)
		}
		got := fmt.Sprintf("%s %s %s %d", p.Label, p.From.Format(time.DateOnly), p.To.Format(time.DateOnly), len(p.Split()))
		if got != want {
			t.Errorf("ParsePeriod(%q) = %s, want %s", s, got, want)
		}
		// The steps cover the period exactly, without gaps or overlaps.
		steps := p.Split()
		if !steps[0].From.Equal(p.From) || !steps[len(steps)-1].To.Equal(p.To) {
			t.Errorf("%s: steps run %s–%s", s, steps[0].From, steps[len(steps)-1].To)
		}
		for i := 1; i < len(steps); i++ {
			if !steps[i].From.Equal(steps[i-1].To) {
				t.Errorf("%s: gap between %s and %s", s, steps[i-1].Label, steps[i].Label)
			}
		}
	}
	if got := Year(2026).From.Format(time.RFC3339); got != "2026-01-01T00:00:00+01:00" {
		t.Errorf("a year starts at midnight in Sweden, got %s", got)
	}
	for _, bad := range []string{"", "26", "2026-Q5", "2026-H3", "2026-13", "2026-03-01..2026-02-01", "last year"} {
		if _, err := ParsePeriod(bad); err == nil || !strings.Contains(err.Error(), "period") {
			t.Errorf("ParsePeriod(%q) = %v, want an error naming the period", bad, err)
		}
	}
}

// cohort builds n participants at a centre who all ended in 2026, the first
// success of them in regular work that lasted.
func cohort(muni, centre, gender string, n, success int) []Participant {
	var ps []Participant
	for i := 0; i < n; i++ {
		p := Participant{Municipality: muni, Centre: centre, Gender: gender, Programme: "adult", Track: "standard",
			BirthDate: time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC),
			StartedAt: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), EndedAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
			ClosureReason: pathway.CloseTimeLimit}
		if i < success {
			p.Outcome, p.ClosureReason = lasted(pathway.Outcome{Kind: pathway.OutcomeWork, EmployerKind: pathway.EmployerRegular}), pathway.CloseWork
		}
		ps = append(ps, p)
	}
	return ps
}

func TestSuppression(t *testing.T) {
	var ps []Participant
	ps = append(ps, cohort("Göteborg", "gbg-angered", Woman, 40, 12)...)
	ps = append(ps, cohort("Göteborg", "gbg-hisingen", Man, 30, 9)...)
	ps = append(ps, cohort("Göteborg", "gbg-oster", Woman, 3, 1)...) // a small centre
	// Someone still active, so "participants" and "ended" differ.
	active := cohort("Göteborg", "gbg-angered", Man, 10, 0)
	for i := range active {
		active[i].EndedAt, active[i].ClosureReason = time.Time{}, ""
	}
	ps = append(ps, active...)
	r := Build(ps, Query{Period: Year(2026), Comparison: &Comparison{Value: 23, Label: "comparable municipalities", Source: "Kolada", Year: 2025}})

	if r.Total.Participants.N != 83 || r.Total.Ended.N != 73 || r.Total.Success.N != 22 {
		t.Fatalf("total = %+v", r.Total)
	}
	if got := r.Total.OfEnded.Pct(); got != "30.1%" {
		t.Errorf("share of ended = %s, want 30.1%% (22 of 73)", got)
	}
	if got := r.Total.OfAll.Pct(); got != "26.5%" {
		t.Errorf("share of all participants = %s, want 26.5%% (22 of 83)", got)
	}
	var oster, hisingen *Row
	for i := range r.Places {
		switch r.Places[i].Label {
		case "gbg-oster":
			oster = &r.Places[i]
		case "gbg-hisingen":
			hisingen = &r.Places[i]
		}
	}
	if oster == nil || hisingen == nil {
		t.Fatalf("places = %+v", r.Places)
	}
	// Öster's 3 are hidden, and so is the smallest other centre's ended
	// count, or Göteborg's total minus the others would give Öster's away.
	if !oster.Ended.Suppressed || oster.Ended.String() != "<5" || !oster.OfEnded.Suppressed {
		t.Errorf("Öster's 3 ended shown: %+v", oster)
	}
	if !hisingen.Ended.Suppressed {
		t.Errorf("Hisingen's ended would reveal Öster's by subtraction: %+v", hisingen.Ended)
	}
	if hisingen.Participants.Suppressed != true {
		t.Errorf("Hisingen's participants would reveal Öster's: %+v", hisingen.Participants)
	}
	// A zero singles out no one: studies 0 is shown, and so is work.
	if r.Total.Studies.Suppressed || r.Total.Work.Suppressed {
		t.Errorf("studies 0 and work 22 hidden: work %+v studies %+v", r.Total.Work, r.Total.Studies)
	}
	// Öster's one success (1–4) is hidden, and a second centre's with it.
	if !oster.Success.Suppressed || !hisingen.Success.Suppressed && !r.Places[1].Success.Suppressed {
		t.Errorf("Öster's one success: %+v", oster.Success)
	}
	var buf bytes.Buffer
	if err := r.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "centre,gbg-oster,<5,0,<5,<5,0,<5,<5,,") {
		t.Errorf("CSV shows Öster's small numbers:\n%s", buf.String())
	}
	// No cell of the CSV holds a number under 5.
	for _, line := range r.Table()[1:] {
		for _, cell := range line[3:9] {
			if n := atoiOr(cell); n > 0 && n < MinCell {
				t.Errorf("a count under 5 in %v", line)
			}
		}
	}
	if d := r.Difference; d == nil || math.Abs(d.Points-(100*22.0/73-23)) > 1e-9 || d.Lo >= d.Points || d.Hi <= d.Points {
		t.Errorf("difference = %+v", r.Difference)
	}
	buf.Reset()
	if err := r.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"participants 83\n", "ended 73\n", "to work or studies 22 (work 22, studies 0)", "share of ended 30.1%", "share of all participants 26.5%", "difference +7.1 points"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, buf.String())
		}
	}
}

func atoiOr(s string) int {
	n := 0
	if s == "" {
		return -1
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

func TestAgeBandsAndGroups(t *testing.T) {
	for age, want := range map[int]string{16: "16–19", 19: "16–19", 20: "20–24", 24: "20–24", 25: "25–29", 29: "25–29", 30: "30–49", 49: "30–49", 50: "50+", 66: "50+"} {
		if got := AgeBandOf(age); got != want {
			t.Errorf("AgeBandOf(%d) = %s, want %s", age, got, want)
		}
	}
	p := Participant{BirthDate: time.Date(2006, 6, 2, 0, 0, 0, 0, time.UTC), StartedAt: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
	if got := p.AgeBand(); got != "16–19" {
		t.Errorf("19 the day before the 20th birthday: band %s", got)
	}
}

func TestSuppressedCellsNeverReachJSON(t *testing.T) {
	r := Build(cohort("Göteborg", "gbg-oster", Woman, 3, 2), Query{Period: Year(2026), Comparison: &Comparison{Value: 23}})
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{`"n":3`, `"n":2`, `"share":0.66`, `"points":43`} {
		if strings.Contains(string(b), leak) {
			t.Errorf("JSON gives a suppressed figure away (%s): %s", leak, b)
		}
	}
	if !strings.Contains(string(b), `"n":null,"suppressed":true`) {
		t.Errorf("JSON does not say <5: %s", b)
	}
}
