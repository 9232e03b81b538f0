// Package internship is the internship (praktik) step: an agreement with an employer, a mid-point check-in, and an assessment at the end; the agreement is ended on cancel.
package internship

import (
	"github.com/pathways-se/pathways/steps"
	"github.com/pathways-se/pathways/steps/agreement"
)

// Name is the step type's identifier in programme definitions. Never rename it.
const Name = "internship"

var spec = agreement.Spec{Type: Name, Kind: agreement.KindInternship}

// Type implements steps.Type and steps.Conformable.
//
// Params: employer (an employer ID, or "need" for the employer of the case's
// recruitment need; required), hours_per_week (1–40, optional).
// Updates: agreement.UpdateCheckIn ("check-in"), agreement.UpdateAssess ("assess").
type Type struct{}

func (Type) Name() string  { return Name }
func (Type) Title() string { return "Internship (praktik) with an employer" }
func (Type) Workflow() any { return agreement.Workflow(spec) }

// Activities registers Create, End and Employer under "internship.".
func (Type) Activities(d steps.Deps) any { return &agreement.Activities{Employers: d.Employers} }

// Validate checks the shared agreement parameters.
func (Type) Validate(p map[string]string) error { return agreement.ValidateParams(p) }

func (Type) Example() map[string]string            { return agreement.ExampleParams() }
func (Type) Invalid() map[string]map[string]string { return agreement.InvalidParams() }
func (Type) Drive(d steps.Driver)                  { agreement.DriveAssess(d) }
