package forecast

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/report"
)

// Summary is the cohort in the national indicator's terms (Kolada, "result
// at the end of the municipal labour-market measures").
type Summary struct {
	Participants int
	Ended        int // closed by the horizon
	Active       int
	Work         int // ended in work on the regular labour market, subsidised or not, that lasted a month
	Studies      int // ended in studies that qualify for student finance
	Refused      int // staff actions and outside answers the workflow refused
	Failed       int // workflows that failed
	Refusals     []string
}

// ToWorkOrStudies is the indicator's numerator.
func (s Summary) ToWorkOrStudies() int { return s.Work + s.Studies }

// ShareOfEnded is the national indicator: of those whose participation ended.
func (s Summary) ShareOfEnded() float64 { return share(s.ToWorkOrStudies(), s.Ended) }

// ShareOfAll is the same numerator over everyone who took part.
func (s Summary) ShareOfAll() float64 { return share(s.ToWorkOrStudies(), s.Participants) }

// WorkShareOfEnded is work alone over those who ended.
func (s Summary) WorkShareOfEnded() float64 { return share(s.Work, s.Ended) }

func share(n, d int) float64 {
	if d == 0 {
		return 0
	}
	return 100 * float64(n) / float64(d)
}

// Counts reports whether a pathway's end counts in the indicator's numerator,
// and as work or as studies: the municipality's own labour-market jobs and
// studies without student finance do not count, nor does work that did not
// last a month (the 30-day follow-up sends that case back to planning, so a
// case closed as work or studies has lasted).
func Counts(st pathway.Status) (work, studies bool) {
	o := st.Outcome
	if st.Phase != pathway.PhaseClosed || o == nil || o.Kind != st.ClosureReason {
		return false, false
	}
	switch o.Kind {
	case pathway.OutcomeWork:
		return o.EmployerKind == pathway.EmployerRegular, false
	case pathway.OutcomeSubsidisedWork:
		return o.EmployerKind == pathway.EmployerRegular && o.Subsidy != "", false
	case pathway.OutcomeStudies:
		return false, o.StudentFinance != nil && *o.StudentFinance
	}
	return false, false
}

// Summary counts the cohort.
func (r *Result) Summary() Summary {
	s := Summary{Participants: len(r.Participants)}
	seen := map[string]bool{}
	for _, p := range r.Participants {
		s.Refused += p.Refused
		for _, e := range p.RefusedErrors {
			if !seen[e] && len(s.Refusals) < 10 {
				seen[e] = true
				s.Refusals = append(s.Refusals, e)
			}
		}
		if p.Err != nil {
			s.Failed++
			if len(s.Refusals) < 10 {
				s.Refusals = append(s.Refusals, "workflow failed: "+p.Err.Error())
			}
			continue
		}
		if p.Status.Phase != pathway.PhaseClosed {
			s.Active++
			continue
		}
		s.Ended++
		work, studies := Counts(p.Status)
		if work {
			s.Work++
		}
		if studies {
			s.Studies++
		}
	}
	sort.Strings(s.Refusals)
	return s
}

// WriteText prints the cohort summary, one figure a line.
func (s Summary) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "participants %d\n", s.Participants)
	fmt.Fprintf(&b, "ended %d\n", s.Ended)
	fmt.Fprintf(&b, "still active %d\n", s.Active)
	fmt.Fprintf(&b, "to work or studies %d (work %d, studies %d)\n", s.ToWorkOrStudies(), s.Work, s.Studies)
	fmt.Fprintf(&b, "share of ended %.1f%%\n", s.ShareOfEnded())
	fmt.Fprintf(&b, "share of all participants %.1f%%\n", s.ShareOfAll())
	fmt.Fprintf(&b, "to work, share of ended %.1f%%\n", s.WorkShareOfEnded())
	fmt.Fprintf(&b, "refused staff actions %d\n", s.Refused)
	for _, e := range s.Refusals {
		fmt.Fprintf(&b, "  refused: %s\n", e)
	}
	if s.Failed > 0 {
		fmt.Fprintf(&b, "failed workflows %d\n", s.Failed)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ReportParticipants gives the cohort to the report package, so the forecast
// ends with the same report managers read for real participants.
func (r *Result) ReportParticipants() []report.Participant {
	out := make([]report.Participant, 0, len(r.Participants))
	for _, p := range r.Participants {
		gender := report.Man
		if p.Female {
			gender = report.Woman
		}
		st := p.Status
		rp := report.Participant{CaseID: p.CaseID, Municipality: r.Calibration.MunicipalityCode, Centre: p.Centre,
			Programme: st.Programme, Track: st.Track, Gender: gender,
			BirthDate: p.ReferredAt.AddDate(-p.Age, 0, 0), StartedAt: p.ReferredAt, EndedAt: p.ClosedAt,
			ClosureReason: st.ClosureReason, Outcome: st.Outcome}
		if rp.Outcome != nil {
			rp.OutcomeAt = rp.Outcome.RecordedAt
		}
		out = append(out, rp)
	}
	return out
}
