package report

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/pathways-se/pathways/pathway"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestTwoProportionAndRankTests(t *testing.T) {
	// 30 of 100 against 50 of 100: pooled 0.4, z = −2.887, p = 0.0039.
	z, p := TwoProportion(30, 100, 50, 100)
	if !near(z, -2.8868, 0.0005) || !near(p, 0.00389, 0.00005) {
		t.Errorf("TwoProportion(30/100, 50/100) = z %.4f p %.5f, want −2.8868, 0.00389", z, p)
	}
	if _, p := TwoProportion(5, 10, 5, 10); p != 1 {
		t.Errorf("equal shares: p = %v, want 1", p)
	}
	if _, p := TwoProportion(0, 10, 0, 10); p != 1 {
		t.Errorf("no variation: p = %v, want 1", p)
	}
	// Complete separation of 5 and 5: U = 0, p = 0.0122 (normal
	// approximation with continuity correction, as scipy's asymptotic test).
	a, b := []float64{1, 2, 3, 4, 5}, []float64{6, 7, 8, 9, 10}
	u, p := MannWhitney(a, b)
	if u != 0 || !near(p, 0.01219, 0.0001) {
		t.Errorf("MannWhitney(separated) = U %v p %.5f, want 0, 0.01219", u, p)
	}
	if u2, p2 := MannWhitney(b, a); u2 != 25 || !near(p2, p, 1e-12) {
		t.Errorf("MannWhitney(b, a) = U %v p %v, want 25 and the same p", u2, p2)
	}
	// Ties: the tie correction shrinks the variance, so the p-value is
	// smaller than without it; all tied gives p = 1.
	if _, p := MannWhitney([]float64{2, 2, 2}, []float64{2, 2, 2}); p != 1 {
		t.Errorf("all tied: p = %v, want 1", p)
	}
	_, pt := MannWhitney([]float64{1, 1, 1, 2, 2}, []float64{2, 3, 3, 3, 3})
	if !near(pt, 0.0149, 0.0002) { // U = 1, tie-corrected sd 4.518
		t.Errorf("MannWhitney with ties p = %.4f, want 0.0149", pt)
	}
	got := Holm([]float64{0.01, 0.04, 0.03, 0.005})
	for i, want := range []float64{0.03, 0.06, 0.06, 0.02} {
		if !near(got[i], want, 1e-12) {
			t.Errorf("Holm = %v, want [0.03 0.06 0.06 0.02]", got)
			break
		}
	}
}

// staffed builds n participants of a centre, referred on 2026-02-01, each
// reached after contactDays; the first success of them ended in lasting
// work, the rest at the time limit.
func staffed(centre string, n, success int, contactDays float64) []Participant {
	var ps []Participant
	start := time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		p := Participant{CaseID: fmt.Sprintf("%s-%d", centre, i), Municipality: "Göteborg", Centre: centre, District: centre,
			Gender: []string{Man, Woman}[i%2], BirthDate: time.Date(1980+i%30, 3, 1, 0, 0, 0, 0, time.UTC),
			StartedAt: start, FirstContactAt: start.Add(time.Duration((contactDays+float64(i%3)*0.1)*24) * time.Hour),
			MappingDue: start.AddDate(0, 0, 28), MappingAt: start.AddDate(0, 0, 20), PlanAt: start.AddDate(0, 0, 30), PlanNeed: i%3 == 0,
			EndedAt: start.AddDate(0, 6, i%20), ClosureReason: pathway.CloseTimeLimit}
		if i < success {
			p.Outcome = lasted(pathway.Outcome{Kind: pathway.OutcomeWork, EmployerKind: pathway.EmployerRegular})
		}
		ps = append(ps, p)
	}
	return ps
}

func find(m *Monitor, grouping, group, measure string) *Check {
	for i := range m.Checks {
		c := &m.Checks[i]
		if c.Grouping == grouping && c.Group == group && c.Measure == measure {
			return c
		}
	}
	return nil
}

