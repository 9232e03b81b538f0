package forecast

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/steps"
	"github.com/pathways-se/pathways/steps/agreement"
	"github.com/pathways-se/pathways/steps/komvux"
	"github.com/pathways-se/pathways/steps/manual"
)

const day = 24 * time.Hour

// model plays staff and the outside systems for one participant. It learns
// what happened from the projections (as staff do from their task list)
// and answers with Updates and Signals through the test environment. Every
// decision runs on the environment's main loop, in the workflow's own
// order, so a seed gives the same cohort on any machine.
type model struct {
	cal    *Calibration
	centre Centre
	rng    *rand.Rand
	env    *testsuite.TestWorkflowEnvironment
	p      *Participant
	staff  pathway.Actor

	mutate         func(*pathway.Outcome) // tests: make staff record an outcome wrongly
	actions        int                    // numbers Update IDs
	outcomePending bool                   // staff have decided to record an outcome
	tied           bool                   // the current plan is tied to a recruitment need
}

func (m *model) days(d float64) time.Duration { return time.Duration(d * float64(day)) }

func (m *model) uniform(lo, hi float64) float64 { return lo + (hi-lo)*m.rng.Float64() }

// late is how long staff take over something that should take lo–hi days:
// on time as often as the centre acts on time, otherwise one to four weeks more.
func (m *model) late(lo, hi float64) float64 {
	d := m.uniform(lo, hi)
	if m.rng.Float64() >= m.centre.ActOnTime {
		d += m.uniform(7, 28)
	}
	return d
}

// refuse counts a staff action or outside answer the workflow refused. The
// model checks the phase before it acts, so a refusal is a defect of the
// model (or a new rule in the workflow it does not know): never swallowed.
func (m *model) refuse(what string, err error) {
	m.p.Refused++
	if len(m.p.RefusedErrors) < 3 {
		m.p.RefusedErrors = append(m.p.RefusedErrors, what+": "+err.Error())
	}
}

// status asks the workflow where it stands.
func (m *model) status() (pathway.Status, bool) {
	v, err := m.env.QueryWorkflow(pathway.QueryStatus)
	if err != nil {
		return pathway.Status{}, false
	}
	var s pathway.Status
	if err := v.Get(&s); err != nil {
		return pathway.Status{}, false
	}
	return s, true
}

// later runs do after d days if the pathway is then still as guard wants it;
// an action whose moment has passed (the person left meanwhile) is dropped,
// as staff would drop it.
func (m *model) later(d float64, guard func(pathway.Status) bool, do func(pathway.Status)) {
	m.env.RegisterDelayedCallback(func() {
		st, ok := m.status()
		if !ok || st.Phase == pathway.PhaseClosed || st.ClosureReason != "" || !guard(st) {
			return
		}
		do(st)
	}, m.days(d))
}

func inPhase(phases ...string) func(pathway.Status) bool {
	return func(s pathway.Status) bool {
		for _, p := range phases {
			if s.Phase == p {
				return true
			}
		}
		return false
	}
}

func (m *model) callbacks(what string) *testsuite.TestUpdateCallback {
	return &testsuite.TestUpdateCallback{
		OnAccept: func() {},
		OnReject: func(err error) { m.refuse(what, err) },
		OnComplete: func(_ any, err error) {
			if err != nil {
				m.refuse(what, err)
			}
		},
	}
}

// update sends a staff action to the pathway.
func (m *model) update(name string, arg any) {
	m.actions++
	m.env.UpdateWorkflow(name, fmt.Sprintf("%s:%s:%d", m.p.CaseID, name, m.actions), m.callbacks(name), arg)
}

// updateStep sends a staff action to a running step.
func (m *model) updateStep(stepID, name string, arg any) {
	m.actions++
	id := fmt.Sprintf("%s:%s:%s:%d", m.p.CaseID, stepID, name, m.actions)
	if err := m.env.UpdateWorkflowByID(pathway.StepWorkflowID(m.p.CaseID, stepID), name, id, m.callbacks(name), arg); err != nil {
		m.refuse(name, err)
	}
}

