package workflows

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/pathways-se/pathways/escalation/contract"
	"github.com/pathways-se/pathways/pathway"
)

// registerHandlers installs the Updates (staff actions, validated before
// they enter history), the Signals (outside events) and the status Query.
func (w *pathwayWorkflow) registerHandlers(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, pathway.QueryStatus, func() (pathway.Status, error) {
		return w.status(ctx), nil
	}); err != nil {
		return err
	}
	updates := []struct {
		name     string
		handler  any
		validate any
	}{
		{pathway.UpdateFirstContact, w.onFirstContact, w.validateFirstContact},
		{pathway.UpdateMapping, w.onMapping, w.validateMapping},
		{pathway.UpdateApprovePlan, w.onPlan, w.validatePlan},
		{pathway.UpdateOutcome, w.onOutcome, w.validateOutcome},
		{pathway.UpdateFollowUp, w.onFollowUp, w.validateFollowUp},
		{pathway.UpdatePause, w.onPause, w.validatePause},
		{pathway.UpdateResume, w.onResume, w.validateResume},
		{pathway.UpdateTransfer, w.onTransfer, w.validateTransfer},
		{pathway.UpdateClose, w.onClose, w.validateClose},
		{pathway.UpdateCompleteTask, w.onCompleteTask, w.validateCompleteTask},
	}
	for _, u := range updates {
		if err := workflow.SetUpdateHandlerWithOptions(ctx, u.name, u.handler, workflow.UpdateHandlerOptions{Validator: u.validate}); err != nil {
			return err
		}
	}
	listen(ctx, w, pathway.SignalMoveMappingDeadline, w.onMoveDeadline)
	listen(ctx, w, pathway.SignalEscalate, w.onEscalate)
	listen(ctx, w, pathway.SignalNeedGone, w.onNeedGone)
	return nil
}

// listen handles a signal channel in its own coroutine and lets
// continue-as-new drain it, so no signal is lost between runs.
func listen[T any](ctx workflow.Context, w *pathwayWorkflow, name string, handle func(workflow.Context, T)) {
	ch := workflow.GetSignalChannel(ctx, name)
	w.inbox = append(w.inbox, ch)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			// Wait on Len rather than Receive, so a message stays buffered
			// until it is handled and continue-as-new can drain it.
			if workflow.Await(ctx, func() bool { return ch.Len() > 0 }) != nil {
				return
			}
			var m T
			if ch.ReceiveAsync(&m) {
				w.busy++
				handle(ctx, m)
				w.busy--
			}
		}
	})
	w.signals = append(w.signals, func(ctx workflow.Context) bool {
		var m T
		if !ch.ReceiveAsync(&m) {
			return false
		}
		handle(ctx, m)
		return true
	})
}

var (
	ssykPattern  = regexp.MustCompile(`^[0-9]{4}$`)
	errNoActor   = errors.New("staff_id is required")
	errClosed    = errors.New("the pathway is closed")
	maxTextField = 2000
)

func requireActor(a pathway.Actor) error {
	if a.StaffID == "" {
		return errNoActor
	}
	return nil
}

func (w *pathwayWorkflow) requirePhase(action string, phases ...string) error {
	for _, p := range phases {
		if w.st.Phase == p {
			return nil
		}
	}
	if w.st.Phase == pathway.PhaseClosed || w.st.Close != nil {
		return fmt.Errorf("cannot %s: %w", action, errClosed)
	}
	return fmt.Errorf("cannot %s while the pathway is in phase %q", action, w.st.Phase)
}

func checkText(field, v string, required bool) error {
	if required && v == "" {
		return fmt.Errorf("%s is required", field)
	}
	if len(v) > maxTextField {
		return fmt.Errorf("%s is longer than %d characters", field, maxTextField)
	}
	return nil
}

// --- first contact ---

func (w *pathwayWorkflow) validateFirstContact(ctx workflow.Context, in pathway.FirstContact) error {
	if err := requireActor(in.Actor); err != nil {
		return err
	}
	switch in.Channel {
	case "", "meeting", "phone", "video":
	default:
		return fmt.Errorf("channel %q is not one of meeting, phone, video", in.Channel)
	}
	return w.requirePhase("record first contact", pathway.PhaseReferral)
}

