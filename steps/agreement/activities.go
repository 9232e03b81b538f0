package agreement

import (
	"context"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/steps"
)

// Activities talk to the employer-facing system. A step type built on this
// package returns them (alone or embedded) from its Activities method, so
// they register as "<type>.Create", "<type>.End" and "<type>.Employer".
type Activities struct {
	Employers integrations.Employers
}

// CreateInput sets up one agreement. It carries the case ID, never the person.
type CreateInput struct {
	CaseID     string    `json:"case_id"`
	EmployerID string    `json:"employer_id"`
	NeedID     string    `json:"need_id,omitempty"` // the recruitment need whose position it takes
	Kind       string    `json:"kind"`
	StartDate  time.Time `json:"start_date"`
	EndDate    time.Time `json:"end_date"`
	Key        string    `json:"key,omitempty"` // business key, e.g. "<case>:<step>:agreement"
}

// EndInput ends an agreement early.
type EndInput struct {
	AgreementID string `json:"agreement_id"`
	Reason      string `json:"reason"`
	Key         string `json:"key,omitempty"` // business key, e.g. "<case>:<step>:end-agreement"
}

// NeedInput names a recruitment need to resolve to its employer.
type NeedInput struct {
	NeedID       string `json:"need_id"`
	SSYK         string `json:"ssyk,omitempty"`
	Municipality string `json:"municipality,omitempty"`
}

// Employer is an organisation (never a person) that hosts the step.
type Employer struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	SSYK   string `json:"ssyk,omitempty"`
	NeedID string `json:"need_id,omitempty"` // set when the employer came from the case's recruitment need
}

// Create makes the agreement. The idempotency key makes a retried attempt
// return the first agreement instead of making a second.
func (a *Activities) Create(ctx context.Context, in CreateInput) (integrations.Agreement, error) {
	ag, err := a.Employers.CreateAgreement(ctx, steps.KeyOr(ctx, in.Key), integrations.AgreementRequest{
		CaseID: in.CaseID, EmployerID: in.EmployerID, NeedID: in.NeedID, Kind: in.Kind, StartDate: in.StartDate, EndDate: in.EndDate,
	})
	return ag, steps.Classify(err)
}

// End ends the agreement; ending twice is harmless.
func (a *Activities) End(ctx context.Context, in EndInput) error {
	return steps.Classify(a.Employers.EndAgreement(ctx, steps.KeyOr(ctx, in.Key), in.AgreementID, in.Reason))
}

// Employer finds the employer behind a recruitment need. A need that is gone
// is a refusal: staff must re-plan.
func (a *Activities) Employer(ctx context.Context, in NeedInput) (Employer, error) {
	// Look where the case is first, then everywhere (a need may be in a
	// neighbouring municipality).
	for _, q := range []integrations.NeedQuery{{SSYK: in.SSYK, Municipality: in.Municipality}, {}} {
		needs, err := a.Employers.RecruitmentNeeds(ctx, q)
		if err != nil {
			return Employer{}, steps.Classify(err)
		}
		for _, n := range needs {
			if n.ID == in.NeedID {
				return Employer{ID: n.EmployerID, Name: n.EmployerName, SSYK: n.SSYK}, nil
			}
		}
	}
	return Employer{}, temporal.NewNonRetryableApplicationError("recruitment need "+in.NeedID+" is not open", steps.ErrTypeRejected, nil)
}
