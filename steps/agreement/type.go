package agreement

import (
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/steps"
)

// Names of the catalogue entries of Type, as programme definitions use
// them. Never rename one: it is also the child workflow's name
// ("step.<name>") in committed and running histories.
const (
	NameInternship         = "internship"
	NameWorkTraining       = "worktraining"
	NameLanguageInternship = "languageinternship"
	NameSubsidised         = "subsidised"
)

// Type is the one agreement-based step type; each catalogue entry gives it
// a name, an agreement kind and a title.
//
// Params: employer (an employer ID, or "need" for the employer of the case's
// recruitment need; required), hours_per_week (1–40, optional).
// Actions: "check-in" and "assess" (Actions).
type Type struct {
	Spec
	Label string // the console's title
	// EndsByItself: the conformance drive leaves the step to complete at
	// its end date instead of assessing it.
	EndsByItself bool
}

func (t Type) Name() string  { return t.Spec.Type }
func (t Type) Title() string { return t.Label }
func (t Type) Workflow() any { return Workflow(t.Spec) }

// Activities registers Create, End and Employer under "<name>.".
func (t Type) Activities(d steps.Deps) any { return &Activities{Employers: d.Employers} }

// Validate checks the shared agreement parameters.
func (t Type) Validate(p map[string]string) error { return ValidateParams(p) }

func (t Type) Example() map[string]string            { return ExampleParams() }
func (t Type) Invalid() map[string]map[string]string { return InvalidParams() }

// Drive checks in and assesses the placement, unless it ends by itself.
func (t Type) Drive(d steps.Driver) {
	if !t.EndsByItself {
		DriveAssess(d)
	}
}

// Actions are the check-in and the assessment.
func (t Type) Actions() []steps.Action { return Actions() }

// Actions are what staff do during any agreement (the job track's
// internship too): a check-in, and the assessment that ends the step.
func Actions() []steps.Action {
	return []steps.Action{
		{Name: UpdateCheckIn, Roles: steps.CaseworkRoles, Label: "stepactions.check_in",
			Fields: []steps.Field{{Name: "status", Label: "stepactions.check_in_status", Options: []string{"on_track", "concerns"}, Required: true}},
			Message: func(staff string, in map[string]string) any {
				return CheckIn{Actor: pathway.Actor{StaffID: staff}, Status: in["status"]}
			}},
		{Name: UpdateAssess, Roles: steps.CaseworkRoles, Label: "stepactions.assess",
			Fields: []steps.Field{
				{Name: "outcome", Label: "stepactions.outcome", Options: steps.OutcomeOptions, Required: true},
				{Name: "reason", Label: "stepactions.reason"}},
			Message: func(staff string, in map[string]string) any {
				return Assessment{Actor: pathway.Actor{StaffID: staff}, Outcome: in["outcome"], Reason: in["reason"]}
			}},
	}
}