// onProjection is the read model changing: staff see it and plan their next move.
func (m *model) onProjection(pr pathway.Projection) {
	if pr.Event == nil {
		return
	}
	st := pr.Status
	switch pr.Event.Kind {
	case "referral":
		m.referred()
	case "first_contact":
		d := m.uniform(0.3, 0.95) * float64(m.cal.MappingDays)
		if m.rng.Float64() >= m.centre.MappingOnTime {
			d = float64(m.cal.MappingDays) + m.uniform(2, 30)
		}
		m.later(d, inPhase(pathway.PhaseMapping), func(pathway.Status) {
			m.update(pathway.UpdateMapping, pathway.Mapping{Actor: m.staff, Abilities: []string{"service"},
				EducationLevel: "3", Language: "sv:B1", Goals: "arbete", Obstacles: []string{"experience"}})
		})
	case "mapping":
		m.planLater(m.late(2, 10))
	case "step_started":
		for _, s := range st.Steps {
			if s.Status == pathway.StepRunning {
				m.stepStarted(s)
			}
		}
	case "step_ended":
		m.stepEnded(st)
	case "steps_done", "replan_needed":
		if !m.outcomePending {
			m.nextPlanOrLeave()
		}
	case "outcome":
		m.outcomePending = false
	case "follow_up_due":
		m.followUpDue(st)
	case "follow_up":
		if st.Phase == pathway.PhasePlanning { // lapsed within a month: back to planning
			m.nextPlanOrLeave()
		}
	case "closed":
		m.p.ClosedAt = pr.At
	}
}

// referred: first contact on time or late, and the day the person will
// leave for reasons of their own (moved, sick, declined) unless work or
// studies come first.
func (m *model) referred() {
	d := m.uniform(0.1, 1.9)
	if m.rng.Float64() >= m.centre.ContactOnTime {
		d = m.uniform(2.5, 14)
	}
	m.later(d, inPhase(pathway.PhaseReferral), func(pathway.Status) {
		m.update(pathway.UpdateFirstContact, pathway.FirstContact{Actor: m.staff, Channel: "meeting"})
	})
	exit := -m.cal.ExitMeanDays * math.Log(1-m.rng.Float64())
	reason := pick(m.rng, []string{pathway.CloseMoved, pathway.CloseSick, pathway.CloseDeclined, pathway.CloseOther}, []float64{0.35, 0.2, 0.3, 0.15})
	m.later(exit, func(s pathway.Status) bool { return s.Outcome == nil }, func(pathway.Status) {
		c := pathway.Close{Actor: m.staff, Reason: reason}
		if reason == pathway.CloseOther {
			c.Note = "left the programme"
		}
		m.update(pathway.UpdateClose, c)
	})
}

// nextPlanOrLeave: a plan that ran out without work or studies is revised,
// or the person gives up.
func (m *model) nextPlanOrLeave() {
	if m.rng.Float64() < m.cal.ReplanProbability {
		m.planLater(m.late(5, 21))
		return
	}
	m.later(m.uniform(7, 45), func(s pathway.Status) bool { return s.Outcome == nil }, func(pathway.Status) {
		m.update(pathway.UpdateClose, pathway.Close{Actor: m.staff, Reason: pathway.CloseDeclined})
	})
}

func (m *model) planLater(d float64) {
	m.later(d, inPhase(pathway.PhasePlanning, pathway.PhaseOutcome), func(st pathway.Status) {
		m.update(pathway.UpdateApprovePlan, m.plan(st))
	})
}

