package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/store"
)

// oneCase seeds the demo registry and one pathway at Angered under caseID.
func oneCase(t *testing.T, pool *pgxpool.Pool, caseID string, protected bool) {
	t.Helper()
	ctx := context.Background()
	if err := store.SeedDemo(ctx, pool); err != nil {
		t.Fatal(err)
	}
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		pid, err := store.UpsertParticipant(ctx, tx, testenv.Keyring(t), store.Participant{PersonalNumber: "19811218-9876", GivenName: "A", FamilyName: "B",
			District: "Angered", BirthDate: time.Date(1981, 12, 18, 0, 0, 0, 0, time.UTC), ProtectedIdentity: protected})
		if err != nil {
			return err
		}
		return store.InsertPathway(ctx, tx, store.NewPathway{CaseID: caseID, ParticipantID: pid, CentreID: "gbg-angered",
			Programme: "adult", ProgrammeVersion: 1, Track: pathway.TrackAdult, ReferralSource: pathway.SourceSocialServices, ReferredAt: time.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
}
