// Package agreement is the shared lifecycle of the step types that place a
// participant with an employer under an agreement: internship (praktik),
// work training (arbetsträning), language internship (språkpraktik),
// subsidised employment, and the internship half of a job track.
//
// The lifecycle: resolve the employer (a parameter, or the employer of the
// case's recruitment need), create the agreement, a mid-point check-in (a
// timer at half the duration that records a detail; staff may also send
// the Update "check-in"), then the end: an Update "assess" from staff
// (completed, dropped_out, failed) or an automatic completion at the end
// date. On cancel the agreement is ended on a disconnected context.
package agreement

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/steps"
)

// Update names, the same for every agreement-based type.
const (
	UpdateCheckIn = "check-in"
	UpdateAssess  = "assess"
)

// EmployerFromNeed is the value of the employer parameter that means "the
// employer of the case's recruitment need".
const EmployerFromNeed = "need"

// Agreement kinds, as the employer system knows them.
const (
	KindInternship         = "internship"
	KindWorkTraining       = "work_training"
	KindLanguageInternship = "language_internship"
	KindSubsidised         = "subsidised_employment"
)

// CheckIn is a staff member's mid-point check-in. It carries no free text:
// notes about the person belong in the case file, not in workflow history.
type CheckIn struct {
	pathway.Actor
	Status string `json:"status"` // on_track, concerns
}

// Assessment is staff's word on how the placement went.
type Assessment struct {
	pathway.Actor
	Outcome string `json:"outcome"` // completed, dropped_out, failed
	Reason  string `json:"reason,omitempty"`
}

// Spec describes one agreement-based step type.
type Spec struct {
	Type string // the registering step type's name, for activity names
	Kind string // the agreement kind
	// Leads, when set, is the outcome kind a completed step leads to
	// (pathway.OutcomeWork, pathway.OutcomeSubsidisedWork).
	Leads string
}

var employerPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{1,39}$`)

// ValidateParams checks the parameters every agreement-based type shares:
// employer (an employer ID, or "need") and the optional hours_per_week (1–40).
func ValidateParams(p map[string]string) error {
	e := p["employer"]
	if e == "" {
		return errors.New(`params.employer is required: an employer ID, or "need" for the employer of the case's recruitment need`)
	}
	if e != EmployerFromNeed && !employerPattern.MatchString(e) {
		return fmt.Errorf(`params.employer %q is neither an employer ID (2–40 letters, digits, - or _) nor "need"`, e)
	}
	if h, ok := p["hours_per_week"]; ok {
		n, err := strconv.Atoi(h)
		if err != nil || n < 1 || n > 40 {
			return fmt.Errorf("params.hours_per_week %q must be a whole number from 1 to 40", h)
		}
	}
	return nil
}

// ValidateAssessment refuses an unknown outcome or a missing reason.
func ValidateAssessment(a Assessment) error {
	if a.StaffID == "" {
		return errors.New("staff_id is required")
	}
	switch a.Outcome {
	case pathway.StepCompleted:
		return nil
	case pathway.StepDroppedOut, pathway.StepFailed:
		if a.Reason == "" {
			return fmt.Errorf("a reason is required when the outcome is %s", a.Outcome)
		}
		return nil
	}
	return fmt.Errorf("outcome %q is not one of completed, dropped_out, failed", a.Outcome)
}

// ValidateCheckIn refuses an unknown status.
func ValidateCheckIn(c CheckIn) error {
	if c.StaffID == "" {
		return errors.New("staff_id is required")
	}
	if c.Status != "on_track" && c.Status != "concerns" {
		return fmt.Errorf("status %q is not one of on_track, concerns", c.Status)
	}
	return nil
}

// Workflow returns the child workflow of a simple agreement-based type:
// resolve the employer, then Run.
func Workflow(spec Spec) func(workflow.Context, steps.Input) (steps.Result, error) {
	return func(ctx workflow.Context, in steps.Input) (steps.Result, error) {
		emp, res, err := ResolveEmployer(ctx, spec.Type, in, in.Params["employer"])
		if err != nil || res != nil {
			return deref(res), err
		}
		return Run(ctx, spec, in, emp)
	}
}

