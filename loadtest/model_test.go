package loadtest

import (
	"math"
	"slices"
	"testing"
	"time"
)

// TestPlanIsDeterministicShapedAndMixed: one seed gives one day; the day
// has the model's mix per kind, a morning peak and a lunch dip, and every
// event falls inside 08:00–17:00 in order.
func TestPlanIsDeterministicShapedAndMixed(t *testing.T) {
	m := LargeMunicipality()
	a, b := m.Plan(7, 1), m.Plan(7, 1)
	if !slices.Equal(a.Events, b.Events) {
		t.Fatal("the same seed gave two different days")
	}
	if c := m.Plan(8, 1); slices.Equal(a.Events, c.Events) {
		t.Fatal("seeds 7 and 8 gave the same day")
	}

	total := 0
	for _, k := range Kinds {
		want := int(math.Round(m.PerDay[k]))
		if a.Counts[k] != want {
			t.Errorf("%s: %d in the day, the model says %d", k, a.Counts[k], want)
		}
		total += want
	}
	if len(a.Events) != total {
		t.Errorf("%d events, the counts add up to %d", len(a.Events), total)
	}
	seen := map[Kind]int{}
	for i, e := range a.Events {
		seen[e.Kind]++
		if e.At < 0 || e.At >= DayLen {
			t.Fatalf("event %d at %s: outside the working day", i, Clock(e.At))
		}
		if i > 0 && e.At < a.Events[i-1].At {
			t.Fatalf("event %d at %s comes before event %d at %s", i, Clock(e.At), i-1, Clock(a.Events[i-1].At))
		}
		if e.Staff < 0 || e.Staff >= m.Staff {
			t.Fatalf("event %d: staff %d of %d", i, e.Staff, m.Staff)
		}
	}
	for _, k := range Kinds {
		if seen[k] != a.Counts[k] {
			t.Errorf("%s: %d events, counted %d", k, seen[k], a.Counts[k])
		}
	}
	writes := 0
	for _, k := range Kinds {
		if k.Write() {
			writes += a.Counts[k]
		}
	}
	// Reads dominate a caseworker's day: about 13 reads to a staff action.
	if r := float64(total-writes) / float64(writes); r < 5 || r > 30 {
		t.Errorf("%.1f reads to a staff action", r)
	}

	// The shape: 10–11 is the peak, 12–13 the dip, 08–09 and 16–17 quieter
	// than the morning; each hour within a rounding of its weight's share.
	h := a.Hourly
	peak := slices.Index(h[:], slices.Max(h[:]))
	if peak != 2 {
		t.Errorf("peak hour %02d:00, want 10:00 (per hour %v)", 8+peak, h)
	}
	if h[4] >= h[3] || h[4] >= h[5] || h[4] >= h[0] {
		t.Errorf("no lunch dip at 12–13: per hour %v", h)
	}
	var wsum float64
	for _, w := range m.HourWeights {
		wsum += w
	}
	for i, w := range m.HourWeights {
		share := float64(total) * w / wsum
		if math.Abs(float64(h[i])-share) > float64(len(Kinds)) {
			t.Errorf("hour %02d: %d requests, its weight gives %.0f", 8+i, h[i], share)
		}
	}

	// Scale multiplies every volume; Until keeps the start of the day.
	half := m.Plan(7, 0.5)
	if got, want := half.Counts[Step], int(math.Round(m.PerDay[Step]*0.5)); got != want {
		t.Errorf("scale 0.5: %d step actions, want %d", got, want)
	}
	morning := a.Until(3 * time.Hour)
	if n := h[0] + h[1] + h[2]; len(morning.Events) != n {
		t.Errorf("08:00–11:00: %d events, the hours hold %d", len(morning.Events), n)
	}
	if morning.Hourly[3] != 0 || morning.Events[len(morning.Events)-1].At >= 3*time.Hour {
		t.Errorf("Until(3h) kept events after 11:00")
	}
}

// TestSpreadAddsUp: largest-remainder rounding never loses or adds requests.
func TestSpreadAddsUp(t *testing.T) {
	w := LargeMunicipality().HourWeights
	for _, n := range []int{0, 1, 2, 7, 45, 600, 6000} {
		got := spread(n, w[:], 8.8)
		sum := 0
		for _, c := range got {
			sum += c
		}
		if sum != n {
			t.Errorf("spread(%d) = %v, adds up to %d", n, got, sum)
		}
	}
}
