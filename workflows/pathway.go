// Package workflows holds the Pathway workflow: one durable workflow per
// participant, from referral to follow-up, closed by staff or by the
// programme's time limit.
package workflows

import (
	"encoding/json"
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/pathways-se/pathways/pathway"
)

// Defaults used when a programme leaves a value out.
const (
	defaultFirstContactHours = 48
	defaultMappingDays       = 28
	defaultReminderDays      = 7
	defaultTimeLimitDays     = 548 // 18 months
	defaultHistoryLimit      = 1500
)

var defaultFollowUps = []int{30, 90}

// Pathways carries what the workflow needs besides its input: the step-type
// registry, which validates plans.
type Pathways struct {
	Steps StepCatalog
}

// StepCatalog is what the workflow needs of the step-type registry, so its
// build holds none of the step types' adapters (worker.StepCatalog adapts
// the registry).
type StepCatalog interface {
	// ValidateSpec checks that a planned step names a known type with valid parameters.
	ValidateSpec(pathway.StepSpec) error
	// IsEducation reports whether the named type is an education step.
	IsEducation(typeName string) bool
}

// Pathway is the workflow function registered as pathway.WorkflowName.
func (p *Pathways) Pathway(ctx workflow.Context, in pathway.Start) (pathway.Status, error) {
	w := &pathwayWorkflow{in: in, reg: p.Steps}
	w.checkLevel()
	if err := w.setup(ctx); err != nil {
		return pathway.Status{}, err
	}
	return w.run(ctx)
}

type pathwayWorkflow struct {
	in  pathway.Start
	st  state
	reg StepCatalog

	// Not carried: rebuilt each run.
	deadlineGen int                           // bumped when a deadline moves, to re-arm timers
	clockGen    int                           // bumped on pause/resume, to re-arm the time limit
	opened      []pathway.Task                // tasks to project with the next change
	closed      []string                      // task keys to close with the next change
	signals     []func(workflow.Context) bool // drains the signal channels before continue-as-new
	inbox       []workflow.ReceiveChannel     // signal channels, empty before a hand-over
	busy        int                           // signal handlers, pre-carried-notices outcome notices, failed-notice projections
	sending     bool                          // the notice sender runs
}

// setup restores carried state or initialises a new pathway, then installs
// the handlers before the first blocking call so no message is lost.
func (w *pathwayWorkflow) setup(ctx workflow.Context) error {
	if len(w.in.Carry) > 0 {
		//workflowcheck:ignore encoding/json caches types; its result is deterministic
		if err := json.Unmarshal(w.in.Carry, &w.st); err != nil {
			return fmt.Errorf("carried state: %w", err)
		}
		w.in.Carry = nil
		w.st.Runs++
	} else {
		now := workflow.Now(ctx)
		p := &w.in.Programme
		w.st = state{
			Phase:     pathway.PhaseReferral,
			CentreID:  w.in.CentreID,
			StartedAt: now,
			LimitAt:   now.Add(w.days(float64(orDefault(p.TimeLimitDays, defaultTimeLimitDays)))),
		}
		// Real clocks count the first-contact target from the referral;
		// demo clocks from the start, since compressed time has no wall date.
		hours := float64(orDefault(p.FirstContactHours, defaultFirstContactHours))
		w.st.FirstContactDue = now.Add(w.days(hours / 24))
		if w.in.SecondsPerDay == 0 && !w.in.ReferredAt.IsZero() {
			w.st.FirstContactDue = w.in.ReferredAt.Add(time.Duration(hours * float64(time.Hour)))
		}
	}
	return w.registerHandlers(ctx)
}

// run drives the phases until closure. Each phase handler is resumable from
// state alone, so continue-as-new can happen between any two of them.
func (w *pathwayWorkflow) run(ctx workflow.Context) (pathway.Status, error) {
	if w.st.Runs == 0 {
		w.openTask(pathway.Task{Key: w.taskKey("first_contact"), Kind: "first_contact", Title: "Make first contact with the participant", Role: "job_coach", Due: w.st.FirstContactDue})
		if err := w.project(ctx, true, event("referral", fmt.Sprintf("Referred by %s; programme %s v%d, %s track", w.in.ReferralSource, w.in.Programme.Name, w.in.Programme.Version, w.in.Track), "")); err != nil {
			return pathway.Status{}, err
		}
	}
	w.startClock(ctx)
	if len(w.st.Notices) > 0 {
		w.startSender(ctx) // notices the last run handed over undelivered
	}
	for w.st.Phase != pathway.PhaseClosed {
		if w.st.Close != nil {
			if err := w.finish(ctx); err != nil {
				return pathway.Status{}, err
			}
			break
		}
		if w.continueAsNewDue(ctx) {
			if err := w.continueAsNew(ctx); err != nil {
				return pathway.Status{}, err
			}
			continue // a close arrived while the run waited to hand over
		}
		var err error
		switch w.st.Phase {
		case pathway.PhaseReferral:
			err = w.awaitFirstContact(ctx)
		case pathway.PhaseMapping:
			err = w.awaitMapping(ctx)
		case pathway.PhasePlanning, pathway.PhaseOutcome:
			err = w.awaitStaff(ctx)
		case pathway.PhaseSteps:
			err = w.runSteps(ctx)
		case pathway.PhaseFollowUp:
			err = w.followUp(ctx)
		default:
			return pathway.Status{}, fmt.Errorf("unknown phase %q", w.st.Phase)
		}
		if err != nil {
			return pathway.Status{}, err
		}
	}
	// Let in-flight Updates (the close itself) reply and notices finish
	// before the run ends.
	if err := workflow.Await(ctx, func() bool {
		return workflow.AllHandlersFinished(ctx) && w.busy == 0 && len(w.st.Notices) == 0
	}); err != nil {
		return pathway.Status{}, err
	}
	return w.status(ctx), nil
}

// days converts programme days into workflow time under the demo clock.
func (w *pathwayWorkflow) days(d float64) time.Duration { return pathway.Days(d, w.in.SecondsPerDay) }

// dayLength is one programme day in workflow time.
func (w *pathwayWorkflow) dayLength() time.Duration { return w.days(1) }

func (w *pathwayWorkflow) taskKey(parts ...string) string {
	k := w.in.CaseID
	for _, p := range parts {
		k += ":" + p
	}
	return k
}

func orDefault(v, d int) int {
	if v <= 0 {
		return d
	}
	return v
}
