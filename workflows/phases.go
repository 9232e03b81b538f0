package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/pathways-se/pathways/pathway"
)

// interrupted is true when the current phase must yield: closure requested,
// or the history is long enough to continue as new.
func (w *pathwayWorkflow) interrupted(ctx workflow.Context) bool {
	return w.st.Close != nil || w.continueAsNewDue(ctx)
}

// awaitUntil waits for cond, an interruption, or the deadline. It reports
// whether the deadline passed without cond becoming true.
func (w *pathwayWorkflow) awaitUntil(ctx workflow.Context, deadline time.Time, cond func() bool) (bool, error) {
	wait := deadline.Sub(workflow.Now(ctx))
	if wait <= 0 {
		return !cond(), nil
	}
	ok, err := workflow.AwaitWithTimeout(ctx, wait, func() bool { return cond() || w.interrupted(ctx) })
	return !ok, err
}

// awaitFirstContact waits for staff to reach the participant; past the
// target it raises a task for the team lead.
func (w *pathwayWorkflow) awaitFirstContact(ctx workflow.Context) error {
	inPhase := func() bool { return w.st.Phase != pathway.PhaseReferral }
	if !w.st.ContactMissed {
		gen := w.deadlineGen
		missed, err := w.awaitUntil(ctx, w.st.FirstContactDue, func() bool { return inPhase() || w.deadlineGen != gen })
		if err != nil || !missed || w.interrupted(ctx) {
			return err
		}
		w.st.ContactMissed = true
		w.openTask(pathway.Task{Key: w.taskKey("first_contact_missed"), Kind: "first_contact_missed",
			Title: "First contact target missed: contact the participant today", Role: "team_lead",
			Due: workflow.Now(ctx).Add(w.days(1))})
		return w.project(ctx, false, event("first_contact_missed", "No first contact within the target", "system"))
	}
	return workflow.Await(ctx, func() bool { return inPhase() || w.interrupted(ctx) })
}

// awaitMapping waits for the mapping, with a reminder before the deadline
// and an overdue flag after it. A signal can move the deadline.
func (w *pathwayWorkflow) awaitMapping(ctx workflow.Context) error {
	left := func() bool { return w.st.Phase != pathway.PhaseMapping }
	gen := w.deadlineGen
	moved := func() bool { return left() || w.deadlineGen != gen }
	reminderDays := orDefault(w.in.Programme.MappingReminder, defaultReminderDays)
	switch {
	case !w.st.MappingReminded:
		remindAt := w.st.MappingDue.Add(-w.days(float64(reminderDays)))
		fired, err := w.awaitUntil(ctx, remindAt, moved)
		if err != nil || !fired || w.interrupted(ctx) {
			return err
		}
		w.st.MappingReminded = true
		w.openTask(pathway.Task{Key: w.taskKey("mapping_reminder", w.st.MappingDue.Format(time.RFC3339)), Kind: "mapping_reminder",
			Title: fmt.Sprintf("Mapping is due in %d days", reminderDays), Role: "job_coach", Due: w.st.MappingDue})
		return w.project(ctx, false, event("mapping_reminder", "Reminder: mapping due soon", "system"))
	case !w.st.MappingOverdue:
		fired, err := w.awaitUntil(ctx, w.st.MappingDue, moved)
		if err != nil || !fired || w.interrupted(ctx) {
			return err
		}
		w.st.MappingOverdue = true
		return w.project(ctx, false, event("mapping_overdue", "Mapping is overdue", "system"))
	default:
		return workflow.Await(ctx, func() bool { return moved() || w.interrupted(ctx) })
	}
}

// awaitStaff waits in phases that only a staff action ends: planning and
// awaiting an outcome.
func (w *pathwayWorkflow) awaitStaff(ctx workflow.Context) error {
	phase := w.st.Phase
	return workflow.Await(ctx, func() bool { return w.st.Phase != phase || w.interrupted(ctx) })
}