func (w *pathwayWorkflow) onFirstContact(ctx workflow.Context, in pathway.FirstContact) (pathway.Status, error) {
	now := workflow.Now(ctx)
	w.st.FirstContactAt = now
	w.st.Phase = pathway.PhaseMapping
	w.st.MappingDue = now.Add(w.days(float64(orDefault(w.in.Programme.MappingDays, defaultMappingDays))))
	w.deadlineGen++
	w.closeTasksOfKind("first_contact")
	w.closeTasksOfKind("first_contact_missed")
	w.openTask(pathway.Task{Key: w.taskKey("mapping"), Kind: "mapping", Title: "Map abilities, education, language, work history, goals and obstacles", Role: "job_coach", Due: w.st.MappingDue})
	err := w.project(ctx, true, event("first_contact", "First contact made by "+orText(in.Channel, "meeting"), in.StaffID))
	return w.status(ctx), err
}

// --- mapping ---

func (w *pathwayWorkflow) validateMapping(ctx workflow.Context, in pathway.Mapping) error {
	if err := requireActor(in.Actor); err != nil {
		return err
	}
	if err := w.requirePhase("record the mapping", pathway.PhaseMapping); err != nil {
		return err
	}
	if len(in.Abilities) == 0 {
		return errors.New("abilities: list at least one")
	}
	if len(in.Abilities) > 50 || len(in.Obstacles) > 50 {
		return errors.New("abilities and obstacles take at most 50 entries each")
	}
	for _, f := range []struct {
		name, v  string
		required bool
	}{{"education_level", in.EducationLevel, true}, {"language", in.Language, true}, {"goals", in.Goals, true}, {"work_history", in.WorkHistory, false}} {
		if err := checkText(f.name, f.v, f.required); err != nil {
			return err
		}
	}
	return nil
}

func (w *pathwayWorkflow) onMapping(ctx workflow.Context, in pathway.Mapping) (pathway.Status, error) {
	w.st.MappingAt = workflow.Now(ctx)
	w.st.Phase = pathway.PhasePlanning
	w.closeTasksOfKind("mapping")
	w.closeTasksOfKind("mapping_reminder")
	w.openTask(pathway.Task{Key: w.taskKey("plan", "1"), Kind: "plan", Title: "Draft and approve the action plan", Role: "job_coach", Due: workflow.Now(ctx).Add(w.days(14))})
	err := w.project(ctx, true, eventWith("mapping", "Mapping recorded", in.StaffID, in))
	return w.status(ctx), err
}

// --- plan ---

func (w *pathwayWorkflow) validatePlan(ctx workflow.Context, in pathway.Plan) error {
	if err := requireActor(in.Actor); err != nil {
		return err
	}
	if err := w.requirePhase("approve a plan", pathway.PhasePlanning, pathway.PhaseSteps, pathway.PhaseOutcome); err != nil {
		return err
	}
	if !ssykPattern.MatchString(in.TargetSSYK) {
		return fmt.Errorf("target_ssyk %q is not a four-digit SSYK 2012 code", in.TargetSSYK)
	}
	specs := w.planSteps(in)
	if len(specs) == 0 {
		return errors.New("a plan needs at least one step")
	}
	// A step's ID names its child workflow and its side effects' business
	// keys, so two steps of one plan may never share one.
	seen := map[string]int{}
	for i, s := range specs {
		id := stepID(0, s, i)
		if j, dup := seen[id]; dup {
			return fmt.Errorf("steps[%d]: id %q is already used by steps[%d]; give each step its own id", i, strings.TrimPrefix(id, "r0-"), j)
		}
		seen[id] = i
		if w.reg == nil {
			continue
		}
		if err := w.reg.ValidateSpec(s); err != nil {
			return fmt.Errorf("steps[%d]: %w", i, err)
		}
	}
	if w.in.ActivityDuty && w.st.completedCount() == 0 && w.reg != nil && !w.reg.IsEducation(specs[0].Type) {
		return fmt.Errorf("the participant is under 20 (activity duty): the plan must start with an education step, not %q", specs[0].Type)
	}
	return nil
}

