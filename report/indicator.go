// Package report computes outcomes the way municipalities report them: the
// national indicator (Kolada, "result at the end of the municipal
// labour-market measures") by period and group, both denominators, Wilson
// intervals, small-number suppression, a comparison line, the annual
// statistics and the equal-treatment monitor. It reads nothing itself: the
// caller hands it participants (from the read model, or a forecast's cohort).
package report

import (
	"time"

	"github.com/pathways-se/pathways/pathway"
)

// Genders, as Swedish statistics take them from the identity number.
const (
	Man   = "man"
	Woman = "woman"
)

// Participant is one pathway as the report sees it: no names, no identity
// number, only what the groups and the indicator need.
type Participant struct {
	CaseID       string
	Municipality string
	Centre       string
	District     string
	Programme    string
	Track        string
	Gender       string    // Man, Woman or "" when unknown
	BirthDate    time.Time // zero when unknown
	StartedAt    time.Time // the referral: participation begins
	EndedAt      time.Time // zero while the pathway is active
	// ClosureReason is the coded reason the pathway closed with.
	ClosureReason string
	// Outcome is the outcome standing at the end (or now): nil when none was
	// recorded or it lapsed at the 30-day follow-up.
	Outcome *pathway.Outcome

	// The way through the programme, for the flow chart and the monitor;
	// zero when not reached.
	FirstContactDue time.Time
	FirstContactAt  time.Time
	MappingDue      time.Time
	MappingAt       time.Time
	PlanAt          time.Time
	PlanNeed        bool // the plan is tied to an employer's recruitment need
	StepAt          time.Time
	OutcomeAt       time.Time // an outcome was recorded (even one that lapsed)
}

// Count is what the national indicator makes of one participant.
type Count struct {
	Ended   bool // in the indicator's denominator
	Work    bool // numerator: work on the regular labour market that lasted a month
	Studies bool // numerator: studies that qualify for student finance
}

// ToWorkOrStudies is the numerator.
func (c Count) ToWorkOrStudies() bool { return c.Work || c.Studies }

// Counts applies the national definition:
//   - only participants whose participation ended are counted at all;
//   - work is employment on the regular labour market, unsubsidised or
//     subsidised, that lasted at least one continuous month (a follow-up at
//     day 30 or later found the person still there); a job created by the
//     municipality's own labour-market measures never counts;
//   - studies count when the education qualifies for student finance (CSN);
//   - every other ending (time limit, moved, illness, declined, other) is in
//     the denominator only.
func (p Participant) Counts() Count {
	c := Count{Ended: !p.EndedAt.IsZero()}
	o := p.Outcome
	if !c.Ended || o == nil {
		return c
	}
	switch o.Kind {
	case pathway.OutcomeWork, pathway.OutcomeSubsidisedWork:
		c.Work = o.EmployerKind != pathway.EmployerMunicipalMeasure && LastedMonth(o)
	case pathway.OutcomeStudies:
		c.Studies = o.StudentFinance != nil && *o.StudentFinance
	}
	return c
}

// LastedMonth reports whether a follow-up at day 30 or later found the
// person still in the job: the existing 30-day follow-up decides "lasted
// a month" (a "no" at day 30 makes the outcome lapse altogether).
func LastedMonth(o *pathway.Outcome) bool {
	for _, f := range o.FollowUps {
		if f.Day >= 30 && f.StillThere {
			return true
		}
	}
	return false
}

// stillAt reports whether a follow-up at day or later found the person there.
func stillAt(o *pathway.Outcome, day int) bool {
	if o == nil {
		return false
	}
	for _, f := range o.FollowUps {
		if f.Day >= day && f.StillThere {
			return true
		}
	}
	return false
}

// Age bands of the national statistics.
var AgeBands = []string{"16–19", "20–24", "25–29", "30–49", "50+"}

// AgeBand is the participant's band at the start of participation, "" when
// the birth date is unknown.
func (p Participant) AgeBand() string {
	if p.BirthDate.IsZero() || p.StartedAt.IsZero() {
		return ""
	}
	return AgeBandOf(ageOn(p.BirthDate, p.StartedAt))
}

// AgeBandOf places an age in its band (under 16 joins the youngest).
func AgeBandOf(age int) string {
	switch {
	case age < 20:
		return AgeBands[0]
	case age < 25:
		return AgeBands[1]
	case age < 30:
		return AgeBands[2]
	case age < 50:
		return AgeBands[3]
	}
	return AgeBands[4]
}

func ageOn(birth, day time.Time) int {
	b := birth.In(zone)
	d := day.In(zone)
	age := d.Year() - b.Year()
	if d.Month() < b.Month() || (d.Month() == b.Month() && d.Day() < b.Day()) {
		age--
	}
	return age
}
