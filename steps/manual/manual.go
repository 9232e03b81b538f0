// Package manual is the step type for measures with no system behind them:
// staff confirm the result through an Update.
package manual

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/steps"
)

// Name is the step type's identifier in programme definitions.
const Name = "manual"

// UpdateConfirm is the Update staff send to the step's workflow.
const UpdateConfirm = "confirm-step"

// Confirm is the staff's word on how the step went.
type Confirm struct {
	pathway.Actor
	Outcome string `json:"outcome"` // completed, dropped_out, failed
	Reason  string `json:"reason,omitempty"`
}

// Type implements steps.Type.
type Type struct{}

func (Type) Name() string  { return Name }
func (Type) Title() string { return "Manual measure confirmed by staff" }

// Validate needs a description of the measure.
func (Type) Validate(p map[string]string) error {
	if p["description"] == "" {
		return errors.New("params.description is required: say what the measure is")
	}
	return nil
}

func (Type) Workflow() any             { return Workflow }
func (Type) Activities(steps.Deps) any { return nil }

// ValidateConfirm refuses an unknown outcome or a missing reason.
func ValidateConfirm(c Confirm) error {
	if c.StaffID == "" {
		return errors.New("staff_id is required")
	}
	switch c.Outcome {
	case pathway.StepCompleted:
		return nil
	case pathway.StepDroppedOut, pathway.StepFailed:
		if c.Reason == "" {
			return fmt.Errorf("a reason is required when the outcome is %s", c.Outcome)
		}
		return nil
	}
	return fmt.Errorf("outcome %q is not one of completed, dropped_out, failed", c.Outcome)
}

// Actions: staff confirm how the measure went.
func (Type) Actions() []steps.Action {
	return []steps.Action{{Name: UpdateConfirm, Roles: steps.CaseworkRoles, Label: "stepactions.confirm_step",
		Fields: []steps.Field{
			{Name: "outcome", Label: "stepactions.outcome", Options: steps.OutcomeOptions, Required: true},
			{Name: "reason", Label: "stepactions.reason"}},
		Message: func(staff string, in map[string]string) any {
			return Confirm{Actor: pathway.Actor{StaffID: staff}, Outcome: in["outcome"], Reason: in["reason"]}
		}}}
}

// Workflow waits for staff to confirm. Nothing outside needs winding down.
func Workflow(ctx workflow.Context, in steps.Input) (steps.Result, error) {
	var got *Confirm
	if err := steps.OfferActions(ctx, UpdateConfirm); err != nil {
		return steps.Result{}, err
	}
	err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateConfirm,
		func(ctx workflow.Context, c Confirm) (string, error) {
			got = &c
			return c.Outcome, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, c Confirm) error {
			if got != nil {
				return errors.New("the step is already confirmed")
			}
			return ValidateConfirm(c)
		}})
	if err != nil {
		return steps.Result{}, err
	}
	if err := workflow.Await(ctx, func() bool { return got != nil }); err != nil {
		return steps.Result{}, err
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return steps.Result{}, err
	}
	return steps.Result{Outcome: got.Outcome, Reason: got.Reason, Details: map[string]string{"confirmed_by": got.StaffID}}, nil
}

// Example describes a measure with no system behind it.
func (Type) Example() map[string]string {
	return map[string]string{"description": "Weekly coaching with a job coach"}
}

// Invalid are parameter sets Validate refuses.
func (Type) Invalid() map[string]map[string]string {
	return map[string]map[string]string{"missing description": {}, "empty description": {"description": ""}}
}

// Drive confirms the step as completed.
func (Type) Drive(d steps.Driver) {
	d.Update(UpdateConfirm, Confirm{Actor: pathway.Actor{StaffID: "conformance"}, Outcome: pathway.StepCompleted})
}
