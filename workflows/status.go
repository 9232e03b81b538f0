package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/pathways-se/pathways/pathway"
)

// status answers the status Query and feeds every projection.
func (w *pathwayWorkflow) status(ctx workflow.Context) pathway.Status {
	s := pathway.Status{
		CaseID:         w.in.CaseID,
		CentreID:       w.st.CentreID,
		Programme:      w.in.Programme.Name,
		ProgrammeVer:   w.in.Programme.Version,
		Track:          w.in.Track,
		ActivityDuty:   w.in.ActivityDuty,
		Phase:          w.st.Phase,
		Paused:         w.st.Paused,
		PauseReason:    w.st.PauseReason,
		MappingOverdue: w.st.MappingOverdue,
		OpenTasks:      append([]pathway.Task{}, w.st.Tasks...),
		Steps:          append([]pathway.StepState{}, w.st.Steps...),
		TargetSSYK:     w.st.TargetSSYK,
		NeedID:         w.st.NeedID,
		Outcome:        w.st.Outcome,
		DaysLeft:       w.daysLeft(workflow.Now(ctx)),
		EscalationLvl:  w.escalationLevel(),
		Deadlines:      pathway.Deadlines{TimeLimit: w.st.LimitAt},
	}
	if w.st.Close != nil {
		s.ClosureReason = w.st.Close.Reason
	}
	if w.st.Phase == pathway.PhaseReferral {
		s.Deadlines.FirstContact = w.st.FirstContactDue
	}
	if w.st.Phase == pathway.PhaseMapping {
		s.Deadlines.Mapping = w.st.MappingDue
	}
	if i := w.st.currentStep(); i >= 0 {
		s.CurrentStep = w.st.Steps[i].ID
		s.Deadlines.StepEnd = w.st.Steps[i].PlannedEnd
	}
	return s
}

// daysLeft is the programme time remaining, in programme days, rounded up.
// A pause that stops the clock freezes it.
func (w *pathwayWorkflow) daysLeft(now time.Time) int {
	if w.st.Phase == pathway.PhaseClosed {
		return 0
	}
	at := now
	if w.st.Paused && w.in.Programme.PauseStopsClock {
		at = w.st.PausedAt
	}
	left := w.st.LimitAt.Sub(at)
	if left <= 0 {
		return 0
	}
	day := w.dayLength()
	return int((left + day - 1) / day)
}

func (w *pathwayWorkflow) escalationLevel() int {
	level := 0
	for _, e := range w.st.Escalations {
		if e.Level > level {
			level = e.Level
		}
	}
	return level
}
