// Package steps is the registry of step types. A step type is one package
// under steps/: its child workflow, its activities, its parameters with
// validation, and its wind-down on cancel. It joins the system through one
// line in steps/catalog.
package steps

import (
	"context"
	"fmt"
	"time"

	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/pathway"
)

// Input is what the pathway passes to a step's child workflow.
type Input struct {
	CaseID           string            `json:"case_id"`
	StepID           string            `json:"step_id"`
	Type             string            `json:"type"`
	Params           map[string]string `json:"params,omitempty"`
	DurationDays     int               `json:"duration_days"`
	MunicipalityCode string            `json:"municipality_code"`
	NeedID           string            `json:"recruitment_need_id,omitempty"`
	TargetSSYK       string            `json:"target_ssyk,omitempty"`
	SecondsPerDay    float64           `json:"seconds_per_day,omitempty"`
}

// Result is how a step ended. Outcome is one of pathway.StepCompleted,
// StepDroppedOut or StepFailed. A step that leads straight into work (a job
// track, subsidised employment) sets Leads.
type Result struct {
	Outcome string            `json:"outcome"`
	Reason  string            `json:"reason,omitempty"`
	Details map[string]string `json:"details,omitempty"`
	Leads   *pathway.Outcome  `json:"leads,omitempty"`
}

// Deps are the adapters a step type's activities may use.
type Deps struct {
	Education      integrations.Education
	Employers      integrations.Employers
	Employment     integrations.Employment
	SocialServices integrations.SocialServices
	// People resolves a case to the person, inside an activity only.
	People PersonResolver
	// EducationCallback, when set, is the URL the education system calls
	// when an enrolment of the step ends (see package callbacks); the API
	// relays the call to the step as a signal.
	EducationCallback func(caseID, stepID string) string
}

// PersonResolver looks up a case's participant for an outside system.
type PersonResolver interface {
	Person(ctx context.Context, caseID string) (integrations.Person, error)
}

// Type is one kind of step.
type Type interface {
	// Name is the stable identifier used in programme definitions, e.g. "komvux".
	Name() string
	// Title is the human name shown in the console.
	Title() string
	// Validate checks a step's parameters at definition load time and when a plan is approved.
	Validate(params map[string]string) error
	// Workflow is the child workflow: func(workflow.Context, Input) (Result, error).
	Workflow() any
	// Activities returns the struct whose methods are the type's activities, or nil.
	Activities(d Deps) any
}

// WorkflowName is the registered name of a step type's child workflow.
func WorkflowName(typeName string) string { return "step." + typeName }

// ActivityName is the registered name of a step type's activity: the type
// name prefixes the method, so two types never collide.
func ActivityName(typeName, method string) string { return typeName + "." + method }

// Registry holds the known step types by name.
type Registry struct {
	types map[string]Type
	order []string
}

// NewRegistry builds a registry and refuses duplicate names.
func NewRegistry(types ...Type) (*Registry, error) {
	r := &Registry{types: map[string]Type{}}
	for _, t := range types {
		if _, dup := r.types[t.Name()]; dup {
			return nil, fmt.Errorf("step type %q registered twice", t.Name())
		}
		r.types[t.Name()] = t
		r.order = append(r.order, t.Name())
	}
	return r, nil
}

// Get returns the type with the given name.
func (r *Registry) Get(name string) (Type, bool) {
	t, ok := r.types[name]
	return t, ok
}

// All returns the types in registration order.
func (r *Registry) All() []Type {
	out := make([]Type, 0, len(r.order))
	for _, n := range r.order {
		out = append(out, r.types[n])
	}
	return out
}

// ValidateSpec checks that a planned step names a known type with valid parameters.
func (r *Registry) ValidateSpec(s pathway.StepSpec) error {
	t, ok := r.Get(s.Type)
	if !ok {
		return fmt.Errorf("unknown step type %q", s.Type)
	}
	if s.DurationDays <= 0 {
		return fmt.Errorf("step %q: duration_days must be positive", s.ID)
	}
	if err := t.Validate(s.Params); err != nil {
		return fmt.Errorf("step %q (%s): %w", s.ID, s.Type, err)
	}
	return nil
}

// Days converts programme days to workflow time under the demo clock.
func Days(days float64, secondsPerDay float64) time.Duration {
	return pathway.Days(days, secondsPerDay)
}

// Education marks step types that are education, for the activity duty's
// education-first rule.
type Education interface {
	Education() bool
}

// IsEducation reports whether the named type is an education step.
func IsEducation(r *Registry, name string) bool {
	t, ok := r.Get(name)
	if !ok {
		return false
	}
	e, ok := t.(Education)
	return ok && e.Education()
}
