// Package cvworkshop is a CV and interview workshop: a place on a workshop
// occasion booked with the education provider, and a result that the
// workshop leader reports through staff (the Update "workshop-result"). On
// cancel the place is withdrawn.
package cvworkshop

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/steps"
)

// Name is the step type's identifier in programme definitions. Never rename it.
const Name = "cvworkshop"

// UpdateResult is the Update staff send when the workshop is over.
const UpdateResult = "workshop-result"

// WorkshopResult is staff's word on the workshop.
type WorkshopResult struct {
	pathway.Actor
	Outcome string `json:"outcome"` // completed, dropped_out, failed
	Reason  string `json:"reason,omitempty"`
}

var codePattern = regexp.MustCompile(`^[A-Z0-9]{3,20}$`)

// Type implements steps.Type and steps.Conformable.
//
// Params: workshop_code (the provider's occasion code, 3–20 capital letters
// or digits; required).
type Type struct{}

func (Type) Name() string  { return Name }
func (Type) Title() string { return "CV and interview workshop" }
func (Type) Workflow() any { return Workflow }

// Activities are Book and Withdraw, registered as "cvworkshop.".
func (Type) Activities(d steps.Deps) any {
	return &Activities{Education: d.Education, People: d.People}
}

// Validate checks the workshop code.
func (Type) Validate(p map[string]string) error {
	if !codePattern.MatchString(p["workshop_code"]) {
		return fmt.Errorf("params.workshop_code %q is not an occasion code (3–20 capital letters or digits)", p["workshop_code"])
	}
	return nil
}

// Activities talk to the education provider.
type Activities struct {
	Education integrations.Education
	People    steps.PersonResolver
}

// BookInput names the case and the occasion; the person is resolved here.
type BookInput struct {
	CaseID       string `json:"case_id"`
	WorkshopCode string `json:"workshop_code"`
	Key          string `json:"key,omitempty"` // business key, "<case>:<step>:enrol"
}

// WithdrawInput gives the place back.
type WithdrawInput struct {
	PlaceID string `json:"place_id"`
	Reason  string `json:"reason"`
	Key     string `json:"key,omitempty"` // business key, "<case>:<step>:withdraw"
}

// Book takes a place; the idempotency key makes a retry return the same place.
func (a *Activities) Book(ctx context.Context, in BookInput) (integrations.Enrolment, error) {
	person, err := a.People.Person(ctx, in.CaseID)
	if err != nil {
		return integrations.Enrolment{}, err
	}
	e, err := a.Education.Enrol(ctx, steps.KeyOr(ctx, in.Key), integrations.EnrolRequest{CaseID: in.CaseID, CourseCode: in.WorkshopCode, Person: person})
	return e, steps.Classify(err)
}

// Withdraw gives the place back; withdrawing twice is harmless.
func (a *Activities) Withdraw(ctx context.Context, in WithdrawInput) error {
	return steps.Classify(a.Education.Withdraw(ctx, steps.KeyOr(ctx, in.Key), in.PlaceID, in.Reason))
}

func validateResult(r WorkshopResult) error {
	if r.StaffID == "" {
		return errors.New("staff_id is required")
	}
	switch r.Outcome {
	case pathway.StepCompleted:
		return nil
	case pathway.StepDroppedOut, pathway.StepFailed:
		if r.Reason == "" {
			return fmt.Errorf("a reason is required when the outcome is %s", r.Outcome)
		}
		return nil
	}
	return fmt.Errorf("outcome %q is not one of completed, dropped_out, failed", r.Outcome)
}

// Workflow books a place, waits for staff's result, and withdraws the place
// on cancel on a disconnected context.
func Workflow(ctx workflow.Context, in steps.Input) (steps.Result, error) {
	var got *WorkshopResult
	if err := steps.OfferActions(ctx, UpdateResult); err != nil {
		return steps.Result{}, err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateResult,
		func(ctx workflow.Context, r WorkshopResult) (string, error) { got = &r; return r.Outcome, nil },
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, r WorkshopResult) error {
			if got != nil {
				return errors.New("the workshop result is already recorded")
			}
			return validateResult(r)
		}}); err != nil {
		return steps.Result{}, err
	}

	var place integrations.Enrolment
	keys := steps.BusinessKeys(ctx, "enrol")
	book := BookInput{CaseID: in.CaseID, WorkshopCode: in.Params["workshop_code"]}
	if keys {
		book.Key = in.Key("enrol")
	}
	withdraw := func() error {
		dctx, cancel := workflow.NewDisconnectedContext(ctx)
		defer cancel()
		dctx = workflow.WithActivityOptions(dctx, steps.CallOptions(in.SecondsPerDay))
		w := WithdrawInput{PlaceID: place.ID, Reason: "pathway step cancelled"}
		if keys {
			w.Key = in.Key("withdraw")
		}
		_ = workflow.ExecuteActivity(dctx, steps.ActivityName(Name, "Withdraw"), w).Get(dctx, nil)
		return temporal.NewCanceledError("step cancelled; workshop place withdrawn")
	}
	err := steps.ExecuteCreate(ctx, "enrol", steps.CallOptions(in.SecondsPerDay), steps.ActivityName(Name, "Book"), book, &place)
	if ctx.Err() != nil && steps.CompensateCreate(ctx, "enrol") {
		if err == nil {
			return steps.Result{}, withdraw() // the cancel came while the place was being booked
		}
		return steps.Result{}, temporal.NewCanceledError("step cancelled before a place was booked")
	}
	if err != nil {
		if temporal.IsCanceledError(err) {
			return steps.Result{}, err
		}
		return steps.Result{Outcome: pathway.StepFailed, Reason: "workshop place refused: " + steps.ErrorMessage(err)}, nil
	}

	if err := workflow.Await(ctx, func() bool { return got != nil }); err != nil {
		if ctx.Err() == nil {
			return steps.Result{}, err
		}
		return steps.Result{}, withdraw()
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return steps.Result{}, err
	}
	return steps.Result{Outcome: got.Outcome, Reason: got.Reason,
		Details: map[string]string{"place_id": place.ID, "workshop_code": in.Params["workshop_code"], "recorded_by": got.StaffID}}, nil
}

// Actions: staff record the workshop leader's result, which ends the step.
func (Type) Actions() []steps.Action {
	return []steps.Action{{Name: UpdateResult, Roles: steps.CaseworkRoles, Label: "stepactions.workshop_result",
		Fields: []steps.Field{
			{Name: "outcome", Label: "stepactions.outcome", Options: steps.OutcomeOptions, Required: true},
			{Name: "reason", Label: "stepactions.reason"}},
		Message: func(staff string, in map[string]string) any {
			return WorkshopResult{Actor: pathway.Actor{StaffID: staff}, Outcome: in["outcome"], Reason: in["reason"]}
		}}}
}

// Example is a CV and interview workshop occasion.
func (Type) Example() map[string]string { return map[string]string{"workshop_code": "CVINT01"} }

// Invalid are parameter sets Validate refuses.
func (Type) Invalid() map[string]map[string]string {
	return map[string]map[string]string{
		"missing code":    {},
		"lower-case code": {"workshop_code": "cvint01"},
		"code too long":   {"workshop_code": "CVINTERVIEWWORKSHOP2026"},
	}
}

// Drive records the workshop as completed.
func (Type) Drive(d steps.Driver) {
	d.Update(UpdateResult, WorkshopResult{Actor: pathway.Actor{StaffID: "conformance"}, Outcome: pathway.StepCompleted})
}
