package steps

import (
	"slices"

	"go.temporal.io/sdk/workflow"

	"github.com/pathways-se/pathways/pathway"
)

// Action is a staff action a step type declares: an Update on the step's
// child workflow. The API route POST /api/v1/pathways/{case}/steps/{step}/{name},
// the console's form on the case page and `pathways step-action` are all
// built from this declaration, through one service (package stepactions).
type Action struct {
	// Name is the Update's name and the URL segment, e.g. "check-in".
	Name string
	// Roles may take the action (the staff role names, Role* below).
	Roles []string
	// Label is the message key of the form's heading and button
	// (lang/messages/stepactions.*.yaml), e.g. "stepactions.check_in".
	Label string
	// Fields are the input schema: every field is a string; the service
	// refuses unknown fields, missing required ones and values outside
	// Options, each naming the field, before the Update is sent.
	Fields []Field
	// Message builds the Update's argument from the checked input and the
	// staff member who acts. The workflow's validator has the last word.
	Message func(staffID string, in map[string]string) any
}

// Field is one input of an Action.
type Field struct {
	Name     string   // JSON name and form field name
	Label    string   // message key of the field's label
	Options  []string // the allowed values (a choice); empty for free text
	Required bool
}

// Actionable is implemented by a step type that declares staff actions.
type Actionable interface {
	Actions() []Action
}

// ActionsOf returns the actions a type declares, or none.
func ActionsOf(t Type) []Action {
	if a, ok := t.(Actionable); ok {
		return a.Actions()
	}
	return nil
}

// FindAction returns the type's declared action of that name.
func FindAction(t Type, name string) (Action, bool) {
	for _, a := range ActionsOf(t) {
		if a.Name == name {
			return a, true
		}
	}
	return Action{}, false
}

// Allows reports whether any of roles may take the action.
func (a Action) Allows(roles []string) bool {
	for _, r := range roles {
		if slices.Contains(a.Roles, r) {
			return true
		}
	}
	return false
}

// Staff role names, as the store spells them (step code may not import the
// store; stepactions' tests check these against store.Roles).
const (
	RoleJobCoach          = "job_coach"
	RoleJobBroker         = "job_broker"
	RoleEmploymentOfficer = "employment_officer"
	RoleCounsellor        = "counsellor"
	RoleTeamLead          = "team_lead"
	RoleAdministrator     = "administrator"
)

// CaseworkRoles are the roles that work cases: everyone but the unit
// manager, who reads outcomes but does not act on cases.
var CaseworkRoles = []string{RoleJobCoach, RoleJobBroker, RoleEmploymentOfficer, RoleCounsellor, RoleTeamLead, RoleAdministrator}

// QueryActions is the Query a step workflow answers with the names of the
// actions it takes now. A type whose actions open only in a later phase (a
// job track's internship after its course) answers without them until
// then, so the service can say "not yet" instead of sending an Update the
// workflow has no handler for. Queries add nothing to the history.
const QueryActions = "step-actions"

// OfferActions (re)sets the answer to QueryActions.
func OfferActions(ctx workflow.Context, names ...string) error {
	return workflow.SetQueryHandler(ctx, QueryActions, func() ([]string, error) { return names, nil })
}

// OutcomeOptions are the outcomes staff may give a step.
var OutcomeOptions = []string{pathway.StepCompleted, pathway.StepDroppedOut, pathway.StepFailed}