// planSteps is the plan's steps, or the programme's defaults when empty.
func (w *pathwayWorkflow) planSteps(in pathway.Plan) []pathway.StepSpec {
	if len(in.Steps) > 0 {
		return in.Steps
	}
	return w.in.Programme.Steps
}

func (w *pathwayWorkflow) onPlan(ctx workflow.Context, in pathway.Plan) (pathway.Status, error) {
	w.st.PlanRevision++
	kept := w.st.Steps[:0:0]
	for _, s := range w.st.Steps {
		if s.Status != pathway.StepPending {
			kept = append(kept, s)
		}
	}
	for i, spec := range w.planSteps(in) {
		spec.ID = stepID(w.st.PlanRevision, spec, i)
		if spec.Title == "" {
			spec.Title = spec.Type
		}
		kept = append(kept, pathway.StepState{StepSpec: spec, Status: pathway.StepPending})
	}
	w.st.Steps = kept
	w.st.TargetSSYK, w.st.NeedID = in.TargetSSYK, in.RecruitmentNeedID
	for _, k := range []string{"plan", "replan", "record_outcome"} {
		w.closeTasksOfKind(k)
	}
	if w.st.Phase != pathway.PhaseSteps {
		w.st.Phase = pathway.PhaseSteps
	}
	summary := fmt.Sprintf("Plan revision %d approved: %d step(s) towards SSYK %s", w.st.PlanRevision, len(w.planSteps(in)), in.TargetSSYK)
	err := w.project(ctx, true, eventWith("plan", summary, in.StaffID, in))
	// Version 1 reports every approved plan and revision to the employment
	// service, beside the main loop, under a key numbered by the revision.
	if err == nil && w.version(ctx, "report-plan") == 1 {
		w.send(ctx, w.planReport(ctx))
	}
	return w.status(ctx), err
}

// planReport is the employment service's report of the current plan: the
// steps' types and days, never their free text.
func (w *pathwayWorkflow) planReport(ctx workflow.Context) notice {
	var list []string
	for _, s := range w.st.Steps {
		if s.Status == pathway.StepPending {
			list = append(list, fmt.Sprintf("%s:%d", s.Type, s.DurationDays))
		}
	}
	rev := fmt.Sprint(w.st.PlanRevision)
	return notice{Activity: pathway.ActivityReportPlan, What: "employment service plan report", Notice: pathway.Notice{
		CaseID: w.in.CaseID, Key: w.taskKey("plan", rev, "report"), Event: "plan", Reason: "revision " + rev,
		SSYK: w.st.TargetSSYK, Steps: list, At: workflow.Now(ctx)}}
}

// --- outcome ---

func (w *pathwayWorkflow) validateOutcome(ctx workflow.Context, in pathway.Outcome) error {
	if err := requireActor(in.Actor); err != nil {
		return err
	}
	// Any phase after first contact: someone who finds work in week two is
	// closed as work, not made to wait for a plan (outcome-from-mapping).
	if err := w.requirePhase("record an outcome", pathway.PhaseMapping, pathway.PhasePlanning, pathway.PhaseSteps, pathway.PhaseOutcome); err != nil {
		return err
	}
	switch in.Kind {
	case pathway.OutcomeWork, pathway.OutcomeSubsidisedWork, pathway.OutcomeStudies:
	default:
		return fmt.Errorf("kind %q is not one of work, subsidised_work, studies", in.Kind)
	}
	if in.StartDate.IsZero() {
		return errors.New("start_date is required")
	}
	if in.SSYK != "" && !ssykPattern.MatchString(in.SSYK) {
		return fmt.Errorf("ssyk %q is not a four-digit SSYK 2012 code", in.SSYK)
	}
	if err := pathway.CheckOutcomeDetails(in); err != nil {
		return err
	}
	return checkText("employer", in.Employer, true)
}