func deref(r *steps.Result) steps.Result {
	if r == nil {
		return steps.Result{}
	}
	return *r
}

// ResolveEmployer turns the employer parameter into an Employer. When the
// step cannot go ahead it returns a failed Result for the pathway (no
// recruitment need, a need that is gone); a cancel returns the error.
func ResolveEmployer(ctx workflow.Context, typeName string, in steps.Input, param string) (Employer, *steps.Result, error) {
	if param != EmployerFromNeed && param != "" {
		return Employer{ID: param, Name: param, SSYK: in.TargetSSYK}, nil, nil
	}
	if in.NeedID == "" {
		return Employer{}, &steps.Result{Outcome: pathway.StepFailed, Reason: "no recruitment need is linked to the case"}, nil
	}
	actx := workflow.WithActivityOptions(ctx, steps.CallOptions(in.SecondsPerDay))
	var emp Employer
	err := workflow.ExecuteActivity(actx, steps.ActivityName(typeName, "Employer"),
		NeedInput{NeedID: in.NeedID, SSYK: in.TargetSSYK, Municipality: in.MunicipalityCode}).Get(ctx, &emp)
	if err != nil {
		if temporal.IsCanceledError(err) {
			return Employer{}, nil, err
		}
		return Employer{}, &steps.Result{Outcome: pathway.StepFailed, Reason: "recruitment need: " + steps.ErrorMessage(err)}, nil
	}
	emp.NeedID = in.NeedID
	return emp, nil, nil
}

