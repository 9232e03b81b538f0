// Package jobtrack is the job track (jobbspår): a short vocational course
// for the occupation of an employer's recruitment need, then an internship
// with that employer, leading to employment there. The case must be linked
// to a recruitment need (steps.Input.NeedID); without one the step fails.
package jobtrack

import (
	"context"
	"fmt"
	"strconv"

	"go.temporal.io/sdk/workflow"

	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/steps"
	"github.com/pathways-se/pathways/steps/agreement"
	"github.com/pathways-se/pathways/steps/komvux"
)

// Name is the step type's identifier in programme definitions. Never rename it.
const Name = "jobtrack"

var spec = agreement.Spec{Type: Name, Kind: agreement.KindInternship, Leads: pathway.OutcomeWork}

// Type implements steps.Type and steps.Conformable.
//
// Params: course_code (the vocational course, as for komvux; required),
// training_days (the course's share of the step's duration, 1 or more and
// less than duration_days; required).
// Signals and Updates: komvux.SignalResult during the course;
// agreement.UpdateCheckIn and agreement.UpdateAssess during the internship.
type Type struct{}

func (Type) Name() string { return Name }
func (Type) Title() string {
	return "Job track (jobbspår): training and an internship with the recruiting employer"
}
func (Type) Workflow() any { return Workflow }

// Activities are the course's (Enrol, AwaitResult, CheckResult, Withdraw) and the
// agreement's (Create, End, Employer), all registered under "jobtrack.".
type Activities struct {
	Course    *komvux.Activities
	Agreement *agreement.Activities
}

func (a *Activities) Enrol(ctx context.Context, in komvux.EnrolInput) (integrations.Enrolment, error) {
	return a.Course.Enrol(ctx, in)
}
func (a *Activities) AwaitResult(ctx context.Context, in komvux.PollInput) (integrations.Enrolment, error) {
	return a.Course.AwaitResult(ctx, in)
}
func (a *Activities) CheckResult(ctx context.Context, in komvux.CheckInput) (integrations.Enrolment, error) {
	return a.Course.CheckResult(ctx, in)
}
func (a *Activities) Withdraw(ctx context.Context, in komvux.WithdrawInput) error {
	return a.Course.Withdraw(ctx, in)
}
func (a *Activities) Create(ctx context.Context, in agreement.CreateInput) (integrations.Agreement, error) {
	return a.Agreement.Create(ctx, in)
}
func (a *Activities) End(ctx context.Context, in agreement.EndInput) error {
	return a.Agreement.End(ctx, in)
}
func (a *Activities) Employer(ctx context.Context, in agreement.NeedInput) (agreement.Employer, error) {
	return a.Agreement.Employer(ctx, in)
}

func (Type) Activities(d steps.Deps) any {
	return &Activities{
		Course:    &komvux.Activities{Education: d.Education, People: d.People, Callback: d.EducationCallback},
		Agreement: &agreement.Activities{Employers: d.Employers},
	}
}

// Validate checks the course and the split of the duration.
func (Type) Validate(p map[string]string) error {
	if err := (komvux.Type{}).Validate(map[string]string{"course_code": p["course_code"], "form": "yrkesvux"}); err != nil {
		return err
	}
	if _, err := trainingDays(p); err != nil {
		return err
	}
	return nil
}

func trainingDays(p map[string]string) (int, error) {
	n, err := strconv.Atoi(p["training_days"])
	if err != nil || n < 1 {
		return 0, fmt.Errorf("params.training_days %q must be a whole number of days, 1 or more", p["training_days"])
	}
	return n, nil
}

// Workflow: find the employer of the need, train, then the internship.
// Cancel during the course withdraws the enrolment; during the internship
// it ends the agreement.
func Workflow(ctx workflow.Context, in steps.Input) (steps.Result, error) {
	// The internship's actions open with the internship (agreement.Run
	// offers them); during the course the service answers "not yet".
	if err := steps.OfferActions(ctx); err != nil {
		return steps.Result{}, err
	}
	training, err := trainingDays(in.Params)
	if err != nil {
		return steps.Result{Outcome: pathway.StepFailed, Reason: err.Error()}, nil
	}
	if training >= in.DurationDays {
		return steps.Result{Outcome: pathway.StepFailed, Reason: fmt.Sprintf("training_days %d leaves no internship within %d days", training, in.DurationDays)}, nil
	}
	emp, stop, err := agreement.ResolveEmployer(ctx, Name, in, agreement.EmployerFromNeed)
	if err != nil || stop != nil {
		if stop != nil {
			return *stop, nil
		}
		return steps.Result{}, err
	}

	course := in
	course.DurationDays = training
	res, err := komvux.Course(ctx, Name, course, in.Params["course_code"])
	if err != nil {
		return res, err
	}
	if res.Outcome != pathway.StepCompleted {
		res.Reason = "training: " + res.Reason
		return res, nil
	}

	placement := in
	placement.DurationDays = in.DurationDays - training
	out, err := agreement.Run(ctx, spec, placement, emp)
	if out.Details != nil {
		// Copying into a map: the result is the same whatever the order.
		//workflowcheck:ignore
		for k, v := range res.Details {
			out.Details["training_"+k] = v
		}
		out.Details["need_id"] = in.NeedID
	}
	return out, err
}

// Actions are the internship's check-in and assessment; they open when
// the course is over.
func (Type) Actions() []steps.Action { return agreement.Actions() }

// Example is a job track for a care-assistant need: eight weeks of training.
func (Type) Example() map[string]string {
	return map[string]string{"course_code": "VARVAR0", "training_days": "8"}
}

func (Type) Invalid() map[string]map[string]string {
	return map[string]map[string]string{
		"missing course":     {"training_days": "8"},
		"lower-case course":  {"course_code": "varvar0", "training_days": "8"},
		"missing training":   {"course_code": "VARVAR0"},
		"zero training days": {"course_code": "VARVAR0", "training_days": "0"},
		"negative training":  {"course_code": "VARVAR0", "training_days": "-5"},
	}
}

// Drive completes the course by the education system's callback; the
// internship then completes by itself at its end date.
func (Type) Drive(d steps.Driver) {
	d.Signal(komvux.SignalResult, komvux.Result{EnrolmentID: d.LastCreated(), Status: integrations.EnrolmentCompleted, Grade: "C"})
}
