package report

import (
	"math"
	"sort"
)

// Equal-treatment monitor. The Göteborg seed says the centres worked
// differently, and the same help must be offered whatever the district: per
// centre, district, gender and age band, each group is compared with
// everyone else on five measures. A group is flagged only when the
// difference is larger than a configured threshold AND a test that accounts
// for the group's size finds it unlikely by chance after Holm's correction
// for the many comparisons made (two-proportion z-test for shares,
// Mann–Whitney for durations). Groups, or rests, under the suppression
// limit are neither shown nor tested.

// Monitor measures.
const (
	MeasureFirstContact  = "first_contact_days" // referral → first contact, days (median)
	MeasureMappingOnTime = "mapping_on_time"    // share mapped by the deadline
	MeasurePlanNeed      = "plan_tied_to_need"  // share of plans tied to a recruitment need
	MeasureProgramme     = "programme_days"     // referral → end, days (median), ended only
	MeasureIndicator     = "indicator"          // share of ended to work or studies
)

// Measures in display order.
var Measures = []string{MeasureFirstContact, MeasureMappingOnTime, MeasurePlanNeed, MeasureProgramme, MeasureIndicator}

// MonitorGroupings are the groupings compared.
var MonitorGroupings = []string{"centre", "district", "gender", "age_band"}

// Thresholds are how large a difference must be before it may be flagged.
type Thresholds struct {
	SharePoints   float64 // percentage points, for the three shares
	ContactDays   float64 // days, time to first contact
	ProgrammeDays float64 // days, time in programme
}

// DefaultThresholds are the configuration's defaults.
var DefaultThresholds = Thresholds{SharePoints: 10, ContactDays: 2, ProgrammeDays: 30}

// Alpha is the family-wise significance level after Holm's correction.
const Alpha = 0.05

// Comparison of one group against the rest on one measure.
type Check struct {
	Grouping  string  `json:"grouping"`
	Group     string  `json:"group"`
	Measure   string  `json:"measure"`
	Share     bool    `json:"is_share"` // a share (value in 0–1) or a duration in days
	N         int     `json:"n"`        // group members the measure applies to
	RestN     int     `json:"rest_n"`
	Value     float64 `json:"value"` // share, or median days
	Rest      float64 `json:"rest_value"`
	Diff      float64 `json:"difference"` // in points for shares, days for durations
	Threshold float64 `json:"threshold"`
	P         float64 `json:"p_value"`
	PHolm     float64 `json:"p_holm"`
	Large     bool    `json:"exceeds_threshold"`
	Flagged   bool    `json:"flagged"`
}

// Monitor is every comparison made, flagged ones first.
type Monitor struct {
	Period     Period     `json:"period"`
	Thresholds Thresholds `json:"thresholds"`
	Checks     []Check    `json:"checks"`
	Flagged    int        `json:"flagged"`
}

// values of one measure for one participant: ok false when it does not apply.
func measure(p Participant, m string, per Period) (x float64, ok bool) {
	switch m {
	case MeasureFirstContact:
		return durationDays(p.StartedAt, p.FirstContactAt)
	case MeasureMappingOnTime:
		if p.MappingDue.IsZero() {
			return 0, false
		}
		// Mapped by the deadline; not mapped and the deadline passed counts
		// as late; not mapped with time left does not apply yet.
		if !p.MappingAt.IsZero() {
			return b2f(!p.MappingAt.After(p.MappingDue)), true
		}
		end := per.To
		if !p.EndedAt.IsZero() && p.EndedAt.Before(end) {
			end = p.EndedAt
		}
		if p.MappingDue.Before(end) {
			return 0, true
		}
		return 0, false
	case MeasurePlanNeed:
		if p.PlanAt.IsZero() {
			return 0, false
		}
		return b2f(p.PlanNeed), true
	case MeasureProgramme:
		if !endedIn(p, per) {
			return 0, false
		}
		return durationDays(p.StartedAt, p.EndedAt)
	case MeasureIndicator:
		if !endedIn(p, per) {
			return 0, false
		}
		return b2f(p.Counts().ToWorkOrStudies()), true
	}
	return 0, false
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func isShare(m string) bool { return m != MeasureFirstContact && m != MeasureProgramme }

// BuildMonitor compares every group with the rest over those who took part
// in the period.
func BuildMonitor(ps []Participant, per Period, th Thresholds) *Monitor {
	mon := &Monitor{Period: per, Thresholds: th}
	var in []Participant
	for _, p := range ps {
		if tookPart(p, per) {
			in = append(in, p)
		}
	}
	for _, g := range MonitorGroupings {
		groups := map[string]bool{}
		for _, p := range in {
			if k := key(p, g); k != "" {
				groups[k] = true
			}
		}
		var names []string
		for k := range groups {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, name := range names {
			for _, m := range Measures {
				var a, b []float64
				for _, p := range in {
					x, ok := measure(p, m, per)
					if !ok {
						continue
					}
					if key(p, g) == name {
						a = append(a, x)
					} else {
						b = append(b, x)
					}
				}
				if len(a) < MinCell || len(b) < MinCell {
					continue // too few to show or test
				}
				c := Check{Grouping: g, Group: name, Measure: m, Share: isShare(m), N: len(a), RestN: len(b)}
				if c.Share {
					ka, kb := int(total(a)), int(total(b))
					c.Value, c.Rest = float64(ka)/float64(len(a)), float64(kb)/float64(len(b))
					c.Diff = (c.Value - c.Rest) * 100
					c.Threshold = th.SharePoints
					_, c.P = TwoProportion(ka, len(a), kb, len(b))
				} else {
					c.Value, c.Rest = median(a), median(b)
					c.Diff = c.Value - c.Rest
					c.Threshold = th.ContactDays
					if m == MeasureProgramme {
						c.Threshold = th.ProgrammeDays
					}
					_, c.P = MannWhitney(a, b)
				}
				c.Large = math.Abs(c.Diff) > c.Threshold
				mon.Checks = append(mon.Checks, c)
			}
		}
	}
	ps2 := make([]float64, len(mon.Checks))
	for i, c := range mon.Checks {
		ps2[i] = c.P
	}
	for i, adj := range Holm(ps2) {
		c := &mon.Checks[i]
		c.PHolm = adj
		c.Flagged = c.Large && adj < Alpha
		if c.Flagged {
			mon.Flagged++
		}
	}
	sort.SliceStable(mon.Checks, func(i, j int) bool { return mon.Checks[i].Flagged && !mon.Checks[j].Flagged })
	return mon
}

func total(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
