// Package subsidised is the subsidised employment step: employment with a wage subsidy under an agreement with the employer. A completed step leads to the outcome subsidised_work with that employer.
package subsidised

import (
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/steps"
	"github.com/pathways-se/pathways/steps/agreement"
)

// Name is the step type's identifier in programme definitions. Never rename it.
const Name = "subsidised"

var spec = agreement.Spec{Type: Name, Kind: agreement.KindSubsidised, Leads: pathway.OutcomeSubsidisedWork}

// Type implements steps.Type and steps.Conformable.
//
// Params: employer (an employer ID, or "need" for the employer of the case's
// recruitment need; required), hours_per_week (1–40, optional), subsidy (the
// subsidy's name for the outcome, default lönestöd).
// Updates: agreement.UpdateCheckIn ("check-in"), agreement.UpdateAssess ("assess").
type Type struct{}

func (Type) Name() string  { return Name }
func (Type) Title() string { return "Subsidised employment" }
func (Type) Workflow() any { return agreement.Workflow(spec) }

// Activities registers Create, End and Employer under "subsidised.".
func (Type) Activities(d steps.Deps) any { return &agreement.Activities{Employers: d.Employers} }

// Validate checks the shared agreement parameters.
func (Type) Validate(p map[string]string) error { return agreement.ValidateParams(p) }

func (Type) Example() map[string]string            { return agreement.ExampleParams() }
func (Type) Invalid() map[string]map[string]string { return agreement.InvalidParams() }
func (Type) Drive(d steps.Driver)                  { /* completes by itself at the end date */ }