// Run is the agreement lifecycle with a known employer.
func Run(ctx workflow.Context, spec Spec, in steps.Input, emp Employer) (steps.Result, error) {
	act := func(m string) string { return steps.ActivityName(spec.Type, m) }
	start := workflow.Now(ctx)
	length := steps.Days(float64(in.DurationDays), in.SecondsPerDay)
	actx := workflow.WithActivityOptions(ctx, steps.CallOptions(in.SecondsPerDay))

	details := map[string]string{"employer_id": emp.ID, "kind": spec.Kind}

	// The handlers exist from the start, so staff's word is never lost while
	// the agreement is being made.
	assessed := workflow.NewBufferedChannel(ctx, 1)
	var got *Assessment
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateAssess,
		func(ctx workflow.Context, a Assessment) (string, error) {
			got = &a
			assessed.SendAsync(a)
			return a.Outcome, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, a Assessment) error {
			if got != nil {
				return errors.New("the placement is already assessed")
			}
			return ValidateAssessment(a)
		}}); err != nil {
		return steps.Result{}, err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateCheckIn,
		func(ctx workflow.Context, c CheckIn) (string, error) {
			details["check_in"] = c.Status
			details["check_in_by"] = c.StaffID
			return c.Status, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, c CheckIn) error { return ValidateCheckIn(c) }}); err != nil {
		return steps.Result{}, err
	}

	keys := steps.BusinessKeys(ctx, "agreement")
	create := CreateInput{CaseID: in.CaseID, EmployerID: emp.ID, Kind: spec.Kind, StartDate: start, EndDate: start.Add(length)}
	// Version 1 names the recruitment need, so the employer system counts
	// its positions down (and up again if the agreement ends early).
	if emp.NeedID != "" && workflow.GetVersion(ctx, "agreement-fills-need", workflow.DefaultVersion, 1) == 1 {
		create.NeedID = emp.NeedID
	}
	if keys {
		create.Key = in.Key("agreement")
	}
	var ag integrations.Agreement
	endInput := func(reason string) EndInput {
		e := EndInput{AgreementID: ag.ID, Reason: reason}
		if keys {
			e.Key = in.Key("end-agreement")
		}
		return e
	}
	err := steps.ExecuteCreate(ctx, "agreement", steps.CallOptions(in.SecondsPerDay), act("Create"), create, &ag)
	if ctx.Err() != nil && steps.CompensateCreate(ctx, "agreement") {
		if err == nil {
			// The cancel came while the agreement was being made.
			windDown(ctx, in.SecondsPerDay, act("End"), endInput("pathway step cancelled"))
			return steps.Result{}, temporal.NewCanceledError("step cancelled; agreement ended")
		}
		return steps.Result{}, temporal.NewCanceledError("step cancelled before an agreement was made")
	}
	if err != nil {
		if temporal.IsCanceledError(err) {
			return steps.Result{}, err
		}
		return steps.Result{Outcome: pathway.StepFailed, Reason: "agreement refused: " + steps.ErrorMessage(err)}, nil
	}
	details["agreement_id"] = ag.ID

	timerCtx, stopTimers := workflow.WithCancel(ctx)
	defer stopTimers()
	mid := workflow.NewTimer(timerCtx, length/2)
	end := workflow.NewTimer(timerCtx, length)
	ended, midDone := false, false
	for !ended && got == nil && ctx.Err() == nil {
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(assessed, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil) })
		sel.AddReceive(ctx.Done(), func(workflow.ReceiveChannel, bool) {})
		sel.AddFuture(end, func(workflow.Future) { ended = true })
		if !midDone {
			sel.AddFuture(mid, func(workflow.Future) {
				midDone = true
				details["mid_point"] = workflow.Now(ctx).UTC().Format("2006-01-02")
				if _, ok := details["check_in"]; !ok {
					details["check_in"] = "due" // a reminder for the console; nothing outside opens
				}
			})
		}
		sel.Select(ctx)
	}
	stopTimers()
	if ctx.Err() != nil {
		windDown(ctx, in.SecondsPerDay, act("End"), endInput("pathway step cancelled"))
		return steps.Result{}, temporal.NewCanceledError("step cancelled; agreement ended")
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return steps.Result{}, err
	}

	res := steps.Result{Outcome: pathway.StepCompleted, Details: details}
	if got != nil {
		res.Outcome, res.Reason = got.Outcome, got.Reason
		details["assessed_by"] = got.StaffID
		if !ended {
			// Ended before the end date: tell the employer.
			_ = workflow.ExecuteActivity(actx, act("End"), endInput("ended early: "+got.Outcome)).Get(ctx, nil)
		}
	} else {
		details["assessed_by"] = "automatic at the end date"
	}
	if res.Outcome == pathway.StepCompleted && spec.Leads != "" {
		res.Leads = &pathway.Outcome{Kind: spec.Leads, Employer: emp.Name, SSYK: emp.SSYK}
		if spec.Leads == pathway.OutcomeSubsidisedWork {
			res.Leads.StartDate = start // the subsidised job began with the agreement
		} // otherwise the job starts now, which the pathway fills in

	}
	return res, nil
}

// windDown ends the agreement although ctx is cancelled.
func windDown(ctx workflow.Context, secondsPerDay float64, end string, in EndInput) {
	dctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	dctx = workflow.WithActivityOptions(dctx, steps.CallOptions(secondsPerDay))
	_ = workflow.ExecuteActivity(dctx, end, in).Get(dctx, nil)
}

// ExampleParams are documented valid parameters of an agreement-based type.
func ExampleParams() map[string]string {
	return map[string]string{"employer": "EMP-0042", "hours_per_week": "30"}
}

// InvalidParams are parameter sets every agreement-based type must refuse.
func InvalidParams() map[string]map[string]string {
	return map[string]map[string]string{
		"missing employer":   {},
		"malformed employer": {"employer": "Anna Andersson, 19900101-1234"},
		"hours out of range": {"employer": "EMP-0042", "hours_per_week": "60"},
		"hours not a number": {"employer": "need", "hours_per_week": "full"},
	}
}

// DriveAssess is the conformance drive of an agreement-based type: a staff
// check-in, then an assessment "completed".
func DriveAssess(d steps.Driver) {
	d.Update(UpdateCheckIn, CheckIn{Actor: pathway.Actor{StaffID: "conformance"}, Status: "on_track"})
	d.Update(UpdateAssess, Assessment{Actor: pathway.Actor{StaffID: "conformance"}, Outcome: pathway.StepCompleted})
}