// plan composes a plan the way the calibration's centres do: tied to an
// employer's need as often as need_share says; an internship only when a
// place is free; education first under the activity duty.
func (m *model) plan(st pathway.Status) pathway.Plan {
	m.tied = m.rng.Float64() < m.cal.NeedShare
	place := m.cal.InternshipDemand > 0 && m.rng.Float64() < math.Min(1, float64(m.cal.InternshipPlaces)/float64(m.cal.InternshipDemand))
	s := m.cal.Steps
	komvuxStep := pathway.StepSpec{ID: "komvux", Type: komvux.Name, DurationDays: s["komvux"].Days, Params: map[string]string{"course_code": "MAT1", "form": "komvux"}}
	coaching := pathway.StepSpec{ID: "coaching", Type: manual.Name, DurationDays: s["manual"].Days, Params: map[string]string{"description": "Job coaching"}}
	employer := "EMP-0100"
	if m.tied {
		employer = agreement.EmployerFromNeed
	}
	internship := pathway.StepSpec{ID: "internship", Type: "internship", DurationDays: s["internship"].Days, Params: map[string]string{"employer": employer}}
	training := pathway.StepSpec{ID: "worktraining", Type: "worktraining", DurationDays: s["worktraining"].Days, Params: map[string]string{"employer": employer}}
	subsidised := pathway.StepSpec{ID: "subsidised", Type: "subsidised", DurationDays: s["subsidised"].Days, Params: map[string]string{"employer": employer}}

	var plan []pathway.StepSpec
	educationFirst := st.ActivityDuty && !anyCompleted(st)
	switch {
	case educationFirst:
		plan = []pathway.StepSpec{komvuxStep}
		if place {
			plan = append(plan, internship)
		}
	case m.p.Age < 25 && m.rng.Float64() < 0.4:
		plan = []pathway.StepSpec{komvuxStep}
	case place && m.tied:
		plan = []pathway.StepSpec{internship}
	case place:
		plan = []pathway.StepSpec{coaching, pick(m.rng, []pathway.StepSpec{internship, training}, []float64{0.6, 0.4})}
	case m.tied || m.rng.Float64() < 0.15:
		plan = []pathway.StepSpec{coaching, subsidised}
	default:
		plan = []pathway.StepSpec{coaching}
	}
	p := pathway.Plan{Actor: m.staff, TargetSSYK: "5321", Steps: plan}
	if m.tied {
		p.RecruitmentNeedID = NeedID
	}
	return p
}

func anyCompleted(st pathway.Status) bool {
	for _, s := range st.Steps {
		if s.Status == pathway.StepCompleted {
			return true
		}
	}
	return false
}

// stepStarted decides how the step will go and plays the outside system or
// staff member who says so.
func (m *model) stepStarted(s pathway.StepState) {
	b := m.cal.Steps[s.Type]
	dur := float64(s.DurationDays)
	u := m.rng.Float64()
	result := pathway.StepFailed
	switch {
	case u < b.Complete:
		result = pathway.StepCompleted
	case u < b.Complete+b.DropOut:
		result = pathway.StepDroppedOut
	}
	running := func(st pathway.Status) bool { return st.CurrentStep == s.ID || runningStep(st) == s.ID }
	early := m.uniform(0.1, 0.9) * dur
	switch s.Type {
	case komvux.Name:
		status := map[string]string{pathway.StepCompleted: integrations.EnrolmentCompleted, pathway.StepDroppedOut: integrations.EnrolmentDropped, pathway.StepFailed: integrations.EnrolmentFailed}[result]
		at := dur
		if result == pathway.StepDroppedOut {
			at = early
		}
		m.later(at, running, func(pathway.Status) {
			r := komvux.Result{EnrolmentID: enrolmentID(steps.Key(m.p.CaseID, s.ID, "enrol")), Status: status, Grade: "C"}
			if err := m.env.SignalWorkflowByID(pathway.StepWorkflowID(m.p.CaseID, s.ID), komvux.SignalResult, r); err != nil {
				m.refuse("education result", err)
			}
		})
	case manual.Name:
		m.later(dur+m.late(0, 3), running, func(pathway.Status) {
			c := manual.Confirm{Actor: m.staff, Outcome: result}
			if result != pathway.StepCompleted {
				c.Reason = "did not take part"
			}
			m.updateStep(s.ID, manual.UpdateConfirm, c)
		})
	case "subsidised":
		if result == pathway.StepCompleted {
			// The subsidised job is the outcome: staff record it with its subsidy.
			m.outcomePending = true
			m.later(m.late(1, 7), running, func(pathway.Status) { m.recordOutcome(true) })
			return
		}
		fallthrough
	default: // agreements complete by themselves at the end date
		if result == pathway.StepCompleted {
			return
		}
		m.later(early, running, func(pathway.Status) {
			m.updateStep(s.ID, agreement.UpdateAssess, agreement.Assessment{Actor: m.staff, Outcome: result, Reason: "left the placement"})
		})
	}
}

func runningStep(st pathway.Status) string {
	for _, s := range st.Steps {
		if s.Status == pathway.StepRunning {
			return s.ID
		}
	}
	return ""
}

