// Package loadtest replays a simulated working day of a municipality's staff
// work through the real HTTP API (`pathways loadtest`): a seeded model says
// how many of each staff request fall in each hour of the day (08:00–17:00),
// a working set of pathways in the phases those requests need is created
// first, then the day is replayed at a speed factor and measured.
package loadtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Kind is one kind of staff request.
type Kind string

// The kinds a working day is made of: writes (staff actions) and reads.
const (
	Start        Kind = "start"         // a new referral: POST /pathways
	FirstContact Kind = "first-contact" // referral → mapping
	Mapping      Kind = "mapping"       // mapping → planning
	Plan         Kind = "plan"          // plan approval: planning → steps
	Step         Kind = "step"          // a step's result: confirm-step
	Outcome      Kind = "outcome"       // work or studies recorded
	FollowUp     Kind = "follow-up"     // the day-30 or day-90 follow-up answered
	Close        Kind = "close"         // closure
	Pause        Kind = "pause"
	Resume       Kind = "resume"
	Caseload     Kind = "caseload" // GET /pathways: the staff member's caseload
	Tasks        Kind = "tasks"    // GET /tasks: the task inbox
	Search       Kind = "search"   // GET /pathways?q=: a search by personal number or case ID
	View         Kind = "view"     // GET /pathways/{case} and its timeline
)

// Kinds lists every kind in report order.
var Kinds = []Kind{Start, FirstContact, Mapping, Plan, Step, Outcome, FollowUp, Close, Pause, Resume, Caseload, Tasks, Search, View}

// Write reports whether the kind is a staff action (it changes a pathway).
func (k Kind) Write() bool {
	switch k {
	case Caseload, Tasks, Search, View:
		return false
	}
	return true
}

// Day is the working day the model covers: 08:00 to 17:00.
const (
	DayStart = 8 * time.Hour
	DayHours = 9
	DayLen   = DayHours * time.Hour
)

// Model is a municipality's working day: requests per day at OpenPathways
// open pathways, spread over the hours by HourWeights.
type Model struct {
	OpenPathways int
	Staff        int // staff members working cases
	PerDay       map[Kind]float64
	// HourWeights shape the day, 08–09 to 16–17: a morning peak, a lunch dip.
	HourWeights [DayHours]float64
}

// LargeMunicipality is the model of one large municipality with 10,000 open
// pathways. The assumptions (docs/capacity.md repeats them):
//   - 10,000 pathways start a year (a mean stay of about a year keeps
//     10,000 open), over 220 working days: 45 referrals a day, each followed
//     by a first contact, a mapping and a plan;
//   - 60 % of open pathways are in a step and a step's result is recorded
//     every two weeks: 6,000 / 10 working days = 600 step actions a day;
//   - 45 closures a day, 20 of them after a recorded outcome (work or
//     studies), each outcome followed up at day 30 and 90 (40 a day);
//   - 10 pauses and 10 resumes a day (sickness, parental leave);
//   - 200 staff (a caseload of 50) who each open their caseload 20 times
//     a day, their task inbox 10 times, 30 pathways and search 5 times.
func LargeMunicipality() Model {
	return Model{
		OpenPathways: 10_000,
		Staff:        200,
		PerDay: map[Kind]float64{
			Start: 45, FirstContact: 45, Mapping: 45, Plan: 45, Step: 600,
			Outcome: 20, FollowUp: 40, Close: 45, Pause: 10, Resume: 10,
			Caseload: 4000, Tasks: 2000, Search: 1000, View: 6000,
		},
		HourWeights: [DayHours]float64{0.7, 1.3, 1.4, 1.2, 0.5, 0.9, 1.2, 1.0, 0.6},
	}
}

// Event is one scheduled request: At after 08:00 of the simulated day, by
// staff member Staff (0 ≤ Staff < Model.Staff).
type Event struct {
	At    time.Duration
	Kind  Kind
	Staff int
}

// Schedule is one generated day.
type Schedule struct {
	Events []Event
	Counts map[Kind]int
	Hourly [DayHours]int // requests per hour
}

// Plan generates the day from seed, with every volume multiplied by scale
// (1 for the model as it is). The same seed and scale give the same day.
func (m Model) Plan(seed uint64, scale float64) Schedule {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	s := Schedule{Counts: map[Kind]int{}}
	var total float64
	for _, w := range m.HourWeights {
		total += w
	}
	for _, k := range Kinds {
		n := int(math.Round(m.PerDay[k] * scale))
		if n <= 0 {
			continue
		}
		s.Counts[k] = n
		for h, c := range spread(n, m.HourWeights[:], total) {
			for range c {
				at := time.Duration(h)*time.Hour + time.Duration(rng.Int64N(int64(time.Hour)))
				s.Events = append(s.Events, Event{At: at, Kind: k, Staff: rng.IntN(max(1, m.Staff))})
				s.Hourly[h]++
			}
		}
	}
	slices.SortStableFunc(s.Events, func(a, b Event) int {
		switch {
		case a.At < b.At:
			return -1
		case a.At > b.At:
			return 1
		}
		return 0
	})
	return s
}

// spread shares n over the hours in proportion to their weights, rounding
// by largest remainder so the counts add up to n.
func spread(n int, weights []float64, total float64) []int {
	out := make([]int, len(weights))
	rest := make([]float64, len(weights))
	given := 0
	for i, w := range weights {
		exact := float64(n) * w / total
		out[i] = int(exact)
		rest[i] = exact - float64(out[i])
		given += out[i]
	}
	order := make([]int, len(weights))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case rest[a] > rest[b]:
			return -1
		case rest[a] < rest[b]:
			return 1
		}
		return 0
	})
	for i := 0; given < n; i++ {
		out[order[i%len(order)]]++
		given++
	}
	return out
}

// Until keeps the events of the first d of the day (all of it when d is 0
// or longer than the day).
func (s Schedule) Until(d time.Duration) Schedule {
	if d <= 0 || d >= DayLen {
		return s
	}
	out := Schedule{Counts: map[Kind]int{}}
	for _, e := range s.Events {
		if e.At >= d {
			break
		}
		out.Events = append(out.Events, e)
		out.Counts[e.Kind]++
		out.Hourly[e.At/time.Hour]++
	}
	return out
}

// Clock formats an offset into the day as the time of day, e.g. 09:41:07.
func Clock(at time.Duration) string {
	t := DayStart + at
	return fmt.Sprintf("%02d:%02d:%02d", int(t.Hours()), int(t.Minutes())%60, int(t.Seconds())%60)
}
