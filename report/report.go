package report

import (
	"sort"
	"time"
)

// MinCell is the suppression limit: a cell of 1 to MinCell−1 people is shown as "<5".
const MinCell = 5

// Comparison is a configured reference figure, e.g. comparable
// municipalities' indicator, with where it comes from.
type Comparison struct {
	Value  float64 `json:"value_percent"` // e.g. 23 for 23%
	Label  string  `json:"label"`
	Source string  `json:"source"`
	Year   int     `json:"year"`
}

// Query says what to report.
type Query struct {
	Period     Period
	Comparison *Comparison // nil: no comparison line
}

// Cell is a count that may be suppressed.
type Cell struct {
	N          int  `json:"n"`
	Suppressed bool `json:"suppressed,omitempty"`
}

// String is the count, or "<5" when suppressed.
func (c Cell) String() string {
	if c.Suppressed {
		return "<5"
	}
	return itoa(c.N)
}

// Share is Num of Den with its Wilson 95% interval; suppressed when either
// count, or what the share reveals of the rest, is under the limit.
type Share struct {
	Num        int     `json:"-"`
	Den        int     `json:"-"`
	P          float64 `json:"share"`
	Lo         float64 `json:"low"`
	Hi         float64 `json:"high"`
	Suppressed bool    `json:"suppressed,omitempty"`
}

func share(num, den int) Share {
	s := Share{Num: num, Den: den}
	if den > 0 {
		s.P = float64(num) / float64(den)
	}
	s.Lo, s.Hi = Wilson(num, den)
	return s
}

// Row is one group's figures. OfEnded is the national indicator (the share
// of those who ended); OfAll is the share of everyone who took part in the
// period, active or ended. They have different denominators and are always
// shown side by side, labelled.
type Row struct {
	Label        string `json:"label"`
	Level        string `json:"level,omitempty"` // in Places: municipality or centre
	Participants Cell   `json:"participants"`    // took part in the period
	Active       Cell   `json:"active"`          // still active at the period's end
	Ended        Cell   `json:"ended"`           // ended in the period
	Work         Cell   `json:"work"`
	Studies      Cell   `json:"studies"`
	Success      Cell   `json:"to_work_or_studies"`
	OfEnded      Share  `json:"share_of_ended"`
	OfAll        Share  `json:"share_of_participants"`
}

// Dimension is the rows of one grouping (they add up to the total).
type Dimension struct {
	Name string `json:"name"` // municipality, centre, programme, track, age_band, gender
	Rows []Row  `json:"rows"`
}

// Dimensions, in the order reports show them.
var Dimensions = []string{"municipality", "centre", "programme", "track", "age_band", "gender"}

// Point is one step of a series over time.
type Point struct {
	Period Period `json:"period"`
	Ended  Cell   `json:"ended"`
	Share  Share  `json:"share_of_ended"`
}

// Series is one centre's indicator over the period's steps.
type Series struct {
	Label  string  `json:"label"`
	Points []Point `json:"points"`
}

// Stage is one stage of the flow from referral to follow-up.
type Stage struct {
	Key  string `json:"key"` // referral, mapping, plan, step, outcome, follow_up_30, follow_up_90
	Cell Cell   `json:"count"`
}

// Difference is the indicator minus the comparison, in percentage points,
// with the interval of the indicator carried over (the reference is fixed).
type Difference struct {
	Points     float64 `json:"points"`
	Lo         float64 `json:"low"`
	Hi         float64 `json:"high"`
	Suppressed bool    `json:"suppressed,omitempty"`
}

// Report is the outcome report of a period.
type Report struct {
	Period     Period      `json:"period"`
	Total      Row         `json:"total"`
	Dimensions []Dimension `json:"dimensions"`
	// Places are the totals per municipality, each followed by its centres.
	Places     []Row       `json:"places"`
	Series     []Series    `json:"series"`
	Flow       []Stage     `json:"flow"`
	Comparison *Comparison `json:"comparison,omitempty"`
	Difference *Difference `json:"difference,omitempty"`
}

// Dimension returns the named grouping.
func (r *Report) Dimension(name string) Dimension {
	for _, d := range r.Dimensions {
		if d.Name == name {
			return d
		}
	}
	return Dimension{Name: name}
}

// tally adds participants up; it is the unsuppressed row.
type tally struct{ parts, active, ended, work, studies int }

func (t *tally) add(p Participant, per Period) {
	if !tookPart(p, per) {
		return
	}
	t.parts++
	if !endedIn(p, per) {
		if p.EndedAt.IsZero() || !p.EndedAt.Before(per.To) {
			t.active++
		}
		return
	}
	t.ended++
	c := p.Counts()
	if c.Work {
		t.work++
	} else if c.Studies {
		t.studies++
	}
}

func (t tally) row(label string) Row {
	return Row{Label: label,
		Participants: Cell{N: t.parts}, Active: Cell{N: t.active}, Ended: Cell{N: t.ended},
		Work: Cell{N: t.work}, Studies: Cell{N: t.studies}, Success: Cell{N: t.work + t.studies},
		OfEnded: share(t.work+t.studies, t.ended), OfAll: share(t.work+t.studies, t.parts)}
}

// tookPart: started before the period's end and not ended before its start.
func tookPart(p Participant, per Period) bool {
	return p.StartedAt.Before(per.To) && (p.EndedAt.IsZero() || !p.EndedAt.Before(per.From))
}

func endedIn(p Participant, per Period) bool { return !p.EndedAt.IsZero() && per.Contains(p.EndedAt) }