// stepEnded: a completed step leads to work or studies as often as its
// behaviour says, more often when the plan is tied to a need.
func (m *model) stepEnded(st pathway.Status) {
	var last *pathway.StepState
	for i := range st.Steps {
		s := &st.Steps[i]
		if s.Status != pathway.StepPending && s.Status != pathway.StepRunning && (last == nil || !s.EndedAt.Before(last.EndedAt)) {
			last = s
		}
	}
	if last == nil || last.Status != pathway.StepCompleted || m.outcomePending || st.Outcome != nil {
		return
	}
	b := m.cal.Steps[last.Type]
	p := b.Outcome
	if m.tied {
		p = b.NeedOutcome
	}
	if m.rng.Float64() >= p {
		return
	}
	studies := m.rng.Float64() < b.Studies
	m.outcomePending = true
	m.later(m.late(1, 10), inPhase(pathway.PhasePlanning, pathway.PhaseSteps, pathway.PhaseOutcome), func(pathway.Status) {
		if studies {
			m.recordStudies()
		} else {
			m.recordOutcome(false)
		}
	})
}

// recordOutcome records work with every detail the national indicator
// needs: the employer's kind, the employment form and a subsidy's name.
func (m *model) recordOutcome(subsidised bool) {
	o := pathway.Outcome{Actor: m.staff, Kind: pathway.OutcomeWork, StartDate: m.env.Now(), Employer: "Arbetsgivare AB", SSYK: "5321",
		EmployerKind: pathway.EmployerRegular, EmploymentForm: pathway.EmploymentUnsubsidised}
	u := m.rng.Float64()
	switch {
	case subsidised || u < m.cal.Outcomes.Subsidised:
		o.Kind, o.EmploymentForm = pathway.OutcomeSubsidisedWork, pathway.EmploymentSubsidised
		o.Subsidy = pick(m.rng, []string{"nystartsjobb", "lönebidrag", "introduktionsjobb"}, []float64{0.5, 0.3, 0.2})
	case u < m.cal.Outcomes.Subsidised+m.cal.Outcomes.MunicipalMeasure:
		o.Employer = "Kommunens arbetsmarknadsenhet"
		o.EmployerKind = pathway.EmployerMunicipalMeasure
	}
	m.recordAny(o)
}

func (m *model) recordAny(o pathway.Outcome) {
	if m.mutate != nil {
		m.mutate(&o)
	}
	m.update(pathway.UpdateOutcome, o)
}

// recordStudies records studies with their form and whether they qualify
// for student finance.
func (m *model) recordStudies() {
	csn := m.rng.Float64() < m.cal.Outcomes.StudentFinance
	form := pathway.StudyKomvux
	if !csn {
		form = pathway.StudyOther
	} else if m.rng.Float64() < 0.3 {
		form = pathway.StudyFolkhogskola
	}
	m.recordAny(pathway.Outcome{Actor: m.staff, Kind: pathway.OutcomeStudies, StartDate: m.env.Now(),
		Employer: "Vuxenutbildningen", StudyForm: form, StudentFinance: &csn})
}

// followUpDue: staff ask whether the person is still there.
func (m *model) followUpDue(st pathway.Status) {
	dayN := 0
	for _, t := range st.OpenTasks {
		if t.Kind == "follow_up" {
			_, _ = fmt.Sscanf(lastPart(t.Key), "%d", &dayN)
		}
	}
	if dayN == 0 {
		return
	}
	still := m.cal.FollowUp.Day90
	if dayN <= 30 {
		still = m.cal.FollowUp.Day30
	}
	there := m.rng.Float64() < still
	m.later(m.late(0, 5), func(s pathway.Status) bool { return s.Phase == pathway.PhaseFollowUp && hasFollowUp(s, dayN) }, func(pathway.Status) {
		m.update(pathway.UpdateFollowUp, pathway.FollowUp{Actor: m.staff, Day: dayN, StillThere: there})
	})
}

func hasFollowUp(s pathway.Status, d int) bool {
	for _, t := range s.OpenTasks {
		if t.Kind == "follow_up" && lastPart(t.Key) == fmt.Sprint(d) {
			return true
		}
	}
	return false
}

func lastPart(key string) string {
	for i := len(key) - 1; i >= 0; i-- {
		if key[i] == ':' {
			return key[i+1:]
		}
	}
	return key
}

// pick draws one of items by weight.
func pick[T any](rng *rand.Rand, items []T, weights []float64) T {
	total := 0.0
	for _, w := range weights {
		total += w
	}
	u := rng.Float64() * total
	for i, w := range weights {
		if u < w {
			return items[i]
		}
		u -= w
	}
	return items[len(items)-1]
}
