package activities

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/keyring"
	"github.com/pathways-se/pathways/store"
)

// People resolves a case to its participant for outside systems.
type People struct {
	Pool *pgxpool.Pool
	Keys *keyring.Ring // opens the participant's encrypted identifiers
}

// Person returns the participant behind caseID.
func (p *People) Person(ctx context.Context, caseID string) (integrations.Person, error) {
	pa, err := store.GetParticipantByCase(ctx, p.Pool, p.Keys, caseID)
	if err == store.ErrNotFound {
		return integrations.Person{}, nonRetryable("unknown_case", "no participant for case %s", caseID)
	}
	if err != nil {
		return integrations.Person{}, err
	}
	return integrations.Person{PersonalNumber: pa.PersonalNumber, GivenName: pa.GivenName, FamilyName: pa.FamilyName, Email: pa.Email}, nil
}