// key returns the participant's value in a dimension ("" when unknown).
func key(p Participant, dim string) string {
	switch dim {
	case "municipality":
		return p.Municipality
	case "centre":
		return p.Centre
	case "programme":
		return p.Programme
	case "track":
		return p.Track
	case "age_band":
		return p.AgeBand()
	case "gender":
		return p.Gender
	case "district":
		return p.District
	}
	return ""
}

// Unknown labels a group whose value was not recorded.
const Unknown = "unknown"

// Build computes the report of q.Period over the participants: the total,
// every dimension, the totals per municipality and centre, each centre's
// indicator over time, the flow, and the comparison; then it suppresses
// small cells and the cells that would reveal them.
func Build(ps []Participant, q Query) *Report {
	per := q.Period
	r := &Report{Period: per, Comparison: q.Comparison}
	var total tally
	for _, p := range ps {
		total.add(p, per)
	}
	r.Total = total.row("total")
	for _, dim := range Dimensions {
		groups := map[string]*tally{}
		for _, p := range ps {
			k := key(p, dim)
			if k == "" {
				k = Unknown
			}
			if groups[k] == nil {
				groups[k] = &tally{}
			}
			groups[k].add(p, per)
		}
		d := Dimension{Name: dim}
		for _, k := range orderKeys(dim, groups) {
			if g := groups[k]; g.parts > 0 {
				d.Rows = append(d.Rows, g.row(k))
			}
		}
		r.Dimensions = append(r.Dimensions, d)
	}
	r.Places = places(ps, per)
	r.Series = series(ps, per)
	r.Flow = flow(ps, per)
	protectReport(r)
	if c := q.Comparison; c != nil {
		s := r.Total.OfEnded
		r.Difference = &Difference{Points: s.P*100 - c.Value, Lo: s.Lo*100 - c.Value, Hi: s.Hi*100 - c.Value, Suppressed: s.Suppressed}
	}
	return r
}

// orderKeys puts age bands in age order and everything else alphabetically,
// "unknown" last.
func orderKeys(dim string, groups map[string]*tally) []string {
	var ks []string
	for k := range groups {
		ks = append(ks, k)
	}
	rank := func(k string) int {
		if k == Unknown {
			return 99
		}
		if dim == "age_band" {
			for i, b := range AgeBands {
				if b == k {
					return i
				}
			}
		}
		return 0
	}
	sort.Slice(ks, func(i, j int) bool {
		if a, b := rank(ks[i]), rank(ks[j]); a != b {
			return a < b
		}
		return ks[i] < ks[j]
	})
	return ks
}

// places are the municipalities' totals, each followed by its centres.
func places(ps []Participant, per Period) []Row {
	type muni struct {
		t       tally
		centres map[string]*tally
	}
	ms := map[string]*muni{}
	for _, p := range ps {
		m := ms[p.Municipality]
		if m == nil {
			m = &muni{centres: map[string]*tally{}}
			ms[p.Municipality] = m
		}
		m.t.add(p, per)
		if m.centres[p.Centre] == nil {
			m.centres[p.Centre] = &tally{}
		}
		m.centres[p.Centre].add(p, per)
	}
	var names []string
	for n := range ms {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []Row
	for _, n := range names {
		m := ms[n]
		if m.t.parts == 0 {
			continue
		}
		row := m.t.row(n)
		row.Level = "municipality"
		out = append(out, row)
		var cs []string
		for c := range m.centres {
			cs = append(cs, c)
		}
		sort.Strings(cs)
		for _, c := range cs {
			if t := m.centres[c]; t.parts > 0 {
				row := t.row(c)
				row.Level = "centre"
				out = append(out, row)
			}
		}
	}
	return out
}

// series is each centre's indicator over the period's steps.
func series(ps []Participant, per Period) []Series {
	steps := per.Split()
	byCentre := map[string][]Participant{}
	for _, p := range ps {
		if tookPart(p, per) {
			byCentre[p.Centre] = append(byCentre[p.Centre], p)
		}
	}
	var names []string
	for n := range byCentre {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []Series
	for _, n := range names {
		s := Series{Label: n}
		for _, st := range steps {
			var t tally
			for _, p := range byCentre[n] {
				t.add(p, st)
			}
			s.Points = append(s.Points, Point{Period: st, Ended: Cell{N: t.ended}, Share: share(t.work+t.studies, t.ended)})
		}
		out = append(out, s)
	}
	return out
}

// Flow stages, in order.
var Stages = []string{"referral", "mapping", "plan", "step", "outcome", "follow_up_30", "follow_up_90"}

// flow counts how many of those who took part in the period reached each
// stage (by now; a stage reached after the period still counts).
func flow(ps []Participant, per Period) []Stage {
	n := make([]int, len(Stages))
	for _, p := range ps {
		if !tookPart(p, per) {
			continue
		}
		reached := []bool{true, !p.MappingAt.IsZero(), !p.PlanAt.IsZero(), !p.StepAt.IsZero(),
			!p.OutcomeAt.IsZero() || p.Outcome != nil, stillAt(p.Outcome, 30), stillAt(p.Outcome, 90)}
		for i, ok := range reached {
			if ok {
				n[i]++
			}
		}
	}
	out := make([]Stage, len(Stages))
	for i, k := range Stages {
		out[i] = Stage{Key: k, Cell: Cell{N: n[i]}}
	}
	return out
}

// durationDays is b − a in days (for the monitor), false when either is unset.
func durationDays(a, b time.Time) (float64, bool) {
	if a.IsZero() || b.IsZero() {
		return 0, false
	}
	return b.Sub(a).Hours() / 24, true
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