func (w *pathwayWorkflow) onOutcome(ctx workflow.Context, in pathway.Outcome) (pathway.Status, error) {
	err := w.applyOutcome(ctx, in)
	return w.status(ctx), err
}

// applyOutcome records where the person went and hands the case to
// follow-up; the time-limit clock stops, and outside systems are told.
func (w *pathwayWorkflow) applyOutcome(ctx workflow.Context, o pathway.Outcome) error {
	// Version 1 of outcome-from-mapping: an outcome during the mapping ends
	// it, its tasks with it. Before, the validator refused one there, so no
	// earlier history reaches this with the phase at mapping.
	if w.st.Phase == pathway.PhaseMapping &&
		w.version(ctx, "outcome-from-mapping") == 1 {
		w.closeTasksOfKind("mapping")
		w.closeTasksOfKind("mapping_reminder")
		w.st.MappingOverdue = false
	}
	o.RecordedAt = workflow.Now(ctx)
	o.FollowUps, o.Sustained = nil, nil
	w.st.Outcome = &o
	w.st.FollowUpsDone, w.st.FollowUpOpen = 0, false
	w.st.Phase = pathway.PhaseFollowUp
	w.st.Outcomes++
	w.clockGen++
	for _, k := range []string{"plan", "replan", "record_outcome"} {
		w.closeTasksOfKind(k)
	}
	// Version 1 tells outside systems from the main loop, so the Update
	// answers staff at once even while those systems are slow or failing.
	v := w.version(ctx, "outcome-notices-from-loop")
	w.st.OutcomeNotified = v == workflow.DefaultVersion
	if err := w.project(ctx, true, eventWith("outcome", fmt.Sprintf("Outcome: %s from %s at %s", o.Kind, o.StartDate.Format("2006-01-02"), o.Employer), o.StaffID, o)); err != nil {
		return err
	}
	if v == workflow.DefaultVersion {
		return w.notifyOutcome(ctx)
	}
	return nil
}