func TestMonitorFlagsAClearDifference(t *testing.T) {
	var ps []Participant
	ps = append(ps, staffed("gbg-angered", 60, 15, 6)...) // slow first contact, 25% to work
	ps = append(ps, staffed("gbg-hisingen", 60, 33, 1)...)
	ps = append(ps, staffed("gbg-oster", 60, 30, 1)...)
	ps = append(ps, staffed("gbg-centrum", 60, 31, 1)...)
	ps = append(ps, staffed("gbg-vaster", 60, 32, 1)...)
	ps = append(ps, staffed("gbg-tiny", 4, 0, 30)...) // under the limit: neither shown nor tested
	m := BuildMonitor(ps, Year(2026), DefaultThresholds)

	c := find(m, "centre", "gbg-angered", MeasureFirstContact)
	if c == nil || !c.Flagged || !near(c.Diff, 5, 0.2) || c.PHolm >= Alpha {
		t.Fatalf("Angered's slow first contact not flagged: %+v", c)
	}
	c = find(m, "centre", "gbg-angered", MeasureIndicator)
	if c == nil || !c.Flagged || c.Diff > -20 {
		t.Errorf("Angered's 25%% against 52%% not flagged: %+v", c)
	}
	if c := find(m, "centre", "gbg-hisingen", MeasureFirstContact); c == nil || c.Flagged {
		t.Errorf("Hisingen, as quick as the rest but Angered, flagged: %+v", c)
	}
	if c := find(m, "centre", "gbg-tiny", MeasureFirstContact); c != nil {
		t.Errorf("a group of 4 was shown and tested: %+v", c)
	}
	// Gender is balanced in every centre: nothing to flag.
	for _, g := range []string{Man, Woman} {
		for _, meas := range Measures {
			if c := find(m, "gender", g, meas); c != nil && c.Flagged {
				t.Errorf("%s flagged on %s: %+v", g, meas, c)
			}
		}
	}
	if m.Flagged == 0 || !m.Checks[0].Flagged {
		t.Errorf("flagged checks come first: %d flagged, first %+v", m.Flagged, m.Checks[0])
	}
}

func TestMonitorNeedsBothSizeAndSignificance(t *testing.T) {
	// Large but not significant: 5 people at 3 days' later contact is
	// more than the 2-day threshold, but a group of 5 cannot show it.
	var small []Participant
	small = append(small, staffed("gbg-angered", 5, 2, 3.5)...)
	small = append(small, staffed("gbg-hisingen", 5, 3, 1)...)
	m := BuildMonitor(small, Year(2026), DefaultThresholds)
	c := find(m, "centre", "gbg-angered", MeasureIndicator)
	if c == nil {
		t.Fatalf("a group of 5 against 5 should be tested: %+v", m.Checks)
	}
	if c.Large == false || c.Flagged || c.PHolm < Alpha {
		t.Errorf("40%% against 60%% in groups of 5: want large, not significant, not flagged: %+v", c)
	}
	// Significant but small: 2,000 against 2,000 at 40% against 47% is a
	// real difference (p < 0.001) but under the 10-point threshold.
	var big []Participant
	big = append(big, staffed("gbg-angered", 2000, 800, 1)...)
	big = append(big, staffed("gbg-hisingen", 2000, 940, 1)...)
	m = BuildMonitor(big, Year(2026), DefaultThresholds)
	c = find(m, "centre", "gbg-angered", MeasureIndicator)
	if c == nil || c.P >= Alpha || c.Large || c.Flagged {
		t.Errorf("40%% against 47%% in groups of 2,000: want p < 0.05 but under the threshold and not flagged: %+v", c)
	}
	// The same difference with a threshold of 5 points is flagged.
	m = BuildMonitor(big, Year(2026), Thresholds{SharePoints: 5, ContactDays: 2, ProgrammeDays: 30})
	if c := find(m, "centre", "gbg-angered", MeasureIndicator); c == nil || !c.Flagged {
		t.Errorf("with a 5-point threshold, 7 points at p < 0.05 (Holm) should be flagged: %+v", c)
	}
}
