// Package languageinternship is the language internship (språkpraktik) step: an internship whose aim is practising Swedish at a workplace, often alongside SFI; check-in, assessment, and end on cancel as for an internship.
package languageinternship

import (
	"github.com/pathways-se/pathways/steps"
	"github.com/pathways-se/pathways/steps/agreement"
)

// Name is the step type's identifier in programme definitions. Never rename it.
const Name = "languageinternship"

var spec = agreement.Spec{Type: Name, Kind: agreement.KindLanguageInternship}

// Type implements steps.Type and steps.Conformable.
//
// Params: employer (an employer ID, or "need" for the employer of the case's
// recruitment need; required), hours_per_week (1–40, optional).
// Updates: agreement.UpdateCheckIn ("check-in"), agreement.UpdateAssess ("assess").
type Type struct{}

func (Type) Name() string  { return Name }
func (Type) Title() string { return "Language internship (språkpraktik)" }
func (Type) Workflow() any { return agreement.Workflow(spec) }

// Activities registers Create, End and Employer under "languageinternship.".
func (Type) Activities(d steps.Deps) any { return &agreement.Activities{Employers: d.Employers} }

// Validate checks the shared agreement parameters.
func (Type) Validate(p map[string]string) error { return agreement.ValidateParams(p) }

func (Type) Example() map[string]string            { return agreement.ExampleParams() }
func (Type) Invalid() map[string]map[string]string { return agreement.InvalidParams() }
func (Type) Drive(d steps.Driver)                  { agreement.DriveAssess(d) }