// notifyOutcome tells social services and the employment service, one
// after the other, in the calling coroutine (the versions before
// carried-notices).
func (w *pathwayWorkflow) notifyOutcome(ctx workflow.Context) error {
	for _, n := range w.outcomeNotices() {
		if err := w.notify(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

// outcomeNotices are the notices of the current outcome. Their keys number
// the outcome, so a second outcome after a lapsed one is a new notice.
func (w *pathwayWorkflow) outcomeNotices() []notice {
	o := w.st.Outcome
	n := pathway.Notice{CaseID: w.in.CaseID, Event: "outcome", Reason: o.Kind, Outcome: o.Kind, SSYK: o.SSYK, Start: o.StartDate, At: o.RecordedAt}
	nth := fmt.Sprint(w.st.Outcomes)
	social, employment := n, n
	social.Key = w.taskKey("notice", "social", "outcome", nth)
	employment.Key = w.taskKey("notice", "employment", "outcome", nth)
	return []notice{
		{Activity: pathway.ActivityNotifySocialServices, What: "social services notice", Notice: social},
		{Activity: pathway.ActivityReportOutcome, What: "employment service report", Notice: employment},
	}
}

// --- follow-up ---

func (w *pathwayWorkflow) validateFollowUp(ctx workflow.Context, in pathway.FollowUp) error {
	if err := requireActor(in.Actor); err != nil {
		return err
	}
	if err := w.requirePhase("answer a follow-up", pathway.PhaseFollowUp); err != nil {
		return err
	}
	if !w.st.FollowUpOpen {
		return errors.New("no follow-up is due yet")
	}
	if due := w.followUpDays()[w.st.FollowUpsDone]; in.Day != due {
		return fmt.Errorf("the follow-up due is day %d, not day %d", due, in.Day)
	}
	return checkText("note", in.Note, false)
}

// onFollowUp applies an answer. Work that did not last a month does not
// count: the outcome lapses and the case returns to planning. A later
// "no" keeps the outcome but marks it not sustained and closes the case.
func (w *pathwayWorkflow) onFollowUp(ctx workflow.Context, in pathway.FollowUp) (pathway.Status, error) {
	in.AnsweredAt = workflow.Now(ctx)
	o := w.st.Outcome
	o.FollowUps = append(o.FollowUps, in)
	w.st.FollowUpsDone++
	w.st.FollowUpOpen = false
	w.closeTask(w.taskKey("follow_up", fmt.Sprint(in.Day)))
	summary := fmt.Sprintf("Follow-up day %d: still in %s", in.Day, o.Kind)
	if !in.StillThere {
		summary = fmt.Sprintf("Follow-up day %d: no longer in %s", in.Day, o.Kind)
		sustained := false
		o.Sustained = &sustained
		if in.Day <= 30 {
			summary += "; it lasted less than a month and does not count, back to planning"
			w.st.Outcome = nil
			w.clockGen++
			w.st.Phase = pathway.PhasePlanning
			w.openTask(pathway.Task{Key: w.taskKey("replan", "followup", fmt.Sprint(w.st.PlanRevision)), Kind: "replan",
				Title: "The outcome lapsed: revise the plan", Role: "job_coach", Due: in.AnsweredAt.Add(w.days(7))})
		} else {
			w.st.Close = &pathway.Close{Actor: in.Actor, Reason: o.Kind, Note: fmt.Sprintf("left before the day %d follow-up", in.Day)}
		}
	}
	err := w.project(ctx, true, eventWith("follow_up", summary, in.StaffID, in))
	return w.status(ctx), err
}

// --- pause and resume ---

func (w *pathwayWorkflow) validatePause(ctx workflow.Context, in pathway.Pause) error {
	if err := requireActor(in.Actor); err != nil {
		return err
	}
	if w.st.Phase == pathway.PhaseClosed || w.st.Close != nil {
		return fmt.Errorf("cannot pause: %w", errClosed)
	}
	if w.st.Paused {
		return errors.New("the pathway is already paused")
	}
	switch in.Reason {
	case pathway.PauseSick, pathway.PauseParental, pathway.PauseOther:
		return nil
	}
	return fmt.Errorf("reason %q is not one of sick, parental_leave, other", in.Reason)
}

func (w *pathwayWorkflow) onPause(ctx workflow.Context, in pathway.Pause) (pathway.Status, error) {
	w.st.Paused, w.st.PauseReason, w.st.PausedAt = true, in.Reason, workflow.Now(ctx)
	w.clockGen++
	note := "the time limit keeps running"
	if w.in.Programme.PauseStopsClock {
		note = "the time limit is on hold"
	}
	err := w.project(ctx, false, event("paused", "Paused ("+in.Reason+"); "+note, in.StaffID))
	return w.status(ctx), err
}

func (w *pathwayWorkflow) validateResume(ctx workflow.Context, in pathway.Actor) error {
	if err := requireActor(in); err != nil {
		return err
	}
	if !w.st.Paused {
		return errors.New("the pathway is not paused")
	}
	return nil
}

func (w *pathwayWorkflow) onResume(ctx workflow.Context, in pathway.Actor) (pathway.Status, error) {
	now := workflow.Now(ctx)
	w.extendLimit(now)
	days := int(now.Sub(w.st.PausedAt) / w.dayLength())
	w.st.Paused, w.st.PauseReason, w.st.PausedAt = false, "", time.Time{}
	w.clockGen++
	err := w.project(ctx, true, event("resumed", fmt.Sprintf("Resumed after %d day(s)", days), in.StaffID))
	return w.status(ctx), err
}

// --- transfer ---

func (w *pathwayWorkflow) validateTransfer(ctx workflow.Context, in pathway.Transfer) error {
	if err := requireActor(in.Actor); err != nil {
		return err
	}
	if w.st.Phase == pathway.PhaseClosed || w.st.Close != nil {
		return fmt.Errorf("cannot transfer: %w", errClosed)
	}
	if in.ToCentre == "" || in.ToCentre == w.st.CentreID {
		return errors.New("to_centre must name another centre")
	}
	return checkText("reason", in.Reason, true)
}

func (w *pathwayWorkflow) onTransfer(ctx workflow.Context, in pathway.Transfer) (pathway.Status, error) {
	actx := workflow.WithActivityOptions(ctx, w.outsideOptions())
	if err := workflow.ExecuteActivity(actx, pathway.ActivityCheckCentre, in.ToCentre).Get(ctx, nil); err != nil {
		return w.status(ctx), errors.New(errorMessage(err))
	}
	from := w.st.CentreID
	w.st.CentreID = in.ToCentre
	err := w.project(ctx, true, eventWith("transfer", fmt.Sprintf("Transferred from %s to %s: %s", from, in.ToCentre, in.Reason), in.StaffID, in))
	return w.status(ctx), err
}

// --- close ---

func (w *pathwayWorkflow) validateClose(ctx workflow.Context, in pathway.Close) error {
	if err := requireActor(in.Actor); err != nil {
		return err
	}
	if w.st.Phase == pathway.PhaseClosed || w.st.Close != nil {
		return errors.New("the pathway is already closed")
	}
	switch in.Reason {
	case pathway.CloseTimeLimit:
		return errors.New("reason time_limit is set by the system when the programme's time limit is reached")
	case pathway.CloseWork, pathway.CloseSubsidisedWork, pathway.CloseStudies:
		if w.st.Outcome == nil || w.st.Outcome.Kind != in.Reason {
			return fmt.Errorf("closing as %s needs a recorded %s outcome first", in.Reason, in.Reason)
		}
	case pathway.CloseMoved, pathway.CloseSick, pathway.CloseParental, pathway.CloseDeclined, pathway.CloseOther:
	default:
		return fmt.Errorf("reason %q is not a closure code (use one of %v)", in.Reason, pathway.ClosureReasons)
	}
	return checkText("note", in.Note, in.Reason == pathway.CloseOther)
}

// onClose requests closure and waits until the running step has wound down
// and the case is closed, so the caller sees the final state.
func (w *pathwayWorkflow) onClose(ctx workflow.Context, in pathway.Close) (pathway.Status, error) {
	c := in
	w.st.Close = &c
	err := workflow.Await(ctx, func() bool { return w.st.Phase == pathway.PhaseClosed })
	return w.status(ctx), err
}

// --- tasks ---

// staffClosable are the task kinds staff close by hand; the others close
// through the action they ask for.
var staffClosable = map[string]bool{"first_contact_missed": true, "mapping_reminder": true, "integration_rejected": true, "escalation": true}

func (w *pathwayWorkflow) validateCompleteTask(ctx workflow.Context, in pathway.CompleteTask) error {
	if err := requireActor(in.Actor); err != nil {
		return err
	}
	for _, t := range w.st.Tasks {
		if t.Key == in.TaskKey {
			if !staffClosable[t.Kind] {
				return fmt.Errorf("task %q closes by doing what it asks (%s), not by hand", in.TaskKey, t.Kind)
			}
			return nil
		}
	}
	return fmt.Errorf("no open task %q", in.TaskKey)
}

func (w *pathwayWorkflow) onCompleteTask(ctx workflow.Context, in pathway.CompleteTask) (pathway.Status, error) {
	w.closeTask(in.TaskKey)
	err := w.project(ctx, true, event("task_done", "Task done: "+in.TaskKey, in.StaffID))
	return w.status(ctx), err
}

// --- signals ---

// onMoveDeadline moves the mapping deadline; the reminder and overdue flag
// follow the new date.
func (w *pathwayWorkflow) onMoveDeadline(ctx workflow.Context, in pathway.MoveDeadline) {
	if w.st.Phase != pathway.PhaseMapping || in.Due.IsZero() || in.Reason == "" {
		return // outside events cannot be refused; a wrong one is dropped
	}
	now := workflow.Now(ctx)
	w.st.MappingDue = in.Due
	w.st.MappingReminded = !now.Before(in.Due.Add(-w.days(float64(orDefault(w.in.Programme.MappingReminder, defaultReminderDays)))))
	w.st.MappingOverdue = !now.Before(in.Due)
	if !w.st.MappingReminded {
		w.closeTasksOfKind("mapping_reminder")
	}
	for i := range w.st.Tasks {
		if w.st.Tasks[i].Kind == "mapping" {
			w.st.Tasks[i].Due = in.Due
		}
	}
	w.deadlineGen++
	_ = w.project(ctx, false, event("mapping_deadline_moved", "Mapping deadline moved to "+in.Due.Format("2006-01-02")+": "+in.Reason, "system"))
}

// onEscalate records a stall at a ladder level once and opens a task for
// the level's role.
func (w *pathwayWorkflow) onEscalate(ctx workflow.Context, in pathway.Escalation) {
	if w.st.Phase == pathway.PhaseClosed || w.st.Close != nil {
		return
	}
	// Version 1: one ladder per case, whatever rule drives it; climbing
	// closes the lower level's task, so only the level that must act has one.
	// Only the stall rules and manual escalation share the ladder; a notice
	// such as a duplicate referral for the team lead keeps its own.
	oneLadder := w.version(ctx, "one-escalation-ladder") == 1 && onLadder(in.Rule)
	for _, e := range w.st.Escalations {
		if (e.Rule == in.Rule || (oneLadder && onLadder(e.Rule))) && e.Level >= in.Level {
			return // already escalated this stall at this level or above
		}
	}
	if oneLadder {
		for _, e := range w.st.Escalations {
			if onLadder(e.Rule) {
				w.closeTask(w.taskKey("escalation", e.Rule, fmt.Sprint(e.Level)))
			}
		}
	}
	now := workflow.Now(ctx)
	w.st.Escalations = append(w.st.Escalations, escalation{Rule: in.Rule, Level: in.Level, At: now})
	w.openTask(pathway.Task{Key: w.taskKey("escalation", in.Rule, fmt.Sprint(in.Level)), Kind: "escalation",
		Title: fmt.Sprintf("Stalled (%s): %s", in.Rule, in.Reason), Role: in.Role, Due: now.Add(w.days(2))})
	_ = w.project(ctx, false, eventWith("escalated", fmt.Sprintf("Escalated to %s (level %d): %s", in.Role, in.Level, in.Reason), "system", in))
}

// onLadder tells whether an escalation's rule climbs the case's one ladder:
// the sweep's stall rules and manual escalation.
func onLadder(rule string) bool {
	if rule == contract.RuleManual {
		return true
	}
	for _, r := range contract.RuleNames() {
		if r == rule {
			return true
		}
	}
	return false
}

// onNeedGone opens a replan task naming the recruitment need the plan is
// tied to when the employer system withdrew it or it expired; the running
// step goes on, and the need is unlinked so the next plan names another.
func (w *pathwayWorkflow) onNeedGone(ctx workflow.Context, in pathway.NeedGone) {
	if w.st.Phase == pathway.PhaseClosed || w.st.Close != nil || in.NeedID == "" || in.NeedID != w.st.NeedID {
		return // not (or no longer) tied to this need
	}
	if w.version(ctx, "need-gone-replan") == workflow.DefaultVersion {
		return
	}
	w.st.NeedID = ""
	status := orText(in.Status, "gone")
	title := fmt.Sprintf("Recruitment need %s was %s: revise the plan", in.NeedID, status)
	if in.Reason != "" {
		title = fmt.Sprintf("Recruitment need %s was %s (%s): revise the plan", in.NeedID, status, clip(in.Reason, 150))
	}
	w.openTask(pathway.Task{Key: w.taskKey("replan", "need", in.NeedID), Kind: "replan", Title: title, Role: "job_coach",
		Due: workflow.Now(ctx).Add(w.days(7))})
	_ = w.project(ctx, false, eventWith("need_gone", fmt.Sprintf("Recruitment need %s was %s", in.NeedID, status), "system", in))
}

func orText(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