// followUp waits for each follow-up date, opens a task, and waits for the
// answer (applied by the answer-follow-up Update). When all are answered
// the pathway closes with the outcome as its reason.
func (w *pathwayWorkflow) followUp(ctx workflow.Context) error {
	if !w.st.OutcomeNotified {
		// Outside systems may be slow or down for a while: tell them beside
		// the follow-up clock, not before it.
		w.st.OutcomeNotified = true
		if w.carriedNotices(ctx) {
			w.send(ctx, w.outcomeNotices()...)
		} else {
			// Before carried-notices, continue-as-new waited for busy.
			w.busy++
			workflow.Go(ctx, func(ctx workflow.Context) {
				defer func() { w.busy-- }()
				_ = w.notifyOutcome(ctx) // failures become staff tasks inside notify
			})
		}
	}
	offsets := w.followUpDays()
	if w.st.FollowUpsDone >= len(offsets) {
		sustained := true
		w.st.Outcome.Sustained = &sustained
		w.st.Close = &pathway.Close{Actor: pathway.Actor{StaffID: "system"}, Reason: w.st.Outcome.Kind, Note: "all follow-ups answered"}
		return nil
	}
	day := offsets[w.st.FollowUpsDone]
	if !w.st.FollowUpOpen {
		due := w.st.Outcome.StartDate.Add(w.days(float64(day)))
		if w.in.SecondsPerDay > 0 && due.Before(w.st.Outcome.RecordedAt) {
			due = w.st.Outcome.RecordedAt.Add(w.days(float64(day)))
		}
		fired, err := w.awaitUntil(ctx, due, func() bool { return false })
		if err != nil || !fired || w.interrupted(ctx) {
			return err
		}
		w.st.FollowUpOpen = true
		w.openTask(pathway.Task{Key: w.taskKey("follow_up", fmt.Sprint(day)), Kind: "follow_up",
			Title: fmt.Sprintf("Follow up day %d: is the participant still in %s?", day, w.st.Outcome.Kind), Role: "job_coach",
			Due: workflow.Now(ctx).Add(w.days(7))})
		return w.project(ctx, false, event("follow_up_due", fmt.Sprintf("Follow-up at day %d is due", day), "system"))
	}
	done := w.st.FollowUpsDone
	return workflow.Await(ctx, func() bool {
		return w.st.FollowUpsDone != done || w.st.Phase != pathway.PhaseFollowUp || w.interrupted(ctx)
	})
}

func (w *pathwayWorkflow) followUpDays() []int {
	if len(w.in.Programme.FollowUpDays) > 0 {
		return w.in.Programme.FollowUpDays
	}
	return defaultFollowUps
}

// finish closes the pathway: tasks cancelled, read model updated, social
// services told. The running step, if any, was wound down by runSteps.
func (w *pathwayWorkflow) finish(ctx workflow.Context) error {
	c := w.st.Close
	w.st.Phase = pathway.PhaseClosed
	for len(w.st.Tasks) > 0 {
		w.closeTask(w.st.Tasks[0].Key)
	}
	if err := w.project(ctx, true, eventWith("closed", "Closed: "+c.Reason, c.StaffID, c)); err != nil {
		return err
	}
	n := pathway.Notice{CaseID: w.in.CaseID, Key: w.taskKey("notice", "social", "closure"), Event: "closure", Reason: c.Reason, At: workflow.Now(ctx)}
	if w.st.Outcome != nil {
		n.Outcome = w.st.Outcome.Kind
	}
	closure := notice{Activity: pathway.ActivityNotifySocialServices, What: "social services notice", Notice: n}
	if w.carriedNotices(ctx) {
		// After any outcome notice still on its way; the run ends once
		// every notice is answered.
		w.send(ctx, closure)
		return nil
	}
	return w.notify(ctx, closure)
}

// carriedNotices is true from version 1 of carried-notices: notices to
// outside systems are state, sent in order by one sender, and a hand-over
// to the next run does not wait for them.
func (w *pathwayWorkflow) carriedNotices(ctx workflow.Context) bool {
	return w.version(ctx, "carried-notices") == 1
}
